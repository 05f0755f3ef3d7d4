//! `provider-forge render`: prints resolved configurations.

use std::path::PathBuf;

use clap::ValueEnum;

use super::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::catalog;
use crate::render::{self, TableFormat};

/// Arguments of `render`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Provider files, or directories of *.yaml providers.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// The resolved table as JSON (shape: schemas/rendered.schema.json).
    Json,
    /// The resolved table as YAML.
    Yaml,
}

pub fn run(args: Args) -> u8 {
    let catalog = match catalog::load(&args.paths) {
        Ok(catalog) => catalog,
        Err(error) => return super::io_error(&error),
    };
    if !catalog.is_valid() {
        super::print_diagnostics(&catalog.diagnostics);
        return EXIT_INVALID;
    }
    let providers: Vec<_> = catalog.providers.into_iter().map(|p| p.resolved).collect();
    let format = match args.format {
        Format::Json => TableFormat::Json,
        Format::Yaml => TableFormat::Yaml,
    };
    print!("{}", render::table(&providers, format));
    let _ = EXIT_USAGE;
    EXIT_OK
}
