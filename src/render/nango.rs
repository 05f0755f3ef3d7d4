//! The view of a resolved provider that the `nango` template prints: one entry of Nango's
//! `providers.yaml`.
//!
//! Nango builds URLs by interpolating `${connectionConfig.NAME}` into a string. A data center
//! whose accounts server is on another domain (Zoho Canada: `accounts.zohocloud.ca`, not
//! `accounts.zoho.ca`) cannot be reached by interpolating a domain extension into a fixed host,
//! so this view interpolates the whole origin instead: a connection-config field `issuer` whose
//! `enum` is exactly the issuer origins of the enabled data centers, and endpoint URLs of the
//! form `${connectionConfig.issuer}/path`. The path is split off the resolved URL (never
//! rebuilt), and the split is refused unless every data center's URL is exactly its issuer
//! followed by the same path, so substituting any allowed origin gives back that data center's
//! resolved URL.

use indexmap::IndexMap;
use serde::Serialize;

use crate::definition::types::TokenAuthMethod;
use crate::resolve::table::{ResolvedDataCenter, ResolvedProvider};

/// Connection-config field holding the chosen data center's issuer (accounts server) origin.
pub const ISSUER_FIELD: &str = "issuer";
/// Connection-config field holding the chosen API base URL (data center × environment).
pub const API_BASE_URL_FIELD: &str = "api_base_url";

/// One Nango provider entry, with URLs either literal (one data center) or interpolated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NangoEntry {
    /// The providers.yaml key: the provider id.
    pub key: String,
    /// `display_name`.
    pub display_name: String,
    /// `docs` (required by Nango's schema): the provider's docs URL, or empty.
    pub docs: String,
    /// `authorization_url`.
    pub authorization_url: String,
    /// `token_url`.
    pub token_url: String,
    /// `refresh_url`, only when it differs from the token URL.
    pub refresh_url: Option<String>,
    /// `scope_separator`, only when it is not Nango's default (a space).
    pub scope_separator: Option<String>,
    /// `default_scopes`.
    pub default_scopes: Vec<String>,
    /// `authorization_params`.
    pub authorization_params: IndexMap<String, String>,
    /// `token_request_auth_method` (`basic` for client_secret_basic; absent means form body).
    pub token_request_auth_method: Option<String>,
    /// `token_response_metadata`.
    pub token_response_metadata: Vec<String>,
    /// `redirect_uri_metadata`: the callback's location and issuer parameters.
    pub redirect_uri_metadata: Vec<String>,
    /// `proxy.base_url`, when the provider has an API section.
    pub proxy_base_url: Option<String>,
    /// `connection_config` fields the user fills in.
    pub connection_config: Vec<NangoField>,
}

/// A `connection_config` field with an enum of allowed values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NangoField {
    /// Field name, used as `${connectionConfig.KEY}`.
    pub key: String,
    /// `title`.
    pub title: String,
    /// `description`.
    pub description: String,
    /// `enum`: the only values allowed.
    pub values: Vec<String>,
}

/// Why a provider cannot be written as a Nango entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "provider `{provider}` cannot be written as a Nango entry: {reason}; Nango can only \
     interpolate one origin per URL, so every data center's {endpoint} must be its issuer \
     followed by the same path"
)]
pub struct NangoError {
    /// The provider id.
    pub provider: String,
    /// Which endpoint.
    pub endpoint: &'static str,
    /// What is wrong.
    pub reason: String,
}

/// Builds the Nango view of a resolved provider.
pub fn entry(provider: &ResolvedProvider) -> Result<NangoEntry, NangoError> {
    let dcs = &provider.data_centers;
    let endpoint = |name: &'static str, url: fn(&ResolvedDataCenter) -> &str| {
        under_issuer(provider, name, url)
    };
    let authorization_url = endpoint("authorization URL", |dc| &dc.authorization_url)?;
    let token_url = endpoint("token URL", |dc| &dc.token_url)?;
    let refresh_url = if dcs.iter().all(|dc| dc.refresh_url == dc.token_url) {
        None
    } else {
        Some(endpoint("refresh URL", |dc| &dc.refresh_url)?)
    };

    let mut connection_config = Vec::new();
    if dcs.len() > 1 {
        let listing: Vec<String> = dcs
            .iter()
            .map(|dc| format!("{} ({}): {}", dc.name, dc.code, dc.issuer))
            .collect();
        connection_config.push(NangoField {
            key: ISSUER_FIELD.to_owned(),
            title: "Data center".to_owned(),
            description: format!(
                "The accounts server of the data center your {} account is in. {}.",
                provider.display_name,
                listing.join("; ")
            ),
            values: dcs.iter().map(|dc| dc.issuer.clone()).collect(),
        });
    }
    let mut api_urls: Vec<String> = Vec::new();
    for dc in dcs {
        for url in dc.api_base_urls.values() {
            if !api_urls.contains(url) {
                api_urls.push(url.clone());
            }
        }
    }
    let proxy_base_url = match api_urls.len() {
        0 => None,
        1 => Some(api_urls[0].clone()),
        _ => {
            let environments: Vec<&str> = dcs.iter().flat_map(|dc| dc.api_base_urls.keys()).fold(
                Vec::new(),
                |mut names, name| {
                    if !names.contains(&name.as_str()) {
                        names.push(name.as_str());
                    }
                    names
                },
            );
            connection_config.push(NangoField {
                key: API_BASE_URL_FIELD.to_owned(),
                title: "API base URL".to_owned(),
                description: format!(
                    "The {} API base URL of your data center and environment ({}); it must be in \
                     the same data center as the accounts server.",
                    provider.display_name,
                    environments.join(", ")
                ),
                values: api_urls,
            });
            Some(interpolation(API_BASE_URL_FIELD))
        }
    };

    Ok(NangoEntry {
        key: provider.id.clone(),
        display_name: provider.display_name.clone(),
        docs: provider.docs_url.clone().unwrap_or_default(),
        authorization_url,
        token_url,
        refresh_url,
        scope_separator: (provider.authorization.scope_separator != " ")
            .then(|| provider.authorization.scope_separator.clone()),
        default_scopes: provider.default_scopes.clone(),
        authorization_params: provider.authorization.params.clone(),
        token_request_auth_method: match provider.token_auth_method {
            TokenAuthMethod::ClientSecretBasic => Some("basic".to_owned()),
            TokenAuthMethod::ClientSecretPost => None,
        },
        token_response_metadata: provider.token_response_metadata.clone(),
        redirect_uri_metadata: [
            &provider.callback.location_param,
            &provider.callback.issuer_param,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect(),
        proxy_base_url,
        connection_config,
    })
}

/// `${connectionConfig.FIELD}`, Nango's interpolation syntax.
fn interpolation(field: &str) -> String {
    format!("${{connectionConfig.{field}}}")
}

/// The endpoint as Nango writes it: the literal URL for a single data center, otherwise
/// `${connectionConfig.issuer}` followed by the path every data center shares.
fn under_issuer(
    provider: &ResolvedProvider,
    endpoint: &'static str,
    url: fn(&ResolvedDataCenter) -> &str,
) -> Result<String, NangoError> {
    let error = |reason: String| NangoError {
        provider: provider.id.clone(),
        endpoint,
        reason,
    };
    let dcs = &provider.data_centers;
    if dcs.len() == 1 {
        return Ok(url(&dcs[0]).to_owned());
    }
    let mut shared: Option<&str> = None;
    for dc in dcs {
        let path = url(dc).strip_prefix(dc.issuer.as_str()).ok_or_else(|| {
            error(format!(
                "the {endpoint} of data center `{}` ({}) is not under its issuer {}",
                dc.code,
                url(dc),
                dc.issuer
            ))
        })?;
        if !path.is_empty() && !path.starts_with('/') {
            return Err(error(format!(
                "the {endpoint} of data center `{}` ({}) is not under its issuer {}",
                dc.code,
                url(dc),
                dc.issuer
            )));
        }
        match shared {
            None => shared = Some(path),
            Some(first) if first == path => {}
            Some(first) => {
                return Err(error(format!(
                    "data center `{}` uses path `{path}` but `{}` uses `{first}`",
                    dc.code, dcs[0].code
                )));
            }
        }
    }
    Ok(format!(
        "{}{}",
        interpolation(ISSUER_FIELD),
        shared.unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn zoho_crm() -> ResolvedProvider {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("providers/zoho-crm.yaml");
        let catalog = crate::catalog::load(&[path]).expect("readable");
        assert!(catalog.is_valid(), "{:#?}", catalog.diagnostics);
        catalog.providers[0].resolved.clone()
    }

    #[test]
    fn substituting_each_allowed_origin_gives_that_data_centers_resolved_urls() {
        let provider = zoho_crm();
        let entry = entry(&provider).unwrap();
        let issuer = &entry.connection_config[0];
        assert_eq!(issuer.key, ISSUER_FIELD);
        for (dc, origin) in provider.data_centers.iter().zip(&issuer.values) {
            let substitute = |url: &str| url.replace("${connectionConfig.issuer}", origin);
            assert_eq!(substitute(&entry.authorization_url), dc.authorization_url);
            assert_eq!(substitute(&entry.token_url), dc.token_url);
        }
    }

    #[test]
    fn a_data_center_with_a_different_path_cannot_be_a_nango_entry() {
        let mut provider = zoho_crm();
        let ca = provider
            .data_centers
            .iter_mut()
            .find(|dc| dc.code == "ca")
            .unwrap();
        ca.token_url = format!("{}/oauth/v3/token", ca.issuer);
        let error = entry(&provider).unwrap_err();
        assert_eq!(error.endpoint, "token URL");
        assert!(error.reason.contains("`ca`"), "{}", error.reason);
    }

    #[test]
    fn a_url_outside_its_issuer_cannot_be_a_nango_entry() {
        let mut provider = zoho_crm();
        provider.data_centers[1].authorization_url =
            provider.data_centers[0].authorization_url.clone();
        let error = entry(&provider).unwrap_err();
        assert!(
            error.reason.contains("not under its issuer"),
            "{}",
            error.reason
        );
    }

    #[test]
    fn a_single_data_center_keeps_literal_urls_and_needs_no_connection_config() {
        let mut provider = zoho_crm();
        provider.data_centers.retain(|dc| dc.code == "ca");
        for dc in &mut provider.data_centers {
            dc.api_base_urls.retain(|name, _| name == "production");
        }
        let entry = entry(&provider).unwrap();
        assert_eq!(
            entry.token_url,
            "https://accounts.zohocloud.ca/oauth/v2/token"
        );
        assert_eq!(
            entry.proxy_base_url.as_deref(),
            Some("https://www.zohoapis.ca")
        );
        assert!(entry.connection_config.is_empty());
    }
}
