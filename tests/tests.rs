//! The integration tests, built as one binary: each module below is one file of `tests/`
//! about one part of the tool, driving the library's public API or the built
//! `provider-forge` binary; `support` holds what they share. One binary links the dependency
//! graph once, where a binary per file linked it once per file.
//!
//! The modules run on parallel threads of one process, so none may change process-wide state
//! (environment, current directory, umask, signal handlers): a child process gets its
//! environment and directory through its `Command`.

mod support;

mod cli_oauth;
mod cli_validate;
mod connection_values;
mod dc_value_diagnostics;
mod diagnostic_rendering;
mod diagnostic_spans;
mod family_diagnostics;
mod harden_cli;
mod harden_corpus;
mod harden_definitions;
mod harden_fuzz;
mod harden_oauth;
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
mod render_snapshots;
mod render_streaming;
mod schemas_are_fresh;
mod service_api;
mod service_cli;
mod service_instances;
mod simulate_cli;
mod simulate_connection;
mod simulate_server;
mod token_requests;
mod validate_corpus;
mod zoho_data_centers;
mod zoho_family;
