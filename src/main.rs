//! The `provider-forge` command: parse arguments, run the command, exit with its code.

use std::process::ExitCode;

/// mimalloc instead of the system allocator: loading a catalog makes and frees many small
/// values per file (YAML nodes, resolved URLs), and glibc's malloc and free were a large share
/// of the work of `validate` (numbers in BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    provider_forge::run_cli()
}
