//! The command-line interface: argument parsing and the mapping of outcomes to exit codes.
//! Each command lives in its own module and only calls the library and prints.

mod connect;
mod connect_direct;
mod conventions;
mod credential_input;
mod error;
mod import;
mod lsp;
mod oauth_common;
mod refresh;
mod render;
mod request;
mod revoke;
mod schema;
mod serve;
mod simulate;
pub mod token_file;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use error::CliError;

/// Exit code: success.
pub(crate) const EXIT_OK: u8 = 0;
/// Exit code: invalid definition, or a check (such as `render --check`) failed.
pub(crate) const EXIT_INVALID: u8 = 1;
/// Exit code: usage or I/O error (missing file, unreadable directory, bad option value).
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit code of `render --check` when nothing could be compared because the definitions (or
/// the template) are invalid: distinct from drift (1), so CI can tell "regenerate the files"
/// from "fix the definition".
pub(crate) const EXIT_CHECK_INVALID: u8 = 3;
/// Exit code when stdout's reader went away (`provider-forge render DIR | head -1`): 128 +
/// SIGPIPE, what a shell reports for `yes | head -1`, so pipelines behave as with any tool.
pub(crate) const EXIT_BROKEN_PIPE: u8 = 141;

/// Describe an OAuth provider once in YAML; validate it, render per-data-center configs, and
/// run the OAuth flow from the same description.
///
/// Exit codes: 0 success, 1 invalid definition or failed check, 2 usage or I/O error, 3 from
/// `render --check` when a definition is invalid (nothing compared; drift is 1), 141 when
/// the reader of stdout or stderr went away (`| head`), as for any command a pipe closed.
#[derive(Debug, Parser)]
#[command(name = "provider-forge", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check provider definitions: YAML syntax, the JSON Schema, and semantic rules.
    Validate(validate::ValidateArgs),
    /// Print resolved per-data-center, per-environment configurations.
    Render(render::RenderArgs),
    /// Print the JSON Schema of a file format (generated from the Rust types).
    Schema(schema::SchemaArgs),
    /// Connect to a provider and write the tokens (or credentials) to a file (mode 0600).
    ///
    /// oauth2_code runs the authorization-code flow; client_credentials obtains a token with
    /// --client-id and the secret; api_key, basic and token_request take the user's credentials
    /// and run the definition's verification (and token request) before writing anything.
    /// The client secret comes from the environment variable PROVIDER_FORGE_CLIENT_SECRET
    /// (per-DC secrets: PROVIDER_FORGE_CLIENT_SECRET_<CODE>) or --client-secret-file;
    /// credentials from PROVIDER_FORGE_CREDENTIAL_<NAME> or --credentials-file; never from a
    /// flag value. Exit codes: 0 connected, 1 invalid definition, failed flow or refused
    /// credentials, 2 usage or I/O error.
    Connect(connect::ConnectArgs),
    /// Refresh the access token of a token file written by `connect` (rewritten atomically).
    Refresh(refresh::RefreshArgs),
    /// Call the provider's API once with a connection's credentials, like `gh api`: the answer's
    /// body on stdout; exit 0 on 2xx, 1 otherwise, 2 usage or I/O error.
    ///
    /// The credentials are applied exactly as the definition says; an expired token is renewed
    /// first (the token file rewritten atomically).
    Request(request::RequestArgs),
    /// Revoke the tokens of a token file written by `connect`, then delete the file.
    ///
    /// Token files (--tokens, for refresh and revoke alike) must be plain files of mode 0600 or
    /// narrower: a file others can read, or a symbolic link, is refused (exit 2).
    Revoke(revoke::RevokeArgs),
    /// Convert another platform's provider catalog into definition files (`import nango`).
    Import(import::ImportArgs),
    /// Run the callback service: connect sessions, the OAuth callback, and a store of
    /// connections whose tokens are encrypted at rest and refreshed on demand.
    Serve(serve::ServeArgs),
    /// Run the providers' authorization servers locally, from their definitions, to try
    /// `connect`, `refresh` and `revoke` (or a platform) without the provider.
    ///
    /// Client secret from PROVIDER_FORGE_CLIENT_SECRET (per-DC: PROVIDER_FORGE_CLIENT_SECRET_<CODE>)
    /// or --client-secret-file. Exit codes: 0 stopped by a signal, 1 invalid definition, 2 usage
    /// or I/O error.
    Simulate(simulate::SimulateArgs),
    /// Run the language server for editors (stdio): diagnostics, hover and completion.
    Lsp(lsp::LspArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) on stdout.
    Completions(conventions::CompletionsArgs),
    /// Print the man page (roff) on stdout: `provider-forge man > provider-forge.1`.
    Man(conventions::ManArgs),
}

/// Parses the command line, runs the command and returns its exit code. The one place a
/// command's [`CliError`] is printed and becomes the exit code.
pub(crate) fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Render(args) => render::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Connect(args) => connect::run(args),
        Command::Refresh(args) => refresh::run(args),
        Command::Request(args) => request::run(args),
        Command::Revoke(args) => revoke::run(args),
        Command::Import(args) => import::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Lsp(args) => lsp::run(args),
        Command::Completions(args) => conventions::completions(args),
        Command::Man(args) => conventions::man(args),
    };
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(error) => {
            // Control characters escaped: a message may quote a path, a value or a server.
            for message in error.messages() {
                eprintln!(
                    "provider-forge: error: {}",
                    crate::diagnostics::visible(&message)
                );
            }
            ExitCode::from(error.exit_code())
        }
    }
}

/// Prints diagnostics to stderr with their source snippets (coloured on a terminal unless
/// `NO_COLOR` is set), followed by a count. Like stdout, a closed stderr
/// (`validate DIR 2>&1 | head -1`) ends the command quietly with [`EXIT_BROKEN_PIPE`].
fn print_diagnostics(diagnostics: &[crate::diagnostics::Diagnostic]) -> Result<(), CliError> {
    use std::fmt::Write;
    let color = crate::diagnostics::snippet::stderr_color();
    let mut text = crate::diagnostics::snippet::render(diagnostics, color);
    let warnings = diagnostics.iter().filter(|d| !d.is_error()).count();
    let errors = diagnostics.len() - warnings;
    match (errors, warnings) {
        (0, 0) => {}
        (_, 0) => {
            let _ = writeln!(text, "{errors} error(s)");
        }
        (0, _) => {
            let _ = writeln!(text, "{warnings} warning(s)");
        }
        _ => {
            let _ = writeln!(text, "{errors} error(s), {warnings} warning(s)");
        }
    }
    write_stream(&mut std::io::stderr().lock(), "stderr", &text)
}

/// Writes `text` to stdout. A reader that went away (`| head`) ends the command quietly with
/// [`EXIT_BROKEN_PIPE`]; any other write failure is reported as an I/O error (exit 2). Every
/// command writes stdout through here: `print!` would panic on a closed pipe.
fn print_stdout(text: &str) -> Result<(), CliError> {
    write_stream(&mut std::io::stdout().lock(), "stdout", text)
}

fn write_stream(
    stream: &mut dyn std::io::Write,
    name: &'static str,
    text: &str,
) -> Result<(), CliError> {
    stream
        .write_all(text.as_bytes())
        .and_then(|()| stream.flush())
        .map_err(|source| CliError::Write {
            stream: name,
            source,
        })
}
