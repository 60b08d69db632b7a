//! fgd's integration tests, one binary (as ripgrep's): one link, and the helpers in `common`
//! compiled once. Each module is one concern; most drive the real `fgd` binary against real
//! git servers, terminals and the shared corpus.

mod common;

mod cli_docs;
mod closed_stdout;
mod commands;
mod crash;
mod dashboard_tmux;
mod fabric_layout;
mod git_loop;
mod hostile;
mod kustomize_diff;
mod layers;
mod logging;
mod managed_safety;
mod portable;
mod progress_tmux;
mod properties;
mod real_corpus;
mod reports;
mod updates_deletes;
mod validate_peers;
