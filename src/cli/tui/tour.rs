//! `fgd demo --tour`: a guided walk through the demo, one step at a time, each step moving on
//! by itself once the operator has done what it asks: a problem found with `n`, the broken
//! lab-vpcs.yaml fixed in the editor, the fabric ingested, the plan read, the push, and at
//! the end what the remote now holds. It never takes a key: F2 shows or hides it.

use fgd::inspect::repo::RemoteView;
use fgd::inspect::FileState;

use super::app::{App, Effect};
use super::keymap::Action;

/// The file the tour fixes.
const BROKEN: &str = "raw/lab-vpcs.yaml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    FindProblem,
    ReachFile,
    Fix,
    Ingest,
    Plan,
    Push,
    Remote,
}

const STEPS: [Step; 7] = [
    Step::FindProblem,
    Step::ReachFile,
    Step::Fix,
    Step::Ingest,
    Step::Plan,
    Step::Push,
    Step::Remote,
];

#[derive(Debug, Clone)]
pub struct Tour {
    pub step: Step,
    /// The fabric holding the broken file, once it was reached.
    fabric: Option<usize>,
    jobs: Vec<(Action, usize, bool)>,
    plan_seen: bool,
    pub remote: Option<RemoteView>,
}

impl Tour {
    pub fn start() -> Tour {
        Tour {
            step: Step::FindProblem,
            fabric: None,
            jobs: Vec::new(),
            plan_seen: false,
            remote: None,
        }
    }

    /// A job ended (action, fabric, whether it succeeded).
    pub fn job_done(&mut self, action: Action, fabric: usize, ok: bool) {
        self.jobs.push((action, fabric, ok));
    }

    /// What the dashboard was asked to do: the plan view asks for the push's diff.
    pub fn observe_effects(&mut self, effects: &[Effect]) {
        if self.step == Step::Plan && effects.iter().any(|e| matches!(e, Effect::Diff(_))) {
            self.plan_seen = true;
        }
    }

    fn done(&self, app: &App) -> bool {
        let selected = app.selected_file();
        // A job of that action done well, on the fabric of the fixed file once it is known.
        let ran = |a: Action| {
            self.jobs
                .iter()
                .any(|(j, f, ok)| *j == a && *ok && self.fabric.is_none_or(|t| t == *f))
        };
        match self.step {
            Step::FindProblem => selected.is_some_and(|f| f.needs_attention()),
            Step::ReachFile => selected.is_some_and(|f| f.rel == BROKEN),
            Step::Fix => self
                .fabric
                .and_then(|i| app.fabrics.get(i))
                .and_then(|f| f.files.iter().find(|e| e.rel == BROKEN))
                .is_some_and(|e| e.state == FileState::Valid),
            Step::Ingest => ran(Action::Ingest),
            Step::Plan => self.plan_seen,
            Step::Push => ran(Action::Push),
            Step::Remote => false,
        }
    }

    /// Move on past every step already done.
    pub fn advance(&mut self, app: &App) {
        if self.step == Step::ReachFile && app.selected_file().is_some_and(|f| f.rel == BROKEN) {
            self.fabric = Some(app.fabric_sel);
        }
        while self.done(app) {
            let at = STEPS.iter().position(|s| *s == self.step).unwrap_or(0);
            self.step = STEPS[(at + 1).min(STEPS.len() - 1)];
            if self.step == Step::ReachFile && app.selected_file().is_some_and(|f| f.rel == BROKEN)
            {
                self.fabric = Some(app.fabric_sel);
            }
        }
    }

    /// The step's text.
    pub fn text(&self) -> Vec<String> {
        let n = STEPS.iter().position(|s| *s == self.step).unwrap_or(0) + 1;
        let head = format!("Tour {n}/{}", STEPS.len());
        let body: Vec<String> = match self.step {
            Step::FindProblem => vec![
                "Three fabrics, nothing ingested yet; lab-broken holds the usual mistakes.".into(),
                "Press n: it goes to the next problem, in whichever fabric it is.".into(),
            ],
            Step::ReachFile => vec![
                "The detail lists the file's problems first, each with its line and the \
                 source around it. z zooms it, p lists only the files with problems."
                    .into(),
                format!("Press n until {BROKEN} is selected."),
            ],
            Step::Fix => vec![
                "Its document 2 does not parse: vlan is indented one space short.".into(),
                "Press e: the editor opens at the error. Type a space, Ctrl-S saves, Esc \
                 leaves, and the file turns ✓ (E would hand it to $EDITOR instead)."
                    .into(),
            ],
            Step::Ingest => vec![
                "Fixed. Press i, then y: the good documents go to managed/, the rest to \
                 unmanaged/ with their reasons."
                    .into(),
            ],
            Step::Plan => vec![
                "Press d: what an ingest would do now, and the patch a push would commit \
                 (Esc closes it)."
                    .into(),
            ],
            Step::Push => vec![
                "Press P, then y: the fabric is committed and pushed to the demo's remote.".into(),
            ],
            Step::Remote => match &self.remote {
                None => vec!["Pushed. Reading what the remote holds...".into()],
                Some(r) => {
                    let mut v = vec![format!("The remote ({}) now holds:", r.branch)];
                    v.extend(r.log.iter().map(|l| format!("  {l}")));
                    v.push(format!(
                        "  {} managed files, e.g. {}",
                        r.managed.len(),
                        r.managed.first().map_or("-", String::as_str)
                    ));
                    v.push("That is the whole loop. F2 closes the tour.".into());
                    v
                }
            },
        };
        std::iter::once(head).chain(body).collect()
    }
}
