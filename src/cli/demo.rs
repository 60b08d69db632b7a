//! `fgd demo`: demo fabrics from the embedded assets in a new private temporary directory,
//! inside a git working copy with a local bare remote, then the dashboard on them (with
//! `--tour`, a guided walk through it), or with `--no-ui` a visible headless ingest. Nothing
//! outside that directory is touched.

use std::io::Write;
use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

use fgd::error::{io, Error, Exit};
use fgd::ops::perform::{perform, Operation};
use fgd::{fabric, ops};

use super::render::{self, Renderer};

static DEMO: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/assets/demo");

fn extract(dir: &Dir<'_>, to: &Path) -> Result<(), Error> {
    for f in dir.files() {
        let p = to.join(f.path());
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
        }
        std::fs::write(&p, f.contents()).map_err(|e| io("write", &p, e))?;
    }
    for d in dir.dirs() {
        extract(d, to)?;
    }
    Ok(())
}

/// The demo workspace: `<base>/workspace` (a git working copy holding the fabrics, their layout
/// committed and pushed) and `<base>/remote.git` (its bare remote).
pub fn create(base: Option<PathBuf>) -> Result<(PathBuf, Vec<PathBuf>), Error> {
    let base = match base {
        Some(d) => {
            if d.exists()
                && std::fs::read_dir(&d)
                    .map(|mut r| r.next().is_some())
                    .unwrap_or(true)
            {
                return Err(Error::Refused(format!(
                    "{} exists and is not empty; the demo wants a new folder",
                    d.display()
                )));
            }
            d
        }
        // A new folder of a name nobody can guess or take first, readable by its owner only
        // (a shared /tmp); kept after the demo, to be looked at.
        None => tempfile::Builder::new()
            .prefix("fgd-demo-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir()
            .map_err(|e| io("create demo folder", &std::env::temp_dir(), e))?
            .keep(),
    };
    let ws = base.join("workspace");
    std::fs::create_dir_all(&ws).map_err(|e| io("create demo workspace", &ws, e))?;
    let ws = std::fs::canonicalize(&ws).map_err(|e| io("resolve", &ws, e))?;
    extract(&DEMO, &ws)?;
    let remote = base.join("remote.git");
    fgd::git::init_repository(&remote, true, "main")?;
    fgd::git::init_repository(&ws, false, "main")?;
    fgd::git::set_origin_and_identity(
        &ws,
        &remote.to_string_lossy(),
        "fgd demo",
        "demo@fgd.invalid",
    )?;
    let mut fabrics: Vec<PathBuf> = std::fs::read_dir(&ws)
        .map_err(|e| io("list", &ws, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("raw").is_dir())
        .collect();
    fabrics.sort();
    for f in &fabrics {
        let (fab, _) = fabric::init(f, None)?;
        fgd::git::publish_init(&fab, &Default::default(), &mut fgd::event::Discard)?;
    }
    Ok((ws, fabrics))
}

/// How `fgd demo` shows itself.
pub struct Show {
    pub json: bool,
    pub no_ui: bool,
    pub verbose: bool,
    pub tour: bool,
}

pub fn run(
    dir: Option<PathBuf>,
    show: Show,
    config: &super::config::Config,
) -> Result<Exit, Error> {
    use std::io::IsTerminal;
    let Show {
        json,
        no_ui,
        verbose,
        tour,
    } = show;
    let (ws, fabrics) = create(dir)?;
    if !no_ui && !json && std::io::stdout().is_terminal() {
        let mut opts = super::tui::Options::from_config(config);
        opts.tour = tour;
        // The demo touches nothing outside its folder: its log lives beside the workspace.
        opts.log_file = ws.parent().map(|d| d.join("dash.log"));
        opts.extra_fabrics.clear();
        let code = super::tui::run(&ws, opts)?;
        // The terminal may be gone (hang-up): a failed print must not turn into a panic.
        let _ = writeln!(std::io::stdout(), "demo workspace kept at {}", ws.display());
        return Ok(code);
    }
    if !json {
        outln!("demo workspace: {}", ws.display());
    }
    for f in &fabrics {
        if !json {
            outln!("\n== fgd ingest {}", f.display());
        }
        let mut r = Renderer::new(json, "ingest").per_file(verbose);
        let op = Operation::Ingest {
            dir: f.clone(),
            options: Default::default(),
        };
        perform(op, &mut r)?;
        drop(r);
        let fab = fabric::Fabric::open(f)?;
        render::status(
            &ops::status::status(f)?,
            fgd::git::git_state(&fab).as_ref(),
            json,
        );
    }
    if !json {
        outln!("\nOpen the dashboard on it: fgd dash {}", ws.display());
    }
    // The demo is meant to show unmanaged items; that is its success.
    Ok(Exit::Success)
}
