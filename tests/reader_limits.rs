//! Limits of the reader count what they protect (issue 12 items 1 and 8): a file is checked
//! before it is read, only regular files are read, and aliases are limited by the bytes they
//! expand to as well as by their nodes. Each case runs the real binary under a 1 GB
//! address-space limit, so a regression shows up as a crash instead of eating the machine.

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::cli::{BIN, stderr};

/// Runs `validate PATH` with at most 1 GB of address space. A run that has not ended after a
/// minute is killed and reported as hung (a FIFO used to block `validate` forever).
fn validate_bounded(path: &Path) -> Output {
    let child: Child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1000000 && exec \"$0\" validate \"$1\"")
        .arg(BIN)
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let started = Instant::now();
    let mut child = child;
    loop {
        if child.try_wait().expect("waitable").is_some() {
            return child.wait_with_output().expect("output");
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().ok();
            panic!("validate {} hung", path.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_huge_file_is_refused_without_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    // Sparse: 4 GiB on paper, nothing on disk. Reading it whole would need 4 GB.
    fs::File::create(&path).unwrap().set_len(4 << 30).unwrap();
    let output = validate_bounded(&path);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "huge.yaml:1:1: error: file is 4294967296 bytes, more than the 4194304 bytes"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_fifo_is_refused_instead_of_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipe.yaml");
    let made = Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let output = validate_bounded(&path);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("not a regular file"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn dev_zero_is_refused_instead_of_read_forever() {
    let output = validate_bounded(Path::new("/dev/zero"));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("/dev/zero: cannot read: not a regular file"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_alias_bomb_on_one_large_scalar_is_refused_in_little_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.yaml");
    let mut text = format!(
        "id: bomb\ndisplay_name: &big {}\nextra:\n",
        "x".repeat(1_000_000)
    );
    for _ in 0..3_000 {
        text.push_str("  - *big\n");
    }
    fs::write(&path, text).unwrap();
    let output = validate_bounded(&path);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("document expands to more than 8388608 bytes"),
        "{}",
        stderr(&output)
    );
}
