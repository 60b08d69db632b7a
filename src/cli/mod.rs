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

pub(crate) mod config;
pub(crate) mod demo;
mod docs;
mod log;
mod render;
pub(crate) mod tui;
mod watch;

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

use fgd::error::{Error, Exit};
use fgd::event::Summary;
use fgd::{fabric, ingest, ops};

use render::Renderer;

#[derive(Parser, Debug)]
#[command(
    name = "fgd",
    version,
    about = "Fabric GitOps directories for Hedgehog: init, validate, ingest, move, status"
)]
#[command(
    after_help = "Exit codes: 0 success; 1 done, but some input went (or would go) to unmanaged/; \
2 usage error; 3 refused (not a fabric, unsafe layout, locked by another fgd; a git refusal or conflict); 4 I/O failure."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create or repair a fabric directory's layout (idempotent; never overwrites your files).
    Init {
        fabric_dir: PathBuf,
        /// Fabric name recorded in the manifest (default: the folder's name).
        #[arg(long)]
        name: Option<String>,
        /// Newline-delimited JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Commit the new layout and push it, so Argo CD and Flux see it at once.
        #[arg(long)]
        push: bool,
        #[command(flatten)]
        git: GitArgs,
    },
    /// Say what ingest would do with each document, with file, line and column. Read-only.
    Validate {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Watch a fabric's raw/ and validate each file as it settles (read-only, like validate).
    Watch {
        fabric_dir: PathBuf,
        #[arg(long)]
        json: bool,
        /// How long a file written in place must hold still before it is classified.
        #[arg(long, default_value_t = 300)]
        quiet_ms: u64,
        /// Stop after this many files have been reported (for scripts and benchmarks).
        #[arg(long)]
        count: Option<usize>,
    },
    /// Measure the dashboard's first frame and frame times over a workspace (benchmark harness).
    #[command(hide = true)]
    BenchRender {
        workspace: PathBuf,
        #[arg(long, default_value_t = 300)]
        frames: usize,
    },
    /// Process raw/: Hedgehog objects to managed/, the rest to unmanaged/ with reasons.
    Ingest {
        fabric_dir: PathBuf,
        /// Print the exact plan and change nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
        /// A line for every document (default: a line per file, and one for each document that
        /// goes to unmanaged/).
        #[arg(short, long)]
        verbose: bool,
    },
    /// Stop managing a raw/ or managed/ file: move it to unmanaged/ with a reason.
    Move {
        fabric_dir: PathBuf,
        file: PathBuf,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        json: bool,
    },
    /// Send an unmanaged/ item back to raw/ for another try.
    Adopt {
        fabric_dir: PathBuf,
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Counts per tree, pending raw files, last batch, lock holder, unfinished journal.
    Status {
        fabric_dir: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Commit the fabric's changes and push them (never forced).
    Push {
        fabric_dir: PathBuf,
        #[command(flatten)]
        git: GitArgs,
        /// Commit message (default: a summary of the changes).
        #[arg(long)]
        message: Option<String>,
        /// Print the patch that would be committed; commit and push nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// Fetch, integrate (fast-forward or replay), ingest raw/, commit, push: one action.
    Sync {
        fabric_dir: PathBuf,
        #[command(flatten)]
        git: GitArgs,
        #[arg(long)]
        json: bool,
        /// A line for every document (default: a line per file, and one for each document that
        /// goes to unmanaged/).
        #[arg(short, long)]
        verbose: bool,
    },
    /// The live dashboard over every fabric of a workspace (default: the current folder).
    Dash {
        workspace: Option<PathBuf>,
        /// Start with every action that changes something unbound.
        #[arg(long)]
        read_only: bool,
        /// How long a file must hold still before it is classified, in milliseconds
        /// (default: the config's quiet_ms, else 300).
        #[arg(long)]
        quiet_ms: Option<u64>,
        /// The config file (default: $XDG_CONFIG_HOME/fgd/config.toml if it exists).
        #[arg(long, env = "FGD_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Create demo fabrics from the embedded assets in a temporary directory and ingest them.
    Demo {
        /// Where to create the demo workspace (default: a new temporary directory).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        /// Ingest headlessly instead of opening the dashboard.
        #[arg(long)]
        no_ui: bool,
        /// A line for every document (default: a line per file, and one for each document that
        /// goes to unmanaged/).
        #[arg(short, long)]
        verbose: bool,
        /// The config file for the dashboard's keys and theme (default: the XDG one if any).
        #[arg(long, env = "FGD_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Print a shell completion script: `fgd completions bash > /etc/bash_completion.d/fgd`.
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff): `fgd man > fgd.1 && man ./fgd.1`.
    Man,
}

#[derive(clap::Args, Debug, Clone, Default)]
struct GitArgs {
    /// Remote to push to (default: the branch's upstream remote, else origin).
    #[arg(long)]
    remote: Option<String>,
    /// The branch to push: must be the checked-out one (a check for scripts; fgd never
    /// commits or pushes beside the checked-out branch). Default: the checked-out branch.
    #[arg(long)]
    branch: Option<String>,
    /// Commit author "Name <email>" (default: git config user.name / user.email).
    #[arg(long, env = "FGD_GIT_AUTHOR")]
    author: Option<String>,
    /// SSH private key to try after the agent and before ~/.ssh/id_*.
    #[arg(long, env = "FGD_SSH_KEY")]
    ssh_key: Option<PathBuf>,
    /// An extra known_hosts file, read before ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts.
    #[arg(long, env = "FGD_KNOWN_HOSTS")]
    known_hosts: Option<PathBuf>,
}

impl GitArgs {
    fn options(self, message: Option<String>) -> fgd::git::GitOptions {
        let mut auth = fgd::git::auth::AuthConfig::from_env();
        if self.ssh_key.is_some() {
            auth.ssh_key = self.ssh_key;
        }
        fgd::git::GitOptions {
            remote: self.remote,
            branch: self.branch,
            message,
            author: self.author,
            auth: Some(auth),
            known_hosts: self.known_hosts,
        }
    }
}

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

/// The operator's config, or a usage error naming the file, line and what is wrong.
fn load_config(
    named: Option<&std::path::Path>,
    json: bool,
) -> Result<config::Config, (Error, bool)> {
    config::load(named).map_err(|e| (Error::Usage(format!("config {e}")), json))
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
        } => {
            let git = git.options(None);
            if push {
                // A bad or missing author is a usage error before anything is created.
                git.check_for_commit(&fabric_dir)
                    .map_err(|e| (e.into(), json))?;
            }
            let (fab, report) =
                fabric::init(&fabric_dir, name.as_deref()).map_err(|e| (e, json))?;
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
            }
            if push {
                let mut r = Renderer::new(json, "init");
                fgd::git::publish_init(&fab, &git, &mut r).map_err(|e| (e, json))?;
            }
            Ok(Exit::Success)
        }
        Command::Watch {
            fabric_dir,
            json,
            quiet_ms,
            count,
        } => watch::run(
            &fabric_dir,
            std::time::Duration::from_millis(quiet_ms),
            json,
            count,
        )
        .map_err(|e| (e, json)),
        Command::BenchRender { workspace, frames } => {
            let v = tui::bench::run(&workspace, frames)
                .map_err(|e| (Error::Usage(format!("bench-render: {e}")), true))?;
            outln!("{v}");
            Ok(Exit::Success)
        }
        Command::Validate { paths, json } => {
            let mut r = Renderer::new(json, "validate");
            let s = ops::validate(&paths, &Default::default(), &mut r).map_err(|e| (e, json))?;
            Ok(summary_exit(&s))
        }
        Command::Ingest {
            fabric_dir,
            dry_run,
            json,
            verbose,
        } => {
            let mut r =
                Renderer::new(json, if dry_run { "plan" } else { "ingest" }).per_file(verbose);
            let opts = ingest::Options {
                dry_run,
                ..Default::default()
            };
            let s = ingest::run(&fabric_dir, &opts, &mut r).map_err(|e| (e, json))?;
            Ok(summary_exit(&s))
        }
        Command::Move {
            fabric_dir,
            file,
            reason,
            json,
        } => {
            let mut r = Renderer::new(json, "move");
            let rep = ops::move_to_unmanaged(&fabric_dir, &file, &reason, &mut r)
                .map_err(|e| (e, json))?;
            r.moved(&rep);
            Ok(Exit::Success)
        }
        Command::Adopt {
            fabric_dir,
            file,
            json,
        } => {
            let mut r = Renderer::new(json, "adopt");
            let rep = ops::adopt(&fabric_dir, &file, &mut r).map_err(|e| (e, json))?;
            r.moved(&rep);
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
            let lines = fgd::git::pending_diff(&fab, usize::MAX).map_err(|e| (e.into(), json))?;
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
            let rep = fgd::git::push_fabric(&fabric_dir, &git.options(message), &mut r)
                .map_err(|e| (e, json))?;
            r.done(&serde_json::json!({"event": "push-finished", "report": rep}));
            Ok(Exit::Success)
        }
        Command::Sync {
            fabric_dir,
            git,
            json,
            verbose,
        } => {
            let mut r = Renderer::new(json, "sync").per_file(verbose);
            let rep = fgd::git::sync_fabric(&fabric_dir, &git.options(None), &mut r)
                .map_err(|e| (e, json))?;
            r.done(&serde_json::json!({"event": "sync-finished", "report": rep}));
            Ok(summary_exit(&rep.ingest))
        }
        Command::Demo {
            dir,
            json,
            no_ui,
            verbose,
            config,
        } => {
            let cfg = load_config(config.as_deref(), json)?;
            demo::run(dir, json, no_ui, verbose, &cfg).map_err(|e| (e, json))
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
