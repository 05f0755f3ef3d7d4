//! `connect` for the modes without a browser: `client_credentials` obtains a token with the
//! client's id and secret; `api_key` and `basic` take the user's credentials; `token_request`
//! trades them for a token. Each runs the definition's verification (`api.verify`) before
//! anything is written, so wrong credentials end with exit 1, the provider's answer summarised
//! without secrets, and no file. The file is the 0600 token file `connect` always writes
//! (tokens, or credentials only for `api_key` and `basic`); stdout never shows a secret.

use super::CliError;
use super::connect::ConnectArgs;
use super::credential_input;
use super::oauth_common::{self, engine_error};
use super::token_file::{
    ConnectionFile, CredentialConnection, PendingTokenFile, StoredConnection, StoredCredentials,
};
use crate::definition::types::AuthMode;
use crate::oauth::authorize::select_data_center;
use crate::oauth::{self, TokenSet, client_credentials, token_request};
use crate::resolve::connection::{fill_api_request, fill_token_request, fill_verify_request};
use crate::resolve::table::ResolvedProvider;

/// Connects to `provider`, whose mode is not `oauth2_code`.
pub(super) fn connect(args: &ConnectArgs, provider: &ResolvedProvider) -> Result<(), CliError> {
    let values = args.connection.values()?;
    let dc = select_data_center(provider, args.data_center.as_deref())
        .map_err(CliError::usage)?
        .code
        .clone();
    let mode = provider.auth_mode;
    let client = match mode {
        AuthMode::ClientCredentials => {
            let id = oauth_common::client_id(&args.client_id, provider)?;
            Some(oauth_common::credentials(provider, &id, &args.client)?)
        }
        _ => None,
    };
    let credentials = match mode {
        AuthMode::ApiKey | AuthMode::Basic | AuthMode::TokenRequest => credential_input::read(
            provider.credentials.keys().map(String::as_str),
            &args.credentials,
        )?,
        _ => StoredCredentials::default(),
    };
    let filled_credentials = credentials.values();
    // Every value checked against its declaration before anything is sent.
    if provider.api_auth.is_some() {
        let token = mode.has_token().then_some("not-yet-known");
        fill_api_request(provider, &dc, None, &values, &filled_credentials, token)
            .map_err(CliError::usage)?;
    }
    if mode.has_token() {
        fill_token_request(provider, &dc, &values, &filled_credentials, false)
            .map_err(CliError::usage)?;
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from(format!("{}.tokens.json", provider.id)));
    let file =
        PendingTokenFile::create(&out).map_err(|e| CliError::usage(format!("--out: {e}")))?;
    let http = oauth_common::http_client(&args.client, oauth::http::DEFAULT_TIMEOUT)?;

    oauth_common::runtime()?.block_on(async {
        let tokens: Option<TokenSet> = match mode {
            AuthMode::ClientCredentials => Some(
                client_credentials::obtain(
                    &http,
                    provider,
                    client.as_ref().expect("read above"),
                    Some(&dc),
                    &values,
                    &args.scopes,
                )
                .await
                .map_err(engine_error)?,
            ),
            AuthMode::TokenRequest => Some(
                token_request::obtain(&http, provider, Some(&dc), &values, &filled_credentials)
                    .await
                    .map_err(engine_error)?,
            ),
            _ => None,
        };
        let access_token = tokens.as_ref().map(|t| t.access_token.expose());
        let verification = fill_verify_request(
            provider,
            &dc,
            None,
            &values,
            &filled_credentials,
            access_token,
        )
        .map_err(CliError::usage)?;
        let verified = match &verification {
            Some(call) => {
                let secrets: Vec<&str> = credentials
                    .0
                    .values()
                    .map(|value| value.expose())
                    .chain(access_token)
                    .collect();
                oauth::api::verify(&http, call, &secrets)
                    .await
                    .map_err(engine_error)?;
                format!("verified at {}", call.urls.join(", "))
            }
            None => "not verified: the definition has no api.verify".to_owned(),
        };
        let names: Vec<String> = credentials.0.keys().cloned().collect();
        let connection = match tokens {
            Some(tokens) => ConnectionFile::Tokens(Box::new(StoredConnection {
                provider: provider.id.clone(),
                client_id: args.client_id.clone().unwrap_or_default(),
                tokens,
                credentials,
            })),
            None => ConnectionFile::Credentials(CredentialConnection {
                provider: provider.id.clone(),
                auth_mode: mode,
                data_center: dc.clone(),
                credentials,
            }),
        };
        file.commit_file(&connection).map_err(CliError::usage)?;
        let mut lines = vec![format!(
            "connected: {} ({}), data center {dc}; {verified}",
            provider.display_name,
            mode.as_str()
        )];
        if let ConnectionFile::Tokens(stored) = &connection {
            lines.push(format!(
                "  {}",
                oauth_common::summary(provider, &stored.tokens).replace('\n', "\n  ")
            ));
        }
        if !names.is_empty() {
            lines.push(format!("  credentials kept: {}", names.join(", ")));
        }
        lines.push(format!("  written to {} (mode 0600)", out.display()));
        oauth_common::print_lines(&lines)
    })
}
