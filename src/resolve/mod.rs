//! Resolution: a checked definition becomes its resolved endpoint table.
//!
//! Resolution and the semantic checks are one pass on purpose: to know that every URL is right
//! for every data center, each URL has to be built for every data center, and the URLs built are
//! the ones the table keeps. So validation cannot drift from what `render` prints and what the
//! OAuth engine calls.

pub mod data_centers;
pub mod embedded_text;
pub mod problem;
pub mod sections;
pub mod table;
pub mod template;
pub mod url_rules;

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;

use crate::definition::document::escape_pointer_token;
use crate::definition::types::{ClientSecretMode, DataCenterSet, ProviderDefinition};
use crate::diagnostics::Anchor;
use data_centers::{EffectiveDataCenter, EffectiveDataCenters};
use problem::{Place, Problem};
use sections::Sections;
use table::{
    AuthorizationRequest, CallbackSpec, ResolvedDataCenter, ResolvedProvider, RevokeRequest,
    SINGLE_DATA_CENTER,
};
use template::{Scope, TemplateError};
use url_rules::{UrlRole, check_url};

/// Resolves a definition (and its shared data-center set, if any) into its endpoint table, or
/// returns every problem found.
pub fn resolve(
    definition: &ProviderDefinition,
    set: Option<&DataCenterSet>,
) -> Result<ResolvedProvider, Vec<Problem>> {
    let sections = sections::sections(definition, set)?;
    let (dcs, mut problems) = data_centers::effective(definition, set);
    let enabled = enabled_data_centers(definition, &dcs, &mut problems);
    let selection = Selection::new(definition, &sections, &dcs, &enabled, &mut problems);
    check_scopes(definition, &sections, &mut problems);
    check_callback(definition, &sections, &mut problems);
    problems.extend(embedded_text::check_embedded_text(definition, set));
    problems.extend(url_rules::docs_url_problem(definition));

    let mut expander = Expander {
        dcs: &dcs,
        problems: Vec::new(),
        reported: BTreeSet::new(),
        missing: IndexMap::new(),
        broken_urls: IndexMap::new(),
    };
    let mut resolved = Vec::new();
    let targets: Vec<Option<&EffectiveDataCenter>> = if definition.data_centers.is_none() {
        vec![None]
    } else {
        enabled.iter().map(|dc| Some(*dc)).collect()
    };
    for dc in &targets {
        resolved.push(expander.data_center(definition, &sections, *dc, &selection));
    }
    problems.append(&mut expander.finish());
    if !problems.is_empty() {
        return Err(problems);
    }

    // Entry URLs point at another DC's authorization endpoint: filled once all are built.
    let mut data_centers: Vec<ResolvedDataCenter> = resolved.into_iter().flatten().collect();
    let authorization_urls: BTreeMap<String, String> = data_centers
        .iter()
        .map(|dc| (dc.code.clone(), dc.authorization_url.clone()))
        .collect();
    for dc in &mut data_centers {
        dc.entry_authorization_url = authorization_urls[&dc.entry_data_center].clone();
    }

    Ok(ResolvedProvider {
        id: definition.id.clone(),
        display_name: definition.display_name.clone(),
        docs_url: definition.docs_url.clone(),
        multi_dc: definition.multi_dc.as_ref().is_some_and(|m| m.enabled),
        default_data_center: selection.default.clone(),
        client_secret: selection.client_secret,
        authorization: AuthorizationRequest {
            scope_separator: sections.authorization.value.scope_separator.clone(),
            pkce: sections.authorization.value.pkce,
            params: sections.authorization.value.params.clone(),
        },
        token_auth_method: sections.token.value.auth_method,
        token_response_metadata: sections.token.value.response_metadata.clone(),
        revoke: sections
            .token
            .value
            .revoke
            .as_ref()
            .map(|revoke| RevokeRequest {
                client_auth: revoke.client_auth,
                token_in: revoke.token_in,
            }),
        callback: CallbackSpec {
            redirect_uri: sections.callback.value.redirect_uri.clone(),
            location_param: sections.callback.value.location_param.clone(),
            issuer_param: sections.callback.value.issuer_param.clone(),
        },
        api_auth_scheme: definition.api.as_ref().map(|api| api.auth_scheme.clone()),
        default_scopes: definition.scopes.default.clone(),
        scopes: definition.scopes.catalog.clone(),
        data_centers,
    })
}

/// The enabled data centers, in definition order.
fn enabled_data_centers<'a>(
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
        &place,
        Anchor::Value,
        format!("data center `{code}` is not defined"),
    )
    .hint(known)
}

/// The multi-DC choices: default DC, entry DC per DC, secret mode.
struct Selection {
    default: String,
    entry: BTreeMap<String, String>,
    client_secret: ClientSecretMode,
}

impl Selection {
    fn new(
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
                Problem::provider("/multi_dc", Anchor::Key, "`multi_dc` needs `data_centers`")
                    .hint(
                        "define the data centers, or remove `multi_dc` for a single-site provider",
                    ),
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
                    "/multi_dc",
                    Anchor::Key,
                    "multi-DC is enabled but `entry` is missing",
                )
                .hint("say where authorization starts, e.g. `entry: { default: us }`"),
            );
        }
        Selection {
            default,
            entry,
            client_secret: multi.map(|m| m.client_secret).unwrap_or_default(),
        }
    }
}

fn provider_place(pointer: impl Into<String>) -> Place {
    Place {
        origin: problem::Origin::Provider,
        pointer: pointer.into(),
    }
}

fn check_scopes(
    definition: &ProviderDefinition,
    sections: &Sections<'_>,
    problems: &mut Vec<Problem>,
) {
    let catalog = &definition.scopes.catalog;
    for (index, scope) in catalog.iter().enumerate() {
        if catalog[..index]
            .iter()
            .any(|earlier| earlier.name == scope.name)
        {
            problems.push(
                Problem::provider(
                    format!("/scopes/catalog/{index}/name"),
                    Anchor::Value,
                    format!("duplicate scope `{}`", scope.name),
                )
                .hint("list each scope once"),
            );
        }
    }
    for (index, name) in definition.scopes.default.iter().enumerate() {
        if !catalog.iter().any(|scope| &scope.name == name) {
            let mut problem = Problem::provider(
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
    if sections.authorization.value.scope_separator.is_empty() {
        problems.push(
            Problem::at(
                &sections
                    .authorization
                    .place("/authorization/scope_separator"),
                Anchor::Value,
                "scope separator is empty",
            )
            .hint("use \" \" (RFC 6749) or \",\" (Zoho)"),
        );
    }
}

fn check_callback(
    definition: &ProviderDefinition,
    sections: &Sections<'_>,
    problems: &mut Vec<Problem>,
) {
    let callback = sections.callback;
    if let Err(problem) = check_url(&callback.value.redirect_uri, UrlRole::Redirect) {
        let mut p = Problem::at(
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
            Problem::at(&callback.place("/callback"), Anchor::Key, "multi-DC is enabled but `location_param` is missing")
                .hint("name the callback parameter that carries the user's data center, e.g. `location_param: location`"),
        );
    }
}

/// Expands templates for data centers, reporting each distinct problem once.
struct Expander<'a> {
    dcs: &'a EffectiveDataCenters,
    problems: Vec<Problem>,
    /// (place, kind) of problems already reported: each once, not once per data center.
    reported: BTreeSet<(Place, String)>,
    /// (place, placeholder) -> the DCs that lack a value: one problem per template.
    missing: IndexMap<(Place, String), Vec<String>>,
    /// (place, broken rule) -> the first problem and every DC whose URL breaks the rule.
    broken_urls: IndexMap<(Place, &'static str), (url_rules::UrlProblem, Vec<String>)>,
}

impl Expander<'_> {
    /// Every problem found, with one problem per template and placeholder naming all DCs that
    /// lack a value.
    fn finish(self) -> Vec<Problem> {
        let mut problems = self.problems;
        for ((place, _), (problem, dcs)) in self.broken_urls {
            let message = match dcs.len() {
                0 => problem.message,
                1 => format!("{} (data center {})", problem.message, dcs[0]),
                _ => format!("{} (data centers {})", problem.message, dcs.join(", ")),
            };
            let mut located = Problem::at(&place, Anchor::Value, message);
            located.hint = problem.hint;
            problems.push(located);
        }
        for ((place, name), dcs) in self.missing {
            let noun = if dcs.len() == 1 {
                "data center"
            } else {
                "data centers"
            };
            problems.push(
                Problem::at(
                    &place,
                    Anchor::Value,
                    format!("placeholder `<{name}>` has no value for {noun} {}", dcs.join(", ")),
                )
                .hint(format!(
                    "add `{name}: ...` under the `values` of that data center, or a default under `data_centers.placeholders`"
                )),
            );
        }
        problems
    }

    fn data_center(
        &mut self,
        definition: &ProviderDefinition,
        sections: &Sections<'_>,
        dc: Option<&EffectiveDataCenter>,
        selection: &Selection,
    ) -> Option<ResolvedDataCenter> {
        let empty = IndexMap::new();
        let scope = Scope {
            values: dc.map_or(&empty, |dc| &dc.values),
            defaults: &self.dcs.defaults,
        };
        let code = dc
            .map_or(SINGLE_DATA_CENTER, |dc| dc.code.as_str())
            .to_owned();
        let url = |this: &mut Self, place: Place, template: &str, role: UrlRole| {
            this.url(place, template, role, scope, dc)
        };
        let (issuer, authorization, token) =
            (sections.issuer, sections.authorization, sections.token);
        let issuer = url(self, issuer.place("/issuer"), issuer.value, UrlRole::Origin);
        let authorization_url = url(
            self,
            authorization.place("/authorization/url"),
            &authorization.value.url,
            UrlRole::Endpoint,
        );
        let token_url = url(
            self,
            token.place("/token/url"),
            &token.value.url,
            UrlRole::Endpoint,
        );
        let refresh_url = match &token.value.refresh_url {
            Some(template) => url(
                self,
                token.place("/token/refresh_url"),
                template,
                UrlRole::Endpoint,
            ),
            None => token_url.clone(),
        };
        let revoke_url = match &token.value.revoke {
            Some(revoke) => Some(url(
                self,
                token.place("/token/revoke/url"),
                &revoke.url,
                UrlRole::Endpoint,
            )?),
            None => None,
        };
        let mut api_base_urls = IndexMap::new();
        for (environment, template) in definition.api.iter().flat_map(|api| &api.environments) {
            let pointer = format!("/api/environments/{}", escape_pointer_token(environment));
            if let Some(base) = url(self, provider_place(pointer), template, UrlRole::Endpoint) {
                api_base_urls.insert(environment.clone(), base);
            }
        }
        let client_secret_key = match selection.client_secret {
            ClientSecretMode::Shared => "shared".to_owned(),
            ClientSecretMode::PerDataCenter => code.clone(),
        };
        Some(ResolvedDataCenter {
            name: dc.map_or_else(|| definition.display_name.clone(), |dc| dc.name.clone()),
            location: dc
                .filter(|_| sections.callback.value.location_param.is_some())
                .map(|dc| dc.location.clone()),
            issuer: issuer?,
            authorization_url: authorization_url?,
            entry_data_center: selection
                .entry
                .get(&code)
                .cloned()
                .unwrap_or_else(|| code.clone()),
            entry_authorization_url: String::new(),
            token_url: token_url?,
            refresh_url: refresh_url?,
            revoke_url,
            api_base_urls,
            client_secret_key,
            code,
        })
    }

    fn url(
        &mut self,
        place: Place,
        template: &str,
        role: UrlRole,
        scope: Scope<'_>,
        dc: Option<&EffectiveDataCenter>,
    ) -> Option<String> {
        let expanded = match template::expand(template, scope) {
            Ok(expanded) => expanded,
            Err(error) => {
                self.template_problem(place, template, error, dc);
                return None;
            }
        };
        match check_url(&expanded, role) {
            Ok(_) => Some(expanded),
            Err(problem) => {
                let dcs = self
                    .broken_urls
                    .entry((place, problem.rule))
                    .or_insert_with(|| (problem, Vec::new()));
                dcs.1.extend(dc.map(|dc| format!("`{}`", dc.code)));
                None
            }
        }
    }

    fn unknown_placeholder(&self, place: &Place, template: &str, name: &str) -> Problem {
        let mut known: Vec<&str> = self.dcs.defaults.keys().map(String::as_str).collect();
        for dc in &self.dcs.all {
            known.extend(dc.values.keys().map(String::as_str));
        }
        known.sort_unstable();
        known.dedup();
        let hint = match crate::diagnostics::closest(name, known.iter().copied()) {
            Some(close) => format!("did you mean `<{close}>`?"),
            None if known.is_empty() => {
                "this provider defines no data centers, so its URLs take no placeholders".to_owned()
            }
            None => {
                let listed: Vec<String> = known.iter().map(|k| format!("<{k}>")).collect();
                format!("known placeholders: {}", listed.join(", "))
            }
        };
        let message = format!("unknown placeholder `<{name}>` in `{template}`");
        Problem::at(place, Anchor::Value, message).hint(hint)
    }

    /// Records `problem` unless the same kind of problem was already reported for `pointer`.
    fn report_once(&mut self, place: &Place, kind: &str, problem: Problem) {
        if self.reported.insert((place.clone(), kind.to_owned())) {
            self.problems.push(problem);
        }
    }

    fn template_problem(
        &mut self,
        place: Place,
        template: &str,
        error: TemplateError,
        dc: Option<&EffectiveDataCenter>,
    ) {
        match error {
            TemplateError::Malformed { at } => {
                let message = format!(
                    "malformed placeholder at character {} of `{template}`",
                    at + 1
                );
                let problem = Problem::at(&place, Anchor::Value, message)
                    .hint("write placeholders as `<name>`, with a lowercase name such as `<dc>`");
                self.report_once(&place, "<malformed>", problem);
            }
            TemplateError::Cycle { chain } => {
                let message = format!(
                    "placeholders expand into each other: {}",
                    chain.join(" -> ")
                );
                let problem = Problem::at(&place, Anchor::Value, message)
                    .hint("one of these placeholders must have a plain value");
                self.report_once(&place, "<cycle>", problem);
            }
            TemplateError::Missing { name } => {
                if !self.dcs.defines(&name) {
                    let problem = self.unknown_placeholder(&place, template, &name);
                    self.report_once(&place, &name, problem);
                    return;
                }
                let dc = dc.expect("placeholders defined somewhere imply data centers");
                self.missing
                    .entry((place, name))
                    .or_default()
                    .push(format!("`{}` ({})", dc.code, dc.name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn resolves_canada_and_the_china_entry_exception() {
        let resolved = resolve(&definition(|_| {}), None).unwrap();
        let ca = resolved.data_center("ca").unwrap();
        assert_eq!(ca.issuer, "https://accounts.zohocloud.ca");
        assert_eq!(ca.token_url, "https://accounts.zohocloud.ca/oauth/v2/token");
        assert_eq!(ca.api_base_urls["production"], "https://www.zohoapis.ca");
        assert_eq!(
            ca.entry_authorization_url,
            "https://accounts.zoho.com/oauth/v2/auth"
        );
        let cn = resolved.data_center("cn").unwrap();
        assert_eq!(cn.entry_data_center, "cn");
        assert_eq!(
            cn.entry_authorization_url,
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
            only.entry_authorization_url,
            "https://auth.example.com/authorize"
        );
        assert_eq!(only.refresh_url, "https://auth.example.com/token");
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
        assert_eq!(eu.token_url, "https://accounts.zoho.eu/oauth/v3/token");
        assert_eq!(eu.revoke_url, None);
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
        assert_eq!(resolved.data_center("eu").unwrap().entry_data_center, "us");
    }
}
