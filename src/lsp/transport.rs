//! The stdio transport: `Content-Length` framing read and written here, messages handed to
//! lsp-server's [`Connection`] for the rest.
//!
//! lsp-server's own reader sizes a buffer from the `Content-Length` header before reading the
//! body, and reads header lines of any length: a client (or anything piped in) that sends
//! `Content-Length: 99999999999999` aborts the process, and `18446744073709551615` panics.
//! Here every header line is bounded, a length past [`MAX_MESSAGE_BYTES`] is a protocol error
//! before anything is allocated, and the body is read as it arrives, so a length that the body
//! does not back up costs nothing either.

use std::io::{self, BufRead, Read, Write};
use std::thread::{self, JoinHandle};

use crossbeam_channel::bounded;
use lsp_server::{Connection, Message};

/// Largest message accepted: a definition is at most 4 MiB, and JSON may escape each byte to
/// six; 64 MiB leaves room for any real `didOpen` or `didChange`.
pub(super) const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;
/// Longest header line, line break included. Real ones (`Content-Length`, `Content-Type`) are
/// under 64 bytes.
const MAX_HEADER_LINE: usize = 1024;
/// Most header lines one message may have.
const MAX_HEADERS: usize = 32;

/// The transport's threads: joined after the connection is dropped.
pub(super) struct IoThreads {
    reader: JoinHandle<io::Result<()>>,
    writer: JoinHandle<io::Result<()>>,
}

impl IoThreads {
    /// Waits for the reader alone, once it has closed its side of the connection: why it
    /// stopped. (Called while it may still be reading, it would wait for input.)
    pub(super) fn join_reader(self) -> io::Result<()> {
        self.reader.join().map_err(|_| panicked("reader"))?
    }

    /// Waits for both threads; the first error either met.
    pub(super) fn join(self) -> io::Result<()> {
        let read = self.reader.join().map_err(|_| panicked("reader"))?;
        let written = self.writer.join().map_err(|_| panicked("writer"))?;
        read.and(written)
    }
}

fn panicked(thread: &str) -> io::Error {
    io::Error::other(format!("the language server's {thread} thread panicked"))
}

/// A connection over standard input and output.
pub(super) fn stdio() -> (Connection, IoThreads) {
    let (to_writer, from_server) = bounded::<Message>(0);
    let (to_server, from_reader) = bounded::<Message>(0);
    let writer = thread::Builder::new()
        .name("lsp-writer".to_owned())
        .spawn(move || {
            let mut stdout = io::stdout().lock();
            for message in from_server {
                message.write(&mut stdout)?;
            }
            stdout.flush()
        })
        .expect("a thread starts");
    let reader = thread::Builder::new()
        .name("lsp-reader".to_owned())
        .spawn(move || {
            let mut stdin = io::stdin().lock();
            while let Some(message) = read_message(&mut stdin)? {
                let is_exit = matches!(&message, Message::Notification(n) if n.method == "exit");
                if to_server.send(message).is_err() || is_exit {
                    break;
                }
            }
            Ok(())
        })
        .expect("a thread starts");
    let connection = Connection {
        sender: to_writer,
        receiver: from_reader,
    };
    (connection, IoThreads { reader, writer })
}

fn protocol(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Reads one framed message; `None` at the end of the input before a message starts.
pub(super) fn read_message(input: &mut impl BufRead) -> io::Result<Option<Message>> {
    let mut length = None;
    let mut line = Vec::new();
    for count in 0.. {
        if count == MAX_HEADERS {
            return Err(protocol(format!(
                "more than {MAX_HEADERS} header lines in one message"
            )));
        }
        line.clear();
        input
            .by_ref()
            .take(MAX_HEADER_LINE as u64)
            .read_until(b'\n', &mut line)?;
        if line.is_empty() && count == 0 {
            return Ok(None);
        }
        let Some(header) = line.strip_suffix(b"\r\n") else {
            return Err(protocol(if line.len() == MAX_HEADER_LINE {
                format!("a header line longer than {MAX_HEADER_LINE} bytes")
            } else {
                "a header line that does not end with CR LF".to_owned()
            }));
        };
        if header.is_empty() {
            break;
        }
        let header = String::from_utf8_lossy(header);
        let Some((name, value)) = header.split_once(':') else {
            return Err(protocol(format!(
                "malformed header `{}`",
                crate::diagnostics::visible(&header)
            )));
        };
        if name.eq_ignore_ascii_case("Content-Length") {
            length = Some(content_length(value.trim())?);
        }
    }
    let length = length.ok_or_else(|| protocol("a message without Content-Length".to_owned()))?;
    let mut body = Vec::new();
    input.take(length as u64).read_to_end(&mut body)?;
    if body.len() < length {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "the input ended {} bytes into a message of {length}",
                body.len()
            ),
        ));
    }
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|error| protocol(format!("a message that is not JSON-RPC: {error}")))
}

/// The value of a `Content-Length` header, bounded by [`MAX_MESSAGE_BYTES`].
fn content_length(value: &str) -> io::Result<usize> {
    let refused = || {
        protocol(format!(
            "Content-Length `{}` is not a message size from 0 to {MAX_MESSAGE_BYTES} bytes",
            crate::diagnostics::visible(value)
        ))
    };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused());
    }
    match value.parse::<u64>() {
        Ok(length) if length <= MAX_MESSAGE_BYTES as u64 => Ok(length as usize),
        _ => Err(refused()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &[u8]) -> io::Result<Option<Message>> {
        read_message(&mut io::BufReader::new(input))
    }

    #[test]
    fn a_framed_message_is_read_with_any_header_order_and_case() {
        let body = r#"{"jsonrpc":"2.0","method":"exit"}"#;
        let framed = format!(
            "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let message = read(framed.as_bytes()).unwrap().unwrap();
        assert!(matches!(message, Message::Notification(n) if n.method == "exit"));
        assert!(read(b"").unwrap().is_none());
    }

    #[test]
    fn lengths_and_headers_no_message_can_have_are_refused_before_any_allocation() {
        for framed in [
            "Content-Length: 99999999999999\r\n\r\n{}".to_owned(),
            "Content-Length: 18446744073709551615\r\n\r\n{}".to_owned(),
            "Content-Length: 18446744073709551616\r\n\r\n{}".to_owned(),
            format!("Content-Length: {}\r\n\r\n{{}}", MAX_MESSAGE_BYTES + 1),
            "Content-Length: -1\r\n\r\n{}".to_owned(),
            "Content-Length: +2\r\n\r\n{}".to_owned(),
            "Content-Length: \r\n\r\n{}".to_owned(),
            format!("X: {}\r\n", "a".repeat(MAX_HEADER_LINE)),
            "X: 1\r\n".repeat(MAX_HEADERS + 1),
            "Content-Length: 2\n\n{}".to_owned(),
            "\r\n{}".to_owned(),
        ] {
            let error = read(framed.as_bytes()).expect_err(&framed);
            assert_eq!(
                error.kind(),
                io::ErrorKind::InvalidData,
                "{framed:?}: {error}"
            );
        }
    }

    #[test]
    fn a_length_the_body_does_not_back_up_ends_as_a_short_read() {
        let error = read(format!("Content-Length: {MAX_MESSAGE_BYTES}\r\n\r\n{{}}").as_bytes())
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof, "{error}");
    }
}
