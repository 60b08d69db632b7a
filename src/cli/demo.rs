//! `fgd demo`: demo fabrics from the embedded assets, in a fresh temporary directory, ingested
//! visibly. Nothing outside that directory is touched.

use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

use fgd::error::{io, Error, Exit};
use fgd::{fabric, ingest, ops};

use super::render::{self, Renderer};

static DEMO: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/assets/demo");

fn new_workspace() -> Result<PathBuf, Error> {
    let base = std::env::temp_dir();
    let stamp = fgd::journal::new_batch_id();
    let dir = base.join(format!("fgd-demo-{stamp}"));
    std::fs::create_dir(&dir).map_err(|e| io("create demo workspace", &dir, e))?;
    Ok(dir)
}

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

pub fn run(dir: Option<PathBuf>, json: bool) -> Result<Exit, Error> {
    let ws = match dir {
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
            std::fs::create_dir_all(&d).map_err(|e| io("create demo workspace", &d, e))?;
            d
        }
        None => new_workspace()?,
    };
    extract(&DEMO, &ws)?;
    let mut fabrics: Vec<PathBuf> = std::fs::read_dir(&ws)
        .map_err(|e| io("list", &ws, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("raw").is_dir())
        .collect();
    fabrics.sort();
    if !json {
        println!("demo workspace: {}", ws.display());
    }
    let mut exit = Exit::Success;
    for f in &fabrics {
        fabric::init(f, None)?;
        if !json {
            println!("\n== fgd ingest {}", f.display());
        }
        let mut r = Renderer::new(json, "ingest");
        let s = ingest::run(f, &Default::default(), &mut r)?;
        if ops::went_unmanaged(&s) {
            exit = Exit::Unmanaged;
        }
        drop(r);
        render::status(&ops::status::status(f)?, None, json);
    }
    if !json {
        println!("\nExplore: ls -R {0}; fix a file in unmanaged/, then `fgd adopt <fabric> <item>` and `fgd ingest <fabric>`.", ws.display());
    }
    // The demo is meant to show unmanaged items; that is its success.
    let _ = exit;
    Ok(Exit::Success)
}
