//! Command-line front end. Thin: every command is one engine call plus rendering.

/// `println!` that never panics: when stdout is closed (`fgd ... | head`), the rest of the
/// output has nobody to read it and is dropped, as the event renderer does; the command still
/// finishes and exits with its own code.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod args;
mod bench_validate;
pub(crate) mod config;
pub(crate) mod demo;
mod docs;
mod log;
mod render;
mod report;
pub(crate) mod tui;
mod watch;

use std::path::PathBuf;

use clap::{CommandFactory, Parser};

use fgd::error::{Error, Exit};
use fgd::event::Summary;
use fgd::ops::perform::{perform, Operation, Outcome};
use fgd::{fabric, ingest, ops};

use args::{Cli, Command};
use render::Renderer;

/// Connect and read timeouts for git, from the environment (milliseconds).
fn git_timeouts() {
    let ms = |k: &str, d: i32| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let _ = fgd::git::set_timeouts(
        ms("FGD_GIT_CONNECT_TIMEOUT_MS", 10_000),
        ms("FGD_GIT_TIMEOUT_MS", 30_000),
    );
}

pub fn main() -> Exit {
    let logging = log::init();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Success
            };
        }
    };
    // Only where git may go over the network: setting them starts libgit2 and OpenSSL, which
    // load the system's CA certificates, a cost every ingest or validate would pay for nothing.
    let uses_remote = matches!(
        cli.command,
        Command::Push { .. }
            | Command::Sync { .. }
            | Command::Init { push: true, .. }
            | Command::Dash { .. }
            | Command::Demo { .. }
    );
    if uses_remote {
        git_timeouts();
        // The CAs git config or the environment adds (http.sslCAInfo, GIT_SSL_CAINFO), read
        // from the repository the command names: libgit2 keeps them process-wide.
        let dir = match &cli.command {
            Command::Push { fabric_dir, .. } => Some(fabric_dir.clone()),
            Command::Sync { fabric_dir, .. } => fabric_dir.clone(),
            Command::Init { fabric_dir, .. } => Some(fabric_dir.clone()),
            Command::Dash { workspace, .. } => workspace.clone(),
            _ => None,
        };
        let dir = dir.unwrap_or_else(|| PathBuf::from("."));
        let existing = dir.ancestors().find(|a| a.exists()).unwrap_or(&dir);
        if let Err(e) = fgd::git::transport::set_tls_trust(existing) {
            eprintln!("fgd: {e}");
            return Exit::Refused;
        }
    }
    // The dashboard owns the terminal: a log it cannot write is not said there.
    let dashboard = matches!(
        cli.command,
        Command::Dash { .. } | Command::Demo { no_ui: false, .. }
    );
    if let (log::Logging::Failed(why), false) = (&logging, dashboard) {
        eprintln!("fgd: not logging: {why}");
    }
    let exit = run(cli.command);
    tracing::info!(exit = ?exit.as_ref().map_err(|(e, _)| e.kind()), "fgd finished");
    match exit {
        Ok(code) => code,
        Err((e, json)) => {
            if json {
                outln!(
                    "{}",
                    serde_json::json!({"event": "failed", "exit": e.exit() as u8, "message": e.to_string()})
                );
            }
            eprintln!("fgd: {e}");
            e.exit()
        }
    }
}

/// A command's `--help`, as clap prints it.
#[cfg(test)]
pub(crate) fn help_of(command: &str) -> String {
    use clap::CommandFactory;
    let mut cli = Cli::command();
    cli.find_subcommand_mut(command)
        .map(|c| c.render_long_help().to_string())
        .unwrap_or_default()
}

/// The operator's config, or a usage error naming the file, line and what is wrong.
fn load_config(
    named: Option<&std::path::Path>,
    json: bool,
) -> Result<config::Config, (Error, bool)> {
    config::load(named).map_err(|e| (Error::Usage(format!("config {e}")), json))
}

/// validate: 1 also when a managed/ file has an error-level problem (what a push would
/// publish), not only when input would go to unmanaged/.
fn validate_exit(s: &Summary) -> Exit {
    if s.errors > 0 {
        Exit::Unmanaged
    } else {
        summary_exit(s)
    }
}

fn summary_exit(s: &Summary) -> Exit {
    if ops::went_unmanaged(s) {
        Exit::Unmanaged
    } else {
        Exit::Success
    }
}

fn run(cmd: Command) -> Result<Exit, (Error, bool)> {
    match cmd {
        Command::Init {
            fabric_dir,
            name,
            json,
            push,
            git,
            adopt_existing,
            adopt_folders,
        } => {
            let git = git.options(None);
            if push {
                // A bad or missing author is a usage error before anything is created.
                git.check_for_commit(&fabric_dir)
                    .map_err(|e| (e.into(), json))?;
            }
            let init = Operation::Init {
                dir: fabric_dir.clone(),
                name,
            };
            let Outcome::Initialised { report, .. } =
                perform(init, &mut fgd::event::Discard).map_err(|e| (e, json))?
            else {
                return Ok(Exit::Success);
            };
            if json {
                outln!(
                    "{}",
                    serde_json::json!({"event": "initialised", "report": report})
                );
            } else {
                outln!("fabric {:?} at {}", report.name, report.fabric);
                for c in &report.created {
                    outln!("  created  {c}");
                }
                for u in &report.updated {
                    println!("  updated  {u}");
                }
                for k in &report.kept {
                    outln!("  kept     {k}");
                }
                if !report.left.is_empty() && !adopt_existing {
                    outln!(
                        "  left at the fabric's root, where no ingest reads: {}",
                        report.left.join(", ")
                    );
                    outln!(
                        "  `fgd init {} --adopt-existing` moves them into raw/ (originals archived)",
                        fabric_dir.display()
                    );
                }
            }
            if adopt_existing {
                let adopted = fgd::ops::adopt_existing::adopt_existing(
                    &fabric_dir,
                    &adopt_folders,
                    &fgd::validate::settings::Layers {
                        config: config::validation_section()
                            .map_err(|e| (Error::Usage(format!("config {e}")), json))?,
                        flags: Default::default(),
                    },
                )
                .map_err(|e| (e, json))?;
                if json {
                    outln!(
                        "{}",
                        serde_json::json!({"event": "adopted", "report": adopted})
                    );
                } else {
                    for a in &adopted.adopted {
                        outln!(
                            "  adopted  {} -> {} (original kept as {})",
                            a.from,
                            a.to,
                            a.archive
                        );
                    }
                    for (path, why) in &adopted.left {
                        outln!("  left     {path} ({why})");
                    }
                    let n = &adopted.next_ingest;
                    outln!(
                        "next ingest: {} files, {} documents: {} managed ({} new, {} updated, {} unchanged), {} unmanaged (`fgd ingest {} --dry-run` shows each)",
                        n.files,
                        n.documents,
                        n.managed(),
                        n.created,
                        n.updated,
                        n.unchanged,
                        n.unmanaged,
                        fabric_dir.display()
                    );
                }
            }
            if push {
                let mut r = Renderer::new(json, "init");
                let publish = Operation::Publish {
                    dir: fabric_dir,
                    git,
                };
                perform(publish, &mut r).map_err(|e| (e, json))?;
            }
            Ok(Exit::Success)
        }
        Command::Watch {
            fabric_dir,
            json,
            quiet_ms,
            count,
            validation,
        } => {
            let v = validation
                .validator(Some(&fabric_dir))
                .map_err(|e| (e, json))?;
            watch::run(
                &fabric_dir,
                std::time::Duration::from_millis(quiet_ms),
                json,
                count,
                &v,
            )
            .map_err(|e| (e, json))
        }
        Command::BenchRender {
            workspace,
            frames,
            ingest,
        } => {
            let v = if ingest {
                tui::bench::during_ingest(&workspace)
            } else {
                tui::bench::run(&workspace, frames)
            }
            .map_err(|e| (Error::Usage(format!("bench-render: {e}")), true))?;
            outln!("{v}");
            Ok(Exit::Success)
        }
        Command::Validate {
            paths,
            json,
            output,
            validation,
        } => {
            let output = output.unwrap_or(if json {
                report::Output::Json
            } else {
                report::Output::Text
            });
            let json = output != report::Output::Text;
            // The fabric's own settings apply when one fabric is validated.
            let fabric = match &paths[..] {
                [one] => Some(one.as_path()),
                _ => None,
            };
            let validation = validation.settings(fabric).map_err(|e| (e, json))?;
            let op = Operation::Validate {
                paths,
                limits: Default::default(),
                validation,
            };
            let s = match output {
                report::Output::Text | report::Output::Json => {
                    let mut r = Renderer::new(json, "validate");
                    render::threaded::run(&mut r, |sink| perform(op, sink))
                        .map_err(|e| (e, json))?
                }
                report::Output::Junit | report::Output::Sarif => {
                    let mut events = fgd::event::Collect::default();
                    let s = perform(op, &mut events).map_err(|e| (e, json))?;
                    let doc = match output {
                        report::Output::Junit => report::junit(&events.0),
                        _ => report::sarif(&events.0),
                    };
                    outln!("{doc}");
                    s
                }
            };
            match s {
                Outcome::Validated(s) => Ok(validate_exit(&s)),
                _ => Ok(Exit::Success),
            }
        }
        Command::BenchValidate { fabric_dir, reps } => {
            let v = bench_validate::run(&fabric_dir, reps.max(1))
                .map_err(|e| (Error::Usage(format!("bench-validate: {e}")), true))?;
            outln!("{v}");
            Ok(Exit::Success)
        }
        Command::Rules { json } => {
            report::rules(json);
            Ok(Exit::Success)
        }
        Command::Ingest {
            fabric_dir,
            dry_run,
            json,
            verbose,
            validation,
        } => {
            let mut r =
                Renderer::new(json, if dry_run { "plan" } else { "ingest" }).per_file(verbose);
            let op = Operation::Ingest {
                dir: fabric_dir.clone(),
                options: ingest::Options {
                    dry_run,
                    validation: validation.layers().map_err(|e| (e, json))?,
                    ..Default::default()
                },
            };
            match render::threaded::run(&mut r, |sink| perform(op, sink)).map_err(|e| (e, json))? {
                Outcome::Ingested(s) => Ok(summary_exit(&s)),
                _ => Ok(Exit::Success),
            }
        }
        Command::Move {
            fabric_dir,
            file,
            reason,
            json,
        } => {
            let mut r = Renderer::new(json, "move");
            let op = Operation::Move {
                dir: fabric_dir,
                file,
                reason,
            };
            if let Outcome::Moved(rep) = perform(op, &mut r).map_err(|e| (e, json))? {
                r.moved(&rep);
            }
            Ok(Exit::Success)
        }
        Command::Adopt {
            fabric_dir,
            file,
            json,
        } => {
            let mut r = Renderer::new(json, "adopt");
            let op = Operation::Adopt {
                dir: fabric_dir,
                file,
            };
            if let Outcome::Moved(rep) = perform(op, &mut r).map_err(|e| (e, json))? {
                r.moved(&rep);
            }
            Ok(Exit::Success)
        }
        Command::Status { fabric_dir, json } => {
            let st = ops::status::status(&fabric_dir).map_err(|e| (e, json))?;
            let git = fgd::fabric::Fabric::open(&fabric_dir)
                .ok()
                .and_then(|f| fgd::git::git_state(&f));
            render::status(&st, git.as_ref(), json);
            Ok(Exit::Success)
        }
        Command::Push {
            fabric_dir,
            git: _,
            message: _,
            dry_run: true,
            json,
        } => {
            let fab = fabric::Fabric::open(&fabric_dir).map_err(|e| (e, json))?;
            let layers = fgd::validate::settings::Layers {
                config: config::validation_section()
                    .map_err(|e| (Error::Usage(format!("config {e}")), json))?,
                flags: Default::default(),
            };
            let lines =
                fgd::git::pending_diff(&fab, usize::MAX, &layers).map_err(|e| (e.into(), json))?;
            if json {
                outln!(
                    "{}",
                    serde_json::json!({"event": "push-plan", "diff": lines})
                );
            } else {
                use std::io::Write as _;
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                for l in lines {
                    if writeln!(out, "{l}").is_err() {
                        break; // the reader has gone
                    }
                }
                let _ = out.flush();
            }
            Ok(Exit::Success)
        }
        Command::Push {
            fabric_dir,
            git,
            message,
            dry_run: false,
            json,
        } => {
            let mut r = Renderer::new(json, "push");
            let op = Operation::Push {
                dir: fabric_dir,
                git: git.options(message),
            };
            if let Outcome::Pushed(rep) = perform(op, &mut r).map_err(|e| (e, json))? {
                r.done(&serde_json::json!({"event": "push-finished", "report": rep}));
            }
            Ok(Exit::Success)
        }
        Command::Sync {
            fabric_dir,
            all: true,
            git,
            json,
            verbose,
            validation,
        } => {
            let workspace = fabric_dir.unwrap_or_else(|| PathBuf::from("."));
            let fabrics = tui::fabrics_of(&workspace, &[]).map_err(|e| (e, json))?;
            let mut r = Renderer::new(json, "sync").per_file(verbose);
            let mut opts = git.options(None);
            opts.validation = validation.layers().map_err(|e| (e, json))?;
            let rep = fgd::git::sync_all(&fabrics, &opts, &mut r).map_err(|e| (e, json))?;
            r.done(&serde_json::json!({"event": "sync-finished", "report": rep}));
            let unmanaged = rep
                .fabrics
                .iter()
                .any(|f| summary_exit(&f.ingest) != Exit::Success);
            Ok(if unmanaged {
                Exit::Unmanaged
            } else {
                Exit::Success
            })
        }
        Command::Sync {
            fabric_dir,
            all: false,
            git,
            json,
            verbose,
            validation,
        } => {
            let fabric_dir = fabric_dir.unwrap_or_else(|| PathBuf::from("."));
            let mut r = Renderer::new(json, "sync").per_file(verbose);
            let mut git = git.options(None);
            git.validation = validation.layers().map_err(|e| (e, json))?;
            let op = Operation::Sync {
                dir: fabric_dir,
                git,
            };
            match perform(op, &mut r).map_err(|e| (e, json))? {
                Outcome::Synced(rep) => {
                    r.done(&serde_json::json!({"event": "sync-finished", "report": rep}));
                    Ok(summary_exit(&rep.ingest))
                }
                _ => Ok(Exit::Success),
            }
        }
        Command::Resolve {
            fabric_dir,
            ours,
            theirs: _,
            json,
        } => {
            let side = if ours {
                fgd::git::Side::Ours
            } else {
                fgd::git::Side::Theirs
            };
            let mut r = Renderer::new(json, "resolve");
            let rep = fgd::git::resolve_fabric(&fabric_dir, side, &mut r).map_err(|e| (e, json))?;
            r.done(&serde_json::json!({"event": "resolve-finished", "report": rep}));
            if !json {
                let keep = if ours { "ours" } else { "theirs" };
                for c in &rep.conflicts {
                    outln!(
                        "resolve: {} keeps {keep} ({c})",
                        c.object.as_deref().unwrap_or(&c.path)
                    );
                }
                outln!(
                    "resolve: the next fgd sync {} applies it",
                    fabric_dir.display()
                );
            }
            Ok(Exit::Success)
        }
        Command::Demo {
            dir,
            json,
            no_ui,
            tour,
            verbose,
            config,
        } => {
            let cfg = load_config(config.as_deref(), json)?;
            let show = demo::Show {
                json,
                no_ui,
                verbose,
                tour,
            };
            demo::run(dir, show, &cfg).map_err(|e| (e, json))
        }
        Command::Dash {
            workspace,
            read_only,
            quiet_ms,
            config,
        } => {
            let cfg = load_config(config.as_deref(), false)?;
            let ws = workspace.unwrap_or_else(|| PathBuf::from("."));
            let ws = std::fs::canonicalize(&ws)
                .map_err(|e| (fgd::error::io("open workspace", &ws, e), false))?;
            let mut opts = tui::Options::from_config(&cfg);
            opts.read_only |= read_only;
            if let Some(ms) = quiet_ms {
                opts.quiet = std::time::Duration::from_millis(ms);
            }
            if opts.log_file.is_none() {
                opts.log_file = config::default_log_path();
            }
            tui::run(&ws, opts).map_err(|e| (e, false))
        }
        Command::Completions { shell } => Ok(docs::completions(shell, Cli::command())),
        Command::Man => Ok(docs::man(Cli::command())),
    }
}
