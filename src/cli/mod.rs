//! Command-line front end. Thin: every command is one engine call plus rendering.

mod demo;
mod render;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
2 usage error; 3 refused (not a fabric, unsafe layout, locked by another fgd); 4 I/O failure."
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
    },
    /// Say what ingest would do with each document, with file, line and column. Read-only.
    Validate {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Process raw/: Hedgehog objects to managed/, the rest to unmanaged/ with reasons.
    Ingest {
        fabric_dir: PathBuf,
        /// Print the exact plan and change nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
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
    /// Create demo fabrics from the embedded assets in a temporary directory and ingest them.
    Demo {
        /// Where to create the demo workspace (default: a new temporary directory).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

pub fn main() -> Exit {
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
    match run(cli.command) {
        Ok(code) => code,
        Err((e, json)) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"event": "failed", "exit": e.exit() as u8, "message": e.to_string()})
                );
            }
            eprintln!("fgd: {e}");
            e.exit()
        }
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
        } => {
            let (_, report) = fabric::init(&fabric_dir, name.as_deref()).map_err(|e| (e, json))?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"event": "initialised", "report": report})
                );
            } else {
                println!("fabric {:?} at {}", report.name, report.fabric);
                for c in &report.created {
                    println!("  created  {c}");
                }
                for k in &report.kept {
                    println!("  kept     {k}");
                }
            }
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
        } => {
            let mut r = Renderer::new(json, if dry_run { "plan" } else { "ingest" });
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
            render::status(&st, json);
            Ok(Exit::Success)
        }
        Command::Demo { dir, json } => demo::run(dir, json).map_err(|e| (e, json)),
    }
}
