//! The panes of the browse screen: header, fabrics, the three trees, the job, the operations
//! log and the footer.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::super::app::{App, Pane};
use super::super::browse::{Row, FABRIC_LINES};
use super::super::job::Stage;
use super::super::keymap::{Action, ModeKind};
use super::Theme;
use fgd::inspect::Tree;

pub fn header(f: &mut Frame, r: Rect, app: &App, theme: &Theme) {
    let ro = if app.read_only { "  [read-only]" } else { "" };
    let text = format!(" fgd  {}{ro}", app.workspace.display());
    f.render_widget(
        Paragraph::new(text).style(theme.fg(theme.palette.accent).add_modifier(Modifier::BOLD)),
        r,
    );
}

/// Two counts on a line, spelled out (`raw 6  managed 40`) where the width allows, else
/// short (`raw 6  man 40`).
fn counts(a: (usize, &str, &str), b: (usize, &str, &str), room: usize) -> String {
    let long = format!("  {} {}  {} {}", a.1, a.0, b.1, b.0);
    if long.chars().count() <= room {
        long
    } else {
        format!("  {} {}  {} {}", a.2, a.0, b.2, b.0)
    }
}

pub fn fabrics(f: &mut Frame, r: Rect, app: &App, theme: &Theme) {
    let inner = r.width.saturating_sub(2) as usize;
    let mut lines = Vec::new();
    for (i, fab) in app.fabrics.iter().enumerate().skip(app.fabric_offset) {
        if lines.len() + FABRIC_LINES > r.height.saturating_sub(2) as usize {
            break;
        }
        let selected = i == app.fabric_sel;
        let marker = match (selected, theme.unicode) {
            (true, true) => "▸ ",
            (true, false) => "> ",
            (false, _) => "  ",
        };
        let style = if selected {
            theme.selected().add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::BOLD)
        };
        lines.push(Line::styled(format!("{marker}{}", fab.name), style));
        let c = &fab.counts.trees;
        lines.push(Line::from(counts(
            (c.raw_pending + c.raw_skipped, "raw", "raw"),
            (c.managed, "managed", "man"),
            inner,
        )));
        let attention = fab.counts.attention;
        let (sym, bad) = theme.state(fgd::inspect::FileState::Invalid);
        let unmanaged = counts(
            (c.unmanaged, "unmanaged", "unm"),
            (attention, sym, sym),
            inner,
        );
        let split = unmanaged.rfind(sym).unwrap_or(unmanaged.len());
        lines.push(Line::from(vec![
            Span::raw(unmanaged[..split].to_string()),
            Span::styled(
                unmanaged[split..].to_string(),
                if attention > 0 { bad } else { Style::default() },
            ),
        ]));
        let git = match &fab.git {
            Some(g) => format!(
                "  {} +{}/-{}{}",
                g.branch,
                g.ahead,
                g.behind,
                if g.uncommitted > 0 {
                    format!(" *{}", g.uncommitted)
                } else {
                    String::new()
                }
            ),
            None => "  no git".into(),
        };
        let watching = app.watching.get(i).copied().unwrap_or(false);
        let state = match (&fab.lock, watching) {
            _ if fab.gone => "gone: folder missing".to_string(),
            _ if fab.refused.is_some() => "not a fabric yet: I".to_string(),
            (Some(o), _) => format!("locked: {}", o.command),
            (None, true) => "watching".into(),
            (None, false) => "idle".into(),
        };
        lines.push(Line::from(vec![
            Span::raw(git),
            Span::styled(format!(" {state}"), theme.fg(theme.palette.dim)),
        ]));
    }
    let n = app.fabrics.len();
    let title = if n > 0 {
        format!(" fabrics {}/{n} ", app.fabric_sel + 1)
    } else {
        " fabrics ".into()
    };
    f.render_widget(
        Paragraph::new(lines).block(theme.block(&title, app.pane == Pane::Fabrics)),
        r,
    );
}

/// A tree's heading: its name and how many files it holds, empty or not.
fn heading(app: &App, tree: Tree) -> String {
    let Some(fab) = app.fabric() else {
        return String::new();
    };
    let total = fab.count(tree);
    let shown = app
        .rows
        .iter()
        .filter(|r| matches!(r, Row::File(i) if fab.files[*i].tree == tree))
        .count();
    let noun = match (tree, total) {
        (Tree::Unmanaged, 1) => "item",
        (Tree::Unmanaged, _) => "items",
        (_, 1) => "file",
        _ => "files",
    };
    match (total, shown == total) {
        (0, _) => format!("{}/ (empty)", tree.dir()),
        (_, true) => format!("{}/ ({total} {noun})", tree.dir()),
        (_, false) => format!("{}/ ({shown} of {total} {noun})", tree.dir()),
    }
}

/// What an empty tree, or one the filter empties, says.
fn empty_line(app: &App, tree: Tree) -> String {
    let filtered = app
        .list()
        .is_some_and(|l| !l.filter.is_empty() || l.problems_only);
    let total = app.fabric().map_or(0, |f| f.count(tree));
    if filtered && total > 0 {
        return "   (none shown: / changes the filter, p all files)".into();
    }
    match tree {
        Tree::Raw => "   (nothing waiting: drop YAML into raw/)".into(),
        Tree::Managed => "   (nothing managed yet: ingest writes here)".into(),
        Tree::Unmanaged => "   (nothing set aside)".into(),
    }
}

pub fn tree(f: &mut Frame, r: Rect, app: &App, theme: &Theme) {
    let Some(fab) = app.fabric() else {
        f.render_widget(
            Paragraph::new("no fabric found: fgd init <dir>").block(theme.block(" files ", false)),
            r,
        );
        return;
    };
    let height = r.height.saturating_sub(2) as usize;
    let offset = app.list().map_or(0, |l| l.offset);
    let mut lines = Vec::with_capacity(height);
    if fab.gone {
        lines.push(Line::styled(
            format!(
                "{} is gone: moved or removed since it was listed",
                fab.root.display()
            ),
            theme.fg(theme.palette.warn),
        ));
    } else if let Some(why) = &fab.refused {
        lines.push(Line::styled(
            format!("not a fabric yet ({why}); I creates or repairs the layout"),
            theme.fg(theme.palette.warn),
        ));
    }
    for (i, row) in app
        .rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height.saturating_sub(lines.len()))
    {
        let line = match row {
            Row::Header(t) => Line::styled(
                heading(app, *t),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Row::Empty(t) => Line::styled(empty_line(app, *t), theme.fg(theme.palette.dim)),
            Row::File(k) => {
                let e = &fab.files[*k];
                let (sym, style) = theme.state(e.state);
                let name = e.rel.split_once('/').map(|(_, r)| r).unwrap_or(&e.rel);
                let problems = match e.problems.len() {
                    0 | 1 => String::new(),
                    n => format!("  ({n})"),
                };
                let row = Line::from(vec![
                    Span::styled(format!(" {sym} "), style),
                    Span::raw(name.to_string()),
                    Span::styled(problems, theme.fg(theme.palette.dim)),
                ]);
                if i == app.sel_row {
                    row.style(theme.selected())
                } else {
                    row
                }
            }
        };
        lines.push(line);
    }
    let files = app
        .rows
        .iter()
        .filter(|r| matches!(r, Row::File(_)))
        .count();
    let at = app
        .rows
        .iter()
        .take(app.sel_row + 1)
        .filter(|r| matches!(r, Row::File(_)))
        .count();
    let mut title = format!(" {} files {}/{files} ", fab.name, at.min(files));
    if let Some(l) = app.list() {
        if !l.filter.is_empty() {
            title.push_str(&format!("filter \"{}\" ", l.filter));
        }
        if l.problems_only {
            title.push_str("problems only ");
        }
    }
    f.render_widget(
        Paragraph::new(lines).block(theme.block(&title, app.pane == Pane::Tree)),
        r,
    );
}

pub fn job(f: &mut Frame, r: Rect, app: &App, theme: &Theme) {
    let Some(j) = &app.job else {
        let text = app
            .last_result
            .clone()
            .unwrap_or_else(|| "no job running".into());
        f.render_widget(Paragraph::new(text).block(theme.block(" job ", false)), r);
        return;
    };
    let p = &j.progress;
    let mut spans = vec![Span::styled(
        format!("{} {}: {} ", j.action.name(), j.fabric, p.stage.name()),
        Style::default().add_modifier(Modifier::BOLD),
    )];
    if let Some(c) = p.count {
        const W: usize = 16;
        let filled = ((c.ratio() * W as f64).round() as usize).min(W);
        let (on, off) = if theme.unicode {
            ("█", "░")
        } else {
            ("#", "-")
        };
        spans.push(Span::styled(
            on.repeat(filled),
            theme.fg(theme.palette.accent),
        ));
        spans.push(Span::styled(
            off.repeat(W - filled),
            theme.fg(theme.palette.dim),
        ));
        spans.push(Span::raw(format!(
            " {:>3.0}% {}/{} {}",
            c.ratio() * 100.0,
            c.done,
            c.total,
            p.stage.unit()
        )));
    }
    if p.documents > 0 {
        spans.push(Span::raw(format!(
            "  {} managed, {} unmanaged",
            p.managed, p.unmanaged
        )));
    }
    if let (Some(rate), Some(eta)) = (p.rate(), p.eta()) {
        spans.push(Span::styled(
            format!("  {rate:.0} {}/s, {} s left", p.stage.unit(), eta.as_secs()),
            theme.fg(theme.palette.dim),
        ));
    }
    spans.push(Span::styled(
        format!(
            "  {:.1} s  {}",
            j.started.elapsed().as_secs_f32(),
            p.current
        ),
        theme.fg(theme.palette.dim),
    ));
    // Every stage so far, in the title: the finished ones ticked.
    let tick = if theme.unicode { "✓" } else { "+" };
    let mut stages: Vec<String> = p
        .stages
        .iter()
        .map(|(s, _)| format!("{} {tick}", s.name()))
        .collect();
    if p.stage != Stage::Starting {
        stages.push(p.stage.name().to_string());
    }
    let sep = if theme.unicode { " › " } else { " > " };
    let title = format!(" job: {} ", stages.join(sep));
    f.render_widget(
        Paragraph::new(Line::from(spans)).block(theme.block(&title, false)),
        r,
    );
}

/// The operations log: its last lines, each wrapped to the pane (a path is never cut off).
pub fn log(f: &mut Frame, r: Rect, app: &App, theme: &Theme) {
    let room = r.height.saturating_sub(2) as usize;
    let width = r.width.saturating_sub(2) as usize;
    let mut rows: Vec<Line> = Vec::new();
    for l in app.log.iter().rev() {
        if rows.len() >= room {
            break;
        }
        let wrapped = super::super::detail::wrap(l, width);
        rows.splice(0..0, wrapped.into_iter().map(Line::from));
    }
    let lines: Vec<Line> = rows.into_iter().rev().take(room).rev().collect();
    f.render_widget(
        Paragraph::new(lines).block(theme.block(" operations ", false)),
        r,
    );
}

/// The keys of the mode that has the keyboard, as bound now, the most used first so they fit
/// at 80 columns; movement is in the help.
pub fn footer(f: &mut Frame, r: Rect, app: &App, theme: &Theme) {
    use Action as A;
    let mode = app.mode.kind();
    let browse_first = [
        A::Help,
        A::Quit,
        A::NextProblem,
        A::Edit,
        A::Zoom,
        A::ProblemsOnly,
        A::Filter,
        A::Ingest,
        A::Plan,
        A::Push,
    ];
    let moves = [
        A::NextPane,
        A::PrevPane,
        A::Up,
        A::Down,
        A::PageUp,
        A::PageDown,
        A::Top,
        A::Bottom,
    ];
    let mut order: Vec<Action> = Vec::new();
    if mode == ModeKind::Browse {
        order.extend(browse_first);
    } else {
        // The way out first, then what the mode is for.
        order.extend([
            A::Close,
            A::Save,
            A::Help,
            A::Search,
            A::GotoLine,
            A::NextProblem,
        ]);
    }
    let rest: Vec<Action> = Action::of_mode(mode)
        .into_iter()
        .filter(|a| !order.contains(a) && !moves.contains(a))
        .collect();
    order.extend(rest);
    let keys: Vec<String> = order
        .into_iter()
        .filter(|a| a.in_mode(mode))
        .filter(|a| !(app.read_only && a.mutating()))
        .filter_map(|a| {
            let k = app.keymap.keys_of(mode, a);
            let name = match a {
                A::Filter if app.pane == Pane::Detail => "search",
                a => a.name(),
            };
            k.first().map(|k| format!("{k} {name}"))
        })
        .collect();
    let text = format!(" {}", keys.join("  "));
    f.render_widget(Paragraph::new(text).style(theme.fg(theme.palette.dim)), r);
}
