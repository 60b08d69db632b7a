//! YAML input behind fgd's guards. serde_yaml 0.9 has real failure modes on hostile input
//! (billion-laughs expansion, quadratic deep flow nesting, an error repeated forever by its
//! document iterator, a phantom document after "unknown anchor"), so fgd never hands it a whole
//! file: it checks the encoding, splits the text at column-0 `---` lines first, bounds each
//! chunk's size, flow depth and alias expansion, and parses one chunk at a time.

mod encoding;
pub(crate) mod events;
mod fidelity;
mod goyaml;
mod guard;
mod head;
mod portable;
mod split;
mod styles;
pub mod tree;
mod tree_head;

pub use encoding::{decode, Decoded, EncodingError};
pub use goyaml::{plain_reads_as, GoReader};
pub use guard::{parse_chunk, Parsed, YamlError, YamlErrorKind};
pub use portable::{plain_in_head, Incompat, Rare, Unportable};
pub use split::{line_of_key, split, whole, Chunk};
pub use styles::NameStyle;

/// The value of `key` in `map`, as `map.get(key)` finds it (a plain string key, untagged),
/// without hashing: the maps looked up per document (a head, its metadata) hold a handful of
/// keys, where comparing them is cheaper than hashing the key with serde_yaml's SipHash.
pub fn field<'v>(map: &'v serde_yaml::Mapping, key: &str) -> Option<&'v serde_yaml::Value> {
    if map.len() > 16 {
        return map.get(key);
    }
    map.iter()
        .find(|(k, _)| matches!(k, serde_yaml::Value::String(s) if s == key))
        .map(|(_, v)| v)
}

/// How `metadata.name` is written in `chunk` of `text` (position in the file), when it is
/// there: whether Go's readers resolve it depends on it (see `goyaml`).
pub fn name_style(text: &str, chunk: &Chunk) -> Option<NameStyle> {
    let want = styles::Want {
        name: true,
        ..Default::default()
    };
    styles::scan(&text[chunk.range.clone()], want)
        .name
        .map(|n| NameStyle {
            pos: Pos {
                line: n.pos.line + chunk.start.line - 1,
                column: n.pos.column,
            },
            ..n
        })
}

/// Caps applied before and around serde_yaml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub max_file_bytes: usize,
    pub max_doc_bytes: usize,
    pub max_flow_depth: usize,
    pub max_nodes: usize,
}

pub const MAX_FILE_BYTES: usize = 16 << 20;
pub const MAX_DOC_BYTES: usize = 3 << 20;
pub const MAX_FLOW_DEPTH: usize = 64;
pub const MAX_NODES: usize = 1_000_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: MAX_FILE_BYTES,
            max_doc_bytes: MAX_DOC_BYTES,
            max_flow_depth: MAX_FLOW_DEPTH,
            max_nodes: MAX_NODES,
        }
    }
}

/// 1-based line and column in the original file (columns count characters).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}
