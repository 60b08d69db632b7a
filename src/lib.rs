//! fgd: the engine for Hedgehog fabric GitOps directories. No terminal code lives here: the
//! headless CLI and the dashboard are front ends that call these functions and render the
//! [`event::Event`] stream they emit.

pub mod classify;
pub mod digest;
pub mod discover;
pub mod error;
pub mod event;
pub mod fabric;
pub mod git;
pub mod ingest;
pub mod inspect;
pub mod journal;
pub mod oplog;
pub mod ops;
pub mod store;
pub mod validate;
pub mod watch;
pub mod yaml;

pub use error::{Error, Exit, Result};
