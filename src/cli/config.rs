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

use super::tui::keymap::{Action, Key, Keymap};
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    quiet_ms: Option<u64>,
    log_file: Option<String>,
    read_only: Option<bool>,
    git_author: Option<String>,
    #[serde(default)]
    fabrics: Vec<String>,
    #[serde(default)]
    keys: BTreeMap<Spanned<String>, Spanned<Keys>>,
    #[serde(default)]
    theme: BTreeMap<Spanned<String>, Spanned<String>>,
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
    let mut overrides: Vec<(Action, Vec<Key>)> = Vec::new();
    let mut claimed: Vec<(Key, Action)> = Vec::new();
    for (name, keys) in &raw.keys {
        let Some(action) = Action::from_name(name.get_ref()) else {
            return Err(src.error(
                name.span(),
                format!(
                    "unknown action {:?} in [keys]; actions are: {}",
                    name.get_ref(),
                    Action::names().join(", ")
                ),
            ));
        };
        let list = match keys.get_ref() {
            Keys::One(k) if k.is_empty() || k == "none" => Vec::new(),
            Keys::One(k) => vec![k.clone()],
            Keys::Many(ks) => ks.clone(),
        };
        let mut parsed = Vec::new();
        for k in &list {
            let key = Key::parse(k)
                .map_err(|m| src.error(keys.span(), format!("[keys] {}: {m}", name.get_ref())))?;
            if let Some((_, other)) = claimed.iter().find(|(c, _)| *c == key) {
                return Err(src.error(
                    keys.span(),
                    format!(
                        "[keys] {}: key {key} is already bound to {}",
                        name.get_ref(),
                        other.name()
                    ),
                ));
            }
            claimed.push((key, action));
            parsed.push(key);
        }
        overrides.push((action, parsed));
    }
    let mut palette = Palette::default();
    for (role, colour) in &raw.theme {
        let Some(slot) = palette.role_mut(role.get_ref()) else {
            return Err(src.error(
                role.span(),
                format!(
                    "unknown theme role {:?}; roles are: {}",
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
        fabrics: raw.fabrics.iter().map(|p| expand(p, base)).collect(),
        keymap: Keymap::with(&overrides),
        palette,
    })
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
log_file = "logs/dash.log"
fabrics = ["/srv/gitops/dc1", "~/dc2"]

[keys]
ingest = "ctrl-i"
sync = ["i", "f5"]
push = ""

[theme]
valid = "lightgreen"
accent = "#3377ff"
"##,
        )
        .unwrap();
        assert_eq!(c.quiet, Duration::from_millis(500));
        assert!(c.read_only);
        assert_eq!(c.git_author.as_deref(), Some("Ops Team <ops@example.com>"));
        assert_eq!(
            c.log_file.as_deref(),
            Some(Path::new("/home/op/.config/fgd/logs/dash.log"))
        );
        assert_eq!(c.fabrics[0], Path::new("/srv/gitops/dc1"));
        assert_eq!(c.keymap.label(Action::Sync), "i/f5");
        assert_eq!(c.keymap.label(Action::Ingest), "ctrl-i");
        assert_eq!(c.keymap.label(Action::Push), "");
        assert_eq!(c.palette.valid, ratatui::style::Color::LightGreen);
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
        assert!(e.contains(":2:1: unknown theme role \"sparkle\""), "{e}");
        let e = err("quiet_ms = \"soon\"\n");
        assert!(e.starts_with("/etc/fgd.toml:1:12: "), "{e}");
        let e = err("[keys\n");
        assert!(e.starts_with("/etc/fgd.toml:1:"), "{e}");
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
