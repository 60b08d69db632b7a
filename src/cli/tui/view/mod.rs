//! Drawing only: every function takes the state and paints a frame. Lists build only the rows
//! that are visible, so 100,000 managed files cost no more than a screenful. Where things
//! are (`areas`) is one function the state machine uses too, for pages and the mouse.

mod editor;
mod overlays;
mod panes;
pub mod theme;

use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::app::App;
use super::detail::DocLine;
use super::mode::Mode;
pub use theme::{Palette, Theme};

/// The smallest terminal the layout is made for (and its snapshots drawn at); smaller ones get a
/// message saying so.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Where each part of the screen is.
#[derive(Debug, Clone, Copy)]
pub struct Areas {
    pub header: Rect,
    pub fabrics: Rect,
    pub tree: Rect,
    pub detail: Rect,
    /// The editor's place: the whole width between the header and the job pane.
    pub body: Rect,
    /// The zoomed detail: everything between the header and the footer.
    pub zoom: Rect,
    pub job: Rect,
    pub log: Rect,
    pub footer: Rect,
}

/// The layout of a `w`×`h` terminal; None below the smallest it is made for.
pub fn areas(w: u16, h: u16) -> Option<Areas> {
    if w < MIN_WIDTH || h < MIN_HEIGHT {
        return None;
    }
    let area = Rect::new(0, 0, w, h);
    let log = match h {
        40.. => 8,
        30.. => 6,
        _ => 3,
    };
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Min(6),
            Constraint::Length(3),
            Constraint::Length(log),
            Constraint::Length(1),
        ])
        .split(area);
    let wide = w >= 120;
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints(if wide {
            vec![
                Constraint::Length(28),
                Constraint::Percentage(40),
                Constraint::Min(30),
            ]
        } else {
            vec![Constraint::Length(22), Constraint::Min(30)]
        })
        .split(rows[1]);
    let body = rows[1];
    let (tree, detail) = if wide {
        (cols[1], cols[2])
    } else {
        let right = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Percentage(50), Constraint::Min(3)])
            .split(cols[1]);
        (right[0], right[1])
    };
    Some(Areas {
        header: rows[0],
        fabrics: cols[0],
        tree,
        detail,
        body,
        zoom: Rect::new(0, 1, w, h - 2),
        job: rows[2],
        log: rows[3],
        footer: rows[4],
    })
}

pub fn draw(f: &mut Frame, app: &App, theme: &Theme) {
    let area = f.area();
    let Some(a) = areas(area.width, area.height) else {
        let msg = format!(
            "fgd needs at least {MIN_WIDTH}x{MIN_HEIGHT}; this terminal is {}x{}. Enlarge it, or press q.",
            area.width, area.height
        );
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        return;
    };
    panes::header(f, a.header, app, theme);
    match app.mode.base() {
        Mode::Zoom => detail(f, a.zoom, app, theme, true),
        base => {
            match base {
                Mode::Editor(ed) => editor::editor(f, a.body, ed, theme),
                _ => {
                    panes::fabrics(f, a.fabrics, app, theme);
                    panes::tree(f, a.tree, app, theme);
                    detail(f, a.detail, app, theme, false);
                }
            }
            panes::job(f, a.job, app, theme);
            panes::log(f, a.log, app, theme);
        }
    }
    match app.mode.prompt() {
        Some(p) => overlays::prompt(f, a.footer, p, theme),
        None => panes::footer(f, a.footer, app, theme),
    }
    if app.mode.plan().is_some() {
        overlays::plan(f, area, app, theme);
    }
    if let Some(t) = &app.tour {
        overlays::tour(f, a, t, theme);
    }
    if let Mode::Help { under, scroll } = &app.mode {
        overlays::help(f, area, app, under.kind(), *scroll, theme);
    }
    if let Some(c) = app.mode.confirm() {
        overlays::confirm(f, area, &c.question, theme);
    }
}

/// The rows of text the plan view shows on a terminal this high.
pub fn plan_rows(height: u16) -> usize {
    height.saturating_sub(6).max(6) as usize - 2
}

fn doc_line(line: &DocLine, theme: &Theme) -> Line<'static> {
    Line::from(
        line.0
            .iter()
            .map(|(k, t)| Span::styled(t.clone(), theme.kind(*k)))
            .collect::<Vec<_>>(),
    )
}

/// The selection's detail: in its pane, or zoomed over the whole screen.
fn detail(f: &mut Frame, r: Rect, app: &App, theme: &Theme, zoomed: bool) {
    let focused = zoomed || app.pane == super::app::Pane::Detail;
    let doc = app.detail_doc();
    let room = r.height.saturating_sub(2) as usize;
    let start = app.detail_scroll.min(doc.lines.len().saturating_sub(room));
    let lines: Vec<Line> = doc
        .lines
        .iter()
        .skip(start)
        .take(room)
        .map(|l| doc_line(l, theme))
        .collect();
    let title = app.detail_title();
    let mut title = if title.is_empty() {
        " detail ".to_string()
    } else {
        format!(" {title} ")
    };
    if doc.lines.len() > room {
        title.push_str(&format!(
            "{}-{}/{} ",
            start + 1,
            (start + room).min(doc.lines.len()),
            doc.lines.len()
        ));
    }
    if let Some(s) = &app.search {
        title.push_str(&format!("search \"{s}\" "));
    }
    f.render_widget(Paragraph::new(lines).block(theme.block(&title, focused)), r);
}

/// Where the editor's text is drawn in `body` (its frame and gutter taken off), for a text of
/// `lines` lines.
pub fn editor_text(body: Rect, lines: usize) -> Rect {
    editor::text_rect(body, lines)
}
