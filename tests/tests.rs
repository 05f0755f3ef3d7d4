//! The integration tests, built as one binary: each module below is one file of `tests/`
//! about one part of the tool, driving the library's public API or the built
//! `provider-forge` binary; `support` holds what they share. One binary links the dependency
//! graph once, where a binary per file linked it once per file.
//!
//! The modules run on parallel threads of one process, so none may change process-wide state
//! (environment, current directory, umask, signal handlers): a child process gets its
//! environment and directory through its `Command`.

// `unreachable_pub` guards the library's public surface; a test binary has none, and `pub` in
// `support` only means "shared by the test modules".
#![allow(unreachable_pub)]

mod support;

mod cli_oauth;
mod cli_validate;
mod connection_values;
mod conventions_cli;
mod dc_value_diagnostics;
mod diagnostic_rendering;
mod diagnostic_spans;
mod family_diagnostics;
mod harden_cli;
mod harden_corpus;
mod harden_definitions;
mod harden_fuzz;
mod harden_oauth;
mod host_safety;
mod import_nango;
mod import_round_trip;
mod lsp_server;
mod nango_compare;
mod nango_schema;
mod oauth_generic;
mod oauth_refresh_revoke;
mod oauth_secrets;
mod oauth_zoho_errors;
mod oauth_zoho_flow;
mod reader_input;
mod reader_limits;
mod render_cli;
mod render_outputs_read_back;
mod render_snapshots;
mod render_streaming;
mod schemas_are_fresh;
mod service_api;
mod service_cli;
mod service_connect_browser;
mod service_connect_page;
mod service_connections;
mod service_instances;
mod service_openapi;
mod service_operators;
mod service_proxy;
mod service_webhooks;
mod simulate_cli;
mod simulate_connection;
mod simulate_server;
mod token_requests;
mod validate_corpus;
mod zoho_data_centers;
mod zoho_family;

/// With `autotests = false` a file in tests/ that is not declared above is never compiled or
/// run, and nothing says so: this names it instead.
#[test]
fn every_file_in_tests_is_a_module_of_this_binary() {
    let declared = std::fs::read_to_string(support::repo_path("tests/tests.rs")).unwrap();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(support::repo_path("tests")).unwrap() {
        let path = entry.unwrap().path();
        let Some(stem) = path.file_stem().and_then(|stem| stem.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "rs")
            && stem != "tests"
            && !declared.lines().any(|line| line == format!("mod {stem};"))
        {
            missing.push(stem.to_owned());
        }
    }
    assert!(
        missing.is_empty(),
        "files in tests/ that tests/tests.rs does not declare (add `mod NAME;`): {missing:?}"
    );
}
