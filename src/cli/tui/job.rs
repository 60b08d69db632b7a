//! A running job's progress, typed: the stage it is in (an ingest phase or a git phase), what
//! that stage has done out of its total, and the running counts. Folded from the engine's
//! events on the job's own thread (`Progress::apply`), and sent to the loop a few times a
//! second as one snapshot, so a 100,000-file ingest costs the loop no more than a frame's
//! worth of work per tick.

use std::time::{Duration, Instant};

use fgd::event::{Event, Fate, GitPhase, Phase, PlanAction};

use super::keymap::Action;

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Starting,
    Ingest(Phase),
    Git(GitPhase),
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Starting => "starting",
            Stage::Ingest(p) => match p {
                Phase::Recover => "recover",
                Phase::Discover => "discover",
                Phase::Read => "read",
                Phase::Classify => "read and classify",
                Phase::Plan => "plan",
                Phase::Journal => "journal",
                Phase::Write => "write",
                Phase::Index => "index",
                Phase::Cleanup => "cleanup",
            },
            Stage::Git(p) => match p {
                GitPhase::Commit => "git commit",
                GitPhase::Fetch => "git fetch",
                GitPhase::Rebase => "git rebase",
                GitPhase::Push => "git push",
                GitPhase::Pack => "git pack",
                GitPhase::Check => "check the tip",
            },
        }
    }

    /// What the stage counts, when it counts something.
    pub fn unit(self) -> &'static str {
        match self {
            Stage::Ingest(Phase::Classify | Phase::Plan | Phase::Read) => "files",
            Stage::Ingest(Phase::Write) => "writes",
            Stage::Ingest(Phase::Journal) => "steps",
            Stage::Ingest(Phase::Cleanup) => "originals",
            Stage::Git(_) => "objects",
            _ => "",
        }
    }
}

/// Done out of a total; `done` never passes `total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    pub done: usize,
    pub total: usize,
}

impl Count {
    pub fn new(done: usize, total: usize) -> Count {
        Count {
            done: done.min(total),
            total,
        }
    }

    pub fn ratio(self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.done as f64 / self.total as f64
        }
    }
}

/// What a job has done so far: the part the job's thread folds from events.
#[derive(Debug, Clone)]
pub struct Progress {
    pub stage: Stage,
    /// The current stage's own count, when it has one.
    pub count: Option<Count>,
    /// When the current stage began (its rate and ETA are of it alone).
    pub stage_started: Instant,
    /// Documents classified, and how many of them are managed and unmanaged.
    pub documents: usize,
    pub managed: usize,
    pub unmanaged: usize,
    /// Errors reported (files that could not be read, refusals in a dry run).
    pub errors: usize,
    pub current: String,
    /// Each stage that ended, and how long it took.
    pub stages: Vec<(Stage, Duration)>,
}

impl Default for Progress {
    fn default() -> Progress {
        Progress {
            stage: Stage::Starting,
            count: None,
            stage_started: Instant::now(),
            documents: 0,
            managed: 0,
            unmanaged: 0,
            errors: 0,
            current: String::new(),
            stages: Vec::new(),
        }
    }
}

/// What an event means to the operator beyond the counts: a line for the log, or a line of a
/// dry run's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    Log(String),
    Planned(String),
}

impl Progress {
    fn enter(&mut self, stage: Stage, total: Option<usize>) {
        if self.stage != Stage::Starting {
            self.stages.push((self.stage, self.stage_started.elapsed()));
        }
        self.stage = stage;
        self.stage_started = Instant::now();
        self.count = total.map(|t| Count::new(0, t));
    }

    fn advance(&mut self, done: usize, total: usize) {
        self.count = Some(Count::new(done, total));
    }

    /// Items per second in the current stage, once there is enough to say.
    pub fn rate(&self) -> Option<f64> {
        let c = self.count?;
        let secs = self.stage_started.elapsed().as_secs_f64();
        (c.done > 0 && secs >= 0.2).then(|| c.done as f64 / secs)
    }

    /// Time left in the current stage at its rate so far.
    pub fn eta(&self) -> Option<Duration> {
        let c = self.count?;
        let rate = self.rate()?;
        Some(Duration::from_secs_f64((c.total - c.done) as f64 / rate))
    }

    /// Fold one event in; what it says beyond the counts comes back as a note.
    pub fn apply(&mut self, e: Event) -> Option<Note> {
        match e {
            Event::PhaseStarted { phase, total } => {
                self.enter(Stage::Ingest(phase), total);
                None
            }
            Event::Recovering { batch, .. } => Some(Note::Log(format!(
                "recovering the interrupted batch {batch}"
            ))),
            Event::FileStarted { file, index, total } => {
                self.advance(index + 1, total);
                self.current = file;
                None
            }
            Event::FileFinished { file, .. } => {
                if self.stage == Stage::Ingest(Phase::Plan) {
                    let c = self.count.unwrap_or_default();
                    self.advance(c.done + 1, c.total);
                    self.current = file;
                }
                None
            }
            Event::DocumentClassified {
                file,
                fate,
                object,
                pos,
                ..
            } => {
                self.documents += 1;
                match fate {
                    Fate::Managed { .. } => {
                        self.managed += 1;
                        None
                    }
                    Fate::Unmanaged { code, path, .. } => {
                        self.unmanaged += 1;
                        let at = pos
                            .map(|p| format!(":{}:{}", p.line, p.column))
                            .unwrap_or_default();
                        let what = object.map(|o| format!(" {o}")).unwrap_or_default();
                        let to = path.map(|p| format!(" -> {p}")).unwrap_or_default();
                        Some(Note::Log(format!(
                            "{file}{at}:{what} unmanaged [{}]{to}",
                            code.as_str()
                        )))
                    }
                    Fate::Empty => None,
                }
            }
            Event::Planned { action } => Some(Note::Planned(match action {
                PlanAction::Write { path } => format!("write   {path}"),
                PlanAction::Replace { path } => format!("replace {path}"),
                PlanAction::Unchanged { path } => format!("keep    {path}"),
                PlanAction::Move { from, to } => format!("move    {from} -> {to}"),
                PlanAction::Archive { from, to } => format!("archive {from} -> {to}"),
                PlanAction::Remove { path } => format!("remove  {path}"),
            })),
            Event::Progress { done, total, .. } => {
                self.advance(done, total);
                None
            }
            Event::Error { file, message } => {
                self.errors += 1;
                let file = file.map(|f| format!("{f}: ")).unwrap_or_default();
                Some(Note::Log(format!("error: {file}{message}")))
            }
            Event::BatchFinished { summary } => {
                if let Some(c) = self.count {
                    self.count = Some(Count::new(c.total, c.total));
                }
                Some(Note::Log(format!(
                    "batch: {} files, {} managed, {} unmanaged in {} ms",
                    summary.files,
                    summary.managed(),
                    summary.unmanaged,
                    summary.millis
                )))
            }
            Event::GitPhaseStarted { phase, detail } => {
                self.enter(Stage::Git(phase), None);
                Some(Note::Log(format!("{}: {detail}", Stage::Git(phase).name())))
            }
            Event::GitProgress {
                phase, done, total, ..
            } => {
                if self.stage != Stage::Git(phase) {
                    self.enter(Stage::Git(phase), None);
                }
                let finished =
                    total > 0 && done >= total && self.count.is_none_or(|c| c.done < c.total);
                self.advance(done, total);
                (phase == GitPhase::Push && finished)
                    .then(|| Note::Log(format!("git push: {done}/{total} objects")))
            }
            Event::GitRemote {
                line,
                progress: false,
            } => Some(Note::Log(format!("remote: {line}"))),
            Event::GitRemote { .. } => None,
            Event::GitCommitted {
                commit, summary, ..
            } => Some(Note::Log(format!(
                "commit {}: {summary}",
                &commit[..commit.len().min(10)]
            ))),
            Event::GitPushed {
                remote,
                branch,
                commit,
                ..
            } => Some(Note::Log(format!(
                "pushed {remote}/{branch} = {}",
                &commit[..commit.len().min(10)]
            ))),
            Event::GitUpToDate {
                remote,
                branch,
                commit,
                ..
            } => Some(Note::Log(format!(
                "{remote}/{branch} already holds {}: nothing to push",
                &commit[..commit.len().min(10)]
            ))),
            Event::GitLeftOut { path, reason } => {
                Some(Note::Log(format!("git commit: left out {path} ({reason})")))
            }
            Event::GitOtherCommit {
                commit,
                subject,
                author,
                why,
            } => Some(Note::Log(format!(
                "git push: also publishes {} {subject:?} by {author} ({why})",
                &commit[..commit.len().min(10)]
            ))),
            Event::Problem { file, problem, .. } if problem.is_error() => Some(Note::Log(format!(
                "{file}:{}:{}: {}",
                problem.pos.line,
                problem.pos.column,
                problem.summary()
            ))),
            Event::FileSkipped { .. }
            | Event::Watching { .. }
            | Event::FileVanished { .. }
            | Event::ValidationSettings { .. }
            | Event::Problem { .. } => None,
        }
    }

    /// One log line: every stage of the job and how long it took.
    pub fn timings(&self) -> Option<String> {
        let mut stages = self.stages.clone();
        if self.stage != Stage::Starting {
            stages.push((self.stage, self.stage_started.elapsed()));
        }
        let parts: Vec<String> = stages
            .iter()
            .map(|(s, d)| format!("{} {} ms", s.name(), d.as_millis()))
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// A running job: what it is, on which fabric, and its progress.
#[derive(Debug, Clone)]
pub struct Job {
    pub action: Action,
    pub fabric: String,
    pub fabric_index: usize,
    pub started: Instant,
    pub progress: Progress,
}

impl Job {
    pub fn new(action: Action, fabric: String, fabric_index: usize) -> Job {
        Job {
            action,
            fabric,
            fabric_index,
            started: Instant::now(),
            progress: Progress::default(),
        }
    }
}

/// Folds a job's events on its own thread and hands the loop a snapshot at most every
/// `every` (and at each change of stage, so no stage goes unseen for long): the loop's work
/// per tick stays the same however fast events come.
pub struct Coalescer {
    pub progress: Progress,
    notes: Vec<Note>,
    every: Duration,
    last: Option<Instant>,
}

impl Coalescer {
    pub fn new(every: Duration) -> Coalescer {
        Coalescer {
            progress: Progress::default(),
            notes: Vec::new(),
            every,
            last: None,
        }
    }

    /// Fold `e` in; a snapshot to send when one is due.
    pub fn push(&mut self, e: Event) -> Option<(Progress, Vec<Note>)> {
        let stage = self.progress.stage;
        self.notes.extend(self.progress.apply(e));
        let due = self.last.is_none_or(|t| t.elapsed() >= self.every);
        (due || stage != self.progress.stage).then(|| self.take())
    }

    /// The snapshot now, whatever the time.
    pub fn take(&mut self) -> (Progress, Vec<Note>) {
        self.last = Some(Instant::now());
        (self.progress.clone(), std::mem::take(&mut self.notes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fgd::event::{Change, Summary};

    fn file_started(index: usize, total: usize) -> Event {
        Event::FileStarted {
            file: format!("raw/f{index}.yaml"),
            index,
            total,
        }
    }

    #[test]
    fn counts_never_pass_their_total_in_any_stage() {
        let mut p = Progress::default();
        p.apply(Event::PhaseStarted {
            phase: Phase::Classify,
            total: Some(3),
        });
        for i in 0..3 {
            p.apply(file_started(i, 3));
        }
        assert_eq!(p.count, Some(Count::new(3, 3)));
        // The plan phase counts the same files again, from zero.
        p.apply(Event::PhaseStarted {
            phase: Phase::Plan,
            total: Some(3),
        });
        assert_eq!(p.count, Some(Count::new(0, 3)));
        for i in 0..5 {
            p.apply(Event::FileFinished {
                file: format!("raw/f{i}.yaml"),
                outcome: fgd::event::FileOutcome::Split {
                    managed: 1,
                    unmanaged: 0,
                    empty: 0,
                },
            });
        }
        assert_eq!(p.count, Some(Count::new(3, 3)), "never 5/3");
        p.apply(Event::Progress {
            phase: Phase::Write,
            done: 9,
            total: 4,
        });
        assert_eq!(p.count.map(|c| c.done), Some(4));
        assert_eq!(p.stage, Stage::Ingest(Phase::Plan));
        assert_eq!(p.stages.len(), 1);
    }

    #[test]
    fn documents_are_counted_managed_and_unmanaged_never_failed() {
        let mut p = Progress::default();
        let managed = Event::DocumentClassified {
            file: "raw/a.yaml".into(),
            index: 0,
            pos: None,
            object: Some("VPC/a".into()),
            fate: Fate::Managed {
                path: "vpcs/a.yaml".into(),
                change: Change::Create,
                replaced_hand_edit: None,
            },
        };
        assert_eq!(p.apply(managed), None);
        let note = p.apply(Event::DocumentClassified {
            file: "raw/b.yaml".into(),
            index: 1,
            pos: Some(fgd::yaml::Pos { line: 7, column: 3 }),
            object: Some("VPC/B".into()),
            fate: Fate::Unmanaged {
                code: fgd::classify::ReasonCode::BadName,
                reason: "uppercase".into(),
                path: Some("unmanaged/b.doc2.yaml.unmanaged".into()),
            },
        });
        assert_eq!(
            note,
            Some(Note::Log(
                "raw/b.yaml:7:3: VPC/B unmanaged [bad-name] -> unmanaged/b.doc2.yaml.unmanaged"
                    .into()
            ))
        );
        assert_eq!((p.documents, p.managed, p.unmanaged), (2, 1, 1));
        let done = p.apply(Event::BatchFinished {
            summary: Summary::default(),
        });
        assert!(matches!(done, Some(Note::Log(l)) if l.starts_with("batch:")));
    }

    #[test]
    fn the_coalescer_sends_a_snapshot_per_interval_and_at_each_new_stage() {
        let mut c = Coalescer::new(Duration::from_secs(3600));
        assert!(c
            .push(Event::PhaseStarted {
                phase: Phase::Classify,
                total: Some(1000)
            })
            .is_some());
        let sent = (0..1000)
            .filter_map(|i| c.push(file_started(i, 1000)))
            .count();
        assert_eq!(sent, 0, "within the interval nothing more is sent");
        assert!(c
            .push(Event::PhaseStarted {
                phase: Phase::Plan,
                total: Some(1000)
            })
            .is_some());
        let (p, _) = c.take();
        assert_eq!(p.stage, Stage::Ingest(Phase::Plan));
        assert_eq!(p.stages[0].0, Stage::Ingest(Phase::Classify));
    }
}
