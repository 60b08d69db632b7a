//! What keys and the mouse do, mode by mode: the key is looked up in the keymap of the mode
//! that has the keyboard, and only that mode's actions run.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use fgd::inspect::Tree;

use super::app::{App, Effect, Pane, NO_FABRIC};
use super::browse::{Row, FABRIC_LINES};
use super::editor::EditorKey;
use super::keymap::{Action, ModeKind};
use super::mode::{Confirm, Mode, PlanView, PromptFor};
use super::tour::Tour;

impl App {
    pub(super) fn key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.ctrl_c();
            return Vec::new();
        }
        if let Some(ed) = self.mode.editor_mut() {
            ed.quit_warned = false;
        }
        let kind = self.mode.kind();
        let action = self.keymap.lookup(kind, &key);
        match kind {
            ModeKind::Browse => match action {
                Some(a) => self.dispatch(a),
                None => Vec::new(),
            },
            ModeKind::Zoom => self.zoom_key(action),
            ModeKind::Plan => {
                self.plan_key(action);
                Vec::new()
            }
            ModeKind::Editor => self.editor_key(action, key),
            ModeKind::Help => {
                self.help_key(action);
                Vec::new()
            }
            ModeKind::Confirm => self.confirm_key(action),
            ModeKind::Prompt => self.prompt_key(action, key),
        }
    }

    /// Ctrl-C leaves from anywhere, whatever runs (a job's journal finishes it on the next
    /// run), without asking; only unsaved edits get one warning first, since they exist
    /// nowhere else.
    fn ctrl_c(&mut self) {
        let mut dropped = None;
        if let Some(ed) = self.mode.editor_mut() {
            if ed.dirty && !ed.quit_warned {
                ed.quit_warned = true;
                ed.status =
                    "unsaved changes: Ctrl-S saves, Ctrl-C again leaves without saving".into();
                return;
            }
            if ed.dirty {
                dropped = Some(format!("left with unsaved changes to {} (dropped)", ed.rel));
            }
        }
        if let Some(line) = dropped {
            self.note(line);
        }
        self.quit = true;
    }

    fn help_key(&mut self, action: Option<Action>) {
        let Mode::Help { scroll, .. } = &mut self.mode else {
            return;
        };
        match action {
            Some(Action::Close) => self.close(),
            Some(Action::Down) => *scroll += 1,
            Some(Action::Up) => *scroll = scroll.saturating_sub(1),
            Some(Action::PageDown) => *scroll += 10,
            Some(Action::PageUp) => *scroll = scroll.saturating_sub(10),
            // Nothing acts under the help.
            _ => {}
        }
    }

    fn show_help(&mut self) {
        self.cover(|under| Mode::Help { scroll: 0, under });
    }

    fn confirm_key(&mut self, action: Option<Action>) -> Vec<Effect> {
        let Some(Confirm {
            action: a, reason, ..
        }) = self.mode.confirm().cloned()
        else {
            return Vec::new();
        };
        match action {
            Some(Action::Yes) => {
                self.close();
                if a == Action::Quit {
                    self.quit = true;
                    return Vec::new();
                }
                self.start(a, reason)
            }
            Some(Action::No) => {
                self.close();
                self.note(format!("{} cancelled", a.name()));
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn zoom_key(&mut self, action: Option<Action>) -> Vec<Effect> {
        let Some(a) = action else {
            return Vec::new();
        };
        match a {
            // Esc clears a search first, then leaves.
            Action::Close if self.search.is_some() => self.search = None,
            Action::Close => {
                self.mode = Mode::Browse;
                self.scroll_detail_by(0);
            }
            Action::Help => self.show_help(),
            Action::Search => self.prompt(PromptFor::Search, String::new()),
            Action::NextProblem | Action::PrevProblem if self.search.is_some() => {
                let from = self.detail_scroll;
                self.search_next(a == Action::NextProblem, from);
            }
            Action::NextProblem => self.next_problem(true),
            Action::PrevProblem => self.next_problem(false),
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => self.scroll_detail(a),
            Action::Edit | Action::ExternalEdit => return self.dispatch(a),
            _ => {}
        }
        Vec::new()
    }

    /// Run a named action of the browse mode, reached by its key or by name on the `:` line.
    pub fn dispatch(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Quit => match &self.job {
                // Asks first when it would cut a job short.
                Some(job) => {
                    let question = format!(
                        "{} of {} is running: quit now and its journal finishes it on the next run? [y/n]",
                        job.action.name(),
                        job.fabric
                    );
                    let confirm = Confirm {
                        action: Action::Quit,
                        question,
                        reason: None,
                    };
                    self.cover(|under| Mode::Confirm { confirm, under });
                }
                _ => self.quit = true,
            },
            Action::Help => self.show_help(),
            Action::Tour => {
                self.tour = match self.tour {
                    Some(_) => None,
                    None => Some(Tour::start()),
                }
            }
            Action::NextPane | Action::PrevPane => {
                // Screen order: fabrics, files, detail.
                let order = [Pane::Fabrics, Pane::Tree, Pane::Detail];
                let at = order.iter().position(|p| *p == self.pane).unwrap_or(0);
                let step = if action == Action::NextPane { 1 } else { 2 };
                self.pane = order[(at + step) % order.len()];
            }
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => self.move_selection(action),
            Action::NextProblem => self.next_problem(true),
            Action::PrevProblem => self.next_problem(false),
            Action::ProblemsOnly => self.toggle_problems_only(),
            Action::Filter if self.pane == Pane::Detail => {
                self.prompt(PromptFor::Search, String::new())
            }
            Action::Filter => {
                let now = self.list().map(|l| l.filter.clone()).unwrap_or_default();
                self.prompt(PromptFor::Filter, now)
            }
            Action::Command => self.prompt(PromptFor::Command, String::new()),
            Action::Zoom => {
                if self.selected_file().is_some() {
                    self.mode = Mode::Zoom;
                    self.show_selected_problem();
                }
            }
            a if self.read_only && a.mutating() => {
                self.note(format!("{} is disabled: read-only mode", a.name()))
            }
            a if (a.mutating() || a == Action::Plan) && self.fabric().is_none() => {
                self.note(NO_FABRIC.into())
            }
            a if (a.mutating() || a == Action::Plan) && self.fabric().is_some_and(|f| f.gone) => {
                let line = self.fabric().map(|f| {
                    format!(
                        "{} is gone: {} is not there any more (moved or removed); {} needs it back",
                        f.name,
                        f.root.display(),
                        a.name()
                    )
                });
                self.note(line.unwrap_or_default())
            }
            Action::Edit | Action::ExternalEdit | Action::Move | Action::Adopt
                if self.selected_file().is_some_and(|f| f.unnamable) =>
            {
                let why = format!(
                    "{} cannot take this file: {}",
                    action.name(),
                    fgd::discover::NOT_UTF8
                );
                self.note(why)
            }
            Action::Edit => return self.open_editor(),
            Action::ExternalEdit => return self.external_edit(),
            a if self.job.is_some() => self.note(format!("{} waits: a job is running", a.name())),
            Action::Plan => {
                self.mode = Mode::Plan(PlanView {
                    collecting: true,
                    ..Default::default()
                });
                let root = self.fabric().map(|f| f.root.clone());
                let mut effects = self.start(Action::Plan, None);
                effects.extend(root.map(Effect::Diff));
                return effects;
            }
            Action::Move => match self.selected_file().map(|f| f.tree) {
                Some(Tree::Raw) | Some(Tree::Managed) => {
                    self.prompt(PromptFor::MoveReason, String::new())
                }
                _ => self.note("move takes a file under raw/ or managed/".into()),
            },
            Action::Adopt if self.selected_file().map(|f| f.tree) != Some(Tree::Unmanaged) => {
                self.note("adopt takes an item under unmanaged/".into())
            }
            a => self.ask(a, None),
        }
        Vec::new()
    }

    /// Entering the zoom: the selected problem heads the text.
    fn show_selected_problem(&mut self) {
        let doc = self.detail_doc();
        if let Some(a) = doc.anchors.get(self.detail_problem) {
            self.detail_scroll = a.saturating_sub(1);
        }
        self.scroll_detail_by(0);
    }

    /// Move the plan view by `by` lines, keeping a full page in view.
    pub(super) fn scroll_plan(&mut self, by: isize) {
        let room = super::view::plan_rows(self.size.1);
        if let Some(plan) = self.mode.plan_mut() {
            let max = plan.document().len().saturating_sub(room);
            plan.scroll = plan.scroll.saturating_add_signed(by).min(max);
        }
    }

    fn plan_key(&mut self, action: Option<Action>) {
        let page = super::view::plan_rows(self.size.1).saturating_sub(1).max(1) as isize;
        match action {
            Some(Action::Down) => self.scroll_plan(1),
            Some(Action::Up) => self.scroll_plan(-1),
            Some(Action::PageDown) => self.scroll_plan(page),
            Some(Action::PageUp) => self.scroll_plan(-page),
            Some(Action::Top) => self.scroll_plan(isize::MIN / 2),
            Some(Action::Bottom) => self.scroll_plan(isize::MAX / 2),
            Some(Action::Help) => self.show_help(),
            // The plan job runs on and its lines are dropped.
            Some(Action::Close) => self.mode = Mode::Browse,
            _ => {}
        }
    }

    /// Where the selected problem is, to open an editor there.
    fn problem_place(&self) -> Option<(usize, usize)> {
        let entry = self.selected_file()?;
        let from_report = self
            .detail
            .as_ref()
            .filter(|d| d.rel == entry.rel)
            .and_then(|d| d.problems.get(self.detail_problem));
        from_report
            .or_else(|| entry.problems.get(self.problem))
            .filter(|p| p.line > 0)
            .map(|p| (p.line, p.column.max(1)))
    }

    /// The file is read in the background (`Msg::Opened` opens the editor), at the selected
    /// problem.
    fn open_editor(&mut self) -> Vec<Effect> {
        let at = self.problem_place();
        let (Some(f), Some(e)) = (self.fabric(), self.selected_file()) else {
            return Vec::new();
        };
        vec![Effect::Open {
            root: f.root.clone(),
            rel: e.rel.clone(),
            at,
        }]
    }

    /// Hand the selected file to the operator's own editor, at the selected problem's line.
    fn external_edit(&mut self) -> Vec<Effect> {
        let line = self.problem_place().map_or(1, |(l, _)| l);
        let (Some(f), Some(e)) = (self.fabric(), self.selected_file()) else {
            return Vec::new();
        };
        vec![Effect::External {
            path: f.root.join(&e.rel),
            line,
            fabric: self.fabric_sel,
            rel: e.rel.clone(),
        }]
    }

    fn editor_key(&mut self, action: Option<Action>, key: KeyEvent) -> Vec<Effect> {
        let Some(ed) = self.mode.editor_mut() else {
            return Vec::new();
        };
        match ed.key(action, key) {
            EditorKey::Effects(effects) => effects,
            EditorKey::Leave => {
                self.mode = Mode::Browse;
                Vec::new()
            }
            EditorKey::Action(Action::Help) => {
                self.show_help();
                Vec::new()
            }
            EditorKey::Action(Action::GotoLine) => {
                self.prompt(PromptFor::GotoLine, String::new());
                Vec::new()
            }
            EditorKey::Action(Action::Search) => {
                let last = ed.last_search.clone();
                self.prompt(PromptFor::EditorSearch, last);
                Vec::new()
            }
            EditorKey::Action(Action::ExternalEdit) if ed.dirty => {
                ed.status = "unsaved changes: Ctrl-S saves them first (or Esc twice drops them), \
                             then Ctrl-O hands the file to your editor"
                    .into();
                Vec::new()
            }
            EditorKey::Action(Action::ExternalEdit) => {
                let effect = Effect::External {
                    path: ed.path.clone(),
                    line: ed.cursor_line(),
                    fabric: self.fabric_sel,
                    rel: ed.rel.clone(),
                };
                self.mode = Mode::Browse;
                vec![effect]
            }
            EditorKey::Action(_) => Vec::new(),
        }
    }

    fn prompt_key(&mut self, action: Option<Action>, key: KeyEvent) -> Vec<Effect> {
        let Mode::Prompt { prompt: p, .. } = &mut self.mode else {
            return Vec::new();
        };
        match action {
            Some(Action::Close) => self.close(),
            Some(Action::Complete) => {
                // Completes a unique prefix to the action's name.
                if p.purpose == PromptFor::Command {
                    if let [only] = Action::completions(&p.input)[..] {
                        p.input = only.to_string();
                    }
                }
            }
            Some(Action::Accept) => {
                let (purpose, input) = (p.purpose, p.input.trim().to_string());
                self.close();
                return self.accept(purpose, input);
            }
            _ => match key.code {
                KeyCode::Backspace => {
                    p.input.pop();
                }
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    p.input.push(c)
                }
                _ => {}
            },
        }
        Vec::new()
    }

    /// What was typed at a prompt, taken.
    fn accept(&mut self, purpose: PromptFor, input: String) -> Vec<Effect> {
        match purpose {
            PromptFor::Filter => self.set_filter(input),
            PromptFor::MoveReason if input.is_empty() => {
                self.note("move cancelled: a reason is required".into())
            }
            PromptFor::MoveReason => self.ask(Action::Move, Some(input)),
            PromptFor::Command if input.is_empty() => {}
            PromptFor::Command => match Action::from_name(&input) {
                Some(Action::Command) => {}
                Some(a) if a.in_mode(ModeKind::Browse) => return self.dispatch(a),
                _ => self.note(format!(
                    "unknown action {input:?}: one of {}",
                    Action::names().join(", ")
                )),
            },
            PromptFor::Search => self.search_detail(input),
            PromptFor::EditorSearch => {
                if let Some(ed) = self.mode.editor_mut() {
                    ed.search(&input);
                }
            }
            PromptFor::GotoLine => {
                if let Some(ed) = self.mode.editor_mut() {
                    match input.parse::<usize>() {
                        Ok(n) if n > 0 => ed.goto(n, 1),
                        _ => ed.status = format!("{input:?} is not a line number"),
                    }
                }
            }
        }
        Vec::new()
    }

    /// The wheel scrolls the pane under the pointer; a click selects what it is on and
    /// focuses its pane.
    pub(super) fn mouse(&mut self, m: MouseEvent) {
        let Some(areas) = super::view::areas(self.size.0, self.size.1) else {
            return;
        };
        let at = |r: ratatui::layout::Rect| {
            m.column >= r.x && m.column < r.x + r.width && m.row >= r.y && m.row < r.y + r.height
        };
        let down = matches!(m.kind, MouseEventKind::ScrollDown);
        let wheel = down || matches!(m.kind, MouseEventKind::ScrollUp);
        let click = matches!(m.kind, MouseEventKind::Down(MouseButton::Left));
        match self.mode.kind() {
            ModeKind::Zoom if wheel => {
                for _ in 0..3 {
                    self.scroll_detail(if down { Action::Down } else { Action::Up });
                }
            }
            ModeKind::Browse => {
                let (pane, area) = if at(areas.fabrics) {
                    (Pane::Fabrics, areas.fabrics)
                } else if at(areas.tree) {
                    (Pane::Tree, areas.tree)
                } else if at(areas.detail) {
                    (Pane::Detail, areas.detail)
                } else {
                    return;
                };
                if wheel {
                    let before = self.pane;
                    self.pane = pane;
                    let steps = if pane == Pane::Fabrics { 1 } else { 3 };
                    for _ in 0..steps {
                        self.move_selection(if down { Action::Down } else { Action::Up });
                    }
                    self.pane = before;
                } else if click {
                    self.pane = pane;
                    let row = m.row.saturating_sub(area.y + 1) as usize;
                    match pane {
                        Pane::Fabrics => {
                            self.select_fabric(self.fabric_offset + row / FABRIC_LINES)
                        }
                        Pane::Tree => {
                            let offset = self.list().map_or(0, |l| l.offset);
                            if let Some(Row::File(_)) = self.rows.get(offset + row) {
                                self.select_row(offset + row);
                            }
                        }
                        Pane::Detail => {}
                    }
                }
            }
            _ => {}
        }
    }
}
