//! `provider-forge revoke`: revokes the refresh token (or, without one, the access token) of a
//! token file written by `connect`, then deletes the file: revoking the refresh token ends the
//! connection, so nothing in the file is worth keeping, and a file of dead tokens left at its
//! old place only invites a reader.

use super::CliError;
use super::oauth_common::{self, StoredConnectionArgs};
use super::token_file::StoredConnection;
use crate::oauth::{self, RevokedToken};

/// Arguments of `revoke`: a token file and what is needed to use it.
#[derive(Debug, clap::Args)]
pub(super) struct RevokeArgs {
    #[command(flatten)]
    stored: StoredConnectionArgs,
}

pub(super) fn run(args: RevokeArgs) -> Result<(), CliError> {
    let (provider, stored) = oauth_common::load_connection(&args.stored)?;
    let needs_secret = provider
        .token
        .as_ref()
        .and_then(|token| token.revoke.as_ref())
        .is_some_and(|r| r.client_auth);
    let credentials = if needs_secret {
        oauth_common::credentials(&provider, &stored.client_id, &args.stored.client)?
    } else {
        // The server authenticates nothing but the token (Zoho): no secret is read or sent.
        oauth::Credentials::per_data_center(stored.client_id.clone(), [])
    };
    let http = oauth_common::http_client(&args.stored.client, oauth::http::DEFAULT_TIMEOUT)?;
    let revoked = oauth_common::runtime()?
        .block_on(oauth::revoke(
            &http,
            &provider,
            &credentials,
            &stored.tokens,
        ))
        .map_err(CliError::failed)?;
    let which = match revoked {
        RevokedToken::Refresh => "refresh token",
        RevokedToken::Access => "access token",
    };
    let revoked = format!(
        "revoked the {which} of {} (data center {})",
        provider.display_name, stored.tokens.data_center
    );
    if let Err(error) = StoredConnection::remove(&args.stored.tokens) {
        return Err(CliError::usage(format!(
            "{revoked}, but could not delete the token file: {error}; delete it yourself"
        )));
    }
    oauth_common::print_lines(&[format!(
        "{revoked}; deleted {}",
        args.stored.tokens.display()
    )])
}
