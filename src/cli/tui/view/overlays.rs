//! What is drawn over the panes: the prompt line, the plan view, the help, a question and
//! the tour.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::super::app::App;
use super::super::keymap::{Action, ModeKind};
use super::super::mode::{PlanLine, Prompt, PromptFor};
use super::super::tour::Tour;
use super::{plan_rows, Areas, Theme};
use fgd::inspect::FileState;

pub fn prompt(f: &mut Frame, r: Rect, p: &Prompt, theme: &Theme) {
    let text = match p.purpose {
        PromptFor::Filter => format!(
            " filter, smart case (Enter applies, empty clears, Esc cancels): {}_",
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
        PromptFor::Search | PromptFor::EditorSearch => format!(
            " search, smart case (Enter finds, empty clears, Esc cancels): {}_",
            p.input
        ),
        PromptFor::GotoLine => format!(" go to line (Enter, Esc cancels): {}_", p.input),
    };
    f.render_widget(Paragraph::new(text).style(theme.fg(theme.palette.warn)), r);
}

pub fn confirm(f: &mut Frame, area: Rect, q: &str, theme: &Theme) {
    let w = (q.len() as u16 + 4).min(area.width - 4);
    let r = Rect {
        x: (area.width - w) / 2,
        y: area.height / 2 - 2,
        width: w,
        height: 4,
    };
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(q)
            .wrap(Wrap { trim: true })
            .block(theme.block(" confirm ", true)),
        r,
    );
}

/// The plan view: the ingest plan, then the patch a push would commit, scrolled as one text.
pub fn plan(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
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

/// The keys of `mode` (the one under the help), in two columns where the screen is wide.
pub fn help(f: &mut Frame, area: Rect, app: &App, mode: ModeKind, scroll: usize, theme: &Theme) {
    let mut entries: Vec<String> = Vec::new();
    for a in Action::of_mode(mode) {
        let off = if app.read_only && a.mutating() {
            " (off: read-only)"
        } else {
            ""
        };
        let keys = app.keymap.label(mode, a);
        let keys = if keys.is_empty() { "-".into() } else { keys };
        entries.push(format!(
            "{keys:<10} {:<14} {}{off}",
            a.name(),
            a.info().help
        ));
    }
    let two = area.width >= 150;
    let col = if two { 72 } else { 76 };
    let mut lines: Vec<Line> = Vec::new();
    if two {
        let half = entries.len().div_ceil(2);
        for i in 0..half {
            let left = trim(&entries[i], col);
            let right = entries
                .get(i + half)
                .map(|e| trim(e, col))
                .unwrap_or_default();
            lines.push(Line::from(format!(" {left:<col$}  {right}")));
        }
    } else {
        lines.extend(
            entries
                .iter()
                .map(|e| Line::from(format!(" {}", trim(e, col)))),
        );
    }
    lines.push(Line::from(""));
    match mode {
        ModeKind::Browse => {
            lines.push(Line::from(
                " Any browse action also runs by name on the : line.",
            ));
            let states: Vec<String> = [
                (FileState::Valid, "valid"),
                (FileState::Invalid, "problem"),
                (FileState::Unknown, "not read"),
                (FileState::Pending, "being written"),
                (FileState::Conflict, "conflict"),
            ]
            .iter()
            .map(|(st, name)| format!("{} {name}", theme.state(*st).0))
            .collect();
            lines.push(Line::from(format!(" States: {}", states.join("  "))));
        }
        ModeKind::Editor => lines.push(Line::from(
            " Other keys edit the text; the verdicts beside it follow the cursor.",
        )),
        _ => {}
    }
    let w = if two {
        2 * col as u16 + 6
    } else {
        col as u16 + 4
    }
    .min(area.width - 2);
    let h = (lines.len() as u16 + 2).min(area.height - 2);
    let room = h.saturating_sub(2) as usize;
    let total = lines.len();
    let start = scroll.min(total.saturating_sub(room));
    let lines: Vec<Line> = lines.into_iter().skip(start).take(room).collect();
    let r = Rect {
        x: (area.width - w) / 2,
        y: (area.height - h) / 2,
        width: w,
        height: h,
    };
    let more = if total > room {
        format!("{}-{}/{total}, j/k scroll, ", start + 1, start + room)
    } else {
        String::new()
    };
    let title = format!(" keys of {}: {more}Esc closes ", mode.name());
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(lines).block(theme.block(&title, true)), r);
}

fn trim(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(w - 1).collect();
        t.push('…');
        t
    }
}

/// The tour's step, in a box over the bottom of the detail.
pub fn tour(f: &mut Frame, a: Areas, t: &Tour, theme: &Theme) {
    let base = a.detail;
    let w = base.width.max(40).min(a.footer.width);
    let width = w.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    for (i, para) in t.text().iter().enumerate() {
        for row in super::super::detail::wrap(para, width) {
            lines.push(if i == 0 {
                Line::styled(
                    row,
                    theme.fg(theme.palette.accent).add_modifier(Modifier::BOLD),
                )
            } else {
                Line::from(row)
            });
        }
    }
    let h = (lines.len() as u16 + 2).min(base.height + a.job.height);
    let r = Rect {
        x: a.footer.width.saturating_sub(w),
        y: (a.job.y + a.job.height).saturating_sub(h),
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(theme.block(" tour (F2 hides) ", false)),
        r,
    );
}
