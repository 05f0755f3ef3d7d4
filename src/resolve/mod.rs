//! Resolution: a checked definition becomes its resolved endpoint table.
//!
//! Resolution and the semantic checks are one pass on purpose: to know that every URL is right
//! for every data center, each URL has to be built for every data center, and the URLs built are
//! the ones the table keeps. So validation cannot drift from what `render` prints and what the
//! OAuth engine calls.

pub mod data_centers;
pub mod problem;
pub mod table;
pub mod template;
pub mod url_rules;

use std::collections::BTreeMap;

use indexmap::IndexMap;

use crate::definition::document::escape_pointer_token;
use crate::definition::types::{ClientSecretMode, DataCenterSet, ProviderDefinition};
use crate::diagnostics::Anchor;
use data_centers::{EffectiveDataCenter, EffectiveDataCenters};
use problem::Problem;
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
    let (dcs, mut problems) = data_centers::effective(definition, set);
    let enabled = enabled_data_centers(definition, &dcs, &mut problems);
    let selection = Selection::new(definition, &dcs, &enabled, &mut problems);
    check_scopes(definition, &mut problems);
    check_callback(definition, &mut problems);

    let mut expander = Expander {
        dcs: &dcs,
        problems: Vec::new(),
        reported: BTreeMap::new(),
        missing: IndexMap::new(),
    };
    let mut resolved = Vec::new();
    let targets: Vec<Option<&EffectiveDataCenter>> = if definition.data_centers.is_none() {
        vec![None]
    } else {
        enabled.iter().map(|dc| Some(*dc)).collect()
    };
    for dc in &targets {
        resolved.push(expander.data_center(definition, *dc, &selection));
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
            scope_separator: definition.authorization.scope_separator.clone(),
            pkce: definition.authorization.pkce,
            params: definition.authorization.params.clone(),
        },
        token_auth_method: definition.token.auth_method,
        token_response_metadata: definition.token.response_metadata.clone(),
        revoke: definition
            .token
            .revoke
            .as_ref()
            .map(|revoke| RevokeRequest {
                client_auth: revoke.client_auth,
                token_in: revoke.token_in,
            }),
        callback: CallbackSpec {
            redirect_uri: definition.callback.redirect_uri.clone(),
            location_param: definition.callback.location_param.clone(),
            issuer_param: definition.callback.issuer_param.clone(),
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
            problems.push(unknown_dc(pointer, code, dcs));
        }
        seen.push(code);
    }
    dcs.all
        .iter()
        .filter(|dc| listed.contains(&dc.code))
        .collect()
}

fn unknown_dc(pointer: String, code: &str, dcs: &EffectiveDataCenters) -> Problem {
    let known = if dcs.all.is_empty() {
        "this provider defines no data centers".to_owned()
    } else {
        format!("defined data centers: {}", dcs.codes())
    };
    Problem::provider(
        pointer,
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
        dcs: &EffectiveDataCenters,
        enabled: &[&EffectiveDataCenter],
        problems: &mut Vec<Problem>,
    ) -> Self {
        let is_enabled = |code: &str| enabled.iter().any(|dc| dc.code == code);
        let check = |problems: &mut Vec<Problem>, pointer: String, code: &str, role: &str| {
            if dcs.get(code).is_none() {
                problems.push(unknown_dc(pointer, code, dcs));
            } else if !is_enabled(code) {
                problems.push(
                    Problem::provider(
                        pointer,
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
                check(problems, "/multi_dc/default".into(), code, "default");
                code.clone()
            }
            None => first,
        };
        let mut entry = BTreeMap::new();
        let entry_point = multi.and_then(|m| m.entry.as_ref());
        if let Some(point) = entry_point {
            check(
                problems,
                "/multi_dc/entry/default".into(),
                &point.default,
                "entry",
            );
            for (dc, target) in &point.exceptions {
                let pointer = format!("/multi_dc/entry/exceptions/{}", escape_pointer_token(dc));
                if dcs.get(dc).is_none() {
                    problems.push(unknown_dc(pointer.clone(), dc, dcs));
                }
                check(problems, pointer, target, "entry");
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

fn check_scopes(definition: &ProviderDefinition, problems: &mut Vec<Problem>) {
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
    if definition.authorization.scope_separator.is_empty() {
        problems.push(
            Problem::provider(
                "/authorization/scope_separator",
                Anchor::Value,
                "scope separator is empty",
            )
            .hint("use \" \" (RFC 6749) or \",\" (Zoho)"),
        );
    }
}

fn check_callback(definition: &ProviderDefinition, problems: &mut Vec<Problem>) {
    if let Err(problem) = check_url(&definition.callback.redirect_uri, UrlRole::Redirect) {
        let mut p = Problem::provider("/callback/redirect_uri", Anchor::Value, problem.message);
        p.hint = problem.hint;
        problems.push(p);
    }
    let multi = definition.multi_dc.as_ref().is_some_and(|m| m.enabled);
    if multi && definition.callback.location_param.is_none() {
        problems.push(
            Problem::provider("/callback", Anchor::Key, "multi-DC is enabled but `location_param` is missing")
                .hint("name the callback parameter that carries the user's data center, e.g. `location_param: location`"),
        );
    }
}

/// Expands templates for data centers, reporting each distinct problem once.
struct Expander<'a> {
    dcs: &'a EffectiveDataCenters,
    problems: Vec<Problem>,
    /// Problems already reported, so each is reported once, not once per data center.
    reported: BTreeMap<(String, String), usize>,
    /// (pointer, placeholder) -> the DCs that lack a value: one problem per template.
    missing: IndexMap<(String, String), Vec<String>>,
}

impl Expander<'_> {
    /// Every problem found, with one problem per template and placeholder naming all DCs that
    /// lack a value.
    fn finish(self) -> Vec<Problem> {
        let mut problems = self.problems;
        for ((pointer, name), dcs) in self.missing {
            let noun = if dcs.len() == 1 {
                "data center"
            } else {
                "data centers"
            };
            problems.push(
                Problem::provider(
                    pointer,
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
        let url = |this: &mut Self, pointer: &str, template: &str, role: UrlRole| {
            this.url(pointer, template, role, scope, dc)
        };
        let issuer = url(self, "/issuer", &definition.issuer, UrlRole::Origin);
        let authorization_url = url(
            self,
            "/authorization/url",
            &definition.authorization.url,
            UrlRole::Endpoint,
        );
        let token_url = url(self, "/token/url", &definition.token.url, UrlRole::Endpoint);
        let refresh_url = match &definition.token.refresh_url {
            Some(template) => url(self, "/token/refresh_url", template, UrlRole::Endpoint),
            None => token_url.clone(),
        };
        let revoke_url = match &definition.token.revoke {
            Some(revoke) => Some(url(
                self,
                "/token/revoke/url",
                &revoke.url,
                UrlRole::Endpoint,
            )?),
            None => None,
        };
        let mut api_base_urls = IndexMap::new();
        for (environment, template) in definition.api.iter().flat_map(|api| &api.environments) {
            let pointer = format!("/api/environments/{}", escape_pointer_token(environment));
            if let Some(base) = url(self, &pointer, template, UrlRole::Endpoint) {
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
                .filter(|_| definition.callback.location_param.is_some())
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
        pointer: &str,
        template: &str,
        role: UrlRole,
        scope: Scope<'_>,
        dc: Option<&EffectiveDataCenter>,
    ) -> Option<String> {
        let expanded = match template::expand(template, scope) {
            Ok(expanded) => expanded,
            Err(error) => {
                self.template_problem(pointer, template, error, dc);
                return None;
            }
        };
        match check_url(&expanded, role) {
            Ok(_) => Some(expanded),
            Err(problem) => {
                let message = match dc {
                    Some(dc) => format!("{} (data center `{}`)", problem.message, dc.code),
                    None => problem.message,
                };
                let key = (pointer.to_owned(), problem_key(&expanded, template));
                if self.reported.insert(key, 1).is_none() {
                    let mut p = Problem::provider(pointer, Anchor::Value, message);
                    p.hint = problem.hint;
                    self.problems.push(p);
                }
                None
            }
        }
    }

    fn template_problem(
        &mut self,
        pointer: &str,
        template: &str,
        error: TemplateError,
        dc: Option<&EffectiveDataCenter>,
    ) {
        match error {
            TemplateError::Malformed { at } => {
                if self
                    .reported
                    .insert((pointer.to_owned(), "<malformed>".into()), 1)
                    .is_none()
                {
                    self.problems.push(
                        Problem::provider(
                            pointer,
                            Anchor::Value,
                            format!(
                                "malformed placeholder at character {} of `{template}`",
                                at + 1
                            ),
                        )
                        .hint(
                            "write placeholders as `<name>`, with a lowercase name such as `<dc>`",
                        ),
                    );
                }
            }
            TemplateError::Cycle { chain } => {
                if self
                    .reported
                    .insert((pointer.to_owned(), "<cycle>".into()), 1)
                    .is_none()
                {
                    self.problems.push(
                        Problem::provider(
                            pointer,
                            Anchor::Value,
                            format!(
                                "placeholders expand into each other: {}",
                                chain.join(" -> ")
                            ),
                        )
                        .hint("one of these placeholders must have a plain value"),
                    );
                }
            }
            TemplateError::Missing { name } => {
                let key = (pointer.to_owned(), name.clone());
                if !self.dcs.defines(&name) {
                    if self.reported.insert(key, 1).is_none() {
                        let mut known: Vec<&str> =
                            self.dcs.defaults.keys().map(String::as_str).collect();
                        for dc in &self.dcs.all {
                            known.extend(dc.values.keys().map(String::as_str));
                        }
                        known.sort_unstable();
                        known.dedup();
                        let hint = match crate::diagnostics::closest(&name, known.iter().copied()) {
                            Some(close) => format!("did you mean `<{close}>`?"),
                            None if known.is_empty() => "this provider defines no data centers, so its URLs take no placeholders".to_owned(),
                            None => format!("known placeholders: {}", known.iter().map(|k| format!("<{k}>")).collect::<Vec<_>>().join(", ")),
                        };
                        self.problems.push(
                            Problem::provider(
                                pointer,
                                Anchor::Value,
                                format!("unknown placeholder `<{name}>` in `{template}`"),
                            )
                            .hint(hint),
                        );
                    }
                    return;
                }
                let dc = dc.expect("placeholders defined somewhere imply data centers");
                self.missing
                    .entry((pointer.to_owned(), name))
                    .or_default()
                    .push(format!("`{}` ({})", dc.code, dc.name));
            }
        }
    }
}

/// Identifies a URL problem independent of the DC when the template has no placeholders, so a
/// wrong constant URL is reported once, not once per data center.
fn problem_key(expanded: &str, template: &str) -> String {
    if template.contains('<') {
        expanded.to_owned()
    } else {
        template.to_owned()
    }
}
