//! `render --out DIR` and `--check`: the files a catalog renders to, written atomically, or
//! compared with what is already there.
//!
//! Everything is rendered in memory first ([`plan`]), so an invalid definition or a failing
//! template means no file is touched; then each file is replaced atomically (a temporary file
//! in DIR, renamed over the old one), so a reader never sees half a file.
//!
//! What is already in DIR is read like any input: only regular files (a FIFO there would
//! block, a committed link to `/dev/zero` never ends; either is an error naming the path), and
//! only as much as can match: a file whose size differs from the rendered text is not read to
//! be replaced, and `--check` refuses one larger than any render can produce.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use similar::TextDiff;

use super::templates::MAX_OUTPUT_BYTES;
use super::{Output, RenderError, Renderer};
use crate::regular_file;
use crate::resolve::table::ResolvedProvider;

/// One file to write: its name inside DIR and its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// File name inside the output directory: `PROVIDER.SUFFIX` (e.g. `zoho-crm.nango.yaml`).
    pub name: String,
    /// The rendered text.
    pub contents: String,
}

/// Why the files could not be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A provider failed to render.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// Two providers (or formats) would write the same file.
    #[error("two outputs would both be written to `{0}`: provider ids must be unique")]
    Collision(String),
}

/// Renders every provider in every output into memory, one file each.
pub fn plan(
    renderer: &Renderer,
    providers: &[ResolvedProvider],
    outputs: &[Output],
) -> Result<Vec<PlannedFile>, PlanError> {
    let mut files = Vec::new();
    let mut seen = BTreeMap::new();
    for provider in providers {
        for output in outputs {
            let name = format!("{}.{}", provider.id, output.file_suffix());
            if seen.insert(name.clone(), ()).is_some() {
                return Err(PlanError::Collision(name));
            }
            let contents = renderer.provider(provider, output)?;
            files.push(PlannedFile { name, contents });
        }
    }
    Ok(files)
}

/// An I/O failure on one path.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct OutputError {
    /// The file or directory.
    pub path: PathBuf,
    /// What failed.
    pub source: io::Error,
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError {
        path: path.to_path_buf(),
        source,
    }
}

/// What [`write()`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteSummary {
    /// Files created or replaced.
    pub written: Vec<PathBuf>,
    /// Files that already had exactly this content (left untouched).
    pub unchanged: Vec<PathBuf>,
}

/// Writes the planned files into `dir` (created if missing), each atomically. Files whose
/// content is already right are not rewritten, so their modification time is kept.
pub fn write(dir: &Path, files: &[PlannedFile]) -> Result<WriteSummary, OutputError> {
    fs::create_dir_all(dir).map_err(at(dir))?;
    let mut summary = WriteSummary::default();
    for file in files {
        let path = dir.join(&file.name);
        if holds(&path, &file.contents)? {
            summary.unchanged.push(path);
            continue;
        }
        let mut builder = tempfile::Builder::new();
        builder.prefix(".provider-forge-").suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Rendered configs are not secrets: the usual 0644, not the temp file's 0600.
            builder.permissions(fs::Permissions::from_mode(0o644));
        }
        let mut temp = builder.tempfile_in(dir).map_err(at(dir))?;
        temp.write_all(file.contents.as_bytes())
            .and_then(|()| temp.as_file().sync_all())
            .map_err(at(temp.path()))?;
        temp.persist(&path).map_err(|error| OutputError {
            path: path.clone(),
            source: error.error,
        })?;
        summary.written.push(path);
    }
    Ok(summary)
}

/// A file in DIR that differs from what would be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// The file.
    pub path: PathBuf,
    /// Whether the file is missing altogether.
    pub missing: bool,
    /// A unified diff from the file on disk to the rendered text.
    pub diff: String,
}

/// Compares the planned files with those in `dir`; returns one [`Drift`] per file that is
/// missing or differs. Files in `dir` that nothing renders to are not looked at.
pub fn check(dir: &Path, files: &[PlannedFile]) -> Result<Vec<Drift>, OutputError> {
    let mut drifts = Vec::new();
    for file in files {
        let path = dir.join(&file.name);
        let existing = read_existing(&path)?;
        if existing.as_deref() == Some(file.contents.as_str()) {
            continue;
        }
        let old = existing.as_deref().unwrap_or("");
        let old_header = match existing {
            Some(_) => format!("a/{}", path.display()),
            None => "/dev/null".to_owned(),
        };
        let diff = TextDiff::from_lines(old, file.contents.as_str())
            .unified_diff()
            .context_radius(3)
            .header(&old_header, &format!("b/{}", path.display()))
            .to_string();
        drifts.push(Drift {
            missing: existing.is_none(),
            path,
            diff,
        });
    }
    Ok(drifts)
}

/// The size of the regular file at `path`, `None` when there is none.
fn existing_size(path: &Path) -> Result<Option<u64>, OutputError> {
    match regular_file::size(path) {
        Ok(size) => Ok(Some(size)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(at(path)(error)),
    }
}

/// Whether the file at `path` holds exactly `contents`; read only when its size matches.
fn holds(path: &Path, contents: &str) -> Result<bool, OutputError> {
    if existing_size(path)? != Some(contents.len() as u64) {
        return Ok(false);
    }
    let prefix = regular_file::read_prefix(path, contents.len() + 1).map_err(at(path))?;
    Ok(prefix.bytes == contents.as_bytes())
}

/// The text of the file at `path`, `None` when there is none; one larger than any render can
/// produce is refused by its size.
fn read_existing(path: &Path) -> Result<Option<String>, OutputError> {
    let too_large = |size: u64| {
        at(path)(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the file is {size} bytes, more than the {MAX_OUTPUT_BYTES} bytes a rendered file may have; remove it and render again"
            ),
        ))
    };
    match existing_size(path)? {
        None => Ok(None),
        Some(size) if size > MAX_OUTPUT_BYTES as u64 => Err(too_large(size)),
        Some(_) => {
            let prefix = regular_file::read_prefix(path, MAX_OUTPUT_BYTES + 1).map_err(at(path))?;
            if prefix.bytes.len() > MAX_OUTPUT_BYTES {
                return Err(too_large(prefix.len));
            }
            String::from_utf8(prefix.bytes).map(Some).map_err(|_| {
                at(path)(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "stream did not contain valid UTF-8",
                ))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::render::Format;

    fn zoho_crm() -> ResolvedProvider {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("providers/zoho-crm.yaml");
        crate::catalog::load(&[path]).unwrap().providers[0]
            .resolved
            .clone()
    }

    #[test]
    fn two_providers_with_one_id_would_overwrite_each_other_and_are_refused() {
        let provider = zoho_crm();
        let error = plan(
            &Renderer::new(),
            &[provider.clone(), provider],
            &[Output::Builtin(Format::Env)],
        )
        .unwrap_err();
        assert_eq!(error, PlanError::Collision("zoho-crm.env".into()));
    }

    #[test]
    fn write_then_check_is_clean_and_rewriting_leaves_files_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let files = plan(
            &Renderer::new(),
            &[zoho_crm()],
            &[
                Output::Builtin(Format::Markdown),
                Output::Builtin(Format::Nango),
            ],
        )
        .unwrap();
        let first = write(dir.path(), &files).unwrap();
        assert_eq!(first.written.len(), 2);
        assert!(check(dir.path(), &files).unwrap().is_empty());
        let second = write(dir.path(), &files).unwrap();
        assert!(second.written.is_empty());
        assert_eq!(second.unchanged.len(), 2);
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|name| name.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "no temporary files left: {leftovers:?}"
        );
    }
}
