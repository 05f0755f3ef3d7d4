//! `provider-forge refresh`: refreshes the access token of a token file written by `connect`
//! and rewrites the file atomically (still mode 0600).

use std::path::PathBuf;

use super::EXIT_OK;
use super::oauth_common::{self, ClientArgs, ConnectionArgs, Reported, failed, usage};
use crate::oauth::{self, RetryPolicy, StoredConnection};

/// Arguments of `refresh`.
#[derive(Debug, clap::Args)]
pub struct RefreshArgs {
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

pub fn run(args: RefreshArgs) -> u8 {
    match refresh(args) {
        Ok(()) => EXIT_OK,
        Err(Reported(code)) => code,
    }
}

fn refresh(args: RefreshArgs) -> Result<(), Reported> {
    let (provider, stored) =
        oauth_common::load_connection(&args.provider, &args.tokens, &args.connection)?;
    let credentials = oauth_common::credentials(&provider, &stored.client_id, &args.client)?;
    let http = oauth_common::http_client(&args.client, oauth::http::DEFAULT_TIMEOUT)?;
    let tokens = oauth_common::runtime()?
        .block_on(oauth::refresh_tokens(
            &http,
            &provider,
            &credentials,
            &stored.tokens,
            &RetryPolicy::default(),
        ))
        .map_err(failed)?;
    let stored = StoredConnection { tokens, ..stored };
    stored.write(&args.tokens).map_err(usage)?;
    oauth_common::print_lines(&[
        format!(
            "refreshed: {}",
            oauth_common::summary(&provider, &stored.tokens)
        ),
        format!("  tokens written to {} (mode 0600)", args.tokens.display()),
    ])
}
