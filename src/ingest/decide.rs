//! Deciding the batch: each document's fate once every file is read, so that two definitions
//! of one object anywhere in the batch are found.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::analyze::{DocAnalysis, DocVerdict, FileAnalysis, FileVerdict};
use super::stage;
use crate::classify::ReasonCode;
use crate::yaml::Pos;

/// The decided fate of every document of every file.
#[derive(Debug)]
pub struct Decision {
    /// Per file: either whole-unmanaged (code, reason) or per-document fates.
    pub files: Vec<FileDecision>,
}

/// A document of a file kept whole: (index, position, object, code, reason).
pub type WholeDoc = (usize, Pos, Option<String>, ReasonCode, String);

#[derive(Debug)]
pub enum FileDecision {
    Whole {
        code: ReasonCode,
        reason: String,
        pos: Option<Pos>,
        docs: Vec<WholeDoc>,
    },
    Docs(Vec<DocFate>),
}

#[derive(Debug, Clone)]
pub enum DocFate {
    /// Managed at the document's own path (`DocAnalysis::managed_path`).
    Managed {
        duplicate_of: Option<usize>,
    },
    Unmanaged {
        code: ReasonCode,
        reason: String,
    },
    Empty,
}

/// Where a document stands in the batch: (file, document) indexes into the analyses.
pub type At = (usize, usize);

/// Documents the batch must not manage although their own verdict says they can be, and why
/// (their code and reason): what the fabric's past says (`history`), or any other check that
/// needs more than the document itself.
pub type Refusals = HashMap<At, (ReasonCode, String)>;

/// Documents the check across objects refuses (`validate::batch::apply`): `invalid-spec`,
/// with their first error as the reason, made from their problems only when their file is
/// decided. A refusal of `Refusals` comes first.
pub type Invalid = HashSet<At>;

/// What the batch as a whole decides about single documents of it: found once, before the
/// check across objects (which needs the conflicts), and kept for the plan (`Decider`).
#[derive(Debug, Default)]
pub struct Batchwide {
    /// A document whose object is also defined, differently, elsewhere: why.
    conflict: HashMap<At, String>,
    /// A document whose object is also defined, with the same bytes, in an earlier file.
    duplicate: HashMap<At, usize>,
}

/// Resolve conflicts across the batch and decide each file's fate. Pure. Whether several
/// definitions of one object are the same bytes is asked of `claims` (what staging found) for
/// a path staging saw, else of the files' bytes.
pub fn decide(files: &[FileAnalysis], claims: &stage::Claims) -> Decision {
    decide_with(files, claims, &Refusals::new())
}

/// `decide`, with some documents refused whatever their verdict (`Refusals`).
pub fn decide_with(
    files: &[FileAnalysis],
    claims: &stage::Claims,
    refusals: &Refusals,
) -> Decision {
    decide_from(files, batchwide(files, claims), refusals, &Invalid::new())
}

/// `decide_with`, the batch's conflicts and duplicates already found (`batchwide`).
pub fn decide_from(
    files: &[FileAnalysis],
    batchwide: Batchwide,
    refusals: &Refusals,
    invalid: &Invalid,
) -> Decision {
    let decider = Decider::new(batchwide, refusals, invalid);
    let out = files
        .iter()
        .enumerate()
        .map(|(fi, f)| decider.file(fi, f))
        .collect();
    Decision { files: out }
}

impl Batchwide {
    /// The documents whose object the batch defines more than once, differently: none of them
    /// is applied, so the check across objects must not count any of them in the fabric.
    pub fn conflicted(&self) -> std::collections::HashSet<At> {
        self.conflict.keys().copied().collect()
    }
}

/// The batch's decisions made one file at a time: what needs the whole batch (conflicts,
/// duplicates) is found first, and each file's fates when the plan reaches the file, so a big
/// batch never holds them all (10^5 of them were 3 MB at the top of an ingest's memory).
#[derive(Debug)]
pub struct Decider<'r> {
    batchwide: Batchwide,
    refusals: &'r Refusals,
    invalid: &'r Invalid,
}

impl<'r> Decider<'r> {
    pub fn new(batchwide: Batchwide, refusals: &'r Refusals, invalid: &'r Invalid) -> Self {
        Decider {
            batchwide,
            refusals,
            invalid,
        }
    }

    /// The decision for file `fi` of the batch, `f`.
    pub fn file(&self, fi: usize, f: &FileAnalysis) -> FileDecision {
        file_decision(fi, f, self)
    }
}

/// Every managed path (one per object) defined more than once, with the (file, document)
/// that define it, in path order.
fn definitions<'f>(
    files: &'f [FileAnalysis],
    claims: &stage::Claims,
) -> BTreeMap<&'f str, Vec<At>> {
    let mut defs: BTreeMap<&str, Vec<At>> = BTreeMap::new();
    for (fi, f) in files.iter().enumerate() {
        for (di, d) in f.docs().iter().enumerate() {
            let Some(path) = d.managed_path() else {
                continue;
            };
            // Staging counted the definitions: only the paths defined twice are listed.
            if claims.of(d).is_some_and(|c| c.defs < 2) {
                continue;
            }
            defs.entry(path).or_default().push((fi, di));
        }
    }
    defs.retain(|_, list| list.len() > 1);
    defs
}

/// The conflicts and duplicates among the batch's definitions of each object.
pub fn batchwide(files: &[FileAnalysis], claims: &stage::Claims) -> Batchwide {
    let mut out = Batchwide::default();
    for list in definitions(files, claims).values() {
        let bytes = |&(fi, di): &At| files[fi].docs()[di].output(&files[fi].bytes);
        let claim = claims.of(&files[list[0].0].docs()[list[0].1]);
        let same = match claim {
            Some(claim) => !claim.clash,
            None => {
                let first = bytes(&list[0]);
                list.iter().skip(1).all(|k| bytes(k) == first)
            }
        };
        if same {
            // The same bytes twice: one object, written once.
            for k in list.iter().skip(1) {
                out.duplicate.insert(*k, list[0].0);
            }
            continue;
        }
        for k in list {
            out.conflict.insert(*k, conflict_reason(files, list, *k));
        }
    }
    out
}

/// Why the definition `k` of an object defined differently by every one of `list` is not
/// applied.
fn conflict_reason(files: &[FileAnalysis], list: &[At], k: At) -> String {
    let identity = files[list[0].0].docs()[list[0].1]
        .verdict
        .object()
        .unwrap_or_default();
    let others: Vec<String> = list
        .iter()
        .filter(|o| **o != k)
        .map(|&(fi, di)| {
            let d = &files[fi].docs()[di];
            format!(
                "{} (document {}, line {})",
                files[fi].rel,
                d.index + 1,
                d.pos.line
            )
        })
        .collect();
    format!(
        "conflict: {identity} is also defined, differently, in {}; neither definition was applied and managed/ is unchanged. Keep one and adopt it again",
        others.join(", ")
    )
}

/// One document's fate: its own verdict, unless the batch decides otherwise. A per-document
/// refusal that needs more than the document (`refusals`, then a conflict in `batchwide`) is
/// looked up here: everything after (the file kept whole when nothing in it is managed, the
/// plan, taking back what staging wrote for it) follows from the fate.
fn doc_fate(at: At, d: &DocAnalysis, decider: &Decider<'_>) -> DocFate {
    if let DocVerdict::Managed { .. } = &d.verdict {
        if let Some((code, reason)) = decider.refusals.get(&at) {
            return DocFate::Unmanaged {
                code: *code,
                reason: reason.clone(),
            };
        }
        if decider.invalid.contains(&at) {
            if let Some((_, reason)) = crate::validate::first_error(&d.problems) {
                return DocFate::Unmanaged {
                    code: ReasonCode::InvalidSpec,
                    reason,
                };
            }
        }
    }
    match &d.verdict {
        DocVerdict::Managed { .. } => match decider.batchwide.conflict.get(&at) {
            Some(reason) => DocFate::Unmanaged {
                code: ReasonCode::Conflict,
                reason: reason.clone(),
            },
            None => DocFate::Managed {
                duplicate_of: decider.batchwide.duplicate.get(&at).copied(),
            },
        },
        DocVerdict::Unmanaged { code, reason, .. } => DocFate::Unmanaged {
            code: *code,
            reason: reason.clone(),
        },
        DocVerdict::Empty => DocFate::Empty,
    }
}

/// One file's decision: its documents' fates, or the file kept whole.
fn file_decision(fi: usize, f: &FileAnalysis, decider: &Decider<'_>) -> FileDecision {
    let docs = match &f.verdict {
        FileVerdict::Whole { code, reason, pos } => {
            return FileDecision::Whole {
                code: *code,
                reason: reason.clone(),
                pos: *pos,
                docs: Vec::new(),
            };
        }
        FileVerdict::Docs(docs) => docs,
    };
    let fates: Vec<DocFate> = docs
        .iter()
        .enumerate()
        .map(|(di, d)| doc_fate((fi, di), d, decider))
        .collect();
    if fates.iter().any(|f| matches!(f, DocFate::Managed { .. })) {
        return FileDecision::Docs(fates);
    }
    kept_whole(docs, &fates)
}

/// A file in which nothing can be managed: kept whole, comments and all, so the operator
/// fixes it as written. The reason lists every document.
fn kept_whole(docs: &[DocAnalysis], fates: &[DocFate]) -> FileDecision {
    let listed: Vec<_> = docs
        .iter()
        .zip(fates)
        .filter_map(|(d, fate)| match fate {
            DocFate::Unmanaged { code, reason } => {
                Some((d.index, d.pos, d.verdict.object(), *code, reason.clone()))
            }
            _ => None,
        })
        .collect();
    let (code, reason, pos) = match listed.as_slice() {
        [(_, pos, _, code, reason)] => (*code, reason.clone(), Some(*pos)),
        [(_, pos, _, code, reason), ..] => {
            // The first problem leads; the reason file lists every document's own.
            let summary = format!(
                "none of its {} documents can be managed; document 1 of them: {reason}",
                listed.len()
            );
            (*code, summary, Some(*pos))
        }
        [] => (
            ReasonCode::NoDocuments,
            "the file holds no document".into(),
            None,
        ),
    };
    FileDecision::Whole {
        code,
        reason,
        pos,
        docs: listed,
    }
}
