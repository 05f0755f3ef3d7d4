//! `provider-forge validate`: checks definitions and prints diagnostics.

use std::path::PathBuf;

use clap::ValueEnum;

use super::{CliError, EXIT_INVALID};
use crate::catalog::{self, Loaded};
use crate::diagnostics::Diagnostic;

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Diagnostics go to stderr as `FILE:LINE:COL: error: MESSAGE (at PATH)`, \
sorted by position, each followed by the source lines with the problem underlined (and the \
other places that explain it, in any file) and a `help:` line when a fix is known. Colour \
on a terminal only, never with NO_COLOR set; control characters from the input are shown \
escaped (`\\u{1b}`). With --format json, \
stdout gets a JSON array of {file, line, column, path, severity, kind, message, hint, \
end_line, end_column, byte_start, byte_end, labels}: the problem's kind (a stable id such as \
`unknown-field`, listed in docs/validate.md), its whole range (end exclusive; bytes \
counted from the start of the file) and the other places that explain it, each {file, line, \
column, end_line, end_column, byte_start, byte_end, path, message}.\n\n\
Files are checked in parallel on all cores and one at a time in constant memory; the output is \
the same whatever the number of threads (environment: RAYON_NUM_THREADS, default one per \
core).\n\n\
With --format sarif, stdout gets a SARIF 2.1.0 log (one rule per kind of problem with its \
help, one result per problem, columns in Unicode characters, end exclusive, labels as related \
locations), for code scanning. With --format github, stdout gets GitHub Actions workflow \
commands: `::error file=F,line=L,col=C,endLine=L,endColumn=C,title=KIND at PATH::MESSAGE` per \
problem and a `::notice` per label.\n\n\
Exit codes: 0 all valid, 1 some definition is invalid, 2 usage or I/O error."
)]
pub(super) struct ValidateArgs {
    /// Provider files, or directories of *.yaml providers (their data-centers/ sets included).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = DiagnosticFormat::Text)]
    format: DiagnosticFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiagnosticFormat {
    /// One line per problem on stderr, like a compiler.
    Text,
    /// A JSON array on stdout, for scripts and editors.
    Json,
    /// A SARIF 2.1.0 log on stdout, for code-scanning annotations.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=...`) on stdout.
    Github,
}

pub(super) fn run(args: ValidateArgs) -> Result<(), CliError> {
    let mut valid = 0usize;
    // Each provider is dropped on its worker thread once checked: nothing but the count and
    // the diagnostics outlives its file.
    let diagnostics = catalog::stream(&args.paths, drop, |loaded: Loaded<()>| {
        if let Loaded::Valid(()) = loaded {
            valid += 1;
        }
    })
    .map_err(CliError::usage)?;
    report(&diagnostics, args.format)?;
    // Warnings are printed; only errors make a file invalid.
    if !diagnostics.iter().any(Diagnostic::is_error) {
        if args.format == DiagnosticFormat::Text {
            eprintln!("{valid} provider(s) valid");
        }
        Ok(())
    } else {
        Err(CliError::Reported(EXIT_INVALID))
    }
}

fn report(diagnostics: &[Diagnostic], format: DiagnosticFormat) -> Result<(), CliError> {
    match format {
        DiagnosticFormat::Text => super::print_diagnostics(diagnostics),
        DiagnosticFormat::Json => super::print_stdout(&format!(
            "{}\n",
            serde_json::to_string_pretty(diagnostics).expect("diagnostics always serialize")
        )),
        DiagnosticFormat::Sarif => super::print_stdout(&format!(
            "{:#}\n",
            crate::diagnostics::sarif::log(diagnostics)
        )),
        DiagnosticFormat::Github => {
            super::print_stdout(&crate::diagnostics::github::annotations(diagnostics))
        }
    }
}
