//! The built-in editor on screen: the text with a gutter of line numbers where the problem
//! lines are marked, tabs drawn visibly, and beside it the live verdicts, following the
//! document under the cursor.

use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use unicode_width::UnicodeWidthChar;

use super::super::detail::wrap;
use super::super::editor::Editor;
use super::Theme;
use fgd::inspect::DocOutcome;

fn columns(r: Rect) -> std::rc::Rc<[Rect]> {
    Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(62), Constraint::Min(24)])
        .split(r)
}

fn gutter_width(lines: usize) -> u16 {
    (lines.max(1).to_string().len() + 3) as u16
}

/// Where the text goes in `body`: inside the frame, right of the gutter.
pub fn text_rect(body: Rect, lines: usize) -> Rect {
    let frame = columns(body)[0];
    let inner = Rect {
        x: frame.x + 1,
        y: frame.y + 1,
        width: frame.width.saturating_sub(2),
        height: frame.height.saturating_sub(2),
    };
    let gutter = gutter_width(lines);
    Rect {
        x: inner.x + gutter.min(inner.width),
        width: inner.width.saturating_sub(gutter),
        ..inner
    }
}

pub fn editor(f: &mut Frame, r: Rect, ed: &Editor, theme: &Theme) {
    let cols = columns(r);
    let ratatui_textarea::DataCursor(line, column) = ed.area.cursor();
    let title = match &ed.read_only {
        None => format!(" edit {} {}:{} ", ed.rel, line + 1, column + 1),
        Some(_) => format!(" view {} (read-only) {}:{} ", ed.rel, line + 1, column + 1),
    };
    let frame = theme.block(&title, true);
    let inner = frame.inner(cols[0]);
    f.render_widget(frame, cols[0]);
    let digits = ed.area.lines().len().max(1).to_string().len();
    let gutter = gutter_width(ed.area.lines().len());
    let text = text_rect(r, ed.area.lines().len());
    f.render_widget(&ed.area, text);
    // Drawn after the text: its scroll is known only once it is drawn.
    let (top, left) = ed.area.scroll_offset();
    let (top, left) = (top as usize, left as usize);
    let tab_len = ed.area.tab_length().max(1) as usize;
    for row in 0..inner.height as usize {
        let n = top + row;
        let Some(src) = ed.area.lines().get(n) else {
            break;
        };
        let y = inner.y + row as u16;
        let problem = ed.report.problems.iter().any(|p| p.line == n + 1);
        let (mark, style) = match (problem, n == line) {
            (true, _) => (
                if theme.unicode { "✗" } else { "x" },
                theme.fg(theme.palette.invalid).add_modifier(Modifier::BOLD),
            ),
            (false, true) => (" ", Style::default().add_modifier(Modifier::BOLD)),
            (false, false) => (" ", theme.fg(theme.palette.dim)),
        };
        f.buffer_mut().set_stringn(
            inner.x,
            y,
            format!("{mark}{:>w$} ", n + 1, w = digits + 1),
            gutter as usize,
            style,
        );
        // Tabs show as spaces in the text; draw an arrow where each one starts.
        let mut col = 0;
        for c in src.chars() {
            let w = if c == '\t' {
                tab_len - col % tab_len
            } else {
                c.width().unwrap_or(0)
            };
            if c == '\t' && col >= left && col - left < text.width as usize {
                let x = text.x + (col - left) as u16;
                if let Some(cell) = f.buffer_mut().cell_mut((x, y)) {
                    cell.set_symbol(if theme.unicode { "→" } else { ">" });
                    cell.set_style(theme.kind(super::super::detail::Kind::Invisible));
                }
            }
            col += w;
        }
    }
    verdicts(f, cols[1], ed, theme);
}

/// The live verdicts: the state of the text, the last save's outcome, every problem, then
/// the documents, scrolled to the one under the cursor.
fn verdicts(f: &mut Frame, r: Rect, ed: &Editor, theme: &Theme) {
    let width = r.width.saturating_sub(2) as usize;
    let room = r.height.saturating_sub(2) as usize;
    let state = match (ed.dirty, ed.checked < ed.seq) {
        _ if ed.read_only.is_some() => "read-only",
        (true, true) => "modified, not saved (checking...)",
        (true, false) => "modified, not saved",
        (false, _) => "saved",
    };
    let warn = theme.fg(theme.palette.warn);
    // The state and the last save's outcome first: a long list must not push them out.
    let mut top: Vec<Line> = vec![Line::styled(state, warn)];
    for row in wrap(&ed.status, width)
        .into_iter()
        .filter(|r| !r.is_empty())
    {
        top.push(Line::styled(row, warn));
    }
    let cursor = ed.cursor_line();
    let here = ed.report.document_at(cursor).map(|d| d.number);
    let mut rest: Vec<Line> = Vec::new();
    let mut focus = 0;
    let bad = theme.fg(theme.palette.invalid);
    for p in &ed.report.problems {
        let on = here.is_some() && p.document == here;
        let at = if p.line == 0 {
            "whole file".to_string()
        } else {
            format!("{}:{}", p.line, p.column)
        };
        let text = format!("✗ {at} [{}] {}", p.rule.as_str(), p.message);
        for (i, row) in wrap(&text, width).into_iter().enumerate() {
            let style = if on {
                bad.add_modifier(Modifier::BOLD)
            } else {
                bad
            };
            rest.push(Line::styled(
                if i == 0 { row } else { format!("  {row}") },
                style,
            ));
        }
    }
    for d in &ed.report.documents {
        let current = Some(d.number) == here;
        if current {
            focus = rest.len();
        }
        let (sym, style) = match &d.outcome {
            DocOutcome::Managed { .. } => ("✓", theme.fg(theme.palette.valid)),
            DocOutcome::Unmanaged { .. } => ("✗", bad),
            DocOutcome::Empty => ("-", theme.fg(theme.palette.dim)),
        };
        let what = match &d.outcome {
            DocOutcome::Managed { path } => format!("managed -> {path}"),
            DocOutcome::Unmanaged { rule } => format!("unmanaged [{}]", rule.as_str()),
            DocOutcome::Empty => "only comments".into(),
        };
        let marker = if current { "▶" } else { " " };
        let text = format!(
            "{marker}{sym} doc {} lines {}-{} {}: {what}",
            d.number,
            d.first_line,
            d.last_line,
            d.object.as_deref().unwrap_or("-")
        );
        for (i, row) in wrap(&text, width).into_iter().enumerate() {
            let row = if i == 0 { row } else { format!("   {row}") };
            let style = if current {
                style.add_modifier(Modifier::REVERSED)
            } else {
                style
            };
            rest.push(Line::from(Span::styled(row, style)));
        }
    }
    for note in &ed.report.notes {
        rest.extend(wrap(note, width).into_iter().map(Line::from));
    }
    let avail = room.saturating_sub(top.len() + 1);
    // From the top while the document under the cursor is in view; else scrolled to it.
    let start = if focus < avail {
        0
    } else {
        focus
            .saturating_sub(avail / 2)
            .min(rest.len().saturating_sub(avail))
    };
    let mut lines = top;
    lines.push(Line::from(""));
    lines.extend(rest.into_iter().skip(start).take(avail));
    f.render_widget(
        Paragraph::new(lines).block(theme.block(" validation (live) ", false)),
        r,
    );
}
