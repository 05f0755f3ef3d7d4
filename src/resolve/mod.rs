//! Resolution: a checked definition becomes its resolved endpoint table.
//!
//! Resolution and the semantic checks are one pass on purpose: to know that every URL is right
//! for every data center, each URL has to be built for every data center, and the URLs built are
//! the ones the table keeps. So validation cannot drift from what `render` prints and what the
//! OAuth engine calls.
//!
//! The pass has three parts, one module each: `checks` (what needs no expansion: enabled data
//! centers, the multi-DC choices, scopes, callback) and `connection` (declarations of
//! per-connection values) run first; `expand` then builds every template for every data center,
//! the one place URLs are built; this module only orders them and assembles the table. At run
//! time, [`fill`] puts one connection's values into the table through the same
//! template expansion.

mod checks;
pub(crate) mod connection;
mod credentials;
pub(crate) mod data_centers;
pub(crate) mod dns;
pub(crate) mod embedded_text;
mod expand;
pub(crate) mod host_shape;
mod modes;
pub(crate) mod plain_url;
pub(crate) mod problem;
pub(crate) mod sections;
pub(crate) mod table;
pub(crate) mod template;
pub(crate) mod url_rules;

pub use connection::{
    ACCESS_TOKEN, ApiRequest, ConnectionError, ConnectionValues, CredentialValues, Filled, Stage,
    TokenRequest, VerifyCall, check_credential, check_param, fill, fill_api_request,
    fill_token_request, fill_verify_request,
};
pub use problem::{Origin, Place, Problem, Related};
pub use table::*;

use std::collections::BTreeMap;

use indexmap::IndexMap;

use crate::definition::types::{AuthMode, DataCenterSet, ProviderDefinition, RuntimeSource};
use crate::diagnostics::{Anchor, Kind};
use checks::{MultiDcSelection, check_callback, check_scopes, enabled_data_centers};
use data_centers::EffectiveDataCenter;
use expand::{Expander, Templates};

/// Resolves a definition (and its shared data-center set, if any) into its endpoint table, or
/// returns every problem found.
pub fn resolve(
    definition: &ProviderDefinition,
    set: Option<&DataCenterSet>,
) -> Result<ResolvedProvider, Vec<Problem>> {
    let sections = sections::sections(definition, set)?;
    let (dcs, mut problems) = data_centers::effective(definition, set);
    let enabled = enabled_data_centers(definition, &dcs, &mut problems);
    let selection = MultiDcSelection::new(definition, &sections, &dcs, &enabled, &mut problems);
    check_scopes(definition, &sections, &mut problems);
    check_callback(definition, &sections, &mut problems);
    modes::check(definition, sections.token, &mut problems);
    problems.extend(embedded_text::check_embedded_text(definition, set));
    problems.extend(checks::docs_url_problem(definition));
    let mut late = connection::declarations(definition, &dcs, &mut problems);
    let credential_fields = credentials::effective(definition);
    credentials::declare(&credential_fields, &mut late);

    let mut expander = Expander::new(&dcs, &late);
    let mut resolved = Vec::new();
    let targets: Vec<Option<&EffectiveDataCenter>> = if definition.data_centers.is_none() {
        vec![None]
    } else {
        enabled.iter().map(|dc| Some(*dc)).collect()
    };
    let templates = Templates::new(definition, &sections);
    for dc in &targets {
        resolved.push(expander.data_center(definition, &sections, &templates, *dc, &selection));
    }
    let authorization = sections
        .authorization
        .map(|authorization| AuthorizationRequest {
            scope_separator: authorization.value.scope_separator.clone(),
            pkce: authorization.value.pkce,
            params: expander.parameters(
                &authorization.place("/authorization/params"),
                &authorization.value.params,
                "authorization.params",
                Stage::Authorization,
                false,
            ),
        });
    let mode = definition.mode();
    let token = sections.token.map(|token| {
        let exchange = TokenExchange {
            token_auth_method: (mode != AuthMode::TokenRequest).then_some(token.value.auth_method),
            token_response_metadata: token.value.response_metadata.clone(),
            token_params: expander.parameters(
                &token.place("/token/params"),
                &token.value.params,
                "token_params",
                Stage::TokenExchange,
                true,
            ),
            refresh_params: expander.parameters(
                &token.place("/token/refresh_params"),
                &token.value.refresh_params,
                "refresh_params",
                Stage::AfterToken,
                true,
            ),
            token_body: token.value.body,
            revoke: token.value.revoke.as_ref().map(|revoke| RevokeRequest {
                client_auth: revoke.client_auth,
                token_in: revoke.token_in,
            }),
        };
        let request = (mode == AuthMode::TokenRequest).then(|| TokenRequestSpec {
            method: token.value.method.unwrap_or_default(),
            headers: expander.parameters(
                &token.place("/token/headers"),
                &token.value.headers,
                "token_request.headers",
                Stage::TokenExchange,
                true,
            ),
            response: token.value.response.clone().unwrap_or_else(|| {
                crate::definition::types::TokenResponse {
                    token: "access_token".to_owned(),
                    expires_in: Some("expires_in".to_owned()),
                    expires_at: None,
                    lifetime_secs: None,
                    refresh_token: None,
                }
            }),
            refresh_headers: expander.parameters(
                &token.place("/token/refresh_headers"),
                &token.value.refresh_headers,
                "token_request.refresh_headers",
                Stage::AfterToken,
                true,
            ),
        });
        (exchange, request)
    });
    let (token, token_request) = match token {
        Some((exchange, request)) => (Some(exchange), request),
        None => (None, None),
    };
    let api_auth = definition
        .api
        .as_ref()
        .map(|api| api_auth(mode, api, &mut expander, &mut problems));
    let verify = definition
        .api
        .as_ref()
        .and_then(|api| api.verify.as_ref())
        .map(|verify| VerifyRequest {
            method: verify.method,
            endpoints: verify.endpoints.clone(),
            headers: expander.parameters(
                &checks::provider_place("/api/verify/headers"),
                &verify.headers,
                "verify.headers",
                Stage::AfterToken,
                true,
            ),
        });
    let inputs = connection::inputs(definition, &late, &expander.used_in, &mut problems);
    let credentials = credentials::resolved(&credential_fields, &expander.used_in);
    problems.append(&mut expander.finish());
    if !problems.is_empty() {
        return Err(problems);
    }

    // Entry URLs point at another DC's authorization endpoint: filled once all are built.
    let mut data_centers: Vec<ResolvedDataCenter> = resolved.into_iter().flatten().collect();
    let authorization_urls: BTreeMap<String, String> = data_centers
        .iter()
        .filter_map(|dc| {
            let endpoints = dc.authorization.as_ref()?;
            Some((dc.code.clone(), endpoints.authorization_url.clone()))
        })
        .collect();
    for dc in &mut data_centers {
        if let Some(endpoints) = &mut dc.authorization {
            endpoints.entry_authorization_url =
                authorization_urls[&endpoints.entry_data_center].clone();
        }
    }

    // Token-response values are kept with the connection like any listed metadata.
    let token = token.map(|mut token| {
        for (name, runtime) in &inputs.runtime {
            if runtime.declared.from == RuntimeSource::TokenResponse
                && !token.token_response_metadata.contains(name)
            {
                token.token_response_metadata.push(name.clone());
            }
        }
        token
    });

    Ok(ResolvedProvider {
        id: definition.id.clone(),
        display_name: definition.display_name.clone(),
        docs_url: definition.docs_url.clone(),
        auth_mode: mode,
        multi_dc: definition.multi_dc.as_ref().is_some_and(|m| m.enabled),
        default_data_center: selection.default.clone(),
        client_secret: selection.client_secret,
        credentials,
        authorization,
        token,
        token_request,
        callback: sections.callback.map(|callback| CallbackSpec {
            redirect_uri: callback.value.redirect_uri.clone(),
            location_param: callback.value.location_param.clone(),
            issuer_param: callback.value.issuer_param.clone(),
        }),
        api_auth,
        verify,
        connection: inputs,
        default_scopes: definition.scopes.default.clone(),
        scopes: definition.scopes.catalog.clone(),
        data_centers,
    })
}

/// What is wrong with writing the node at `pointer` of `document` in a provider of the auth
/// mode named `mode`, and how to fix it: the schema check's words for a section the mode
/// refuses, the same as the semantic check's.
pub(crate) fn refusal(document: &serde_json::Value, pointer: &str, mode: &str) -> (String, String) {
    let mode =
        serde_json::from_value(serde_json::Value::String(mode.to_owned())).unwrap_or_default();
    let dotted = crate::diagnostics::display_path(document, pointer);
    modes::refusal(pointer, &dotted, mode)
}

/// Likely mistakes that leave a definition valid (each a [`Problem`] marked as a warning): a
/// credential named like a secret but declared `secret: false`, and, given the table
/// [`resolve`] built, a declared credential nothing uses.
pub fn warnings(
    definition: &ProviderDefinition,
    resolved: Option<&ResolvedProvider>,
) -> Vec<Problem> {
    modes::warnings(definition, resolved)
}

/// Exactly how credentials reach the API: the implied `Authorization` header first (`basic`'s
/// pair unless a header sets `authorization`; `<auth_scheme> <access_token>` for token modes
/// unless a header uses `<access_token>`), then the headers and query parameters written.
fn api_auth(
    mode: AuthMode,
    api: &crate::definition::types::Api,
    expander: &mut Expander<'_>,
    problems: &mut Vec<Problem>,
) -> ApiAuth {
    let mut headers = IndexMap::new();
    let sets_authorization = api
        .headers
        .keys()
        .any(|name| name.eq_ignore_ascii_case("authorization"));
    let uses_token = api
        .headers
        .values()
        .any(|value| value.contains(&format!("<{}>", connection::ACCESS_TOKEN)));
    match mode {
        AuthMode::Basic if !sets_authorization => {
            headers.insert(
                "Authorization".to_owned(),
                credentials::BASIC_AUTHORIZATION.to_owned(),
            );
            for name in credentials::BASIC_FIELDS {
                expander.record_use(
                    &credentials::late_name(name),
                    "api_auth.headers.Authorization",
                );
            }
        }
        mode if mode.has_token() && !uses_token && !sets_authorization => {
            if !is_http_token(&api.auth_scheme) {
                problems.push(
                    Problem::provider(
                        Kind::InvalidValue,
                        "/api/auth_scheme",
                        Anchor::Value,
                        format!("`{}` is not an authorization scheme", api.auth_scheme),
                    )
                    .hint("a scheme is one word of letters, digits and `-._~+!#$%&'*^`|` (RFC 9110), e.g. `Bearer`"),
                );
                return ApiAuth::default();
            }
            headers.insert(
                "Authorization".to_owned(),
                format!("{} <{}>", api.auth_scheme, connection::ACCESS_TOKEN),
            );
        }
        _ => {}
    }
    headers.extend(expander.parameters(
        &checks::provider_place("/api/headers"),
        &api.headers,
        "api_auth.headers",
        Stage::ApiHeaders,
        true,
    ));
    let query = expander.parameters(
        &checks::provider_place("/api/query"),
        &api.query,
        "api_auth.query",
        Stage::AfterToken,
        true,
    );
    for (field, names) in [("after", &api.retry.after), ("at", &api.retry.at)] {
        for (index, name) in names.iter().enumerate() {
            if !is_http_token(name) {
                problems.push(
                    Problem::provider(
                        Kind::InvalidValue,
                        format!("/api/retry/{field}/{index}"),
                        Anchor::Value,
                        format!("`{name}` is not a header name"),
                    )
                    .hint("a header name is one word of letters, digits and `-._~+!#$%&'*^`|` (RFC 9110), e.g. `x-ratelimit-reset`"),
                );
            }
        }
    }
    ApiAuth {
        headers,
        query,
        retry: api.retry.clone(),
    }
}

/// Whether `text` is an HTTP token (RFC 9110 section 5.6.2), what an authorization scheme is.
fn is_http_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;
    use table::SINGLE_DATA_CENTER;

    const BASE: &str = r#"
id: t
display_name: T
data_centers:
  placeholders: { accounts_host: "accounts.zoho.<dc>" }
  list:
    - { code: us, name: United States, values: { dc: com } }
    - { code: eu, name: Europe, values: { dc: eu } }
    - { code: cn, name: China, values: { dc: com.cn } }
    - { code: ca, name: Canada, values: { dc: ca, accounts_host: accounts.zohocloud.ca } }
multi_dc:
  enabled: true
  default: us
  client_secret: per_data_center
  entry: { default: us, exceptions: { cn: cn } }
issuer: "https://<accounts_host>"
authorization: { url: "https://<accounts_host>/oauth/v2/auth", scope_separator: "," }
token: { url: "https://<accounts_host>/oauth/v2/token" }
callback: { redirect_uri: "https://api.nango.dev/oauth/callback", location_param: location }
api: { environments: { production: "https://www.zohoapis.<dc>" } }
scopes:
  default: [a]
  catalog: [{ name: a, description: A }, { name: b, description: B }]
"#;

    fn definition(edit: impl FnOnce(&mut ProviderDefinition)) -> ProviderDefinition {
        let mut definition: ProviderDefinition = serde_yaml::from_str(BASE).unwrap();
        edit(&mut definition);
        definition
    }

    fn problems(edit: impl FnOnce(&mut ProviderDefinition)) -> Vec<(String, String)> {
        resolve(&definition(edit), None)
            .expect_err("the edit makes the definition invalid")
            .into_iter()
            .map(|p| (p.pointer, p.message))
            .collect()
    }

    /// Rate-limit headers are looked up by name in every answer: each must be one.
    #[test]
    fn retry_headers_must_be_header_names() {
        let found = problems(|d| {
            let retry = &mut d.api.as_mut().unwrap().retry;
            retry.after = vec!["x-ratelimit-retry-after".into(), "retry after".into()];
            retry.at = vec!["<reset>".into()];
        });
        let pointers: Vec<&str> = found.iter().map(|(pointer, _)| pointer.as_str()).collect();
        assert_eq!(
            pointers,
            ["/api/retry/after/1", "/api/retry/at/0"],
            "{found:?}"
        );
        assert_eq!(found[0].1, "`retry after` is not a header name");
        let resolved = resolve(
            &definition(|d| {
                d.api.as_mut().unwrap().retry.at = vec!["x-ratelimit-reset".into()];
            }),
            None,
        )
        .unwrap();
        assert_eq!(
            resolved.api_auth.unwrap().retry.at,
            ["x-ratelimit-reset"],
            "kept for the proxy"
        );
    }

    /// The scheme goes into the implied `Authorization` header as written: a placeholder or a
    /// space there would be filled or split at run time.
    #[test]
    fn an_auth_scheme_must_be_one_http_token() {
        for scheme in ["<dc>", "Zoho oauthtoken", ""] {
            let found = problems(|d| d.api.as_mut().unwrap().auth_scheme = scheme.into());
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].0, "/api/auth_scheme");
        }
        let resolved = resolve(&definition(|_| {}), None).unwrap();
        assert_eq!(
            resolved.api_auth.unwrap().headers["Authorization"],
            "Bearer <access_token>"
        );
    }

    #[test]
    fn resolves_canada_and_the_china_entry_exception() {
        let resolved = resolve(&definition(|_| {}), None).unwrap();
        let ca = resolved.data_center("ca").unwrap();
        assert_eq!(
            ca.authorization.as_ref().unwrap().issuer,
            "https://accounts.zohocloud.ca"
        );
        assert_eq!(
            ca.token.as_ref().unwrap().token_url,
            "https://accounts.zohocloud.ca/oauth/v2/token"
        );
        assert_eq!(ca.api_base_urls["production"], "https://www.zohoapis.ca");
        assert_eq!(
            ca.authorization.as_ref().unwrap().entry_authorization_url,
            "https://accounts.zoho.com/oauth/v2/auth"
        );
        let cn = resolved.data_center("cn").unwrap();
        assert_eq!(cn.authorization.as_ref().unwrap().entry_data_center, "cn");
        assert_eq!(
            cn.authorization.as_ref().unwrap().entry_authorization_url,
            "https://accounts.zoho.com.cn/oauth/v2/auth"
        );
        assert_eq!(cn.client_secret_key, "cn");
        assert_eq!(ca.location.as_deref(), Some("ca"));
    }

    #[test]
    fn a_placeholder_missing_for_some_dcs_names_every_one_of_them() {
        let found = problems(|d| {
            let list = &mut d.data_centers.as_mut().unwrap().list;
            list[1].values.shift_remove("dc");
            list[3].values.shift_remove("dc");
        });
        // Europe's accounts host is built from <dc> too; Canada's is written out, so only its
        // API URL lacks a value.
        assert!(
            found.contains(&(
                "/api/environments/production".to_owned(),
                "placeholder `<dc>` has no value for data centers `eu` (Europe), `ca` (Canada)"
                    .to_owned()
            ))
        );
        assert!(found.contains(&(
            "/token/url".to_owned(),
            "placeholder `<dc>` has no value for data center `eu` (Europe)".to_owned()
        )));
        assert_eq!(found.len(), 4, "{found:?}");
    }

    #[test]
    fn an_unknown_placeholder_is_reported_once() {
        let found =
            problems(|d| d.token.as_mut().unwrap().url = "https://<acounts_host>/token".into());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "/token/url");
        assert!(found[0].1.contains("unknown placeholder `<acounts_host>`"));
    }

    #[test]
    fn duplicate_dc_codes_and_scopes_are_errors() {
        let found = problems(|d| {
            d.data_centers.as_mut().unwrap().list[2].code = "eu".into();
            d.scopes.catalog[1].name = "a".into();
        });
        assert!(found.contains(&(
            "/data_centers/list/2/code".into(),
            "duplicate data center code `eu`".into()
        )));
        assert!(found.contains(&(
            "/scopes/catalog/1/name".into(),
            "duplicate scope `a`".into()
        )));
    }

    #[test]
    fn default_scopes_must_be_in_the_catalog() {
        let found = problems(|d| d.scopes.default.push("c".into()));
        assert_eq!(
            found,
            vec![(
                "/scopes/default/1".into(),
                "default scope `c` is not in the scope catalog".into()
            )]
        );
    }

    #[test]
    fn default_and_entry_dcs_must_be_defined_and_enabled() {
        let found = problems(|d| {
            let multi = d.multi_dc.as_mut().unwrap();
            multi.data_centers = Some(vec!["us".into(), "eu".into(), "ca".into()]);
            multi.default = Some("cn".into());
            multi.entry.as_mut().unwrap().default = "global".into();
        });
        assert!(found.contains(&(
            "/multi_dc/default".into(),
            "default data center `cn` is not enabled".into()
        )));
        assert!(found.contains(&(
            "/multi_dc/entry/default".into(),
            "data center `global` is not defined".into()
        )));
        assert!(found.contains(&(
            "/multi_dc/entry/exceptions/cn".into(),
            "entry data center `cn` is not enabled".into()
        )));
    }

    #[test]
    fn narrowing_the_enabled_dcs_narrows_the_table() {
        let resolved = resolve(
            &definition(|d| {
                let multi = d.multi_dc.as_mut().unwrap();
                multi.data_centers = Some(vec!["eu".into(), "us".into()]);
                multi.entry.as_mut().unwrap().exceptions.clear();
            }),
            None,
        )
        .unwrap();
        assert_eq!(resolved.data_center_codes(), vec!["us", "eu"]);
    }

    #[test]
    fn urls_must_be_https_without_credentials_with_valid_hosts() {
        let found = problems(|d| {
            d.authorization.as_mut().unwrap().url = "http://<accounts_host>/auth".into();
            d.token.as_mut().unwrap().url = "https://u:p@<accounts_host>/token".into();
            d.data_centers.as_mut().unwrap().list[1]
                .values
                .insert("dc".into(), "e_u".into());
        });
        let pointers: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert!(pointers.contains(&"/authorization/url"));
        assert!(pointers.contains(&"/token/url"));
        assert!(
            found
                .iter()
                .any(|(_, m)| m.contains("not a valid DNS name") && m.contains("`eu`"))
        );
        assert!(
            found
                .iter()
                .any(|(_, m)| m.contains("uses http") && m.contains("`us`, `eu`, `cn`, `ca`"))
        );
    }

    #[test]
    fn overrides_must_name_a_defined_dc() {
        let found = problems(|d| {
            let mut values = IndexMap::new();
            values.insert("dc".to_owned(), "ae".to_owned());
            d.data_centers
                .as_mut()
                .unwrap()
                .overrides
                .insert("ae".into(), values);
        });
        assert_eq!(
            found,
            vec![(
                "/data_centers/overrides/ae".into(),
                "override for data center `ae`, which is not defined".into()
            )]
        );
    }

    #[test]
    fn a_provider_without_data_centers_resolves_to_one_default_site() {
        let resolved = resolve(
            &definition(|d| {
                d.data_centers = None;
                d.multi_dc = None;
                d.callback.as_mut().unwrap().location_param = None;
                d.issuer = Some("https://auth.example.com".into());
                d.authorization.as_mut().unwrap().url = "https://auth.example.com/authorize".into();
                d.token.as_mut().unwrap().url = "https://auth.example.com/token".into();
                d.api = None;
            }),
            None,
        )
        .unwrap();
        assert_eq!(resolved.data_center_codes(), vec![SINGLE_DATA_CENTER]);
        let only = &resolved.data_centers[0];
        assert_eq!(
            only.authorization.as_ref().unwrap().entry_authorization_url,
            "https://auth.example.com/authorize"
        );
        assert_eq!(
            only.token.as_ref().unwrap().refresh_url,
            "https://auth.example.com/token"
        );
        assert_eq!(only.location, None);
        assert!(!resolved.multi_dc);
    }

    #[test]
    fn multi_dc_needs_data_centers_and_a_location_parameter() {
        let found = problems(|d| d.callback.as_mut().unwrap().location_param = None);
        assert_eq!(
            found,
            vec![(
                "/callback".into(),
                "multi-DC is enabled but `location_param` is missing".into()
            )]
        );
        let found = problems(|d| d.data_centers = None);
        assert!(found.contains(&("/multi_dc".into(), "`multi_dc` needs `data_centers`".into())));
    }

    fn shared_set(
        edit: impl FnOnce(&mut ProviderDefinition),
    ) -> (ProviderDefinition, DataCenterSet) {
        let base = definition(|_| {});
        let mut set: DataCenterSet = serde_yaml::from_str(
            "name: zoho\nplaceholders: { accounts_host: \"accounts.zoho.<dc>\" }\ndata_centers: []\n",
        )
        .unwrap();
        let section = base.data_centers.clone().unwrap();
        set.data_centers = section.list;
        set.provider_defaults = Some(crate::definition::types::ProviderDefaults {
            issuer: base.issuer.clone(),
            authorization: base.authorization.clone(),
            token: base.token.clone(),
            callback: base.callback.clone(),
            entry: base.multi_dc.as_ref().and_then(|m| m.entry.clone()),
        });
        let mut product = definition(|d| {
            d.data_centers = Some(crate::definition::types::DataCenters {
                set: Some("zoho".into()),
                placeholders: IndexMap::new(),
                list: Vec::new(),
                overrides: IndexMap::new(),
            });
            d.issuer = None;
            d.authorization = None;
            d.token = None;
            d.callback = None;
            d.multi_dc.as_mut().unwrap().entry = None;
        });
        edit(&mut product);
        (product, set)
    }

    #[test]
    fn sections_left_out_come_from_the_sets_provider_defaults() {
        let own = resolve(&definition(|_| {}), None).unwrap();
        let (product, set) = shared_set(|_| {});
        let shared = resolve(&product, Some(&set)).unwrap();
        assert_eq!(shared, own, "the same sections, written once in the set");
    }

    #[test]
    fn a_section_written_in_the_provider_replaces_the_sets_whole() {
        let (product, set) = shared_set(|d| {
            let mut token = definition(|_| {}).token.unwrap();
            token.url = "https://<accounts_host>/oauth/v3/token".into();
            token.revoke = None;
            d.token = Some(token);
        });
        let resolved = resolve(&product, Some(&set)).unwrap();
        let eu = resolved.data_center("eu").unwrap();
        assert_eq!(
            eu.token.as_ref().unwrap().token_url,
            "https://accounts.zoho.eu/oauth/v3/token"
        );
        assert_eq!(eu.token.as_ref().unwrap().revoke_url, None);
    }

    #[test]
    fn a_fault_in_a_shared_section_is_placed_in_the_set_file() {
        let (product, mut set) = shared_set(|_| {});
        let defaults = set.provider_defaults.as_mut().unwrap();
        defaults.token.as_mut().unwrap().url = "http://<accounts_host>/token".into();
        let problems = resolve(&product, Some(&set)).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].origin, problem::Origin::DataCenterSet);
        assert_eq!(problems[0].pointer, "/provider_defaults/token/url");
    }

    #[test]
    fn a_section_given_nowhere_is_missing() {
        let (product, mut set) = shared_set(|_| {});
        set.provider_defaults.as_mut().unwrap().issuer = None;
        let problems = resolve(&product, Some(&set)).unwrap_err();
        assert_eq!(problems[0].message, "missing required field `issuer`");
        assert_eq!(problems[0].origin, problem::Origin::Provider);
    }

    #[test]
    fn a_shared_entry_exception_for_a_dc_the_product_does_not_enable_is_ignored() {
        let (product, set) = shared_set(|d| {
            d.multi_dc.as_mut().unwrap().data_centers = Some(vec!["us".into(), "eu".into()]);
        });
        let resolved = resolve(&product, Some(&set)).unwrap();
        assert_eq!(resolved.data_center_codes(), vec!["us", "eu"]);
        assert_eq!(
            resolved
                .data_center("eu")
                .unwrap()
                .authorization
                .as_ref()
                .unwrap()
                .entry_data_center,
            "us"
        );
    }

    #[test]
    fn a_scope_name_is_expanded_per_data_center_or_refused() {
        let resolved = resolve(
            &definition(|d| d.scopes.catalog[1].name = "https://mail.zoho.<dc>/read".into()),
            None,
        )
        .unwrap();
        let eu = resolved.data_center("eu").unwrap();
        assert_eq!(
            eu.scope_names["https://mail.zoho.<dc>/read"],
            "https://mail.zoho.eu/read"
        );
        let found = problems(|d| d.scopes.catalog[1].name = "https://<graph_host>/read".into());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "/scopes/catalog/1/name");
        assert!(found[0].1.contains("unknown placeholder `<graph_host>`"));
    }

    #[test]
    fn runtime_values_are_refused_where_they_are_not_known_yet() {
        let with_runtime = |d: &mut ProviderDefinition, from: &str| {
            d.connection = Some(
                serde_yaml::from_str(&format!(
                    "runtime: {{ region: {{ from: {from}, description: R. }} }}"
                ))
                .unwrap(),
            );
        };
        let found = problems(|d| {
            with_runtime(d, "callback");
            d.authorization
                .as_mut()
                .unwrap()
                .params
                .insert("region".into(), "<region>".into());
        });
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "/authorization/params/region");
        assert!(found[0].1.contains("comes from the callback"));

        let found = problems(|d| {
            with_runtime(d, "token_response");
            d.token
                .as_mut()
                .unwrap()
                .params
                .insert("r".into(), "<region>".into());
        });
        assert_eq!(found[0].0, "/token/params/r");
        assert!(found[0].1.contains("comes from the token response"));

        let resolved = resolve(
            &definition(|d| {
                with_runtime(d, "callback");
                d.token
                    .as_mut()
                    .unwrap()
                    .params
                    .insert("r".into(), "<region>".into());
            }),
            None,
        )
        .unwrap();
        assert_eq!(
            resolved.token.as_ref().unwrap().token_params["r"],
            "<region>"
        );
        assert_eq!(
            resolved.connection.runtime["region"].used_in,
            ["token_params.r"]
        );
    }
}
