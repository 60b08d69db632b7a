//! `.hnp/.gitignore`'s rules, read on their own.

use super::scan::read_regular;
use crate::fabric::{self, Fabric};

/// The rules of `.hnp/.gitignore` (fgd writes it: the lock, the journal, `local/`), read on
/// their own: fgd's records are committed whatever other ignore files say, minus these.
pub(crate) struct HnpIgnore {
    /// (pattern, negated, directory only, anchored to .hnp/)
    rules: Vec<(std::ffi::CString, bool, bool, bool)>,
}

impl HnpIgnore {
    pub(crate) fn load(fabric: &Fabric) -> HnpIgnore {
        let bytes = read_regular(&fabric.path(fabric::HNP_GITIGNORE)).unwrap_or_default();
        HnpIgnore::parse(&String::from_utf8_lossy(&bytes))
    }

    pub(crate) fn parse(text: &str) -> HnpIgnore {
        let rules = text
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let (negated, l) = match l.strip_prefix('!') {
                    Some(rest) => (true, rest),
                    None => (false, l),
                };
                let (dir_only, l) = match l.strip_suffix('/') {
                    Some(rest) => (true, rest),
                    None => (false, l),
                };
                let anchored = l.contains('/');
                let l = l.trim_start_matches('/');
                let pattern = std::ffi::CString::new(l).ok()?;
                Some((pattern, negated, dir_only, anchored))
            })
            .collect();
        HnpIgnore { rules }
    }

    /// `inner` is relative to the fabric directory; only paths under .hnp/ can match.
    pub(crate) fn ignores(&self, inner: &str) -> bool {
        let Some(path) = inner.strip_prefix(".hnp/") else {
            return false;
        };
        let fnmatch = |pattern: &std::ffi::CString, text: &str| {
            let Ok(text) = std::ffi::CString::new(text) else {
                return false;
            };
            // SAFETY: both are valid NUL-terminated strings that outlive the call.
            unsafe { libc::fnmatch(pattern.as_ptr(), text.as_ptr(), libc::FNM_PATHNAME) == 0 }
        };
        let parts: Vec<&str> = path.split('/').collect();
        let mut ignored = false;
        for (pattern, negated, dir_only, anchored) in &self.rules {
            // Each leading part of the path (its folders, then the file itself).
            let hit = (1..=parts.len()).any(|n| {
                let is_dir = n < parts.len();
                if *dir_only && !is_dir {
                    return false;
                }
                if *anchored {
                    fnmatch(pattern, &parts[..n].join("/"))
                } else {
                    fnmatch(pattern, parts[n - 1])
                }
            });
            if hit {
                ignored = !negated;
            }
        }
        ignored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hnp_gitignore_keeps_machine_state_out_and_nothing_else() {
        let rules = HnpIgnore::parse(
            "# fgd: machine-local state, never committed\nlock\njournal.json\nlocal/\n*.bak\n/archive/old/\n!keep.bak\n",
        );
        for ignored in [
            ".hnp/lock",
            ".hnp/journal.json",
            ".hnp/local/last-push.json",
            ".hnp/local/x/y",
            ".hnp/notes.bak",
            ".hnp/archive/old/a.yaml.orig",
        ] {
            assert!(rules.ignores(ignored), "{ignored}");
        }
        for kept in [
            ".hnp/log.jsonl",
            ".hnp/manifest.json",
            ".hnp/archive/b1/a.yaml.orig",
            ".hnp/archive/b1/old/a.yaml.orig",
            ".hnp/keep.bak",
            ".hnp/local",
            "managed/lock",
            "raw/local/a.yaml",
        ] {
            assert!(!rules.ignores(kept), "{kept}");
        }
    }
}
