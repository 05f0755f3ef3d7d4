//! `provider-forge refresh`: refreshes the access token of a token file written by `connect`
//! and rewrites the file atomically (still mode 0600).

use super::EXIT_OK;
use super::oauth_common::{self, Reported, StoredConnectionArgs, failed, usage};
use super::token_file::StoredConnection;
use crate::oauth::{self, RetryPolicy};

/// Arguments of `refresh`: a token file and what is needed to use it.
#[derive(Debug, clap::Args)]
pub struct RefreshArgs {
    #[command(flatten)]
    stored: StoredConnectionArgs,
}

pub fn run(args: RefreshArgs) -> u8 {
    match refresh(args) {
        Ok(()) => EXIT_OK,
        Err(Reported(code)) => code,
    }
}

fn refresh(args: RefreshArgs) -> Result<(), Reported> {
    let (provider, stored) = oauth_common::load_connection(&args.stored)?;
    let credentials = oauth_common::credentials(&provider, &stored.client_id, &args.stored.client)?;
    let http = oauth_common::http_client(&args.stored.client, oauth::http::DEFAULT_TIMEOUT)?;
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
    stored.write(&args.stored.tokens).map_err(usage)?;
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
