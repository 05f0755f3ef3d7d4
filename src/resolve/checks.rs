//! The checks that need no expansion: which data centers are enabled, the multi-DC choices,
//! the scope catalog and the callback. They run before any template is expanded, and what they
//! decide (the enabled DCs, the entry DC of each) drives the expansion.

use std::collections::BTreeMap;

use crate::definition::document::escape_pointer_token;
use crate::definition::types::{ClientIdMode, ClientSecretMode, ProviderDefinition};
use crate::diagnostics::{Anchor, Kind};
use crate::resolve::data_centers::{EffectiveDataCenter, EffectiveDataCenters};
use crate::resolve::plain_url::check_url_text;
use crate::resolve::problem::{self, Place, Problem};
use crate::resolve::sections::Sections;
use crate::resolve::table::SINGLE_DATA_CENTER;
use crate::resolve::url_rules::{UrlProblem, UrlRole};

/// The enabled data centers, in definition order.
pub(super) fn enabled_data_centers<'a>(
    definition: &ProviderDefinition,
    dcs: &'a EffectiveDataCenters,
    problems: &mut Vec<Problem>,
) -> Vec<&'a EffectiveDataCenter> {
    let Some(listed) = definition
        .multi_dc
        .as_ref()
        .and_then(|m| m.data_centers.as_ref())
    else {
        return dcs.all.iter().collect();
    };
    let mut seen = Vec::new();
    for (index, code) in listed.iter().enumerate() {
        let pointer = format!("/multi_dc/data_centers/{index}");
        if seen.contains(&code) {
            problems.push(Problem::provider(
                Kind::DuplicateDataCenter,
                pointer,
                Anchor::Value,
                format!("data center `{code}` is enabled twice"),
            ));
        } else if dcs.get(code).is_none() {
            problems.push(unknown_dc(provider_place(pointer), code, dcs));
        }
        seen.push(code);
    }
    dcs.all
        .iter()
        .filter(|dc| listed.contains(&dc.code))
        .collect()
}

fn unknown_dc(place: Place, code: &str, dcs: &EffectiveDataCenters) -> Problem {
    let known = if dcs.all.is_empty() {
        "this provider defines no data centers".to_owned()
    } else {
        format!("defined data centers: {}", dcs.codes())
    };
    Problem::at(
        Kind::UnknownDataCenter,
        &place,
        Anchor::Value,
        format!("data center `{code}` is not defined"),
    )
    .hint(known)
}

/// The multi-DC choices: default DC, entry DC per DC, secret and client-id modes.
pub(super) struct MultiDcSelection {
    pub(super) default: String,
    pub(super) entry: BTreeMap<String, String>,
    pub(super) client_secret: ClientSecretMode,
    pub(super) client_id: ClientIdMode,
}

impl MultiDcSelection {
    pub(super) fn new(
        definition: &ProviderDefinition,
        sections: &Sections<'_>,
        dcs: &EffectiveDataCenters,
        enabled: &[&EffectiveDataCenter],
        problems: &mut Vec<Problem>,
    ) -> Self {
        let is_enabled = |code: &str| enabled.iter().any(|dc| dc.code == code);
        let check = |problems: &mut Vec<Problem>, place: Place, code: &str, role: &str| {
            if dcs.get(code).is_none() {
                problems.push(unknown_dc(place, code, dcs));
            } else if !is_enabled(code) {
                problems.push(
                    Problem::at(
                        Kind::UnknownDataCenter,
                        &place,
                        Anchor::Value,
                        format!("{role} data center `{code}` is not enabled"),
                    )
                    .hint("add it to `multi_dc.data_centers` or pick an enabled one"),
                );
            }
        };
        let multi = definition.multi_dc.as_ref();
        if multi.is_some() && definition.data_centers.is_none() {
            problems.push(
                Problem::provider(
                    Kind::MissingField,
                    "/multi_dc",
                    Anchor::Key,
                    "`multi_dc` needs `data_centers`",
                )
                .hint("define the data centers, or remove `multi_dc` for a single-site provider"),
            );
        }
        let first = enabled
            .first()
            .map(|dc| dc.code.clone())
            .unwrap_or_else(|| SINGLE_DATA_CENTER.to_owned());
        let default = match multi.and_then(|m| m.default.as_ref()) {
            Some(code) => {
                check(
                    problems,
                    provider_place("/multi_dc/default"),
                    code,
                    "default",
                );
                code.clone()
            }
            None => first,
        };
        let mut entry = BTreeMap::new();
        // The entry point matters only when the DC is learnt from the callback.
        let entry_section = sections.entry.filter(|_| multi.is_some_and(|m| m.enabled));
        let entry_point = entry_section.map(|section| section.value);
        if let Some(entry) = entry_section {
            let point = entry.value;
            check(
                problems,
                entry.place("/entry/default"),
                &point.default,
                "entry",
            );
            for (dc, target) in &point.exceptions {
                let place = entry.place(&format!("/entry/exceptions/{}", escape_pointer_token(dc)));
                // A shared set may name DCs a provider does not enable; only its own list must
                // name defined, enabled DCs.
                let shared = place.origin != problem::Origin::Provider;
                if dcs.get(dc).is_none() {
                    problems.push(unknown_dc(place.clone(), dc, dcs));
                } else if !shared || is_enabled(dc) {
                    check(problems, place, target, "entry");
                }
            }
        }
        for dc in enabled {
            let target = match entry_point {
                Some(point) => point
                    .exceptions
                    .get(&dc.code)
                    .unwrap_or(&point.default)
                    .clone(),
                None => dc.code.clone(),
            };
            entry.insert(dc.code.clone(), target);
        }
        if multi.is_some_and(|m| m.enabled) && entry_point.is_none() {
            problems.push(
                Problem::provider(
                    Kind::MissingField,
                    "/multi_dc",
                    Anchor::Key,
                    "multi-DC is enabled but `entry` is missing",
                )
                .hint("say which data center's authorization endpoint starts the flow: `entry: { default: CODE }`"),
            );
        }
        MultiDcSelection {
            default,
            entry,
            client_secret: multi.map(|m| m.client_secret).unwrap_or_default(),
            client_id: multi.map(|m| m.client_id).unwrap_or_default(),
        }
    }
}

pub(super) fn provider_place(pointer: impl Into<String>) -> Place {
    Place {
        origin: problem::Origin::Provider,
        pointer: pointer.into(),
    }
}

pub(super) fn check_scopes(
    definition: &ProviderDefinition,
    sections: &Sections<'_>,
    problems: &mut Vec<Problem>,
) {
    let catalog = &definition.scopes.catalog;
    for (index, scope) in catalog.iter().enumerate() {
        if let Some(first) = catalog[..index]
            .iter()
            .position(|earlier| earlier.name == scope.name)
        {
            let first = Place {
                origin: problem::Origin::Provider,
                pointer: format!("/scopes/catalog/{first}/name"),
            };
            problems.push(
                Problem::provider(
                    Kind::DuplicateScope,
                    format!("/scopes/catalog/{index}/name"),
                    Anchor::Value,
                    format!("duplicate scope `{}`", scope.name),
                )
                .hint("list each scope once")
                .related(first, Anchor::Value, "first defined here"),
            );
        }
    }
    for (index, name) in definition.scopes.default.iter().enumerate() {
        if !catalog.iter().any(|scope| &scope.name == name) {
            let mut problem = Problem::provider(
                Kind::UnknownScope,
                format!("/scopes/default/{index}"),
                Anchor::Value,
                format!("default scope `{name}` is not in the scope catalog"),
            );
            problem =
                match crate::diagnostics::closest(name, catalog.iter().map(|s| s.name.as_str())) {
                    Some(close) => problem.hint(format!("did you mean `{close}`?")),
                    None => problem
                        .hint("add it to `scopes.catalog` or remove it from `scopes.default`"),
                };
            problems.push(problem);
        }
    }
    if let Some(authorization) = sections.authorization
        && authorization.value.scope_separator.is_empty()
    {
        problems.push(
            Problem::at(
                Kind::InvalidValue,
                &authorization.place("/authorization/scope_separator"),
                Anchor::Value,
                "scope separator is empty",
            )
            .hint("use \" \" (RFC 6749) or the separator the provider documents, such as \",\""),
        );
    }
}

pub(super) fn check_callback(
    definition: &ProviderDefinition,
    sections: &Sections<'_>,
    problems: &mut Vec<Problem>,
) {
    let Some(callback) = sections.callback else {
        return;
    };
    if let Err(problem) = check_url_text(&callback.value.redirect_uri, UrlRole::Redirect) {
        let mut p = Problem::at(
            problem.kind(),
            &callback.place("/callback/redirect_uri"),
            Anchor::Value,
            problem.message,
        );
        p.hint = problem.hint;
        problems.push(p);
    }
    let multi = definition.multi_dc.as_ref().is_some_and(|m| m.enabled);
    if multi && callback.value.location_param.is_none() {
        problems.push(
            Problem::at(Kind::MissingField, &callback.place("/callback"), Anchor::Key, "multi-DC is enabled but `location_param` is missing")
                .hint("name the callback parameter that carries the user's data center: `location_param: NAME`"),
        );
    }
}

/// Checks `docs_url`: documentation links follow the endpoint rules (https, no credentials,
/// a valid ASCII host, written in normalised form), since outputs embed them as links.
pub(super) fn check_docs_url(text: &str) -> Result<(), UrlProblem> {
    check_url_text(text, UrlRole::Endpoint)
}

/// The problem with the definition's `docs_url`, if it breaks [`check_docs_url`].
pub(super) fn docs_url_problem(
    definition: &crate::definition::types::ProviderDefinition,
) -> Option<crate::resolve::problem::Problem> {
    let problem = check_docs_url(definition.docs_url.as_deref()?).err()?;
    let mut located = crate::resolve::problem::Problem::provider(
        problem.kind(),
        "/docs_url",
        crate::diagnostics::Anchor::Value,
        problem.message,
    );
    located.hint = problem.hint;
    Some(located)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_urls_follow_the_endpoint_rules() {
        assert!(
            check_docs_url("https://www.zoho.com/crm/developer/docs/api/v8/oauth-overview.html#x")
                .is_ok()
        );
        assert_eq!(
            check_docs_url("http://evil.example/docs").unwrap_err().rule,
            "http"
        );
        assert_eq!(
            check_docs_url("HTTPS://docs.example.com/")
                .unwrap_err()
                .rule,
            "normalised"
        );
    }
}
