//! managed/ holds only fgd's objects: what the kustomization may list, and what else is there.
//! `kustomization::inspect` lists the folders without reading a file; the few listed files
//! changed since fgd last wrote the kustomization are read here and kept only when each is
//! still the one object an ingest would write at its path (a file renamed inside, or broken
//! by an edit, would put a second definition of an object, or an unreadable file, in the
//! build).

use std::collections::HashSet;

use super::analyze;
use crate::error::Result;
use crate::event::{Event, Sink};
use crate::fabric::kustomization::{self, Stray};
use crate::fabric::{self, Fabric};

/// What may be listed, and what may not.
#[derive(Debug, Default)]
pub struct Checked {
    /// Object files to list (relative to managed/), sorted.
    pub keep: Vec<String>,
    /// Everything else in managed/, with why.
    pub strays: Vec<Stray>,
    /// Some listed file was read: the kustomization is written again, so it is not read next
    /// time.
    pub touch: bool,
}

/// Check managed/ as the kustomization lists it; `writing` (relative to managed/) are files a
/// batch replaces, which need no reading.
pub fn check(fabric: &Fabric, writing: &HashSet<&str>) -> Result<Checked> {
    check_writing(fabric, writing.iter().copied())
}

/// `check`, with the files a batch replaces gone through once: only those among the few
/// suspects are kept (a set of a batch's 10^5 paths was 3 MB at the top of an ingest's memory).
pub fn check_writing<'w>(
    fabric: &Fabric,
    writing: impl IntoIterator<Item = &'w str>,
) -> Result<Checked> {
    let state = kustomization::inspect(fabric)?;
    let mut out = Checked {
        strays: state.strays,
        touch: !state.suspects.is_empty(),
        ..Default::default()
    };
    let suspects: HashSet<&str> = state.suspects.iter().map(String::as_str).collect();
    let replaced: HashSet<&str> = if suspects.is_empty() {
        HashSet::new()
    } else {
        writing
            .into_iter()
            .filter_map(|w| suspects.get(w).copied())
            .collect()
    };
    for rel in state.listed {
        if suspects.contains(rel.as_str()) && !replaced.contains(rel.as_str()) {
            let full = format!("{}/{rel}", fabric::MANAGED);
            let problem = match crate::store::ReadRegular::new()
                .read(&fabric.path(&full))?
                .bytes()
            {
                Some(bytes) => analyze::managed_problem(&full, bytes).map(|(why, _)| why),
                None => Some("no longer a regular file".into()),
            };
            if let Some(why) = problem {
                out.strays.push(Stray {
                    path: rel,
                    why: format!("changed since fgd wrote it, and no longer the one object an ingest would write there: {why}"),
                });
                continue;
            }
        }
        out.keep.push(rel);
    }
    out.strays.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Report each stray, with what resolves it.
pub fn report(fabric: &Fabric, strays: &[Stray], sink: &mut dyn Sink) {
    for s in strays {
        sink.emit(Event::Error {
            file: Some(format!("{}/{}", fabric::MANAGED, s.path)),
            message: format!(
                "not one of fgd's objects, so never listed in the kustomization: {}; {}",
                s.why,
                s.fix(fabric)
            ),
        });
    }
}
