//! The documents an editor has open, and the diagnostics `validate` finds in them.
//!
//! A provider is checked with [`catalog::load_one_with`], the same loader `validate` runs, given
//! the open documents so that a shared data-center set open in the editor is read as shown there
//! rather than from disk. A set is checked with [`validate::check_data_center_set`], as
//! `validate` checks the sets of a directory. Problems a provider's check finds inside its set
//! are published for the set's file, as `validate` prints them there; each file gets the union
//! of what every open document's check says about it.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use lsp_types::{
    CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    Range, Uri,
};

use super::classify::{self, FileKind};
use super::text;
use crate::catalog::{self, OpenFiles};
use crate::definition::document;
use crate::diagnostics::{Diagnostic, Kind, Severity};
use crate::validate;

/// New diagnostics for one file, ready to send.
#[derive(Debug, Clone)]
pub(super) struct Publication {
    /// The file, as the client names it.
    pub uri: Uri,
    /// Everything wrong with it now (empty clears the editor's list).
    pub diagnostics: Vec<lsp_types::Diagnostic>,
}

/// The open documents and the diagnostics of their last check.
#[derive(Debug, Default)]
pub(super) struct Workspace {
    /// Text of every open document, by path: what the loader reads instead of the disk.
    open: OpenFiles,
    /// How the client spells each open document's URI.
    uris: HashMap<PathBuf, Uri>,
    /// The kind of each open document that is a definition; other YAML is not checked.
    kinds: HashMap<PathBuf, FileKind>,
    /// What checking each open document found, in any file.
    found: HashMap<PathBuf, Vec<Diagnostic>>,
}

impl Workspace {
    /// A document was opened or changed: check it (and, for a set, the open providers that use
    /// it) and return the diagnostics to publish.
    pub(super) fn update(&mut self, uri: Uri, text: String) -> Vec<Publication> {
        let path = path_of(&uri);
        // A definition keeps its kind while open, even while an edit hides its shape.
        if let Some(kind) = classify::classify(&path, &text) {
            self.kinds.insert(path.clone(), kind);
        }
        self.open.insert(path.clone(), text);
        self.uris.insert(path.clone(), uri);
        self.recheck(&path, BTreeSet::new())
    }

    /// A document was closed: from now on it is read from disk by the providers that use it.
    pub(super) fn close(&mut self, uri: &Uri) -> Vec<Publication> {
        let path = path_of(uri);
        let touched = self.files_reported_by(std::slice::from_ref(&path));
        self.found.remove(&path);
        self.open.remove(&path);
        self.kinds.remove(&path);
        self.uris.remove(&path);
        // A closed set is read from disk again by the providers that use it.
        let mut publications = self.recheck(&path, touched);
        // The editor drops a closed file's list only if told to.
        if !publications.iter().any(|p| p.uri.as_str() == uri.as_str()) {
            publications.push(Publication {
                uri: uri.clone(),
                diagnostics: Vec::new(),
            });
        }
        publications
    }

    /// A file changed on disk (created, changed or deleted): the open providers that read it
    /// from there are checked again. An open document is read from the editor, not the disk.
    pub(super) fn changed_on_disk(&mut self, uri: &Uri) -> Vec<Publication> {
        let path = path_of(uri);
        if self.open.contains_key(&path) {
            return Vec::new();
        }
        self.recheck(&path, BTreeSet::new())
    }

    /// An open document that is a definition: its path, kind and current text.
    pub(super) fn document(&self, uri: &Uri) -> Option<(PathBuf, FileKind, &str)> {
        let path = path_of(uri);
        let text = self.open.get(&path)?;
        let kind = *self.kinds.get(&path)?;
        Some((path, kind, text))
    }

    /// A file's text as the editor shows it: the open document, else the disk.
    pub(super) fn text(&self, path: &Path) -> Option<Cow<'_, str>> {
        match self.open.get(path) {
            Some(text) => Some(Cow::Borrowed(text)),
            None => fs::read_to_string(path).ok().map(Cow::Owned),
        }
    }

    /// Checks again the open documents that depend on `changed` and returns the diagnostics of
    /// every file those checks report on, and of the `touched` files.
    fn recheck(&mut self, changed: &Path, mut touched: BTreeSet<PathBuf>) -> Vec<Publication> {
        let affected = self.affected_by(changed);
        // Every document checked is published again, even when unchanged: the editor then
        // knows its list is current.
        touched.extend(affected.iter().cloned());
        touched.extend(self.files_reported_by(&affected));
        for source in &affected {
            let diagnostics = self.check(source);
            self.found.insert(source.clone(), diagnostics);
        }
        touched.extend(self.files_reported_by(&affected));
        self.publications(&touched)
    }

    /// The open documents whose diagnostics depend on `changed`: itself if open, and for a set
    /// every open provider that names it.
    fn affected_by(&self, changed: &Path) -> Vec<PathBuf> {
        let mut affected = Vec::new();
        if self.kinds.contains_key(changed) {
            affected.push(changed.to_path_buf());
        }
        // Providers find their set by its folder, whatever the set's own text says.
        if FileKind::by_folder(changed) == FileKind::DataCenterSet {
            let mut users: Vec<PathBuf> = self
                .open
                .iter()
                .filter(|(path, text)| {
                    self.kinds.get(*path) == Some(&FileKind::Provider)
                        && set_used_by(path, text).as_deref() == Some(changed)
                })
                .map(|(path, _)| path.clone())
                .collect();
            users.sort();
            affected.extend(users);
        }
        affected
    }

    fn files_reported_by(&self, sources: &[PathBuf]) -> BTreeSet<PathBuf> {
        sources
            .iter()
            .filter_map(|source| self.found.get(source))
            .flatten()
            .map(|diagnostic| diagnostic.file.clone())
            .collect()
    }

    /// Checks one open document exactly as `validate` would check that file.
    fn check(&self, path: &Path) -> Vec<Diagnostic> {
        let (Some(text), Some(kind)) = (self.open.get(path), self.kinds.get(path)) else {
            return Vec::new();
        };
        match kind {
            FileKind::Provider => match catalog::load_one_with(path, text, &self.open) {
                Ok(catalog::Verdict::Valid(provider)) => provider.warnings,
                Ok(catalog::Verdict::Invalid(diagnostics)) => diagnostics,
                // `validate` stops with this as a usage error; an editor shows it on the file.
                Err(error) => vec![Diagnostic::file_level(
                    Kind::UnreadableFile,
                    path,
                    error.to_string(),
                    None,
                )],
            },
            FileKind::DataCenterSet => {
                validate::check_data_center_set(path, text).map_or_else(|d| d, |_| Vec::new())
            }
        }
    }

    fn publications(&self, files: &BTreeSet<PathBuf>) -> Vec<Publication> {
        files
            .iter()
            .filter_map(|file| {
                let mut diagnostics: Vec<Diagnostic> = self
                    .found
                    .values()
                    .flatten()
                    .filter(|d| &d.file == file)
                    .cloned()
                    .collect();
                Diagnostic::sort(&mut diagnostics);
                Diagnostic::merge_duplicates(&mut diagnostics);
                Some(Publication {
                    uri: self.uri_of(file)?,
                    diagnostics: diagnostics.iter().map(|d| self.to_protocol(d)).collect(),
                })
            })
            .collect()
    }

    /// A diagnostic as the protocol carries it: the same message, the fix on a `help:` line as
    /// `validate` prints it, the same range, the labels as related places, and the kind as the
    /// code, linked to its documentation.
    fn to_protocol(&self, diagnostic: &Diagnostic) -> lsp_types::Diagnostic {
        let message = match &diagnostic.hint {
            Some(hint) => format!("{}\nhelp: {hint}", diagnostic.message),
            None => diagnostic.message.clone(),
        };
        let related: Vec<DiagnosticRelatedInformation> = diagnostic
            .labels
            .iter()
            .filter_map(|label| {
                Some(DiagnosticRelatedInformation {
                    location: Location::new(
                        self.uri_of(&label.file)?,
                        self.range(
                            &label.file,
                            (label.region.start.line, label.region.start.column),
                            (label.region.end.line, label.region.end.column),
                        ),
                    ),
                    message: label.message.clone(),
                })
            })
            .collect();
        lsp_types::Diagnostic {
            range: self.range(
                &diagnostic.file,
                (diagnostic.region.start.line, diagnostic.region.start.column),
                (diagnostic.region.end.line, diagnostic.region.end.column),
            ),
            severity: Some(match diagnostic.severity {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
            }),
            source: Some("provider-forge".to_owned()),
            code: Some(NumberOrString::String(diagnostic.kind.id().to_owned())),
            code_description: diagnostic
                .kind
                .docs_url()
                .parse()
                .ok()
                .map(|href| CodeDescription { href }),
            message,
            related_information: (!related.is_empty()).then_some(related),
            ..lsp_types::Diagnostic::default()
        }
    }

    /// A 1-based (line, character column) range of `file` in the protocol's units.
    fn range(&self, file: &Path, start: (usize, usize), end: (usize, usize)) -> Range {
        let text = self.text(file).unwrap_or_default();
        let lines = text::lines(&text);
        let start = text::position_of(&lines, start.0, start.1);
        let end = text::position_of(&lines, end.0, end.1);
        Range::new(start, end.max(start))
    }

    /// How the client names `file`: as it opened it, else its `file:` URI.
    pub(super) fn uri_of(&self, file: &Path) -> Option<Uri> {
        if let Some(uri) = self.uris.get(file) {
            return Some(uri.clone());
        }
        let url = url::Url::from_file_path(file).ok()?;
        url.as_str().parse().ok()
    }
}

/// The path a URI names: a `file:` URI's path, else the URI itself (an unsaved buffer is
/// checked as a provider with no neighbours).
pub(super) fn path_of(uri: &Uri) -> PathBuf {
    url::Url::parse(uri.as_str())
        .ok()
        .and_then(|url| url.to_file_path().ok())
        .unwrap_or_else(|| PathBuf::from(uri.as_str()))
}

/// The set file a provider's text names in `data_centers.set`, if any.
pub(super) fn set_used_by(provider: &Path, text: &str) -> Option<PathBuf> {
    let document = document::parse(text).ok()?;
    let name = document.value().pointer("/data_centers/set")?.as_str()?;
    Some(catalog::set_path(provider, name))
}
