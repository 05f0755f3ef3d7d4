//! `provider-forge completions SHELL` and `provider-forge man`: the shell completion script and
//! the roff man page, both generated from the same clap definition the parser uses, so they
//! never name a command or option the binary does not have.

use clap::CommandFactory;

use super::CliError;

/// Arguments of `completions`.
#[derive(Debug, clap::Args)]
pub(super) struct CompletionsArgs {
    /// The shell to write the completion script for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// Arguments of `man`.
#[derive(Debug, clap::Args)]
pub(super) struct ManArgs {}

/// Prints the completion script for `args.shell` on stdout
/// (e.g. `provider-forge completions bash > /etc/bash_completion.d/provider-forge`).
pub(super) fn completions(args: CompletionsArgs) -> Result<(), CliError> {
    let mut command = super::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "provider-forge", &mut script);
    print(&script)
}

/// Prints the man page, in roff, on stdout (`provider-forge man > provider-forge.1`).
pub(super) fn man(_args: ManArgs) -> Result<(), CliError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(super::Cli::command())
        .render(&mut page)
        .map_err(|error| CliError::usage(format!("cannot write the man page: {error}")))?;
    print(&page)
}

fn print(bytes: &[u8]) -> Result<(), CliError> {
    super::print_stdout(&String::from_utf8_lossy(bytes))
}
