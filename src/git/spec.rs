//! Spec validation of the tree a push publishes (`verify::TipCheck`): a managed/ object the
//! cluster would refuse (a hand edit, another writer's commit) stops the push, whoever made
//! the commit, with the problem's rule, line and message.
//!
//! Per object, the file handed over is checked as it is in the tree. Across objects, the rules
//! run once over the tree's managed/ (what the push publishes; each file known by its blob id,
//! so the cache of verdicts answers without an lstat), and a changed file gets the problems of
//! its objects: a conflict between a new object and an old one is reported on both, so the
//! changed side is always named.
//!
//! Updates and deletes (`validate::change`) are judged against what was last pushed (the
//! remote-tracking branch: what Argo CD or Flux applied), for the whole tree at once: a delete
//! is reported on the objects that still reference the deleted one, whose files need not have
//! changed since the last verified tip.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::committed::{Baseline, BaselineRef};
use super::verify::TipCheck;
use crate::fabric::{self, Fabric};
use crate::validate::analyze;
use crate::validate::change::{self, Before};
use crate::validate::{Level, Problem, Validator};

/// The cross-object problems of managed/: by fabric-relative path, and the update and delete
/// ones as (path, problem); and the errors of each file's objects alone, by (blob, JSON or
/// not), as read for that check: a file handed to `check` with those bytes is not analysed
/// again (a first push hands every file over).
type Cross = (
    HashMap<String, Vec<Problem>>,
    Vec<(String, Problem)>,
    HashMap<(git2::Oid, bool), Vec<Problem>>,
);

pub(crate) struct SpecCheck {
    root: std::path::PathBuf,
    validator: Option<Validator>,
    id: &'static str,
    /// Whether reading managed/ writes the cache of verdicts (not for a dry run).
    cache: super::CacheMode,
    /// Cross-object problems of managed/, computed on first use.
    cross: OnceLock<Cross>,
    /// The tree checked (`TipCheck::on_tree`): its managed/ is what the check across objects
    /// reads; the working copy's without one.
    tree: OnceLock<git2::Oid>,
    /// What the last push holds of the managed/ files changed since (None: nothing to
    /// compare with, or those rules are off), read on first use.
    before: OnceLock<Option<Before>>,
}

impl SpecCheck {
    /// The check under the command's validation layers with the fabric's own settings
    /// (`.hnp/validation.toml`) between them; None when they check only the envelope, which
    /// fgd's own tip rules cover.
    pub(crate) fn for_fabric(
        fabric: &Fabric,
        layers: &crate::validate::settings::Layers,
        cache: super::CacheMode,
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
            cache,
            cross: OnceLock::new(),
            tree: OnceLock::new(),
            before: OnceLock::new(),
        })
    }

    fn before(&self) -> Option<&Before> {
        self.before
            .get_or_init(|| {
                let v = self.validator.as_ref()?;
                if !change::wanted(&v.settings) {
                    return None;
                }
                // Never pushed: the cluster has nothing of this branch to compare with.
                let b = Baseline::open(&self.root, BaselineRef::Published).ok()?;
                let shown = format!("{}/", fabric::MANAGED);
                match b.before(&shown, &Default::default(), v) {
                    Ok(before) => Some(before),
                    Err(e) => {
                        tracing::warn!("updates and deletes not checked: {e}");
                        None
                    }
                }
            })
            .as_ref()
    }

    fn cross(&self) -> &Cross {
        self.cross_with(&mut crate::event::Discard)
    }

    /// `cross`, saying how far the read of managed/ is (as `GitPhase::Check`) when it is
    /// made now.
    fn cross_with(&self, sink: &mut dyn crate::event::Sink) -> &Cross {
        self.cross.get_or_init(|| {
            let mut out: HashMap<String, Vec<Problem>> = HashMap::new();
            let mut changes = Vec::new();
            let mut own = HashMap::new();
            let Some(v) = &self.validator else {
                return (out, changes, own);
            };
            // Unchanged files from the cache of verdicts (`verdicts`), the rest read: the
            // tree's files when the check was told its tree, else the working copy's.
            let managed = match git2::Repository::discover(&self.root) {
                Ok(repo) => match self.tree_in(&repo) {
                    Some((tree, prefix)) => super::managed_read::tree_analyses_by_blob(
                        &repo,
                        &tree,
                        &prefix,
                        v,
                        &Default::default(),
                        self.cache,
                        &mut progress_of(sink),
                    ),
                    None => super::managed_read::managed_analyses_by_blob(
                        &repo,
                        &self.root,
                        None,
                        v,
                        &Default::default(),
                        self.cache,
                        &mut progress_of(sink),
                    ),
                }
                .map(|read| {
                    read.into_iter()
                        .map(|(oid, a)| {
                            if let Some(oid) = oid {
                                let json = crate::discover::format_of(&a.rel)
                                    == Some(crate::discover::Format::Json);
                                let errors = a.docs().iter().flat_map(|d| d.problems.iter());
                                let errors = errors.filter(|p| p.is_error()).cloned().collect();
                                own.insert((oid, json), errors);
                            }
                            a
                        })
                        .collect::<Vec<_>>()
                }),
                Err(_) => crate::ingest::read_inputs(
                    &self.root.join(fabric::MANAGED),
                    "managed/",
                    &Default::default(),
                    v,
                    None,
                    &mut Default::default(),
                    &mut progress_of_files(sink),
                ),
            };
            let Ok(managed) = managed else {
                return (out, changes, own);
            };
            let before = self.before().filter(|b| !b.is_empty());
            let outcome = crate::validate::batch::check_with(v, &[], &managed, before);
            for ((fi, _), problems) in outcome.managed {
                if let Some(f) = managed.get(fi) {
                    for p in problems {
                        if change::RULES.contains(&p.rule.0) {
                            changes.push((f.rel.clone(), p));
                        } else {
                            out.entry(f.rel.clone()).or_default().push(p);
                        }
                    }
                }
            }
            (out, changes, own)
        })
    }
}

impl SpecCheck {
    /// The tree told by `on_tree`, and where the fabric is inside it (`""` at the root).
    fn tree_in<'r>(&self, repo: &'r git2::Repository) -> Option<(git2::Tree<'r>, String)> {
        let tree = repo.find_tree(*self.tree.get()?).ok()?;
        let workdir = std::fs::canonicalize(repo.workdir()?).ok()?;
        let root = std::fs::canonicalize(&self.root).ok()?;
        let prefix = root.strip_prefix(workdir).ok()?;
        Some((tree, prefix.to_str()?.replace('\\', "/")))
    }
}

/// A sink that turns the file events of a read into `GitPhase::Check` progress, a few times
/// a second, and drops the rest.
fn progress_of_files(sink: &mut dyn crate::event::Sink) -> impl crate::event::Sink + '_ {
    use crate::event::Event;
    let mut last = std::time::Instant::now();
    move |e: Event| {
        if let Event::FileStarted { index, total, .. } = e {
            if last.elapsed() >= std::time::Duration::from_millis(200) {
                last = std::time::Instant::now();
                sink.emit(Event::GitProgress {
                    phase: crate::git::GitPhase::Check,
                    done: index,
                    total,
                    bytes: 0,
                });
            }
        }
    }
}

/// `GitPhase::Check` progress of a read of managed/, as (done, total).
fn progress_of(sink: &mut dyn crate::event::Sink) -> impl FnMut(usize, usize) + '_ {
    move |done, total| {
        sink.emit(crate::event::Event::GitProgress {
            phase: crate::git::GitPhase::Check,
            done,
            total,
            bytes: 0,
        })
    }
}

/// How a push names a problem the cluster would refuse.
fn line(p: &Problem) -> (Option<usize>, String) {
    (
        Some(p.pos.line),
        format!(
            "{}; the cluster refuses it: fix it, or fgd move it to unmanaged/",
            p.summary()
        ),
    )
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

    fn on_tree(&self, tree: git2::Oid) {
        let _ = self.tree.set(tree);
    }

    fn prepare(&self, sink: &mut dyn crate::event::Sink) {
        self.cross_with(sink);
    }

    fn check(&self, inner: &str, bytes: &[u8]) -> Vec<(Option<usize>, String)> {
        let Some(v) = &self.validator else {
            return Vec::new();
        };
        let format = crate::discover::format_of(inner).unwrap_or(crate::discover::Format::Yaml);
        let json = format == crate::discover::Format::Json;
        // The file as the check across objects read it (same bytes, same format): its errors
        // are known.
        let known = git2::Oid::hash_object(git2::ObjectType::Blob, bytes)
            .ok()
            .and_then(|oid| self.cross().2.get(&(oid, json)));
        let a;
        let mut problems: Vec<&Problem> = match known {
            Some(errors) => errors.iter().collect(),
            None => {
                a = analyze::analyze_with(inner, bytes.to_vec(), format, &Default::default(), v);
                a.docs().iter().flat_map(|d| d.problems.iter()).collect()
            }
        };
        if let Some(more) = self.cross().0.get(inner) {
            problems.extend(more.iter());
        }
        let mut out: Vec<(Option<usize>, String)> = problems
            .into_iter()
            .filter(|p| p.is_error())
            .map(line)
            .collect();
        out.dedup();
        out
    }

    fn whole(&self) -> Vec<(String, Option<usize>, String)> {
        // Nothing of managed/ changed since the last push: no update or delete to judge, and
        // managed/ is not read for it.
        if self.before().is_none_or(Before::is_empty) {
            return Vec::new();
        }
        let mut out: Vec<(String, Option<usize>, String)> = self
            .cross()
            .1
            .iter()
            .filter(|(_, p)| p.is_error())
            .map(|(path, p)| {
                let (l, m) = line(p);
                (path.clone(), l, m)
            })
            .collect();
        out.dedup();
        out
    }
}
