//! libyaml's own events over one chunk (the parser serde_yaml runs, and the one go-yaml, which
//! kustomize reads with, is a port of): how each node is written (plain, quoted, tagged,
//! anchored) and where, which serde_yaml's values forget. The fidelity checks ask it of the rare
//! document whose cheaper passes found something that depends on it; validation builds its
//! positioned tree from it (`validate::tree`). The one place fgd calls libyaml itself.

use std::mem::MaybeUninit;

use super::Pos;

/// How a scalar is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|` or `>`.
    Block,
}

/// A scalar node, as much as the checks need.
pub(crate) struct Scalar {
    pub text: String,
    /// The tag as libyaml resolved its handle (`tag:yaml.org,2002:str` for `!!str`), only when
    /// one is written.
    pub tag: Option<String>,
    /// Plain and untagged: Go's readers resolve it.
    pub plain: bool,
    pub style: Style,
    /// Where the node starts (its anchor or tag, if written first), 1-based, chunk-relative.
    pub pos: Pos,
    /// Where the scalar itself ends: 0-based line and character column.
    pub end: (usize, usize),
}

/// One event, copied out of libyaml's.
pub(crate) enum Event {
    /// The scalar and its anchor.
    Scalar(Scalar, Option<String>),
    /// An alias, by the anchor it names.
    Alias(String, Pos),
    MapStart {
        anchor: Option<String>,
        tag: Option<String>,
        pos: Pos,
    },
    SeqStart {
        anchor: Option<String>,
        tag: Option<String>,
        pos: Pos,
    },
    End,
    DocumentEnd,
    Other,
    StreamEnd,
}

/// libyaml's event parser over one chunk's text. Owns the parser, which is freed on drop.
pub(crate) struct Events<'t> {
    parser: Box<MaybeUninit<unsafe_libyaml::yaml_parser_t>>,
    _text: &'t str,
}

impl<'t> Events<'t> {
    pub fn new(text: &'t str) -> Option<Events<'t>> {
        let mut parser = Box::new(MaybeUninit::<unsafe_libyaml::yaml_parser_t>::uninit());
        // SAFETY: initialize writes the whole parser; the input outlives it (`_text`), and
        // the parser is deleted in `drop` once, only if initialised.
        unsafe {
            if !unsafe_libyaml::yaml_parser_initialize(parser.as_mut_ptr()).ok {
                return None;
            }
            unsafe_libyaml::yaml_parser_set_encoding(
                parser.as_mut_ptr(),
                unsafe_libyaml::YAML_UTF8_ENCODING,
            );
            unsafe_libyaml::yaml_parser_set_input_string(
                parser.as_mut_ptr(),
                text.as_ptr(),
                text.len() as u64,
            );
        }
        Some(Events {
            parser,
            _text: text,
        })
    }

    /// The next event; None at an error (the caller stops: serde_yaml reports errors).
    pub fn next(&mut self) -> Option<Event> {
        let mut event = MaybeUninit::<unsafe_libyaml::yaml_event_t>::uninit();
        // SAFETY: the parser is initialised; a successful parse fills `event`, which is read
        // (its strings copied) and then deleted exactly once.
        unsafe {
            if !unsafe_libyaml::yaml_parser_parse(self.parser.as_mut_ptr(), event.as_mut_ptr()).ok {
                return None;
            }
            let e = event.as_mut_ptr();
            let mark = (*e).start_mark;
            let pos = Pos {
                line: mark.line as usize + 1,
                column: mark.column as usize + 1,
            };
            let out = match (*e).type_ {
                unsafe_libyaml::YAML_SCALAR_EVENT => {
                    let s = (*e).data.scalar;
                    let text = bytes(s.value, s.length as usize);
                    let tag = c_string(s.tag);
                    let style = match s.style {
                        unsafe_libyaml::YAML_SINGLE_QUOTED_SCALAR_STYLE => Style::SingleQuoted,
                        unsafe_libyaml::YAML_DOUBLE_QUOTED_SCALAR_STYLE => Style::DoubleQuoted,
                        unsafe_libyaml::YAML_LITERAL_SCALAR_STYLE
                        | unsafe_libyaml::YAML_FOLDED_SCALAR_STYLE => Style::Block,
                        _ => Style::Plain,
                    };
                    let end = (*e).end_mark;
                    Event::Scalar(
                        Scalar {
                            text,
                            plain: style == Style::Plain && tag.is_none(),
                            tag,
                            style,
                            pos,
                            end: (end.line as usize, end.column as usize),
                        },
                        c_string(s.anchor),
                    )
                }
                unsafe_libyaml::YAML_ALIAS_EVENT => {
                    Event::Alias(c_string((*e).data.alias.anchor).unwrap_or_default(), pos)
                }
                unsafe_libyaml::YAML_MAPPING_START_EVENT => {
                    let m = (*e).data.mapping_start;
                    Event::MapStart {
                        anchor: c_string(m.anchor),
                        tag: c_string(m.tag),
                        pos,
                    }
                }
                unsafe_libyaml::YAML_SEQUENCE_START_EVENT => {
                    let s = (*e).data.sequence_start;
                    Event::SeqStart {
                        anchor: c_string(s.anchor),
                        tag: c_string(s.tag),
                        pos,
                    }
                }
                unsafe_libyaml::YAML_MAPPING_END_EVENT
                | unsafe_libyaml::YAML_SEQUENCE_END_EVENT => Event::End,
                unsafe_libyaml::YAML_DOCUMENT_END_EVENT => Event::DocumentEnd,
                unsafe_libyaml::YAML_STREAM_END_EVENT => Event::StreamEnd,
                _ => Event::Other,
            };
            unsafe_libyaml::yaml_event_delete(e);
            Some(out)
        }
    }
}

impl Drop for Events<'_> {
    fn drop(&mut self) {
        // SAFETY: only ever built initialised (see `new`).
        unsafe { unsafe_libyaml::yaml_parser_delete(self.parser.as_mut_ptr()) }
    }
}

/// # Safety
/// `p` is null or points to `len` readable bytes.
unsafe fn bytes(p: *const u8, len: usize) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: as the caller promises.
    String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(p, len) }).into_owned()
}

/// # Safety
/// `p` is null or a NUL-terminated string.
unsafe fn c_string(p: *const u8) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: as the caller promises.
    let s = unsafe { std::ffi::CStr::from_ptr(p.cast()) };
    Some(s.to_string_lossy().into_owned())
}
