//! Spec validation of the tree a push publishes (`verify::TipCheck`): a managed/ object the
//! cluster would refuse (a hand edit, another writer's commit) stops the push, whoever made
//! the commit, with the problem's rule, line and message.
//!
//! Per object, the file handed over is checked as it is in the tree. Across objects, the rules
//! run once over the fabric's managed/ as the working copy holds it (what fgd's own commit
//! just recorded, or what the operator's merge left), and a changed file gets the problems of
//! its objects: a conflict between a new object and an old one is reported on both, so the
//! changed side is always named.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::verify::TipCheck;
use crate::fabric::{self, Fabric};
use crate::ingest::analyze;
use crate::validate::{Level, Problem, Validator};

pub(crate) struct SpecCheck {
    root: std::path::PathBuf,
    validator: Option<Validator>,
    id: &'static str,
    /// Cross-object problems of managed/ by fabric-relative path, computed on first use.
    cross: OnceLock<HashMap<String, Vec<Problem>>>,
}

impl SpecCheck {
    /// The check under the command's validation layers with the fabric's own settings
    /// (`.hnp/validation.toml`) between them; None when they check only the envelope, which
    /// fgd's own tip rules cover.
    pub(crate) fn for_fabric(
        fabric: &Fabric,
        layers: &crate::validate::settings::Layers,
    ) -> Option<SpecCheck> {
        let settings = layers.for_fabric(&fabric.root).ok()?;
        if settings.level == Level::Envelope {
            return None;
        }
        // The id names the settings: other settings are other rules, a full check.
        let id: &'static str = Box::leak(
            format!("spec-1({})", settings.describe())
                .replace(char::is_whitespace, "")
                .into_boxed_str(),
        );
        Some(SpecCheck {
            root: fabric.root.clone(),
            validator: Validator::new(settings).ok(),
            id,
            cross: OnceLock::new(),
        })
    }

    fn cross(&self) -> &HashMap<String, Vec<Problem>> {
        self.cross.get_or_init(|| {
            let mut out: HashMap<String, Vec<Problem>> = HashMap::new();
            let Some(v) = &self.validator else {
                return out;
            };
            let Ok(managed) = crate::ingest::read_inputs(
                &self.root.join(fabric::MANAGED),
                "managed/",
                &Default::default(),
                v,
                None,
                &mut Default::default(),
                &mut crate::event::Discard,
            ) else {
                return out;
            };
            let outcome = crate::validate::batch::check(v, &[], &managed);
            for ((fi, _), problems) in outcome.managed {
                if let Some(f) = managed.get(fi) {
                    out.entry(f.rel.clone()).or_default().extend(problems);
                }
            }
            out
        })
    }
}

impl TipCheck for SpecCheck {
    fn id(&self) -> &'static str {
        self.id
    }

    fn wants(&self, inner: &str) -> bool {
        inner.starts_with("managed/")
            && inner != fabric::KUSTOMIZATION
            && fabric::kustomization::is_object_path(&inner["managed/".len()..])
    }

    fn check(&self, inner: &str, bytes: &[u8]) -> Vec<(Option<usize>, String)> {
        let Some(v) = &self.validator else {
            return Vec::new();
        };
        let format = crate::discover::format_of(inner).unwrap_or(crate::discover::Format::Yaml);
        let a = analyze::analyze_with(inner, bytes.to_vec(), format, &Default::default(), v);
        let mut problems: Vec<&Problem> = a.docs().iter().flat_map(|d| d.problems.iter()).collect();
        if let Some(more) = self.cross().get(inner) {
            problems.extend(more.iter());
        }
        let mut out: Vec<(Option<usize>, String)> = problems
            .into_iter()
            .filter(|p| p.is_error())
            .map(|p| {
                (
                    Some(p.pos.line),
                    format!(
                        "{}; the cluster refuses it: fix it, or fgd move it to unmanaged/",
                        p.summary()
                    ),
                )
            })
            .collect();
        out.dedup();
        out
    }
}
