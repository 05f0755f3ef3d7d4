//! provider-forge: describe an OAuth integration provider once, in YAML, and get correct
//! configurations for every data center it runs in, plus an OAuth engine driven by the same
//! description.
//!
//! The data flows one way:
//! YAML text → [`definition::parse`] (value + source map) → JSON Schema and semantic checks
//! ([`validate`], [`resolve`]) → [`resolve::ResolvedProvider`] → outputs ([`render`]) and
//! the OAuth engine ([`oauth`]). URLs are built in exactly one place, [`resolve`].
//!
//! Cargo features (all on by default): `oauth` (the engine), `simulate` (local authorization
//! servers), `service` (the callback service), `lsp` (the language server) and `cli` (the
//! `provider-forge` command, with every feature). Without them the crate is the core library:
//! definitions, validation, resolution, rendering, schemas, diagnostics and the Nango catalog,
//! with no TLS, SQL, HTTP or async runtime in its dependencies.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod catalog;
#[cfg(feature = "cli")]
mod cli;
pub mod definition;
pub mod diagnostics;
pub mod env_var;
#[cfg(test)]
mod layers;
#[cfg(feature = "lsp")]
#[cfg_attr(docsrs, doc(cfg(feature = "lsp")))]
pub mod lsp;
pub mod nango;
#[cfg(feature = "oauth")]
#[cfg_attr(docsrs, doc(cfg(feature = "oauth")))]
pub mod oauth;
mod regular_file;
pub mod render;
pub mod resolve;
pub mod schema;
#[cfg(feature = "service")]
#[cfg_attr(docsrs, doc(cfg(feature = "service")))]
pub mod service;
#[cfg(feature = "simulate")]
#[cfg_attr(docsrs, doc(cfg(feature = "simulate")))]
pub mod simulate;
pub mod validate;

#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub use cli::token_file;

/// Runs the `provider-forge` command line (arguments from the process, output to stdout and
/// stderr) and returns its exit code. The binary is this one call; a platform embedding the
/// library uses the modules above instead.
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub fn run_cli() -> std::process::ExitCode {
    cli::run()
}
