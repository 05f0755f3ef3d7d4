//! The shared data-center sets of one load: where a provider's set is looked for, and each set
//! file loaded once however many providers, on however many threads, use it.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use super::files::{read, yaml_files};
use super::{DATA_CENTER_SET_DIR, LoadError, OpenFiles};
use crate::definition::types::DataCenterSet;
use crate::diagnostics::Diagnostic;
use crate::validate::{self, Checked};

/// A shared set as loaded: checked, or the diagnostics of its own file.
pub(super) type SetLoad = Result<Checked<DataCenterSet>, Vec<Diagnostic>>;

/// The shared data-center sets of one load, each loaded once however many providers (on however
/// many threads) use it.
#[derive(Default)]
pub(super) struct Sets<'a> {
    /// Each set path as providers spell it: the set, or `None` when there is no such file.
    pub(super) named: Mutex<HashMap<PathBuf, Option<Arc<SetSlot>>>>,
    /// The sets by canonical path, so two spellings of one file share one load.
    pub(super) files: Mutex<HashMap<PathBuf, Arc<SetSlot>>>,
    /// Files open in an editor, read instead of the disk (the language server's hook).
    pub(super) open: Option<&'a OpenFiles>,
}

/// One set file.
#[derive(Default)]
pub(super) struct SetSlot {
    /// The set once loaded (a file that cannot be read is not kept: the load stops there).
    loaded: Mutex<Option<Arc<SetLoad>>>,
    /// The earliest file in the load that used the set, and its spelling of the set's path:
    /// the set's own diagnostics name that spelling, as a sequential load would.
    first_use: Mutex<Option<(usize, PathBuf)>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere cannot leave these maps half-updated: each update is one insert.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Sets<'_> {
    /// The set at `path` as a provider spells it, or `None` when no such file exists.
    pub(super) fn named(&self, path: &Path) -> Option<Arc<SetSlot>> {
        if let Some(slot) = lock(&self.named).get(path) {
            return slot.clone();
        }
        let exists = self.open.is_some_and(|open| open.contains_key(path)) || path.is_file();
        let slot = exists.then(|| self.slot(path));
        lock(&self.named).insert(path.to_path_buf(), slot.clone());
        slot
    }

    fn slot(&self, path: &Path) -> Arc<SetSlot> {
        let key = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        lock(&self.files).entry(key).or_default().clone()
    }

    /// Loads the set file at `path` (used by the file at `index`) unless already loaded.
    pub(super) fn load(&self, path: &Path, index: usize) -> Result<Arc<SetLoad>, LoadError> {
        self.slot(path).load(path, index, self.open)
    }

    /// The diagnostics of every set that is invalid, each naming the set's file as the first
    /// file (in order) that used it spelled it.
    pub(super) fn into_diagnostics(self) -> Vec<Diagnostic> {
        let files = self
            .files
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let mut diagnostics = Vec::new();
        for slot in files.into_values() {
            let first = lock(&slot.first_use).take();
            let loaded = lock(&slot.loaded).take();
            let (Some((_, path)), Some(loaded)) = (first, loaded) else {
                continue;
            };
            if let Err(found) = loaded.as_ref() {
                diagnostics.extend(found.iter().cloned().map(|mut diagnostic| {
                    for label in &mut diagnostic.labels {
                        if label.file == diagnostic.file {
                            label.file.clone_from(&path);
                        }
                    }
                    diagnostic.file.clone_from(&path);
                    diagnostic
                }));
            }
        }
        diagnostics
    }
}

impl SetSlot {
    /// Loads the set (once); an editor's open copy in `open` wins over the disk.
    pub(super) fn load(
        &self,
        path: &Path,
        index: usize,
        open: Option<&OpenFiles>,
    ) -> Result<Arc<SetLoad>, LoadError> {
        {
            let mut first = lock(&self.first_use);
            if first.as_ref().is_none_or(|(earliest, _)| index < *earliest) {
                *first = Some((index, path.to_path_buf()));
            }
        }
        // Held while loading, so other threads wanting this set wait instead of loading it too.
        let mut loaded = lock(&self.loaded);
        if let Some(set) = loaded.as_ref() {
            return Ok(set.clone());
        }
        let text = match open.and_then(|open| open.get(path)) {
            Some(text) => Ok(text.clone()),
            None => read(path)?,
        };
        let checked = text
            .map_err(|diagnostic| vec![diagnostic])
            .and_then(|text| validate::check_data_center_set(path, &text));
        let set = Arc::new(checked);
        *loaded = Some(set.clone());
        Ok(set)
    }
}

/// Where the shared set `name` used by the provider in `provider_file` is looked for:
/// `data-centers/NAME.yaml` beside the provider file.
pub fn set_path(provider_file: &Path, name: &str) -> PathBuf {
    provider_file
        .parent()
        .unwrap_or(Path::new("."))
        .join(DATA_CENTER_SET_DIR)
        .join(format!("{name}.yaml"))
}

/// Whether `name` can name a set: a file name in the `data-centers/` folder, never a path.
pub(super) fn is_set_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub(super) fn available_sets(wanted: &Path) -> String {
    let names: Vec<String> = wanted
        .parent()
        .and_then(|dir| yaml_files(dir).ok())
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_owned))
        .collect();
    if names.is_empty() {
        format!("create {} or fix the name", wanted.display())
    } else {
        format!("available sets: {}", names.join(", "))
    }
}
