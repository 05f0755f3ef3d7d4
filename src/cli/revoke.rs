//! `provider-forge revoke`: revokes the refresh token (or, without one, the access token) of a
//! token file written by `connect`, then deletes the file: revoking the refresh token ends the
//! connection, so nothing in the file is worth keeping, and a file of dead tokens left at its
//! old place only invites a reader.

use std::path::PathBuf;

use super::EXIT_OK;
use super::oauth_common::{self, ClientArgs, ConnectionArgs, Reported, failed};
use crate::oauth::{self, RevokedToken, StoredConnection};

/// Arguments of `revoke`.
#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// The provider definition file the tokens were obtained with.
    #[arg(value_name = "PROVIDER.yaml")]
    provider: PathBuf,
    /// The token file written by `connect`.
    #[arg(long, value_name = "FILE")]
    tokens: PathBuf,
    #[command(flatten)]
    connection: ConnectionArgs,
    #[command(flatten)]
    client: ClientArgs,
}

pub fn run(args: RevokeArgs) -> u8 {
    match revoke(args) {
        Ok(()) => EXIT_OK,
        Err(Reported(code)) => code,
    }
}

fn revoke(args: RevokeArgs) -> Result<(), Reported> {
    let (provider, stored) =
        oauth_common::load_connection(&args.provider, &args.tokens, &args.connection)?;
    let needs_secret = provider.revoke.as_ref().is_some_and(|r| r.client_auth);
    let credentials = if needs_secret {
        oauth_common::credentials(&provider, &stored.client_id, &args.client)?
    } else {
        // The server authenticates nothing but the token (Zoho): no secret is read or sent.
        oauth::Credentials::per_data_center(stored.client_id.clone(), [])
    };
    let http = oauth_common::http_client(&args.client, oauth::http::DEFAULT_TIMEOUT)?;
    let revoked = oauth_common::runtime()?
        .block_on(oauth::revoke(
            &http,
            &provider,
            &credentials,
            &stored.tokens,
        ))
        .map_err(failed)?;
    let which = match revoked {
        RevokedToken::Refresh => "refresh token",
        RevokedToken::Access => "access token",
    };
    let revoked = format!(
        "revoked the {which} of {} (data center {})",
        provider.display_name, stored.tokens.data_center
    );
    if let Err(error) = StoredConnection::remove(&args.tokens) {
        return Err(oauth_common::usage(format!(
            "{revoked}, but could not delete the token file: {error}; delete it yourself"
        )));
    }
    oauth_common::print_lines(&[format!("{revoked}; deleted {}", args.tokens.display())])
}
