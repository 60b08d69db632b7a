//! Drawing only: every function takes the state and paints a frame. Lists build only the rows
//! that are visible, so 100,000 managed files cost no more than a screenful.

use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::app::{App, Pane};
use super::keymap::{Action, ModeKind};
use super::mode::{Mode, PlanLine, PromptFor};
use fgd::inspect::{DocOutcome, FileReport, FileState};

/// Colours from the 16 ANSI ones (light and dark terminals alike), or none under NO_COLOR;
/// ASCII symbols and borders when the locale is not UTF-8.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
    pub unicode: bool,
    pub palette: Palette,
}

/// Colours by role. The defaults are of the 16 ANSI colours, which the terminal's own theme
/// maps, so they read on light and dark backgrounds alike; the config may change any role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    pub valid: Color,
    pub invalid: Color,
    pub unknown: Color,
    pub pending: Color,
    pub conflict: Color,
    pub accent: Color,
    pub warn: Color,
    pub dim: Color,
}

impl Default for Palette {
    fn default() -> Palette {
        Palette {
            valid: Color::Green,
            invalid: Color::Red,
            unknown: Color::DarkGray,
            pending: Color::Yellow,
            conflict: Color::Magenta,
            accent: Color::Cyan,
            warn: Color::Yellow,
            dim: Color::DarkGray,
        }
    }
}

impl Palette {
    /// For light backgrounds, where yellow, cyan and light green wash out: the dark ANSI
    /// colours only.
    pub fn light() -> Palette {
        Palette {
            valid: Color::Green,
            invalid: Color::Red,
            unknown: Color::DarkGray,
            pending: Color::Blue,
            conflict: Color::Magenta,
            accent: Color::Blue,
            warn: Color::Magenta,
            dim: Color::DarkGray,
        }
    }

    pub const ROLES: &[&str] = &[
        "valid", "invalid", "unknown", "pending", "conflict", "accent", "warn", "dim",
    ];

    pub fn role_mut(&mut self, role: &str) -> Option<&mut Color> {
        Some(match role {
            "valid" => &mut self.valid,
            "invalid" => &mut self.invalid,
            "unknown" => &mut self.unknown,
            "pending" => &mut self.pending,
            "conflict" => &mut self.conflict,
            "accent" => &mut self.accent,
            "warn" => &mut self.warn,
            "dim" => &mut self.dim,
            _ => return None,
        })
    }
}

impl Theme {
    pub fn from_env(palette: Palette) -> Theme {
        let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            .unwrap_or_default();
        let l = locale.to_ascii_lowercase();
        Theme {
            color,
            unicode: l.contains("utf-8") || l.contains("utf8"),
            palette,
        }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    fn state(&self, s: FileState) -> (&'static str, Style) {
        let (u, a, c) = match s {
            FileState::Valid => ("✓", "+", self.palette.valid),
            FileState::Invalid => ("✗", "x", self.palette.invalid),
            FileState::Unknown => ("?", "?", self.palette.unknown),
            FileState::Pending => ("…", "~", self.palette.pending),
            FileState::Conflict => ("!", "!", self.palette.conflict),
        };
        (if self.unicode { u } else { a }, self.fg(c))
    }

    fn block<'a>(&self, title: &'a str, focused: bool) -> Block<'a> {
        let b = Block::default().borders(Borders::ALL).title(title);
        let b = if self.unicode {
            b.border_set(border::PLAIN)
        } else {
            b.border_set(ASCII_BORDER)
        };
        if focused {
            b.border_style(self.fg(self.palette.accent).add_modifier(Modifier::BOLD))
        } else {
            b
        }
    }

    fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
}

const ASCII_BORDER: border::Set = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

/// The smallest terminal the layout is made for (and its snapshots drawn at); smaller ones get a
/// message saying so.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

pub fn draw(f: &mut Frame, app: &App, theme: &Theme) {
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!("fgd needs at least {MIN_WIDTH}x{MIN_HEIGHT}; this terminal is {}x{}. Enlarge it, or press q.", area.width, area.height);
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        return;
    }
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Min(6),
            Constraint::Length(3),
            Constraint::Length(if area.height >= 30 { 8 } else { 4 }),
            Constraint::Length(1),
        ])
        .split(area);
    header(f, rows[0], app, theme);
    let wide = area.width >= 120;
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
    fabrics(f, cols[0], app, theme);
    if let Some(ed) = app.editor() {
        let body = Rect {
            x: cols[1].x,
            y: cols[1].y,
            width: area.width - cols[1].x,
            height: cols[1].height,
        };
        editor(f, body, ed, theme);
    } else if wide {
        tree(f, cols[1], app, theme);
        detail(f, cols[2], app, theme);
    } else {
        let right = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Percentage(55), Constraint::Min(3)])
            .split(cols[1]);
        tree(f, right[0], app, theme);
        detail(f, right[1], app, theme);
    }
    job(f, rows[2], app, theme);
    log(f, rows[3], app, theme);
    match app.mode.prompt() {
        Some(p) => {
            let text = match p.purpose {
                PromptFor::Filter => format!(
                    " filter (Enter applies, empty clears, Esc cancels): {}_",
                    p.input
                ),
                PromptFor::MoveReason => {
                    format!(" why stop managing it? (Enter, Esc cancels): {}_", p.input)
                }
                PromptFor::Command => {
                    // The names that still match what was typed, as a completion hint.
                    let hint = Action::completions(&p.input);
                    format!(":{}_   {}", p.input, hint.join(" "))
                }
            };
            f.render_widget(
                Paragraph::new(text).style(theme.fg(theme.palette.warn)),
                rows[4],
            );
        }
        None => footer(f, rows[4], app, theme),
    }
    if app.mode.plan().is_some() {
        plan(f, area, app, theme);
    }
    if let Mode::Help { under, .. } = &app.mode {
        help(f, area, app, under.kind(), theme);
    }
    if let Some(q) = app.mode.confirm().map(|c| &c.question) {
        let w = (q.len() as u16 + 4).min(area.width - 4);
        let r = Rect {
            x: (area.width - w) / 2,
            y: area.height / 2 - 2,
            width: w,
            height: 4,
        };
        f.render_widget(Clear, r);
        f.render_widget(
            Paragraph::new(q.as_str())
                .wrap(Wrap { trim: true })
                .block(theme.block(" confirm ", true)),
            r,
        );
    }
}

/// The rows of text the plan view shows on a terminal this high.
pub fn plan_rows(height: u16) -> usize {
    height.saturating_sub(6).max(6) as usize - 2
}

/// The plan view: the ingest plan, then the patch a push would commit, scrolled as one text.
fn plan(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let w = area.width.saturating_sub(8).max(20);
    let h = area.height.saturating_sub(6).max(6);
    let r = Rect {
        x: (area.width - w) / 2,
        y: (area.height - h) / 2,
        width: w,
        height: h,
    };
    let Some(view) = app.mode.plan() else { return };
    let doc = view.document();
    let room = plan_rows(area.height);
    // A terminal that shrank after scrolling still shows a full page.
    let start = view.scroll.min(doc.len().saturating_sub(room));
    let lines: Vec<Line> = doc
        .iter()
        .skip(start)
        .take(room)
        .map(|(kind, l)| {
            let style = match kind {
                PlanLine::Header => theme.fg(theme.palette.accent).add_modifier(Modifier::BOLD),
                PlanLine::Note => theme.fg(theme.palette.dim),
                PlanLine::Plan => Style::default(),
                PlanLine::Diff if l.starts_with('+') => theme.fg(theme.palette.valid),
                PlanLine::Diff if l.starts_with('-') => theme.fg(theme.palette.invalid),
                PlanLine::Diff if l.starts_with("@@") || l.starts_with("diff ") => {
                    theme.fg(theme.palette.accent)
                }
                PlanLine::Diff => Style::default(),
            };
            Line::styled(l.clone(), style)
        })
        .collect();
    let title = format!(
        " plan and diff, lines {}-{} of {}: j/k PgUp/PgDn scroll, Esc closes ",
        start + 1,
        (start + room).min(doc.len()),
        doc.len()
    );
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(lines).block(theme.block(&title, true)), r);
}

fn editor(f: &mut Frame, r: Rect, ed: &super::editor::Editor, theme: &Theme) {
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(62), Constraint::Min(20)])
        .split(r);
    f.render_widget(&ed.area, cols[0]);
    let state = match (ed.dirty, ed.checked < ed.seq) {
        _ if ed.read_only.is_some() => "read-only",
        (true, true) => "modified, not saved (checking...)",
        (true, false) => "modified, not saved",
        (false, _) => "saved",
    };
    // The last save's outcome before the verdicts: a long list must not push it out of view.
    let mut lines: Vec<Line> = vec![Line::styled(state, theme.fg(theme.palette.warn))];
    if !ed.status.is_empty() {
        lines.push(Line::styled(
            ed.status.clone(),
            theme.fg(theme.palette.warn),
        ));
    }
    lines.push(Line::from(""));
    lines.extend(report_lines(theme, &ed.report));
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(theme.block(" validation (live) ", false)),
        cols[1],
    );
}

/// A report as lines: its problems, then every document's outcome, then its notes.
fn report_lines(theme: &Theme, r: &FileReport) -> Vec<Line<'static>> {
    let bad = theme.fg(theme.palette.invalid);
    let mut lines = Vec::new();
    for p in &r.problems {
        let doc = p.document.map(|d| format!("doc {d} ")).unwrap_or_default();
        let obj = p.object.as_deref().unwrap_or("-");
        lines.push(Line::styled(
            format!(
                "{doc}{}:{} {obj}: UNMANAGED [{}] {}",
                p.line,
                p.column,
                p.rule.as_str(),
                p.message
            ),
            bad,
        ));
    }
    for d in &r.documents {
        if let DocOutcome::Managed { path } = &d.outcome {
            lines.push(Line::styled(
                format!(
                    "doc {} {}: {}: managed -> {path}",
                    d.number,
                    d.first_line,
                    d.object.as_deref().unwrap_or("-")
                ),
                theme.fg(theme.palette.valid),
            ));
        }
    }
    lines.extend(r.notes.iter().map(|n| Line::from(n.clone())));
    lines
}

fn header(f: &mut Frame, r: Rect, app: &App, theme: &Theme) {
    let ro = if app.read_only { "  [read-only]" } else { "" };
    let text = format!(" fgd  {}{ro}", app.workspace.display());
    f.render_widget(
        Paragraph::new(text).style(theme.fg(theme.palette.accent).add_modifier(Modifier::BOLD)),
        r,
    );
}

fn fabrics(f: &mut Frame, r: Rect, app: &App, theme: &Theme) {
    let mut lines = Vec::new();
    for (i, fab) in app.fabrics.iter().enumerate() {
        let style = if i == app.fabric_sel {
            theme.selected()
        } else {
            Style::default()
        };
        lines.push(Line::styled(
            fab.name.clone(),
            style.add_modifier(Modifier::BOLD),
        ));
        let c = &fab.counts.trees;
        lines.push(Line::from(format!(
            " raw {} man {}",
            c.raw_pending, c.managed
        )));
        let bad = fab.counts.attention;
        lines.push(Line::from(vec![
            Span::raw(format!(" unm {} ", c.unmanaged)),
            Span::styled(
                format!("bad {bad}"),
                if bad > 0 {
                    theme.fg(theme.palette.invalid)
                } else {
                    Style::default()
                },
            ),
        ]));
        let git = match &fab.git {
            Some(g) => format!(
                " {} +{}/-{}{}",
                g.branch,
                g.ahead,
                g.behind,
                if g.uncommitted > 0 {
                    format!(" *{}", g.uncommitted)
                } else {
                    String::new()
                }
            ),
            None => " no git".into(),
        };
        lines.push(Line::from(git));
        let watching = app.watching.get(i).copied().unwrap_or(false);
        let state = match (&fab.lock, watching) {
            _ if fab.gone => " gone: folder missing".into(),
            (Some(o), _) => format!(" locked: {}", o.command),
            (None, true) => " watching".into(),
            (None, false) => " idle".into(),
        };
        lines.push(Line::styled(state, theme.fg(theme.palette.dim)));
    }
    f.render_widget(
        Paragraph::new(lines).block(theme.block(" fabrics ", app.pane == Pane::Fabrics)),
        r,
    );
}

fn tree(f: &mut Frame, r: Rect, app: &App, theme: &Theme) {
    let Some(fab) = app.fabric() else {
        f.render_widget(
            Paragraph::new("no fabric found: fgd init <dir>").block(theme.block(" files ", false)),
            r,
        );
        return;
    };
    let height = r.height.saturating_sub(2) as usize;
    let n = app.visible.len();
    // Only the visible window is built.
    let start = app
        .tree_sel
        .saturating_sub(height.saturating_sub(1) / 2)
        .min(n.saturating_sub(height));
    let mut lines = Vec::with_capacity(height);
    let mut last_tree = if start > 0 {
        Some(fab.files[app.visible[start - 1]].tree)
    } else {
        None
    };
    for (i, e) in app
        .visible
        .iter()
        .map(|&k| &fab.files[k])
        .enumerate()
        .skip(start)
    {
        if lines.len() >= height {
            break;
        }
        if last_tree != Some(e.tree) {
            let count = fab.count(e.tree);
            lines.push(Line::styled(
                format!("{}/ ({count})", e.tree.dir()),
                Style::default().add_modifier(Modifier::BOLD),
            ));
            last_tree = Some(e.tree);
            if lines.len() >= height {
                break;
            }
        }
        let (sym, style) = theme.state(e.state);
        let name = e.rel.split_once('/').map(|(_, r)| r).unwrap_or(&e.rel);
        let row = Line::from(vec![
            Span::styled(format!(" {sym} "), style),
            Span::raw(name.to_string()),
        ]);
        lines.push(if i == app.tree_sel {
            row.style(theme.selected())
        } else {
            row
        });
    }
    if fab.gone {
        lines.push(Line::styled(
            format!(
                "{} is gone: moved or removed since it was listed",
                fab.root.display()
            ),
            theme.fg(theme.palette.warn),
        ));
    } else if n == 0 {
        lines.push(Line::from("(empty: drop YAML into raw/)"));
    }
    let title = format!(" {} files {}/{} ", fab.name, (app.tree_sel + 1).min(n), n);
    f.render_widget(
        Paragraph::new(lines).block(theme.block(&title, app.pane == Pane::Tree)),
        r,
    );
}

fn detail(f: &mut Frame, r: Rect, app: &App, theme: &Theme) {
    let Some(d) = &app.detail else {
        f.render_widget(
            Paragraph::new("").block(theme.block(" detail ", app.pane == Pane::Detail)),
            r,
        );
        return;
    };
    let mut lines: Vec<Line> = report_lines(theme, d);
    lines.push(Line::from(""));
    let room = (r.height as usize).saturating_sub(lines.len() + 2);
    let marked: Vec<usize> = d.problems.iter().map(|p| p.line).collect();
    // Start the text near the first problem, so the highlighted line is in view.
    let first = marked
        .iter()
        .find(|l| **l > 0)
        .map(|l| l.saturating_sub(3))
        .unwrap_or(0);
    for (i, text) in d.lines.iter().enumerate().skip(first).take(room) {
        let n = i + 1;
        let marked = marked.contains(&n);
        let style = if marked {
            theme
                .fg(theme.palette.invalid)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED)
        } else {
            Style::default()
        };
        let mark = if marked { ">" } else { " " };
        lines.push(Line::styled(format!("{mark}{n:>4} {text}"), style));
    }
    let title = format!(" {} ", d.rel);
    f.render_widget(
        Paragraph::new(lines).block(theme.block(&title, app.pane == Pane::Detail)),
        r,
    );
}

fn job(f: &mut Frame, r: Rect, app: &App, theme: &Theme) {
    let text = match &app.job {
        Some(j) => {
            let p = &j.progress;
            let count = p
                .count
                .map(|c| format!(" {}/{} {}", c.done, c.total, p.stage.unit()))
                .unwrap_or_default();
            let pct = p
                .count
                .map(|c| format!(" {:.0}%", c.ratio() * 100.0))
                .unwrap_or_default();
            let rate = match (p.rate(), p.eta()) {
                (Some(r), Some(eta)) => {
                    format!(" {r:.0} {}/s, {} s left", p.stage.unit(), eta.as_secs())
                }
                _ => String::new(),
            };
            let docs = if p.documents > 0 {
                format!("  {} managed, {} unmanaged", p.managed, p.unmanaged)
            } else {
                String::new()
            };
            format!(
                "{} {}: {}{pct}{count}{rate}{docs}  {}  ({:.1} s)",
                j.action.name(),
                j.fabric,
                p.stage.name(),
                p.current,
                j.started.elapsed().as_secs_f32()
            )
        }
        None => app
            .last_result
            .clone()
            .unwrap_or_else(|| "no job running".into()),
    };
    f.render_widget(Paragraph::new(text).block(theme.block(" job ", false)), r);
}

fn log(f: &mut Frame, r: Rect, app: &App, theme: &Theme) {
    let room = r.height.saturating_sub(2) as usize;
    let lines: Vec<Line> = app
        .log
        .iter()
        .skip(app.log.len().saturating_sub(room))
        .map(|l| Line::from(l.clone()))
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(theme.block(" operations ", false)),
        r,
    );
}

fn footer(f: &mut Frame, r: Rect, app: &App, theme: &Theme) {
    // The actions of the mode that have a key, as bound now: the way out and to help first,
    // so they fit at 80 columns; movement is in the help.
    let mode = app.mode.kind();
    let moves = [
        Action::NextPane,
        Action::PrevPane,
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
    ];
    let keys: Vec<String> = Action::of_mode(mode)
        .into_iter()
        .filter(|a| !moves.contains(a))
        .filter(|a| !(app.read_only && a.mutating()))
        .filter_map(|a| {
            let k = app.keymap.keys_of(mode, a);
            k.first().map(|k| format!("{k} {}", a.name()))
        })
        .collect();
    let text = format!(" {}", keys.join("  "));
    f.render_widget(Paragraph::new(text).style(theme.fg(theme.palette.dim)), r);
}

fn help(f: &mut Frame, area: Rect, app: &App, mode: ModeKind, theme: &Theme) {
    let mut lines = vec![Line::from(format!(
        "Keys of {}, as bound now:",
        mode.name()
    ))];
    for a in Action::of_mode(mode) {
        let off = if app.read_only && a.mutating() {
            "  (disabled: read-only)"
        } else {
            ""
        };
        let keys = app.keymap.label(mode, a);
        let keys = if keys.is_empty() { "-".into() } else { keys };
        lines.push(Line::from(format!(
            " {keys:<9} {:<13} {}{off}",
            a.name(),
            a.info().help
        )));
    }
    if mode == ModeKind::Browse {
        lines.push(Line::from(" Any action also runs by name on the : line."));
    }
    let states: Vec<String> = [
        (FileState::Valid, "valid"),
        (FileState::Invalid, "invalid"),
        (FileState::Unknown, "unknown"),
        (FileState::Pending, "pending"),
        (FileState::Conflict, "conflict"),
    ]
    .iter()
    .map(|(st, name)| format!("{} {name}", theme.state(*st).0))
    .collect();
    lines.push(Line::from(format!("States: {}", states.join("  "))));
    let scroll = match &app.mode {
        Mode::Help { scroll, .. } => *scroll,
        _ => 0,
    };
    let w = 76.min(area.width - 2);
    let h = (lines.len() as u16 + 2).min(area.height - 2);
    let total = lines.len();
    let lines: Vec<Line> = lines
        .into_iter()
        .skip(scroll.min(total.saturating_sub(lines_room(h))))
        .collect();
    let r = Rect {
        x: (area.width - w) / 2,
        y: (area.height - h) / 2,
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(lines).block(theme.block(" help ", true)), r);
}

fn lines_room(h: u16) -> usize {
    h.saturating_sub(2) as usize
}
