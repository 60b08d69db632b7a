//! The detail pane's state: the selection's report (computed off the event loop), the
//! problem selected in it, where its text is scrolled, and the search in it. The same state
//! serves the pane and the zoomed view; only the width the text is built for differs.

use std::rc::Rc;

use fgd::inspect::FileReport;

use super::app::{App, Effect, READING};
use super::detail::{self, Doc, DocKey};
use super::keymap::Action;
use super::mode::Mode;

impl App {
    /// The selection's detail, always computed in the background: reading a file (a slow
    /// disk, a big file) must not hold up the next key, and nothing on the event loop opens
    /// one. The detail shown stays while the same file's is computed again (a rescan);
    /// another file shows a placeholder until its own arrives.
    pub(super) fn refresh_detail(&mut self) {
        self.detail_seq += 1;
        let (root, entry) = match (self.fabric(), self.selected_file()) {
            (Some(f), Some(e)) => (f.root.clone(), e.clone()),
            _ => {
                self.detail = None;
                self.detail_version += 1;
                return;
            }
        };
        if self.detail.as_ref().map(|d| d.rel.as_str()) != Some(entry.rel.as_str()) {
            self.detail = Some(FileReport {
                rel: entry.rel.clone(),
                notes: vec![READING.into()],
                ..Default::default()
            });
            self.detail_version += 1;
            self.detail_problem = 0;
            self.detail_scroll = 0;
        }
        // Only the newest request matters: an older one waiting is replaced.
        self.pending.retain(|e| !matches!(e, Effect::Detail { .. }));
        self.pending.push(Effect::Detail {
            seq: self.detail_seq,
            root,
            entry,
        });
    }

    /// The report arrived: keep the problem selected in it (the one `n` went to, if it did),
    /// and show that problem.
    pub(super) fn set_detail(&mut self, report: FileReport) {
        let same = self.detail.as_ref().is_some_and(|d| {
            d.rel == report.rel && d.notes.first().map(String::as_str) != Some(READING)
        });
        let n = report.problems.len();
        self.detail = Some(report);
        self.detail_version += 1;
        if let Some((line, column)) = self.want_problem.take() {
            let at = self.detail.as_ref().and_then(|d| {
                d.problems
                    .iter()
                    .position(|p| p.line == line && p.column == column)
                    .or_else(|| d.problems.iter().position(|p| p.line == line))
            });
            self.detail_problem = at.unwrap_or(self.problem).min(n.saturating_sub(1));
            self.show_problem();
        } else if same {
            self.detail_problem = self.detail_problem.min(n.saturating_sub(1));
            self.scroll_detail_by(0);
        } else {
            self.detail_problem = 0;
            self.detail_scroll = 0;
        }
    }

    /// After `n`/`N`: select that problem in the detail, now or when the report arrives.
    pub(super) fn detail_to_problem(&mut self) {
        let Some(entry) = self.selected_file() else {
            return;
        };
        let place = entry.problems.get(self.problem).map(|p| (p.line, p.column));
        let loaded = self.detail.as_ref().is_some_and(|d| {
            d.rel == entry.rel && d.notes.first().map(String::as_str) != Some(READING)
        });
        match (place, loaded) {
            (Some(place), true) => {
                self.want_problem = Some(place);
                if let Some(report) = self.detail.clone() {
                    self.set_detail(report);
                }
            }
            (Some(place), false) => self.want_problem = Some(place),
            (None, _) => {}
        }
    }

    /// Scroll so the selected problem heads the detail.
    fn show_problem(&mut self) {
        let doc = self.detail_doc();
        // The line above the problem too: the heading, or the end of the one before.
        let at = doc.anchors.get(self.detail_problem).copied().unwrap_or(0);
        self.detail_scroll = at.saturating_sub(1);
        self.scroll_detail_by(0);
    }

    /// The detail's width in columns: the pane's, or the whole screen's when zoomed.
    pub fn detail_width(&self) -> usize {
        let zoomed = matches!(self.mode.base(), Mode::Zoom);
        super::view::areas(self.size.0, self.size.1)
            .map(|a| if zoomed { a.zoom } else { a.detail })
            .map_or(60, |r| r.width.saturating_sub(2) as usize)
    }

    /// Rows of the detail shown at once.
    pub fn detail_height(&self) -> usize {
        let zoomed = matches!(self.mode.base(), Mode::Zoom);
        super::view::areas(self.size.0, self.size.1)
            .map(|a| if zoomed { a.zoom } else { a.detail })
            .map_or(10, |r| r.height.saturating_sub(2) as usize)
            .max(1)
    }

    /// The detail as text at its current width; built once per change, not per frame.
    pub fn detail_doc(&self) -> Rc<Doc> {
        let key = DocKey {
            seq: self.detail_version,
            width: self.detail_width(),
            selected: self.detail_problem,
            unicode: self.unicode,
            search: self.search.clone(),
        };
        if let Some((k, doc)) = self.doc_cache.borrow().as_ref() {
            if *k == key {
                return doc.clone();
            }
        }
        let doc = Rc::new(match &self.detail {
            Some(r) => detail::build(
                r,
                key.width,
                key.selected,
                key.unicode,
                key.search.as_deref(),
            ),
            None => Doc::default(),
        });
        *self.doc_cache.borrow_mut() = Some((key, doc.clone()));
        doc
    }

    pub(super) fn scroll_detail_by(&mut self, by: isize) {
        let max = self
            .detail_doc()
            .lines
            .len()
            .saturating_sub(self.detail_height());
        self.detail_scroll = self.detail_scroll.saturating_add_signed(by).min(max);
    }

    /// j/k, a page, the top or the bottom of the detail.
    pub fn scroll_detail(&mut self, a: Action) {
        let page = self.detail_height().saturating_sub(1).max(1) as isize;
        match a {
            Action::Up => self.scroll_detail_by(-1),
            Action::Down => self.scroll_detail_by(1),
            Action::PageUp => self.scroll_detail_by(-page),
            Action::PageDown => self.scroll_detail_by(page),
            Action::Top => self.detail_scroll = 0,
            Action::Bottom => self.scroll_detail_by(isize::MAX / 2),
            _ => {}
        }
    }

    /// Search the detail for `text` (empty clears it): to the first match from the top of
    /// what is shown.
    pub(super) fn search_detail(&mut self, text: String) {
        self.search = (!text.is_empty()).then_some(text);
        if self.search.is_some() {
            let from = self.detail_scroll.saturating_sub(1);
            self.search_next(true, from);
        }
    }

    /// The next (or previous) line holding a match, from `from`.
    pub(super) fn search_next(&mut self, forward: bool, from: usize) {
        let doc = self.detail_doc();
        match detail::find_match(&doc, from, forward) {
            Some(line) => {
                self.detail_scroll = line;
                self.scroll_detail_by(0);
            }
            None => {
                let what = self.search.clone().unwrap_or_default();
                self.note(format!("{what:?} is not in {}", self.detail_title()));
            }
        }
    }

    pub fn detail_title(&self) -> String {
        self.detail
            .as_ref()
            .map(|d| d.rel.clone())
            .unwrap_or_default()
    }
}
