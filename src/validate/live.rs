//! A fabric kept validated as its files change (`fgd watch`, the benchmark of the editor's
//! re-check): every file analysed once, the index of their objects kept, and on each change
//! only that file analysed again and its objects replaced in the index (updated, not rebuilt);
//! the cross-object rules then run over the index, which holds facts only.
//!
//! The fabric is what `managed/` holds overlaid with what `raw/` brings (raw wins, as ingest
//! makes it so); a raw object that goes away gives the managed one of that name back.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use super::analyze::{self, DocVerdict, FileAnalysis};
use super::fabric::{self, Found, Index, Obj, Source};
use super::{Problem, Validator};
use crate::discover::{self, Format};
use crate::error::Result;

pub struct Live {
    validator: Arc<Validator>,
    /// Analyses by fabric-relative path (`raw/...`, `managed/...`).
    files: BTreeMap<String, FileAnalysis>,
    /// File numbers for the index's `doc` field, by path.
    numbers: HashMap<String, u32>,
    paths: Vec<String>,
    index: Index,
    /// managed/'s objects, to give back when a raw object of the same name goes.
    managed: HashMap<(&'static str, String), Obj>,
}

impl Live {
    /// Read and analyse every file of the fabric's raw/ and managed/.
    pub fn load(root: &Path, validator: Arc<Validator>) -> Result<Live> {
        let mut live = Live {
            validator,
            files: BTreeMap::new(),
            numbers: HashMap::new(),
            paths: Vec::new(),
            index: Index::default(),
            managed: HashMap::new(),
        };
        for tree in [crate::fabric::MANAGED, crate::fabric::RAW] {
            let found = discover::discover(&root.join(tree), &format!("{tree}/"))?;
            for f in found {
                if let discover::Found::File { path, rel, format } = f {
                    let bytes = match crate::store::ReadRegular::new().read(&path)?.bytes() {
                        Some(b) => b,
                        None => continue,
                    };
                    live.put(&rel, bytes, format);
                }
            }
        }
        Ok(live)
    }

    fn number(&mut self, rel: &str) -> u32 {
        if let Some(n) = self.numbers.get(rel) {
            return *n;
        }
        self.paths.push(rel.to_string());
        let n = (self.paths.len() - 1) as u32;
        self.numbers.insert(rel.to_string(), n);
        n
    }

    fn source_of(rel: &str) -> Source {
        if rel.starts_with(&format!("{}/", crate::fabric::MANAGED)) {
            Source::Managed
        } else {
            Source::Incoming
        }
    }

    /// Analyse `rel` (its new bytes) and put its objects in the index.
    fn put(&mut self, rel: &str, bytes: Vec<u8>, format: Format) {
        let a = analyze::analyze_with(rel, bytes, format, &Default::default(), &self.validator);
        let n = self.number(rel);
        let source = Self::source_of(rel);
        let file: Arc<str> = Arc::from(rel);
        for (di, d) in a.docs().iter().enumerate() {
            let (DocVerdict::Managed { info, .. }, Some(facts)) = (&d.verdict, &d.facts) else {
                continue;
            };
            let Some(name) = d.verdict.name() else {
                continue;
            };
            let obj = Obj {
                kind: info.kind,
                name: name.into(),
                file: file.clone(),
                pos: d.pos,
                source,
                doc: (n, di as u32),
                facts: facts.clone(),
            };
            match source {
                Source::Managed => {
                    self.managed
                        .insert((info.kind, name.to_string()), obj.clone());
                    // A raw object of the same name stays in front.
                    let raw_there = self
                        .index
                        .get(info.kind, name)
                        .is_some_and(|o| o.source == Source::Incoming);
                    if !raw_there {
                        self.index.insert(obj);
                    }
                }
                Source::Incoming => {
                    self.index.insert(obj);
                }
            }
        }
        self.files.insert(rel.to_string(), a);
    }

    /// Take `rel`'s objects out of the index (managed ones its raw objects hid come back).
    fn take(&mut self, rel: &str) {
        let Some(old) = self.files.remove(rel) else {
            return;
        };
        for d in old.docs() {
            let DocVerdict::Managed { info, .. } = &d.verdict else {
                continue;
            };
            let Some(name) = d.verdict.name() else {
                continue;
            };
            let key = (info.kind, name.to_string());
            if self
                .index
                .get(info.kind, name)
                .is_some_and(|o| &*o.file == rel)
            {
                self.index.remove(info.kind, name);
                if Self::source_of(rel) == Source::Managed {
                    self.managed.remove(&key);
                } else if let Some(m) = self.managed.get(&key) {
                    self.index.insert(m.clone());
                }
            }
        }
    }

    /// `rel` changed to `bytes`, or went away (`None`).
    pub fn update(&mut self, rel: &str, bytes: Option<Vec<u8>>) {
        self.take(rel);
        if let Some(bytes) = bytes {
            let format = discover::format_of(rel).unwrap_or(Format::Yaml);
            self.put(rel, bytes, format);
        }
    }

    pub fn analysis(&self, rel: &str) -> Option<&FileAnalysis> {
        self.files.get(rel)
    }

    pub fn objects(&self) -> usize {
        self.index.len()
    }

    /// The cross-object problems of the fabric now, by file: (`Kind/name`, problem).
    pub fn cross(&self) -> BTreeMap<String, Vec<(String, Problem)>> {
        let found: Vec<Found> =
            fabric::check(&self.index, &self.validator.settings, &self.validator.env);
        let mut out: BTreeMap<String, Vec<(String, Problem)>> = BTreeMap::new();
        for f in found {
            out.entry(f.file.to_string())
                .or_default()
                .push((format!("{}/{}", f.kind, f.name), f.problem));
        }
        out
    }
}
