//! Configuration, in TOML, checked whole before the dashboard starts:
//! - the operator's file, `$XDG_CONFIG_HOME/fgd/config.toml` (`~/.config/fgd/config.toml`), or
//!   the one `--config` / `FGD_CONFIG` names: keymap, theme, extra fabrics, quiet period, log
//!   file, read-only;
//! - a workspace's `fgd.toml`: the fabrics of that workspace, in order.
//!
//! A bad file is an error naming the file, line and column and the key, action, key name or
//! colour that is wrong; nothing is guessed and nothing is silently ignored.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::tui::keymap::{Action, Key, Keymap, ModeKind, Override};
use super::tui::view::Palette;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based; 0 when the error is of the whole file (it cannot be read), which is then
    /// named without a position.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            return write!(f, "{}: {}", self.file.display(), self.message);
        }
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

impl ConfigError {
    fn unreadable(file: &Path, e: std::io::Error) -> ConfigError {
        ConfigError {
            file: file.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read: {e}"),
        }
    }
}

/// A config file's text; not UTF-8 is an error at the first byte that is not.
fn text_of(bytes: Vec<u8>, file: &Path) -> Result<String, ConfigError> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        // Lines and columns count bytes, as the other errors' do.
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        let column = at
            - bytes[..at]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        ConfigError {
            file: file.to_path_buf(),
            line,
            column,
            message: format!(
                "not UTF-8 (byte 0x{:02X}): save the file as UTF-8",
                bytes[at]
            ),
        }
    })
}

/// Read a config file whole: unreadable is an error of the file, not of a position in it.
fn read_text(file: &Path) -> Result<String, ConfigError> {
    text_of(
        std::fs::read(file).map_err(|e| ConfigError::unreadable(file, e))?,
        file,
    )
}

/// Line and column (1-based) of a byte offset.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    (line, col)
}

struct Source<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    fn error(&self, span: Range<usize>, message: String) -> ConfigError {
        let (line, column) = line_col(self.text, span.start);
        ConfigError {
            file: self.file.to_path_buf(),
            line,
            column,
            message,
        }
    }

    fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, ConfigError> {
        toml::from_str(self.text).map_err(|e| {
            // toml's message is several lines with a caret picture; the first line of its own
            // text after the location is the part worth keeping.
            let message = e.message().trim().to_string();
            self.error(e.span().unwrap_or(0..0), message)
        })
    }
}

/// Either one key or several, as the config may say `down = "j"` or `down = ["j", "down"]`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Keys {
    One(String),
    Many(Vec<String>),
}

/// An entry of `[keys]`: a browse action's keys, or a table of another mode's (`[keys.zoom]`).
enum KeysEntry {
    Keys(Keys),
    Mode(BTreeMap<Spanned<String>, Spanned<Keys>>),
}

/// `theme = "light"`, or a `[theme]` table of roles (with `base = "light"` to start from the
/// light palette).
enum ThemeEntry {
    Base(String),
    Roles(BTreeMap<Spanned<String>, Spanned<String>>),
}

// By hand rather than `#[serde(untagged)]`: an untagged enum buffers its input, which loses
// the positions `Spanned` needs for the errors of the entries inside a table.
impl<'de> Deserialize<'de> for KeysEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<KeysEntry, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = KeysEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key, a list of keys, or a table of a mode's actions")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<KeysEntry, E> {
                Ok(KeysEntry::Keys(Keys::One(v.to_string())))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<KeysEntry, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = a.next_element::<String>()? {
                    keys.push(k);
                }
                Ok(KeysEntry::Keys(Keys::Many(keys)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<KeysEntry, A::Error> {
                let mut table = BTreeMap::new();
                while let Some((k, v)) = a.next_entry::<Spanned<String>, Spanned<Keys>>()? {
                    table.insert(k, v);
                }
                Ok(KeysEntry::Mode(table))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for ThemeEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ThemeEntry, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ThemeEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a theme's name or a table of roles and colours")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ThemeEntry, E> {
                Ok(ThemeEntry::Base(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<ThemeEntry, A::Error> {
                let mut table = BTreeMap::new();
                while let Some((k, v)) = a.next_entry::<Spanned<String>, Spanned<String>>()? {
                    table.insert(k, v);
                }
                Ok(ThemeEntry::Roles(table))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    quiet_ms: Option<u64>,
    log_file: Option<String>,
    read_only: Option<bool>,
    git_author: Option<String>,
    git_signoff: Option<bool>,
    #[serde(default)]
    fabrics: Vec<String>,
    #[serde(default)]
    keys: BTreeMap<Spanned<String>, Spanned<KeysEntry>>,
    theme: Option<Spanned<ThemeEntry>>,
    /// Validation settings: read by `validation_section` for every command.
    #[allow(dead_code)]
    validation: Option<toml::Value>,
}

/// The operator's settings, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file they came from, if there was one.
    pub source: Option<PathBuf>,
    pub quiet: Duration,
    pub log_file: Option<PathBuf>,
    pub read_only: bool,
    /// "Name <email>" for the dashboard's commits (else FGD_GIT_AUTHOR, else git config).
    pub git_author: Option<String>,
    /// Sign the dashboard's commits off (`Signed-off-by:`, as git commit -s).
    pub git_signoff: bool,
    pub fabrics: Vec<PathBuf>,
    pub keymap: Keymap,
    pub palette: Palette,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            source: None,
            quiet: Duration::from_millis(300),
            log_file: None,
            read_only: false,
            git_author: None,
            git_signoff: false,
            fabrics: Vec::new(),
            keymap: Keymap::default(),
            palette: Palette::default(),
        }
    }
}

/// `$var/fgd/<file>`, or `$HOME/<fallback>/fgd/<file>` (the XDG base directory rules).
fn xdg(var: &str, fallback: &str, file: &str) -> Option<PathBuf> {
    let nonempty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    match nonempty(var) {
        Some(x) => Some(PathBuf::from(x).join("fgd").join(file)),
        None => nonempty("HOME").map(|h| PathBuf::from(h).join(fallback).join("fgd").join(file)),
    }
}

/// Where the operator's config lives when nothing names it.
pub fn default_path() -> Option<PathBuf> {
    xdg("XDG_CONFIG_HOME", ".config", "config.toml")
}

/// Where the dashboard's log goes when the config does not say: `$XDG_STATE_HOME/fgd/dash.log`.
pub fn default_log_path() -> Option<PathBuf> {
    xdg("XDG_STATE_HOME", ".local/state", "dash.log")
}

/// `$XDG_STATE_HOME/fgd/<file>` (`~/.local/state/fgd/<file>`): fgd's machine-local state.
pub fn default_state_path(file: &str) -> Option<PathBuf> {
    xdg("XDG_STATE_HOME", ".local/state", file)
}

fn expand(p: &str, base: &Path) -> PathBuf {
    let p = match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(p),
    };
    if p.is_absolute() {
        p
    } else {
        base.join(p)
    }
}

/// Load the operator's config: `named` if given (it must exist), else the default path if a
/// file is there, else the defaults.
pub fn load(named: Option<&Path>) -> Result<Config, ConfigError> {
    let path = match named {
        Some(p) => p.to_path_buf(),
        None => match default_path() {
            Some(p) if p.exists() => p,
            _ => return Ok(Config::default()),
        },
    };
    let text = read_text(&path)?;
    parse(&path, &text)
}

pub fn parse(file: &Path, text: &str) -> Result<Config, ConfigError> {
    let src = Source { file, text };
    let raw: ConfigFile = src.parse()?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut overrides: Vec<Override> = Vec::new();
    let mut claimed: Vec<(ModeKind, Key, Action)> = Vec::new();
    let mut bind = |mode: ModeKind,
                    name: &Spanned<String>,
                    keys: &Spanned<Keys>,
                    section: &str|
     -> Result<(), ConfigError> {
        let action = match Action::from_name(name.get_ref()) {
            Some(a) if a.in_mode(mode) => a,
            _ => {
                let names: Vec<&str> = Action::of_mode(mode)
                    .into_iter()
                    .map(Action::name)
                    .collect();
                return Err(src.error(
                    name.span(),
                    format!(
                        "unknown action {:?} in {section}; actions are: {}",
                        name.get_ref(),
                        names.join(", ")
                    ),
                ));
            }
        };
        let list = match keys.get_ref() {
            Keys::One(k) if k.is_empty() || k == "none" => Vec::new(),
            Keys::One(k) => vec![k.clone()],
            Keys::Many(ks) => ks.clone(),
        };
        let mut parsed = Vec::new();
        for k in &list {
            let key = Key::parse(k).map_err(|m| {
                src.error(keys.span(), format!("{section} {}: {m}", name.get_ref()))
            })?;
            if let Some((_, _, other)) = claimed.iter().find(|(m, c, _)| *m == mode && *c == key) {
                return Err(src.error(
                    keys.span(),
                    format!(
                        "{section} {}: key {key} is already bound to {}",
                        name.get_ref(),
                        other.name()
                    ),
                ));
            }
            claimed.push((mode, key, action));
            parsed.push(key);
        }
        overrides.push(Override {
            mode,
            action,
            keys: parsed,
        });
        Ok(())
    };
    for (name, entry) in &raw.keys {
        match entry.get_ref() {
            KeysEntry::Keys(keys) => {
                let keys = Spanned::new(entry.span(), keys_clone(keys));
                bind(ModeKind::Browse, name, &keys, "[keys]")?
            }
            KeysEntry::Mode(table) => {
                // `[keys.browse]` is `[keys]` itself, for an action named like a mode (`zoom`,
                // `help`, `plan`) bound beside that mode's own table.
                let Some(mode) = ModeKind::from_name(name.get_ref()) else {
                    let modes: Vec<&str> = ModeKind::ALL.iter().map(|m| m.name()).collect();
                    return Err(src.error(
                        name.span(),
                        format!(
                            "unknown mode [keys.{}]; modes are: {} ([keys] itself is browse)",
                            name.get_ref(),
                            modes.join(", ")
                        ),
                    ));
                };
                let section = format!("[keys.{}]", mode.name());
                for (action, keys) in table {
                    bind(mode, action, keys, &section)?;
                }
            }
        }
    }
    let mut palette = Palette::default();
    let roles = match raw.theme.as_ref().map(|t| (t.span(), t.get_ref())) {
        None => None,
        Some((span, ThemeEntry::Base(base))) => {
            palette = theme_base(&src, span, base)?;
            None
        }
        Some((_, ThemeEntry::Roles(roles))) => Some(roles),
    };
    for (role, colour) in roles.into_iter().flatten() {
        if role.get_ref() == "base" {
            palette = theme_base(&src, colour.span(), colour.get_ref())?;
        }
    }
    for (role, colour) in roles.into_iter().flatten() {
        if role.get_ref() == "base" {
            continue;
        }
        let Some(slot) = palette.role_mut(role.get_ref()) else {
            return Err(src.error(
                role.span(),
                format!(
                    "unknown theme role {:?}; roles are: base, {}",
                    role.get_ref(),
                    Palette::ROLES.join(", ")
                ),
            ));
        };
        *slot = colour.get_ref().parse().map_err(|_| {
            src.error(
                colour.span(),
                format!(
                    "[theme] {}: unknown colour {:?}; use an ANSI name (red, lightblue, darkgray, ...), an index 0-255 or #rrggbb",
                    role.get_ref(),
                    colour.get_ref()
                ),
            )
        })?;
    }
    let defaults = Config::default();
    Ok(Config {
        source: Some(file.to_path_buf()),
        quiet: raw
            .quiet_ms
            .map(Duration::from_millis)
            .unwrap_or(defaults.quiet),
        log_file: raw.log_file.map(|p| expand(&p, base)),
        read_only: raw.read_only.unwrap_or(false),
        git_author: raw.git_author,
        git_signoff: raw.git_signoff.unwrap_or(false),
        fabrics: raw.fabrics.iter().map(|p| expand(p, base)).collect(),
        keymap: Keymap::with(&overrides),
        palette,
    })
}

fn keys_clone(k: &Keys) -> Keys {
    match k {
        Keys::One(s) => Keys::One(s.clone()),
        Keys::Many(v) => Keys::Many(v.clone()),
    }
}

/// The palette a theme's name picks.
fn theme_base(src: &Source, span: Range<usize>, name: &str) -> Result<Palette, ConfigError> {
    match name {
        "dark" | "default" => Ok(Palette::default()),
        "light" => Ok(Palette::light()),
        _ => Err(src.error(
            span,
            format!("unknown theme {name:?}; themes are: default (dark), light"),
        )),
    }
}

/// A workspace's `fgd.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkspaceFile {
    fabrics: Vec<Spanned<String>>,
}

pub const WORKSPACE_FILE: &str = "fgd.toml";

/// The fabrics a workspace's `fgd.toml` lists, in its order, or None when it has none. A
/// listed folder need not be initialised yet (the dashboard offers `init`), but it must stay
/// inside the workspace and exist.
pub fn workspace_fabrics(workspace: &Path) -> Result<Option<Vec<PathBuf>>, ConfigError> {
    let file = workspace.join(WORKSPACE_FILE);
    let text = match std::fs::read(&file) {
        Ok(b) => text_of(b, &file)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ConfigError::unreadable(&file, e)),
    };
    let src = Source {
        file: &file,
        text: &text,
    };
    let raw: WorkspaceFile = src.parse()?;
    let mut out = Vec::new();
    for f in &raw.fabrics {
        let rel = Path::new(f.get_ref());
        let escapes = rel.is_absolute()
            || rel
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir));
        if escapes {
            return Err(src.error(
                f.span(),
                format!(
                    "fabric {:?} is outside the workspace: list paths relative to {}",
                    f.get_ref(),
                    workspace.display()
                ),
            ));
        }
        let dir = workspace.join(rel);
        if !dir.is_dir() {
            return Err(src.error(
                f.span(),
                format!("fabric {:?}: no such folder", f.get_ref()),
            ));
        }
        if !out.contains(&dir) {
            out.push(dir);
        }
    }
    Ok(Some(out))
}

/// The `[validation]` section of the operator's config file (`$XDG_CONFIG_HOME/fgd/config.toml`
/// or `FGD_CONFIG`), when there is one. Only that section is read here; the rest of the file
/// is the dashboard's and is checked when the dashboard starts.
pub fn validation_section() -> Result<Option<fgd::validate::settings::SettingsFile>, ConfigError> {
    #[derive(Deserialize)]
    struct Only {
        validation: Option<toml::Value>,
    }
    let path = match std::env::var_os("FGD_CONFIG") {
        Some(p) => PathBuf::from(p),
        None => match default_path() {
            Some(p) if p.is_file() => p,
            _ => return Ok(None),
        },
    };
    let bytes = std::fs::read(&path).map_err(|e| ConfigError::unreadable(&path, e))?;
    let text = text_of(bytes, &path)?;
    let only: Only = toml::from_str(&text).map_err(|e| ConfigError {
        file: path.clone(),
        line: 0,
        column: 0,
        message: e.to_string(),
    })?;
    let Some(section) = only.validation else {
        return Ok(None);
    };
    let file: fgd::validate::settings::SettingsFile =
        section
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError {
                file: path.clone(),
                line: 0,
                column: 0,
                message: format!("[validation]: {e}"),
            })?;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    Ok(Some(file.relative_to(dir)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(Path::new("/etc/fgd.toml"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_full_config_applies() {
        let c = parse(
            Path::new("/home/op/.config/fgd/config.toml"),
            r##"
quiet_ms = 500
read_only = true
git_author = "Ops Team <ops@example.com>"
git_signoff = true
log_file = "logs/dash.log"
fabrics = ["/srv/gitops/dc1", "~/dc2"]

[keys]
ingest = "ctrl-r"
sync = ["i", "f5"]
push = ""

[keys.editor]
goto-line = "ctrl-l"

[theme]
base = "light"
valid = "lightgreen"
accent = "#3377ff"
"##,
        )
        .unwrap();
        assert_eq!(c.quiet, Duration::from_millis(500));
        assert!(c.read_only);
        assert_eq!(c.git_author.as_deref(), Some("Ops Team <ops@example.com>"));
        assert!(c.git_signoff);
        assert_eq!(
            c.log_file.as_deref(),
            Some(Path::new("/home/op/.config/fgd/logs/dash.log"))
        );
        assert_eq!(c.fabrics[0], Path::new("/srv/gitops/dc1"));
        let b = ModeKind::Browse;
        assert_eq!(c.keymap.label(b, Action::Sync), "i/f5");
        assert_eq!(c.keymap.label(b, Action::Ingest), "ctrl-r");
        assert_eq!(c.keymap.label(b, Action::Push), "");
        assert_eq!(c.keymap.label(ModeKind::Editor, Action::GotoLine), "ctrl-l");
        assert_eq!(c.keymap.label(ModeKind::Editor, Action::Save), "ctrl-s");
        assert_eq!(c.palette.valid, ratatui::style::Color::LightGreen);
        assert_eq!(
            c.palette.pending,
            Palette::light().pending,
            "the light base"
        );
        assert_eq!(
            c.palette.accent,
            ratatui::style::Color::Rgb(0x33, 0x77, 0xff)
        );
    }

    #[test]
    fn an_unknown_action_names_file_line_and_the_action() {
        let e = err("quiet_ms = 200\n[keys]\ningest = \"i\"\nteleport = \"t\"\n");
        assert!(
            e.starts_with("/etc/fgd.toml:4:1: unknown action \"teleport\""),
            "{e}"
        );
        assert!(e.contains("ingest, push"), "{e}");
    }

    #[test]
    fn a_file_that_cannot_be_read_is_named_without_a_made_up_position() {
        let t = tempfile::tempdir().unwrap();
        let missing = t.path().join("nope.toml");
        let e = load(Some(&missing)).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{}: cannot read: No such file or directory (os error 2)",
                missing.display()
            )
        );
        let dir_as_file = t.path().join("dir.toml");
        std::fs::create_dir(&dir_as_file).unwrap();
        let e = load(Some(&dir_as_file)).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: cannot read: ", dir_as_file.display())),
            "{e}"
        );
    }

    #[test]
    fn a_file_that_is_not_utf8_names_the_line_and_column_of_the_bad_byte() {
        let t = tempfile::tempdir().unwrap();
        let file = t.path().join("c.toml");
        std::fs::write(&file, b"quiet_ms = 3\n# \xff\xfe\n").unwrap();
        let e = load(Some(&file)).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{}:2:3: not UTF-8 (byte 0xFF): save the file as UTF-8",
                file.display()
            )
        );
        std::fs::write(t.path().join(WORKSPACE_FILE), b"fabrics = [\"d\xe9\"]\n").unwrap();
        let e = workspace_fabrics(t.path()).unwrap_err().to_string();
        assert!(
            e.ends_with("fgd.toml:1:14: not UTF-8 (byte 0xE9): save the file as UTF-8"),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_top_level_key_names_its_line() {
        let e = err("quiet_ms = 200\n\nquiet = 3\n");
        assert!(
            e.starts_with("/etc/fgd.toml:3:1: unknown field `quiet`"),
            "{e}"
        );
    }

    #[test]
    fn bad_keys_colours_roles_types_and_syntax_are_named() {
        let e = err("[keys]\ningest = \"hyper-i\"\n");
        assert!(
            e.starts_with("/etc/fgd.toml:2:10: [keys] ingest: unknown key"),
            "{e}"
        );
        let e = err("[keys]\ningest = \"x\"\nsync = \"x\"\n");
        assert!(
            e.contains(":3:8: [keys] sync: key x is already bound to ingest"),
            "{e}"
        );
        let e = err("[theme]\nvalid = \"chartreuse-ish\"\n");
        assert!(e.contains(":2:9: [theme] valid: unknown colour"), "{e}");
        let e = err("[theme]\nsparkle = \"red\"\n");
        assert!(
            e.contains(":2:1: unknown theme role \"sparkle\"; roles are: base, "),
            "{e}"
        );
        let e = err("quiet_ms = \"soon\"\n");
        assert!(e.starts_with("/etc/fgd.toml:1:12: "), "{e}");
        let e = err("[keys\n");
        assert!(e.starts_with("/etc/fgd.toml:1:"), "{e}");
    }

    #[test]
    fn a_key_the_terminal_cannot_send_and_an_action_of_another_mode_are_refused() {
        let e = err("[keys]\ningest = \"ctrl-i\"\n");
        assert!(
            e.starts_with("/etc/fgd.toml:2:10: [keys] ingest: ctrl-i cannot be bound")
                && e.contains("sends it as tab"),
            "{e}"
        );
        let e = err("[keys.editor]\ningest = \"x\"\n");
        assert!(
            e.contains(":2:1: unknown action \"ingest\" in [keys.editor]; actions are: help, "),
            "{e}"
        );
        let e = err("[keys.sidebar]\nup = \"x\"\n");
        assert!(e.contains(":1:7: unknown mode [keys.sidebar]"), "{e}");
        // One key may mean different things in different modes.
        let c = parse(
            Path::new("/c.toml"),
            "[keys.browse]\nzoom = \"x\"\n[keys.zoom]\nclose = \"x\"\n",
        );
        assert!(c.is_ok(), "{c:?}");
    }

    #[test]
    fn a_theme_by_name_picks_a_palette() {
        let c = parse(Path::new("/c.toml"), "theme = \"light\"\n").unwrap();
        assert_eq!(c.palette, Palette::light());
        let e = err("theme = \"solarized\"\n");
        assert!(e.contains(":1:9: unknown theme \"solarized\""), "{e}");
    }

    #[test]
    fn a_workspace_file_lists_fabrics_in_order_and_refuses_escapes() {
        let t = tempfile::tempdir().unwrap();
        for d in ["b", "a"] {
            std::fs::create_dir(t.path().join(d)).unwrap();
        }
        assert_eq!(workspace_fabrics(t.path()).unwrap(), None);
        std::fs::write(t.path().join(WORKSPACE_FILE), "fabrics = [\"b\", \"a\"]\n").unwrap();
        assert_eq!(
            workspace_fabrics(t.path()).unwrap(),
            Some(vec![t.path().join("b"), t.path().join("a")])
        );
        std::fs::write(
            t.path().join(WORKSPACE_FILE),
            "fabrics = [\n  \"a\",\n  \"../elsewhere\",\n]\n",
        )
        .unwrap();
        let e = workspace_fabrics(t.path()).unwrap_err().to_string();
        assert!(
            e.contains("fgd.toml:3:3: fabric \"../elsewhere\" is outside"),
            "{e}"
        );
        std::fs::write(
            t.path().join(WORKSPACE_FILE),
            "fabrics = [\"c\"]\nextra = 1\n",
        )
        .unwrap();
        let e = workspace_fabrics(t.path()).unwrap_err().to_string();
        assert!(e.contains("fgd.toml:2:1: unknown field `extra`"), "{e}");
    }
}
