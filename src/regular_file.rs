//! Reading a file the user named, or one found in a directory the user named, without trusting
//! what is there: only regular files are read (a FIFO would block forever, `/dev/zero` never
//! ends, and a symbolic link committed to a repository can point at either), and never more
//! than the caller's limit, whatever the file's size. The size is known before the first byte
//! is read, so a caller can refuse a file by its size alone.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

/// The first bytes of a regular file, and the file's size when it was opened.
pub(crate) struct Prefix {
    /// At most the limit asked for; all of the file when it is no larger.
    pub(crate) bytes: Vec<u8>,
    /// The file's size in bytes.
    pub(crate) len: u64,
}

/// The error for a path that exists but is not a regular file.
pub(crate) fn not_regular() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "not a regular file (a directory, device, FIFO or socket)",
    )
}

/// The size of the regular file at `path` (links followed), checked without opening it.
pub(crate) fn size(path: &Path) -> io::Result<u64> {
    let metadata = fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(not_regular());
    }
    Ok(metadata.len())
}

/// Reads at most `limit` bytes from the start of the regular file at `path`. The file's type is
/// checked before it is opened (opening a FIFO blocks) and again on the open file.
pub(crate) fn read_prefix(path: &Path, limit: usize) -> io::Result<Prefix> {
    size(path)?;
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(not_regular());
    }
    let len = metadata.len();
    let mut bytes = Vec::with_capacity(len.min(limit as u64) as usize);
    file.take(limit as u64).read_to_end(&mut bytes)?;
    Ok(Prefix { bytes, len })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_prefix_of_a_regular_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let file = File::create(&path).unwrap();
        file.set_len(1 << 30).unwrap();
        let prefix = read_prefix(&path, 10).unwrap();
        assert_eq!((prefix.bytes.len(), prefix.len), (10, 1 << 30));
        let small = dir.path().join("small");
        fs::write(&small, "abc").unwrap();
        let prefix = read_prefix(&small, 10).unwrap();
        assert_eq!((prefix.bytes.as_slice(), prefix.len), (&b"abc"[..], 3));
    }

    #[cfg(unix)]
    #[test]
    fn devices_fifos_and_links_to_them_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        for path in [link.as_path(), fifo.as_path(), dir.path()] {
            let error = read_prefix(path, 10).err().expect("refused");
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{path:?}");
        }
    }
}
