//! Diagnostics logging: `FGD_LOG=<filter>` (`debug`, `info`, `fgd=trace,libgit2=debug`, ...)
//! writes fgd's `tracing` events, and libgit2's own traces, to a file: `FGD_LOG_FILE`, else
//! `$XDG_STATE_HOME/fgd/fgd.log`. Never to the terminal, which belongs to the command's output
//! and to the dashboard. Without `FGD_LOG` nothing is set up and nothing is logged.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// Whether logging is on, or why not although `FGD_LOG` asks for it.
pub enum Logging {
    Off,
    On,
    Failed(String),
}

/// Set up logging from the environment; call once, first thing.
pub fn init() -> Logging {
    let Some(filter) = std::env::var("FGD_LOG")
        .ok()
        .filter(|f| !f.trim().is_empty())
    else {
        return Logging::Off;
    };
    let targets = match Targets::from_str(&filter) {
        Ok(t) => t,
        Err(e) => return Logging::Failed(format!("FGD_LOG={filter:?}: {e}")),
    };
    let path = match std::env::var_os("FGD_LOG_FILE").filter(|p| !p.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => match super::config::default_state_path("fgd.log") {
            Some(p) => p,
            None => return Logging::Failed("no FGD_LOG_FILE, and no HOME for the default".into()),
        },
    };
    let file = match open(&path) {
        Ok(f) => f,
        Err(e) => return Logging::Failed(format!("log file {}: {e}", path.display())),
    };
    let max = targets.default_level().unwrap_or(LevelFilter::OFF);
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_thread_names(true);
    if tracing_subscriber::registry()
        .with(layer.with_filter(targets))
        .try_init()
        .is_err()
    {
        return Logging::Failed("a logger was already set up".into());
    }
    libgit2_traces(max);
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        args = ?std::env::args().collect::<Vec<_>>(),
        log = %path.display(),
        "fgd started"
    );
    Logging::On
}

/// The log file, appended to, never through a symlink.
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    fgd::store::no_follow().append(true).create(true).open(path)
}

/// Ask libgit2 for its traces up to `max` (none when logging is off), as events of the target
/// `libgit2`.
fn libgit2_traces(max: LevelFilter) {
    let Some(level) = max.into_level() else {
        return;
    };
    if let Err(e) = fgd::git::trace_to_tracing(level) {
        tracing::warn!(error = %e, "libgit2 traces unavailable");
    }
}
