//! The language server behind `provider-forge lsp`: `validate`'s diagnostics, the schema's
//! descriptions and completions, in any editor that speaks the Language Server Protocol.
//!
//! A thin adapter with no rule of its own. Diagnostics are what [`crate::catalog`] and
//! [`crate::validate`] find, on the editor's unsaved text; hover and completion read the JSON
//! Schema generated from the format's types ([`crate::schema`]) and the data-center merge of
//! [`crate::resolve`]. What the server adds is only the protocol, positions in the protocol's
//! units, and finding the key under the cursor in a half-typed document.

mod classify;
mod completion;
mod cursor;
mod goto;
mod hover;
mod outline;
mod quick_fix;
mod schema_walk;
mod server;
mod text;
mod transport;
mod workspace;

use lsp_server::ProtocolError;

pub use server::Ending;
use server::serve;

/// Why the server stopped before the client asked it to.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The client broke the protocol (e.g. no `initialize` first).
    #[error("language server protocol: {0}")]
    Protocol(#[from] ProtocolError),
    /// Reading or writing the standard streams failed.
    #[error("language server I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A message could not be encoded.
    #[error("language server message: {0}")]
    Json(#[from] serde_json::Error),
    /// The client closed the connection while a message was being sent.
    #[error("the client closed the connection")]
    Disconnected,
}

/// Serves one client over standard input and output until it exits. Framing is read by
/// `transport`, which bounds what a header may ask for.
pub fn run_stdio() -> Result<Ending, ServerError> {
    let (connection, io_threads) = transport::stdio();
    let ending = match serve(&connection) {
        Ok(ending) => ending,
        // A connection the reader closed is reported with the reader's error, when it stopped
        // on one. (Otherwise the threads are left to end with the process: the reader may be
        // blocked on input that never comes.)
        Err(ServerError::Protocol(error)) if error.channel_is_disconnected() => {
            io_threads.join_reader()?;
            return Err(ServerError::Protocol(error));
        }
        Err(error) => return Err(error),
    };
    // The writer thread ends when the connection's sender is gone.
    drop(connection);
    io_threads.join()?;
    Ok(ending)
}
