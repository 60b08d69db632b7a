//! Reading one file's bytes into per-document verdicts. Pure: no I/O, so validate, ingest and
//! the dashboard's live re-validation all share it.

use std::ops::Range;

use crate::digest::Digest;

use crate::classify::{self, Identity, KindInfo, ReasonCode, Verdict};
use crate::discover::Format;
use crate::validate::{Facts, Problem, Validator};
use crate::yaml::{self, Chunk, Limits, Parsed, Pos, YamlErrorKind};

/// Kept for every document of every input until the plan: small, since a big ingest holds
/// 10^5 of them (a managed object's identity follows from its kind and path).
#[derive(Debug, Clone)]
pub enum DocVerdict {
    Managed {
        info: &'static KindInfo,
        /// `<plural>/<name>.yaml`, relative to `managed/`.
        path: Box<str>,
    },
    Unmanaged {
        code: ReasonCode,
        reason: String,
        identity: Option<Box<Identity>>,
        /// For `KustomizeIncompatible`: the class of construct kustomize reads otherwise.
        class: Option<yaml::Incompat>,
    },
    /// Only comments or blank lines.
    Empty,
}

#[derive(Debug, Clone)]
pub struct DocAnalysis {
    pub index: usize,
    /// Where the document (or its problem) is, in the original file.
    pub pos: Pos,
    /// Byte ranges of the file that make up this document's output text.
    pub parts: Box<[Range<usize>]>,
    pub verdict: DocVerdict,
    /// A real ingest's claim on its `managed/` path (`stage::Claims`), noted by the stager so
    /// the plan finds it without hashing the path again.
    pub claim: Option<u32>,
    /// What validation found in the object (errors made it `invalid-spec`; warnings never
    /// change a fate). Empty for documents that are not Hedgehog objects.
    pub problems: Box<[Problem]>,
    /// What the cross-object rules need of the object, when validation got that far.
    pub facts: Option<std::sync::Arc<Facts>>,
}

impl DocVerdict {
    /// The object's name, for a managed document.
    pub fn name(&self) -> Option<&str> {
        match self {
            DocVerdict::Managed { info, path } => path
                .strip_prefix(info.plural)
                .and_then(|p| p.strip_prefix('/'))
                .and_then(|p| p.strip_suffix(".yaml")),
            _ => None,
        }
    }

    /// What object the document defines, when it got far enough to say.
    pub fn identity(&self) -> Option<Identity> {
        match self {
            DocVerdict::Managed { info, .. } => Some(Identity {
                group: info.group.to_string(),
                kind: info.kind.to_string(),
                // Only objects of the default namespace are managed.
                namespace: "default".to_string(),
                name: self.name().unwrap_or_default().to_string(),
            }),
            DocVerdict::Unmanaged { identity, .. } => identity.as_deref().cloned(),
            DocVerdict::Empty => None,
        }
    }

    /// `Kind/name` (and the namespace if not the default), as `Identity` displays it.
    pub fn object(&self) -> Option<String> {
        match self {
            DocVerdict::Managed { info, .. } => {
                Some(format!("{}/{}", info.kind, self.name().unwrap_or_default()))
            }
            DocVerdict::Unmanaged { identity, .. } => identity.as_ref().map(|i| i.to_string()),
            DocVerdict::Empty => None,
        }
    }
}

impl DocAnalysis {
    /// Where a managed document goes, relative to `managed/`.
    pub fn managed_path(&self) -> Option<&str> {
        match &self.verdict {
            DocVerdict::Managed { path, .. } => Some(path),
            _ => None,
        }
    }

    pub fn bytes<'a>(&self, file: &'a [u8]) -> Vec<&'a [u8]> {
        self.parts.iter().map(|r| &file[r.clone()]).collect()
    }
    pub fn output(&self, file: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.parts.iter().map(|r| r.len()).sum());
        for r in &self.parts {
            v.extend_from_slice(&file[r.clone()]);
        }
        v
    }
}

#[derive(Debug, Clone)]
pub enum FileVerdict {
    /// The file cannot be split or read: it goes to unmanaged whole, byte for byte.
    Whole {
        code: ReasonCode,
        reason: String,
        pos: Option<Pos>,
    },
    Docs(Vec<DocAnalysis>),
}

#[derive(Debug, Clone)]
pub struct FileAnalysis {
    pub rel: String,
    /// The file as read; empty once `release`d.
    pub bytes: Vec<u8>,
    /// How many bytes were read.
    pub len: usize,
    /// After `release`: the output of each unmanaged document (by position in `docs()`), the
    /// only bytes a plan still needs from a file with something to manage.
    pub kept: Vec<(usize, Vec<u8>)>,
    pub sha256: Digest,
    pub verdict: FileVerdict,
    /// Set when the file is over the size cap: it was not read, and is moved whole as it is.
    pub too_large: Option<u64>,
}

impl FileAnalysis {
    /// Drop the bytes once they are staged: a big ingest keeps only the analyses. A file with
    /// nothing to manage keeps them (it is kept whole).
    pub fn release(&mut self) {
        if !self
            .docs()
            .iter()
            .any(|d| matches!(d.verdict, DocVerdict::Managed { .. }))
        {
            return;
        }
        let kept: Vec<(usize, Vec<u8>)> = self
            .docs()
            .iter()
            .enumerate()
            .filter(|(_, d)| matches!(d.verdict, DocVerdict::Unmanaged { .. }))
            .map(|(i, d)| (i, d.output(&self.bytes)))
            .collect();
        self.kept = kept;
        self.bytes = Vec::new();
    }

    /// Forget the facts of every document that is not to be managed. Of what raw/ brings, only
    /// an object that would be managed joins the cross-object index (`batch::objects`); an
    /// object refused on its own (at 10^5 generated documents, a quarter of them, the fabric
    /// connections with the most links among them) needs no facts. What managed/ holds keeps
    /// them all: a refused object there is still in the fabric.
    pub fn keep_facts_of_managed_only(&mut self) {
        for d in self.docs_mut() {
            if !matches!(d.verdict, DocVerdict::Managed { .. }) {
                d.facts = None;
            }
        }
    }

    /// The output of document `i` of `docs()` if `release` kept it.
    pub fn kept_output(&self, i: usize) -> Option<&[u8]> {
        self.kept
            .iter()
            .find(|(k, _)| *k == i)
            .map(|(_, b)| b.as_slice())
    }

    /// Whether `release` dropped the bytes.
    pub fn released(&self) -> bool {
        self.bytes.len() != self.len
    }

    pub fn docs(&self) -> &[DocAnalysis] {
        match &self.verdict {
            FileVerdict::Docs(d) => d,
            FileVerdict::Whole { .. } => &[],
        }
    }

    pub fn docs_mut(&mut self) -> &mut [DocAnalysis] {
        match &mut self.verdict {
            FileVerdict::Docs(d) => d,
            FileVerdict::Whole { .. } => &mut [],
        }
    }
}

fn yaml_code(kind: YamlErrorKind) -> ReasonCode {
    match kind {
        YamlErrorKind::Syntax => ReasonCode::YamlSyntax,
        YamlErrorKind::TooLarge => ReasonCode::TooLarge,
        YamlErrorKind::TooDeep => ReasonCode::TooDeep,
        YamlErrorKind::AliasExpansion => ReasonCode::AliasExpansion,
        YamlErrorKind::MultipleDocuments => ReasonCode::MultipleDocuments,
        #[allow(unreachable_patterns)]
        _ => ReasonCode::YamlSyntax,
    }
}

/// The chunk's text minus a bare `---` separator line, as byte ranges of the text, so moving a
/// document between first and later position in a file does not change its managed bytes.
fn output_parts(text: &str, chunk: &Chunk) -> Vec<Range<usize>> {
    let r = chunk.range.clone();
    let bytes = text.as_bytes();
    let mut line_start = r.start;
    while line_start < r.end {
        let line_end = bytes[line_start..r.end]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| line_start + i + 1)
            .unwrap_or(r.end);
        let line = &text[line_start..line_end];
        if let Some(rest) = line.strip_prefix("---") {
            if rest.trim().is_empty() {
                return [r.start..line_start, line_end..r.end]
                    .into_iter()
                    .filter(|p| !p.is_empty())
                    .collect();
            }
            break;
        }
        let t = line.trim_start();
        if !(t.is_empty() || t.starts_with('#')) {
            break;
        }
        line_start = line_end;
    }
    vec![r]
}

/// Envelope checks only (apiVersion, kind, metadata, YAML), as fgd did before spec validation.
pub fn analyze(rel: &str, bytes: Vec<u8>, format: Format, limits: &Limits) -> FileAnalysis {
    analyze_with(rel, bytes, format, limits, Validator::envelope_only())
}

/// Every check `validator` is set up for: a Hedgehog object whose spec the cluster would
/// refuse goes to unmanaged/ as `invalid-spec`.
pub fn analyze_with(
    rel: &str,
    bytes: Vec<u8>,
    format: Format,
    limits: &Limits,
    validator: &Validator,
) -> FileAnalysis {
    let sha256 = Digest::of(&bytes);
    let verdict = analyze_bytes(&bytes, format, limits, validator);
    FileAnalysis {
        rel: rel.to_string(),
        len: bytes.len(),
        kept: Vec::new(),
        bytes,
        sha256,
        verdict,
        too_large: None,
    }
}

/// A file over the size cap, judged without reading it.
pub fn too_large(rel: &str, len: u64, limits: &Limits) -> FileAnalysis {
    FileAnalysis {
        rel: rel.to_string(),
        bytes: Vec::new(),
        len: 0,
        kept: Vec::new(),
        // Never read, so no digest: the plan moves it unread and never uses this.
        sha256: Digest([0; 32]),
        verdict: FileVerdict::Whole {
            code: ReasonCode::TooLarge,
            reason: format!("the file is {len} bytes; fgd reads files of at most {} bytes: split it into smaller files", limits.max_file_bytes),
            pos: None,
        },
        too_large: Some(len),
    }
}

fn analyze_bytes(
    bytes: &[u8],
    format: Format,
    limits: &Limits,
    validator: &Validator,
) -> FileVerdict {
    if bytes.len() > limits.max_file_bytes {
        return FileVerdict::Whole {
            code: ReasonCode::TooLarge,
            reason: format!(
                "the file is {} bytes; fgd reads files of at most {} bytes",
                bytes.len(),
                limits.max_file_bytes
            ),
            pos: None,
        };
    }
    let decoded = match yaml::decode(bytes) {
        Ok(d) => d,
        Err(e) => {
            return FileVerdict::Whole {
                code: ReasonCode::Encoding,
                reason: e.to_string(),
                pos: encoding_pos(&e),
            }
        }
    };
    let text = decoded.text;
    let off = decoded.bom_len;
    let mut chunks = match format {
        Format::Yaml => yaml::split(text),
        Format::Json => yaml::whole(text),
    };
    let mut docs = Vec::with_capacity(chunks.len());
    let tree = validator.reads_spec();
    for i in 0..chunks.len() {
        let mut parsed = yaml::parse_chunk(text, &chunks[i], limits, tree);
        // A comment block that travelled to the next document may have been the end of a
        // quoted scalar of this one: it goes back when this document parses only with it.
        if matches!(&parsed, Err(e) if e.kind == yaml::YamlErrorKind::Syntax) {
            if let Some((longer, shorter)) = chunks
                .get(i + 1)
                .and_then(|next| next.give_back(&chunks[i], text))
            {
                let retried = yaml::parse_chunk(text, &longer, limits, tree);
                if retried.is_ok() {
                    parsed = retried;
                    chunks[i] = longer;
                    chunks[i + 1] = shorter;
                }
            }
        }
        let chunk = &chunks[i];
        let parts = output_parts(text, chunk)
            .into_iter()
            .map(|r| r.start + off..r.end + off)
            .collect();
        let content_pos = chunk.content.unwrap_or(chunk.start);
        let mut checked = crate::validate::DocCheck::default();
        let (pos, verdict) = match parsed {
            Ok(Parsed::Empty) => (content_pos, DocVerdict::Empty),
            Ok(Parsed::Document(value, unportable, tree)) => match classify::classify(&value) {
                Verdict::Managed { identity, info } => {
                    // Only managed/ is built by kustomize: elsewhere such a document is fine.
                    let refusal = match unportable {
                        Some(u) => Some((
                            u.pos,
                            ReasonCode::KustomizeIncompatible,
                            u.message,
                            Some(u.class),
                        )),
                        None => go_yaml_name_trap(text, chunk, &identity.name)
                            .map(|(pos, reason)| (pos, ReasonCode::BadName, reason, None))
                            .or_else(|| {
                                yaml::plain_in_head(text, chunk, &value).map(|u| {
                                    (
                                        u.pos,
                                        ReasonCode::KustomizeIncompatible,
                                        u.message,
                                        Some(u.class),
                                    )
                                })
                            }),
                    };
                    let refusal = refusal.or_else(|| {
                        checked = validator.check_document(info, tree, chunk.start.line);
                        checked
                            .first_error()
                            .map(|(pos, reason)| (pos, ReasonCode::InvalidSpec, reason, None))
                    });
                    match refusal {
                        Some((pos, code, reason, class)) => (
                            pos,
                            DocVerdict::Unmanaged {
                                code,
                                reason,
                                identity: Some(Box::new(identity)),
                                class,
                            },
                        ),
                        None => {
                            let path = Verdict::managed_path(info, &identity).into_boxed_str();
                            (content_pos, DocVerdict::Managed { info, path })
                        }
                    }
                }
                Verdict::Unmanaged(r) => {
                    let pos = annotation_line(text, chunk, &value, r.class)
                        .or_else(|| yaml::line_of_key(text, chunk, r.field.key_path()))
                        .unwrap_or(content_pos);
                    (
                        pos,
                        DocVerdict::Unmanaged {
                            code: r.code,
                            reason: r.message,
                            identity: r.identity.map(Box::new),
                            class: r.class,
                        },
                    )
                }
            },
            Err(e) => {
                // A JSON file is never split, so `---` between its objects changes nothing.
                let reason = match (format, e.kind) {
                    (Format::Json, yaml::YamlErrorKind::MultipleDocuments) => "more than one object in a .json file: fgd reads a JSON file as one document and does not split it; put each object in a file of its own, or rename the file to .yaml with `---` lines between the objects".into(),
                    _ => e.message,
                };
                (
                    e.pos,
                    DocVerdict::Unmanaged {
                        code: yaml_code(e.kind),
                        reason,
                        identity: None,
                        class: None,
                    },
                )
            }
        };
        docs.push(DocAnalysis {
            index: chunk.index,
            pos,
            parts,
            verdict,
            claim: None,
            problems: checked.problems.into_boxed_slice(),
            facts: checked.facts.map(std::sync::Arc::new),
        });
    }
    if docs.iter().all(|d| matches!(d.verdict, DocVerdict::Empty)) {
        return FileVerdict::Whole {
            code: ReasonCode::NoDocuments,
            reason: "the file holds no document (it is empty or only comments)".into(),
            pos: None,
        };
    }
    FileVerdict::Docs(docs)
}

/// The line of the label or annotation a document was refused for, when written in block
/// style.
fn annotation_line(
    text: &str,
    chunk: &Chunk,
    doc: &serde_yaml::Value,
    class: Option<yaml::Incompat>,
) -> Option<Pos> {
    let metadata = doc.get("metadata")?.as_mapping()?;
    let (field, key) = match class? {
        yaml::Incompat::ReservedAnnotation => (
            "annotations",
            classify::reserved_annotation(metadata)?.to_string(),
        ),
        yaml::Incompat::NotText => classify::not_text(metadata).map(|(f, k, _)| (f, k))?,
        _ => return None,
    };
    yaml::line_of_key(text, chunk, &["metadata", field, &key])
}

/// A name serde_yaml reads as a string but Go's YAML readers, written plain, as something else
/// (YAML 1.1: `yes` a boolean, `08` or `0755` a number, `2024-01-01` a timestamp): fgd and
/// the cluster would disagree on the object's name, and distinct names (`08`, `010`) could
/// become one object.
fn go_yaml_name_trap(text: &str, chunk: &Chunk, name: &str) -> Option<(Pos, String)> {
    let what = yaml::plain_reads_as(name, yaml::GoReader::Any)?;
    // Quoted, tagged (`!!str`), a block scalar: a string to every reader.
    let style = yaml::name_style(text, chunk);
    if style.is_some_and(|s| !s.plain) {
        return None;
    }
    Some((
        style.map_or(chunk.content.unwrap_or(chunk.start), |s| s.pos),
        format!(
            "metadata.name {name} is not quoted: Kubernetes tools read YAML 1.1, where {name} is {what}, not a name, and the object would not be the one fgd files; write name: \"{name}\""
        ),
    ))
}

/// Why `bytes` may not stand as the managed file `rel` (fabric-relative, under `managed/`),
/// and the line to mark: `managed/` holds only what an ingest would write at that very path,
/// one document with one object that kustomize reads. None when it may.
pub fn managed_problem(rel: &str, bytes: Vec<u8>) -> Option<(String, Option<usize>)> {
    let format = crate::discover::format_of(rel).unwrap_or(Format::Yaml);
    let analysis = analyze(rel, bytes, format, &Default::default());
    problem_as_managed(rel, &analysis)
}

pub fn problem_as_managed(rel: &str, analysis: &FileAnalysis) -> Option<(String, Option<usize>)> {
    let docs = match &analysis.verdict {
        FileVerdict::Whole { code, reason, pos } => {
            return Some((format!("[{}] {reason}", code.as_str()), pos.map(|p| p.line)))
        }
        FileVerdict::Docs(docs) => docs,
    };
    let Some(first) = docs.first() else {
        return Some(("it is empty: a managed file holds one object".into(), None));
    };
    if let [_, second, ..] = &docs[..] {
        return Some((
            format!(
                "{} documents: a managed file is one document with one object",
                docs.len()
            ),
            Some(second.pos.line),
        ));
    }
    match &first.verdict {
        DocVerdict::Empty => Some((
            "only comments: a managed file holds one object".into(),
            None,
        )),
        DocVerdict::Unmanaged { code, reason, .. } => Some((
            format!("[{}] {reason}", code.as_str()),
            Some(first.pos.line),
        )),
        DocVerdict::Managed { path, .. } if format!("{}/{path}", crate::fabric::MANAGED) != rel => {
            Some((
                format!(
                    "it defines {}, whose place is {}/{path}, not {rel}",
                    first.verdict.object().unwrap_or_default(),
                    crate::fabric::MANAGED
                ),
                Some(first.pos.line),
            ))
        }
        DocVerdict::Managed { .. } => None,
    }
}

fn encoding_pos(e: &yaml::EncodingError) -> Option<Pos> {
    match e {
        yaml::EncodingError::InvalidUtf8 { pos, .. } => Some(*pos),
        _ => None,
    }
}
