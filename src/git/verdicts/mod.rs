//! What validation said of each managed/ file, kept per clone by git blob id, so a sync does not
//! read, parse and check again the 10^5 managed files that did not change (issue 15, item 6).
//!
//! Both passes that need every managed object (the ingest's cross-object check, and the check
//! of the tip before a push) read managed/ through `managed_read`: a file known by its blob id
//! (from the git index's stat data, or from the tree checked) is taken from the cache instead
//! of analysed. Everything else is read and analysed as `ingest::read_inputs` does, and
//! remembered.
//!
//! An analysis is a pure function of the bytes, the format (by the file's extension) and the
//! validator (settings, CRDs, fabric config, limits), and of fgd's own code: the cache's key
//! names all of them (the running executable included), and any change starts an empty cache.
//! The file lives in the repository's git directory (`.git/fgd/`, as git-lfs keeps
//! `.git/lfs/`): never in the fabric, never committed. It is written whole, under a temporary
//! name renamed in, with a digest of its body in its first line: a file that is truncated,
//! corrupt, edited or from another key is ignored (an empty cache), never trusted and never an
//! error. The records a later run makes are appended after that body, each line with its own
//! check (a torn or edited one is passed over), until a quarter of the file is records no pass
//! uses any more: it is then written whole again.

mod file;
mod record;

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use git2::Oid;

use crate::validate::analyze::FileAnalysis;
use crate::validate::Validator;
use crate::yaml::Limits;
use file::{key, line_check, load, write, Entries, FILE};

/// Whether a pass writes what it learns back to the cache. A dry run (`fgd ingest --dry-run`,
/// `fgd push --dry-run`) changes nothing (issue 15): it reads the cache, never writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMode {
    ReadWrite,
    ReadOnly,
}

/// The cache of one clone under one key, as loaded, and what this run adds to it.
pub(crate) struct Verdicts {
    path: PathBuf,
    mode: CacheMode,
    /// Names everything an analysis depends on (see the module's comment).
    key: String,
    /// The loaded file, held open: an entry is read from it when used, so its body (tens of
    /// megabytes at 10^5 files) is never held in memory. A file renamed over it meanwhile
    /// does not change what this handle reads.
    file: Option<std::fs::File>,
    /// Each entry's record in that file by (blob, format): where it is.
    loaded: Entries,
    /// Every entry this process used or made.
    kept: Mutex<HashMap<(Oid, bool), Kept>>,
    /// The records this process made, written as they are made to an unnamed temporary file
    /// beside the cache, and its length: held in memory, a cold cache's (80 MB at 10^5 files)
    /// put a first sync's peak memory 60 MB over a sync without any cache.
    spill: Mutex<Option<(std::fs::File, u64)>>,
    /// The entries the current pass used or made: what `save` writes (entries of files
    /// managed/ no longer holds go).
    used: Mutex<std::collections::HashSet<(Oid, bool)>>,
    /// The entries the file holds now.
    written: Mutex<std::collections::HashSet<(Oid, bool)>>,
}

impl Verdicts {
    /// The cache of the repository whose git directory is `git_dir`, for analyses made with
    /// `v` under `limits`: empty when there is none, or when it cannot be trusted.
    pub(crate) fn open(
        git_dir: &Path,
        v: &Validator,
        limits: &Limits,
        mode: CacheMode,
    ) -> Verdicts {
        let mut c = Verdicts {
            path: git_dir.join(FILE),
            mode,
            key: key(v, limits),
            file: None,
            loaded: HashMap::new(),
            kept: Mutex::new(HashMap::new()),
            spill: Mutex::new(None),
            used: Default::default(),
            written: Default::default(),
        };
        if let Some((file, loaded)) = load(&c.path, &c.key) {
            c.file = Some(file);
            *lock(&c.written) = loaded.keys().copied().collect();
            c.loaded = loaded;
        }
        c
    }

    /// The record at `at` of the loaded file.
    fn record(&self, at: &std::ops::Range<u64>) -> Option<Vec<u8>> {
        read_at(self.file.as_ref()?, at)
    }

    /// Add `rec` to the records made by this process; where it is.
    fn spill(&self, rec: &[u8]) -> Option<std::ops::Range<u64>> {
        use std::os::unix::fs::FileExt;
        let mut spill = lock(&self.spill);
        if spill.is_none() {
            let dir = self.path.parent()?;
            std::fs::create_dir_all(dir).ok()?;
            *spill = Some((tempfile::tempfile_in(dir).ok()?, 0));
        }
        let (file, len) = spill.as_mut()?;
        file.write_all_at(rec, *len).ok()?;
        let at = *len..*len + rec.len() as u64;
        *len = at.end;
        Some(at)
    }

    /// The record at `at` of those made by this process.
    fn spilled(&self, at: &std::ops::Range<u64>) -> Option<Vec<u8>> {
        read_at(&lock(&self.spill).as_ref()?.0, at)
    }

    /// The analysis of the blob `oid` as the file `rel` (of format `json` or YAML), if kept.
    pub(super) fn get(&self, oid: Oid, json: bool, rel: &str) -> Option<FileAnalysis> {
        let at = self.loaded.get(&(oid, json))?;
        let a = record::decode(&self.record(at)?, rel)?;
        lock(&self.kept).insert((oid, json), Kept::Loaded(at.clone()));
        lock(&self.used).insert((oid, json));
        Some(a)
    }

    /// Keep `a`, the analysis of the blob `oid`.
    pub(super) fn put(&self, oid: Oid, json: bool, a: &FileAnalysis) {
        if self.mode == CacheMode::ReadOnly {
            return;
        }
        if let Some(at) = record::encode(a).and_then(|b| self.spill(&b)) {
            lock(&self.kept).insert((oid, json), Kept::New(at));
            lock(&self.used).insert((oid, json));
        }
    }

    /// Keep the entries this pass made: appended to the loaded file when it holds little else
    /// (at 10^5 files, a rewrite is tens of megabytes for one new record), else the file
    /// written afresh with the entries this pass used or made (those of files managed/ no
    /// longer holds go). Only a shortcut: failing to write costs the next run a full analysis,
    /// nothing more.
    pub(crate) fn save(&self) {
        if self.mode == CacheMode::ReadOnly {
            return;
        }
        let kept = lock(&self.kept);
        let used = lock(&self.used);
        let mut written = lock(&self.written);
        let unused = written.difference(&used).count();
        // A quarter of the file unused: rewritten, so it does not grow without end.
        let tidy = unused * 4 <= written.len();
        let mut new: Vec<_> = kept
            .iter()
            .filter(|(k, at)| matches!(at, Kept::New(_)) && used.contains(k))
            .collect();
        if new.is_empty() && tidy {
            return;
        }
        new.sort_by_key(|(k, _)| **k);
        if tidy && self.append(&new).is_ok() {
            written.extend(new.iter().map(|(k, _)| **k));
            return;
        }
        let mut entries: Vec<_> = kept.iter().filter(|(k, _)| used.contains(k)).collect();
        entries.sort_by_key(|(k, _)| **k);
        let ok = write(&self.path, &self.key, |out| {
            for ((oid, json), k) in entries {
                let rec = match k {
                    Kept::Loaded(at) => self.record(at),
                    Kept::New(at) => self.spilled(at),
                };
                let rec = rec.ok_or(std::io::ErrorKind::InvalidData)?;
                out(format!("{oid} {} ", if *json { 'j' } else { 'y' }).as_bytes())?;
                out(&rec)?;
                out(b"\n")?;
            }
            Ok(())
        });
        if ok.is_ok() {
            *written = used.clone();
        }
    }

    /// Append `new` to the file this process loaded, each line with its own check (`appended`),
    /// in one write. Never to another file renamed in since (made under another key, maybe).
    fn append(&self, new: &[(&(Oid, bool), &Kept)]) -> std::io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let loaded = self.file.as_ref().ok_or(std::io::ErrorKind::NotFound)?;
        let f = std::fs::OpenOptions::new().append(true).open(&self.path)?;
        let (a, b) = (f.metadata()?, loaded.metadata()?);
        if (a.dev(), a.ino()) != (b.dev(), b.ino()) {
            return Err(std::io::ErrorKind::NotFound.into());
        }
        let key = crate::digest::Digest::of(self.key.as_bytes()).to_string();
        let mut buf = Vec::new();
        for ((oid, json), k) in new {
            let Kept::New(at) = k else { continue };
            let rec = self.spilled(at).ok_or(std::io::ErrorKind::InvalidData)?;
            let mut line = format!("{oid} {} ", if *json { 'j' } else { 'y' }).into_bytes();
            line.extend_from_slice(&rec);
            let check = line_check(&key, &line);
            buf.extend_from_slice(&line);
            buf.extend_from_slice(format!(" {check}\n").as_bytes());
        }
        (&f).write_all(&buf)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A thread that panicked holding it leaves the map itself intact.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// An entry to write back: where its record is, in the loaded file or in those this process
/// made (`Verdicts::spill`).
enum Kept {
    Loaded(std::ops::Range<u64>),
    New(std::ops::Range<u64>),
}

/// The bytes at `at` of `file`.
fn read_at(file: &std::fs::File, at: &std::ops::Range<u64>) -> Option<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0; usize::try_from(at.end - at.start).ok()?];
    file.read_exact_at(&mut buf, at.start).ok()?;
    Some(buf)
}

#[cfg(test)]
pub(super) mod testing {
    use std::path::Path;

    use crate::discover;
    use crate::validate::analyze::FileAnalysis;

    /// What an analysis says, bytes aside (the cache keeps no bytes).
    pub(crate) fn said(a: &FileAnalysis) -> String {
        format!(
            "{} {} {} {:?} {:?}",
            a.rel, a.len, a.sha256, a.verdict, a.too_large
        )
    }

    pub(crate) fn real_corpus() -> Vec<(String, Vec<u8>)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/real");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| discover::format_of(&p.to_string_lossy()).is_some())
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&p).unwrap())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{real_corpus, said};
    use super::*;
    use crate::discover::Format;
    use crate::validate::analyze;

    #[test]
    fn a_read_only_cache_is_read_and_never_written() {
        let t = tempfile::tempdir().unwrap();
        let v = Validator::shared_default();
        let limits = Limits::default();
        let mut files = real_corpus().into_iter();
        let mut kept = |mode| {
            let (name, bytes) = files.next().unwrap();
            let oid = Oid::hash_object(git2::ObjectType::Blob, &bytes).unwrap();
            let a = analyze::analyze_with(&name, bytes, Format::Yaml, &limits, v);
            let c = Verdicts::open(t.path(), v, &limits, mode);
            c.put(oid, false, &a);
            c.save();
            (oid, name, a)
        };
        let file = t.path().join(FILE);
        kept(CacheMode::ReadOnly);
        assert!(!file.exists());
        let (oid, name, a) = kept(CacheMode::ReadWrite);
        let written = std::fs::read(&file).unwrap();
        // Read-only: what it holds is used; what is new is not kept, nor the file rewritten.
        let (new, ..) = kept(CacheMode::ReadOnly);
        let c = Verdicts::open(t.path(), v, &limits, CacheMode::ReadOnly);
        assert_eq!(said(&c.get(oid, false, &name).unwrap()), said(&a));
        assert!(c.get(new, false, &name).is_none());
        c.save();
        assert_eq!(std::fs::read(&file).unwrap(), written);
    }

    #[test]
    fn a_cache_file_is_trusted_only_whole_and_under_its_own_key() {
        let t = tempfile::tempdir().unwrap();
        let v = Validator::shared_default();
        let limits = Limits::default();
        let (name, bytes) = real_corpus().into_iter().next().unwrap();
        let oid = Oid::hash_object(git2::ObjectType::Blob, &bytes).unwrap();
        let a = analyze::analyze_with(&name, bytes, Format::Yaml, &limits, v);
        let c = Verdicts::open(t.path(), v, &limits, CacheMode::ReadWrite);
        assert!(c.get(oid, false, &name).is_none());
        c.put(oid, false, &a);
        c.save();
        let file = t.path().join(FILE);
        // The records made meanwhile went through an unnamed file: nothing else is left.
        let left: Vec<_> = std::fs::read_dir(file.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [std::ffi::OsString::from("verdicts")]);
        let good = std::fs::read(&file).unwrap();
        let c = Verdicts::open(t.path(), v, &limits, CacheMode::ReadWrite);
        assert_eq!(said(&c.get(oid, false, &name).unwrap()), said(&a));
        // Another format of the same blob is another analysis.
        assert!(c.get(oid, true, &name).is_none());
        // Truncated, edited (a byte of the body), or made under other settings: ignored.
        let nl = good.iter().position(|&b| b == b'\n').unwrap();
        let mut edited = good.clone();
        let last = edited.len() - 3;
        edited[last] ^= 1;
        for bad in [&good[..good.len() - 10], &edited[..], &good[..nl]] {
            std::fs::write(&file, bad).unwrap();
            assert!(Verdicts::open(t.path(), v, &limits, CacheMode::ReadWrite)
                .get(oid, false, &name)
                .is_none());
        }
        std::fs::write(&file, &good).unwrap();
        let other = Validator::new(crate::validate::Settings {
            whole_fabric: true,
            ..Default::default()
        })
        .unwrap();
        assert!(
            Verdicts::open(t.path(), &other, &limits, CacheMode::ReadWrite)
                .get(oid, false, &name)
                .is_none()
        );
        // A file that is not a cache at all.
        std::fs::write(&file, b"\x00\xffnot a cache").unwrap();
        assert!(Verdicts::open(t.path(), v, &limits, CacheMode::ReadWrite)
            .get(oid, false, &name)
            .is_none());
    }

    #[test]
    fn a_new_record_is_appended_and_an_appended_line_counts_only_whole() {
        let t = tempfile::tempdir().unwrap();
        let v = Validator::shared_default();
        let limits = Limits::default();
        let mut made = real_corpus().into_iter().take(3).map(|(name, bytes)| {
            let oid = Oid::hash_object(git2::ObjectType::Blob, &bytes).unwrap();
            let a = analyze::analyze_with(&name, bytes, Format::Yaml, &limits, v);
            (oid, name, a)
        });
        let ((o1, n1, a1), (o2, n2, a2), (o3, n3, a3)) = (
            made.next().unwrap(),
            made.next().unwrap(),
            made.next().unwrap(),
        );
        let open = || Verdicts::open(t.path(), v, &limits, CacheMode::ReadWrite);
        let file = t.path().join(FILE);
        let c = open();
        c.put(o1, false, &a1);
        c.save();
        let whole = std::fs::read(&file).unwrap();
        // A pass that uses what the file holds and makes one more: appended, not rewritten.
        let c = open();
        assert!(c.get(o1, false, &n1).is_some());
        c.put(o2, false, &a2);
        c.save();
        let after = std::fs::read(&file).unwrap();
        assert!(after.starts_with(&whole) && after.len() > whole.len());
        let c = open();
        assert_eq!(said(&c.get(o1, false, &n1).unwrap()), said(&a1));
        assert_eq!(said(&c.get(o2, false, &n2).unwrap()), said(&a2));
        // An appended line edited or torn is passed over; the body is still trusted.
        let mut edited = after.clone();
        let inside = after.len() - 30;
        edited[inside] ^= 1;
        for bad in [&edited[..], &after[..whole.len() + 20]] {
            std::fs::write(&file, bad).unwrap();
            let c = open();
            assert!(c.get(o1, false, &n1).is_some());
            assert!(c.get(o2, false, &n2).is_none());
        }
        // A pass that no longer uses most of what the file holds writes it afresh.
        std::fs::write(&file, &after).unwrap();
        let c = open();
        c.put(o3, false, &a3);
        c.save();
        assert!(!std::fs::read(&file).unwrap().starts_with(&whole[..100]));
        let c = open();
        assert_eq!(said(&c.get(o3, false, &n3).unwrap()), said(&a3));
        assert!(c.get(o1, false, &n1).is_none());
    }
}
