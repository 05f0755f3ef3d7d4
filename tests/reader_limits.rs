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
    run_bounded(&["validate".as_ref(), path.as_os_str()])
}

/// Runs the binary with `args` under the same limits as [`validate_bounded`].
fn run_bounded(args: &[&std::ffi::OsStr]) -> Output {
    let child: Child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1000000 && exec \"$0\" \"$@\"")
        .arg(BIN)
        .args(args)
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
            panic!("{args:?} hung");
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
fn a_too_large_files_first_line_is_shown_from_a_bounded_read() {
    let dir = tempfile::tempdir().unwrap();
    // Sparse files: reading one whole to show its first line took 1.45 GB for 64 MiB.
    for (name, first_line, size) in [
        ("lines.yaml", "id: x\n", 64 << 20),
        ("just-over.yaml", "id: x\n", (4 << 20) + 1),
        ("no-line-break.yaml", "id: x", 64 << 20),
    ] {
        let path = dir.path().join(name);
        fs::write(&path, first_line).unwrap();
        fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(size)
            .unwrap();
        let output = validate_bounded(&path);
        let shown = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{name}: {shown}");
        assert!(
            shown.contains(&format!("{name}:1:1: error: file is {size} bytes")),
            "{shown}"
        );
        assert!(
            shown.contains("1 | id: x"),
            "the first line is shown: {shown}"
        );
    }
}

#[test]
fn a_template_is_read_only_when_regular_and_small_enough() {
    let dir = tempfile::tempdir().unwrap();
    let providers = Path::new(env!("CARGO_MANIFEST_DIR")).join("providers/gitlab.yaml");
    let huge = dir.path().join("huge.j2");
    fs::write(&huge, "{{ provider.id }} {{ nope(").unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(&huge)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    let fifo = dir.path().join("pipe.j2");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for (template, expected) in [
        (
            huge.as_path(),
            "more than the 4194304 bytes a template may have",
        ),
        (fifo.as_path(), "not a regular file"),
        (Path::new("/dev/zero"), "not a regular file"),
    ] {
        let output = run_bounded(&[
            "render".as_ref(),
            providers.as_os_str(),
            "--template".as_ref(),
            template.as_os_str(),
        ]);
        let shown = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{template:?}: {shown}");
        assert!(shown.contains(expected), "{template:?}: {shown}");
    }
}

/// Puts a FIFO and a link to `/dev/zero` where `names` would be written in `dir`.
fn hostile_outputs(dir: &Path, names: [&str; 2]) {
    fs::create_dir_all(dir).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(dir.join(names[0]))
            .status()
            .unwrap()
            .success()
    );
    std::os::unix::fs::symlink("/dev/zero", dir.join(names[1])).unwrap();
}

#[test]
fn existing_outputs_are_read_only_when_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    let providers = Path::new(env!("CARGO_MANIFEST_DIR")).join("providers");
    let out = dir.path().join("out");
    hostile_outputs(&out, ["gitlab.resolved.json", "zoho-crm.resolved.json"]);
    for check in [false, true] {
        let mut args = vec![
            "render".as_ref(),
            providers.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ];
        if check {
            args.push("--check".as_ref());
        }
        let output = run_bounded(&args);
        let shown = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "check={check}: {shown}");
        assert!(shown.contains("not a regular file"), "{shown}");
    }

    let catalog = dir.path().join("providers.yaml");
    fs::write(
        &catalog,
        "one:\n    display_name: One\n    auth_mode: OAUTH2\n    authorization_url: https://one.example/auth\n    token_url: https://one.example/token\ntwo:\n    display_name: Two\n    auth_mode: OAUTH2\n    authorization_url: https://two.example/auth\n    token_url: https://two.example/token\n",
    )
    .unwrap();
    let imported = dir.path().join("imported");
    hostile_outputs(&imported, ["one.yaml", "two.yaml"]);
    let output = run_bounded(&[
        "import".as_ref(),
        "nango".as_ref(),
        catalog.as_os_str(),
        "--out".as_ref(),
        imported.as_os_str(),
    ]);
    let shown = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{shown}");
    assert!(shown.contains("not a regular file"), "{shown}");
}

#[test]
fn an_existing_output_larger_than_any_render_is_not_read_to_compare() {
    let dir = tempfile::tempdir().unwrap();
    let gitlab = Path::new(env!("CARGO_MANIFEST_DIR")).join("providers/gitlab.yaml");
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    let existing = out.join("gitlab.resolved.json");
    fs::File::create(&existing)
        .unwrap()
        .set_len(4 << 30)
        .unwrap();
    let check = run_bounded(&[
        "render".as_ref(),
        gitlab.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--check".as_ref(),
    ]);
    let shown = stderr(&check);
    assert_eq!(check.status.code(), Some(2), "{shown}");
    assert!(shown.contains("more than the 16777216 bytes"), "{shown}");
    let write = run_bounded(&[
        "render".as_ref(),
        gitlab.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(write.status.code(), Some(0), "{}", stderr(&write));
    assert!(fs::metadata(&existing).unwrap().len() < 1 << 20, "replaced");
}

#[test]
fn nangos_files_are_read_only_when_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("providers.yaml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let out = dir.path().join("out");
    for input in [fifo.as_path(), Path::new("/dev/zero")] {
        let output = run_bounded(&[
            "import".as_ref(),
            "nango".as_ref(),
            input.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        let shown = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{input:?}: {shown}");
        assert!(shown.contains("not a regular file"), "{input:?}: {shown}");
    }
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
