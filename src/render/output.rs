//! `render --out DIR` and `--check`: the files a catalog renders to, written atomically, or
//! compared with what is already there.
//!
//! Everything is rendered in memory first ([`plan`]), so an invalid definition or a failing
//! template means no file is touched; then each file is replaced atomically (a temporary file
//! in DIR, renamed over the old one), so a reader never sees half a file.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use similar::TextDiff;

use super::{Output, RenderError, Renderer};
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
        if read_existing(&path)?.as_deref() == Some(file.contents.as_str()) {
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

fn read_existing(path: &Path) -> Result<Option<String>, OutputError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(at(path)(error)),
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
