//! Everything about Nango, in one place: its provider catalog as Nango reads it
//! ([`NangoCatalog`]), the comparison of a family with it ([`compare`], [`markdown_table`]),
//! the importer from it ([`import`]) and the view a provider renders to it ([`export`]).
//!
//! Nango is the one other catalog this tool reads and writes, so its format's quirks (alias
//! merging, `${connectionConfig.NAME}` interpolation, `A || B` fallbacks) stay here, out of the
//! format and the engine.

mod catalog;
mod compare;
pub mod export;
pub mod import;

pub use catalog::{NangoCatalog, NangoCatalogError, NangoEntry, NangoScopes};
pub use compare::{
    HostDifference, HostRole, NangoSide, ProductComparison, compare, markdown_table,
};
