//! The provider definition format: its Rust types and the YAML reader with a source map.

pub(crate) mod document;
pub(crate) mod patterns;
pub(crate) mod types;

pub use document::{
    Document, MAX_DEPTH, MAX_EXPANDED_BYTES, MAX_FILE_BYTES, MAX_NODES, NodeSpan, Position, ROOT,
    Region, SourceMap, Span, SyntaxCause, SyntaxError, parse,
};
pub use types::*;
