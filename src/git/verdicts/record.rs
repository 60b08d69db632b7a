//! A cached analysis as kept on disk: one file's analysis without its bytes, and back.

use serde::{Deserialize, Serialize};

use crate::classify::{Identity, ReasonCode};
use crate::validate::analyze::{DocAnalysis, DocVerdict, FileAnalysis, FileVerdict};
use crate::validate::{Facts, Problem};
use crate::yaml::Pos;

/// The record of `a`, or None for what the cache does not keep (see `FileRec::of`).
pub(super) fn encode(a: &FileAnalysis) -> Option<Vec<u8>> {
    serde_json::to_vec(&FileRec::of(a)?).ok()
}

/// The analysis a record says, as of the file `rel`; None for a record that does not read.
pub(super) fn decode(rec: &[u8], rel: &str) -> Option<FileAnalysis> {
    serde_json::from_slice::<FileRec>(rec).ok()?.analysis(rel)
}

/// One file's analysis without its bytes: what the cache keeps.
#[derive(Serialize, Deserialize)]
struct FileRec {
    len: usize,
    sha256: crate::digest::Digest,
    whole: Option<WholeRec>,
    docs: Vec<DocRec>,
}

#[derive(Serialize, Deserialize)]
struct WholeRec {
    code: ReasonCode,
    reason: String,
    pos: Option<Pos>,
}

#[derive(Serialize, Deserialize)]
struct DocRec {
    index: usize,
    pos: Pos,
    parts: Vec<(usize, usize)>,
    verdict: VerdictRec,
    problems: Vec<Problem>,
    facts: Option<Facts>,
}

#[derive(Serialize, Deserialize)]
enum VerdictRec {
    Managed {
        group: String,
        kind: String,
        path: String,
    },
    Unmanaged {
        code: ReasonCode,
        reason: String,
        /// group, kind, namespace, name.
        identity: Option<[String; 4]>,
    },
    Empty,
}

impl FileRec {
    /// None for what the cache does not keep: a file over the size cap, a document refused
    /// for a kustomize incompatibility (its class has no reader), a staged claim.
    fn of(a: &FileAnalysis) -> Option<FileRec> {
        if a.too_large.is_some() || !a.kept.is_empty() {
            return None;
        }
        let (whole, docs) = match &a.verdict {
            FileVerdict::Whole { code, reason, pos } => (
                Some(WholeRec {
                    code: *code,
                    reason: reason.clone(),
                    pos: *pos,
                }),
                Vec::new(),
            ),
            FileVerdict::Docs(docs) => (
                None,
                docs.iter().map(DocRec::of).collect::<Option<Vec<_>>>()?,
            ),
        };
        Some(FileRec {
            len: a.len,
            sha256: a.sha256,
            whole,
            docs,
        })
    }

    fn analysis(self, rel: &str) -> Option<FileAnalysis> {
        let verdict = match self.whole {
            Some(w) => FileVerdict::Whole {
                code: w.code,
                reason: w.reason,
                pos: w.pos,
            },
            None => {
                // Made at its exact size, not collected from `self.docs`: a collect would reuse
                // that allocation (serde grew it to 4 entries for one, each entry larger than
                // a DocAnalysis), ~1.4 KB more per file held for the whole sync.
                let mut docs = Vec::with_capacity(self.docs.len());
                for d in self.docs {
                    docs.push(d.analysis()?);
                }
                FileVerdict::Docs(docs)
            }
        };
        Some(FileAnalysis {
            rel: rel.to_string(),
            // Not read: what uses these analyses (the cross-object check, problem reports)
            // needs no bytes, as after `FileAnalysis::release`.
            bytes: Vec::new(),
            len: self.len,
            kept: Vec::new(),
            sha256: self.sha256,
            verdict,
            too_large: None,
        })
    }
}

impl DocRec {
    fn of(d: &DocAnalysis) -> Option<DocRec> {
        if d.claim.is_some() {
            return None;
        }
        let verdict = match &d.verdict {
            DocVerdict::Managed { info, path } => VerdictRec::Managed {
                group: info.group.into(),
                kind: info.kind.into(),
                path: path.to_string(),
            },
            DocVerdict::Unmanaged {
                code,
                reason,
                identity,
                class,
            } => {
                if class.is_some() {
                    return None;
                }
                VerdictRec::Unmanaged {
                    code: *code,
                    reason: reason.clone(),
                    identity: identity.as_ref().map(|i| {
                        [
                            i.group.clone(),
                            i.kind.clone(),
                            i.namespace.clone(),
                            i.name.clone(),
                        ]
                    }),
                }
            }
            DocVerdict::Empty => VerdictRec::Empty,
        };
        Some(DocRec {
            index: d.index,
            pos: d.pos,
            parts: d.parts.iter().map(|r| (r.start, r.end)).collect(),
            verdict,
            problems: d.problems.to_vec(),
            facts: d.facts.as_deref().cloned(),
        })
    }

    fn analysis(self) -> Option<DocAnalysis> {
        let verdict = match self.verdict {
            VerdictRec::Managed { group, kind, path } => DocVerdict::Managed {
                info: crate::classify::kinds::KINDS
                    .iter()
                    .find(|k| k.group == group && k.kind == kind)?,
                path: path.into_boxed_str(),
            },
            VerdictRec::Unmanaged {
                code,
                reason,
                identity,
            } => DocVerdict::Unmanaged {
                code,
                reason,
                identity: identity.map(|[group, kind, namespace, name]| {
                    Box::new(Identity {
                        group,
                        kind,
                        namespace,
                        name,
                    })
                }),
                class: None,
            },
            VerdictRec::Empty => DocVerdict::Empty,
        };
        Some(DocAnalysis {
            index: self.index,
            pos: self.pos,
            parts: self.parts.into_iter().map(|(a, b)| a..b).collect(),
            verdict,
            claim: None,
            problems: self.problems.into_boxed_slice(),
            facts: self.facts.map(std::sync::Arc::new),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover;
    use crate::git::verdicts::testing::{real_corpus, said};
    use crate::validate::analyze;
    use crate::validate::Validator;
    use crate::yaml::Limits;

    #[test]
    fn a_kept_analysis_reads_back_as_the_analysis_itself() {
        let v = Validator::shared_default();
        let limits = Limits::default();
        let (mut kept, mut facts, mut problems) = (0, std::collections::BTreeSet::new(), 0);
        for (name, bytes) in real_corpus() {
            let format = discover::format_of(&name).unwrap();
            let a = analyze::analyze_with(&name, bytes, format, &limits, v);
            let Some(rec) = encode(&a) else { continue };
            let back = decode(&rec, &name).unwrap();
            assert_eq!(said(&back), said(&a), "{name}");
            kept += 1;
            for f in a.docs().iter().filter_map(|d| d.facts.as_deref()) {
                facts.insert(format!("{f:?}").split('(').next().unwrap_or("").to_string());
            }
            problems += a.docs().iter().map(|d| d.problems.len()).sum::<usize>();
        }
        // The corpus has facts of most kinds, and problems of many rules.
        assert!(
            kept > 200 && facts.len() >= 8 && problems > 100,
            "{kept} {facts:?} {problems}"
        );
    }
}
