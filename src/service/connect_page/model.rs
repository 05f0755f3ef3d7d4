//! The page model: what the connect page asks, built from the provider's resolved definition,
//! the session's fixed settings and the platform's client.
//!
//! [`ConnectForm`] is the list of questions, used both to render the page and to read its
//! submission ([`super::form`]), so the server accepts exactly what the page offers:
//! - the data center, when the provider has several, cannot learn the user's from the
//!   callback (`multi_dc` off) and the platform did not fix one; only data centers the
//!   platform has a client id and secret for are offered. A provider that learns it from the
//!   callback is asked only which entry server to start at, when its data centers have more
//!   than one (Zoho's China);
//! - the environment, when the provider defines more than one and the platform fixed none;
//! - each connection parameter the platform did not fix (label from its name, its description
//!   as help, its example as placeholder, its pattern as the input's `pattern`);
//! - for `api_key`, `basic` and `token_request`, each credential that is not hidden (its
//!   title, description, example; a password input for a secret).
//!
//! [`ConnectForm::model`] turns it, with what the user typed and what was refused, into the
//! [`PageModel`] the template renders. A secret the user typed is never sent back.

use std::collections::BTreeMap;

use serde::Serialize;

use super::ConnectSettings;
use super::pattern::html_pattern;
use crate::definition::types::{AuthMode, ConnectionParam};
use crate::resolve::table::{ResolvedCredential, ResolvedDataCenter, ResolvedProvider};
use crate::service::authorization::environments;
use crate::service::config::ProviderClient;

/// The form field of the data-center choice.
pub(crate) const DATA_CENTER_FIELD: &str = "data_center";
/// The form field of the environment choice.
pub(crate) const ENVIRONMENT_FIELD: &str = "environment";
/// Prefix of a connection parameter's form field (`param.tenant`).
pub(crate) const PARAM_PREFIX: &str = "param.";
/// Prefix of a credential's form field (`credential.apiKey`).
pub(crate) const CREDENTIAL_PREFIX: &str = "credential.";

/// The questions of one session's page.
#[derive(Debug)]
pub(crate) struct ConnectForm<'a> {
    /// The provider (unfilled table).
    pub(crate) provider: &'a ResolvedProvider,
    /// Whether the user is sent on to the provider (`oauth2_code`) rather than typing
    /// credentials.
    pub(crate) oauth: bool,
    /// The data centers offered, when the user chooses (two or more).
    pub(crate) data_centers: Vec<DataCenterOption>,
    /// The one data center the platform's client serves, when there is nothing to choose
    /// but the provider cannot learn it from the callback.
    pub(crate) implied_data_center: Option<String>,
    /// The environments offered, when the user chooses (two or more).
    pub(crate) environments: Vec<String>,
    /// The connection parameters asked, in definition order.
    pub(crate) params: Vec<(&'a str, &'a ConnectionParam)>,
    /// The credentials asked, in definition order.
    pub(crate) credentials: Vec<(&'a str, &'a ResolvedCredential)>,
    /// The scopes requested, as `(name, description)`.
    scopes: Vec<(String, String)>,
}

/// One answer to "where is your account?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DataCenterOption {
    /// The value the form posts.
    pub(crate) value: String,
    /// What the user reads.
    pub(crate) label: String,
    /// The data center the flow starts in; `None` to start at the provider's entry server,
    /// which sends the user on to theirs.
    pub(crate) data_center: Option<String>,
    /// Whether it is chosen until the user says otherwise.
    pub(crate) default: bool,
}

/// The choice a provider that learns the user's data center from the callback still needs:
/// which entry server to start at, when its data centers have more than one (Zoho: China's
/// accounts start at China's own server, every other at the global one). One option per entry
/// server, naming the data centers it serves; the default data center's group starts at the
/// entry server with no data center named, so the provider still decides.
fn entry_choices(
    provider: &ResolvedProvider,
    offered: &[&ResolvedDataCenter],
) -> Vec<DataCenterOption> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for dc in offered {
        let Some(entry) = dc
            .authorization
            .as_ref()
            .map(|a| a.entry_data_center.as_str())
        else {
            continue;
        };
        match groups.iter_mut().find(|(code, _)| *code == entry) {
            Some((_, names)) => names.push(&dc.name),
            None => groups.push((entry, vec![&dc.name])),
        }
    }
    if groups.len() < 2 {
        return Vec::new();
    }
    let default_entry = provider
        .data_center(&provider.default_data_center)
        .and_then(|dc| dc.authorization.as_ref())
        .map(|a| a.entry_data_center.as_str());
    groups
        .into_iter()
        .map(|(entry, names)| {
            let default = Some(entry) == default_entry;
            DataCenterOption {
                value: entry.to_owned(),
                label: names.join(", "),
                data_center: (!default).then(|| entry.to_owned()),
                default,
            }
        })
        .collect()
}

/// What the user typed or chose, by form field name (secrets left out when shown again).
pub(crate) type Entered = BTreeMap<String, String>;

/// Messages for the page: one per refused field, and one about the whole form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Refusals {
    /// Form field name → what is wrong with its value.
    pub(crate) fields: BTreeMap<String, String>,
    /// What is wrong with the submission as a whole.
    pub(crate) form: Option<String>,
}

impl Refusals {
    /// A refusal of the whole form.
    pub(crate) fn form(message: impl Into<String>) -> Self {
        Self {
            fields: BTreeMap::new(),
            form: Some(message.into()),
        }
    }

    /// Whether nothing was refused.
    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.form.is_none()
    }
}

impl<'a> ConnectForm<'a> {
    /// The questions for `provider` under `settings`; `client` decides which data centers an
    /// OAuth user may choose.
    pub(crate) fn new(
        provider: &'a ResolvedProvider,
        client: Option<&ProviderClient>,
        settings: &ConnectSettings,
    ) -> Self {
        let oauth = provider.auth_mode == AuthMode::Oauth2Code;
        let offered: Vec<&ResolvedDataCenter> = provider
            .data_centers
            .iter()
            .filter(|dc| {
                !oauth
                    || client.is_some_and(|client| {
                        client.credentials.client_id_for(dc).is_ok()
                            && client.credentials.secret_for(dc).is_ok()
                    })
            })
            .collect();
        let (data_centers, implied_data_center) = match &settings.data_center {
            Some(_) => (Vec::new(), None),
            None if provider.multi_dc => (entry_choices(provider, &offered), None),
            None => match offered.as_slice() {
                [only] => (Vec::new(), Some(only.code.clone())),
                [_, _, ..] => (
                    offered
                        .iter()
                        .map(|dc| DataCenterOption {
                            value: dc.code.clone(),
                            label: dc.name.clone(),
                            data_center: Some(dc.code.clone()),
                            default: dc.code == provider.default_data_center,
                        })
                        .collect(),
                    None,
                ),
                [] => (Vec::new(), None),
            },
        };
        let environments = match environments(provider).as_slice() {
            names @ [_, _, ..] if settings.environment.is_none() => {
                names.iter().map(|name| (*name).to_owned()).collect()
            }
            _ => Vec::new(),
        };
        let params = provider
            .connection
            .params
            .iter()
            .filter(|(name, _)| !settings.params.contains_key(*name))
            .map(|(name, input)| (name.as_str(), &input.declared))
            .collect();
        let credentials = match provider.auth_mode {
            AuthMode::ApiKey | AuthMode::Basic | AuthMode::TokenRequest => provider
                .credentials
                .iter()
                .filter(|(_, credential)| !credential.hidden)
                .map(|(name, credential)| (name.as_str(), credential))
                .collect(),
            _ => Vec::new(),
        };
        let scopes = if oauth {
            let requested = if settings.scopes.is_empty() {
                &provider.default_scopes
            } else {
                &settings.scopes
            };
            // Names as the platform's (or default) data center sends them.
            let dc = settings
                .data_center
                .as_deref()
                .and_then(|code| provider.data_center(code))
                .or_else(|| provider.data_center(&provider.default_data_center));
            requested
                .iter()
                .filter_map(|name| provider.scopes.iter().find(|s| &s.name == name))
                .map(|scope| {
                    let sent = dc
                        .and_then(|dc| dc.scope_names.get(&scope.name))
                        .unwrap_or(&scope.name);
                    (sent.clone(), scope.description.clone())
                })
                .collect()
        } else {
            Vec::new()
        };
        Self {
            provider,
            oauth,
            data_centers,
            implied_data_center,
            environments,
            params,
            credentials,
            scopes,
        }
    }

    /// The page for this form with the user's values and the refusals shown next to their
    /// fields; `csrf` is the form's token.
    pub(crate) fn model(&self, entered: &Entered, refused: &Refusals, csrf: &str) -> PageModel {
        let name = &self.provider.display_name;
        let mut choices = Vec::new();
        if !self.data_centers.is_empty() {
            let chosen = entered.get(DATA_CENTER_FIELD);
            choices.push(ChoiceModel {
                id: "data-center".into(),
                name: DATA_CENTER_FIELD.into(),
                label: format!("Where is your {name} account?"),
                help: Some(format!(
                    "{name} keeps accounts in separate regions; choose the one your account was created in."
                )),
                options: self
                    .data_centers
                    .iter()
                    .map(|option| OptionModel {
                        value: option.value.clone(),
                        label: option.label.clone(),
                        selected: match chosen {
                            Some(chosen) => chosen == &option.value,
                            None => option.default,
                        },
                    })
                    .collect(),
                error: refused.fields.get(DATA_CENTER_FIELD).cloned(),
                described_by: None,
            });
        }
        if !self.environments.is_empty() {
            let chosen = entered.get(ENVIRONMENT_FIELD);
            choices.push(ChoiceModel {
                id: "environment".into(),
                name: ENVIRONMENT_FIELD.into(),
                label: "Environment".into(),
                help: Some(format!("Which {name} environment to connect.")),
                options: self
                    .environments
                    .iter()
                    .map(|environment| OptionModel {
                        value: environment.clone(),
                        label: sentence_case(environment),
                        selected: chosen.is_some_and(|c| c == environment),
                    })
                    .collect(),
                error: refused.fields.get(ENVIRONMENT_FIELD).cloned(),
                described_by: None,
            });
        }
        let mut fields = Vec::new();
        for (param, declared) in &self.params {
            let field = format!("{PARAM_PREFIX}{param}");
            let required = !declared.optional && declared.default.is_none();
            let help = match &declared.default {
                Some(default) => format!("{} Leave it empty for {default}.", declared.description),
                None => declared.description.clone(),
            };
            fields.push(FieldModel {
                id: format!("param-{}", html_id(param)),
                label: sentence_case(&words(param)),
                kind: "text",
                required,
                pattern: html_pattern(&declared.pattern),
                placeholder: Some(declared.example.clone()),
                help: Some(help),
                value: entered.get(&field).cloned().unwrap_or_default(),
                error: refused.fields.get(&field).cloned(),
                described_by: None,
                name: field,
            });
        }
        for (credential, declared) in &self.credentials {
            let field = format!("{CREDENTIAL_PREFIX}{credential}");
            fields.push(FieldModel {
                id: format!("credential-{}", html_id(credential)),
                label: declared.title.clone(),
                kind: if declared.secret { "password" } else { "text" },
                required: !declared.optional && declared.default.is_none(),
                pattern: declared.pattern.as_deref().and_then(html_pattern),
                placeholder: declared.example.clone(),
                help: declared.description.clone(),
                value: if declared.secret {
                    String::new()
                } else {
                    entered.get(&field).cloned().unwrap_or_default()
                },
                error: refused.fields.get(&field).cloned(),
                described_by: None,
                name: field,
            });
        }
        for choice in &mut choices {
            choice.described_by =
                described_by(&choice.id, choice.help.is_some(), choice.error.is_some());
        }
        for field in &mut fields {
            field.described_by =
                described_by(&field.id, field.help.is_some(), field.error.is_some());
        }
        let problems = choices
            .iter()
            .map(|c| (&c.id, &c.label, &c.error))
            .chain(fields.iter().map(|f| (&f.id, &f.label, &f.error)))
            .filter_map(|(id, label, error)| {
                Some(ProblemModel {
                    id: id.clone(),
                    label: label.clone(),
                    message: error.clone()?,
                })
            })
            .collect();
        // A refusal of a field the page does not show (one the platform fixed) is said above
        // the form, never dropped.
        let shown: Vec<&str> = choices
            .iter()
            .map(|c| c.name.as_str())
            .chain(fields.iter().map(|f| f.name.as_str()))
            .collect();
        let unshown: Vec<&str> = refused
            .fields
            .iter()
            .filter(|(field, _)| !shown.contains(&field.as_str()))
            .map(|(_, message)| message.as_str())
            .collect();
        let error = match (&refused.form, unshown.is_empty()) {
            (form, true) => form.clone(),
            (form, false) => Some(
                form.iter()
                    .map(String::as_str)
                    .chain(unshown)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        };
        PageModel {
            provider: name.clone(),
            oauth: self.oauth,
            scopes: self
                .scopes
                .iter()
                .map(|(name, description)| ScopeModel {
                    name: name.clone(),
                    description: description.clone(),
                })
                .collect(),
            choices,
            fields,
            problems,
            error,
            csrf: csrf.to_owned(),
            submit: if self.oauth {
                format!("Continue to {name}")
            } else {
                "Connect".to_owned()
            },
        }
    }
}

/// The connect page as the template reads it.
#[derive(Debug, Serialize)]
pub(crate) struct PageModel {
    /// The provider's display name.
    pub(crate) provider: String,
    /// Whether submitting sends the user on to the provider.
    pub(crate) oauth: bool,
    /// What the connection will be allowed to do.
    pub(crate) scopes: Vec<ScopeModel>,
    /// Data center and environment choices.
    pub(crate) choices: Vec<ChoiceModel>,
    /// Connection parameters, then credentials.
    pub(crate) fields: Vec<FieldModel>,
    /// The refused choices and fields, in page order, for the summary above the form.
    pub(crate) problems: Vec<ProblemModel>,
    /// A message about the whole form.
    pub(crate) error: Option<String>,
    /// The CSRF token.
    pub(crate) csrf: String,
    /// The submit button's text.
    pub(crate) submit: String,
}

/// One requested scope.
#[derive(Debug, Serialize)]
pub(crate) struct ScopeModel {
    /// The scope as sent.
    pub(crate) name: String,
    /// What it allows.
    pub(crate) description: String,
}

/// A refused field, as the summary above the form names it (with a link to the field).
#[derive(Debug, Serialize)]
pub(crate) struct ProblemModel {
    /// The field's element id.
    pub(crate) id: String,
    /// The field's label.
    pub(crate) label: String,
    /// Why its value was refused.
    pub(crate) message: String,
}

/// A choice among a few values (a `<select>`).
#[derive(Debug, Serialize)]
pub(crate) struct ChoiceModel {
    /// The element id.
    pub(crate) id: String,
    /// The form field.
    pub(crate) name: String,
    /// The label.
    pub(crate) label: String,
    /// Help text.
    pub(crate) help: Option<String>,
    /// The values offered.
    pub(crate) options: Vec<OptionModel>,
    /// Why the submitted value was refused.
    pub(crate) error: Option<String>,
    /// The ids of its help and error text (`aria-describedby`), when it has either.
    pub(crate) described_by: Option<String>,
}

/// One value of a choice.
#[derive(Debug, Serialize)]
pub(crate) struct OptionModel {
    /// The value submitted.
    pub(crate) value: String,
    /// What the user reads.
    pub(crate) label: String,
    /// Whether it is the chosen one.
    pub(crate) selected: bool,
}

/// One text or password input.
#[derive(Debug, Serialize)]
pub(crate) struct FieldModel {
    /// The element id (the label's `for`).
    pub(crate) id: String,
    /// The form field.
    pub(crate) name: String,
    /// The label.
    pub(crate) label: String,
    /// `text`, or `password` for a secret.
    pub(crate) kind: &'static str,
    /// Whether a value is needed.
    pub(crate) required: bool,
    /// The `pattern` attribute, when the pattern has a faithful one.
    pub(crate) pattern: Option<String>,
    /// The placeholder (the definition's example).
    pub(crate) placeholder: Option<String>,
    /// Help text (the definition's description).
    pub(crate) help: Option<String>,
    /// The value shown (never a secret).
    pub(crate) value: String,
    /// Why the submitted value was refused.
    pub(crate) error: Option<String>,
    /// The ids of its help and error text (`aria-describedby`), when it has either.
    pub(crate) described_by: Option<String>,
}

/// The `aria-describedby` of the control `id`: the ids the template gives its help text
/// (`ID-help`) and its error (`ID-error`), those it has.
fn described_by(id: &str, help: bool, error: bool) -> Option<String> {
    let ids: Vec<String> = [(help, "help"), (error, "error")]
        .into_iter()
        .filter(|(has, _)| *has)
        .map(|(_, part)| format!("{id}-{part}"))
        .collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// A name in words: `instanceUrl` and `instance_url` → `instance url`.
fn words(name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c == '_' || c == '-' || c == '.' {
            out.push(' ');
            previous_lower = false;
        } else if c.is_uppercase() && previous_lower {
            out.push(' ');
            out.extend(c.to_lowercase());
            previous_lower = false;
        } else {
            out.push(c);
            previous_lower = c.is_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

/// The first letter upper-cased.
pub(super) fn sentence_case(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A name fit for an element id: letters, digits, `-` and `_`; anything else as `-`.
fn html_id(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_words() {
        assert_eq!(sentence_case(&words("subdomain")), "Subdomain");
        assert_eq!(sentence_case(&words("instance_url")), "Instance url");
        assert_eq!(sentence_case(&words("tenantId")), "Tenant id");
        assert_eq!(html_id("a.b c"), "a-b-c");
    }
}
