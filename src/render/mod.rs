//! Output of resolved providers: JSON and YAML of the endpoint table.

use crate::resolve::table::ResolvedProvider;

/// Output formats that print the resolved table itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Pretty JSON, an array of providers.
    Json,
    /// YAML, a sequence of providers.
    Yaml,
}

/// Prints resolved providers as JSON or YAML, with stable key order and a trailing newline.
pub fn table(providers: &[ResolvedProvider], format: TableFormat) -> String {
    match format {
        TableFormat::Json => {
            let mut text =
                serde_json::to_string_pretty(providers).expect("the table always serializes");
            text.push('\n');
            text
        }
        TableFormat::Yaml => serde_yaml::to_string(providers).expect("the table always serializes"),
    }
}
