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
use std::io;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use crate::definition::types::ProviderDefinition;
use crate::diagnostics::{Anchor, Diagnostic, Kind};
use crate::resolve::problem::Origin;
use crate::resolve::table::ResolvedProvider;
use crate::resolve::{self, resolve};
use crate::validate::{self, Checked};

mod files;
mod ordered;
mod sets;

use files::{Inputs, read};
pub use sets::set_path;
use sets::{Sets, available_sets, is_set_name};

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

/// One provider file, read and checked: valid, or invalid with every diagnostic that says why.
/// A file that cannot be read at all is a [`LoadError`] instead.
#[derive(Debug)]
pub enum Verdict<T = Provider> {
    /// The file is valid.
    Valid(T),
    /// The file is invalid: its diagnostics.
    Invalid(Vec<Diagnostic>),
}

impl<T> Verdict<T> {
    /// Applies `f` to a valid file's value.
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Verdict<U> {
        match self {
            Verdict::Valid(value) => Verdict::Valid(f(value)),
            Verdict::Invalid(diagnostics) => Verdict::Invalid(diagnostics),
        }
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
                Err(diagnostic) => return Ok(Verdict::Invalid(vec![diagnostic])),
            };
            Ok(provider(file, &text, index, &sets)?.map(|mut provider| {
                let warnings = std::mem::take(&mut provider.warnings);
                (work(provider), warnings)
            }))
        },
        |result: Result<Verdict<(T, Vec<Diagnostic>)>, LoadError>| {
            match result {
                Ok(Verdict::Valid((made, mut warnings))) => {
                    diagnostics.append(&mut warnings);
                    sink(Loaded::Valid(made));
                }
                Ok(Verdict::Invalid(mut found)) => {
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
pub fn load_one(file: &Path, text: &str) -> Result<Verdict, LoadError> {
    load_one_with(file, text, &OpenFiles::new())
}

/// Text of files an editor holds open, by path, possibly unsaved: the language server's view of
/// the workspace, which must win over what is on disk.
pub type OpenFiles = HashMap<PathBuf, String>;

/// Like [`load_one`], but a shared set that is in `open` is read from there instead of the disk,
/// so a provider is checked against the set as the editor shows it.
pub fn load_one_with(file: &Path, text: &str, open: &OpenFiles) -> Result<Verdict, LoadError> {
    let sets = Sets {
        open: Some(open),
        ..Sets::default()
    };
    let result = provider(file, text, 0, &sets)?;
    let mut set_diagnostics = sets.into_diagnostics();
    Ok(match result {
        Verdict::Valid(provider) if set_diagnostics.is_empty() => Verdict::Valid(provider),
        Verdict::Valid(_) => Verdict::Invalid(set_diagnostics),
        Verdict::Invalid(mut diagnostics) => {
            diagnostics.append(&mut set_diagnostics);
            Diagnostic::sort(&mut diagnostics);
            Verdict::Invalid(diagnostics)
        }
    })
}

/// Checks and resolves the provider in `file` (already read into `text`); `index` is the file's
/// place in the load, which decides how a shared set's own diagnostics name its file.
fn provider(file: &Path, text: &str, index: usize, sets: &Sets<'_>) -> Result<Verdict, LoadError> {
    let mut checked = match validate::check_provider(file, text) {
        Ok(checked) => checked,
        Err(diagnostics) => return Ok(Verdict::Invalid(diagnostics)),
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
    if let Verdict::Invalid(found) = semantic {
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
    Ok(Verdict::Invalid(diagnostics))
}

/// The checks after the schema: the data-center set the provider names, then resolution.
fn semantic_checks(
    file: &Path,
    checked: Checked<ProviderDefinition>,
    index: usize,
    sets: &Sets<'_>,
) -> Result<Verdict, LoadError> {
    let set = match checked
        .content
        .data_centers
        .as_ref()
        .and_then(|dcs| dcs.set.as_deref())
    {
        None => None,
        Some(name) if !is_set_name(name) => {
            return Ok(Verdict::Invalid(vec![checked.locator(file).diagnostic(
                Kind::SetName,
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
                return Ok(Verdict::Invalid(vec![checked.locator(file).diagnostic(
                    Kind::SetName,
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
                return Ok(Verdict::Invalid(Vec::new()));
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
            Ok(Verdict::Valid(Provider {
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
            Ok(Verdict::Invalid(diagnostics))
        }
    }
}
