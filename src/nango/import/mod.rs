//! Importing Nango's catalog: each entry of Nango's `providers.yaml` whose `auth_mode` the format
//! has (`OAUTH2`, `API_KEY`, `BASIC`, `OAUTH2_CC`, `TWO_STEP`) becomes one definition file,
//! `DIR/<nango-key>.yaml` with the key as `id`, or is skipped with the Nango feature that has no
//! equivalent in our format. Authorization-code entries are mapped by `mapping`, the others by
//! `modes`.
//!
//! The importer sits at the start of the one-way flow, never beside it: it writes YAML, and each
//! file written is then loaded through the same path as any hand-written definition
//! ([`crate::catalog::load`]: syntax, JSON Schema, semantic checks, resolution). An entry counts
//! as imported only when its file passes; the importer builds no endpoint table of its own.
//!
//! Entries are read through [`crate::nango::NangoCatalog`], which resolves aliases exactly as
//! Nango does. Every field of an entry is either carried over, listed as not carried over, or
//! the reason the entry is skipped (`mapping`); the report says which, per entry, and ends with
//! counts per reason. Output is deterministic: the same input gives byte-identical files, and a
//! file whose content is already right is not rewritten.

mod fields;
mod mapping;
mod modes;
mod report;
mod template;
mod values;

use std::path::Path;

pub use fields::Skip;
pub use report::{Counts, EntryReport, ImportReport, Outcome, Summary};

use crate::catalog;
use crate::nango::{NangoCatalog, NangoScopes};
use crate::render::output::{self, OutputError, PlannedFile};

/// The `$schema` reference written on the first line of every imported file, relative to the
/// file, as the bundled definitions write it (an output directory beside `schemas/`).
pub const DEFAULT_SCHEMA_REF: &str = "../schemas/provider.schema.json";

/// Nango's `auth_mode` of the authorization-code entries.
const OAUTH2: &str = "OAUTH2";

/// Every Nango `auth_mode` the importer maps, in the order reports list them.
pub const NANGO_MODES: &[&str] = &["OAUTH2", "API_KEY", "BASIC", "OAUTH2_CC", "TWO_STEP"];

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The `# yaml-language-server: $schema=...` reference of each written file.
    pub schema_ref: String,
    /// Where Nango's catalog was read from, named in each file's header comment.
    pub source: String,
    /// Nango `auth_mode`s to import (`OAUTH2`, `API_KEY`, ...); empty: every mode the format
    /// has.
    pub modes: Vec<String>,
}

/// Whether `id` fits the provider id pattern of the format (`^[a-z0-9]+(-[a-z0-9]+)*$`).
pub(crate) fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Imports every OAUTH2 entry of `catalog` into `out` (created if missing) and loads each
/// written file through the project's validation. Fails only on I/O.
pub fn import_nango(
    catalog: &NangoCatalog,
    scopes: Option<&NangoScopes>,
    out: &Path,
    options: &ImportOptions,
) -> Result<ImportReport, OutputError> {
    let mut entries = Vec::new();
    let mut files = Vec::new();
    for id in catalog.ids() {
        let Some(entry) = catalog.entry(id) else {
            continue;
        };
        let Some(nango_mode) = entry.auth_mode().map(str::to_owned) else {
            continue;
        };
        if !options.modes.is_empty() && !options.modes.contains(&nango_mode) {
            continue;
        }
        let mapped = if nango_mode == OAUTH2 {
            let list = scopes.and_then(|s| s.for_provider(id));
            mapping::map(&entry, list)
        } else if let Some(mode) = modes::mode_of(&nango_mode) {
            modes::map(&entry, mode)
        } else {
            continue;
        };
        let report = match mapped {
            Ok(mapped) => {
                let name = format!("{id}.yaml");
                let contents = report::definition_file(&entry, &mapped, options);
                files.push(PlannedFile {
                    name: name.clone(),
                    contents,
                });
                EntryReport {
                    id: id.to_owned(),
                    alias: entry.alias.clone(),
                    auth_mode: nango_mode,
                    outcome: Outcome::Imported {
                        file: out.join(name),
                    },
                    not_carried_over: mapped.not_carried_over,
                    notes: mapped.notes,
                }
            }
            Err(skip) => EntryReport {
                id: id.to_owned(),
                alias: entry.alias.clone(),
                auth_mode: nango_mode,
                outcome: Outcome::Skipped {
                    feature: skip.feature,
                    reason: skip.detail,
                },
                not_carried_over: Vec::new(),
                notes: Vec::new(),
            },
        };
        entries.push(report);
    }
    output::write(out, &files)?;
    for entry in &mut entries {
        let Outcome::Imported { file } = &entry.outcome else {
            continue;
        };
        let loaded = catalog::load(std::slice::from_ref(file)).map_err(|error| OutputError {
            path: file.clone(),
            source: std::io::Error::other(error.to_string()),
        })?;
        if !loaded.is_valid() {
            entry.outcome = Outcome::Invalid {
                file: file.clone(),
                diagnostics: loaded.diagnostics,
            };
        }
    }
    Ok(ImportReport::new(options.source.clone(), entries))
}
