//! Named actions and the keys bound to them, per mode (as yazi keeps a keymap per layer). Each
//! action is named once here; the same name serves the keymap, the `:` command line, the help
//! screen, the footer, the config file and (for the actions that change things) the headless
//! command of that name. A mode answers only the actions bound in it: the help over the trees
//! does not let `i` start an ingest under it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Which keymap applies: the dashboard's mode without its state (see `mode::Mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModeKind {
    Browse,
    Zoom,
    Plan,
    Editor,
    Help,
    Confirm,
    Prompt,
}

impl ModeKind {
    pub const ALL: [ModeKind; 7] = [
        ModeKind::Browse,
        ModeKind::Zoom,
        ModeKind::Plan,
        ModeKind::Editor,
        ModeKind::Help,
        ModeKind::Confirm,
        ModeKind::Prompt,
    ];

    /// The config's name of the mode: `[keys]` is browse, `[keys.<name>]` the others.
    pub fn name(self) -> &'static str {
        match self {
            ModeKind::Browse => "browse",
            ModeKind::Zoom => "zoom",
            ModeKind::Plan => "plan",
            ModeKind::Editor => "editor",
            ModeKind::Help => "help",
            ModeKind::Confirm => "confirm",
            ModeKind::Prompt => "prompt",
        }
    }

    pub fn from_name(name: &str) -> Option<ModeKind> {
        ModeKind::ALL.into_iter().find(|m| m.name() == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Init,
    Ingest,
    Push,
    Sync,
    Move,
    Adopt,
    Plan,
    Edit,
    ExternalEdit,
    Filter,
    Search,
    Command,
    Help,
    NextPane,
    PrevPane,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    NextProblem,
    PrevProblem,
    ProblemsOnly,
    Zoom,
    Close,
    Save,
    GotoLine,
    Yes,
    No,
    Accept,
    Complete,
    Tour,
    Quit,
}

pub struct ActionInfo {
    pub action: Action,
    pub name: &'static str,
    pub help: &'static str,
    /// Changes files or the remote: asks first, and is unbound in read-only mode.
    pub mutating: bool,
}

const fn info(action: Action, name: &'static str, help: &'static str) -> ActionInfo {
    ActionInfo {
        action,
        name,
        help,
        mutating: false,
    }
}

const fn changes(action: Action, name: &'static str, help: &'static str) -> ActionInfo {
    ActionInfo {
        action,
        name,
        help,
        mutating: true,
    }
}

/// Every action, in the order help lists them.
pub const ACTIONS: &[ActionInfo] = &[
    info(Action::Help, "help", "show or hide the keys of this mode"),
    info(
        Action::Quit,
        "quit",
        "leave the dashboard (Ctrl-C always does)",
    ),
    info(
        Action::Command,
        "command",
        "run a named action: type its name",
    ),
    changes(Action::Init, "init", "create or repair the fabric layout"),
    changes(
        Action::Ingest,
        "ingest",
        "ingest raw/ into managed/ and unmanaged/",
    ),
    changes(Action::Push, "push", "commit the fabric and push it"),
    changes(
        Action::Sync,
        "sync",
        "fetch, integrate, ingest, commit, push",
    ),
    changes(
        Action::Move,
        "move",
        "move the selected file to unmanaged/ (asks why)",
    ),
    changes(
        Action::Adopt,
        "adopt",
        "send the selected unmanaged item back to raw/",
    ),
    changes(
        Action::Edit,
        "edit",
        "edit the file at the selected problem",
    ),
    changes(
        Action::ExternalEdit,
        "external-edit",
        "open the file in $VISUAL/$EDITOR at the problem's line",
    ),
    info(
        Action::Plan,
        "plan",
        "dry-run plan and the diff a push would commit",
    ),
    info(
        Action::NextProblem,
        "next-problem",
        "go to the next problem",
    ),
    info(
        Action::PrevProblem,
        "prev-problem",
        "go to the previous problem",
    ),
    info(
        Action::ProblemsOnly,
        "problems-only",
        "list only files with problems (or all again)",
    ),
    info(
        Action::Zoom,
        "zoom",
        "the detail of the selection on the whole screen",
    ),
    info(
        Action::Filter,
        "filter",
        "filter the tree by part of the path (smart case)",
    ),
    info(Action::Search, "search", "search the text (smart case)"),
    info(Action::GotoLine, "goto-line", "go to a line number"),
    info(Action::Save, "save", "save the file (atomically)"),
    info(Action::NextPane, "next-pane", "focus the next pane"),
    info(Action::PrevPane, "prev-pane", "focus the previous pane"),
    info(Action::Up, "up", "move up a row"),
    info(Action::Down, "down", "move down a row"),
    info(Action::PageUp, "page-up", "move up a page"),
    info(Action::PageDown, "page-down", "move down a page"),
    info(Action::Top, "top", "go to the first row"),
    info(Action::Bottom, "bottom", "go to the last row"),
    info(Action::Close, "close", "close this view"),
    info(Action::Yes, "yes", "answer yes"),
    info(Action::No, "no", "answer no"),
    info(Action::Accept, "accept", "take what was typed"),
    info(Action::Complete, "complete", "complete an action's name"),
    info(Action::Tour, "tour", "show or hide the guided tour"),
];

/// The default keys, per mode. An action is available only in the modes listed here with it
/// (the config may rebind it there, never add it to another mode).
const DEFAULTS: &[(ModeKind, Action, &[&str])] = {
    use Action as A;
    use ModeKind::*;
    &[
        (Browse, A::Help, &["?"]),
        (Browse, A::Quit, &["q"]),
        (Browse, A::Command, &[":"]),
        (Browse, A::Init, &["I"]),
        (Browse, A::Ingest, &["i"]),
        (Browse, A::Push, &["P"]),
        (Browse, A::Sync, &["s"]),
        (Browse, A::Move, &["u"]),
        (Browse, A::Adopt, &["a"]),
        (Browse, A::Edit, &["e"]),
        (Browse, A::ExternalEdit, &["E"]),
        (Browse, A::Plan, &["d"]),
        (Browse, A::NextProblem, &["n"]),
        (Browse, A::PrevProblem, &["N"]),
        (Browse, A::ProblemsOnly, &["p"]),
        (Browse, A::Zoom, &["z", "enter"]),
        (Browse, A::Filter, &["/"]),
        (Browse, A::NextPane, &["tab"]),
        (Browse, A::PrevPane, &["backtab"]),
        (Browse, A::Up, &["up", "k"]),
        (Browse, A::Down, &["down", "j"]),
        (Browse, A::PageUp, &["pgup"]),
        (Browse, A::PageDown, &["pgdn"]),
        (Browse, A::Top, &["home", "g"]),
        (Browse, A::Bottom, &["end", "G"]),
        (Browse, A::Tour, &["f2"]),
        (Zoom, A::Help, &["?"]),
        (Zoom, A::Close, &["esc", "z", "q"]),
        (Zoom, A::Edit, &["e"]),
        (Zoom, A::ExternalEdit, &["E"]),
        (Zoom, A::NextProblem, &["n"]),
        (Zoom, A::PrevProblem, &["N"]),
        (Zoom, A::Search, &["/"]),
        (Zoom, A::Up, &["up", "k"]),
        (Zoom, A::Down, &["down", "j"]),
        (Zoom, A::PageUp, &["pgup", "b"]),
        (Zoom, A::PageDown, &["pgdn", "space"]),
        (Zoom, A::Top, &["home", "g"]),
        (Zoom, A::Bottom, &["end", "G"]),
        (Plan, A::Help, &["?"]),
        (Plan, A::Close, &["esc", "q", "d"]),
        (Plan, A::Up, &["up", "k"]),
        (Plan, A::Down, &["down", "j"]),
        (Plan, A::PageUp, &["pgup", "b"]),
        (Plan, A::PageDown, &["pgdn", "space"]),
        (Plan, A::Top, &["home", "g"]),
        (Plan, A::Bottom, &["end", "G"]),
        (Editor, A::Help, &["f1"]),
        (Editor, A::Save, &["ctrl-s"]),
        (Editor, A::Close, &["esc"]),
        (Editor, A::GotoLine, &["ctrl-g"]),
        (Editor, A::Search, &["ctrl-f"]),
        (Editor, A::NextProblem, &["ctrl-n", "f8"]),
        (Editor, A::PrevProblem, &["ctrl-p"]),
        (Editor, A::ExternalEdit, &["ctrl-o"]),
        (Help, A::Close, &["esc", "?", "q", "f1"]),
        (Help, A::Up, &["up", "k"]),
        (Help, A::Down, &["down", "j"]),
        (Help, A::PageUp, &["pgup"]),
        (Help, A::PageDown, &["pgdn", "space"]),
        (Confirm, A::Yes, &["y", "Y"]),
        (Confirm, A::No, &["n", "N", "esc"]),
        (Prompt, A::Accept, &["enter"]),
        (Prompt, A::Close, &["esc"]),
        (Prompt, A::Complete, &["tab"]),
    ]
};

impl Action {
    pub fn info(self) -> &'static ActionInfo {
        ACTIONS
            .iter()
            .find(|i| i.action == self)
            .unwrap_or(&ACTIONS[0])
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    pub fn mutating(self) -> bool {
        self.info().mutating
    }

    pub fn from_name(name: &str) -> Option<Action> {
        ACTIONS.iter().find(|i| i.name == name).map(|i| i.action)
    }

    /// Whether the action means something in `mode` (it has a default key there).
    pub fn in_mode(self, mode: ModeKind) -> bool {
        DEFAULTS.iter().any(|(m, a, _)| *m == mode && *a == self)
    }

    /// The actions of a mode, in help order.
    pub fn of_mode(mode: ModeKind) -> Vec<Action> {
        ACTIONS
            .iter()
            .map(|i| i.action)
            .filter(|a| a.in_mode(mode))
            .collect()
    }

    /// The names the `:` line runs: the browse actions.
    pub fn names() -> Vec<&'static str> {
        Action::of_mode(ModeKind::Browse)
            .into_iter()
            .map(Action::name)
            .collect()
    }

    /// The names that start with what was typed: the `:` line's hint and Tab completion.
    pub fn completions(typed: &str) -> Vec<&'static str> {
        Action::names()
            .into_iter()
            .filter(|n| n.starts_with(typed))
            .collect()
    }
}

/// One key: a code and whether Ctrl is held. Shift is part of the character ('I' vs 'i'), and
/// Shift-Tab is its own key (`backtab`), as terminals send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

const NAMED: &[(&str, KeyCode)] = &[
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("space", KeyCode::Char(' ')),
    ("backspace", KeyCode::Backspace),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pgup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
];

/// Ctrl with these characters sends the byte of another key: a terminal cannot tell them apart,
/// so a binding to one of them could never fire.
const CTRL_ALIASES: &[(char, &str, &str)] = &[
    ('i', "tab", "0x09"),
    ('m', "enter", "0x0D"),
    ('[', "esc", "0x1B"),
];

impl Key {
    /// `i`, `I`, `:`, `ctrl-r`, `tab`, `pgdn`, `f5`... A key no terminal can send as itself is
    /// refused with the reason.
    pub fn parse(s: &str) -> Result<Key, String> {
        let (ctrl, rest) = match s.strip_prefix("ctrl-") {
            Some(r) => (true, r),
            None => (false, s),
        };
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => {
                let lower = rest.to_ascii_lowercase();
                if let Some((_, k)) = NAMED.iter().find(|(n, _)| *n == lower) {
                    *k
                } else if let Some(n) = lower
                    .strip_prefix('f')
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|n| (1..=12).contains(n))
                {
                    KeyCode::F(n)
                } else {
                    let names: Vec<&str> = NAMED.iter().map(|(n, _)| *n).collect();
                    return Err(format!(
                        "unknown key {s:?}: use one character, ctrl-<letter>, f1..f12 or one of {}",
                        names.join(", ")
                    ));
                }
            }
        };
        if ctrl {
            match code {
                KeyCode::Char('c') => return Err("ctrl-c is reserved: it always quits".into()),
                KeyCode::Char(c) => {
                    if let Some((_, other, byte)) = CTRL_ALIASES.iter().find(|(a, ..)| *a == c) {
                        return Err(format!(
                            "{s} cannot be bound: a terminal sends it as {other} (both are byte \
                             {byte}), so it would never arrive as {s}; choose another key"
                        ));
                    }
                    if c.is_ascii_uppercase() {
                        return Err(format!(
                            "{s} cannot be bound: a terminal sends ctrl-{} for it (Ctrl ignores \
                             Shift); write ctrl-{}",
                            c.to_ascii_lowercase(),
                            c.to_ascii_lowercase()
                        ));
                    }
                    if !c.is_ascii_lowercase() && c != ' ' {
                        return Err(format!(
                            "{s} cannot be bound: terminals send Ctrl only with a letter; \
                             use ctrl-a..ctrl-z"
                        ));
                    }
                }
                _ => {}
            }
        }
        Ok(Key { code, ctrl })
    }

    fn matches(&self, e: &KeyEvent) -> bool {
        self.code == e.code && self.ctrl == e.modifiers.contains(KeyModifiers::CONTROL)
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            code => {
                let name = NAMED
                    .iter()
                    .find(|(_, k)| *k == code)
                    .map_or("?", |(n, _)| *n);
                f.write_str(name)
            }
        }
    }
}

/// A rebinding from the config: in `mode`, `action` gets exactly `keys` (none unbinds it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub mode: ModeKind,
    pub action: Action,
    pub keys: Vec<Key>,
}

/// The live bindings: the defaults with the config's overrides applied.
#[derive(Debug, Clone)]
pub struct Keymap {
    binds: Vec<(ModeKind, Key, Action)>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        let binds = DEFAULTS
            .iter()
            .flat_map(|(m, a, keys)| {
                keys.iter()
                    .filter_map(move |k| Key::parse(k).ok().map(|k| (*m, k, *a)))
            })
            .collect();
        Keymap { binds }
    }
}

impl Keymap {
    /// The defaults, with each overridden action bound to exactly the keys given in its mode.
    /// A key an override takes is released from the action that had it by default in that
    /// mode; two overrides claiming one key in one mode are an error the config reports.
    pub fn with(overrides: &[Override]) -> Keymap {
        let mut map = Keymap::default();
        map.binds.retain(|(m, k, a)| {
            !overrides
                .iter()
                .any(|o| o.mode == *m && (o.action == *a || o.keys.contains(k)))
        });
        for o in overrides {
            map.binds
                .extend(o.keys.iter().map(|k| (o.mode, *k, o.action)));
        }
        map
    }

    /// The action `e` means in `mode`. Ctrl-C is never looked up here: it always quits.
    pub fn lookup(&self, mode: ModeKind, e: &KeyEvent) -> Option<Action> {
        self.binds
            .iter()
            .find(|(m, k, _)| *m == mode && k.matches(e))
            .map(|(_, _, a)| *a)
    }

    pub fn keys_of(&self, mode: ModeKind, a: Action) -> Vec<Key> {
        self.binds
            .iter()
            .filter(|(m, _, b)| *m == mode && *b == a)
            .map(|(_, k, _)| *k)
            .collect()
    }

    /// "i", "up/k", or "" when unbound (the `:` line still reaches a browse action).
    pub fn label(&self, mode: ModeKind, a: Action) -> String {
        self.keys_of(mode, a)
            .iter()
            .map(Key::to_string)
            .collect::<Vec<_>>()
            .join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn every_default_key_parses_and_no_two_actions_share_one_in_a_mode() {
        let map = Keymap::default();
        let total: usize = DEFAULTS.iter().map(|(_, _, k)| k.len()).sum();
        assert_eq!(map.binds.len(), total, "every default key parses");
        for (i, (m, k, _)) in map.binds.iter().enumerate() {
            assert!(
                !map.binds[i + 1..].iter().any(|(n, o, _)| n == m && o == k),
                "{k} twice in {m:?}"
            );
        }
        for mode in ModeKind::ALL {
            assert_eq!(ModeKind::from_name(mode.name()), Some(mode));
        }
    }

    #[test]
    fn keys_parse_and_print_back() {
        for s in [
            "i", "I", ":", "ctrl-r", "tab", "backtab", "pgdn", "f5", "space",
        ] {
            assert_eq!(Key::parse(s).unwrap().to_string(), s);
        }
        assert!(Key::parse("ctrl-c").unwrap_err().contains("reserved"));
        assert!(Key::parse("hyper-x").unwrap_err().contains("unknown key"));
        assert!(Key::parse("f13").is_err());
    }

    #[test]
    fn a_key_the_terminal_cannot_send_is_refused_with_the_reason() {
        let e = Key::parse("ctrl-i").unwrap_err();
        assert!(e.contains("sends it as tab") && e.contains("0x09"), "{e}");
        assert!(Key::parse("ctrl-m").unwrap_err().contains("enter"));
        assert!(Key::parse("ctrl-[").unwrap_err().contains("esc"));
        assert!(Key::parse("ctrl-I").unwrap_err().contains("write ctrl-i"));
        assert!(Key::parse("ctrl-1")
            .unwrap_err()
            .contains("only with a letter"));
    }

    #[test]
    fn an_override_rebinds_in_its_mode_and_releases_the_key_it_takes() {
        let o = |action, keys: &[&str]| Override {
            mode: ModeKind::Browse,
            action,
            keys: keys.iter().map(|k| Key::parse(k).unwrap()).collect(),
        };
        let map = Keymap::with(&[
            o(Action::Ingest, &["f5"]),
            o(Action::Sync, &["i"]),
            o(Action::Push, &[]),
        ]);
        let none = KeyModifiers::NONE;
        let b = ModeKind::Browse;
        assert_eq!(
            map.lookup(b, &ev(KeyCode::Char('i'), none)),
            Some(Action::Sync)
        );
        assert_eq!(
            map.lookup(b, &ev(KeyCode::F(5), none)),
            Some(Action::Ingest)
        );
        assert_eq!(map.lookup(b, &ev(KeyCode::Char('s'), none)), None);
        assert_eq!(map.lookup(b, &ev(KeyCode::Char('P'), none)), None);
        assert_eq!(map.label(b, Action::Push), "");
        assert_eq!(map.label(b, Action::Down), "down/j");
        // Other modes keep their own keys.
        assert_eq!(
            map.lookup(ModeKind::Zoom, &ev(KeyCode::Char('j'), none)),
            Some(Action::Down)
        );
        assert_eq!(
            map.lookup(ModeKind::Help, &ev(KeyCode::Char('i'), none)),
            None
        );
    }

    #[test]
    fn names_round_trip_and_the_command_line_runs_browse_actions() {
        for i in ACTIONS {
            assert_eq!(Action::from_name(i.name), Some(i.action));
            assert_eq!(i.action.name(), i.name);
            assert!(
                ModeKind::ALL.iter().any(|m| i.action.in_mode(*m)),
                "{} has a mode",
                i.name
            );
        }
        assert_eq!(Action::from_name("nope"), None);
        assert!(Action::names().contains(&"ingest"));
        assert!(!Action::names().contains(&"save"));
    }
}
