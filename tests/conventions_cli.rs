//! The command line's conventional companions: shell completions and the man page, each run
//! as a user would and checked to name every command; bash's script must also parse.

use std::process::Command;

use crate::support::cli::{BIN, stderr, stdout};

/// Every subcommand, as a user types it.
const SUBCOMMANDS: [&str; 12] = [
    "validate",
    "render",
    "schema",
    "connect",
    "refresh",
    "revoke",
    "import",
    "serve",
    "simulate",
    "lsp",
    "completions",
    "man",
];

fn run(args: &[&str]) -> String {
    let output = Command::new(BIN).args(args).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?}: {}",
        stderr(&output)
    );
    stdout(&output)
}

#[test]
fn completions_for_every_shell_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = run(&["completions", shell]);
        for name in SUBCOMMANDS {
            assert!(script.contains(name), "{shell} completions lack `{name}`");
        }
    }
    let script = run(&["completions", "bash"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("provider-forge.bash");
    std::fs::write(&path, script).unwrap();
    let parsed = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(parsed.status.success(), "bash -n: {}", stderr(&parsed));
}

#[test]
fn the_man_page_names_every_subcommand() {
    let page = run(&["man"]);
    assert!(page.contains("\n.TH provider-forge 1 "), "{page}");
    for name in SUBCOMMANDS {
        assert!(
            page.contains(&format!("\nprovider\\-forge\\-{name}(1)\n")),
            "the man page's SUBCOMMANDS lack `{name}`:\n{page}"
        );
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let output = Command::new(BIN)
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("tcsh"), "{}", stderr(&output));
}

/// The hook pre-commit users reference: it runs `validate`, the command that exists, on the
/// definitions under `providers/`.
#[test]
fn the_pre_commit_hook_runs_validate_on_provider_files() {
    let text =
        std::fs::read_to_string(crate::support::repo_path(".pre-commit-hooks.yaml")).unwrap();
    let hooks: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let hook = &hooks[0];
    assert_eq!(hook["id"].as_str(), Some("provider-forge-validate"));
    assert_eq!(hook["entry"].as_str(), Some("provider-forge validate"));
    assert!(matches!(hook["language"].as_str(), Some("rust" | "system")));
    assert_eq!(hook["files"].as_str(), Some(r"^providers/.*\.ya?ml$"));
}
