//! The redirect back from the provider: parse it, then check it against the pending request
//! and the resolved table before anything is sent anywhere.
//!
//! The order of the checks matters: `state` first (a forged callback learns nothing), then the
//! provider's `error`, then the data center from `location`, then the issuer parameter, which
//! must be exactly that data center's authorization server. Only a callback that passes all of
//! them yields a [`VerifiedCallback`], the one input the token exchange accepts.

use indexmap::IndexMap;
use url::Url;

use super::authorize::{PendingAuthorization, select_data_center};
use super::error::OAuthError;
use super::secret::{AuthorizationCode, constant_time_eq};
use crate::definition::types::RuntimeSource;
use crate::resolve::connection;
use crate::resolve::table::{ResolvedDataCenter, ResolvedProvider};

/// The parameters of a callback, as received (nothing checked yet).
#[derive(Debug, Clone, Default)]
pub struct CallbackParams {
    /// The authorization code.
    pub code: Option<AuthorizationCode>,
    /// The `state` echoed back.
    pub state: Option<String>,
    /// The data-center location (Zoho: `location`), when the provider sends one.
    pub location: Option<String>,
    /// The issuer parameter (Zoho: `accounts-server`; RFC 9207: `iss`).
    pub issuer: Option<String>,
    /// The `error` code, when authorization failed.
    pub error: Option<String>,
    /// The `error_description`, if any.
    pub error_description: Option<String>,
    /// Values of the provider's runtime values learnt from the callback
    /// (`connection.runtime` with `from: callback`), by name.
    pub runtime: IndexMap<String, String>,
}

/// A callback that passed every check: the code and the data center it must be redeemed at.
#[derive(Debug, Clone)]
pub struct VerifiedCallback {
    /// The authorization code.
    pub code: AuthorizationCode,
    /// The user's data center, from the resolved table (with the callback's runtime values
    /// filled in).
    pub data_center: ResolvedDataCenter,
    /// The provider's runtime values the callback carried, checked against their
    /// declarations; the token exchange fills them into its request.
    pub runtime: IndexMap<String, String>,
}

/// Parses a callback given as a full URL (`https://app/cb?code=...`), a query string with or
/// without its leading `?`, or surrounding whitespace (as pasted by a user).
pub fn parse_callback(
    provider: &ResolvedProvider,
    input: &str,
) -> Result<CallbackParams, OAuthError> {
    let input = input.trim();
    let query = if input.contains("://") {
        let url = Url::parse(input)
            .map_err(|e| OAuthError::InvalidCallback(format!("not a valid URL ({e})")))?;
        url.query().unwrap_or_default().to_owned()
    } else {
        input.trim_start_matches('?').to_owned()
    };
    let callback = provider.require(provider.callback.as_ref(), "callback")?;
    let mut params = CallbackParams::default();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let value = value.into_owned();
        let name = name.as_ref();
        match name {
            "code" => params.code = Some(AuthorizationCode::new(value)),
            "state" => params.state = Some(value),
            "error" => params.error = Some(value),
            "error_description" => params.error_description = Some(value),
            _ if callback.location_param.as_deref() == Some(name) => params.location = Some(value),
            _ if callback.issuer_param.as_deref() == Some(name) => params.issuer = Some(value),
            _ if from_callback(provider).any(|declared| declared == name) => {
                params.runtime.insert(name.to_owned(), value);
            }
            _ => {}
        }
    }
    Ok(params)
}

/// Checks a parsed callback against the pending request and the resolved table.
pub fn verify_callback(
    provider: &ResolvedProvider,
    pending: &PendingAuthorization,
    params: CallbackParams,
) -> Result<VerifiedCallback, OAuthError> {
    let state_matches = params
        .state
        .as_deref()
        .is_some_and(|state| constant_time_eq(state, &pending.state));
    if !state_matches {
        return Err(OAuthError::StateMismatch);
    }
    if let Some(error) = params.error {
        return Err(match error.as_str() {
            "access_denied" => OAuthError::UserDenied {
                description: params.error_description,
            },
            _ => OAuthError::AuthorizationFailed {
                error,
                description: params.error_description,
            },
        });
    }
    let data_center = match &params.location {
        Some(location) => provider.data_center_by_location(location).ok_or_else(|| {
            OAuthError::UnknownLocation {
                location: location.clone(),
                enabled: provider
                    .data_centers
                    .iter()
                    .map(|dc| match &dc.location {
                        Some(location) => format!("{} ({location})", dc.code),
                        None => dc.code.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })?,
        None => select_data_center(provider, Some(&pending.data_center))?,
    };
    let callback = provider.require(provider.callback.as_ref(), "callback")?;
    if let (Some(received), Some(param)) = (&params.issuer, &callback.issuer_param) {
        let expected = &provider
            .require(data_center.authorization.as_ref(), "issuer")?
            .issuer;
        if received != expected {
            return Err(OAuthError::IssuerMismatch {
                param: param.clone(),
                received: received.clone(),
                data_center: data_center.code.clone(),
                expected: expected.clone(),
            });
        }
    }
    let code = params
        .code
        .ok_or_else(|| OAuthError::InvalidCallback("no `code` parameter".into()))?;
    // Runtime values from the callback are checked here, before anything is sent with them.
    let mut data_center = data_center.clone();
    if let Some(missing) = from_callback(provider).find(|name| !params.runtime.contains_key(*name))
    {
        return Err(OAuthError::InvalidCallback(format!(
            "no `{missing}` parameter, which the provider declares as coming from the callback"
        )));
    }
    if !params.runtime.is_empty() {
        let filled = connection::fill(provider, &params.runtime)
            .map_err(|error| OAuthError::InvalidCallback(error.to_string()))?;
        if let Some(dc) = filled.data_center(&data_center.code) {
            data_center = dc.clone();
        }
    }
    Ok(VerifiedCallback {
        code,
        data_center,
        runtime: params.runtime,
    })
}

/// Names of the provider's runtime values that come from the callback.
fn from_callback(provider: &ResolvedProvider) -> impl Iterator<Item = &str> {
    provider
        .connection
        .runtime
        .iter()
        .filter(|(_, input)| input.declared.from == RuntimeSource::Callback)
        .map(|(name, _)| name.as_str())
}
