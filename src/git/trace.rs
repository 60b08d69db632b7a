//! libgit2's own traces, as `tracing` events of the target `libgit2`, for the diagnostics log.

use tracing::Level;

/// Ask libgit2 for its traces up to `max`, each as an event of the target `libgit2`. This
/// starts libgit2 and OpenSSL, a cost only a logging run should pay.
pub fn trace_to_tracing(max: Level) -> Result<(), super::GitError> {
    use git2::TraceLevel;
    let level = match max {
        Level::ERROR => TraceLevel::Error,
        Level::WARN => TraceLevel::Warn,
        Level::INFO => TraceLevel::Info,
        Level::DEBUG => TraceLevel::Debug,
        Level::TRACE => TraceLevel::Trace,
    };
    git2::trace_set(level, libgit2_event).map_err(super::error::local("trace_set"))?;
    tracing::debug!(?level, "libgit2 traces on");
    Ok(())
}

fn libgit2_event(level: git2::TraceLevel, message: &[u8]) {
    use git2::TraceLevel;
    let message = String::from_utf8_lossy(message);
    match level {
        TraceLevel::None => {}
        TraceLevel::Fatal | TraceLevel::Error => tracing::error!(target: "libgit2", "{message}"),
        TraceLevel::Warn => tracing::warn!(target: "libgit2", "{message}"),
        TraceLevel::Info => tracing::info!(target: "libgit2", "{message}"),
        TraceLevel::Debug => tracing::debug!(target: "libgit2", "{message}"),
        TraceLevel::Trace => tracing::trace!(target: "libgit2", "{message}"),
    }
}
