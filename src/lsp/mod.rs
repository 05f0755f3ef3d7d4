//! The language server behind `provider-forge lsp`: `validate`'s diagnostics, the schema's
//! descriptions and completions, in any editor that speaks the Language Server Protocol.
//!
//! A thin adapter with no rule of its own. Diagnostics are what [`crate::catalog`] and
//! [`crate::validate`] find, on the editor's unsaved text; hover and completion read the JSON
//! Schema generated from the format's types ([`crate::schema`]) and the data-center merge of
//! [`crate::resolve`]. What the server adds is only the protocol, positions in the protocol's
//! units, and finding the key under the cursor in a half-typed document.

mod completion;
mod cursor;
mod hover;
mod schema_walk;
mod server;
mod text;
mod workspace;

use lsp_server::{Connection, ProtocolError};

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

/// Serves one client over standard input and output until it exits.
pub fn run_stdio() -> Result<Ending, ServerError> {
    let (connection, io_threads) = Connection::stdio();
    let ending = serve(&connection)?;
    // The writer thread ends when the connection's sender is gone. (On an error the threads
    // are left to end with the process: the reader may be blocked on input that never comes.)
    drop(connection);
    io_threads.join()?;
    Ok(ending)
}
