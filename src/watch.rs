//! Watching a fabric's raw/: which files changed, and when each is settled enough to classify.
//! The dashboard and `fgd watch` share it, so both wait the same way.
//!
//! A file renamed into raw/ (an editor's atomic save, `mv` from elsewhere) is complete the
//! moment it appears and is due at once. A file written in place is due once no event has
//! touched it and its mtime has not moved for the quiet period. Overflow of the kernel queue
//! means "look at everything again".

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use notify::event::{EventKind, ModifyKind, RenameMode};
use notify::Watcher;

/// What the watcher saw, already reduced to what a consumer acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawChange {
    /// Something happened to this path; `complete` when it arrived whole by a rename.
    Path { path: PathBuf, complete: bool },
    /// Events were lost (queue overflow, watcher error): rescan everything.
    Rescan,
}

/// Reduce one notify result to the changes it means.
pub fn changes(res: notify::Result<notify::Event>) -> Vec<RawChange> {
    let Ok(ev) = res else {
        return vec![RawChange::Rescan];
    };
    if ev.need_rescan() {
        return vec![RawChange::Rescan];
    }
    match ev.kind {
        EventKind::Access(_) => Vec::new(),
        // The destination of a rename is the last path; the source (if any) vanished.
        EventKind::Modify(ModifyKind::Name(RenameMode::To)) => ev
            .paths
            .into_iter()
            .map(|path| RawChange::Path {
                path,
                complete: true,
            })
            .collect(),
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
            let n = ev.paths.len();
            ev.paths
                .into_iter()
                .enumerate()
                .map(|(i, path)| RawChange::Path {
                    path,
                    complete: i + 1 == n,
                })
                .collect()
        }
        _ => ev
            .paths
            .into_iter()
            .map(|path| RawChange::Path {
                path,
                complete: false,
            })
            .collect(),
    }
}

/// Start watching `raw` recursively; every change goes to `on_change`.
pub fn watch_raw(
    raw: &Path,
    on_change: impl Fn(RawChange) + Send + 'static,
) -> notify::Result<notify::RecommendedWatcher> {
    let mut w = notify::recommended_watcher(move |res| {
        for c in changes(res) {
            on_change(c);
        }
    })?;
    w.watch(raw, notify::RecursiveMode::Recursive)?;
    Ok(w)
}

/// Paths waiting to settle. Not thread-safe on purpose: one loop owns it.
#[derive(Debug)]
pub struct Settle {
    quiet: Duration,
    /// Path -> (when it falls due, whether it arrived complete).
    waiting: HashMap<PathBuf, (Instant, bool)>,
}

impl Settle {
    pub fn new(quiet: Duration) -> Settle {
        Settle {
            quiet,
            waiting: HashMap::new(),
        }
    }

    pub fn quiet(&self) -> Duration {
        self.quiet
    }

    /// A change to `path` at `now`. A complete arrival is due at once; anything else waits.
    pub fn touch(&mut self, path: PathBuf, complete: bool, now: Instant) {
        let due = if complete { now } else { now + self.quiet };
        // A later in-place write to a just-renamed file must wait again, so the latest wins.
        self.waiting.insert(path, (due, complete));
    }

    /// When the next path falls due, if any.
    pub fn next_due(&self) -> Option<Instant> {
        self.waiting.values().map(|(at, _)| *at).min()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Take the paths due at `now`. A path whose mtime moved within the quiet period (a writer
    /// that produces no events we saw, or a clock step) waits one more quiet period.
    pub fn take_due(&mut self, now: Instant) -> Vec<PathBuf> {
        let quiet = self.quiet;
        let mut due: Vec<PathBuf> = Vec::new();
        self.waiting.retain(|path, (at, complete)| {
            if *at > now {
                return true;
            }
            let recent = std::fs::symlink_metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age < quiet);
            // A rename keeps the old mtime, so only arrivals that were not complete re-check.
            if recent && !*complete && !quiet.is_zero() {
                *at = now + quiet;
                return true;
            }
            due.push(path.clone());
            false
        });
        due.sort();
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_renamed_in_file_is_due_at_once_and_an_in_place_write_after_the_quiet_period() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a.yaml"), d.path().join("b.yaml"));
        std::fs::write(&a, "x: 1\n").unwrap();
        let mut s = Settle::new(Duration::from_millis(300));
        let t0 = Instant::now();
        s.touch(a.clone(), true, t0);
        s.touch(b.clone(), false, t0);
        assert_eq!(s.take_due(t0), vec![a]);
        assert_eq!(s.next_due(), Some(t0 + Duration::from_millis(300)));
        assert!(s.take_due(t0 + Duration::from_millis(299)).is_empty());
        // b does not exist: nothing to wait for, it is due (and will be reported gone).
        assert_eq!(s.take_due(t0 + Duration::from_millis(300)), vec![b]);
        assert!(s.is_empty());
    }

    #[test]
    fn a_file_whose_mtime_is_still_moving_waits_another_quiet_period() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.yaml");
        std::fs::write(&a, "x: 1\n").unwrap();
        let mut s = Settle::new(Duration::from_secs(60));
        let t0 = Instant::now();
        s.touch(a.clone(), false, t0);
        // Pretend the quiet period passed while the file was just written (mtime is now).
        let later = t0 + Duration::from_secs(61);
        assert!(s.take_due(later).is_empty());
        assert_eq!(s.next_due(), Some(later + Duration::from_secs(60)));
    }

    #[test]
    fn the_latest_touch_wins() {
        let mut s = Settle::new(Duration::from_millis(100));
        let t0 = Instant::now();
        let p = PathBuf::from("/nonexistent/fgd/a.yaml");
        s.touch(p.clone(), true, t0);
        s.touch(p.clone(), false, t0);
        assert!(s.take_due(t0).is_empty());
        assert_eq!(s.take_due(t0 + Duration::from_millis(100)), vec![p]);
    }

    #[test]
    fn notify_events_reduce_to_changes() {
        use notify::event::{AccessKind, CreateKind};
        let ev = |kind, paths: &[&str]| {
            let mut e = notify::Event::new(kind);
            for p in paths {
                e = e.add_path(PathBuf::from(p));
            }
            Ok(e)
        };
        assert_eq!(
            changes(ev(
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                &["/r/.tmp", "/r/a.yaml"]
            )),
            vec![
                RawChange::Path {
                    path: "/r/.tmp".into(),
                    complete: false
                },
                RawChange::Path {
                    path: "/r/a.yaml".into(),
                    complete: true
                }
            ]
        );
        assert_eq!(
            changes(ev(EventKind::Create(CreateKind::File), &["/r/b.yaml"])),
            vec![RawChange::Path {
                path: "/r/b.yaml".into(),
                complete: false
            }]
        );
        assert!(changes(ev(EventKind::Access(AccessKind::Read), &["/r/b.yaml"])).is_empty());
        assert_eq!(
            changes(Err(notify::Error::generic("queue overflow"))),
            vec![RawChange::Rescan]
        );
    }
}
