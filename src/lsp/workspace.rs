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

use lsp_types::{DiagnosticRelatedInformation, DiagnosticSeverity, Location, Range, Uri};

use super::text;
use crate::catalog::{self, DATA_CENTER_SET_DIR, OpenFiles};
use crate::definition::document;
use crate::diagnostics::Diagnostic;
use crate::validate;

/// Which format a file is in, told by where it is (as `validate` tells them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A provider definition.
    Provider,
    /// A shared data-center set: a file in a `data-centers/` folder.
    DataCenterSet,
}

impl FileKind {
    /// The kind of the file at `path`.
    pub fn of(path: &Path) -> FileKind {
        let folder = path.parent().and_then(Path::file_name);
        if folder.is_some_and(|name| name == DATA_CENTER_SET_DIR) {
            FileKind::DataCenterSet
        } else {
            FileKind::Provider
        }
    }
}

/// New diagnostics for one file, ready to send.
#[derive(Debug, Clone)]
pub struct Publication {
    /// The file, as the client names it.
    pub uri: Uri,
    /// Everything wrong with it now (empty clears the editor's list).
    pub diagnostics: Vec<lsp_types::Diagnostic>,
}

/// The open documents and the diagnostics of their last check.
#[derive(Debug, Default)]
pub struct Workspace {
    /// Text of every open document, by path: what the loader reads instead of the disk.
    open: OpenFiles,
    /// How the client spells each open document's URI.
    uris: HashMap<PathBuf, Uri>,
    /// What checking each open document found, in any file.
    found: HashMap<PathBuf, Vec<Diagnostic>>,
}

impl Workspace {
    /// A document was opened or changed: check it (and, for a set, the open providers that use
    /// it) and return the diagnostics to publish.
    pub fn update(&mut self, uri: Uri, text: String) -> Vec<Publication> {
        let path = path_of(&uri);
        self.open.insert(path.clone(), text);
        self.uris.insert(path.clone(), uri);
        self.recheck(&path, BTreeSet::new())
    }

    /// A document was closed: from now on it is read from disk by the providers that use it.
    pub fn close(&mut self, uri: &Uri) -> Vec<Publication> {
        let path = path_of(uri);
        let touched = self.files_reported_by(std::slice::from_ref(&path));
        self.found.remove(&path);
        self.open.remove(&path);
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

    /// An open document: its path, kind and current text.
    pub fn document(&self, uri: &Uri) -> Option<(PathBuf, FileKind, &str)> {
        let path = path_of(uri);
        let text = self.open.get(&path)?;
        let kind = FileKind::of(&path);
        Some((path, kind, text))
    }

    /// A file's text as the editor shows it: the open document, else the disk.
    pub fn text(&self, path: &Path) -> Option<Cow<'_, str>> {
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
        if self.open.contains_key(changed) {
            affected.push(changed.to_path_buf());
        }
        if FileKind::of(changed) == FileKind::DataCenterSet {
            let mut users: Vec<PathBuf> = self
                .open
                .iter()
                .filter(|(path, text)| {
                    FileKind::of(path) == FileKind::Provider
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
        let Some(text) = self.open.get(path) else {
            return Vec::new();
        };
        match FileKind::of(path) {
            FileKind::Provider => match catalog::load_one_with(path, text, &self.open) {
                Ok(Ok(provider)) => provider.warnings,
                Ok(Err(diagnostics)) => diagnostics,
                // `validate` stops with this as a usage error; an editor shows it on the file.
                Err(error) => vec![Diagnostic::file_level(path, error.to_string(), None)],
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
    /// `validate` prints it, the same range, and the labels as related places.
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
                            (label.line, label.column),
                            (label.end_line, label.end_column),
                        ),
                    ),
                    message: label.message.clone(),
                })
            })
            .collect();
        lsp_types::Diagnostic {
            range: self.range(
                &diagnostic.file,
                (diagnostic.line, diagnostic.column),
                (diagnostic.end_line, diagnostic.end_column),
            ),
            severity: Some(match diagnostic.severity {
                "warning" => DiagnosticSeverity::WARNING,
                _ => DiagnosticSeverity::ERROR,
            }),
            source: Some("provider-forge".to_owned()),
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

    fn uri_of(&self, file: &Path) -> Option<Uri> {
        if let Some(uri) = self.uris.get(file) {
            return Some(uri.clone());
        }
        let url = url::Url::from_file_path(file).ok()?;
        url.as_str().parse().ok()
    }
}

/// The path a URI names: a `file:` URI's path, else the URI itself (an unsaved buffer is
/// checked as a provider with no neighbours).
pub fn path_of(uri: &Uri) -> PathBuf {
    url::Url::parse(uri.as_str())
        .ok()
        .and_then(|url| url.to_file_path().ok())
        .unwrap_or_else(|| PathBuf::from(uri.as_str()))
}

/// The set file a provider's text names in `data_centers.set`, if any.
pub fn set_used_by(provider: &Path, text: &str) -> Option<PathBuf> {
    let document = document::parse(text).ok()?;
    let name = document.value().pointer("/data_centers/set")?.as_str()?;
    Some(catalog::set_path(provider, name))
}
