//! Why a command did not succeed: one type every command returns, printed and turned into its
//! exit code in one place ([`super::run`]), as ripgrep's `main` does. A command builds the
//! value where it finds the problem and returns it; it never prints an error itself, except
//! the ones with a shape of their own (diagnostics, a template excerpt, a diff), which it
//! prints and then returns as [`CliError::Reported`].

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::{EXIT_BROKEN_PIPE, EXIT_INVALID, EXIT_USAGE};

/// A command's failure, and so its exit code.
#[derive(Debug)]
pub(crate) enum CliError {
    /// Bad usage or input the command cannot work with (a bad option value, a refused
    /// connection value, an unwritable file, a missing secret): exit 2.
    Usage(String),
    /// Several usage problems found together (`serve`'s configuration), one line each: exit 2.
    Usages(Vec<String>),
    /// A file named on the command line that could not be read: exit 2.
    Read { path: PathBuf, source: io::Error },
    /// stdout or stderr could not be written: exit 141, quietly, when its reader went away
    /// (`| head`), as for any command a pipe closed; any other failure is an I/O error, exit 2.
    Write {
        stream: &'static str,
        source: io::Error,
    },
    /// The flow failed: the provider refused or could not be reached, or the input is invalid
    /// in a way the command states in one message; the exit code is 1, or `render --check`'s 3.
    Failed { message: String, code: u8 },
    /// The outcome is already on stderr or stdout in its own shape (diagnostics, a template
    /// excerpt, a diff, an import report); only the exit code is left.
    Reported(u8),
}

impl CliError {
    /// A usage or I/O error (exit 2).
    pub(crate) fn usage(message: impl fmt::Display) -> Self {
        CliError::Usage(message.to_string())
    }

    /// A failed flow (exit 1). The message may quote a server's `error_description`; it is
    /// shown escaped like every other message.
    pub(crate) fn failed(message: impl fmt::Display) -> Self {
        CliError::Failed {
            message: message.to_string(),
            code: EXIT_INVALID,
        }
    }

    /// A failed write to stdout.
    pub(crate) fn stdout(source: io::Error) -> Self {
        CliError::Write {
            stream: "stdout",
            source,
        }
    }

    /// The exit code this failure ends the command with.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Usages(_) | CliError::Read { .. } => EXIT_USAGE,
            CliError::Write { source, .. } if source.kind() == io::ErrorKind::BrokenPipe => {
                EXIT_BROKEN_PIPE
            }
            CliError::Write { .. } => EXIT_USAGE,
            CliError::Failed { code, .. } | CliError::Reported(code) => *code,
        }
    }

    /// The lines to print on stderr, each after `provider-forge: error: `: none when the
    /// problem is already reported or nobody is left to read it.
    pub(crate) fn messages(&self) -> Vec<String> {
        match self {
            CliError::Reported(_) => Vec::new(),
            CliError::Write { .. } if self.exit_code() == EXIT_BROKEN_PIPE => Vec::new(),
            CliError::Usages(list) => list.clone(),
            error => vec![error.to_string()],
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(message) | CliError::Failed { message, .. } => f.write_str(message),
            CliError::Usages(list) => f.write_str(&list.join("\n")),
            CliError::Read { path, source } => {
                write!(f, "{}: cannot read: {source}", path.display())
            }
            CliError::Write { stream, source } => write!(f, "cannot write to {stream}: {source}"),
            CliError::Reported(code) => write!(f, "reported above (exit code {code})"),
        }
    }
}

impl std::error::Error for CliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CliError::Read { source, .. } | CliError::Write { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_ends_quietly_with_141_and_other_write_failures_are_io_errors() {
        let closed = CliError::stdout(io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(closed.exit_code(), 141);
        assert!(closed.messages().is_empty());
        let full = CliError::stdout(io::Error::other("no space left on device"));
        assert_eq!(full.exit_code(), 2);
        assert_eq!(
            full.messages(),
            ["cannot write to stdout: no space left on device"]
        );
    }

    #[test]
    fn each_kind_has_its_exit_code_and_message() {
        let read = CliError::Read {
            path: PathBuf::from("ca.pem"),
            source: io::Error::other("permission denied"),
        };
        assert_eq!(read.exit_code(), 2);
        assert_eq!(read.messages(), ["ca.pem: cannot read: permission denied"]);
        assert_eq!(CliError::usage("--param a is given twice").exit_code(), 2);
        assert_eq!(CliError::failed("invalid_grant").exit_code(), 1);
        let reported = CliError::Reported(3);
        assert_eq!(reported.exit_code(), 3);
        assert!(reported.messages().is_empty());
        let usages = CliError::Usages(vec!["a".into(), "b".into()]);
        assert_eq!(
            (usages.exit_code(), usages.messages()),
            (2, vec!["a".to_owned(), "b".to_owned()])
        );
    }
}
