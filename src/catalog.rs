//! Loading a catalog: the provider files named on the command line (or found in directories),
//! each checked and resolved, with the shared data-center sets they use loaded once each.
//!
//! [`stream`] is the engine: it works through the files in parallel (rayon workers, each taking
//! the next files as soon as it is free, at most a bounded window ahead of the sink), hands each
//! valid provider to the caller's `work` on the worker thread and the result to the caller's
//! `sink` on the calling thread, in the order the files were given, and then drops the file.
//! Only what a later file may need is kept: the shared data-center sets and the diagnostics of
//! invalid files. So memory stays flat however many files a catalog has, and the output is
//! byte for byte what a sequential run gives (`RAYON_NUM_THREADS=1`).
//! [`load`] collects the whole catalog for callers that want it all in memory.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::definition::document;
use crate::definition::types::{DataCenterSet, ProviderDefinition};
use crate::diagnostics::{Anchor, Diagnostic};
use crate::resolve::problem::Origin;
use crate::resolve::table::ResolvedProvider;
use crate::resolve::{self, resolve};
use crate::validate::{self, Checked};

mod ordered;

/// Name of the folder, beside provider files, that holds shared data-center sets.
pub const DATA_CENTER_SET_DIR: &str = "data-centers";

/// Files each worker thread may be ahead of the sink: the bound on results held in memory (a
/// few rendered providers per thread), large enough that a slow file never idles the others.
const FILES_PER_THREAD: usize = 16;

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
    /// Likely mistakes that do not make it invalid (severity `warning`).
    pub warnings: Vec<Diagnostic>,
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
    /// Whether every file was valid: no diagnostic but warnings.
    pub fn is_valid(&self) -> bool {
        !self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// What became of one provider file, handed to [`stream`]'s sink in file order.
#[derive(Debug)]
pub enum Loaded<T> {
    /// The file is valid: what `work` made of it.
    Valid(T),
    /// The file is invalid; its diagnostics are in the list [`stream`] returns.
    Invalid,
}

/// Loads, checks and resolves every provider file in `paths` (files, or directories whose
/// `*.yaml` files are providers and whose `data-centers/` folder holds shared sets).
pub fn load(paths: &[PathBuf]) -> Result<Catalog, LoadError> {
    let mut providers = Vec::new();
    let diagnostics = stream(
        paths,
        |provider| provider,
        |loaded| {
            if let Loaded::Valid(provider) = loaded {
                providers.push(provider);
            }
        },
    )?;
    Ok(Catalog {
        providers,
        diagnostics,
    })
}

/// What became of one provider file: `work`'s result and the file's warnings, or its
/// diagnostics.
type FileOutcome<T> = Result<(T, Vec<Diagnostic>), Vec<Diagnostic>>;

/// Loads the files in `paths` like [`load`], without keeping them: each valid provider goes to
/// `work` (on a worker thread, files in parallel) and then `work`'s result to `sink` (on the
/// calling thread, in the order the files were given); an invalid file gives `sink` a
/// [`Loaded::Invalid`]. Returns every diagnostic, sorted by file and position, as [`load`] does.
///
/// Stops at the first file (in order) that cannot be read at all; `sink` has then seen the
/// files before it.
pub fn stream<T, W, S>(
    paths: &[PathBuf],
    work: W,
    mut sink: S,
) -> Result<Vec<Diagnostic>, LoadError>
where
    T: Send,
    W: Fn(Provider) -> T + Sync,
    S: FnMut(Loaded<T>),
{
    let inputs = Inputs::find(paths)?;
    let sets = Sets::default();
    let mut diagnostics = Vec::new();
    let threads = rayon::current_num_threads().max(1);
    let start = inputs.providers.len();
    let mut failed = None;
    ordered::map(
        inputs.providers.len(),
        threads,
        FILES_PER_THREAD * threads,
        |index| {
            let file = &inputs.providers[index];
            let text = match read(file)? {
                Ok(text) => text,
                Err(diagnostic) => return Ok(Err(vec![diagnostic])),
            };
            Ok(provider(file, &text, index, &sets)?.map(|mut provider| {
                let warnings = std::mem::take(&mut provider.warnings);
                (work(provider), warnings)
            }))
        },
        |result: Result<FileOutcome<T>, LoadError>| {
            match result {
                Ok(Ok((made, mut warnings))) => {
                    diagnostics.append(&mut warnings);
                    sink(Loaded::Valid(made));
                }
                Ok(Err(mut found)) => {
                    diagnostics.append(&mut found);
                    sink(Loaded::Invalid);
                }
                Err(error) => {
                    failed = Some(error);
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        },
    );
    if let Some(error) = failed {
        return Err(error);
    }
    // Sets in a given directory are checked even when no provider uses them yet.
    for (offset, file) in inputs.sets.iter().enumerate() {
        sets.load(file, start + offset)?;
    }
    diagnostics.append(&mut sets.into_diagnostics());
    Diagnostic::sort(&mut diagnostics);
    Diagnostic::merge_duplicates(&mut diagnostics);
    Ok(diagnostics)
}

/// Loads, checks and resolves one provider from text already in memory (the path is used for
/// diagnostics and to find shared sets).
pub fn load_one(file: &Path, text: &str) -> Result<Result<Provider, Vec<Diagnostic>>, LoadError> {
    load_one_with(file, text, &OpenFiles::new())
}

/// Text of files an editor holds open, by path, possibly unsaved: the language server's view of
/// the workspace, which must win over what is on disk.
pub type OpenFiles = HashMap<PathBuf, String>;

/// Like [`load_one`], but a shared set that is in `open` is read from there instead of the disk,
/// so a provider is checked against the set as the editor shows it.
pub fn load_one_with(
    file: &Path,
    text: &str,
    open: &OpenFiles,
) -> Result<Result<Provider, Vec<Diagnostic>>, LoadError> {
    let sets = Sets {
        open: Some(open),
        ..Sets::default()
    };
    let result = provider(file, text, 0, &sets)?;
    let mut set_diagnostics = sets.into_diagnostics();
    Ok(match result {
        Ok(provider) if set_diagnostics.is_empty() => Ok(provider),
        Ok(_) => Err(set_diagnostics),
        Err(mut diagnostics) => {
            diagnostics.append(&mut set_diagnostics);
            Diagnostic::sort(&mut diagnostics);
            Err(diagnostics)
        }
    })
}

/// The files a load reads: providers in the order given (directories sorted by name), then the
/// sets found in given directories.
struct Inputs {
    providers: Vec<PathBuf>,
    sets: Vec<PathBuf>,
}

impl Inputs {
    fn find(paths: &[PathBuf]) -> Result<Inputs, LoadError> {
        let mut providers = Vec::new();
        let mut sets = Vec::new();
        for path in paths {
            if !path.exists() {
                return Err(LoadError::NotFound(path.clone()));
            }
            if path.is_dir() {
                let found = yaml_files(path)?;
                if found.is_empty() {
                    return Err(LoadError::EmptyDirectory(path.clone()));
                }
                providers.extend(found);
                let set_dir = path.join(DATA_CENTER_SET_DIR);
                if set_dir.is_dir() {
                    sets.extend(yaml_files(&set_dir)?);
                }
            } else {
                providers.push(path.clone());
            }
        }
        Ok(Inputs { providers, sets })
    }
}

/// Reads a definition file. Only regular files are read (a FIFO would block forever and
/// `/dev/zero` never ends), and the size limit is checked before reading, so a huge file costs
/// nothing: both are refused before any byte is read. A file that is too large or not UTF-8 is
/// a problem in the definition (a diagnostic; the other files are still checked), not an I/O
/// error.
fn read(path: &Path) -> Result<Result<String, Diagnostic>, LoadError> {
    let failed = |source: io::Error| match source.kind() {
        io::ErrorKind::NotFound => LoadError::NotFound(path.to_path_buf()),
        _ => LoadError::Unreadable {
            path: path.to_path_buf(),
            source,
        },
    };
    let metadata = fs::metadata(path).map_err(failed)?;
    if !metadata.is_file() {
        return Err(failed(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a device, FIFO or socket); give a definition file or a directory",
        )));
    }
    let too_large = |size: u64| {
        Diagnostic::file_level(
            path,
            format!(
                "file is {size} bytes, more than the {} bytes a definition may have",
                document::MAX_FILE_BYTES
            ),
            Some("split the file, or check that this is a provider definition".into()),
        )
    };
    if metadata.len() > document::MAX_FILE_BYTES as u64 {
        return Ok(Err(too_large(metadata.len())));
    }
    // The file may grow after the check: never read more than one byte past the limit.
    let limit = document::MAX_FILE_BYTES as u64 + 1;
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    fs::File::open(path)
        .and_then(|file| io::Read::read_to_end(&mut io::Read::take(file, limit), &mut bytes))
        .map_err(failed)?;
    if bytes.len() as u64 > document::MAX_FILE_BYTES as u64 {
        return Ok(Err(too_large(bytes.len() as u64)));
    }
    Ok(document::decode(bytes).map_err(|error| Diagnostic::syntax(path, error)))
}

/// The `*.yaml` and `*.yml` files directly in `dir`, sorted by name.
fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let unreadable = |source| LoadError::Unreadable {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let path = entry.path();
        let is_yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        // The listing already says what a plain entry is (no system call per file); only a
        // symbolic link is followed to see whether it leads to a file.
        let is_file = || match entry.file_type() {
            Ok(kind) if kind.is_symlink() => path.is_file(),
            Ok(kind) => kind.is_file(),
            Err(_) => path.is_file(),
        };
        if is_yaml && is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Checks and resolves the provider in `file` (already read into `text`); `index` is the file's
/// place in the load, which decides how a shared set's own diagnostics name its file.
fn provider(
    file: &Path,
    text: &str,
    index: usize,
    sets: &Sets,
) -> Result<Result<Provider, Vec<Diagnostic>>, LoadError> {
    let mut checked = match validate::check_provider(file, text) {
        Ok(checked) => checked,
        Err(diagnostics) => return Ok(Err(diagnostics)),
    };
    let refused = std::mem::take(&mut checked.refused);
    let semantic = semantic_checks(file, checked, index, sets)?;
    if refused.is_empty() {
        return Ok(semantic);
    }
    // The schema refused values (patterns) but the file could still be read: its semantic
    // problems are reported with them, except where the schema already spoke, so one mistake
    // gives one diagnostic.
    let mut diagnostics = refused;
    if let Err(found) = semantic {
        let spoken: Vec<(PathBuf, String)> = diagnostics
            .iter()
            .map(|d| (d.file.clone(), d.path.clone()))
            .collect();
        diagnostics.extend(
            found
                .into_iter()
                .filter(|d| !spoken.contains(&(d.file.clone(), d.path.clone()))),
        );
        Diagnostic::sort(&mut diagnostics);
        Diagnostic::merge_duplicates(&mut diagnostics);
    }
    Ok(Err(diagnostics))
}

/// The checks after the schema: the data-center set the provider names, then resolution.
fn semantic_checks(
    file: &Path,
    checked: Checked<ProviderDefinition>,
    index: usize,
    sets: &Sets,
) -> Result<Result<Provider, Vec<Diagnostic>>, LoadError> {
    let set = match checked
        .content
        .data_centers
        .as_ref()
        .and_then(|dcs| dcs.set.as_deref())
    {
        None => None,
        Some(name) if !is_set_name(name) => {
            return Ok(Err(vec![checked.locator(file).diagnostic(
                "/data_centers/set",
                Anchor::Value,
                format!("`{}` is not a data-center set name", name.escape_debug()),
                Some(format!(
                    "write the name of a file in the `{DATA_CENTER_SET_DIR}/` folder beside \
                     this file, without `.yaml`: lowercase letters, digits and `-` (e.g. `zoho`); \
                     paths are not accepted"
                )),
            )]));
        }
        Some(name) => {
            let path = set_path(file, name);
            let Some(slot) = sets.named(&path) else {
                return Ok(Err(vec![checked.locator(file).diagnostic(
                    "/data_centers/set",
                    Anchor::Value,
                    format!(
                        "data-center set `{name}` not found (looked for {})",
                        path.display()
                    ),
                    Some(available_sets(&path)),
                )]));
            };
            let loaded = slot.load(&path, index, sets.open)?;
            if loaded.is_err() {
                // The set's own diagnostics are reported once, in the set's file.
                return Ok(Err(Vec::new()));
            }
            Some((path, loaded))
        }
    };
    let set = set.as_ref().and_then(|(path, loaded)| match &**loaded {
        Ok(checked) => Some((path.as_path(), checked)),
        Err(_) => None,
    });
    let resolution = resolve(&checked.content, set.map(|(_, set)| &set.content));
    let warnings = resolve::warnings(&checked.content, resolution.as_ref().ok());
    match resolution {
        Ok(resolved) => {
            let locator = checked.locator(file);
            let warnings = warnings
                .iter()
                .map(|problem| problem.locate(&locator, None))
                .collect();
            Ok(Ok(Provider {
                path: file.to_path_buf(),
                definition: checked.content,
                resolved,
                warnings,
            }))
        }
        Err(mut problems) => {
            problems.extend(warnings);
            let locator = checked.locator(file);
            let set_locator = set.map(|(path, set)| set.locator(path));
            let mut diagnostics: Vec<Diagnostic> = problems
                .iter()
                .map(|problem| {
                    let diagnostic = problem.locate(&locator, set_locator.as_ref());
                    match (problem.origin, &set_locator) {
                        // A fault in a shared set shows which provider brought it in.
                        (Origin::DataCenterSet, Some(_)) => diagnostic.with_label(locator.label(
                            "/data_centers/set",
                            Anchor::Value,
                            "the data-center set used here",
                        )),
                        _ => diagnostic,
                    }
                })
                .collect();
            Diagnostic::sort(&mut diagnostics);
            Diagnostic::merge_duplicates(&mut diagnostics);
            Ok(Err(diagnostics))
        }
    }
}

/// A shared set as loaded: checked, or the diagnostics of its own file.
type SetLoad = Result<Checked<DataCenterSet>, Vec<Diagnostic>>;

/// The shared data-center sets of one load, each loaded once however many providers (on however
/// many threads) use it.
#[derive(Default)]
struct Sets<'a> {
    /// Each set path as providers spell it: the set, or `None` when there is no such file.
    named: Mutex<HashMap<PathBuf, Option<Arc<SetSlot>>>>,
    /// The sets by canonical path, so two spellings of one file share one load.
    files: Mutex<HashMap<PathBuf, Arc<SetSlot>>>,
    /// Files open in an editor, read instead of the disk (the language server's hook).
    open: Option<&'a OpenFiles>,
}

/// One set file.
#[derive(Default)]
struct SetSlot {
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
    fn named(&self, path: &Path) -> Option<Arc<SetSlot>> {
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
    fn load(&self, path: &Path, index: usize) -> Result<Arc<SetLoad>, LoadError> {
        self.slot(path).load(path, index, self.open)
    }

    /// The diagnostics of every set that is invalid, each naming the set's file as the first
    /// file (in order) that used it spelled it.
    fn into_diagnostics(self) -> Vec<Diagnostic> {
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
    fn load(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_directory_lists_its_yaml_files_and_links_to_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| dir.path().join(name);
        for name in ["b.yaml", "a.yml", "notes.txt"] {
            fs::write(at(name), "id: x\n").unwrap();
        }
        fs::create_dir(at("folder.yaml")).unwrap();
        std::os::unix::fs::symlink(at("b.yaml"), at("c.yaml")).unwrap();
        std::os::unix::fs::symlink(at("folder.yaml"), at("d.yaml")).unwrap();
        std::os::unix::fs::symlink(at("missing.yaml"), at("e.yaml")).unwrap();
        let names: Vec<_> = yaml_files(dir.path())
            .unwrap()
            .iter()
            .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.yml", "b.yaml", "c.yaml"]);
    }
}
