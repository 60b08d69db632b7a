//! Named actions and the keys bound to them. Each action is named once here; the same name
//! serves the keymap, the `:` command line, the help screen, the config file and (for the
//! actions that change things) the headless command of that name.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

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
    Filter,
    Command,
    Help,
    NextPane,
    Up,
    Down,
    PageUp,
    PageDown,
    Quit,
}

pub struct ActionInfo {
    pub action: Action,
    pub name: &'static str,
    pub help: &'static str,
    /// Changes files or the remote: asks first, and is unbound in read-only mode.
    pub mutating: bool,
    pub default_keys: &'static [&'static str],
}

pub const ACTIONS: &[ActionInfo] = &[
    info(
        Action::Init,
        "init",
        "create or repair the fabric layout",
        true,
        &["I"],
    ),
    info(
        Action::Ingest,
        "ingest",
        "ingest raw/ into managed/ and unmanaged/",
        true,
        &["i"],
    ),
    info(
        Action::Push,
        "push",
        "commit the fabric and push it",
        true,
        &["P"],
    ),
    info(
        Action::Sync,
        "sync",
        "fetch, integrate, ingest, commit, push",
        true,
        &["s"],
    ),
    info(
        Action::Move,
        "move",
        "move the selected file to unmanaged/ (asks why)",
        true,
        &["u"],
    ),
    info(
        Action::Adopt,
        "adopt",
        "send the selected unmanaged item back to raw/",
        true,
        &["a"],
    ),
    info(
        Action::Edit,
        "edit",
        "edit the selected file (Ctrl-S saves, Esc leaves)",
        true,
        &["e"],
    ),
    info(
        Action::Plan,
        "plan",
        "dry-run plan and the diff a push would commit",
        false,
        &["d"],
    ),
    info(
        Action::Filter,
        "filter",
        "filter the tree by a part of the path",
        false,
        &["/"],
    ),
    info(
        Action::Command,
        "command",
        "run a named action: type its name",
        false,
        &[":"],
    ),
    info(
        Action::Help,
        "help",
        "show or hide this help",
        false,
        &["?"],
    ),
    info(
        Action::NextPane,
        "next-pane",
        "cycle the focused pane",
        false,
        &["tab"],
    ),
    info(
        Action::Up,
        "up",
        "move the selection up",
        false,
        &["up", "k"],
    ),
    info(
        Action::Down,
        "down",
        "move the selection down",
        false,
        &["down", "j"],
    ),
    info(
        Action::PageUp,
        "page-up",
        "move the selection a page up",
        false,
        &["pgup"],
    ),
    info(
        Action::PageDown,
        "page-down",
        "move the selection a page down",
        false,
        &["pgdn"],
    ),
    info(
        Action::Quit,
        "quit",
        "leave the dashboard (Ctrl-C always does)",
        false,
        &["q"],
    ),
];

const fn info(
    action: Action,
    name: &'static str,
    help: &'static str,
    mutating: bool,
    default_keys: &'static [&'static str],
) -> ActionInfo {
    ActionInfo {
        action,
        name,
        help,
        mutating,
        default_keys,
    }
}

impl Action {
    pub fn info(self) -> &'static ActionInfo {
        ACTIONS
            .iter()
            .find(|i| i.action == self)
            .unwrap_or(&ACTIONS[ACTIONS.len() - 1])
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

    pub fn names() -> Vec<&'static str> {
        ACTIONS.iter().map(|i| i.name).collect()
    }

    /// The names that start with what was typed: the `:` line's hint and Tab completion.
    pub fn completions(typed: &str) -> Vec<&'static str> {
        ACTIONS
            .iter()
            .map(|i| i.name)
            .filter(|n| n.starts_with(typed))
            .collect()
    }
}

/// One key: a code and whether Ctrl is held. Shift is part of the character ('I' vs 'i').
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

const NAMED: &[(&str, KeyCode)] = &[
    ("tab", KeyCode::Tab),
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

impl Key {
    /// `i`, `I`, `:`, `ctrl-r`, `tab`, `pgdn`, `f5`...
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
                        "unknown key {s:?}: use one character, ctrl-<character>, f1..f12 or one of {}",
                        names.join(", ")
                    ));
                }
            }
        };
        if ctrl && code == KeyCode::Char('c') {
            return Err("ctrl-c is reserved: it always quits".into());
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

/// The live bindings: the defaults with the config's overrides applied.
#[derive(Debug, Clone)]
pub struct Keymap {
    binds: Vec<(Key, Action)>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        let binds = ACTIONS
            .iter()
            .flat_map(|i| {
                i.default_keys
                    .iter()
                    .filter_map(move |k| Key::parse(k).ok().map(|k| (k, i.action)))
            })
            .collect();
        Keymap { binds }
    }
}

impl Keymap {
    /// The defaults, with each overridden action bound to exactly the keys given (none
    /// unbinds it). A key an override takes is released from the action that had it by
    /// default; two overrides claiming one key are an error the config reports.
    pub fn with(overrides: &[(Action, Vec<Key>)]) -> Keymap {
        let mut map = Keymap::default();
        let taken: Vec<Key> = overrides.iter().flat_map(|(_, ks)| ks.clone()).collect();
        map.binds
            .retain(|(k, a)| !overrides.iter().any(|(o, _)| o == a) && !taken.contains(k));
        for (a, keys) in overrides {
            map.binds.extend(keys.iter().map(|k| (*k, *a)));
        }
        map
    }

    pub fn lookup(&self, e: &KeyEvent) -> Option<Action> {
        if e.modifiers.contains(KeyModifiers::CONTROL) && e.code == KeyCode::Char('c') {
            return Some(Action::Quit);
        }
        self.binds
            .iter()
            .find(|(k, _)| k.matches(e))
            .map(|(_, a)| *a)
    }

    pub fn keys_of(&self, a: Action) -> Vec<Key> {
        self.binds
            .iter()
            .filter(|(_, b)| *b == a)
            .map(|(k, _)| *k)
            .collect()
    }

    /// "i", "up/k", or "" when unbound (the `:` line still reaches it).
    pub fn label(&self, a: Action) -> String {
        self.keys_of(a)
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
    fn every_default_key_parses_and_no_two_actions_share_one() {
        let map = Keymap::default();
        let total: usize = ACTIONS.iter().map(|i| i.default_keys.len()).sum();
        assert_eq!(map.binds.len(), total);
        for (i, (k, _)) in map.binds.iter().enumerate() {
            assert!(!map.binds[i + 1..].iter().any(|(o, _)| o == k), "{k}");
        }
    }

    #[test]
    fn keys_parse_and_print_back() {
        for s in ["i", "I", ":", "ctrl-r", "tab", "pgdn", "f5", "space"] {
            assert_eq!(Key::parse(s).unwrap().to_string(), s);
        }
        assert!(Key::parse("ctrl-c").unwrap_err().contains("reserved"));
        assert!(Key::parse("hyper-x").unwrap_err().contains("unknown key"));
        assert!(Key::parse("f13").is_err());
    }

    #[test]
    fn an_override_rebinds_and_releases_the_key_it_takes() {
        let map = Keymap::with(&[
            (Action::Ingest, vec![Key::parse("ctrl-i").unwrap()]),
            (Action::Sync, vec![Key::parse("i").unwrap()]),
            (Action::Push, vec![]),
        ]);
        let none = KeyModifiers::NONE;
        assert_eq!(
            map.lookup(&ev(KeyCode::Char('i'), none)),
            Some(Action::Sync)
        );
        assert_eq!(
            map.lookup(&ev(KeyCode::Char('i'), KeyModifiers::CONTROL)),
            Some(Action::Ingest)
        );
        assert_eq!(map.lookup(&ev(KeyCode::Char('s'), none)), None);
        assert_eq!(map.lookup(&ev(KeyCode::Char('P'), none)), None);
        assert_eq!(map.label(Action::Push), "");
        assert_eq!(map.label(Action::Down), "down/j");
        assert_eq!(
            map.lookup(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
    }

    #[test]
    fn names_round_trip() {
        for i in ACTIONS {
            assert_eq!(Action::from_name(i.name), Some(i.action));
            assert_eq!(i.action.name(), i.name);
        }
        assert_eq!(Action::from_name("nope"), None);
    }
}
