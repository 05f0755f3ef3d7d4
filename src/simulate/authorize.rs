//! The authorization endpoint, as the definition describes it: the request is checked (client
//! id, registered redirect URI, `response_type`, `state`, scopes against the catalog, PKCE when
//! the definition uses it, the definition's extra parameters); a multi-DC provider's entry
//! server sends a user of another DC on to that DC's authorization URL, as Zoho does; then the
//! simulated user consents (or not) and is redirected with a code, `state`, and the DC's
//! callback parameters (location and issuer).
//!
//! Errors about the client or the redirect URI are shown as a page and never redirected
//! (RFC 6749 4.1.2.1: the redirect URI cannot be trusted); every other error is redirected.

use hyper::StatusCode;

use super::Shared;
use super::routes::{Endpoint, RouteTarget};
use super::server::{Answer, Received, redirect, text, with_query};
use super::state::{CodeGrant, Consent, ServerState, find};
use crate::resolve::table::{ResolvedDataCenter, ResolvedProvider};

pub(crate) fn authorize(
    shared: &Shared,
    state: &mut ServerState,
    request: &Received,
    targets: &[RouteTarget],
) -> Answer {
    let query = &request.query;
    let refuse = |problem: &str| {
        Answer::new(
            text(StatusCode::BAD_REQUEST, problem),
            format!("refused: {problem}"),
        )
    };
    let candidates: Vec<&RouteTarget> = targets
        .iter()
        .filter(|t| t.endpoint == Endpoint::Authorize)
        .collect();
    // The client must be known here before anything is redirected to it; which of the
    // data centers at this host it was registered for is checked once the DC is known.
    let client_id = find(query, "client_id");
    if !candidates
        .iter()
        .any(|t| client_id == registered_client_id(shared, t.provider, t.dc))
    {
        return refuse("unknown client_id");
    }
    let Some(redirect_uri) = find(query, "redirect_uri") else {
        return refuse("no redirect_uri");
    };
    if !shared.redirect_uris.iter().any(|r| r == redirect_uri) {
        return refuse("redirect_uri not registered for this client");
    }
    let Some(client_state) = find(query, "state").filter(|s| !s.is_empty()) else {
        return refuse("no state (the client must protect its callback against CSRF)");
    };
    let scope = find(query, "scope").unwrap_or_default();
    // Providers sharing this server: the one whose catalog has every requested scope, under
    // the names this data center gives them.
    let chosen = candidates.iter().find(|t| {
        let provider = &shared.providers[t.provider];
        let dc = &provider.data_centers[t.dc];
        scopes(provider, scope).all(|s| known_scope(provider, dc, s))
    });
    let first = candidates[0];
    let Some(target) = chosen else {
        let provider = &shared.providers[first.provider];
        let dc = &provider.data_centers[first.dc];
        let unknown: Vec<&str> = scopes(provider, scope)
            .filter(|s| !known_scope(provider, dc, s))
            .collect();
        let description = format!("unknown scope {}", unknown.join(", "));
        return error_redirect(
            provider,
            dc,
            redirect_uri,
            client_state,
            "invalid_scope",
            &description,
        );
    };
    let provider = &shared.providers[target.provider];
    // Several DCs of one provider may share an authorization host: prefer the user's.
    let user = user_data_center(provider, state.user_data_center.as_deref());
    let here = candidates
        .iter()
        .filter(|t| t.provider == target.provider)
        .map(|t| &provider.data_centers[t.dc])
        .find(|dc| dc.code == user.code)
        .unwrap_or(&provider.data_centers[target.dc]);

    let fail = |error: &str, description: &str| {
        error_redirect(
            provider,
            here,
            redirect_uri,
            client_state,
            error,
            description,
        )
    };
    if client_id != registered_client_id(shared, target.provider, here_index(provider, here)) {
        return refuse("client_id not registered for this data center");
    }
    if find(query, "response_type") != Some("code") {
        return fail("unsupported_response_type", "response_type must be code");
    }
    let Some(request_spec) = provider.authorization.as_ref() else {
        return refuse("this provider has no authorization endpoint");
    };
    let challenge = find(query, "code_challenge");
    if request_spec.pkce
        && (challenge.is_none() || find(query, "code_challenge_method") != Some("S256"))
    {
        return fail(
            "invalid_request",
            "this provider requires a PKCE S256 code_challenge",
        );
    }
    for (name, value) in &request_spec.params {
        if find(query, name) != Some(value.as_str()) {
            return fail("invalid_request", &format!("expected {name}={value}"));
        }
    }

    if provider.multi_dc && here.code != user.code {
        // The entry server sends the user on to their own DC, with the same request.
        let user_url = user
            .authorization
            .as_ref()
            .map(|a| a.authorization_url.as_str());
        let mut next = match user_url.map(url::Url::parse) {
            Some(Ok(url)) => url,
            _ => return refuse("the user's data center has no valid authorization URL"),
        };
        next.set_query(request_query(request).as_deref());
        return Answer::new(
            redirect(next.as_str()),
            format!("sent on to data center {}", user.code),
        );
    }

    if state.consent == Consent::Deny {
        return fail("access_denied", "");
    }
    let code = state.issue("sim-code");
    let issued_at = state.clock.now();
    state.codes.insert(
        code.clone(),
        CodeGrant {
            provider: target.provider,
            dc: here_index(provider, here),
            redirect_uri: redirect_uri.to_owned(),
            scope: scope.to_owned(),
            challenge: if request_spec.pkce {
                challenge.map(str::to_owned)
            } else {
                None
            },
            issued_at,
            used: false,
        },
    );
    let mut pairs = vec![("code", code.as_str()), ("state", client_state)];
    pairs.extend(callback_params(provider, here));
    let served = &shared.served[target.provider][here_index(provider, here)];
    pairs.extend(
        served
            .callback
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    );
    Answer::new(
        redirect(&with_query(redirect_uri, &pairs)),
        format!(
            "code issued for {} at data center {}",
            provider.id, here.code
        ),
    )
}

/// The requested scopes, split by the provider's separator.
fn scopes<'a>(provider: &'a ResolvedProvider, scope: &'a str) -> impl Iterator<Item = &'a str> {
    scope
        .split(
            provider
                .authorization
                .as_ref()
                .map_or(" ", |a| a.scope_separator.as_str()),
        )
        .filter(|s| !s.is_empty())
}

/// Whether `scope` is a catalog scope as data center `dc` names it (a name with placeholders
/// is sent expanded, e.g. `https://graph.microsoft.us/User.Read`).
fn known_scope(provider: &ResolvedProvider, dc: &ResolvedDataCenter, scope: &str) -> bool {
    match dc.scope_names.iter().find(|(_, sent)| *sent == scope) {
        Some((catalog_name, _)) => provider.has_scope(catalog_name),
        None => !dc.scope_names.contains_key(scope) && provider.has_scope(scope),
    }
}

/// The client id registered for one data center of one provider (its own when the data
/// centers are separate app registrations).
fn registered_client_id(shared: &Shared, provider: usize, dc: usize) -> Option<&str> {
    shared
        .credentials
        .client_id_for(&shared.providers[provider].data_centers[dc])
        .ok()
}

/// The index of `dc` among `provider`'s data centers.
fn here_index(provider: &ResolvedProvider, dc: &ResolvedDataCenter) -> usize {
    provider
        .data_centers
        .iter()
        .position(|d| d.code == dc.code)
        .unwrap_or_default()
}

/// The user's DC for `provider`: the one set, when the provider enables it, else its default.
pub(crate) fn user_data_center<'a>(
    provider: &'a ResolvedProvider,
    code: Option<&str>,
) -> &'a ResolvedDataCenter {
    code.and_then(|code| provider.data_center(code))
        .or_else(|| provider.data_center(&provider.default_data_center))
        .unwrap_or(&provider.data_centers[0])
}

/// The DC's issuer under the definition's callback parameter name, when it sends one.
fn issuer_param<'a>(
    provider: &'a ResolvedProvider,
    dc: &'a ResolvedDataCenter,
) -> Option<(&'a str, &'a str)> {
    let param = provider.callback.as_ref()?.issuer_param.as_deref()?;
    Some((param, dc.authorization.as_ref()?.issuer.as_str()))
}

/// The DC's callback parameters: its location and its issuer, under the definition's names.
fn callback_params<'a>(
    provider: &'a ResolvedProvider,
    dc: &'a ResolvedDataCenter,
) -> Vec<(&'a str, &'a str)> {
    let mut pairs = Vec::new();
    let Some(callback) = &provider.callback else {
        return pairs;
    };
    if let (Some(param), Some(location)) = (&callback.location_param, &dc.location) {
        pairs.push((param.as_str(), location.as_str()));
    }
    pairs.extend(issuer_param(provider, dc));
    pairs
}

/// Redirects an error to the client, with `state` and the issuer (RFC 9207 sends it on errors
/// too).
fn error_redirect(
    provider: &ResolvedProvider,
    dc: &ResolvedDataCenter,
    redirect_uri: &str,
    client_state: &str,
    error: &str,
    description: &str,
) -> Answer {
    let mut pairs = vec![("error", error)];
    if !description.is_empty() {
        pairs.push(("error_description", description));
    }
    pairs.push(("state", client_state));
    pairs.extend(issuer_param(provider, dc));
    let outcome = match error {
        "access_denied" => "consent denied".to_owned(),
        _ => format!("error {error}: {description}"),
    };
    Answer::new(redirect(&with_query(redirect_uri, &pairs)), outcome)
}

fn request_query(request: &Received) -> Option<String> {
    (!request.query.is_empty()).then(|| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&request.query)
            .finish()
    })
}
