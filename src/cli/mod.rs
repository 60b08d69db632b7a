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

use clap::{CommandFactory, Parser, Subcommand};

use fgd::error::{Error, Exit};
use fgd::event::Summary;
use fgd::ops::perform::{perform, Operation, Outcome};
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
2 usage error; 3 refused (not a fabric, unsafe layout, locked by another fgd; a git refusal or conflict); 4 I/O failure; 5 the git remote kept moving (run again)."
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
        /// Move the YAML found at the fabric's root into raw/ (originals archived), for the
        /// next ingest to take.
        #[arg(long)]
        adopt_existing: bool,
        /// With --adopt-existing: a folder of the fabric whose YAML moves into raw/ too
        /// (repeatable).
        #[arg(long = "adopt-folder", value_name = "DIR", requires = "adopt_existing")]
        adopt_folders: Vec<PathBuf>,
    },
    /// Say what ingest would do with each document, and every problem the cluster would
    /// refuse (schema and admission rules), with file, line and column. Read-only.
    Validate {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Newline-delimited JSON (the same as `--output json`).
        #[arg(long)]
        json: bool,
        /// text (default), json (NDJSON events), junit or sarif (for CI and code scanning).
        #[arg(long, value_enum)]
        output: Option<report::Output>,
        #[command(flatten)]
        validation: ValidationArgs,
    },
    /// Time the editor's per-document validation and the cross-object re-check after one
    /// file changes (benchmark harness).
    #[command(hide = true)]
    BenchValidate {
        fabric_dir: PathBuf,
        #[arg(long, default_value_t = 11)]
        reps: usize,
    },
    /// List the admission rules fgd checks, by id, with what each needs.
    Rules {
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
        #[command(flatten)]
        validation: ValidationArgs,
    },
    /// Measure the dashboard's first frame and frame times over a workspace (benchmark harness).
    #[command(hide = true)]
    BenchRender {
        workspace: PathBuf,
        #[arg(long, default_value_t = 300)]
        frames: usize,
        /// Ingest the biggest fabric (for real) and time keys through the event loop meanwhile.
        #[arg(long)]
        ingest: bool,
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
        #[command(flatten)]
        validation: ValidationArgs,
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
    /// With --all, every fabric of the workspace FABRIC_DIR names (default: the current
    /// folder), sharing one working copy: one fetch, one commit per fabric, one push.
    Sync {
        #[arg(required_unless_present = "all")]
        fabric_dir: Option<PathBuf>,
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        git: GitArgs,
        #[arg(long)]
        json: bool,
        /// A line for every document (default: a line per file, and one for each document that
        /// goes to unmanaged/).
        #[arg(short, long)]
        verbose: bool,
        #[command(flatten)]
        validation: ValidationArgs,
    },
    /// Settle the conflict the last push or sync stopped on, then run sync again: --ours keeps
    /// this fabric's version, --theirs the remote's (raw/ files that would have replaced it go
    /// to unmanaged/ with the reason).
    Resolve {
        fabric_dir: PathBuf,
        #[arg(long, conflicts_with = "theirs", required_unless_present = "theirs")]
        ours: bool,
        #[arg(long)]
        theirs: bool,
        #[arg(long)]
        json: bool,
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
    /// Copy three demo fabrics into a new private temporary folder and open the dashboard on
    /// them (nothing is ingested until you press i).
    #[command(
        long_about = "Copy three demo fabrics (dc1-leaf-spine, healthy; edge-externals, healthy; \
lab-broken, the usual mistakes) from fgd's embedded assets into a new private temporary folder \
(or --dir), as a git working copy whose layout is committed and pushed to a local bare remote \
beside it, and open the dashboard on them. Nothing is ingested until you press i; nothing \
outside that folder is written, and the folder is kept when you quit. --tour adds a guided \
walk: find a problem, fix it in the editor, ingest, read the plan, push, see what the remote \
holds. --no-ui (or --json, or no terminal) ingests each fabric headless instead, printing \
what happened and each fabric's status."
    )]
    Demo {
        /// Where to create the demo workspace (default: a new private temporary folder).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        /// Ingest each fabric headless and print the outcome instead of opening the dashboard.
        #[arg(long)]
        no_ui: bool,
        /// Open the dashboard with the guided tour.
        #[arg(long, conflicts_with = "no_ui")]
        tour: bool,
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

/// What validation checks; the fabric's `.hnp/validation.toml` and the config's
/// `[validation]` section set the same, and these flags win.
#[derive(clap::Args, Debug, Clone, Default)]
struct ValidationArgs {
    /// envelope (apiVersion, kind, metadata), schema (adds the CRD schema) or all (adds the
    /// fabric's admission rules, per object and across the fabric; the default).
    #[arg(long, value_enum)]
    rules: Option<RulesArg>,
    /// Do not run this rule (an id from `fgd rules`, e.g. VPCA-07); repeatable.
    #[arg(long = "skip-rule", value_name = "ID")]
    skip_rule: Vec<String>,
    /// The directory holds the whole fabric: a reference to an object it does not define is
    /// an error, not a warning that it must already exist in the cluster.
    #[arg(long)]
    whole_fabric: bool,
    /// The fabric's fab.yaml, for the rules that need the fabric config (default: the
    /// installer's defaults, and such problems say "assumed").
    #[arg(long, value_name = "FILE")]
    fab: Option<PathBuf>,
    /// Validate against the CRDs in DIR (another fabric release) instead of fgd's own.
    #[arg(long, value_name = "DIR")]
    crds: Option<PathBuf>,
    /// Unknown fields are warnings instead of errors.
    #[arg(long)]
    unknown_fields_warn: bool,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
enum RulesArg {
    Envelope,
    Schema,
    All,
}

impl ValidationArgs {
    /// These flags as a settings layer.
    fn layer(&self) -> fgd::validate::settings::SettingsFile {
        use fgd::validate::settings::{SettingsFile, UnknownFields};
        use fgd::validate::Level;
        SettingsFile {
            rules: self.rules.map(|r| match r {
                RulesArg::Envelope => Level::Envelope,
                RulesArg::Schema => Level::Schema,
                RulesArg::All => Level::All,
            }),
            skip_rules: self.skip_rule.clone(),
            unknown_fields: self.unknown_fields_warn.then_some(UnknownFields::Warning),
            whole_fabric: self.whole_fabric.then_some(true),
            crds: self.crds.clone(),
            fab: self.fab.clone(),
        }
    }

    /// The config's section and these flags, for a command on one fabric (the engine lays the
    /// fabric's own file between them).
    fn layers(&self) -> Result<fgd::validate::settings::Layers, Error> {
        Ok(fgd::validate::settings::Layers {
            config: config::validation_section()
                .map_err(|e| Error::Usage(format!("config {e}")))?,
            flags: self.layer(),
        })
    }

    /// The settings of a run over `fabric` (its own file applies when it is a fabric).
    fn settings(&self, fabric: Option<&std::path::Path>) -> Result<fgd::validate::Settings, Error> {
        let fabric = fabric.filter(|f| f.join(fgd::fabric::MANIFEST).is_file());
        let user = config::validation_section().map_err(|e| Error::Usage(format!("config {e}")))?;
        fgd::validate::Settings::layered(user.as_ref(), fabric, &self.layer())
            .map_err(|e| Error::Usage(e.to_string()))
    }

    fn validator(
        &self,
        fabric: Option<&std::path::Path>,
    ) -> Result<fgd::validate::Validator, Error> {
        fgd::validate::Validator::new(self.settings(fabric)?)
            .map_err(|e| Error::Usage(e.to_string()))
    }
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
    /// Also push commits fgd did not make that change paths outside the fabric (refused
    /// otherwise, so a work-in-progress commit never rides along unseen).
    #[arg(long)]
    include_other_commits: bool,
    /// Skip the client hooks (pre-commit, commit-msg, pre-push), as with git.
    #[arg(long)]
    no_verify: bool,
    /// Push the branch even though the remote no longer has it (someone deleted it).
    #[arg(long)]
    recreate_branch: bool,
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
            include_other_commits: self.include_other_commits,
            no_verify: self.no_verify,
            recreate_branch: self.recreate_branch,
            // The config's section (a bad one is said by the commands that read it first).
            validation: fgd::validate::settings::Layers {
                config: config::validation_section().ok().flatten(),
                flags: Default::default(),
            },
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
                    perform(op, &mut r).map_err(|e| (e, json))?
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
            match perform(op, &mut r).map_err(|e| (e, json))? {
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
