//! Expansion: every template of a provider, built for every enabled data center. This is the
//! one place resolution builds URLs.
//!
//! Data-center placeholders are replaced here. Connection values (`<subdomain>`,
//! `<instance_url>`) stay as `<name>` in the table (filled per connection by
//! [`crate::resolve::connection::fill`]); to check the URL's shape anyway, each template is
//! also expanded with sample values (a parameter's `example`) and that URL goes through the same
//! URL rules. Each distinct problem is reported once, naming every data center it affects.

use std::collections::BTreeSet;

use indexmap::IndexMap;

use crate::definition::document::escape_pointer_token;
use crate::definition::types::{ClientIdMode, ClientSecretMode, ProviderDefinition, ValueKind};
use crate::diagnostics::{Anchor, Kind};
use crate::resolve::checks::{MultiDcSelection, provider_place};
use crate::resolve::connection::{LateName, LateNames, Stage};
use crate::resolve::data_centers::{EffectiveDataCenter, EffectiveDataCenters};
use crate::resolve::host_shape::{self, HostShape};
use crate::resolve::plain_url;
use crate::resolve::problem::{Place, Problem};
use crate::resolve::sections::Sections;
use crate::resolve::table::{
    AuthorizationEndpoints, ResolvedDataCenter, SINGLE_DATA_CENTER, TokenEndpoints,
};
use crate::resolve::template::{self, PlaceholderError, PlaceholderValues};
use crate::resolve::url_rules::{self, UrlRole, check_url};

/// Where an expanded template goes in the table, and how early in the flow it is used.
#[derive(Debug, Clone)]
pub(super) struct Usage {
    /// The table entry, e.g. `token_url`, `api_base_urls.production`.
    pub(super) entry: String,
    /// When the value is needed.
    pub(super) stage: Stage,
    /// Whether `<credentials.NAME>` and `<base64(...)>` may be used here.
    pub(super) credentials: bool,
}

impl Usage {
    pub(super) fn new(entry: impl Into<String>, stage: Stage) -> Self {
        Usage {
            entry: entry.into(),
            stage,
            credentials: false,
        }
    }

    /// The same usage, where credentials may be used.
    pub(super) fn with_credentials(mut self, allowed: bool) -> Self {
        self.credentials = allowed;
        self
    }
}

/// One URL template, where it is written and where its expansion goes.
pub(super) struct EndpointTemplate<'d> {
    place: Place,
    template: &'d str,
    role: UrlRole,
    usage: Usage,
    /// Whether credentials may be in the URL's query string (`token.url` only).
    query_credentials: bool,
}

/// The templates every data center expands, each with its place and table entry: built once
/// per provider, so their pointer and entry strings are not formatted again for every data
/// center.
pub(super) struct Templates<'d> {
    issuer: Option<EndpointTemplate<'d>>,
    authorization: Option<EndpointTemplate<'d>>,
    token: Option<EndpointTemplate<'d>>,
    refresh: Option<EndpointTemplate<'d>>,
    revoke: Option<EndpointTemplate<'d>>,
    /// API base URL templates by environment.
    api: Vec<(&'d String, EndpointTemplate<'d>)>,
    /// Scope names with placeholders in them, and where each is written.
    scope_names: Vec<(&'d str, Place)>,
}

impl<'d> Templates<'d> {
    pub(super) fn new(definition: &'d ProviderDefinition, sections: &Sections<'d>) -> Self {
        let (issuer, authorization, token) =
            (sections.issuer, sections.authorization, sections.token);
        let endpoint = |place, template: &'d str, entry: &str, stage| EndpointTemplate {
            place,
            template,
            role: UrlRole::Endpoint,
            // Where in the URL a credential is is `credentials_in_url`'s to say.
            usage: Usage::new(entry, stage).with_credentials(true),
            query_credentials: false,
        };
        let token_section = token;
        Templates {
            issuer: issuer.map(|issuer| EndpointTemplate {
                role: UrlRole::Origin,
                ..endpoint(
                    issuer.place("/issuer"),
                    issuer.value,
                    "issuer",
                    Stage::Authorization,
                )
            }),
            authorization: authorization.map(|authorization| {
                endpoint(
                    authorization.place("/authorization/url"),
                    &authorization.value.url,
                    "authorization_url",
                    Stage::Authorization,
                )
            }),
            token: token_section.map(|token| EndpointTemplate {
                query_credentials: true,
                ..endpoint(
                    token.place("/token/url"),
                    &token.value.url,
                    "token_url",
                    Stage::TokenExchange,
                )
            }),
            refresh: token_section
                .and_then(|token| Some((token, token.value.refresh_url.as_ref()?)))
                .map(|(token, template)| {
                    endpoint(
                        token.place("/token/refresh_url"),
                        template,
                        "refresh_url",
                        Stage::AfterToken,
                    )
                }),
            revoke: token_section
                .and_then(|token| Some((token, token.value.revoke.as_ref()?)))
                .map(|(token, revoke)| {
                    endpoint(
                        token.place("/token/revoke/url"),
                        &revoke.url,
                        "revoke_url",
                        Stage::AfterToken,
                    )
                }),
            api: definition
                .api
                .iter()
                .flat_map(|api| &api.environments)
                .map(|(environment, template)| {
                    let pointer =
                        format!("/api/environments/{}", escape_pointer_token(environment));
                    let entry = format!("api_base_urls.{environment}");
                    let place = provider_place(pointer);
                    (
                        environment,
                        endpoint(place, template, &entry, Stage::AfterToken),
                    )
                })
                .collect(),
            scope_names: definition
                .scopes
                .catalog
                .iter()
                .enumerate()
                .filter(|(_, scope)| scope.name.contains('<'))
                .map(|(index, scope)| {
                    let place = provider_place(format!("/scopes/catalog/{index}/name"));
                    (scope.name.as_str(), place)
                })
                .collect(),
        }
    }
}

/// Expands templates for data centers, reporting each distinct problem once.
pub(super) struct Expander<'a> {
    dcs: &'a EffectiveDataCenters,
    late: &'a LateNames,
    /// Late names kept as `<name>`: what the table holds.
    keep: IndexMap<String, Option<String>>,
    /// Late names replaced by samples: what the URL rules check.
    samples: IndexMap<String, Option<String>>,
    problems: Vec<Problem>,
    /// (place, kind) of problems already reported: each once, not once per data center.
    reported: BTreeSet<(Place, String)>,
    /// (place, placeholder) -> the DCs that lack a value: one problem per template.
    missing: IndexMap<(Place, String), Vec<String>>,
    /// (value's place, value's name, undefined name) -> the first template that used the value
    /// and every DC it was expanded for: a name a data-center value introduces is reported
    /// once, at that value, not at each template that uses it.
    undefined_in_values: IndexMap<(Place, String, String), (Place, Vec<String>)>,
    /// (place, broken rule) -> the first problem and every DC whose URL breaks the rule.
    broken_urls: IndexMap<(Place, &'static str), (url_rules::UrlProblem, Vec<String>)>,
    /// Late name -> the table entries that use it.
    pub(super) used_in: IndexMap<String, Vec<String>>,
}

impl<'a> Expander<'a> {
    pub(super) fn new(dcs: &'a EffectiveDataCenters, late: &'a LateNames) -> Self {
        Expander {
            dcs,
            late,
            keep: late.names.keys().map(|name| (name.clone(), None)).collect(),
            samples: late
                .names
                .iter()
                .map(|(name, late)| (name.clone(), Some(late.sample.clone())))
                .collect(),
            problems: Vec::new(),
            reported: BTreeSet::new(),
            missing: IndexMap::new(),
            undefined_in_values: IndexMap::new(),
            broken_urls: IndexMap::new(),
            used_in: IndexMap::new(),
        }
    }

    /// Every problem found, with one problem per template and placeholder naming all DCs that
    /// lack a value.
    pub(super) fn finish(self) -> Vec<Problem> {
        let mut undefined = Vec::new();
        for ((value, via, name), (used, dcs)) in &self.undefined_in_values {
            let whose = match dcs.len() {
                0 => String::new(),
                1 => format!("data center {}: ", dcs[0]),
                _ => format!("data centers {}: ", dcs.join(", ")),
            };
            let message = format!("{whose}`<{name}>` in value `{via}` is not defined");
            undefined.push(
                Problem::at(Kind::UnknownPlaceholder, value, Anchor::Value, message)
                    .hint(self.unknown_hint(name))
                    .related(
                        used.clone(),
                        Anchor::Value,
                        format!("`<{via}>` is used here"),
                    ),
            );
        }
        let mut problems = self.problems;
        for ((place, _), (problem, dcs)) in self.broken_urls {
            let kind = problem.kind();
            let message = match dcs.len() {
                0 => problem.message,
                1 => format!("{} (data center {})", problem.message, dcs[0]),
                _ => format!("{} (data centers {})", problem.message, dcs.join(", ")),
            };
            let mut located = Problem::at(kind, &place, Anchor::Value, message);
            located.hint = problem.hint;
            problems.push(located);
        }
        problems.append(&mut undefined);
        for ((place, name), dcs) in self.missing {
            let noun = if dcs.len() == 1 {
                "data center"
            } else {
                "data centers"
            };
            problems.push(
                Problem::at(
                    Kind::MissingDcValue,
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

    /// Every endpoint of one data center (or of the single site of a provider without data
    /// centers).
    pub(super) fn data_center(
        &mut self,
        definition: &ProviderDefinition,
        sections: &Sections<'_>,
        templates: &Templates<'_>,
        dc: Option<&EffectiveDataCenter>,
        selection: &MultiDcSelection,
    ) -> Option<ResolvedDataCenter> {
        let code = dc
            .map_or(SINGLE_DATA_CENTER, |dc| dc.code.as_str())
            .to_owned();
        let issuer = templates.issuer.as_ref().map(|issuer| self.url(issuer, dc));
        let authorization_url = templates
            .authorization
            .as_ref()
            .map(|authorization| self.url(authorization, dc));
        let token_url = templates.token.as_ref().map(|token| self.url(token, dc));
        let refresh_url = match &templates.refresh {
            Some(refresh) => self.url(refresh, dc),
            None => token_url.clone().flatten(),
        };
        let revoke_url = match &templates.revoke {
            Some(revoke) => Some(self.url(revoke, dc)?),
            None => None,
        };
        let mut api_base_urls = IndexMap::new();
        for (environment, template) in &templates.api {
            if let Some(base) = self.url(template, dc) {
                api_base_urls.insert((*environment).clone(), base);
            }
        }
        let mut scope_names = IndexMap::new();
        let usage = Usage::new("scopes", Stage::Authorization);
        for (name, place) in &templates.scope_names {
            if let Some(expanded) = self.text(place, name, dc, &usage) {
                scope_names.insert((*name).to_owned(), expanded);
            }
        }
        let client_secret_key = match selection.client_secret {
            ClientSecretMode::Shared => "shared".to_owned(),
            ClientSecretMode::PerDataCenter => code.clone(),
        };
        let client_id_key = match selection.client_id {
            ClientIdMode::Shared => None,
            ClientIdMode::PerDataCenter => Some(code.clone()),
        };
        let authorization = match (issuer, authorization_url) {
            (Some(issuer), Some(authorization_url)) => Some(AuthorizationEndpoints {
                issuer: issuer?,
                authorization_url: authorization_url?,
                entry_data_center: selection
                    .entry
                    .get(&code)
                    .cloned()
                    .unwrap_or_else(|| code.clone()),
                entry_authorization_url: String::new(),
            }),
            _ => None,
        };
        let token = match token_url {
            Some(token_url) => Some(TokenEndpoints {
                token_url: token_url?,
                refresh_url: refresh_url?,
                revoke_url,
            }),
            None => None,
        };
        Some(ResolvedDataCenter {
            name: dc.map_or_else(|| definition.display_name.clone(), |dc| dc.name.clone()),
            location: dc
                .filter(|_| {
                    sections
                        .callback
                        .is_some_and(|callback| callback.value.location_param.is_some())
                })
                .map(|dc| dc.location.clone()),
            authorization,
            token,
            api_base_urls,
            client_secret_key,
            client_id_key,
            scope_names,
            code,
        })
    }

    /// Records that the table entry `entry` uses the late name `name` (a value the table
    /// implies rather than one a template names).
    pub(super) fn record_use(&mut self, name: &str, entry: &str) {
        let entries = self.used_in.entry(name.to_owned()).or_default();
        if !entries.iter().any(|known| known == entry) {
            entries.push(entry.to_owned());
        }
    }

    /// Expands a parameter or header map that is the same for every data center: connection
    /// values only, no data-center placeholders.
    pub(super) fn parameters(
        &mut self,
        base: &Place,
        params: &IndexMap<String, String>,
        entry: &str,
        stage: Stage,
        credentials: bool,
    ) -> IndexMap<String, String> {
        let mut out = IndexMap::new();
        for (name, template) in params {
            let place = Place {
                origin: base.origin,
                pointer: format!("{}/{}", base.pointer, escape_pointer_token(name)),
            };
            let usage = Usage::new(format!("{entry}.{name}"), stage).with_credentials(credentials);
            if let Some(value) = self.text(&place, template, None, &usage) {
                out.insert(name.clone(), value);
            }
        }
        out
    }

    /// Expands a URL template for one data center, keeping connection values as `<name>`, and
    /// checks the URL built with sample values against the URL rules.
    fn url(
        &mut self,
        endpoint: &EndpointTemplate<'_>,
        dc: Option<&EffectiveDataCenter>,
    ) -> Option<String> {
        let EndpointTemplate {
            place,
            template,
            role,
            usage,
            query_credentials,
        } = endpoint;
        // The schema refuses these already; a definition built in code gets the same words.
        if template.bytes().any(|b| b == b'{' || b == b'}') {
            let (message, hint) = template::brace_problem(template);
            let problem =
                Problem::at(Kind::BadPlaceholder, place, Anchor::Value, message).hint(hint);
            self.report_once(place, "<braces>", problem);
            return None;
        }
        let kept = self.text(place, template, dc, usage)?;
        if let Some(problem) = credentials_in_url(place, &kept, *query_credentials) {
            self.report_once(place, "<credentials>", problem);
            return None;
        }
        if kept.contains('<') {
            self.host_shape(endpoint, &kept, dc);
        }
        // Connection values are kept as `<name>`; a URL without one (most URLs, every URL of a
        // provider without connection values) is already its own sample, so it is expanded
        // once, not twice (the second expansion was much of `resolve`'s work, BENCHMARKS.md).
        let expanded_sample;
        let has_late = kept.contains('<');
        let sample = if has_late {
            let empty = IndexMap::new();
            let sample_scope = PlaceholderValues {
                values: dc.map_or(&empty, |dc| &dc.values),
                defaults: &self.dcs.defaults,
                late: &self.samples,
            };
            expanded_sample = template::expand(template, sample_scope)
                .expect("the template expanded with late names kept");
            &expanded_sample
        } else {
            &kept
        };
        let checked = if !has_late {
            // Nothing is left to fill in later, so nothing can move the host from the one
            // checked here, and the parsed URL is not needed.
            plain_url::check_url_text(sample, *role)
        } else {
            check_url(sample, *role).and_then(|url| {
                host_shape::check_filled_host(&kept, sample, &url, false)
                    .map_err(fixed_host_problem)
            })
        };
        match checked {
            Ok(_) => Some(kept),
            Err(problem) => {
                let dcs = self
                    .broken_urls
                    .entry((place.clone(), problem.rule))
                    .or_insert_with(|| (problem, Vec::new()));
                dcs.1.extend(dc.map(|dc| format!("`{}`", dc.code)));
                None
            }
        }
    }

    /// Checks where connection values stand in the host of `kept` (the template with its
    /// data-center placeholders expanded): a value that could choose the registrable domain must
    /// be enumerated, a whole host must be declared as one, and every URL an allowed value
    /// builds must pass the URL rules and keep what the template fixes.
    fn host_shape(
        &mut self,
        endpoint: &EndpointTemplate<'_>,
        kept: &str,
        dc: Option<&EffectiveDataCenter>,
    ) {
        let EndpointTemplate {
            place,
            template,
            role,
            ..
        } = endpoint;
        let mut refused = Vec::new();
        let mut enumerated = Vec::new();
        match HostShape::of(kept) {
            HostShape::WholeHost(name) => match self.late.names.get(name) {
                Some(late) if late.allowed.is_some() => enumerated.push(name),
                Some(late) if late.kind == ValueKind::Segment => refused.push((
                    name,
                    format!(
                        "`<{name}>` is the whole host of `{template}`, but it is declared as part of a label or path segment"
                    ),
                    "declare it `kind: host` with a pattern that bounds the hosts it may name, or list the hosts allowed under `enum`".to_owned(),
                )),
                _ => {}
            },
            HostShape::LeftOfDomain { names, .. } => enumerated.extend(names),
            HostShape::Open(open) => {
                for (name, openness) in open.values {
                    let Some(late) = self.late.names.get(name) else {
                        continue;
                    };
                    if late.allowed.is_some() {
                        enumerated.push(name);
                        continue;
                    }
                    let hint = if late.available_from == Stage::Authorization {
                        "list the values allowed under `enum` (e.g. `enum: [com, co.uk, de]`), put the value left of a fixed registrable domain (`<tenant>.example.com`), or declare it as a whole host (`kind: host`) bounded by its pattern"
                    } else {
                        "a value learnt during the flow cannot be enumerated: use it as a whole host (`kind: host`) or a whole URL (`kind: url`) bounded by its pattern, or left of a fixed registrable domain (`<tenant>.example.com`)"
                    };
                    refused.push((
                        name,
                        format!(
                            "`<{name}>` {} in the host of `{template}`, so a value such as `evil.com` would move the request to another domain",
                            openness.describe()
                        ),
                        hint.to_owned(),
                    ));
                }
            }
            HostShape::Fixed(_) | HostShape::WholeUrl(_) => {}
        }
        for (name, message, hint) in refused {
            let mut problem =
                Problem::at(Kind::MovableHost, place, Anchor::Value, message).hint(hint);
            if let Some(declared) = self
                .late
                .names
                .get(name)
                .and_then(|l| l.declared_at.clone())
            {
                problem =
                    problem.related(declared, Anchor::Key, format!("`{name}` is declared here"));
            }
            self.report_once(place, &format!("<host {name}>"), problem);
        }
        let empty = IndexMap::new();
        for name in enumerated {
            let allowed = self.late.names[name].allowed.clone().unwrap_or_default();
            for value in allowed {
                let mut late = self.samples.clone();
                late.insert(name.to_owned(), Some(value.clone()));
                let scope = PlaceholderValues {
                    values: dc.map_or(&empty, |dc| &dc.values),
                    defaults: &self.dcs.defaults,
                    late: &late,
                };
                let Ok(filled) = template::expand(template, scope) else {
                    continue;
                };
                let checked = check_url(&filled, *role)
                    .map_err(|problem| problem.message)
                    .and_then(|url| host_shape::check_filled_host(kept, &filled, &url, false));
                if let Err(reason) = checked {
                    let problem = Problem::at(
                        Kind::BadUrl,
                        place,
                        Anchor::Value,
                        format!(
                            "the allowed value `{value}` of `<{name}>` is refused here: {reason}"
                        ),
                    )
                    .hint(format!(
                        "allow only values of `{name}` that give a valid host in `{template}`"
                    ));
                    self.report_once(place, &format!("<allowed {name} {value}>"), problem);
                }
            }
        }
    }

    /// Expands a template for one data center (`None`: data-center placeholders not allowed),
    /// keeping connection values as `<name>` and recording where each is used.
    fn text(
        &mut self,
        place: &Place,
        template: &str,
        dc: Option<&EffectiveDataCenter>,
        usage: &Usage,
    ) -> Option<String> {
        let empty = IndexMap::new();
        let allows_dc_values = dc.is_some() || self.dcs.all.is_empty();
        let scope = PlaceholderValues {
            values: dc.map_or(&empty, |dc| &dc.values),
            defaults: if allows_dc_values {
                &self.dcs.defaults
            } else {
                &empty
            },
            late: &self.keep,
        };
        let kept = match template::expand(template, scope) {
            Ok(kept) => kept,
            Err(error) => {
                self.template_problem(place, template, error, dc);
                return None;
            }
        };
        if !kept.contains('<') {
            // No connection value left in it (most templates): nothing to record or refuse.
            return Some(kept);
        }
        if !usage.credentials && template::uses_credentials(&kept) {
            let message = format!(
                "credentials cannot be used in `{}` (`{template}`)",
                usage.entry
            );
            let problem = Problem::at(Kind::MisplacedCredential, place, Anchor::Value, message)
                .hint(template::CREDENTIAL_PLACES);
            self.report_once(place, "<credentials>", problem);
            return None;
        }
        let names = template::placeholders(&kept).expect("a kept expansion is well formed");
        let mut too_early = false;
        for name in names {
            let Some(late) = self.late.names.get(name) else {
                continue;
            };
            if let Some(problem) = late.refuse_at(name, usage.stage, place, template) {
                self.report_once(place, name, problem);
                too_early = true;
            }
            // Counted even when too early: that use is the problem, not a missing one.
            let entries = self.used_in.entry(name.to_owned()).or_default();
            if !entries.contains(&usage.entry) {
                entries.push(usage.entry.clone());
            }
        }
        (!too_early).then_some(kept)
    }

    fn unknown_placeholder(&self, place: &Place, template: &str, name: &str) -> Problem {
        let message = match template::credential_name(name) {
            Some(field) => {
                format!("credential `{field}` is not declared (`<{name}>` in `{template}`)")
            }
            None => format!("unknown placeholder `<{name}>` in `{template}`"),
        };
        Problem::at(Kind::UnknownPlaceholder, place, Anchor::Value, message)
            .hint(self.unknown_hint(name))
    }

    /// How to fix a placeholder nothing defines: the closest known name, or the known ones.
    fn unknown_hint(&self, name: &str) -> String {
        if let Some(field) = template::credential_name(name) {
            let declared = self
                .late
                .names
                .keys()
                .filter(|late| template::credential_name(late).is_some());
            return match crate::diagnostics::closest(name, declared.map(String::as_str)) {
                Some(close) => format!("did you mean `<{close}>`?"),
                None => format!("declare `{field}` under `auth.credentials`"),
            };
        }
        let mut known: Vec<&str> = self.dcs.defaults.keys().map(String::as_str).collect();
        for dc in &self.dcs.all {
            known.extend(dc.values.keys().map(String::as_str));
        }
        known.extend(
            self.late
                .names
                .iter()
                .filter(|(_, late)| !matches!(late, LateName { builtin: true, .. }))
                .map(|(name, _)| name.as_str()),
        );
        known.sort_unstable();
        known.dedup();
        match crate::diagnostics::closest(name, known.iter().copied()) {
            Some(close) => format!("did you mean `<{close}>`?"),
            None if known.is_empty() => {
                "declare it under `connection.params` if each connection supplies it, or give it a value per data center".to_owned()
            }
            None => {
                let listed: Vec<String> = known.iter().map(|k| format!("<{k}>")).collect();
                format!(
                    "known placeholders: {}; a value each connection supplies is declared under `connection.params`",
                    listed.join(", ")
                )
            }
        }
    }

    /// Records `problem` unless the same kind of problem was already reported for `place`.
    fn report_once(&mut self, place: &Place, kind: &str, problem: Problem) {
        if self.reported.insert((place.clone(), kind.to_owned())) {
            self.problems.push(problem);
        }
    }

    fn template_problem(
        &mut self,
        place: &Place,
        template: &str,
        error: PlaceholderError,
        dc: Option<&EffectiveDataCenter>,
    ) {
        match error {
            PlaceholderError::Malformed { at } => {
                let (message, hint) = template::malformed_problem(template, at);
                let problem =
                    Problem::at(Kind::BadPlaceholder, place, Anchor::Value, message).hint(hint);
                self.report_once(place, "<malformed>", problem);
            }
            PlaceholderError::Cycle { chain } => {
                let message = format!(
                    "placeholders expand into each other: {}",
                    chain.join(" -> ")
                );
                let problem = Problem::at(Kind::BadPlaceholder, place, Anchor::Value, message)
                    .hint("one of these placeholders must have a plain value");
                self.report_once(place, "<cycle>", problem);
            }
            PlaceholderError::Missing { name, via } => {
                let value = via
                    .as_ref()
                    .and_then(|via| Some((via, self.dcs.value_place(dc, via)?)));
                if let (false, Some((via, value))) = (self.dcs.defines(&name), value) {
                    let (_, dcs) = self
                        .undefined_in_values
                        .entry((value, via.clone(), name))
                        .or_insert_with(|| (place.clone(), Vec::new()));
                    if let Some(dc) = dc {
                        let code = format!("`{}`", dc.code);
                        if !dcs.contains(&code) {
                            dcs.push(code);
                        }
                    }
                    return;
                }
                if !self.dcs.defines(&name) {
                    let problem = self.unknown_placeholder(place, template, &name);
                    self.report_once(place, &name, problem);
                    return;
                }
                let Some(dc) = dc else {
                    let problem = Problem::at(
                        Kind::BadPlaceholder,
                        place,
                        Anchor::Value,
                        format!("data-center placeholder `<{name}>` cannot be used here"),
                    )
                    .hint("parameters and headers are the same for every data center; only connection values (`connection.params`) can be used in them");
                    self.report_once(place, &name, problem);
                    return;
                };
                self.missing
                    .entry((place.clone(), name))
                    .or_default()
                    .push(format!("`{}` ({})", dc.code, dc.name));
            }
        }
    }
}

/// A credential in a URL's host or path, or in a query string that may not hold one: a
/// credential must never decide where a request goes, nor be written into a URL that is logged
/// or shown.
fn credentials_in_url(place: &Place, kept: &str, query_allowed: bool) -> Option<Problem> {
    if !template::uses_credentials(kept) {
        return None;
    }
    let (before_query, query) = match kept.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (kept, None),
    };
    let message = if template::uses_credentials(before_query) {
        format!("a credential is used in the host or path of `{kept}`")
    } else if !query_allowed && query.is_some_and(template::uses_credentials) {
        format!("a credential is used in the query string of `{kept}`")
    } else {
        return None;
    };
    Some(
        Problem::at(Kind::MisplacedCredential, place, Anchor::Value, message).hint(format!(
            "credentials are never in a host or a path; {}",
            template::CREDENTIAL_PLACES
        )),
    )
}

/// A URL whose host a connection value could move, in the words of the URL rules.
fn fixed_host_problem(message: String) -> url_rules::UrlProblem {
    url_rules::UrlProblem {
        rule: url_rules::FIXED_HOST,
        message,
        hint: Some(
            "a whole-URL value (`kind: url`) must start the template; inside a host, use `kind: segment` or `kind: host`".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::definition::types::ProviderDefinition;
    use crate::resolve::resolve;

    /// A definition built in code skips the schema; it still gets the words, not a DNS error.
    #[test]
    fn a_foreign_placeholder_in_a_url_is_named_once_without_the_schema() {
        let definition: ProviderDefinition = serde_yaml::from_str(
            r#"
id: t
display_name: T
data_centers:
  list:
    - { code: us, name: United States, values: { login_host: login.example.com } }
    - { code: eu, name: Europe, values: { login_host: login.example.eu } }
issuer: "https://<login_host>"
authorization: { url: "https://<login_host>/authorize" }
token: { url: "https://${login_host}/token" }
callback: { redirect_uri: "https://app.example.com/callback" }
scopes: { catalog: [{ name: a, description: A }] }
"#,
        )
        .unwrap();
        let problems = resolve(&definition, None).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].pointer, "/token/url");
        assert_eq!(
            problems[0].message,
            "`${login_host}` looks like Nango's placeholder syntax; placeholders here are written `<login_host>`"
        );
    }
}
