//! `provider-forge lsp`: runs the language server for editors.

use super::{CliError, EXIT_INVALID};
use crate::lsp::{self, Ending};

/// Arguments of `lsp`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Runs a language server over standard input and output, for editors that speak \
the Language Server Protocol (VS Code, Neovim, Helix, ...). The editor starts it; it is not \
meant to be run by hand.\n\n\
It publishes exactly the diagnostics `validate` prints, with the fix as a `help:` line, for \
provider files and for data-center sets (files in a `data-centers/` folder), as the text is \
typed, before it is saved. Providers are checked against their shared set as the editor shows \
it, and editing a set re-checks the open providers that use it.\n\n\
Hover on a key shows the schema's description of that key (in a value, the description of \
its key). Completion offers the keys of the mapping under the cursor, enumerated values \
(`auth_method`, `pkce`, ...), placeholder names inside `<...>` (from the data centers and the \
shared set), and scope names of the catalog in `scopes.default`.\n\n\
Editor setup: see \"Editor integration\" in README.md.\n\n\
Exit codes: 0 after the editor's shutdown and exit, 1 when the editor exits without shutdown \
or closes the connection, 2 on a protocol or I/O error (a Content-Length over 64 MiB or a header \
line over 1 KiB is one, refused before anything is allocated for it)."
)]
pub(super) struct LspArgs {
    /// Use standard input and output (the only transport; accepted because editor clients
    /// pass it).
    #[arg(long)]
    stdio: bool,
}

pub(super) fn run(args: LspArgs) -> Result<(), CliError> {
    // `--stdio` names the only transport there is: nothing to choose.
    let _ = args.stdio;
    match lsp::run_stdio() {
        Ok(Ending::Clean) => Ok(()),
        // The editor went away without a shutdown: nothing to report but the exit code.
        Ok(Ending::Abrupt) => Err(CliError::Reported(EXIT_INVALID)),
        Err(error) => Err(CliError::usage(error)),
    }
}
