//! `provider-forge schema`: prints a generated JSON Schema, or the service's OpenAPI
//! description.

use clap::ValueEnum;

use crate::schema;

/// Arguments of `schema`.
#[derive(Debug, clap::Args)]
pub(super) struct SchemaArgs {
    /// Which file format's schema to print.
    #[arg(long, value_enum, default_value_t = SchemaKind::Provider)]
    kind: SchemaKind,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SchemaKind {
    /// A provider definition (schemas/provider.schema.json).
    Provider,
    /// A shared data-center set (schemas/data-center-set.schema.json).
    DataCenterSet,
    /// The output of `render --format json` (schemas/rendered.schema.json).
    Rendered,
    /// The HTTP API of `serve`, OpenAPI 3.1 (schemas/openapi.json).
    Openapi,
}

pub(super) fn run(args: SchemaArgs) -> Result<(), super::CliError> {
    let value = match args.kind {
        SchemaKind::Provider => schema::provider_schema(),
        SchemaKind::DataCenterSet => schema::data_center_set_schema(),
        SchemaKind::Rendered => schema::rendered_schema(),
        SchemaKind::Openapi => serde_json::to_value(crate::service::openapi())
            .expect("the OpenAPI description always serializes"),
    };
    super::print_stdout(&schema::to_pretty_json(&value))
}
