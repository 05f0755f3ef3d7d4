//! The authorization request: the URL the user's browser opens, plus what must be remembered
//! until the callback (state, PKCE verifier, redirect URI).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use super::error::OAuthError;
use super::secret::PkceVerifier;
use crate::resolve::table::{ResolvedDataCenter, ResolvedProvider};

/// Bytes of randomness in `state` (256 bits; RFC 6749 asks for an unguessable value).
const STATE_BYTES: usize = 32;
/// Bytes of randomness in a PKCE verifier (43 characters once encoded, RFC 7636's minimum).
const VERIFIER_BYTES: usize = 32;

/// What the caller chooses for one authorization request.
#[derive(Debug, Clone, Default)]
pub struct AuthorizationOptions {
    /// The user's data center when known: the request goes straight to that DC's
    /// authorization endpoint. `None`: the request starts at the default DC's entry endpoint
    /// (for Zoho multi-DC, the global accounts server, which sends the user on to their DC;
    /// the callback's location then says which DC that was).
    pub data_center: Option<String>,
    /// Scopes to request; empty means the provider's default scopes.
    pub scopes: Vec<String>,
    /// Redirect URI; `None` means the provider's default.
    pub redirect_uri: Option<String>,
}

/// An authorization request in flight: the URL to open and what the callback is checked
/// against. Keep it (in memory or a server-side session) until the callback arrives; it is
/// serde-serialisable so a service can store it (the PKCE verifier in it is a secret: store
/// it encrypted or server-side only, never in a cookie).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAuthorization {
    /// The URL the user's browser must open.
    pub url: Url,
    /// The random `state` sent with the request.
    pub state: String,
    /// The PKCE verifier, when the provider uses PKCE.
    pub pkce_verifier: Option<PkceVerifier>,
    /// The redirect URI sent (the exchange must repeat it exactly).
    pub redirect_uri: String,
    /// The data center the request started from (the fallback when the callback names none).
    pub data_center: String,
    /// The scopes requested.
    pub scopes: Vec<String>,
}

/// Builds the authorization request for `client_id` from the resolved table.
pub fn authorization_request(
    provider: &ResolvedProvider,
    client_id: &str,
    options: &AuthorizationOptions,
) -> Result<PendingAuthorization, OAuthError> {
    if !provider.connection.params.is_empty() {
        return Err(OAuthError::UnfilledConnection {
            provider: provider.id.clone(),
            names: provider
                .connection
                .params
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let dc = select_data_center(provider, options.data_center.as_deref())?;
    let endpoints = provider.require(dc.authorization.as_ref(), "authorization endpoint")?;
    let request = provider.require(provider.authorization.as_ref(), "authorization request")?;
    let callback = provider.require(provider.callback.as_ref(), "callback")?;
    let scopes = checked_scopes(provider, &options.scopes)?;
    let sent: Vec<&str> = scopes
        .iter()
        .map(|name| {
            dc.scope_names
                .get(name)
                .map_or(name.as_str(), String::as_str)
        })
        .collect();
    let redirect_uri = options
        .redirect_uri
        .clone()
        .unwrap_or_else(|| callback.redirect_uri.clone());
    Url::parse(&redirect_uri).map_err(|e| OAuthError::InvalidRedirectUri {
        uri: redirect_uri.clone(),
        reason: e.to_string(),
    })?;
    let start = match options.data_center {
        Some(_) => &endpoints.authorization_url,
        None => &endpoints.entry_authorization_url,
    };
    let mut url = parse_endpoint(start)?;
    let state = random_token(STATE_BYTES);
    let pkce_verifier = request
        .pkce
        .then(|| PkceVerifier::new(random_token(VERIFIER_BYTES)));
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", &redirect_uri);
        if !scopes.is_empty() {
            query.append_pair("scope", &sent.join(&request.scope_separator));
        }
        query.append_pair("state", &state);
        if let Some(verifier) = &pkce_verifier {
            query
                .append_pair("code_challenge", &pkce_challenge(verifier))
                .append_pair("code_challenge_method", "S256");
        }
        for (name, value) in &request.params {
            query.append_pair(name, value);
        }
    }
    Ok(PendingAuthorization {
        url,
        state,
        pkce_verifier,
        redirect_uri,
        data_center: dc.code.clone(),
        scopes,
    })
}

/// The S256 code challenge of a verifier: BASE64URL(SHA256(verifier)), no padding.
pub(crate) fn pkce_challenge(verifier: &PkceVerifier) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.expose().as_bytes()))
}

/// The named data center, or the default one; an unknown code lists the enabled ones.
pub(crate) fn select_data_center<'a>(
    provider: &'a ResolvedProvider,
    code: Option<&str>,
) -> Result<&'a ResolvedDataCenter, OAuthError> {
    let code = code.unwrap_or(&provider.default_data_center);
    provider
        .data_center(code)
        .ok_or_else(|| OAuthError::UnknownDataCenter {
            code: code.to_owned(),
            enabled: provider.data_center_codes().join(", "),
        })
}

/// The requested scopes (or the defaults), each checked against the catalog.
pub(crate) fn checked_scopes(
    provider: &ResolvedProvider,
    requested: &[String],
) -> Result<Vec<String>, OAuthError> {
    let scopes = if requested.is_empty() {
        provider.default_scopes.clone()
    } else {
        requested.to_vec()
    };
    if let Some(unknown) = scopes.iter().find(|s| !provider.has_scope(s)) {
        return Err(OAuthError::UnknownScope {
            scope: unknown.clone(),
            provider: provider.id.clone(),
            known: provider
                .scopes
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(scopes)
}

/// Parses a URL from the resolved table.
pub(crate) fn parse_endpoint(url: &str) -> Result<Url, OAuthError> {
    Url::parse(url).map_err(|e| OAuthError::InvalidEndpoint {
        url: url.to_owned(),
        reason: e.to_string(),
    })
}

/// `bytes` bytes from the thread-local CSPRNG (ChaCha, seeded from the OS), URL-safe encoded.
pub(crate) fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_matches_rfc_7636_appendix_b() {
        let verifier = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            pkce_challenge(&verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn a_pending_authorization_survives_a_json_round_trip() {
        let pending = PendingAuthorization {
            url: Url::parse("https://accounts.example/auth?state=s").unwrap(),
            state: "s".into(),
            pkce_verifier: Some(PkceVerifier::new("v")),
            redirect_uri: "https://app.example/cb".into(),
            data_center: "eu".into(),
            scopes: vec!["a".into()],
        };
        let json = serde_json::to_string(&pending).unwrap();
        let back: PendingAuthorization = serde_json::from_str(&json).unwrap();
        assert_eq!(back, pending);
        assert!(!format!("{back:?}").contains("\"v\""));
    }

    #[test]
    fn random_tokens_carry_at_least_128_bits() {
        let a = random_token(STATE_BYTES);
        let b = random_token(STATE_BYTES);
        assert_ne!(a, b);
        assert!(URL_SAFE_NO_PAD.decode(&a).unwrap().len() * 8 >= 128);
    }
}
