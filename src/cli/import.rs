//! `provider-forge import nango`: reads Nango's catalog, calls the importer, prints its report,
//! picks the exit code.

use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};

use super::{CliError, EXIT_INVALID};
use crate::nango::import::{self, DEFAULT_SCHEMA_REF, ImportOptions};
use crate::nango::{NangoCatalog, NangoScopes};

/// Arguments of `import`.
#[derive(Debug, clap::Args)]
pub(super) struct ImportArgs {
    #[command(subcommand)]
    source: Source,
}

#[derive(Debug, Subcommand)]
enum Source {
    /// Convert the entries of Nango's providers.yaml into definition files.
    ///
    /// Entries of the auth modes the format has are imported: OAUTH2 (auth.mode oauth2_code),
    /// API_KEY (api_key), BASIC (basic), OAUTH2_CC (client_credentials) and TWO_STEP
    /// (token_request); --auth-mode narrows that.
    ///
    /// Each entry (aliases merged as Nango merges them) becomes DIR/<key>.yaml with the Nango
    /// key as `id`, or is skipped with the Nango feature our format has no equivalent for
    /// (post_connection_script, a provider-specific token client, authorization URL rewrites,
    /// request signing, client certificates, further login steps, ...). Fields that do not change the flow (docs links, categories, webhooks, proxy
    /// pagination and retries) are listed per entry as not carried over. Every written file is
    /// then validated like any definition.
    #[command(after_help = "\
The report lists every entry of the imported modes (imported with the fields not carried over, or skipped with \
the feature and the reason), then counts per reason. --format json prints the same report as one \
JSON object {source, entries: [{id, alias?, auth_mode, outcome: imported|skipped|invalid, file | \
feature + reason | diagnostics, not_carried_over, notes}], summary: {entries, imported, skipped, \
invalid, skipped_by_feature, not_carried_over_by_field, by_mode}}.

Written files start with `# yaml-language-server: $schema=REF` and are byte-identical across \
runs; a file already up to date is not rewritten. Files of entries skipped now are not removed.

Exit codes: 0 the import ran (whatever it skipped); 1 a written file failed validation; 2 usage \
or I/O error (unreadable or non-YAML input, unwritable DIR).")]
    Nango(NangoArgs),
}

#[derive(Debug, clap::Args)]
struct NangoArgs {
    /// Nango's providers.yaml.
    #[arg(value_name = "PROVIDERS.yaml")]
    providers: PathBuf,
    /// Nango's providers.scopes.yaml: each provider's scope list becomes its scope catalog.
    #[arg(long, value_name = "FILE")]
    scopes: Option<PathBuf>,
    /// Directory the definition files are written to (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// How to print the report.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// Import only entries of this Nango auth_mode (repeatable); default: every mode the format
    /// has.
    #[arg(long = "auth-mode", value_name = "MODE", value_parser = clap::builder::PossibleValuesParser::new(import::NANGO_MODES))]
    auth_modes: Vec<String>,
    /// `$schema` reference written on each file's first line.
    #[arg(long, value_name = "REF", default_value = DEFAULT_SCHEMA_REF)]
    schema_ref: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    /// One block per entry and the summary, on stdout.
    Text,
    /// One JSON object on stdout.
    Json,
}

pub(super) fn run(args: ImportArgs) -> Result<(), CliError> {
    match args.source {
        Source::Nango(args) => nango(args),
    }
}

/// Largest Nango file read: 64 MiB, seventy times Nango's catalog today; checked before
/// reading.
const MAX_NANGO_FILE_BYTES: usize = 64 * 1024 * 1024;

/// Reads one of Nango's files: a regular file (a FIFO would block, `/dev/zero` never ends) of
/// at most [`MAX_NANGO_FILE_BYTES`].
fn read(path: &Path) -> Result<String, String> {
    let failed = |reason: String| format!("{}: cannot read: {reason}", path.display());
    let too_large = |size: u64| {
        failed(format!(
            "the file is {size} bytes, more than the {MAX_NANGO_FILE_BYTES} bytes read from Nango's files"
        ))
    };
    let size = crate::regular_file::size(path).map_err(|error| failed(error.to_string()))?;
    if size > MAX_NANGO_FILE_BYTES as u64 {
        return Err(too_large(size));
    }
    let prefix = crate::regular_file::read_prefix(path, MAX_NANGO_FILE_BYTES + 1)
        .map_err(|error| failed(error.to_string()))?;
    if prefix.bytes.len() > MAX_NANGO_FILE_BYTES {
        return Err(too_large(prefix.len));
    }
    String::from_utf8(prefix.bytes).map_err(|_| failed("the file is not UTF-8".into()))
}

fn nango(args: NangoArgs) -> Result<(), CliError> {
    let catalog = read(&args.providers)
        .and_then(|text| {
            NangoCatalog::parse(&text).map_err(|e| format!("{}: {e}", args.providers.display()))
        })
        .map_err(CliError::Usage)?;
    let scopes = match &args.scopes {
        None => None,
        Some(path) => Some(
            read(path)
                .and_then(|text| {
                    NangoScopes::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
                })
                .map_err(CliError::Usage)?,
        ),
    };
    let options = ImportOptions {
        schema_ref: args.schema_ref,
        source: args.providers.display().to_string(),
        modes: args.auth_modes,
    };
    let report = import::import_nango(&catalog, scopes.as_ref(), &args.out, &options)
        .map_err(CliError::usage)?;
    super::print_stdout(&match args.format {
        ReportFormat::Text => report.text(),
        ReportFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&report).expect("the report always serializes")
        ),
    })?;
    // The report says which files failed validation, and how.
    if report.all_valid() {
        Ok(())
    } else {
        Err(CliError::Reported(EXIT_INVALID))
    }
}
