//! Everything about Nango, in one place: its provider catalog as Nango reads it
//! ([`NangoCatalog`]), the comparison of a family with it ([`compare`], [`markdown_table`]),
//! the importer from it ([`import_nango`]) and the view a provider renders to it ([`entries`], [`entry`]).
//!
//! Nango is the one other catalog this tool reads and writes, so its format's quirks (alias
//! merging, `${connectionConfig.NAME}` interpolation, `A || B` fallbacks) stay here, out of the
//! format and the engine.

mod catalog;
mod compare;
pub(crate) mod export;
pub(crate) mod import;

pub use catalog::{NangoCatalog, NangoCatalogError, NangoEntry, NangoScopes};
pub use compare::{
    HostDifference, HostRole, NangoSide, ProductComparison, compare, markdown_table,
};
pub use export::{
    API_BASE_URL_FIELD, ISSUER_FIELD, NangoCredential, NangoField, NangoRenderError,
    NangoTokenResponse, NangoVerification, RenderedNangoEntry, entries, entry,
};
pub use import::{
    Counts, DEFAULT_SCHEMA_REF, EntryReport, ImportOptions, ImportReport, NANGO_MODES, Outcome,
    Skip, Summary, import_nango,
};
