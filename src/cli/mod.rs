//! The command-line interface: argument parsing and the mapping of outcomes to exit codes.
//! Each command lives in its own module and only calls the library and prints.

mod connect;
mod oauth_common;
mod refresh;
mod render;
mod revoke;
mod schema;
mod serve;
mod simulate;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: invalid definition, or a check (such as `render --check`) failed.
pub const EXIT_INVALID: u8 = 1;
/// Exit code: usage or I/O error (missing file, unreadable directory, bad option value).
pub const EXIT_USAGE: u8 = 2;

/// Describe an OAuth provider once in YAML; validate it, render per-data-center configs, and
/// run the OAuth flow from the same description.
///
/// Exit codes: 0 success, 1 invalid definition or failed check, 2 usage or I/O error.
#[derive(Debug, Parser)]
#[command(name = "provider-forge", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check provider definitions: YAML syntax, the JSON Schema, and semantic rules.
    Validate(validate::Args),
    /// Print resolved per-data-center, per-environment configurations.
    Render(render::Args),
    /// Print the JSON Schema of a file format (generated from the Rust types).
    Schema(schema::Args),
    /// Run the OAuth authorization-code flow and write the tokens to a file (mode 0600).
    ///
    /// The client secret comes from the environment variable PROVIDER_FORGE_CLIENT_SECRET
    /// (per-DC secrets: PROVIDER_FORGE_CLIENT_SECRET_<CODE>) or --client-secret-file, never
    /// from a flag value. Exit codes: 0 connected, 1 invalid definition or failed flow, 2 usage
    /// or I/O error.
    Connect(connect::Args),
    /// Refresh the access token of a token file written by `connect` (rewritten atomically).
    Refresh(refresh::Args),
    /// Revoke the tokens of a token file written by `connect`.
    Revoke(revoke::Args),
    /// Run the callback service: connect sessions, the OAuth callback, and a store of
    /// connections whose tokens are encrypted at rest and refreshed on demand.
    Serve(serve::Args),
    /// Run the providers' authorization servers locally, from their definitions, to try
    /// `connect`, `refresh` and `revoke` (or a platform) without the provider.
    ///
    /// Client secret from PROVIDER_FORGE_CLIENT_SECRET (per-DC: PROVIDER_FORGE_CLIENT_SECRET_<CODE>)
    /// or --client-secret-file. Exit codes: 0 stopped by a signal, 1 invalid definition, 2 usage
    /// or I/O error.
    Simulate(simulate::Args),
}

/// Parses the command line, runs the command and returns its exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Render(args) => render::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Connect(args) => connect::run(args),
        Command::Refresh(args) => refresh::run(args),
        Command::Revoke(args) => revoke::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Simulate(args) => simulate::run(args),
    };
    ExitCode::from(code)
}

/// Prints diagnostics to stderr, followed by a count.
fn print_diagnostics(diagnostics: &[crate::diagnostics::Diagnostic]) {
    for diagnostic in diagnostics {
        eprintln!("{diagnostic}");
    }
    if !diagnostics.is_empty() {
        eprintln!("{} error(s)", diagnostics.len());
    }
}

/// Reports a usage or I/O error and returns its exit code.
fn io_error(error: &dyn std::fmt::Display) -> u8 {
    eprintln!("provider-forge: error: {error}");
    EXIT_USAGE
}
