//! Glue for tests that run the real binary: its path, its output as text, a command run off
//! the async runtime, a background `connect` (or `simulate`) read line by line, and small file
//! helpers. Every test starts the binary through [`BIN`].

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};

use serde_json::Value;

/// The `provider-forge` binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_provider-forge");

/// Runs a command to completion off the async runtime (the simulator keeps serving).
pub async fn run(mut command: Command, stdin: Option<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What a finished run printed on stdout, as text.
pub fn stdout(output: &Output) -> String {
    text(&output.stdout)
}

/// What a finished run printed on stderr, as text.
pub fn stderr(output: &Output) -> String {
    text(&output.stderr)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A `connect` running in the background, read the way a user reads it: the first line (the
/// authorization URL), then, once the browser part is done, whatever follows.
pub struct Running {
    child: Child,
    stdout: BufReader<ChildStdout>,
}

impl Running {
    pub fn spawn(command: &mut Command) -> Running {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Running { child, stdout }
    }

    /// Waits for the first line of stdout (the authorization URL with --no-browser).
    pub async fn first_line(mut self) -> (String, Running) {
        tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            self.stdout.read_line(&mut line).unwrap();
            (line.trim_end().to_owned(), self)
        })
        .await
        .unwrap()
    }

    /// Pastes `input` on stdin (if any), closes it, and waits for the end: returns the rest of
    /// stdout, all of stderr and the exit status.
    pub async fn finish(mut self, input: Option<String>) -> (String, String, ExitStatus) {
        tokio::task::spawn_blocking(move || {
            let mut stdin = self.child.stdin.take().unwrap();
            if let Some(input) = input {
                writeln!(stdin, "{input}").unwrap();
            }
            drop(stdin);
            let mut rest = String::new();
            self.stdout.read_to_string(&mut rest).unwrap();
            let mut stderr = String::new();
            let mut err = self.child.stderr.take().unwrap();
            err.read_to_string(&mut stderr).unwrap();
            (rest, stderr, self.child.wait().unwrap())
        })
        .await
        .unwrap()
    }
}

/// A `simulate` process, started and read up to its `ready` line.
pub struct SimulateProcess {
    child: Child,
    /// The `--resolve` values it printed, one per host.
    pub resolve: Vec<String>,
}

impl SimulateProcess {
    /// Spawns `command` (a `simulate` invocation) and waits for `ready`; panics with its
    /// stderr if it exits first.
    pub async fn start(mut command: Command) -> SimulateProcess {
        tokio::task::spawn_blocking(move || {
            let mut child = command
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdout = BufReader::new(child.stdout.take().unwrap());
            let mut printed = Vec::new();
            loop {
                let mut line = String::new();
                if stdout.read_line(&mut line).unwrap() == 0 {
                    let mut stderr = String::new();
                    child
                        .stderr
                        .take()
                        .unwrap()
                        .read_to_string(&mut stderr)
                        .unwrap();
                    panic!("simulate ended before `ready`: {stderr}");
                }
                let line = line.trim_end().to_owned();
                if line == "ready" {
                    break;
                }
                printed.push(line);
            }
            let resolve = printed
                .iter()
                .map(|line| {
                    line.strip_prefix("--resolve ")
                        .unwrap_or_else(|| panic!("unexpected line before ready: {line}"))
                        .to_owned()
                })
                .collect();
            SimulateProcess { child, resolve }
        })
        .await
        .unwrap()
    }

    /// Client options that send every host it serves to it and trust `ca_pem`.
    pub fn http_options(
        &self,
        ca_pem: &[u8],
        timeout: std::time::Duration,
    ) -> provider_forge::oauth::HttpOptions {
        provider_forge::oauth::HttpOptions {
            timeout,
            resolve: self
                .resolve
                .iter()
                .map(|entry| provider_forge::oauth::parse_resolve(entry).unwrap())
                .collect(),
            extra_root_certificates: vec![ca_pem.to_vec()],
        }
    }

    /// Stops it with SIGTERM (by its own pid) and returns its exit status and stderr.
    pub fn terminate(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let status = self.child.wait().unwrap();
        let mut stderr = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            err.read_to_string(&mut stderr).unwrap();
        }
        (status, stderr)
    }
}

impl Drop for SimulateProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
