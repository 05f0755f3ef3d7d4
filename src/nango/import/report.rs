//! What an import did, per entry and in total, as text for people and JSON for tools; and the
//! text of each definition file written.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

use super::ImportOptions;
use super::mapping::Mapped;
use crate::diagnostics::{Diagnostic, visible};
use crate::nango::NangoEntry;

/// How one entry ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Written, and the file passed validation.
    Imported {
        /// The file written.
        file: PathBuf,
    },
    /// Not written: a Nango feature the entry needs has no equivalent.
    Skipped {
        /// The Nango feature (`post_connection_script`, `provider client`, ...).
        feature: String,
        /// What in this entry needs it.
        reason: String,
    },
    /// Written, but the file failed validation: a bug of the importer, reported as such.
    Invalid {
        /// The file written.
        file: PathBuf,
        /// What validation found.
        diagnostics: Vec<Diagnostic>,
    },
}

/// One Nango entry and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntryReport {
    /// The Nango key, which is also the definition's `id`.
    pub id: String,
    /// The entry it aliases in Nango's file, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Nango's `auth_mode` of the entry (`OAUTH2`, `API_KEY`, ...).
    pub auth_mode: String,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Nango fields (dotted paths) the definition does not carry.
    pub not_carried_over: Vec<String>,
    /// Fields carried over in a way that is not one-to-one.
    pub notes: Vec<String>,
}

/// Counts over the whole run, or over the entries of one `auth_mode`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Entries considered (aliases resolved).
    pub entries: usize,
    /// Entries written and valid.
    pub imported: usize,
    /// Entries skipped.
    pub skipped: usize,
    /// Entries written but invalid.
    pub invalid: usize,
    /// Skipped entries per Nango feature.
    pub skipped_by_feature: BTreeMap<String, usize>,
}

impl Counts {
    fn add(&mut self, outcome: &Outcome) {
        self.entries += 1;
        match outcome {
            Outcome::Imported { .. } => self.imported += 1,
            Outcome::Skipped { feature, .. } => {
                self.skipped += 1;
                *self.skipped_by_feature.entry(feature.clone()).or_default() += 1;
            }
            Outcome::Invalid { .. } => self.invalid += 1,
        }
    }
}

/// Counts over the whole run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Entries of the imported modes in Nango's file (aliases resolved).
    pub entries: usize,
    /// Entries written and valid.
    pub imported: usize,
    /// Entries skipped.
    pub skipped: usize,
    /// Entries written but invalid.
    pub invalid: usize,
    /// Skipped entries per Nango feature.
    pub skipped_by_feature: BTreeMap<String, usize>,
    /// Imported entries per top-level field not carried over.
    pub not_carried_over_by_field: BTreeMap<String, usize>,
    /// The same counts per Nango `auth_mode`.
    pub by_mode: BTreeMap<String, Counts>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    /// Where Nango's catalog was read from.
    pub source: String,
    /// One report per entry of the imported modes, in Nango's file order.
    pub entries: Vec<EntryReport>,
    /// The counts.
    pub summary: Summary,
}

impl ImportReport {
    pub(super) fn new(source: String, entries: Vec<EntryReport>) -> Self {
        let mut total = Counts::default();
        let mut by_mode: BTreeMap<String, Counts> = BTreeMap::new();
        let mut not_carried_over_by_field = BTreeMap::new();
        for entry in &entries {
            total.add(&entry.outcome);
            by_mode
                .entry(entry.auth_mode.clone())
                .or_default()
                .add(&entry.outcome);
            let mut top: Vec<&str> = entry
                .not_carried_over
                .iter()
                .map(|path| top_level(path))
                .collect();
            top.dedup();
            for field in top {
                *not_carried_over_by_field
                    .entry(field.to_owned())
                    .or_default() += 1;
            }
        }
        let summary = Summary {
            entries: total.entries,
            imported: total.imported,
            skipped: total.skipped,
            invalid: total.invalid,
            skipped_by_feature: total.skipped_by_feature,
            not_carried_over_by_field,
            by_mode,
        };
        ImportReport {
            source,
            entries,
            summary,
        }
    }

    /// Whether every written file passed validation.
    pub fn all_valid(&self) -> bool {
        self.summary.invalid == 0
    }

    /// The report as text: one block per entry, then the summary. Nango's keys and whatever
    /// quotes them are shown [`visible`]: a hostile catalog can neither drive the terminal nor
    /// add a line to the report.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for entry in &self.entries {
            let id = visible(&entry.id);
            let alias = entry
                .alias
                .as_ref()
                .map(|a| format!(" (alias of {})", visible(a)))
                .unwrap_or_default();
            match &entry.outcome {
                Outcome::Imported { file } => {
                    let file = file.display().to_string();
                    let _ = writeln!(out, "imported  {id}{alias} -> {}", visible(&file));
                }
                Outcome::Skipped { feature, reason } => {
                    let (feature, reason) = (visible(feature), visible(reason));
                    let _ = writeln!(out, "skipped   {id}{alias}: {feature}: {reason}");
                }
                Outcome::Invalid { file, diagnostics } => {
                    let _ = writeln!(
                        out,
                        "INVALID   {id}{alias} -> {} ({} error(s)):",
                        visible(&file.display().to_string()),
                        diagnostics.len()
                    );
                    for diagnostic in diagnostics {
                        let _ = writeln!(out, "          {diagnostic}");
                    }
                }
            }
            if !entry.not_carried_over.is_empty() {
                let _ = writeln!(
                    out,
                    "          not carried over: {}",
                    visible(&entry.not_carried_over.join(", "))
                );
            }
            for note in &entry.notes {
                let _ = writeln!(out, "          note: {}", visible(note));
            }
        }
        let s = &self.summary;
        let modes: Vec<String> = s
            .by_mode
            .iter()
            .map(|(mode, counts)| format!("{} {mode}", counts.entries))
            .collect();
        let _ = writeln!(
            out,
            "\n{} entries ({}) in {}: {} imported, {} skipped, {} invalid",
            s.entries,
            modes.join(", "),
            visible(&self.source),
            s.imported,
            s.skipped,
            s.invalid
        );
        for (mode, counts) in &s.by_mode {
            let _ = writeln!(
                out,
                "{mode}: {} entries, {} imported, {} skipped, {} invalid",
                counts.entries, counts.imported, counts.skipped, counts.invalid
            );
            for (feature, count) in by_count(&counts.skipped_by_feature) {
                let _ = writeln!(out, "  {count:>4}  skipped: {feature}");
            }
        }
        if !s.skipped_by_feature.is_empty() {
            let _ = writeln!(out, "skipped, by the Nango feature with no equivalent:");
            for (feature, count) in by_count(&s.skipped_by_feature) {
                let _ = writeln!(out, "  {count:>4}  {}", visible(feature));
            }
        }
        if !s.not_carried_over_by_field.is_empty() {
            let _ = writeln!(out, "imported entries, by Nango field not carried over:");
            for (field, count) in by_count(&s.not_carried_over_by_field) {
                let _ = writeln!(out, "  {count:>4}  {}", visible(field));
            }
        }
        out
    }
}

/// What a not-carried-over path is counted under: its top-level field, except that `proxy.*`
/// paths stay whole (each is a feature of its own) and scope names dropped from Nango's scope
/// list count under `providers.scopes.yaml`.
fn top_level(path: &str) -> &str {
    if let Some((file, _)) = path.split_once(": ") {
        return file;
    }
    match path.split_once('.') {
        Some(("proxy", _)) => path,
        Some((top, _)) => top,
        None => path,
    }
}

/// Counts, largest first, then by name.
fn by_count(counts: &BTreeMap<String, usize>) -> Vec<(&String, &usize)> {
    let mut sorted: Vec<_> = counts.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    sorted
}

/// The text of a definition file: the schema line, where it came from, what it leaves out,
/// then the definition as YAML. Text from Nango's file in the comments is [`visible`], so it
/// stays on its comment line.
pub(super) fn definition_file(
    entry: &NangoEntry,
    mapped: &Mapped,
    options: &ImportOptions,
) -> String {
    let mut out = format!(
        "# yaml-language-server: $schema={}\n#\n",
        options.schema_ref
    );
    let alias = entry
        .alias
        .as_ref()
        .map(|a| format!(" (alias of `{}`, merged as Nango merges it)", visible(a)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "# Imported by `provider-forge import nango` from the entry `{}`{alias} of Nango's\n\
         # providers.yaml (Nango's public repository, Elastic License 2.0).",
        visible(&entry.id)
    );
    if !mapped.not_carried_over.is_empty() {
        let _ = writeln!(out, "# Nango fields not carried over:");
        for field in &mapped.not_carried_over {
            let _ = writeln!(out, "#   - {}", visible(field));
        }
    }
    if !mapped.notes.is_empty() {
        let _ = writeln!(out, "# Notes:");
        for note in &mapped.notes {
            let _ = writeln!(out, "#   - {}", visible(note));
        }
    }
    out.push_str(
        &serde_yaml::to_string(&mapped.definition).expect("a definition always serializes to YAML"),
    );
    out
}
