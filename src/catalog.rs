//! Loading a catalog: the provider files named on the command line (or found in directories),
//! each checked and resolved, with the shared data-center sets they use loaded once each.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::definition::types::{DataCenterSet, ProviderDefinition};
use crate::diagnostics::{Anchor, Diagnostic};
use crate::resolve::resolve;
use crate::resolve::table::ResolvedProvider;
use crate::validate::{self, Checked};

/// Name of the folder, beside provider files, that holds shared data-center sets.
pub const DATA_CENTER_SET_DIR: &str = "data-centers";

/// A file that could not be read at all: a usage or I/O problem, not a definition problem.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The path does not exist.
    #[error("{0}: no such file or directory")]
    NotFound(PathBuf),
    /// The path exists but could not be read.
    #[error("{path}: cannot read: {source}")]
    Unreadable {
        /// The path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A directory with no definition files in it.
    #[error("{0}: no *.yaml files in this directory")]
    EmptyDirectory(PathBuf),
}

/// A provider that is valid, with its definition and its resolved endpoint table.
#[derive(Debug, Clone)]
pub struct Provider {
    /// The file it was loaded from.
    pub path: PathBuf,
    /// The definition as written.
    pub definition: ProviderDefinition,
    /// Its resolved endpoint table.
    pub resolved: ResolvedProvider,
}

/// The outcome of loading files: the valid providers and every diagnostic of the invalid ones.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Valid providers, in the order their files were given (directories sorted by name).
    pub providers: Vec<Provider>,
    /// Every problem found, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Catalog {
    /// Whether every file was valid.
    pub fn is_valid(&self) -> bool {
        self.diagnostics.is_empty()
    }
}

/// Loads, checks and resolves every provider file in `paths` (files, or directories whose
/// `*.yaml` files are providers and whose `data-centers/` folder holds shared sets).
pub fn load(paths: &[PathBuf]) -> Result<Catalog, LoadError> {
    let mut files = Vec::new();
    let mut set_files = Vec::new();
    for path in paths {
        if !path.exists() {
            return Err(LoadError::NotFound(path.clone()));
        }
        if path.is_dir() {
            let found = yaml_files(path)?;
            if found.is_empty() {
                return Err(LoadError::EmptyDirectory(path.clone()));
            }
            files.extend(found);
            let sets = path.join(DATA_CENTER_SET_DIR);
            if sets.is_dir() {
                set_files.extend(yaml_files(&sets)?);
            }
        } else {
            files.push(path.clone());
        }
    }
    let mut loader = Loader::default();
    let mut catalog = Catalog::default();
    for file in &files {
        let text = read(file)?;
        match loader.provider(file, &text)? {
            Ok(provider) => catalog.providers.push(provider),
            Err(mut diagnostics) => catalog.diagnostics.append(&mut diagnostics),
        }
    }
    // Sets in a given directory are checked even when no provider uses them yet.
    for file in &set_files {
        loader.set(file)?;
    }
    catalog.diagnostics.append(&mut loader.set_diagnostics);
    Diagnostic::sort(&mut catalog.diagnostics);
    catalog.diagnostics.dedup();
    Ok(catalog)
}

/// Loads, checks and resolves one provider from text already in memory (the path is used for
/// diagnostics and to find shared sets).
pub fn load_one(file: &Path, text: &str) -> Result<Result<Provider, Vec<Diagnostic>>, LoadError> {
    let mut loader = Loader::default();
    let result = loader.provider(file, text)?;
    Ok(match result {
        Ok(provider) if loader.set_diagnostics.is_empty() => Ok(provider),
        Ok(_) => Err(loader.set_diagnostics),
        Err(mut diagnostics) => {
            diagnostics.append(&mut loader.set_diagnostics);
            Diagnostic::sort(&mut diagnostics);
            Err(diagnostics)
        }
    })
}

fn read(path: &Path) -> Result<String, LoadError> {
    fs::read_to_string(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => LoadError::NotFound(path.to_path_buf()),
        _ => LoadError::Unreadable {
            path: path.to_path_buf(),
            source,
        },
    })
}

/// The `*.yaml` and `*.yml` files directly in `dir`, sorted by name.
fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let unreadable = |source| LoadError::Unreadable {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        let is_yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        if is_yaml && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

type LoadedSet = Rc<Option<Checked<DataCenterSet>>>;

/// Loads files, keeping each shared set loaded once however many providers use it.
#[derive(Default)]
struct Loader {
    sets: HashMap<PathBuf, (PathBuf, LoadedSet)>,
    set_diagnostics: Vec<Diagnostic>,
}

impl Loader {
    fn provider(
        &mut self,
        file: &Path,
        text: &str,
    ) -> Result<Result<Provider, Vec<Diagnostic>>, LoadError> {
        let checked = match validate::check_provider(file, text) {
            Ok(checked) => checked,
            Err(diagnostics) => return Ok(Err(diagnostics)),
        };
        let locator = checked.locator(file);
        let set_name = checked
            .content
            .data_centers
            .as_ref()
            .and_then(|dcs| dcs.set.clone());
        let (set_path, set) = match set_name {
            None => (None, Rc::new(None)),
            Some(name) if !is_set_name(&name) => {
                return Ok(Err(vec![locator.diagnostic(
                    "/data_centers/set",
                    Anchor::Value,
                    format!(
                        "`{}` is not a data-center set name",
                        name.escape_debug()
                    ),
                    Some(format!(
                        "write the name of a file in the `{DATA_CENTER_SET_DIR}/` folder beside \
                         this file, without `.yaml`: lowercase letters, digits and `-` (e.g. `zoho`); \
                         paths are not accepted"
                    )),
                )]));
            }
            Some(name) => {
                let path = file
                    .parent()
                    .unwrap_or(Path::new("."))
                    .join(DATA_CENTER_SET_DIR)
                    .join(format!("{name}.yaml"));
                if !path.is_file() {
                    return Ok(Err(vec![locator.diagnostic(
                        "/data_centers/set",
                        Anchor::Value,
                        format!(
                            "data-center set `{name}` not found (looked for {})",
                            path.display()
                        ),
                        Some(available_sets(&path)),
                    )]));
                }
                let set = self.set(&path)?;
                if set.is_none() {
                    // The set's own diagnostics are reported once, in the set's file.
                    return Ok(Err(Vec::new()));
                }
                (Some(path), set)
            }
        };
        let set_locator = match (&set_path, set.as_ref()) {
            (Some(path), Some(set)) => Some(set.locator(path)),
            _ => None,
        };
        match resolve(&checked.content, set.as_ref().as_ref().map(|s| &s.content)) {
            Ok(resolved) => Ok(Ok(Provider {
                path: file.to_path_buf(),
                definition: checked.content.clone(),
                resolved,
            })),
            Err(problems) => {
                let mut diagnostics: Vec<Diagnostic> = problems
                    .iter()
                    .map(|problem| problem.locate(&locator, set_locator.as_ref()))
                    .collect();
                Diagnostic::sort(&mut diagnostics);
                diagnostics.dedup();
                Ok(Err(diagnostics))
            }
        }
    }

    /// Loads a set once; its diagnostics are kept aside so they are reported once.
    fn set(&mut self, path: &Path) -> Result<LoadedSet, LoadError> {
        let key = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some((_, loaded)) = self.sets.get(&key) {
            return Ok(loaded.clone());
        }
        let text = read(path)?;
        let loaded = match validate::check_data_center_set(path, &text) {
            Ok(checked) => Some(checked),
            Err(mut diagnostics) => {
                self.set_diagnostics.append(&mut diagnostics);
                None
            }
        };
        let loaded = Rc::new(loaded);
        self.sets.insert(key, (path.to_path_buf(), loaded.clone()));
        Ok(loaded)
    }
}

/// A set is named, never pathed: `[a-z0-9-]+`, so `set:` can reach only the files of the
/// `data-centers/` folder beside the provider (no absolute path, no `../`, whose file's keys
/// would then be echoed in diagnostics).
fn is_set_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn available_sets(wanted: &Path) -> String {
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
