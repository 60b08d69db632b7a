//! The built-in editor: one file edited in place, validated in the background as it is typed,
//! saved atomically only while the disk still holds what it opened (or the change the
//! operator was told about). Keys arrive as actions of the editor's keymap first; the rest
//! type text.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui_textarea::TextArea;

use super::app::Effect;
use super::keymap::Action;
use fgd::inspect::{self, FileReport};

/// A file read for the editor, with the validation of its own bytes.
#[derive(Debug)]
pub struct Opened {
    pub path: PathBuf,
    pub rel: String,
    pub disk: Vec<u8>,
    pub report: FileReport,
    /// Where to put the cursor: a problem's line and column, 1-based.
    pub at: Option<(usize, usize)>,
}

/// Read `rel` for the editor: blocking, for the blocking pool. Only a regular file is opened.
pub fn open_for_edit(
    root: &std::path::Path,
    rel: &str,
    at: Option<(usize, usize)>,
) -> Result<Box<Opened>, String> {
    let path = root.join(rel);
    let disk = inspect::read_regular(&path).map_err(|e| format!("cannot open {rel}: {e}"))?;
    // An untouched buffer is the file's own bytes: validating them is validating the text.
    let report = inspect::text_report_with(rel, disk.clone(), &inspect::validator_for(root));
    Ok(Box::new(Opened {
        path,
        rel: rel.to_string(),
        disk,
        report,
        at,
    }))
}

/// What became of a save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveOutcome {
    Saved,
    /// Not written: the disk holds this now (None: removed), not what the editor opened.
    Changed(Option<Vec<u8>>),
    Failed(String),
}

/// Write `bytes` to `path` atomically unless someone changed it since the editor read
/// `expected` (a colleague, git pull, a sync): blocking, for the blocking pool. The read back
/// opens only a regular file: one replaced by a FIFO or a symlink is not written over.
pub fn save_file(
    path: &std::path::Path,
    bytes: &[u8],
    expected: &[u8],
    overwrite: &Option<Option<Vec<u8>>>,
) -> SaveOutcome {
    // (Between this read and the write below is a moment another writer could still slip
    // into.)
    let now = match inspect::read_regular(path) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return SaveOutcome::Failed(format!("cannot read it back to compare: {e}")),
    };
    if now.as_deref() != Some(expected) && overwrite.as_ref() != Some(&now) {
        return SaveOutcome::Changed(now);
    }
    match fgd::store::write_atomic(path, bytes) {
        Ok(()) => SaveOutcome::Saved,
        Err(e) => SaveOutcome::Failed(e.to_string()),
    }
}

/// Editing one file in place; validation re-runs on every change.
pub struct Editor {
    pub path: PathBuf,
    pub rel: String,
    pub area: TextArea<'static>,
    /// The validation of the text as of edit `checked`.
    pub report: FileReport,
    /// Edits made so far, and the edit the shown validation is of: validation runs in the
    /// background, and a result older than the newest shown is dropped.
    pub seq: u64,
    pub checked: u64,
    pub dirty: bool,
    /// Esc, then Ctrl-C, was pressed once with unsaved changes: the next press of the same
    /// key leaves without saving.
    pub warned: bool,
    pub quit_warned: bool,
    pub status: String,
    /// Why this file can be read here but not saved (not UTF-8, mixed line breaks): saving
    /// would change bytes the operator never touched.
    pub read_only: Option<String>,
    /// The file's bytes when it was opened or last saved: a save goes ahead unasked only while
    /// the disk still holds them.
    disk: Vec<u8>,
    /// The file's line break, and whether its last line ended with one: a save keeps both.
    eol: &'static str,
    final_newline: bool,
    /// A save was refused because the file had changed on disk to this (None: removed); a
    /// second Ctrl-S overwrites it, if that is still what is there.
    overwrite: Option<Option<Vec<u8>>>,
    /// A save is being written in the background.
    pub saving: bool,
    /// What was last searched for (Ctrl-F offers it again).
    pub last_search: String,
}

/// Above this, live validation waits for a save (it must not stall typing).
const LIVE_VALIDATE_MAX: usize = 1 << 20;

/// A file's text as editor lines, its line break and whether it ends with one; or why it
/// cannot be edited without changing bytes nobody touched.
fn split_lines(bytes: &[u8]) -> Result<(Vec<String>, &'static str, bool), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let before = &bytes[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = at
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        format!(
            "not UTF-8 (byte 0x{:02X} at {line}:{column}): a save would change bytes you did \
             not touch; convert it to UTF-8 first",
            bytes[at]
        )
    })?;
    let mut parts: Vec<&str> = text.split('\n').collect();
    // The piece after the last line break: empty when the file ends with one.
    let last = parts.pop().unwrap_or_default();
    let crlf = parts.iter().filter(|l| l.ends_with('\r')).count();
    if crlf > 0 && crlf < parts.len() {
        return Err(format!(
            "mixed line breaks ({crlf} CRLF, {} LF): a save would change lines you did not \
             touch; make them one kind first (dos2unix or unix2dos)",
            parts.len() - crlf
        ));
    }
    let eol = if crlf > 0 { "\r\n" } else { "\n" };
    let final_newline = !parts.is_empty() && last.is_empty();
    let mut lines: Vec<String> = parts
        .iter()
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
        .collect();
    if !final_newline {
        lines.push(last.to_string());
    }
    Ok((lines, eol, final_newline))
}

impl Editor {
    /// The editor over a file `open_for_edit` read, its errors shown at once.
    pub fn from_opened(o: Opened) -> Editor {
        let Opened {
            path,
            rel,
            disk,
            report,
            at,
        } = o;
        let (lines, eol, final_newline, read_only) = match split_lines(&disk) {
            Ok((lines, eol, nl)) => (lines, eol, nl, None),
            Err(why) => {
                let text = String::from_utf8_lossy(&disk);
                let text = text.strip_suffix('\n').unwrap_or(&text);
                let lines = text.split('\n').map(str::to_string).collect();
                (lines, "\n", false, Some(why))
            }
        };
        // The view draws the frame and a gutter of its own (line numbers with problem marks).
        let mut area = TextArea::new(lines);
        area.set_cursor_line_style(ratatui::style::Style::default());
        let mut ed = Editor {
            path,
            rel,
            area,
            report,
            seq: 0,
            checked: 0,
            dirty: false,
            warned: false,
            quit_warned: false,
            status: read_only
                .as_ref()
                .map(|why| format!("read-only: {why}"))
                .unwrap_or_default(),
            read_only,
            disk,
            eol,
            final_newline,
            overwrite: None,
            saving: false,
            last_search: String::new(),
        };
        if let Some((line, column)) = at {
            ed.goto(line, column);
        }
        ed
    }

    /// Put the cursor at `line`, `column` (1-based; clamped to the text).
    pub fn goto(&mut self, line: usize, column: usize) {
        let row = line
            .saturating_sub(1)
            .min(self.area.lines().len().saturating_sub(1));
        let col = column.saturating_sub(1);
        self.area.move_cursor(ratatui_textarea::CursorMove::Jump(
            row.min(u16::MAX as usize) as u16,
            col.min(u16::MAX as usize) as u16,
        ));
    }

    /// Scroll so the cursor's line is in the middle of a text area of `area`'s size (the
    /// text area keeps its cursor in view, but only just: at the bottom edge).
    pub fn center(&mut self, area: ratatui::layout::Rect) {
        use ratatui::widgets::Widget;
        if area.height == 0 || area.width == 0 {
            return;
        }
        // Drawn once off screen, so the text area knows its size.
        let mut scratch = ratatui::buffer::Buffer::empty(area);
        (&self.area).render(area, &mut scratch);
        let row = self.area.cursor().0;
        let top = self.area.scroll_offset().0 as usize;
        // Never past the end: a text that fits stays at its top.
        let last_top = self.area.lines().len().saturating_sub(area.height as usize);
        let want = row.saturating_sub(area.height as usize / 2).min(last_top);
        if want > top {
            let by = (want - top).min(i16::MAX as usize) as i16;
            self.area.scroll((by, 0));
        }
    }

    /// The cursor's line, 1-based.
    pub fn cursor_line(&self) -> usize {
        self.area.cursor().0 + 1
    }

    /// The next match of `text` (smart case) after the cursor, wrapping round the end.
    pub fn search(&mut self, text: &str) {
        self.last_search = text.to_string();
        if text.is_empty() {
            return;
        }
        let m = super::browse::Matcher::new(text);
        let ratatui_textarea::DataCursor(row, col) = self.area.cursor();
        let lines = self.area.lines();
        let n = lines.len();
        let hit = (0..=n).find_map(|k| {
            let r = (row + k) % n.max(1);
            let line = lines.get(r)?;
            // On the cursor's own line, only after the cursor (the first time round).
            let skip = if k == 0 {
                line.char_indices()
                    .nth(col + 1)
                    .map_or(line.len(), |(i, _)| i)
            } else {
                0
            };
            let at = m.find(&line[skip..])?;
            Some((r, line[..skip + at].chars().count()))
        });
        match hit {
            Some((r, c)) => {
                self.goto(r + 1, c + 1);
                self.status = format!("found {text:?} at line {}", r + 1);
            }
            None => self.status = format!("{text:?} is not in the file"),
        }
    }

    /// The next (or previous) problem from the cursor, wrapping round.
    pub fn jump_problem(&mut self, forward: bool) {
        let ratatui_textarea::DataCursor(row, col) = self.area.cursor();
        let here = (row + 1, col + 1);
        let places: Vec<(usize, usize)> = self
            .report
            .problems
            .iter()
            .filter(|p| p.line > 0)
            .map(|p| (p.line, p.column.max(1)))
            .collect();
        let next = if forward {
            places.iter().find(|p| **p > here).or(places.first())
        } else {
            places.iter().rev().find(|p| **p < here).or(places.last())
        };
        match next {
            Some(&(line, column)) => self.goto(line, column),
            None => self.status = "no problem in this file".into(),
        }
    }

    /// The text as a save would write it: the file's own line break, and a final one only if
    /// the file had it.
    pub fn text(&self) -> String {
        let mut t = self.area.lines().join(self.eol);
        if self.final_newline {
            t.push_str(self.eol);
        }
        t
    }

    /// A new edit: the validation to run for it in the background, if any.
    fn request_validation(&mut self) -> Option<Effect> {
        self.seq += 1;
        let text = self.text();
        if text.len() > LIVE_VALIDATE_MAX {
            self.report = FileReport {
                rel: self.rel.clone(),
                notes: vec!["too large to validate while typing: save (Ctrl-S) to validate".into()],
                ..Default::default()
            };
            self.checked = self.seq;
            return None;
        }
        // The fabric's folder: the file's path without its fabric-relative part.
        let root = self.rel.split('/').fold(self.path.clone(), |p, _| {
            p.parent().map(PathBuf::from).unwrap_or(p)
        });
        Some(Effect::Validate {
            seq: self.seq,
            root,
            rel: self.rel.clone(),
            text: text.into_bytes(),
        })
    }

    /// Ctrl-S: what to write, checked here (a managed file must stay what ingest would
    /// write); the read back and the write happen in the background (`Effect::Save`).
    fn save(&mut self) -> Result<Effect, String> {
        if let Some(why) = &self.read_only {
            return Err(format!("the file is read-only here: {why}"));
        }
        if self.saving {
            return Err("a save is still being written; Ctrl-S again once it is done".into());
        }
        let bytes = self.text().into_bytes();
        // managed/ holds only what an ingest would write at this path: Argo CD and Flux
        // build every object through it, so one unreadable file stops the whole fabric.
        if self.rel.starts_with(&format!("{}/", fgd::fabric::MANAGED)) {
            if let Some((why, _)) = fgd::ingest::analyze::managed_problem(&self.rel, bytes.clone())
            {
                return Err(format!(
                    "managed/ holds only what an ingest would write at this path: {why}. \
                     Fix it, or Esc discards it"
                ));
            }
        }
        self.saving = true;
        self.status = format!("saving {}...", self.rel);
        Ok(Effect::Save {
            path: self.path.clone(),
            seq: self.seq,
            bytes,
            expected: self.disk.clone(),
            overwrite: self.overwrite.clone(),
        })
    }

    /// A save's outcome. Returns the line for the operations log, if any.
    pub fn saved(&mut self, seq: u64, bytes: Vec<u8>, outcome: SaveOutcome) -> Option<String> {
        self.saving = false;
        match outcome {
            SaveOutcome::Saved => {
                self.disk = bytes;
                self.overwrite = None;
                // Edits typed while it was written are still unsaved.
                if self.seq == seq {
                    self.dirty = false;
                }
                self.status = format!("saved {}", self.rel);
                Some(self.status.clone())
            }
            SaveOutcome::Changed(now) => {
                let how = if now.is_some() { "changed" } else { "removed" };
                self.overwrite = Some(now);
                self.status = format!(
                    "NOT saved: {how} on disk since you opened it: Esc twice and reopen to see it \
                     (your edits are dropped), or Ctrl-S again to overwrite it with yours"
                );
                None
            }
            SaveOutcome::Failed(e) => {
                self.status = format!("NOT saved: {e}");
                None
            }
        }
    }

    /// A key in the editor: an action of the editor's keymap, or text.
    pub fn key(&mut self, action: Option<Action>, key: KeyEvent) -> EditorKey {
        match action {
            Some(Action::Save) => match self.save() {
                Ok(effect) => return EditorKey::Effects(vec![effect]),
                Err(e) => self.status = format!("NOT saved: {e}"),
            },
            Some(Action::Close) if self.dirty && !self.warned => {
                self.warned = true;
                self.status = "unsaved changes: Ctrl-S saves, Esc again discards".into();
            }
            Some(Action::Close) => return EditorKey::Leave,
            Some(Action::NextProblem) => self.jump_problem(true),
            Some(Action::PrevProblem) => self.jump_problem(false),
            Some(other) => return EditorKey::Action(other),
            None => return self.text_key(key),
        }
        EditorKey::Effects(Vec::new())
    }

    /// A key that is not an action: it moves the cursor or edits the text.
    fn text_key(&mut self, key: KeyEvent) -> EditorKey {
        let moves = matches!(
            key.code,
            KeyCode::Up
                | KeyCode::Down
                | KeyCode::Left
                | KeyCode::Right
                | KeyCode::PageUp
                | KeyCode::PageDown
                | KeyCode::Home
                | KeyCode::End
        );
        if let Some(why) = &self.read_only {
            // Read-only: the cursor moves, the text does not change.
            if moves {
                self.area.input(key);
            } else {
                self.status = format!("read-only: {why}");
            }
            return EditorKey::Effects(Vec::new());
        }
        if self.area.input(key) {
            self.dirty = true;
            self.warned = false;
            return EditorKey::Effects(self.request_validation().into_iter().collect());
        }
        EditorKey::Effects(Vec::new())
    }
}

/// What a key in the editor asks of the dashboard.
#[derive(Debug)]
pub enum EditorKey {
    Effects(Vec<Effect>),
    /// Close the editor.
    Leave,
    /// An editor action the dashboard carries out (help, external edit, ...).
    Action(Action),
}
