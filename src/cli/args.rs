//! The command line's grammar: every command, its flags and what they mean (clap derive).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use fgd::error::Error;

use super::{config, report};

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
pub(super) struct Cli {
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Subcommand, Debug)]
pub(super) enum Command {
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
pub(super) struct ValidationArgs {
    /// envelope (apiVersion, kind, metadata), schema (adds the CRD schema) or all (adds the
    /// fabric's admission rules, per object and across the fabric; the default).
    #[arg(long, value_enum)]
    pub(super) rules: Option<RulesArg>,
    /// Do not run this rule (an id from `fgd rules`, e.g. VPCA-07); repeatable.
    #[arg(long = "skip-rule", value_name = "ID")]
    pub(super) skip_rule: Vec<String>,
    /// The directory holds the whole fabric: a reference to an object it does not define is
    /// an error, not a warning that it must already exist in the cluster.
    #[arg(long)]
    pub(super) whole_fabric: bool,
    /// The fabric's fab.yaml, for the rules that need the fabric config (default: the
    /// installer's defaults, and such problems say "assumed").
    #[arg(long, value_name = "FILE")]
    pub(super) fab: Option<PathBuf>,
    /// Validate against the CRDs in DIR (another fabric release) instead of fgd's own.
    #[arg(long, value_name = "DIR")]
    pub(super) crds: Option<PathBuf>,
    /// Unknown fields are warnings instead of errors.
    #[arg(long)]
    pub(super) unknown_fields_warn: bool,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub(super) enum RulesArg {
    Envelope,
    Schema,
    All,
}

impl ValidationArgs {
    /// These flags as a settings layer.
    pub(super) fn layer(&self) -> fgd::validate::settings::SettingsFile {
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
    pub(super) fn layers(&self) -> Result<fgd::validate::settings::Layers, Error> {
        Ok(fgd::validate::settings::Layers {
            config: config::validation_section()
                .map_err(|e| Error::Usage(format!("config {e}")))?,
            flags: self.layer(),
        })
    }

    /// The settings of a run over `fabric` (its own file applies when it is a fabric).
    pub(super) fn settings(
        &self,
        fabric: Option<&std::path::Path>,
    ) -> Result<fgd::validate::Settings, Error> {
        let fabric = fabric.filter(|f| f.join(fgd::fabric::MANIFEST).is_file());
        let user = config::validation_section().map_err(|e| Error::Usage(format!("config {e}")))?;
        fgd::validate::Settings::layered(user.as_ref(), fabric, &self.layer())
            .map_err(|e| Error::Usage(e.to_string()))
    }

    pub(super) fn validator(
        &self,
        fabric: Option<&std::path::Path>,
    ) -> Result<fgd::validate::Validator, Error> {
        fgd::validate::Validator::new(self.settings(fabric)?)
            .map_err(|e| Error::Usage(e.to_string()))
    }
}

#[derive(clap::Args, Debug, Clone, Default)]
pub(super) struct GitArgs {
    /// Remote to push to (default: the branch's upstream remote, else origin).
    #[arg(long)]
    pub(super) remote: Option<String>,
    /// The branch to push: must be the checked-out one (a check for scripts; fgd never
    /// commits or pushes beside the checked-out branch). Default: the checked-out branch.
    #[arg(long)]
    pub(super) branch: Option<String>,
    /// Commit author "Name <email>" (default: git config user.name / user.email).
    #[arg(long, env = "FGD_GIT_AUTHOR")]
    pub(super) author: Option<String>,
    /// SSH private key to try after the agent and before ~/.ssh/id_*.
    #[arg(long, env = "FGD_SSH_KEY")]
    pub(super) ssh_key: Option<PathBuf>,
    /// An extra known_hosts file, read before ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts.
    #[arg(long, env = "FGD_KNOWN_HOSTS")]
    pub(super) known_hosts: Option<PathBuf>,
    /// Also push commits fgd did not make that change paths outside the fabric (refused
    /// otherwise, so a work-in-progress commit never rides along unseen).
    #[arg(long)]
    pub(super) include_other_commits: bool,
    /// Skip the client hooks (pre-commit, commit-msg, pre-push), as with git.
    #[arg(long)]
    pub(super) no_verify: bool,
    /// Push the branch even though the remote no longer has it (someone deleted it).
    #[arg(long)]
    pub(super) recreate_branch: bool,
    /// End fgd's commit messages with a Signed-off-by line of the committer, as git commit -s
    /// (for repositories that require a DCO sign-off).
    #[arg(short = 's', long, env = "FGD_GIT_SIGNOFF", value_parser = clap::builder::BoolishValueParser::new())]
    pub(super) signoff: bool,
}

impl GitArgs {
    pub(super) fn options(self, message: Option<String>) -> fgd::git::GitOptions {
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
            signoff: self.signoff,
            // The config's section (a bad one is said by the commands that read it first).
            validation: fgd::validate::settings::Layers {
                config: config::validation_section().ok().flatten(),
                flags: Default::default(),
            },
        }
    }
}
