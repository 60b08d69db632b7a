//! `.hnp/.gitignore`'s rules, read on their own.

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::scan::read_regular;
use crate::fabric::{self, Fabric};

/// The rules of `.hnp/.gitignore` (fgd writes it: the lock, the journal, `local/`), read on
/// their own: fgd's records are committed whatever other ignore files say, minus these. Matched
/// by ripgrep's `ignore::gitignore`, which follows git's rules (`**`, escapes, negation,
/// folder-only and anchored patterns).
pub(crate) struct HnpIgnore {
    rules: Gitignore,
}

impl HnpIgnore {
    pub(crate) fn load(fabric: &Fabric) -> HnpIgnore {
        let bytes = read_regular(&fabric.path(fabric::HNP_GITIGNORE)).unwrap_or_default();
        HnpIgnore::parse(&String::from_utf8_lossy(&bytes))
    }

    pub(crate) fn parse(text: &str) -> HnpIgnore {
        // Paths are matched relative to .hnp/, so the root is only a name here.
        let mut b = GitignoreBuilder::new(fabric::HNP);
        for line in text.lines() {
            // A line git would not understand is skipped, as git skips it.
            let _ = b.add_line(None, line);
        }
        HnpIgnore {
            rules: b.build().unwrap_or_else(|_| Gitignore::empty()),
        }
    }

    /// `inner` is relative to the fabric directory and names a file; only paths under .hnp/
    /// can match (a folder of it matching ignores everything below, as in git).
    pub(crate) fn ignores(&self, inner: &str) -> bool {
        let Some(path) = inner.strip_prefix(".hnp/") else {
            return false;
        };
        self.rules
            .matched_path_or_any_parents(path, false)
            .is_ignore()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hnp_gitignore_keeps_machine_state_out_and_nothing_else() {
        let rules = HnpIgnore::parse(
            "# fgd: machine-local state, never committed\nlock\njournal.json\nlocal/\n*.bak\n/archive/old/\n!keep.bak\n**/scratch/**\n\\#hash\n",
        );
        for ignored in [
            ".hnp/lock",
            ".hnp/journal.json",
            ".hnp/local/last-push.json",
            ".hnp/local/x/y",
            ".hnp/notes.bak",
            ".hnp/archive/old/a.yaml.orig",
            ".hnp/archive/b2/scratch/x.yaml.orig",
            ".hnp/#hash",
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
