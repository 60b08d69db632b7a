//! Rendering the engine's events: one line per event as NDJSON (`--json`), or human lines in
//! the `file:line:col: message` form editors and CI logs link to, with a progress bar when
//! stdout is a terminal (indicatif: fitted to the terminal's width, redrawn at most ten times a
//! second, taken off the screen while a line is printed above it).

pub mod threaded;

use std::io::{IsTerminal, Write};

use fgd::event::{Change, Event, Fate, FileOutcome, PlanAction, Sink, Skip, Summary};
use fgd::ops::status::Status;
use fgd::ops::MoveReport;

pub struct Renderer {
    json: bool,
    verb: &'static str,
    tty: bool,
    /// Shown from the first progress event on, on a terminal only. While it is, every line
    /// goes out (flushed) under `ProgressBar::suspend`, so lines and bar never interleave.
    bar: Option<indicatif::ProgressBar>,
    /// Per file, not per document: a line for each file (and one for each document that is not
    /// managed, which needs the operator), so 10^4 objects over a slow SSH link are not 10^4 lines.
    per_file: Option<FileTally>,
    /// The file and reason of the last document reported unmanaged: a file kept whole for
    /// that very reason (its only document) is not told a third time.
    last_unmanaged: Option<(String, String)>,
    out: std::io::BufWriter<std::io::Stdout>,
}

/// The managed documents of the file being reported, said in its one line.
#[derive(Default)]
struct FileTally {
    file: String,
    new: usize,
    updated: usize,
    unchanged: usize,
    unmanaged: usize,
    empty: usize,
}

impl FileTally {
    /// `raw/a.yaml: 4 documents: 3 managed (2 new, 1 unchanged), 1 unmanaged`
    fn line(&self) -> String {
        let managed = self.new + self.updated + self.unchanged;
        let docs = managed + self.unmanaged + self.empty;
        let mut changes = Vec::new();
        for (n, what) in [
            (self.new, "new"),
            (self.updated, "updated"),
            (self.unchanged, "unchanged"),
        ] {
            if n > 0 {
                changes.push(format!("{n} {what}"));
            }
        }
        let mut parts = vec![format!("{managed} managed")];
        if !changes.is_empty() {
            parts[0].push_str(&format!(" ({})", changes.join(", ")));
        }
        if self.unmanaged > 0 {
            parts.push(format!("{} unmanaged", self.unmanaged));
        }
        if self.empty > 0 {
            parts.push(format!("{} only comments", self.empty));
        }
        format!(
            "{}: {}: {}",
            self.file,
            count(docs, "document"),
            parts.join(", ")
        )
    }
}

impl Renderer {
    pub fn new(json: bool, verb: &'static str) -> Renderer {
        let tty = !json && std::io::stdout().is_terminal();
        Renderer {
            json,
            verb,
            tty,
            bar: None,
            per_file: None,
            last_unmanaged: None,
            out: std::io::BufWriter::new(std::io::stdout()),
        }
    }

    /// Human output says one line per file unless `every_document`; JSON is never summarised.
    pub fn per_file(mut self, every_document: bool) -> Renderer {
        if !every_document && !self.json {
            self.per_file = Some(FileTally::default());
        }
        self
    }

    fn line(&mut self, s: &str) {
        self.line_fmt(format_args!("{s}"));
    }

    /// A line of output, printed above the progress bar when one is shown.
    fn line_fmt(&mut self, args: std::fmt::Arguments) {
        let out = &mut self.out;
        let write = |out: &mut std::io::BufWriter<std::io::Stdout>| {
            let _ = out.write_fmt(args);
            let _ = out.write_all(b"\n");
        };
        // Every line goes out as it is made, to a terminal or a pipe alike: a CI log of a run
        // ended by SIGTERM still has every line said before (the commit id among them).
        match &self.bar {
            Some(bar) => bar.suspend(|| {
                write(out);
                let _ = out.flush();
            }),
            None => {
                write(out);
                let _ = out.flush();
            }
        }
    }

    /// The bar off the screen for good (the command's end).
    fn clear_bar(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn bar(&mut self, done: usize, total: usize, what: &str) {
        if !self.tty || total == 0 {
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            // Whatever was printed before goes out before the bar is first drawn.
            let _ = self.out.flush();
            let style =
                indicatif::ProgressStyle::with_template("[{bar:24}] {pos}/{len} {wide_msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("## ");
            indicatif::ProgressBar::with_draw_target(
                Some(total as u64),
                indicatif::ProgressDrawTarget::stdout_with_hz(10),
            )
            .with_style(style)
        });
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        bar.set_message(tail(what, 40));
    }

    /// The closing record of a command: a JSON line; for humans the events already said it.
    pub fn done(&mut self, v: &serde_json::Value) {
        self.clear_bar();
        if self.json {
            self.line(&v.to_string());
        }
        let _ = self.out.flush();
    }

    pub fn moved(&mut self, r: &MoveReport) {
        if self.json {
            self.line(&serde_json::json!({"event": "moved", "from": r.from, "to": r.to, "reason_file": r.reason_file, "batch": r.batch}).to_string());
        } else {
            self.line(&format!("{}: {} -> {}", self.verb, r.from, r.to));
        }
        let _ = self.out.flush();
    }

    fn summary(&mut self, s: &Summary) {
        let managed = s.managed();
        let mut parts = vec![format!(
            "{}, {}",
            count(s.files, "file"),
            count(s.documents, "document")
        )];
        parts.push(format!(
            "{managed} managed ({} new, {} updated, {} unchanged)",
            s.created, s.updated, s.unchanged
        ));
        parts.push(format!("{} unmanaged", s.unmanaged));
        if s.files_unmanaged_whole > 0 {
            parts.push(format!(
                "{} kept whole in unmanaged/",
                count(s.files_unmanaged_whole, "file")
            ));
        }
        if s.conflicts > 0 {
            parts.push(format!("{} in conflict", s.conflicts));
        }
        if s.errors + s.warnings > 0 {
            parts.push(format!(
                "{}, {}",
                count(s.errors, "validation error"),
                count(s.warnings, "warning")
            ));
        }
        if s.pending > 0 {
            parts.push(format!("{} pending", s.pending));
        }
        if s.ignored + s.not_regular > 0 {
            parts.push(format!("{} skipped", s.ignored + s.not_regular));
        }
        let what = if s.dry_run && self.verb == "plan" {
            "plan (dry run, nothing changed)"
        } else {
            self.verb
        };
        let batch = s
            .batch
            .as_deref()
            .map(|b| format!(" [batch {b}]"))
            .unwrap_or_default();
        self.line(&format!(
            "{what}: {} in {} ms{batch}",
            parts.join(", "),
            s.millis
        ));
    }
}

/// The end of `name` in at most `max` characters, `…` before it when cut: the end of a path
/// says more than its start. (The bar's `wide_msg` then cuts only on a very narrow terminal.)
fn tail(name: &str, max: usize) -> String {
    let n = name.chars().count();
    if n <= max {
        return name.to_string();
    }
    let kept: String = name.chars().skip(n - (max - 1)).collect();
    format!("…{kept}")
}

impl Drop for Renderer {
    fn drop(&mut self) {
        self.clear_bar();
    }
}

/// `1 file`, `2 files`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `file:line:column`, or the file alone.
struct At<'a>(&'a str, Option<fgd::yaml::Pos>);
impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.1 {
            Some(p) => write!(f, "{}:{}:{}", self.0, p.line, p.column),
            None => f.write_str(self.0),
        }
    }
}

/// `Kind/name: `, or nothing.
struct Obj<'a>(Option<&'a str>);
impl std::fmt::Display for Obj<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(o) => write!(f, "{o}: "),
            None => Ok(()),
        }
    }
}

impl Renderer {
    /// Flush, and tell whether nobody reads the output any more (`fgd watch | head` once
    /// `head` has its lines): a long-running command then stops instead of writing to no one.
    pub fn reader_gone(&mut self) -> bool {
        self.out
            .flush()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

impl Sink for Renderer {
    fn emit_line(&mut self, line: String) -> Result<(), serde_json::Error> {
        if self.json {
            self.line(&line);
            return Ok(());
        }
        self.emit(serde_json::from_str(&line)?);
        Ok(())
    }

    fn emit(&mut self, event: Event) {
        if self.json {
            if let Ok(s) = serde_json::to_string(&event) {
                self.line(&s);
            }
            if matches!(
                event,
                Event::BatchFinished { .. } | Event::Watching { .. } | Event::FileVanished { .. }
            ) {
                let _ = self.out.flush();
            }
            return;
        }
        match event {
            Event::FileStarted { file, index, total } => self.bar(index, total, &file),
            Event::Recovering {
                batch,
                command,
                steps,
            } => self.line(&format!(
                "recovering: finishing interrupted {command} batch {batch} ({steps} steps)"
            )),
            Event::FileSkipped { file, skip } => {
                let s = match skip {
                    Skip::Ignored { detail } => format!("{file}: skipped: {detail}"),
                    Skip::NotRegular { detail } => format!("{file}: skipped: {detail}"),
                    Skip::Pending { detail } => format!("{file}: pending: {detail}"),
                };
                self.line(&s);
            }
            Event::DocumentClassified {
                file,
                index,
                pos: p,
                object,
                fate,
            } => {
                if let Some(t) = &mut self.per_file {
                    if t.file != file {
                        *t = FileTally {
                            file: file.clone(),
                            ..FileTally::default()
                        };
                    }
                    match &fate {
                        Fate::Managed { change, .. } => match change {
                            Change::Create => t.new += 1,
                            Change::Update => t.updated += 1,
                            Change::Unchanged => t.unchanged += 1,
                        },
                        Fate::Unmanaged { .. } => t.unmanaged += 1,
                        Fate::Empty => t.empty += 1,
                    }
                    // What needs the operator still gets its own line, with line and column
                    // (a replaced hand edit too).
                    let hand_edit = matches!(
                        fate,
                        Fate::Managed {
                            replaced_hand_edit: Some(_),
                            ..
                        }
                    );
                    if !matches!(fate, Fate::Unmanaged { .. }) && !hand_edit {
                        return;
                    }
                }
                // Written straight out, not built first: an ingest may print one per document.
                let (at, obj) = (At(&file, p), Obj(object.as_deref()));
                match fate {
                    Fate::Managed {
                        path,
                        change,
                        replaced_hand_edit,
                    } => {
                        let c = match change {
                            Change::Create => "new",
                            Change::Update => "updated",
                            Change::Unchanged => "unchanged",
                        };
                        match replaced_hand_edit {
                            Some(kept) => self.line_fmt(format_args!(
                                "{at}: {obj}managed ({c}) -> {path}, replacing a hand edit of it, kept as {kept}"
                            )),
                            None => self.line_fmt(format_args!("{at}: {obj}managed ({c}) -> {path}")),
                        }
                    }
                    Fate::Unmanaged { code, reason, path } => {
                        let (arrow, to) = match &path {
                            Some(p) => (" -> ", p.as_str()),
                            None => ("", ""),
                        };
                        self.line_fmt(format_args!(
                            "{at}: document {}: {obj}unmanaged [{}] {reason}{arrow}{to}",
                            index + 1,
                            code.as_str()
                        ));
                        self.last_unmanaged = Some((file, reason));
                    }
                    Fate::Empty => self.line_fmt(format_args!(
                        "{at}: document {}: only comments, nothing to manage",
                        index + 1
                    )),
                }
            }
            Event::FileFinished { file, outcome } => match outcome {
                FileOutcome::WholeUnmanaged { code, reason, path } => {
                    let to = path.map(|p| format!(" -> {p}")).unwrap_or_default();
                    let said = self.last_unmanaged.take();
                    let reason = match said {
                        Some((f, r)) if f == file && r == reason => "(its only document, above)",
                        _ => reason.as_str(),
                    };
                    self.line(&format!(
                        "{file}: whole file unmanaged [{}] {reason}{to}",
                        code.as_str()
                    ));
                }
                FileOutcome::Split { .. } => {
                    if let Some(t) = self.per_file.take() {
                        // A file with no document event (none to report) still gets its line.
                        let t = if t.file == file {
                            t
                        } else {
                            FileTally {
                                file,
                                ..FileTally::default()
                            }
                        };
                        self.line(&t.line());
                        self.per_file = Some(FileTally::default());
                    }
                }
            },
            Event::Planned { action } => {
                let s = match action {
                    PlanAction::Write { path } => format!("  plan: write   {path}"),
                    PlanAction::Replace { path } => format!("  plan: replace {path}"),
                    PlanAction::Unchanged { path } => format!("  plan: keep    {path} (unchanged)"),
                    PlanAction::Move { from, to } => format!("  plan: move    {from} -> {to}"),
                    PlanAction::Archive { from, to } => format!("  plan: archive {from} -> {to}"),
                    PlanAction::Remove { path } => format!("  plan: remove  {path}"),
                };
                self.line(&s);
            }
            Event::Progress { phase, done, total } => {
                if self.tty {
                    self.bar(done, total, &format!("{phase:?}").to_lowercase());
                }
            }
            Event::BatchFinished { summary } => {
                self.clear_bar();
                self.summary(&summary);
                let _ = self.out.flush();
            }
            Event::Error { file, message } => {
                let s = match file {
                    Some(f) => format!("{f}: error: {message}"),
                    None => format!("error: {message}"),
                };
                self.line(&s);
            }
            Event::PhaseStarted { .. } => {}
            Event::ValidationSettings {
                rules,
                crds,
                config,
                default,
            } => {
                // validate says what it checked when that is not fgd's default; an ingest's
                // record says it in the JSON events and the log.
                if !default && self.verb == "validate" {
                    self.line(&format!("{}: {rules}; {crds}; {config}", self.verb));
                }
            }
            Event::Problem {
                file,
                object,
                problem,
            } => {
                let at = At(&file, Some(problem.pos));
                let obj = Obj(object.as_deref());
                self.line_fmt(format_args!(
                    "{at}: {}: {obj}{}",
                    problem.severity.as_str(),
                    problem.one_line()
                ));
            }
            Event::Watching { dir, quiet_ms } => {
                self.line(&format!(
                    "watching {dir} (a file written in place is classified after {quiet_ms} ms of quiet; Ctrl-C stops)"
                ));
                let _ = self.out.flush();
            }
            Event::FileVanished { file } => {
                self.line(&format!("{file}: gone"));
                let _ = self.out.flush();
            }
            Event::GitPhaseStarted { phase, detail } => self.line(&format!(
                "git {}: {detail}",
                format!("{phase:?}").to_lowercase()
            )),
            Event::GitProgress {
                phase,
                done,
                total,
                bytes,
            } => {
                if self.tty {
                    self.bar(
                        done,
                        total,
                        &format!(
                            "{} {} KiB",
                            format!("{phase:?}").to_lowercase(),
                            bytes / 1024
                        ),
                    );
                }
            }
            // A phase's updates are redrawn in place on a terminal and left out of a log; its
            // last line is said.
            Event::GitRemote {
                line,
                progress: true,
            } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("remote: {line}"));
                }
            }
            Event::GitRemote { line, .. } => self.line(&format!("remote: {line}")),
            Event::GitCommitted {
                commit,
                summary,
                added,
                modified,
                deleted,
            } => self.line(&format!(
                "git commit {}: {summary} ({added} added, {modified} modified, {deleted} deleted)",
                &commit[..commit.len().min(10)]
            )),
            Event::GitPushed {
                remote,
                branch,
                commit,
                url,
            } => self.line(&format!(
                "git push: {remote}/{branch} is now {} ({url})",
                &commit[..commit.len().min(10)]
            )),
            Event::GitUpToDate {
                remote,
                branch,
                commit,
                url,
            } => self.line(&format!(
                "git push: {remote}/{branch} already holds {} ({url}): nothing to push",
                &commit[..commit.len().min(10)]
            )),
            Event::GitLeftOut { path, reason } => self.line(&format!(
                "git commit: left out: {path} ({reason}: ingest leaves it in raw/ too)"
            )),
            Event::GitOtherCommit {
                commit,
                subject,
                author,
                why,
            } => self.line(&format!(
                "git push: also publishes {} {subject} ({author}): {why}",
                &commit[..commit.len().min(10)]
            )),
        }
    }
}

pub fn status(st: &Status, git: Option<&fgd::git::GitState>, json: bool) {
    if json {
        outln!(
            "{}",
            serde_json::json!({"event": "status", "status": st, "git": git})
        );
        return;
    }
    outln!(
        "fabric {:?} at {} (structure v{})",
        st.fabric,
        st.path,
        st.structure_version
    );
    outln!(
        "  raw:       {} files waiting for ingest{}",
        st.raw_pending,
        if st.raw_skipped > 0 {
            format!(", {} skipped", st.raw_skipped)
        } else {
            String::new()
        }
    );
    outln!("  managed:   {} objects", st.managed);
    outln!("  unmanaged: {} items", st.unmanaged);
    outln!(
        "  validation: {} errors, {} warnings ({})",
        st.validation.errors,
        st.validation.warnings,
        st.validation.rules
    );
    match &st.last_batch {
        Some(b) => outln!(
            "  last batch: {} {} at {}: {} files, {} managed, {} unmanaged",
            b.command,
            b.batch,
            b.finished_at,
            b.files,
            b.managed,
            b.unmanaged
        ),
        None => outln!("  last batch: none"),
    }
    match &st.lock {
        Some(o) => outln!(
            "  lock: held by pid {} on host {} since {} ({})",
            o.pid,
            o.host,
            o.since,
            o.command
        ),
        None => outln!("  lock: free"),
    }
    match git {
        Some(g) => {
            if g.detached {
                outln!(
                    "  git: {} (fgd commits onto and pushes only a checked-out branch: git checkout <branch>), {} uncommitted fabric paths",
                    g.branch, g.uncommitted
                );
            } else {
                let upstream = match &g.upstream {
                    Some(_) => format!(
                        "{} ahead, {} behind {}/{}",
                        g.ahead, g.behind, g.remote, g.branch
                    ),
                    None => format!("no {}/{} fetched yet", g.remote, g.branch),
                };
                outln!(
                    "  git: branch {}, {upstream}, {} uncommitted fabric paths{}",
                    g.branch,
                    g.uncommitted,
                    if g.unfinished.is_some() {
                        " (as the disk is now: push and sync first finish the unfinished batch below, and commit its result)"
                    } else {
                        ""
                    }
                );
            }
            match &g.last_push {
                Some(p) => outln!(
                    "  last push: {} to {} ({}/{}) at {}",
                    &p.commit[..p.commit.len().min(10)],
                    p.url,
                    p.remote,
                    p.branch,
                    p.at
                ),
                None => outln!("  last push: none from this machine"),
            }
        }
        None => outln!("  git: not inside a git working copy"),
    }
    if let Some(u) = &st.unfinished {
        outln!(
            "  UNFINISHED: {} batch {} started {} ({} steps); the next ingest, move, adopt, push or sync finishes it",
            u.command, u.batch, u.started_at, u.steps
        );
    }
    if !st.asides.is_empty() {
        outln!(
            "  ASIDE: {} file(s) a killed run took aside (hidden from ingest); the next ingest, move or adopt puts them back: {}",
            st.asides.len(),
            st.asides.join(", ")
        );
    }
    for s in &st.strays {
        outln!(
            "  NOT FGD'S: {}: {} (never listed in the kustomization); {}",
            s.path,
            s.why,
            s.fix
        );
    }
}
