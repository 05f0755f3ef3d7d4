//! provider-forge: describe an OAuth integration provider once, in YAML, and get correct
//! configurations for every data center it runs in, plus an OAuth engine driven by the same
//! description.
//!
//! The data flows one way:
//! YAML text → [`definition::document`] (value + source map) → JSON Schema and semantic checks
//! ([`validate`], [`resolve`]) → [`resolve::table::ResolvedProvider`] → outputs ([`render`]) and
//! the OAuth engine ([`oauth`]). URLs are built in exactly one place, [`resolve`].

#![warn(missing_docs)]

pub mod catalog;
mod cli;
pub mod definition;
pub mod diagnostics;
pub mod env_var;
#[cfg(test)]
mod layers;
pub mod lsp;
pub mod nango;
pub mod oauth;
mod regular_file;
pub mod render;
pub mod resolve;
pub mod schema;
pub mod service;
pub mod simulate;
pub mod validate;

pub use cli::token_file;

/// Runs the `provider-forge` command line (arguments from the process, output to stdout and
/// stderr) and returns its exit code. The binary is this one call; a platform embedding the
/// library uses the modules above instead.
pub fn run_cli() -> std::process::ExitCode {
    cli::run()
}
