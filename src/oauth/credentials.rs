//! The OAuth client's credentials and how they are presented to an endpoint.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{AUTHORIZATION, HeaderValue};

use super::error::OAuthError;
use super::secret::ClientSecret;
use crate::definition::types::TokenAuthMethod;
use crate::resolve::table::ResolvedDataCenter;

/// Key of the secret shared by every data center (`client_secret_key` in the resolved table).
pub(crate) const SHARED_SECRET_KEY: &str = "shared";

/// A client id with its secret(s): one shared secret, or one per data center, looked up by the
/// data center's `client_secret_key` from the resolved table. A provider whose data centers are
/// separate app registrations (`client_id_key` in the table) also has a client id per DC.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The client id shared by every data center.
    pub client_id: String,
    secrets: BTreeMap<String, ClientSecret>,
    client_ids: BTreeMap<String, String>,
}

impl Credentials {
    /// Credentials with one secret for every data center.
    pub fn shared(client_id: impl Into<String>, secret: ClientSecret) -> Self {
        Self {
            client_id: client_id.into(),
            secrets: BTreeMap::from([(SHARED_SECRET_KEY.to_owned(), secret)]),
            client_ids: BTreeMap::new(),
        }
    }

    /// Credentials with a secret per data center code.
    pub fn per_data_center(
        client_id: impl Into<String>,
        secrets: impl IntoIterator<Item = (String, ClientSecret)>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            secrets: secrets.into_iter().collect(),
            client_ids: BTreeMap::new(),
        }
    }

    /// Adds the client id of one data center, for providers whose data centers are separate
    /// app registrations.
    pub fn with_client_id_for(
        mut self,
        client_id_key: impl Into<String>,
        client_id: impl Into<String>,
    ) -> Self {
        self.client_ids
            .insert(client_id_key.into(), client_id.into());
        self
    }

    /// The client id to present to `dc`'s endpoints: its own when the table gives the DC a
    /// `client_id_key`, else the shared one.
    pub fn client_id_for(&self, dc: &ResolvedDataCenter) -> Result<&str, OAuthError> {
        match &dc.client_id_key {
            None => Ok(&self.client_id),
            Some(key) => self.client_ids.get(key).map(String::as_str).ok_or_else(|| {
                OAuthError::MissingClientId {
                    key: key.clone(),
                    data_center: dc.code.clone(),
                }
            }),
        }
    }

    /// The secret to present to `dc`'s endpoints.
    pub fn secret_for(&self, dc: &ResolvedDataCenter) -> Result<&ClientSecret, OAuthError> {
        self.secrets
            .get(&dc.client_secret_key)
            .ok_or_else(|| OAuthError::MissingClientSecret {
                key: dc.client_secret_key.clone(),
                data_center: dc.code.clone(),
            })
    }
}

/// Adds client authentication to a request: form fields for `client_secret_post`, an HTTP
/// Basic header (RFC 6749 2.3.1: id and secret form-encoded first) for `client_secret_basic`.
pub(crate) fn authenticate(
    request: reqwest::RequestBuilder,
    form: &mut Vec<(&'static str, String)>,
    method: TokenAuthMethod,
    client_id: &str,
    secret: &ClientSecret,
) -> reqwest::RequestBuilder {
    match method {
        TokenAuthMethod::ClientSecretPost => {
            form.push(("client_id", client_id.to_owned()));
            form.push(("client_secret", secret.expose().to_owned()));
            request
        }
        TokenAuthMethod::ClientSecretBasic => {
            let encode =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let pair = format!("{}:{}", encode(client_id), encode(secret.expose()));
            let mut value = HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(pair)))
                .expect("base64 is a valid header value");
            value.set_sensitive(true);
            request.header(AUTHORIZATION, value)
        }
    }
}
