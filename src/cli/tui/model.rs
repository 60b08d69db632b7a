//! What the dashboard shows, computed from the engine: fabrics of a workspace, their trees and
//! each file's state. Classification comes from the same `validate` the CLI runs, so the
//! dashboard and `fgd validate` never disagree.

use std::path::{Path, PathBuf};

use fgd::classify::ReasonCode;
use fgd::event::{Collect, Event, Fate, FileOutcome, Skip};
use fgd::fabric::reason::Reason;
use fgd::fabric::{self, kustomization, Fabric};
use fgd::store::{FabricLock, LockOwner};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tree {
    Raw,
    Managed,
    Unmanaged,
}

impl Tree {
    pub fn dir(self) -> &'static str {
        match self {
            Tree::Raw => fabric::RAW,
            Tree::Managed => fabric::MANAGED,
            Tree::Unmanaged => fabric::UNMANAGED,
        }
    }
}

/// A file's state, always shown by symbol and colour together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    Valid,
    Invalid,
    Unknown,
    Pending,
    Conflict,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub tree: Tree,
    /// Fabric-relative path.
    pub rel: String,
    pub state: FileState,
    /// One line on why, for raw and unmanaged files.
    pub note: Option<String>,
}

impl FileEntry {
    /// Its name is not UTF-8: `rel` is a lossy form no file has, so nothing can open it.
    pub fn unnamable(&self) -> bool {
        self.note.as_deref() == Some(fgd::discover::NOT_UTF8)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub raw_pending: usize,
    pub managed: usize,
    pub unmanaged: usize,
    pub invalid: usize,
}

#[derive(Debug, Clone)]
pub struct FabricView {
    pub name: String,
    pub root: PathBuf,
    pub files: Vec<FileEntry>,
    pub counts: Counts,
    pub git: Option<fgd::git::GitState>,
    pub lock: Option<LockOwner>,
    pub watching: bool,
    /// The fabric's folder is not there (moved or removed since it was listed).
    pub gone: bool,
}

/// Fabrics of a workspace: the folder itself if it is one, else every folder up to three
/// levels down holding an fgd manifest.
pub fn discover(workspace: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![(workspace.to_path_buf(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        if dir.join(fabric::MANIFEST).is_file() {
            out.push(dir);
            continue;
        }
        if depth >= 3 {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let hidden = name.to_string_lossy().starts_with('.');
            if !hidden && e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push((e.path(), depth + 1));
            }
        }
    }
    out.sort();
    out
}

/// A file's bytes, only if it is a regular file (`store::ReadRegular::look_first`: an lstat
/// first, then an open that follows no symlink and never waits). Symlinks, FIFOs, sockets and
/// devices are never opened by the dashboard: a FIFO would block the reading thread until a
/// writer came.
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    use fgd::store::{ReadRegular, Regular};
    match ReadRegular::new().look_first().read(path) {
        Ok(Regular::Bytes(bytes, _)) => Ok(bytes),
        Ok(Regular::Missing) => Err(rustix::io::Errno::NOENT.into()),
        Ok(Regular::NotRegular(kind)) => Err(std::io::Error::other(format!(
            "{}, not a regular file: never opened",
            kind.describe()
        ))),
        Ok(Regular::Unsettled(how)) => Err(std::io::Error::other(how.describe())),
        Ok(Regular::TooLarge(len)) => Err(std::io::Error::other(format!("{len} bytes: too large"))),
        Err(e) => Err(e.into_io()),
    }
}

fn strip<'a>(root: &Path, shown: &'a str) -> &'a str {
    let prefix = format!("{}/", root.display());
    shown.strip_prefix(prefix.as_str()).unwrap_or(shown)
}

/// What the last scans found of the managed files they read, by path, with the size and
/// modification time then: a file that has not changed since is not read again.
#[derive(Debug, Default)]
pub struct ManagedChecks(
    std::collections::HashMap<String, (u64, std::time::SystemTime, Option<String>)>,
);

impl ManagedChecks {
    /// The problem of the managed file `rel` as it is on disk, if it has one.
    fn check(&mut self, root: &Path, rel: &str) -> Option<String> {
        let path = root.join(rel);
        let stamp = std::fs::symlink_metadata(&path)
            .and_then(|m| Ok((m.len(), m.modified()?)))
            .ok();
        if let (Some((len, at)), Some((l, t, problem))) = (stamp, self.0.get(rel)) {
            if (len, at) == (*l, *t) {
                return problem.clone();
            }
        }
        let problem = match read_regular(&path) {
            Ok(b) => fgd::ingest::analyze::managed_problem(rel, b).map(|(why, _)| why),
            Err(e) => Some(format!("cannot read: {e}")),
        };
        if let Some((len, at)) = stamp {
            self.0.insert(rel.to_string(), (len, at, problem.clone()));
        }
        problem
    }
}

/// Scan one fabric: raw/ judged by validate, managed/ from the kustomization's view of the
/// disk, unmanaged/ items with their reason codes.
pub fn scan(root: &Path) -> FabricView {
    scan_with(root, &mut ManagedChecks::default())
}

/// `scan`, reading only the managed files that changed since the scans `checks` remembers.
pub fn scan_with(root: &Path, checks: &mut ManagedChecks) -> FabricView {
    if !root.is_dir() {
        return FabricView {
            name: String::new(),
            root: root.to_path_buf(),
            files: Vec::new(),
            counts: Counts::default(),
            git: None,
            lock: None,
            watching: false,
            gone: true,
        };
    }
    let fabric = Fabric {
        root: root.to_path_buf(),
    };
    let name = fabric
        .manifest()
        .map(|m| m.fabric)
        .unwrap_or_else(|_| root.display().to_string());
    let mut files = Vec::new();
    let mut counts = Counts::default();

    let mut sink = Collect::default();
    let raw = fabric.path(fabric::RAW);
    let _ = fgd::ops::validate(&[raw], &Default::default(), &mut sink);
    let mut raw_files: Vec<FileEntry> = Vec::new();
    let entry_for = |shown: &str, files: &mut Vec<FileEntry>| -> usize {
        let rel = strip(root, shown).to_string();
        match files.iter().position(|f| f.rel == rel) {
            Some(i) => i,
            None => {
                files.push(FileEntry {
                    tree: Tree::Raw,
                    rel,
                    state: FileState::Valid,
                    note: None,
                });
                files.len() - 1
            }
        }
    };
    for e in &sink.0 {
        match e {
            Event::DocumentClassified {
                file,
                fate: Fate::Unmanaged { code, reason, .. },
                pos,
                ..
            } => {
                let i = entry_for(file, &mut raw_files);
                let f = &mut raw_files[i];
                if f.state != FileState::Conflict {
                    f.state = if *code == ReasonCode::Conflict {
                        FileState::Conflict
                    } else {
                        FileState::Invalid
                    };
                }
                if f.note.is_none() {
                    let at = pos
                        .map(|p| format!("{}:{} ", p.line, p.column))
                        .unwrap_or_default();
                    f.note = Some(format!("{at}[{}] {reason}", code.as_str()));
                }
            }
            Event::DocumentClassified { file, .. } => {
                entry_for(file, &mut raw_files);
            }
            Event::FileFinished {
                file,
                outcome: FileOutcome::WholeUnmanaged { code, reason, .. },
            } => {
                let i = entry_for(file, &mut raw_files);
                raw_files[i].state =
                    if *code == ReasonCode::Conflict || raw_files[i].state == FileState::Conflict {
                        FileState::Conflict
                    } else {
                        FileState::Invalid
                    };
                raw_files[i]
                    .note
                    .get_or_insert_with(|| format!("[{}] {reason}", code.as_str()));
            }
            Event::FileSkipped { file, skip } => {
                let i = entry_for(file, &mut raw_files);
                let (state, why) = match skip {
                    Skip::Pending { detail } => (FileState::Pending, detail.clone()),
                    Skip::Ignored { detail } | Skip::NotRegular { detail } => {
                        (FileState::Unknown, detail.clone())
                    }
                };
                raw_files[i].state = state;
                raw_files[i].note = Some(why);
            }
            _ => {}
        }
    }
    raw_files.sort_by(|a, b| a.rel.cmp(&b.rel));
    counts.raw_pending = raw_files
        .iter()
        .filter(|f| f.state != FileState::Unknown)
        .count();
    counts.invalid = raw_files
        .iter()
        .filter(|f| matches!(f.state, FileState::Invalid | FileState::Conflict))
        .count();
    files.extend(raw_files);

    // Only the managed files that differ from HEAD are checked, what a push would send, and
    // each only when it changed since the last scan: reading 100,000 committed objects every
    // 30 s is not cheap. Committed ones were checked when written (ingest writes only what it
    // manages; the editor refuses to save anything else) and show valid unread.
    let changed = changed_managed(root);
    for rel in kustomization::object_files(&fabric).unwrap_or_default() {
        counts.managed += 1;
        let rel = format!("{}/{rel}", fabric::MANAGED);
        let problem = match &changed {
            Some(c) if c.contains(&rel) => checks.check(root, &rel),
            _ => None,
        };
        if problem.is_some() {
            counts.invalid += 1;
        }
        files.push(FileEntry {
            tree: Tree::Managed,
            rel,
            state: if problem.is_some() {
                FileState::Invalid
            } else {
                FileState::Valid
            },
            note: problem,
        });
    }
    let mut items = Vec::new();
    collect_items(&fabric.path(fabric::UNMANAGED), &mut items);
    items.sort();
    for item in items {
        counts.unmanaged += 1;
        let rel = strip(root, &item.display().to_string()).to_string();
        let reason = reason_file(&item);
        let reason = reason.as_ref().and_then(|(_, b)| Reason::parse(b));
        let note = reason.as_ref().map(reason_line);
        let state = if reason.is_some_and(|r| r.code == ReasonCode::Conflict) {
            FileState::Conflict
        } else {
            FileState::Invalid
        };
        files.push(FileEntry {
            tree: Tree::Unmanaged,
            rel,
            state,
            note,
        });
    }
    FabricView {
        name,
        root: root.to_path_buf(),
        files,
        counts,
        git: fgd::git::git_state(&fabric),
        lock: FabricLock::holder(&fabric.path(fabric::LOCK))
            .ok()
            .flatten(),
        watching: false,
        gone: false,
    }
}

fn collect_items(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(t) = e.file_type() else { continue };
        if t.is_dir() {
            collect_items(&e.path(), out);
        } else if e
            .file_name()
            .to_string_lossy()
            .ends_with(fabric::UNMANAGED_SUFFIX)
        {
            out.push(e.path());
        }
    }
}

/// The detail pane's content for one file: its documents' fates and its text, with the lines
/// that have problems marked.
#[derive(Debug, Clone, Default)]
pub struct Detail {
    pub title: String,
    pub fates: Vec<String>,
    pub lines: Vec<String>,
    pub marked: Vec<usize>,
}

/// Fates of text that is being edited (not yet on disk): one line per document, and the lines
/// with problems.
pub fn validate_text(rel: &str, bytes: Vec<u8>) -> (Vec<String>, Vec<usize>) {
    use fgd::ingest::analyze::{self, DocVerdict, FileVerdict};
    let format = fgd::discover::format_of(rel).unwrap_or(fgd::discover::Format::Yaml);
    let analysis = analyze::analyze(rel, bytes, format, &Default::default());
    let (mut fates, mut marked) = (Vec::new(), Vec::new());
    match &analysis.verdict {
        FileVerdict::Whole { code, reason, pos } => {
            marked.extend(pos.map(|p| p.line));
            fates.push(format!("whole file UNMANAGED [{}] {reason}", code.as_str()));
        }
        FileVerdict::Docs(docs) => {
            for d in docs {
                let at = format!("{}:{}", d.pos.line, d.pos.column);
                fates.push(match &d.verdict {
                    DocVerdict::Managed { path, .. } => format!(
                        "doc {} {at} {}: managed -> managed/{path}",
                        d.index + 1,
                        d.verdict.object().unwrap_or_default()
                    ),
                    DocVerdict::Unmanaged { code, reason, .. } => {
                        marked.push(d.pos.line);
                        format!(
                            "doc {} {at}: UNMANAGED [{}] {reason}",
                            d.index + 1,
                            code.as_str()
                        )
                    }
                    DocVerdict::Empty => format!("doc {} {at}: only comments", d.index + 1),
                });
            }
        }
    }
    if rel.starts_with(&format!("{}/", fabric::MANAGED)) {
        if let Some((why, line)) = fgd::ingest::analyze::problem_as_managed(rel, &analysis) {
            // A document already shown UNMANAGED needs no second copy of its reason.
            fates.push(if marked.is_empty() {
                format!("cannot be saved here: {why}")
            } else {
                "cannot be saved here: managed/ takes only what ingest would write at this path"
                    .into()
            });
            marked.extend(line);
            marked.sort_unstable();
            marked.dedup();
        }
    }
    (fates, marked)
}

/// The fabric's files under `managed/` that differ from git's HEAD (changed or new), as
/// fabric-relative paths: what a push would send. None outside a git working copy.
fn changed_managed(root: &Path) -> Option<std::collections::HashSet<String>> {
    let repo = git2::Repository::discover(root).ok()?;
    let workdir = std::fs::canonicalize(repo.workdir()?).ok()?;
    let prefix = std::fs::canonicalize(root)
        .ok()?
        .strip_prefix(&workdir)
        .ok()?
        .to_str()?
        .to_string();
    let inside = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    };
    let mut so = git2::StatusOptions::new();
    so.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .pathspec(format!("{inside}{}/", fabric::MANAGED));
    let statuses = repo.statuses(Some(&mut so)).ok()?;
    Some(
        statuses
            .iter()
            .filter(|e| !e.status().contains(git2::Status::WT_DELETED))
            .filter_map(|e| {
                e.path()
                    .ok()
                    .and_then(|p| p.strip_prefix(&inside))
                    .map(str::to_string)
            })
            .collect(),
    )
}

/// The detail pane's content for one file. Blocking (it reads and validates the file): the
/// runner computes it on the blocking pool, never on the event loop.
pub fn detail(root: &Path, entry: &FileEntry) -> Detail {
    if entry.unnamable() {
        return Detail {
            title: entry.rel.clone(),
            fates: entry.note.iter().cloned().collect(),
            ..Default::default()
        };
    }
    let path = root.join(&entry.rel);
    let bytes = match read_regular(&path) {
        Ok(b) => b,
        Err(e) => {
            return Detail {
                title: entry.rel.clone(),
                fates: entry
                    .note
                    .iter()
                    .cloned()
                    .chain([format!("cannot show it: {e}")])
                    .collect(),
                ..Default::default()
            }
        }
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let mut d = Detail {
        title: entry.rel.clone(),
        lines: text.lines().map(str::to_string).collect(),
        ..Default::default()
    };
    match entry.tree {
        Tree::Raw => {
            let mut sink = Collect::default();
            let _ = fgd::ops::validate(std::slice::from_ref(&path), &Default::default(), &mut sink);
            for e in sink.0 {
                match e {
                    Event::DocumentClassified {
                        index,
                        pos,
                        object,
                        fate,
                        ..
                    } => {
                        let at = pos
                            .map(|p| format!("{}:{}", p.line, p.column))
                            .unwrap_or_default();
                        let obj = object.unwrap_or_else(|| "-".into());
                        let line = match fate {
                            Fate::Managed { path, .. } => {
                                format!("doc {} {at} {obj}: managed -> {path}", index + 1)
                            }
                            Fate::Unmanaged { code, reason, .. } => {
                                if let Some(p) = pos {
                                    d.marked.push(p.line);
                                }
                                format!(
                                    "doc {} {at} {obj}: UNMANAGED [{}] {reason}",
                                    index + 1,
                                    code.as_str()
                                )
                            }
                            Fate::Empty => format!("doc {} {at}: only comments", index + 1),
                        };
                        d.fates.push(line);
                    }
                    Event::FileFinished {
                        outcome: FileOutcome::WholeUnmanaged { code, reason, .. },
                        ..
                    } => {
                        d.fates
                            .push(format!("whole file UNMANAGED [{}] {reason}", code.as_str()));
                    }
                    _ => {}
                }
            }
        }
        Tree::Unmanaged => unmanaged_detail(&path, entry, &mut d),
        Tree::Managed => {
            let (fates, marked) = validate_text(&entry.rel, bytes);
            d.fates = fates;
            d.marked = marked;
            if d.marked.is_empty() {
                d.fates.push(format!(
                    "managed object, listed in {}",
                    fabric::KUSTOMIZATION
                ));
            }
        }
    }
    d
}

/// An unmanaged item's reason file beside it, and its bytes, if it can be read
/// (`Reason::parse` says what it says).
fn reason_file(item: &Path) -> Option<(PathBuf, Vec<u8>)> {
    let path = PathBuf::from(format!("{}{}", item.display(), fabric::REASON_SUFFIX));
    let bytes = read_regular(&path).ok()?;
    Some((path, bytes))
}

/// "[code] reason": the one line the tree and the detail show for an unmanaged item.
fn reason_line(r: &Reason) -> String {
    format!("[{}] {}", r.code.as_str(), r.reason)
}

/// An unmanaged item's detail: its reason file, with the lines of its problem documents
/// marked in the item (a byte-for-byte copy of the original, so the lines match).
fn unmanaged_detail(item: &Path, entry: &FileEntry, d: &mut Detail) {
    let read = reason_file(item);
    let Some((reason_path, v)) = read
        .as_ref()
        .and_then(|(p, b)| Some((p, Reason::parse(b)?)))
    else {
        d.fates.extend(entry.note.clone());
        d.fates
            .push("no readable reason file beside it (fgd writes one for every item)".into());
        return;
    };
    d.fates.push(reason_line(&v));
    d.fates.push(format!(
        "from {} in batch {} at {}",
        v.source, v.batch, v.at
    ));
    d.marked.extend(v.line);
    for doc in &v.documents {
        if doc.line > 0 {
            d.marked.push(doc.line);
        }
        d.fates.push(format!(
            "doc {} {}:{} {}: [{}] {}",
            doc.document,
            doc.line,
            doc.column,
            doc.object.as_deref().unwrap_or("-"),
            doc.code.as_str(),
            doc.reason
        ));
    }
    d.marked.sort_unstable();
    d.marked.dedup();
    let rel = reason_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    d.fates.push(format!(
        "reason file: {rel} (adopt sends the item back to raw/)"
    ));
}
