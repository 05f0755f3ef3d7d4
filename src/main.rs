//! The `provider-forge` command: parse arguments, run the command, exit with its code.

use std::process::ExitCode;

fn main() -> ExitCode {
    provider_forge::run_cli()
}
