//! Which files a load reads, and reading one: directories listed for their `*.yaml` files, and
//! each file read only when it is a regular file within the size limit.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{DATA_CENTER_SET_DIR, LoadError};
use crate::definition::document;
use crate::diagnostics::{Diagnostic, Kind};

/// The files a load reads: providers in the order given (directories sorted by name), then the
/// sets found in given directories.
pub(super) struct Inputs {
    pub(super) providers: Vec<PathBuf>,
    pub(super) sets: Vec<PathBuf>,
}

impl Inputs {
    pub(super) fn find(paths: &[PathBuf]) -> Result<Inputs, LoadError> {
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
pub(super) fn read(path: &Path) -> Result<Result<String, Diagnostic>, LoadError> {
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
            Kind::UnreadableFile,
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
    Ok(document::decode(bytes).map_err(|error| Diagnostic::syntax(path, *error)))
}

/// The `*.yaml` and `*.yml` files directly in `dir`, sorted by name.
pub(super) fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
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
