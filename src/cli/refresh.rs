//! `provider-forge refresh`: renews the access token of a token file written by `connect`
//! (the refresh grant; a new client-credentials token; a token request's refresh, or the
//! request again) and rewrites the file atomically (still mode 0600).

use super::CliError;
use super::oauth_common::{self, StoredConnectionArgs, engine_error};
use super::token_file::StoredConnection;
use crate::definition::types::AuthMode;
use crate::oauth::{self, renew::renew};
use crate::resolve::connection::ConnectionValues;

/// Arguments of `refresh`: a token file and what is needed to use it.
#[derive(Debug, clap::Args)]
pub(super) struct RefreshArgs {
    #[command(flatten)]
    stored: StoredConnectionArgs,
}

pub(super) fn run(args: RefreshArgs) -> Result<(), CliError> {
    let (provider, stored) = oauth_common::load_connection(&args.stored)?;
    // A token request has no client: its stored credentials renew the token.
    let client = match provider.auth_mode {
        AuthMode::TokenRequest => None,
        _ => Some(oauth_common::credentials(
            &provider,
            &stored.client_id,
            &args.stored.client,
        )?),
    };
    let http = oauth_common::http_client(&args.stored.client, oauth::http::DEFAULT_TIMEOUT)?;
    // The table is filled with the connection's values already.
    let tokens = oauth_common::runtime()?
        .block_on(renew(
            &http,
            &provider,
            client.as_ref(),
            &ConnectionValues::new(),
            &stored.credentials.values(),
            &stored.tokens,
        ))
        .map_err(engine_error)?;
    let stored = StoredConnection { tokens, ..stored };
    stored.write(&args.stored.tokens).map_err(CliError::usage)?;
    oauth_common::print_lines(&[
        format!(
            "refreshed: {}",
            oauth_common::summary(&provider, &stored.tokens)
        ),
        format!(
            "  tokens written to {} (mode 0600)",
            args.stored.tokens.display()
        ),
    ])
}
