//! `provider-forge validate`: checks definitions and prints diagnostics.

use std::path::PathBuf;

use clap::ValueEnum;

use super::{EXIT_INVALID, EXIT_OK};
use crate::catalog;
use crate::diagnostics::Diagnostic;

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Diagnostics go to stderr as `FILE:LINE:COL: error: MESSAGE (at PATH)`, \
sorted by position, each followed by a `help:` line when a fix is known. With --format json, \
stdout gets a JSON array of {file, line, column, path, severity, message, hint}.\n\n\
Exit codes: 0 all valid, 1 some definition is invalid, 2 usage or I/O error."
)]
pub struct Args {
    /// Provider files, or directories of *.yaml providers (their data-centers/ sets included).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One line per problem on stderr, like a compiler.
    Text,
    /// A JSON array on stdout, for CI annotations.
    Json,
}

pub fn run(args: Args) -> u8 {
    let catalog = match catalog::load(&args.paths) {
        Ok(catalog) => catalog,
        Err(error) => return super::io_error(&error),
    };
    if let Err(code) = report(&catalog.diagnostics, args.format) {
        return code;
    }
    if catalog.is_valid() {
        if args.format == Format::Text {
            eprintln!("{} provider(s) valid", catalog.providers.len());
        }
        EXIT_OK
    } else {
        EXIT_INVALID
    }
}

fn report(diagnostics: &[Diagnostic], format: Format) -> Result<(), u8> {
    match format {
        Format::Text => super::print_diagnostics(diagnostics),
        Format::Json => super::print_stdout(&format!(
            "{}\n",
            serde_json::to_string_pretty(diagnostics).expect("diagnostics always serialize")
        )),
    }
}
