//! Rendered text held back until a whole catalog is known to be good.
//!
//! `render` works through a catalog one provider at a time and drops each when it is rendered,
//! but prints (or writes) nothing unless every definition is valid and every provider renders:
//! a bad file late in a catalog must not leave half a catalog on stdout or in `--out DIR`. The
//! text in between waits here: in memory up to [`IN_MEMORY`] bytes, then in an unnamed
//! temporary file (deleted by the system however the process ends), so memory stays flat
//! whatever the catalog's size and a crash leaves nothing behind in DIR.

use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};

use tempfile::{SpooledData, SpooledTempFile};

use super::output::PlannedFile;

/// How much staged text stays in memory before it moves to a temporary file. The bundled
/// catalog's JSON fits well within it, so such a run never touches the disk; a larger one let
/// the growing buffer (and the copies its doubling leaves behind in the allocator) swell
/// render's peak memory on large catalogs.
pub(crate) const IN_MEMORY: usize = 1 << 20;

/// How much text is gathered before it is written to the spool: [`Staging::spool`]'s buffer.
const SPOOL_BUFFER: usize = 256 << 10;

/// Text staged in order: a stream (stdout's text, written through [`Write`]) or named files
/// ([`Staging::add_file`]), read back once the catalog is known to be good.
#[derive(Debug)]
pub(crate) struct Staging {
    /// With a [`SPOOL_BUFFER`] of 256 KiB, so that the spool's file is written in large
    /// pieces. With `BufWriter`'s default 8 KiB, a provider's JSON (about 11 KB for Zoho CRM)
    /// went past the buffer: a write call for the separator waiting in it, then another for
    /// the text, a couple of calls per provider where a large buffer needs a few per catalog.
    /// Copying the text into the buffer costs less CPU time than the calls it saves.
    spool: BufWriter<SpooledTempFile>,
    /// Each staged file's name and length, in the order added.
    files: Vec<(String, usize)>,
}

impl Default for Staging {
    fn default() -> Self {
        Staging {
            spool: BufWriter::with_capacity(SPOOL_BUFFER, tempfile::spooled_tempfile(IN_MEMORY)),
            files: Vec::new(),
        }
    }
}

impl Write for Staging {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.spool.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.spool.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.spool.flush()
    }
}

impl Staging {
    /// An empty staging area.
    pub(crate) fn new() -> Self {
        Staging::default()
    }

    /// Stages the file `name` with `contents`. Use either this or [`Write`], not both.
    pub(crate) fn add_file(&mut self, name: String, contents: &str) -> io::Result<()> {
        self.spool.write_all(contents.as_bytes())?;
        self.files.push((name, contents.len()));
        Ok(())
    }

    /// Copies everything staged, in order, to `out`.
    pub(crate) fn copy_to(self, out: &mut impl Write) -> io::Result<()> {
        match spooled(self.spool)? {
            SpooledData::InMemory(cursor) => out.write_all(cursor.get_ref()),
            SpooledData::OnDisk(mut file) => {
                file.seek(SeekFrom::Start(0))?;
                io::copy(&mut file, out)?;
                Ok(())
            }
        }
    }

    /// Reads the staged files back one at a time, in the order they were added.
    pub(crate) fn into_files(self) -> io::Result<StagedFiles> {
        let mut spool = spooled(self.spool)?;
        match &mut spool {
            SpooledData::InMemory(cursor) => cursor.set_position(0),
            SpooledData::OnDisk(file) => {
                file.seek(SeekFrom::Start(0))?;
            }
        }
        Ok(StagedFiles {
            spool,
            files: self.files.into_iter(),
        })
    }
}

fn spooled(spool: BufWriter<SpooledTempFile>) -> io::Result<SpooledData> {
    let spool = spool.into_inner().map_err(io::IntoInnerError::into_error)?;
    Ok(spool.into_inner())
}

/// The staged files, read back in order (see [`Staging::into_files`]).
#[derive(Debug)]
pub(crate) struct StagedFiles {
    spool: SpooledData,
    files: std::vec::IntoIter<(String, usize)>,
}

impl Iterator for StagedFiles {
    type Item = io::Result<PlannedFile>;

    fn next(&mut self) -> Option<Self::Item> {
        let (name, len) = self.files.next()?;
        let mut bytes = vec![0; len];
        let read = match &mut self.spool {
            SpooledData::InMemory(cursor) => cursor.read_exact(&mut bytes),
            SpooledData::OnDisk(file) => file.read_exact(&mut bytes),
        };
        Some(read.and_then(|()| {
            let contents = String::from_utf8(bytes)
                .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
            Ok(PlannedFile { name, contents })
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staged(files: &[(&str, String)]) -> Vec<PlannedFile> {
        let mut staging = Staging::new();
        for (name, contents) in files {
            staging.add_file((*name).to_owned(), contents).unwrap();
        }
        staging
            .into_files()
            .unwrap()
            .collect::<io::Result<_>>()
            .unwrap()
    }

    #[test]
    fn files_come_back_in_order_whether_in_memory_or_on_disk() {
        for size in [10, IN_MEMORY / 3 + 1] {
            let files = [
                ("a.json", "a".repeat(size)),
                ("empty.env", String::new()),
                ("b.md", "é".repeat(size)),
                ("c.yaml", "c\n".repeat(size)),
            ];
            let back = staged(&files);
            let expected: Vec<PlannedFile> = files
                .iter()
                .map(|(name, contents)| PlannedFile {
                    name: (*name).to_owned(),
                    contents: contents.clone(),
                })
                .collect();
            assert_eq!(back, expected, "size {size}");
        }
    }

    #[test]
    fn a_stream_copies_out_as_written() {
        for size in [3, IN_MEMORY + 1] {
            let mut staging = Staging::new();
            let text = "0123456789".repeat(size / 10 + 1);
            staging.write_all(text.as_bytes()).unwrap();
            staging.write_all(b"end").unwrap();
            let mut out = Vec::new();
            staging.copy_to(&mut out).unwrap();
            assert_eq!(out, format!("{text}end").into_bytes(), "size {size}");
        }
    }
}
