//! Colours by role, symbols and borders: the 16 ANSI colours by default (the terminal's own
//! theme maps them, so they read on light and dark backgrounds alike), a light palette,
//! none under `NO_COLOR` or `TERM=dumb`, ASCII where the locale is not UTF-8. Focus shows
//! without colour too: a heavy border and a marker in the title.

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;
use ratatui::widgets::{Block, Borders};

use super::super::backend::Depth;
use super::super::detail::Kind;
use fgd::inspect::FileState;

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
    pub unicode: bool,
    pub palette: Palette,
}

/// Colours by role. The defaults are of the 16 ANSI colours; the config may change any role
/// or pick the light palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    pub valid: Color,
    pub invalid: Color,
    pub unknown: Color,
    pub pending: Color,
    pub conflict: Color,
    pub accent: Color,
    pub warn: Color,
    pub dim: Color,
}

impl Default for Palette {
    fn default() -> Palette {
        Palette {
            valid: Color::Green,
            invalid: Color::Red,
            unknown: Color::DarkGray,
            pending: Color::Yellow,
            conflict: Color::Magenta,
            accent: Color::Cyan,
            warn: Color::Yellow,
            dim: Color::DarkGray,
        }
    }
}

impl Palette {
    /// For light backgrounds, where yellow, cyan and light green wash out: the dark ANSI
    /// colours only.
    pub fn light() -> Palette {
        Palette {
            valid: Color::Green,
            invalid: Color::Red,
            unknown: Color::DarkGray,
            pending: Color::Blue,
            conflict: Color::Magenta,
            accent: Color::Blue,
            warn: Color::Magenta,
            dim: Color::DarkGray,
        }
    }

    pub const ROLES: &[&str] = &[
        "valid", "invalid", "unknown", "pending", "conflict", "accent", "warn", "dim",
    ];

    pub fn role_mut(&mut self, role: &str) -> Option<&mut Color> {
        Some(match role {
            "valid" => &mut self.valid,
            "invalid" => &mut self.invalid,
            "unknown" => &mut self.unknown,
            "pending" => &mut self.pending,
            "conflict" => &mut self.conflict,
            "accent" => &mut self.accent,
            "warn" => &mut self.warn,
            "dim" => &mut self.dim,
            _ => return None,
        })
    }
}

pub const ASCII_BORDER: border::Set = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

/// The focused pane's border without a UTF-8 locale.
pub const ASCII_FOCUSED: border::Set = border::Set {
    top_left: "#",
    top_right: "#",
    bottom_left: "#",
    bottom_right: "#",
    vertical_left: "#",
    vertical_right: "#",
    horizontal_top: "=",
    horizontal_bottom: "=",
};

impl Theme {
    pub fn from_env(palette: Palette, depth: Depth) -> Theme {
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            .unwrap_or_default();
        let l = locale.to_ascii_lowercase();
        Theme {
            color: depth != Depth::None,
            unicode: l.contains("utf-8") || l.contains("utf8"),
            palette,
        }
    }

    pub fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    pub fn state(&self, s: FileState) -> (&'static str, Style) {
        let (u, a, c) = match s {
            FileState::Valid => ("✓", "+", self.palette.valid),
            FileState::Invalid => ("✗", "x", self.palette.invalid),
            FileState::Unknown => ("?", "?", self.palette.unknown),
            FileState::Pending => ("…", "~", self.palette.pending),
            FileState::Conflict => ("!", "!", self.palette.conflict),
        };
        (if self.unicode { u } else { a }, self.fg(c))
    }

    /// A pane's frame; the focused one is heavy and marked, colour or not.
    pub fn block<'a>(&self, title: &str, focused: bool) -> Block<'a> {
        let title = match (focused, self.unicode) {
            (true, true) => format!(" ▶{title}"),
            (true, false) => format!(" >{title}"),
            (false, _) => title.to_string(),
        };
        let b = Block::default().borders(Borders::ALL).title(title);
        let b = match (focused, self.unicode) {
            (true, true) => b.border_set(border::THICK),
            (true, false) => b.border_set(ASCII_FOCUSED),
            (false, true) => b.border_set(border::PLAIN),
            (false, false) => b.border_set(ASCII_BORDER),
        };
        if focused {
            b.border_style(self.fg(self.palette.accent).add_modifier(Modifier::BOLD))
        } else {
            b
        }
    }

    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    /// The style of a piece of the detail text.
    pub fn kind(&self, k: Kind) -> Style {
        match k {
            Kind::Plain => Style::default(),
            Kind::Heading => self.fg(self.palette.accent).add_modifier(Modifier::BOLD),
            Kind::Error => self.fg(self.palette.invalid).add_modifier(Modifier::BOLD),
            Kind::Warning => self.fg(self.palette.warn),
            Kind::Valid => self.fg(self.palette.valid),
            Kind::Dim => self.fg(self.palette.dim),
            Kind::Invisible => self.fg(self.palette.warn).add_modifier(Modifier::BOLD),
            Kind::Caret => self.fg(self.palette.invalid).add_modifier(Modifier::BOLD),
            Kind::Selected => self.fg(self.palette.accent).add_modifier(Modifier::BOLD),
            Kind::Match => Style::default().add_modifier(Modifier::REVERSED),
        }
    }
}
