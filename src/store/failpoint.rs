//! Fail points: `FGD_FAILPOINT=name` or `name@N` aborts the process (like kill -9: no
//! destructors, no flush) at the named point, on its N-th hit. Read once; a no-op when unset.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

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

static SPEC: OnceLock<Option<(String, u64)>> = OnceLock::new();
static HITS: AtomicU64 = AtomicU64::new(0);

pub fn failpoint(name: &str) {
    let spec = SPEC.get_or_init(|| {
        std::env::var("FGD_FAILPOINT")
            .ok()
            .and_then(|s| parse_failpoint(&s))
    });
    if let Some((want, nth)) = spec {
        if want == name && HITS.fetch_add(1, Ordering::SeqCst) + 1 == *nth {
            std::process::abort();
        }
    }
}

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
    }
}
