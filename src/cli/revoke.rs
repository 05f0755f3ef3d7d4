//! `provider-forge revoke`: revokes the refresh token (or, without one, the access token) of a
//! token file written by `connect`. The file is left in place; delete it yourself.

use std::path::PathBuf;

use super::EXIT_OK;
use super::oauth_common::{self, ClientArgs, ConnectionArgs, Reported, failed};
use crate::oauth::{self, RevokedToken};

/// Arguments of `revoke`.
#[derive(Debug, clap::Args)]
pub struct Args {
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

pub fn run(args: Args) -> u8 {
    match revoke(args) {
        Ok(()) => EXIT_OK,
        Err(Reported(code)) => code,
    }
}

fn revoke(args: Args) -> Result<(), Reported> {
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
    println!(
        "revoked the {which} of {} (data center {}); {} still holds the dead tokens: delete it",
        provider.display_name,
        stored.tokens.data_center,
        args.tokens.display()
    );
    Ok(())
}
