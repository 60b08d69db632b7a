//! What fabrics look like now, for the front ends: the fabrics of a workspace, each file's
//! state and problems, the counts `fgd status` reports, and what a push would send. Read-only:
//! nothing here writes, takes a lock or opens anything but a regular file. Classification
//! comes from the same `ops::validate` the commands run, so the dashboard and `fgd validate`
//! never disagree.

mod check;
pub mod repo;
pub mod report;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::classify::ReasonCode;
use crate::discover::{self, Found};
use crate::error::Result;
use crate::event::{Collect, Event, Fate, FileOutcome, Skip};
use crate::fabric::{self, kustomization, Fabric};
use crate::store::{FabricLock, LockOwner};

pub use check::validate;
pub use report::{file_report, text_report, text_report_with, DocOutcome, DocReport, FileReport};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tree {
    Raw,
    Managed,
    Unmanaged,
}

impl Tree {
    pub const ALL: [Tree; 3] = [Tree::Raw, Tree::Managed, Tree::Unmanaged];

    pub fn dir(self) -> &'static str {
        match self {
            Tree::Raw => fabric::RAW,
            Tree::Managed => fabric::MANAGED,
            Tree::Unmanaged => fabric::UNMANAGED,
        }
    }
}

/// A file's state, which the front ends show by symbol and colour together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    Valid,
    Invalid,
    /// Not looked at: ignored by name, or not a regular file.
    Unknown,
    /// Still being written: looked at once it settles.
    Pending,
    Conflict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// What a problem is, by kind: the reason a document goes to unmanaged/, a managed file that
/// is not what ingest would write at its path, or a code read back from a reason file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Reason(ReasonCode),
    ManagedFile,
    /// The code an unmanaged item's reason file records.
    Recorded(String),
    /// A validation rule (`VPC-26`): the object's spec, alone or against the fabric.
    Spec(crate::validate::RuleId),
}

impl Rule {
    pub fn as_str(&self) -> &str {
        match self {
            Rule::Reason(c) => c.as_str(),
            Rule::ManagedFile => "managed-file",
            Rule::Recorded(c) => c,
            Rule::Spec(r) => r.0,
        }
    }

    pub fn is(&self, code: ReasonCode) -> bool {
        match self {
            Rule::Reason(c) => *c == code,
            Rule::Recorded(c) => c == code.as_str(),
            Rule::Spec(_) => code == ReasonCode::InvalidSpec,
            Rule::ManagedFile => false,
        }
    }
}

/// A place in a file, 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

/// One thing wrong with a file or a document of it, where it is and why. Today each unmanaged
/// document has one (its reason); spec validation adds more per document, with see-also places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    /// 1-based; 0 when the problem is of the whole file and has no place in it.
    pub line: usize,
    pub column: usize,
    pub rule: Rule,
    pub message: String,
    /// The document it is in (1-based), when the file has several.
    pub document: Option<usize>,
    pub object: Option<String>,
    pub see_also: Option<Place>,
    /// What the source at the place shows that the message does not say (a tab where YAML
    /// indents with spaces).
    pub hint: Option<String>,
}

impl Problem {
    pub fn error(line: usize, column: usize, rule: Rule, message: String) -> Problem {
        Problem {
            severity: Severity::Error,
            line,
            column,
            rule,
            message,
            document: None,
            object: None,
            see_also: None,
            hint: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub tree: Tree,
    /// Fabric-relative path.
    pub rel: String,
    pub state: FileState,
    /// In order of place.
    pub problems: Vec<Problem>,
    /// Why it was not looked at (ignored, not a regular file, still being written).
    pub note: Option<String>,
    /// Its name is not UTF-8: `rel` is a lossy form no file has, so nothing can open it.
    pub unnamable: bool,
}

impl FileEntry {
    fn new(tree: Tree, rel: String) -> FileEntry {
        FileEntry {
            tree,
            rel,
            state: FileState::Valid,
            problems: Vec::new(),
            note: None,
            unnamable: false,
        }
    }

    /// Whether it needs the operator: a problem, a conflict, or a file still being written.
    pub fn needs_attention(&self) -> bool {
        matches!(
            self.state,
            FileState::Invalid | FileState::Conflict | FileState::Pending
        )
    }
}

/// How many files each tree holds: the one count `fgd status` and the dashboard share.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TreeCounts {
    /// Input files waiting in raw/.
    pub raw_pending: usize,
    /// Files in raw/ that ingest will not read (ignored, not regular).
    pub raw_skipped: usize,
    pub managed: usize,
    pub unmanaged: usize,
}

/// Count the trees of a fabric.
pub fn tree_counts(fabric: &Fabric) -> Result<TreeCounts> {
    let (mut raw_pending, mut raw_skipped) = (0, 0);
    for f in discover::discover(&fabric.path(fabric::RAW), "raw/")? {
        match f {
            Found::File { .. } => raw_pending += 1,
            Found::Skipped { .. } => raw_skipped += 1,
        }
    }
    Ok(TreeCounts {
        raw_pending,
        raw_skipped,
        managed: kustomization::object_files(fabric)?.len(),
        unmanaged: unmanaged_items(fabric).len(),
    })
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub trees: TreeCounts,
    /// Files that need the operator (a problem, a conflict, still being written).
    pub attention: usize,
}

#[derive(Debug, Clone)]
pub struct FabricState {
    pub name: String,
    pub root: PathBuf,
    /// Raw, then managed, then unmanaged files, each tree sorted by path.
    pub files: Vec<FileEntry>,
    pub counts: Counts,
    pub git: Option<crate::git::GitState>,
    pub lock: Option<LockOwner>,
    /// Why the folder is not (yet) a fabric fgd can work on, if it is not: its raw/ is still
    /// validated, and `init` creates or repairs the layout.
    pub refused: Option<String>,
    /// The folder is not there (moved or removed since it was listed).
    pub gone: bool,
}

impl FabricState {
    /// A fabric named but not looked at yet.
    pub fn unscanned(root: &Path) -> FabricState {
        FabricState {
            name: root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            root: root.to_path_buf(),
            files: Vec::new(),
            counts: Counts::default(),
            git: None,
            lock: None,
            refused: None,
            gone: false,
        }
    }

    /// How many files a tree holds, as listed.
    pub fn count(&self, tree: Tree) -> usize {
        let c = &self.counts.trees;
        match tree {
            Tree::Raw => c.raw_pending + c.raw_skipped,
            Tree::Managed => c.managed,
            Tree::Unmanaged => c.unmanaged,
        }
    }
}

/// Fabrics of a workspace: the folder itself if it is one, else every folder up to three
/// levels down holding an fgd manifest (hidden folders are not looked into).
pub fn discover_fabrics(workspace: &Path) -> Vec<PathBuf> {
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

/// A file's bytes, only if it is a regular file: an lstat first, then an open that follows
/// no symlink and never waits (a FIFO swapped in between the two is caught by the fstat, not
/// read). Symlinks, FIFOs, sockets and devices are never opened: a FIFO would block the
/// reading thread until a writer came.
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let refuse = |t: std::fs::FileType| {
        std::io::Error::other(format!(
            "{}, not a regular file: never opened",
            discover::kind_of(&t)
        ))
    };
    let m = std::fs::symlink_metadata(path)?;
    if !m.is_file() {
        return Err(refuse(m.file_type()));
    }
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)?;
    let m = f.metadata()?;
    if !m.is_file() {
        return Err(refuse(m.file_type()));
    }
    let mut bytes = Vec::with_capacity(m.len() as usize);
    f.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// What the last scans found of the files they read (managed files, unmanaged items), by
/// path, with the size and modification time then: a file that has not changed since is not
/// read again.
#[derive(Debug, Default)]
pub struct ManagedChecks {
    managed: HashMap<String, (u64, SystemTime, Option<Problem>)>,
    /// Unmanaged items: whether the item's text now passes as it stands.
    fixed: HashMap<String, (u64, SystemTime, bool)>,
}

/// A file's size and modification time, to know it has not changed.
fn stamp(path: &Path) -> Option<(u64, SystemTime)> {
    std::fs::symlink_metadata(path)
        .and_then(|m| Ok((m.len(), m.modified()?)))
        .ok()
}

impl ManagedChecks {
    /// The problem of the managed file `rel` as it is on disk, if it has one.
    fn check(&mut self, root: &Path, rel: &str) -> Option<Problem> {
        let path = root.join(rel);
        let stamp = stamp(&path);
        if let (Some((len, at)), Some((l, t, problem))) = (stamp, self.managed.get(rel)) {
            if (len, at) == (*l, *t) {
                return problem.clone();
            }
        }
        let problem = match read_regular(&path) {
            Ok(b) => crate::validate::analyze::managed_problem(rel, b)
                .map(|(why, line)| Problem::error(line.unwrap_or(0), 1, Rule::ManagedFile, why)),
            Err(e) => Some(Problem::error(
                0,
                0,
                Rule::ManagedFile,
                format!("cannot read: {e}"),
            )),
        };
        if let Some((len, at)) = stamp {
            self.managed
                .insert(rel.to_string(), (len, at, problem.clone()));
        }
        problem
    }

    /// Whether the unmanaged item `rel` now reads as a document ingest would manage: its
    /// operator fixed it where it lies, and adopt would take it back.
    fn fixed(&mut self, root: &Path, rel: &str) -> bool {
        let path = root.join(rel);
        let stamp = stamp(&path);
        if let (Some((len, at)), Some((l, t, fixed))) = (stamp, self.fixed.get(rel)) {
            if (len, at) == (*l, *t) {
                return *fixed;
            }
        }
        let fixed = read_regular(&path).is_ok_and(|b| {
            let name = rel.strip_suffix(fabric::UNMANAGED_SUFFIX).unwrap_or(rel);
            let r = report::text_report_with(name, b, &validator_for(root));
            r.problems.is_empty()
                && r.documents
                    .iter()
                    .any(|d| matches!(d.outcome, report::DocOutcome::Managed { .. }))
        });
        if let Some((len, at)) = stamp {
            self.fixed.insert(rel.to_string(), (len, at, fixed));
        }
        fixed
    }
}

/// Said of an unmanaged item whose text now passes.
pub const FIXED: &str = "fixed where it lies: adopt sends it back to raw/ for the next ingest";

fn strip<'a>(root: &Path, shown: &'a str) -> &'a str {
    let prefix = format!("{}/", root.display());
    shown.strip_prefix(prefix.as_str()).unwrap_or(shown)
}

/// Scan one fabric: raw/ judged by validate, managed/ from the kustomization's view of the
/// disk, unmanaged/ items with their reasons.
pub fn scan(root: &Path) -> FabricState {
    scan_with(root, &mut ManagedChecks::default())
}

/// `scan`, reading only the managed files that changed since the scans `checks` remembers.
pub fn scan_with(root: &Path, checks: &mut ManagedChecks) -> FabricState {
    let mut state = FabricState::unscanned(root);
    if !root.is_dir() {
        state.gone = true;
        return state;
    }
    let fabric = match Fabric::open(root) {
        Ok(f) => Some(f),
        Err(e) => {
            state.refused = Some(e.to_string());
            None
        }
    };
    if let Some(m) = fabric.as_ref().and_then(|f| f.manifest().ok()) {
        state.name = m.fabric;
    }
    let raw = raw_files(root);
    state.counts.trees.raw_pending = raw.iter().filter(|f| f.state != FileState::Unknown).count();
    state.counts.trees.raw_skipped = raw.len() - state.counts.trees.raw_pending;
    state.files = raw;
    if let Some(fabric) = &fabric {
        state.files.extend(managed_files(fabric, checks));
        state.counts.trees.managed = state
            .files
            .iter()
            .filter(|f| f.tree == Tree::Managed)
            .count();
        let items = unmanaged_files(fabric, checks);
        state.counts.trees.unmanaged = items.len();
        state.files.extend(items);
        state.git = crate::git::git_state(fabric);
        state.lock = FabricLock::holder(&fabric.path(fabric::LOCK))
            .ok()
            .flatten();
    }
    state.counts.attention = state.files.iter().filter(|f| f.needs_attention()).count();
    state
}

/// The validator a fabric's own settings ask for (`.hnp/validation.toml`), kept per fabric
/// while that file is unchanged: building one reads the CRDs.
pub fn validator_for(root: &Path) -> std::sync::Arc<crate::validate::Validator> {
    use crate::validate::{settings::SettingsFile, Settings, Validator};
    use std::sync::{Arc, Mutex, OnceLock};
    type Cache = HashMap<PathBuf, (Option<SystemTime>, Arc<Validator>)>;
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    let stamp = std::fs::metadata(root.join(crate::validate::settings::FABRIC_SETTINGS))
        .and_then(|m| m.modified())
        .ok();
    let cache = CACHE.get_or_init(Default::default);
    if let Ok(c) = cache.lock() {
        if let Some((s, v)) = c.get(root) {
            if *s == stamp {
                return v.clone();
            }
        }
    }
    let v = Settings::layered(None, Some(root), &SettingsFile::default())
        .and_then(Validator::new)
        .map(Arc::new)
        .unwrap_or_else(|_| Arc::new(Validator::envelope()));
    if let Ok(mut c) = cache.lock() {
        c.insert(root.to_path_buf(), (stamp, v.clone()));
    }
    v
}

/// raw/'s files as validate judges them, with each document's problems (its reason, and
/// every validation problem of its object against the fabric).
fn raw_files(root: &Path) -> Vec<FileEntry> {
    let mut sink = Collect::default();
    // The fabric, not only its raw/: the objects raw/ brings are judged against what managed/
    // holds (an overlap with a managed VPC, a reference to a managed Connection).
    let _ = check::validate(
        &[root.to_path_buf()],
        &Default::default(),
        &validator_for(root),
        &mut sink,
    );
    // managed/'s own problems are its files' (`managed_files`); stray reports are not files.
    sink.0.retain(|e| {
        let file = match e {
            Event::DocumentClassified { file, .. }
            | Event::Problem { file, .. }
            | Event::FileFinished { file, .. }
            | Event::FileSkipped { file, .. } => file,
            _ => return true,
        };
        strip(root, file).starts_with(&format!("{}/", fabric::RAW))
    });
    let mut files: Vec<FileEntry> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut entry_for = |shown: &str, files: &mut Vec<FileEntry>| -> usize {
        let rel = strip(root, shown).to_string();
        *index.entry(rel.clone()).or_insert_with(|| {
            files.push(FileEntry::new(Tree::Raw, rel));
            files.len() - 1
        })
    };
    for e in sink.0 {
        match e {
            Event::DocumentClassified {
                file,
                fate: Fate::Unmanaged { code, reason, .. },
                pos,
                object,
                index: doc,
            } => {
                let i = entry_for(&file, &mut files);
                let f = &mut files[i];
                if f.state != FileState::Conflict {
                    f.state = if code == ReasonCode::Conflict {
                        FileState::Conflict
                    } else {
                        FileState::Invalid
                    };
                }
                // An invalid spec's problems come one by one, as `problem` events.
                if code == ReasonCode::InvalidSpec {
                    continue;
                }
                let (line, column) = pos.map_or((0, 0), |p| (p.line, p.column));
                let mut p = Problem::error(line, column, Rule::Reason(code), reason);
                p.document = Some(doc + 1);
                p.object = object;
                f.problems.push(p);
            }
            Event::DocumentClassified { file, .. } => {
                entry_for(&file, &mut files);
            }
            Event::Problem {
                file,
                object,
                problem,
            } => {
                let i = entry_for(&file, &mut files);
                files[i].problems.push(spec_problem(problem, object));
            }
            Event::FileFinished {
                file,
                outcome: FileOutcome::WholeUnmanaged { code, reason, .. },
            } => {
                let i = entry_for(&file, &mut files);
                let f = &mut files[i];
                if code == ReasonCode::Conflict {
                    f.state = FileState::Conflict;
                } else if f.state != FileState::Conflict {
                    f.state = FileState::Invalid;
                }
                // A file kept whole for its documents' problems says so through them; one
                // with none (nothing parses, nothing is there) has the file's own.
                if f.problems.is_empty() {
                    f.problems
                        .push(Problem::error(0, 0, Rule::Reason(code), reason));
                }
            }
            Event::FileSkipped { file, skip } => {
                let i = entry_for(&file, &mut files);
                let f = &mut files[i];
                let (state, why) = match skip {
                    Skip::Pending { detail } => (FileState::Pending, detail),
                    Skip::Ignored { detail } | Skip::NotRegular { detail } => {
                        (FileState::Unknown, detail)
                    }
                };
                f.unnamable = why == discover::NOT_UTF8;
                f.state = state;
                f.note = Some(why);
            }
            _ => {}
        }
    }
    for f in &mut files {
        f.problems.sort_by_key(|p| (p.line, p.column));
    }
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    files
}

/// A validation problem as the front ends list it.
pub fn spec_problem(p: crate::validate::Problem, object: Option<String>) -> Problem {
    Problem {
        severity: if p.is_error() {
            Severity::Error
        } else {
            Severity::Warning
        },
        line: p.pos.line,
        column: p.pos.column,
        rule: Rule::Spec(p.rule),
        message: p.summary(),
        document: None,
        object,
        see_also: p.see_also.map(|s| Place {
            file: s.file,
            line: s.pos.line,
            column: s.pos.column,
        }),
        hint: None,
    }
}

/// managed/'s object files. Only those that differ from HEAD are checked, what a push would
/// send, and each only when it changed since the last scan: reading 100,000 committed objects
/// every 30 s is not cheap. Committed ones were checked when written (ingest writes only what
/// it manages; the dashboard's editor refuses to save anything else) and show valid unread.
fn managed_files(fabric: &Fabric, checks: &mut ManagedChecks) -> Vec<FileEntry> {
    let changed = repo::changed_managed(fabric);
    let mut out = Vec::new();
    for rel in kustomization::object_files(fabric).unwrap_or_default() {
        let rel = format!("{}/{rel}", fabric::MANAGED);
        let problem = match &changed {
            Some(c) if c.contains(&rel) => checks.check(&fabric.root, &rel),
            _ => None,
        };
        let mut entry = FileEntry::new(Tree::Managed, rel);
        if let Some(p) = problem {
            entry.state = FileState::Invalid;
            entry.problems.push(p);
        }
        out.push(entry);
    }
    out
}

/// The items of unmanaged/, sorted by path.
fn unmanaged_items(fabric: &Fabric) -> Vec<PathBuf> {
    fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                collect(&e.path(), out);
            } else if t.is_file()
                && e.file_name()
                    .to_string_lossy()
                    .ends_with(fabric::UNMANAGED_SUFFIX)
            {
                out.push(e.path());
            }
        }
    }
    let mut items = Vec::new();
    collect(&fabric.path(fabric::UNMANAGED), &mut items);
    items.sort();
    items
}

fn unmanaged_files(fabric: &Fabric, checks: &mut ManagedChecks) -> Vec<FileEntry> {
    unmanaged_items(fabric)
        .into_iter()
        .map(|item| {
            let rel = strip(&fabric.root, &item.display().to_string()).to_string();
            let mut entry = FileEntry::new(Tree::Unmanaged, rel);
            match report::reason_record(&item) {
                Some(r) => entry.problems = r.problems,
                None => entry.problems.push(Problem::error(
                    0,
                    0,
                    Rule::Recorded("?".into()),
                    "no readable reason file beside it (fgd writes one for every item)".into(),
                )),
            }
            // A conflict is between definitions, and an operator's move a choice: neither is
            // undone by the item's own text.
            let standing = entry
                .problems
                .iter()
                .any(|p| p.rule.is(ReasonCode::Conflict) || p.rule.is(ReasonCode::Operator));
            entry.state = if entry
                .problems
                .iter()
                .any(|p| p.rule.is(ReasonCode::Conflict))
            {
                FileState::Conflict
            } else if !standing && checks.fixed(&fabric.root, &entry.rel) {
                entry.problems.clear();
                entry.note = Some(FIXED.into());
                FileState::Valid
            } else {
                FileState::Invalid
            };
            entry
        })
        .collect()
}
