//! The lists: the fabrics pane and the selected fabric's three trees, each fabric with its
//! own filter, problems-only switch, selection and scroll. Rows are built only for the
//! selected fabric; the selection is a file's path, so it stays on its file across rescans.
//! `n`/`N` walk every problem: each problem of each file, in screen order, then on to the
//! next fabric that has one.

use fgd::inspect::{FabricState, FileEntry, Tree};

use super::app::{App, Pane};
use super::keymap::Action;

/// How one fabric's list is looked at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListView {
    pub filter: String,
    pub problems_only: bool,
    /// The selected file, by path.
    pub selected: Option<String>,
    /// The first row drawn.
    pub offset: usize,
}

/// A row of the tree pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// A tree's heading, with its count.
    Header(Tree),
    /// Under a tree with nothing to list.
    Empty(Tree),
    /// A file, by its index in the fabric's files.
    File(usize),
}

/// A filter, in smart case: all lower case matches either case; any upper case letter makes
/// it match case exactly.
pub struct Matcher {
    needle: String,
    exact: bool,
}

impl Matcher {
    pub fn new(needle: &str) -> Matcher {
        let exact = needle.chars().any(char::is_uppercase);
        Matcher {
            needle: if exact {
                needle.to_string()
            } else {
                needle.to_lowercase()
            },
            exact,
        }
    }

    pub fn matches(&self, text: &str) -> bool {
        self.find(text).is_some()
    }

    /// Where the first match starts, in bytes of `text`.
    pub fn find(&self, text: &str) -> Option<usize> {
        if self.needle.is_empty() {
            return Some(0);
        }
        if self.exact {
            return text.find(&self.needle);
        }
        // Lower-casing may change byte lengths: match char by char.
        let hay: Vec<(usize, char)> = text.char_indices().collect();
        let needle: Vec<char> = self.needle.chars().collect();
        (0..hay.len()).find_map(|i| {
            let fits = needle.iter().enumerate().all(|(k, n)| {
                hay.get(i + k)
                    .is_some_and(|(_, c)| c.to_lowercase().eq(std::iter::once(*n)))
            });
            fits.then_some(hay[i].0)
        })
    }
}

/// The rows of a fabric's trees as `view` filters them: each tree's heading, always, then its
/// files or a line saying why there are none.
pub fn rows_of(fab: &FabricState, view: &ListView) -> Vec<Row> {
    let m = Matcher::new(&view.filter);
    let mut rows = Vec::new();
    for tree in Tree::ALL {
        rows.push(Row::Header(tree));
        let before = rows.len();
        rows.extend(
            fab.files
                .iter()
                .enumerate()
                .filter(|(_, f)| f.tree == tree)
                .filter(|(_, f)| !view.problems_only || f.needs_attention())
                .filter(|(_, f)| m.matches(&f.rel))
                .map(|(i, _)| Row::File(i)),
        );
        if rows.len() == before {
            rows.push(Row::Empty(tree));
        }
    }
    rows
}

/// The places `n` stops at in a fabric's rows: (row, problem of that file).
fn stops(fab: &FabricState, rows: &[Row]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        if let Row::File(i) = row {
            let f = &fab.files[*i];
            if f.needs_attention() {
                out.extend((0..f.problems.len().max(1)).map(|k| (r, k)));
            }
        }
    }
    out
}

/// Lines of a fabric in the fabrics pane.
pub const FABRIC_LINES: usize = 4;

impl App {
    /// Rebuild the selected fabric's rows, keeping the selection on its file (or, when the
    /// file is gone, on the row where it was), then ask for its detail.
    pub fn refilter(&mut self) {
        let old_row = self.sel_row;
        self.rows = match (
            self.fabrics.get(self.fabric_sel),
            self.lists.get(self.fabric_sel),
        ) {
            (Some(f), Some(v)) => rows_of(f, v),
            _ => Vec::new(),
        };
        let wanted = self.list().and_then(|v| v.selected.clone());
        let found = wanted.and_then(|rel| {
            let fab = self.fabrics.get(self.fabric_sel)?;
            self.rows
                .iter()
                .position(|r| matches!(r, Row::File(i) if fab.files[*i].rel == rel))
        });
        let row = match found {
            Some(r) => r,
            None => {
                self.problem = 0;
                self.nearest_file_row(old_row).unwrap_or(0)
            }
        };
        self.sel_row = row;
        self.remember_selection();
        self.keep_visible();
        self.refresh_detail();
    }

    /// The selected fabric's list view.
    pub fn list(&self) -> Option<&ListView> {
        self.lists.get(self.fabric_sel)
    }

    fn list_mut(&mut self) -> Option<&mut ListView> {
        self.lists.get_mut(self.fabric_sel)
    }

    /// The file row at `row` or the nearest one after it, else before it.
    fn nearest_file_row(&self, row: usize) -> Option<usize> {
        let is_file = |r: &Row| matches!(r, Row::File(_));
        let row = row.min(self.rows.len().saturating_sub(1));
        self.rows[row..]
            .iter()
            .position(is_file)
            .map(|k| row + k)
            .or_else(|| self.rows[..row].iter().rposition(is_file))
    }

    fn remember_selection(&mut self) {
        let rel = self.selected_file().map(|f| f.rel.clone());
        if let Some(v) = self.list_mut() {
            v.selected = rel;
        }
    }

    pub fn selected_file(&self) -> Option<&FileEntry> {
        let Some(Row::File(i)) = self.rows.get(self.sel_row) else {
            return None;
        };
        self.fabrics.get(self.fabric_sel)?.files.get(*i)
    }

    /// How many rows the tree pane shows now.
    pub fn tree_height(&self) -> usize {
        super::view::areas(self.size.0, self.size.1)
            .map_or(10, |a| a.tree.height.saturating_sub(2) as usize)
            .max(1)
    }

    /// Scroll the list so the selected row is on screen, with a row of context where there is
    /// one (a tree's heading above its first file).
    pub fn keep_visible(&mut self) {
        let height = self.tree_height();
        let (sel, len) = (self.sel_row, self.rows.len());
        if let Some(v) = self.lists.get_mut(self.fabric_sel) {
            let top = sel.saturating_sub(1);
            if v.offset > top {
                v.offset = top;
            }
            if sel + 1 > v.offset + height {
                v.offset = (sel + 1).saturating_sub(height);
            }
            v.offset = v.offset.min(len.saturating_sub(height));
        }
        let fh = self.fabrics_height() / FABRIC_LINES;
        let fh = fh.max(1);
        if self.fabric_sel < self.fabric_offset {
            self.fabric_offset = self.fabric_sel;
        }
        if self.fabric_sel >= self.fabric_offset + fh {
            self.fabric_offset = self.fabric_sel + 1 - fh;
        }
    }

    /// Lines the fabrics pane shows now.
    pub fn fabrics_height(&self) -> usize {
        super::view::areas(self.size.0, self.size.1)
            .map_or(12, |a| a.fabrics.height.saturating_sub(2) as usize)
    }

    /// Select `row` (a file row) of the tree.
    pub fn select_row(&mut self, row: usize) {
        if !matches!(self.rows.get(row), Some(Row::File(_))) {
            return;
        }
        if row != self.sel_row {
            self.problem = 0;
        }
        self.sel_row = row;
        self.remember_selection();
        self.keep_visible();
        self.refresh_detail();
    }

    /// Select fabric `i`, with its own list as it was left.
    pub fn select_fabric(&mut self, i: usize) {
        if i >= self.fabrics.len() || i == self.fabric_sel {
            return;
        }
        self.fabric_sel = i;
        self.sel_row = 0;
        self.problem = 0;
        self.refilter();
    }

    /// Up, down, a page, the top or the bottom, in the focused list.
    pub fn move_selection(&mut self, a: Action) {
        match self.pane {
            Pane::Fabrics => {
                let page = (self.fabrics_height() / FABRIC_LINES).max(1) as isize;
                let to = step(self.fabric_sel, self.fabrics.len(), a, page);
                self.select_fabric(to);
            }
            Pane::Tree => {
                let page = self.tree_height().saturating_sub(1).max(1) as isize;
                let files: Vec<usize> = (0..self.rows.len())
                    .filter(|r| matches!(self.rows[*r], Row::File(_)))
                    .collect();
                let Some(at) = files.iter().position(|r| *r >= self.sel_row) else {
                    return;
                };
                // A page is of rows: the file that far down (headings count).
                let to = match a {
                    Action::PageDown | Action::PageUp => {
                        let target = if a == Action::PageDown {
                            self.sel_row.saturating_add(page as usize)
                        } else {
                            self.sel_row.saturating_sub(page as usize)
                        };
                        let k = files.partition_point(|r| *r < target);
                        let k = if a == Action::PageDown {
                            k.min(files.len() - 1)
                        } else {
                            k.min(at)
                        };
                        files[k]
                    }
                    _ => files[step(at, files.len(), a, page)],
                };
                self.select_row(to);
            }
            Pane::Detail => self.scroll_detail(a),
        }
    }

    /// `n` (forward) or `N`: the next problem, in this fabric's rows and then the next
    /// fabric's that has one.
    pub fn next_problem(&mut self, forward: bool) {
        let here = (self.sel_row, self.problem);
        let n = self.fabrics.len();
        for k in 0..=n {
            let fi = if forward {
                (self.fabric_sel + k) % n.max(1)
            } else {
                (self.fabric_sel + n * 2 - k) % n.max(1)
            };
            let Some(fab) = self.fabrics.get(fi) else {
                return;
            };
            let rows = match self.lists.get(fi) {
                Some(v) if fi != self.fabric_sel => rows_of(fab, v),
                _ => self.rows.clone(),
            };
            let all = stops(fab, &rows);
            let pick = match (k, forward) {
                (0, true) => all.iter().find(|s| **s > here),
                (0, false) => all.iter().rev().find(|s| **s < here),
                (_, true) => all.first(),
                (_, false) => all.last(),
            };
            if let Some(&(row, problem)) = pick {
                if fi != self.fabric_sel {
                    self.fabric_sel = fi;
                    self.rows = rows;
                }
                self.sel_row = row;
                self.problem = problem;
                self.remember_selection();
                self.keep_visible();
                self.refresh_detail();
                self.detail_to_problem();
                return;
            }
        }
        self.note("no problem to go to: every file is valid".into());
    }

    pub fn toggle_problems_only(&mut self) {
        if let Some(v) = self.list_mut() {
            v.problems_only = !v.problems_only;
        }
        self.refilter();
    }

    pub fn set_filter(&mut self, filter: String) {
        if let Some(v) = self.list_mut() {
            v.filter = filter;
        }
        self.refilter();
    }
}

/// Where a move lands in a list of `len` from `at`.
fn step(at: usize, len: usize, a: Action, page: isize) -> usize {
    let last = len.saturating_sub(1) as isize;
    let to = match a {
        Action::Up => at as isize - 1,
        Action::Down => at as isize + 1,
        Action::PageUp => at as isize - page,
        Action::PageDown => at as isize + page,
        Action::Top => 0,
        Action::Bottom => last,
        _ => at as isize,
    };
    to.clamp(0, last.max(0)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smart_case_matches_either_case_until_an_upper_case_letter_is_typed() {
        assert!(Matcher::new("tenant").matches("raw/TenantBlue.yaml"));
        assert!(Matcher::new("Tenant").matches("raw/TenantBlue.yaml"));
        assert!(!Matcher::new("Tenant").matches("raw/tenant-blue.yaml"));
        assert_eq!(Matcher::new("blue").find("raw/TenantBLUE.yaml"), Some(10));
        assert!(Matcher::new("").matches("anything"));
    }
}
