//! The terminal backend: crossterm's for everything but the cells, which it writes with the
//! colour escapes the terminal understands. crossterm writes every colour as a 256-colour
//! escape (`38;5;n`), which a 16-colour terminal (the Linux console, a vt100 on an old jump
//! host) shows wrong or not at all; here the 16 ANSI colours are the plain `30-37`/`90-97`
//! escapes, 256 colours and true colour are used only when the terminal says it has them,
//! and `TERM=dumb` (or `NO_COLOR`) gets none.

use std::io::{self, Write};
use std::path::PathBuf;

use crossterm::{cursor, execute, terminal};
use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use ratatui::style::{Color, Modifier};

/// How many colours the terminal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Depth {
    None,
    Ansi16,
    Ansi256,
    TrueColor,
}

impl Depth {
    /// From the environment: `NO_COLOR` or `TERM=dumb` none; `COLORTERM=truecolor`/`24bit`
    /// true colour; else what the terminfo entry's `colors` says (256 for `*-256color`), 16
    /// when it says nothing.
    pub fn from_env() -> Depth {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let term = var("TERM").unwrap_or_default();
        Depth::of(
            var("NO_COLOR").is_some(),
            &term,
            var("COLORTERM").as_deref(),
            terminfo_colors(&term),
        )
    }

    /// The depth for these settings: `NO_COLOR` set, `TERM`, `COLORTERM`, and the colours
    /// `TERM`'s terminfo entry gives.
    pub fn of(no_color: bool, term: &str, colorterm: Option<&str>, colors: Option<u32>) -> Depth {
        if no_color || term == "dumb" {
            return Depth::None;
        }
        if colorterm.is_some_and(|c| c == "truecolor" || c == "24bit") {
            return Depth::TrueColor;
        }
        match colors {
            Some(n) if n >= 1 << 24 => Depth::TrueColor,
            Some(n) if n >= 256 => Depth::Ansi256,
            Some(n) if n < 8 => Depth::None,
            Some(_) => Depth::Ansi16,
            None if term.ends_with("256color") => Depth::Ansi256,
            None => Depth::Ansi16,
        }
    }
}

/// The `colors` number of `term`'s compiled terminfo entry, if one is found.
///
/// Written here rather than taken from a crate: it is one number at a fixed place of a
/// documented format (term(5)), and the maintained readers need a newer Rust than fgd's.
fn terminfo_colors(term: &str) -> Option<u32> {
    let first = term.chars().next()?;
    if term.contains('/') {
        return None;
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(d) = std::env::var_os("TERMINFO") {
        dirs.push(d.into());
    }
    if let Some(h) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(h).join(".terminfo"));
    }
    if let Some(list) = std::env::var_os("TERMINFO_DIRS") {
        dirs.extend(std::env::split_paths(&list).filter(|p| !p.as_os_str().is_empty()));
    }
    for d in ["/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo"] {
        dirs.push(d.into());
    }
    dirs.iter().find_map(|d| {
        let by_char = d.join(first.to_string()).join(term);
        let by_hex = d.join(format!("{:x}", first as u32)).join(term);
        let bytes = std::fs::read(by_char)
            .or_else(|_| std::fs::read(by_hex))
            .ok()?;
        colors_of(&bytes)
    })
}

/// The `colors` capability (number 13) of a compiled terminfo entry.
fn colors_of(b: &[u8]) -> Option<u32> {
    let short = |i: usize| -> Option<usize> {
        let v = i16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?]);
        usize::try_from(v).ok()
    };
    let wide = match short(0)? {
        0o432 => false,
        0o1036 => true,
        _ => return None,
    };
    let (names, bools, numbers) = (short(2)?, short(4)?, short(6)?);
    const COLORS: usize = 13;
    if numbers <= COLORS {
        return None;
    }
    let mut at = 12 + names + bools;
    // Numbers start on an even byte.
    at += at % 2;
    let value = if wide {
        let p = at + COLORS * 4;
        i32::from_le_bytes([*b.get(p)?, *b.get(p + 1)?, *b.get(p + 2)?, *b.get(p + 3)?])
    } else {
        i32::from(i16::from_le_bytes([
            *b.get(at + COLORS * 2)?,
            *b.get(at + COLORS * 2 + 1)?,
        ]))
    };
    u32::try_from(value).ok()
}

/// The ANSI number (0-15) of a named colour.
fn ansi(c: Color) -> Option<u8> {
    Some(match c {
        Color::Black => 0,
        Color::Red => 1,
        Color::Green => 2,
        Color::Yellow => 3,
        Color::Blue => 4,
        Color::Magenta => 5,
        Color::Cyan => 6,
        Color::Gray => 7,
        Color::DarkGray => 8,
        Color::LightRed => 9,
        Color::LightGreen => 10,
        Color::LightYellow => 11,
        Color::LightBlue => 12,
        Color::LightMagenta => 13,
        Color::LightCyan => 14,
        Color::White => 15,
        _ => return None,
    })
}

const BASIC: [(u8, u8, u8); 16] = [
    (0, 0, 0),
    (205, 0, 0),
    (0, 205, 0),
    (205, 205, 0),
    (0, 0, 238),
    (205, 0, 205),
    (0, 205, 205),
    (229, 229, 229),
    (127, 127, 127),
    (255, 0, 0),
    (0, 255, 0),
    (255, 255, 0),
    (92, 92, 255),
    (255, 0, 255),
    (0, 255, 255),
    (255, 255, 255),
];

/// The colour of a 256-palette index, as red, green and blue.
fn rgb_of(i: u8) -> (u8, u8, u8) {
    match i {
        0..=15 => BASIC[i as usize],
        16..=231 => {
            let v = |n: u8| if n == 0 { 0 } else { 55 + 40 * n };
            let n = i - 16;
            (v(n / 36), v((n / 6) % 6), v(n % 6))
        }
        _ => {
            let g = 8 + 10 * (i - 232);
            (g, g, g)
        }
    }
}

fn nearest(rgb: (u8, u8, u8), among: impl Iterator<Item = u8>) -> u8 {
    let d = |a: (u8, u8, u8), b: (u8, u8, u8)| {
        let sq = |x: u8, y: u8| (i32::from(x) - i32::from(y)).pow(2);
        sq(a.0, b.0) + sq(a.1, b.1) + sq(a.2, b.2)
    };
    among.min_by_key(|i| d(rgb_of(*i), rgb)).unwrap_or(7)
}

/// The SGR parameters of a colour at this depth (`fg` true for the foreground), or None for
/// the terminal's default.
pub fn sgr(c: Color, fg: bool, depth: Depth) -> Option<String> {
    let base = |n: u8| {
        let n = u32::from(n);
        match (fg, n < 8) {
            (true, true) => 30 + n,
            (true, false) => 90 + n - 8,
            (false, true) => 40 + n,
            (false, false) => 100 + n - 8,
        }
        .to_string()
    };
    let layer = if fg { 38 } else { 48 };
    match (c, depth) {
        (_, Depth::None) | (Color::Reset, _) => None,
        (c, _) if ansi(c).is_some() => ansi(c).map(base),
        (Color::Indexed(n), Depth::Ansi16) => Some(base(nearest(rgb_of(n), 0..16))),
        (Color::Indexed(n), _) => Some(format!("{layer};5;{n}")),
        (Color::Rgb(r, g, b), Depth::TrueColor) => Some(format!("{layer};2;{r};{g};{b}")),
        (Color::Rgb(r, g, b), Depth::Ansi256) => {
            Some(format!("{layer};5;{}", nearest((r, g, b), 16..=255)))
        }
        (Color::Rgb(r, g, b), Depth::Ansi16) => Some(base(nearest((r, g, b), 0..16))),
        _ => None,
    }
}

/// The SGR parameters of text attributes.
fn attributes(m: Modifier) -> Vec<&'static str> {
    [
        (Modifier::BOLD, "1"),
        (Modifier::DIM, "2"),
        (Modifier::ITALIC, "3"),
        (Modifier::UNDERLINED, "4"),
        (Modifier::REVERSED, "7"),
        (Modifier::CROSSED_OUT, "9"),
    ]
    .into_iter()
    .filter(|(f, _)| m.contains(*f))
    .map(|(_, s)| s)
    .collect()
}

/// A backend for crossterm's terminals, drawing cells with escapes of the terminal's colour
/// depth; cursor and screen commands are crossterm's.
pub struct DepthBackend<W: Write> {
    writer: W,
    depth: Depth,
}

impl<W: Write> DepthBackend<W> {
    pub fn new(writer: W, depth: Depth) -> DepthBackend<W> {
        DepthBackend { writer, depth }
    }
}

impl<W: Write> Backend for DepthBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let depth = self.depth;
        let w = &mut self.writer;
        let mut last: Option<(u16, u16)> = None;
        // The style in force: (fg, bg, modifier), starting from the terminal's default.
        let mut style = (Color::Reset, Color::Reset, Modifier::empty());
        write!(w, "\x1b[0m")?;
        for (x, y, cell) in content {
            if last != Some((x.wrapping_sub(1), y)) {
                write!(w, "\x1b[{};{}H", y + 1, x + 1)?;
            }
            last = Some((x, y));
            let want = (cell.fg, cell.bg, cell.modifier);
            if want != style {
                let mut params = vec!["0".to_string()];
                params.extend(attributes(cell.modifier).into_iter().map(str::to_string));
                params.extend(sgr(cell.fg, true, depth));
                params.extend(sgr(cell.bg, false, depth));
                write!(w, "\x1b[{}m", params.join(";"))?;
                style = want;
            }
            w.write_all(cell.symbol().as_bytes())?;
        }
        write!(w, "\x1b[0m")
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        execute!(self.writer, cursor::Hide)
    }
    fn show_cursor(&mut self) -> io::Result<()> {
        execute!(self.writer, cursor::Show)
    }
    fn get_cursor_position(&mut self) -> io::Result<Position> {
        cursor::position().map(|(x, y)| Position { x, y })
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let Position { x, y } = position.into();
        execute!(self.writer, cursor::MoveTo(x, y))
    }
    fn clear(&mut self) -> io::Result<()> {
        self.clear_region(ClearType::All)
    }
    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        use crossterm::terminal::{Clear, ClearType as C};
        let t = match clear_type {
            ClearType::All => C::All,
            ClearType::AfterCursor => C::FromCursorDown,
            ClearType::BeforeCursor => C::FromCursorUp,
            ClearType::CurrentLine => C::CurrentLine,
            ClearType::UntilNewLine => C::UntilNewLine,
        };
        execute!(self.writer, Clear(t))
    }
    fn size(&self) -> io::Result<Size> {
        let (width, height) = terminal::size()?;
        Ok(Size { width, height })
    }
    fn window_size(&mut self) -> io::Result<WindowSize> {
        let s = terminal::window_size()?;
        Ok(WindowSize {
            columns_rows: Size {
                width: s.columns,
                height: s.rows,
            },
            pixels: Size {
                width: s.width,
                height: s.height,
            },
        })
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    fn drawn(depth: Depth, style: Style) -> String {
        let mut b = DepthBackend::new(Vec::new(), depth);
        let mut buf = Buffer::empty(Rect::new(0, 0, 2, 1));
        buf.set_string(0, 0, "ok", style);
        b.draw(
            buf.content()
                .iter()
                .enumerate()
                .map(|(i, c)| (i as u16, 0, c)),
        )
        .unwrap();
        String::from_utf8(b.writer.clone()).unwrap()
    }

    #[test]
    fn sixteen_colours_are_plain_ansi_escapes_never_256_colour_ones() {
        let s = drawn(
            Depth::Ansi16,
            Style::default().fg(Color::Red).bg(Color::DarkGray),
        );
        assert!(s.contains("\x1b[0;31;100mok"), "{s:?}");
        assert!(!s.contains("38;5"), "{s:?}");
        let s = drawn(Depth::Ansi16, Style::default().fg(Color::Indexed(196)));
        assert!(s.contains(";91m") || s.contains(";31m"), "{s:?}");
        let s = drawn(Depth::Ansi16, Style::default().fg(Color::Rgb(0, 0, 200)));
        assert!(s.contains(";34m"), "{s:?}");
    }

    #[test]
    fn more_colours_only_where_the_terminal_has_them_and_none_for_dumb() {
        let rgb = Style::default().fg(Color::Rgb(10, 20, 30));
        assert!(drawn(Depth::TrueColor, rgb).contains("38;2;10;20;30"));
        assert!(drawn(Depth::Ansi256, rgb).contains("38;5;"));
        let s = drawn(Depth::None, rgb.add_modifier(Modifier::BOLD));
        assert!(s.contains("\x1b[0;1mok") && !s.contains("38;"), "{s:?}");
    }

    #[test]
    fn the_depth_follows_no_color_term_colorterm_and_terminfo() {
        assert_eq!(
            Depth::of(true, "xterm-256color", None, Some(256)),
            Depth::None
        );
        assert_eq!(Depth::of(false, "dumb", None, None), Depth::None);
        assert_eq!(Depth::of(false, "linux", None, Some(8)), Depth::Ansi16);
        assert_eq!(Depth::of(false, "vt100", None, None), Depth::Ansi16);
        assert_eq!(Depth::of(false, "vt100", None, Some(0)), Depth::None);
        assert_eq!(Depth::of(false, "xterm", None, Some(256)), Depth::Ansi256);
        assert_eq!(
            Depth::of(false, "tmux-256color", None, None),
            Depth::Ansi256
        );
        assert_eq!(
            Depth::of(false, "xterm", Some("truecolor"), Some(8)),
            Depth::TrueColor
        );
    }

    #[test]
    fn the_terminfo_colors_number_is_read_from_both_formats() {
        // A legacy entry: header, names "t\0", no booleans, 14 numbers (colors = 256).
        let mut e: Vec<u8> = Vec::new();
        for v in [0o432i16, 2, 0, 14, 0, 0] {
            e.extend(v.to_le_bytes());
        }
        e.extend(b"t\0");
        for i in 0..14i16 {
            e.extend((if i == 13 { 256i16 } else { -1 }).to_le_bytes());
        }
        assert_eq!(colors_of(&e), Some(256));
        // The 32-bit format, with an odd names size so the numbers are padded.
        let mut e: Vec<u8> = Vec::new();
        for v in [0o1036i16, 3, 0, 14, 0, 0] {
            e.extend(v.to_le_bytes());
        }
        e.extend(b"tt\0\0");
        for i in 0..14i32 {
            e.extend((if i == 13 { 1i32 << 24 } else { -1 }).to_le_bytes());
        }
        assert_eq!(colors_of(&e), Some(1 << 24));
        assert_eq!(colors_of(b"junk"), None);
    }
}
