//! Fail points: `FGD_FAILPOINT=name` or `name@N` aborts the process (like kill -9: no
//! destructors, no flush) at the named point, on its N-th hit. Read once; a no-op when unset.
//! With `FGD_FAILPOINT_ACTION=stop` the process stops itself there instead (SIGSTOP) and goes
//! on when sent SIGCONT: a test can then do what an operator might do at that very instant
//! (save a file, delete the lock) and check what the run makes of it.

#[cfg(any(test, feature = "failpoints"))]
use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(any(test, feature = "failpoints"))]
use std::sync::OnceLock;

/// All temps written, before the one syncfs: nothing is durable yet.
pub const BATCH_AFTER_STAGE: &str = "batch.after-stage";
/// Half of the staged writes renamed into place, folders not yet synced.
pub const BATCH_MID_RENAME: &str = "batch.mid-rename";
/// Writes and renames done, staged removals not yet.
pub const BATCH_BEFORE_REMOVE: &str = "batch.before-remove";
/// Everything done and durable; `commit` has not returned yet.
pub const BATCH_AFTER_COMMIT: &str = "batch.after-commit";
/// Every fail point `Batch::commit` passes, in order, for crash tests to iterate.
pub const ALL_BATCH_FAILPOINTS: &[&str] = &[
    BATCH_AFTER_STAGE,
    BATCH_MID_RENAME,
    BATCH_BEFORE_REMOVE,
    BATCH_AFTER_COMMIT,
];

/// `name@N` -> (name, N); `name` -> (name, 1).
pub fn parse_failpoint(spec: &str) -> Option<(String, u64)> {
    let spec = spec.trim();
    if spec.is_empty() {
        return None;
    }
    match spec.rsplit_once('@') {
        Some((name, n)) => n
            .parse()
            .ok()
            .filter(|n| *n >= 1)
            .map(|n| (name.to_string(), n)),
        None => Some((spec.to_string(), 1)),
    }
}

#[cfg(any(test, feature = "failpoints"))]
static SPEC: OnceLock<Option<(String, u64)>> = OnceLock::new();
#[cfg(any(test, feature = "failpoints"))]
static HITS: AtomicU64 = AtomicU64::new(0);
#[cfg(any(test, feature = "failpoints"))]
static STOP: OnceLock<bool> = OnceLock::new();

/// Abort (no destructors, no flush, like kill -9) when `FGD_FAILPOINT` names this point and
/// this is its N-th hit; stop until SIGCONT instead with `FGD_FAILPOINT_ACTION=stop`. Only
/// hits of the named point are counted.
#[cfg(any(test, feature = "failpoints"))]
pub fn failpoint(name: &str) {
    let spec = SPEC.get_or_init(|| {
        std::env::var("FGD_FAILPOINT")
            .ok()
            .and_then(|s| parse_failpoint(&s))
    });
    if let Some((want, nth)) = spec {
        if want == name && HITS.fetch_add(1, Ordering::SeqCst) + 1 == *nth {
            tracing::warn!(point = name, hit = nth, "fail point");
            let stop = *STOP.get_or_init(|| {
                std::env::var("FGD_FAILPOINT_ACTION").is_ok_and(|a| a.trim() == "stop")
            });
            if stop {
                let me = rustix::process::getpid();
                let _ = rustix::process::kill_process(me, rustix::process::Signal::STOP);
            } else {
                std::process::abort();
            }
        }
    }
}

/// Without the `failpoints` feature: nothing, compiled away.
#[cfg(not(any(test, feature = "failpoints")))]
#[inline(always)]
pub fn failpoint(_name: &str) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_with_an_optional_hit_count() {
        assert_eq!(
            parse_failpoint("batch.mid-rename"),
            Some(("batch.mid-rename".into(), 1))
        );
        assert_eq!(
            parse_failpoint("batch.after-commit@2"),
            Some(("batch.after-commit".into(), 2))
        );
        assert_eq!(parse_failpoint("x@0"), None);
        assert_eq!(parse_failpoint("x@y"), None);
        assert_eq!(parse_failpoint(""), None);
        assert_eq!(parse_failpoint(" a@3 "), Some(("a".into(), 3)));
        // A name may itself contain '@'; only a numeric tail is a count.
        assert_eq!(parse_failpoint("a@b@2"), Some(("a@b".into(), 2)));
    }

    #[test]
    fn unset_or_other_fail_points_do_not_abort() {
        // The test runner does not set FGD_FAILPOINT, so every point is a no-op.
        for name in ALL_BATCH_FAILPOINTS {
            failpoint(name);
        }
    }
}
