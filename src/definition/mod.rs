//! The provider definition format: its Rust types and the YAML reader with a source map.

pub mod document;
pub(crate) mod patterns;
pub mod types;
