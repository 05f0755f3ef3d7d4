//! `provider-forge schema`: prints a generated JSON Schema.

use clap::ValueEnum;

use crate::schema;

/// Arguments of `schema`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which file format's schema to print.
    #[arg(long, value_enum, default_value_t = Kind::Provider)]
    kind: Kind,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Kind {
    /// A provider definition (schemas/provider.schema.json).
    Provider,
    /// A shared data-center set (schemas/data-center-set.schema.json).
    DataCenterSet,
    /// The output of `render --format json` (schemas/rendered.schema.json).
    Rendered,
}

pub fn run(args: Args) -> u8 {
    let value = match args.kind {
        Kind::Provider => schema::provider_schema(),
        Kind::DataCenterSet => schema::data_center_set_schema(),
        Kind::Rendered => schema::rendered_schema(),
    };
    match super::print_stdout(&schema::to_pretty_json(&value)) {
        Ok(()) => super::EXIT_OK,
        Err(code) => code,
    }
}
