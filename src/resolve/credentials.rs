//! Credential fields: the values each connection supplies for `api_key`, `basic` and
//! `token_request` (an API key, a username and a password), used as `<credentials.NAME>`.
//!
//! At resolve time the declarations are checked and each becomes a late name kept as
//! `<credentials.NAME>` in the table; where each is used is recorded like a connection value's.
//! `basic` always has `username` and `password`: a declaration customises one, an undeclared
//! one gets its default (username not secret, password secret).

use indexmap::IndexMap;
use regex::Regex;

use crate::definition::types::{AuthMode, CredentialField, ProviderDefinition};
use crate::resolve::connection::{LateName, LateNames, Stage};
use crate::resolve::table::ResolvedCredential;
use crate::resolve::template::CREDENTIALS_PREFIX;

/// The two fields of `basic`, in the order the `Authorization: Basic` pair takes them.
pub(crate) const BASIC_FIELDS: [&str; 2] = ["username", "password"];

/// The implied header of `basic`.
pub(crate) const BASIC_AUTHORIZATION: &str =
    "Basic <base64(<credentials.username>:<credentials.password>)>";

/// The credential fields in force: as declared, plus `basic`'s two when not declared.
pub(super) fn effective(definition: &ProviderDefinition) -> IndexMap<String, CredentialField> {
    let mut fields = definition
        .auth
        .as_ref()
        .map(|auth| auth.credentials.clone())
        .unwrap_or_default();
    if definition.mode() == AuthMode::Basic {
        for name in BASIC_FIELDS {
            fields.entry(name.to_owned()).or_default();
        }
    }
    fields
}

/// The late name of a credential: `credentials.apiKey`.
pub(super) fn late_name(name: &str) -> String {
    format!("{CREDENTIALS_PREFIX}{name}")
}

/// Adds each credential as a late name (known from the start, never in a URL's host or
/// path: the expansion refuses that on its own).
pub(super) fn declare(fields: &IndexMap<String, CredentialField>, late: &mut LateNames) {
    for name in fields.keys() {
        late.names.insert(
            late_name(name),
            LateName {
                available_from: Stage::Authorization,
                sample: "sample-credential".to_owned(),
                builtin: false,
            },
        );
    }
}

/// Whether a credential pattern compiles; the reason when it does not.
pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|error| {
        let reason = error.to_string();
        let reason = reason.lines().last().unwrap_or_default().trim();
        reason.strip_prefix("error: ").unwrap_or(reason).to_owned()
    })
}

/// The credentials of the table, with where each is used.
pub(super) fn resolved(
    fields: &IndexMap<String, CredentialField>,
    used_in: &IndexMap<String, Vec<String>>,
) -> IndexMap<String, ResolvedCredential> {
    fields
        .iter()
        .map(|(name, field)| {
            let title = field.title.clone().unwrap_or_else(|| match name.as_str() {
                "username" => "Username".to_owned(),
                "password" => "Password".to_owned(),
                _ => name.clone(),
            });
            let credential = ResolvedCredential {
                title,
                description: field.description.clone(),
                example: field.example.clone(),
                pattern: field.pattern.clone(),
                secret: field.is_secret(name),
                optional: field.optional,
                hidden: field.hidden,
                default: field.default.clone(),
                used_in: used_in.get(&late_name(name)).cloned().unwrap_or_default(),
            };
            (name.clone(), credential)
        })
        .collect()
}
