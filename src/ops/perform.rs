//! One entry point for every operation on a fabric: the commands (`fgd init`, `ingest`,
//! `move`, ...) and the dashboard's actions name an `Operation` and call `perform`, so both
//! run the same engine calls with the same checks and report through the same events.

use std::path::PathBuf;

use crate::error::Result;
use crate::event::{Sink, Summary};
use crate::fabric::{self, Fabric, InitReport};
use crate::git::{GitOptions, PushReport, SyncReport};
use crate::ingest;
use crate::yaml::Limits;

use super::MoveReport;

#[derive(Debug, Clone)]
pub enum Operation {
    /// Create or repair the layout.
    Init { dir: PathBuf, name: Option<String> },
    /// Commit a fabric's layout and push it (`fgd init --push`).
    Publish { dir: PathBuf, git: GitOptions },
    /// Judge files or folders as ingest would, writing nothing.
    Validate {
        paths: Vec<PathBuf>,
        limits: Limits,
        /// What validation checks (already layered: config, the fabric's file, flags).
        validation: crate::validate::Settings,
    },
    /// Process raw/ (or, dry, only say what that would do).
    Ingest {
        dir: PathBuf,
        options: ingest::Options,
    },
    /// Stop managing a raw/ or managed/ file: to unmanaged/ with the reason.
    Move {
        dir: PathBuf,
        file: PathBuf,
        reason: String,
    },
    /// Send an unmanaged/ item back to raw/.
    Adopt { dir: PathBuf, file: PathBuf },
    /// Commit the fabric's changes and push them.
    Push { dir: PathBuf, git: GitOptions },
    /// Fetch, integrate, ingest, commit, push.
    Sync { dir: PathBuf, git: GitOptions },
}

impl Operation {
    /// The command's name, as `fgd <name>` runs it.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::Init { .. } => "init",
            Operation::Publish { .. } => "init --push",
            Operation::Validate { .. } => "validate",
            Operation::Ingest { options, .. } if options.dry_run => "plan",
            Operation::Ingest { .. } => "ingest",
            Operation::Move { .. } => "move",
            Operation::Adopt { .. } => "adopt",
            Operation::Push { .. } => "push",
            Operation::Sync { .. } => "sync",
        }
    }
}

/// What an operation did.
#[derive(Debug)]
pub enum Outcome {
    Initialised { fabric: Fabric, report: InitReport },
    Published,
    Validated(Summary),
    Ingested(Summary),
    Moved(MoveReport),
    Pushed(Box<PushReport>),
    Synced(Box<SyncReport>),
}

/// Carry out `op`, reporting its progress through `sink`.
pub fn perform(op: Operation, sink: &mut dyn Sink) -> Result<Outcome> {
    Ok(match op {
        Operation::Init { dir, name } => {
            let (fabric, report) = fabric::init(&dir, name.as_deref())?;
            Outcome::Initialised { fabric, report }
        }
        Operation::Publish { dir, git } => {
            let fabric = Fabric::open(&dir)?;
            crate::git::publish_init(&fabric, &git, sink)?;
            Outcome::Published
        }
        Operation::Validate {
            paths,
            limits,
            validation,
        } => {
            let v = crate::validate::Validator::new(validation)
                .map_err(|e| crate::error::Error::Usage(e.to_string()))?;
            Outcome::Validated(super::validate(&paths, &limits, &v, sink)?)
        }
        Operation::Ingest { dir, mut options } => Outcome::Ingested(ingest::run(
            &dir,
            &{
                if options.managed.is_none() {
                    // A dry run reads the cache of verdicts, never writes it.
                    let mode = if options.dry_run {
                        crate::git::CacheMode::ReadOnly
                    } else {
                        crate::git::CacheMode::ReadWrite
                    };
                    options.managed = crate::git::managed_reader(&dir, mode);
                }
                options
            },
            &crate::git::Baseline::open_head,
            sink,
        )?),
        Operation::Move { dir, file, reason } => {
            Outcome::Moved(super::move_to_unmanaged(&dir, &file, &reason, sink)?)
        }
        Operation::Adopt { dir, file } => Outcome::Moved(super::adopt(&dir, &file, sink)?),
        Operation::Push { dir, git } => {
            Outcome::Pushed(Box::new(crate::git::push_fabric(&dir, &git, sink)?))
        }
        Operation::Sync { dir, git } => {
            Outcome::Synced(Box::new(crate::git::sync_fabric(&dir, &git, sink)?))
        }
    })
}
