//! The provider sections in force: the provider's own, or the ones its data-center set shares
//! under `provider_defaults`, each with the place it was written so problems point there.

use crate::definition::types::{
    AuthMode, Authorization, Callback, DataCenterSet, EntryPoint, ProviderDefinition, Template,
    Token,
};
use crate::diagnostics::{Anchor, Kind};
use crate::resolve::problem::{Origin, Place, Problem};

/// A section and where it was written.
#[derive(Debug)]
pub(crate) struct Sourced<'a, T> {
    /// The section.
    pub value: &'a T,
    origin: Origin,
    /// Pointer of the section's parent (`""` for the provider's top level,
    /// `/provider_defaults` in a set, `/multi_dc` for the provider's own entry).
    base: &'static str,
}

// Derived Clone/Copy would demand `T: Copy`; only the reference is copied.
impl<T> Clone for Sourced<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Sourced<'_, T> {}

impl<T> Sourced<'_, T> {
    /// The place of `path` (e.g. `/authorization/url`) inside this section's file.
    pub(crate) fn place(&self, path: &str) -> Place {
        Place {
            origin: self.origin,
            pointer: format!("{}{path}", self.base),
        }
    }
}

/// Every provider section that may come from a shared set, as the auth mode uses them: a
/// section the mode does not use is `None` even when written (`written_but_unused` reports
/// that), and a shared set's default for it is not taken.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sections<'a> {
    /// The issuer template (`oauth2_code`).
    pub issuer: Option<Sourced<'a, Template>>,
    /// The authorization section (`oauth2_code`).
    pub authorization: Option<Sourced<'a, Authorization>>,
    /// The token section (token modes).
    pub token: Option<Sourced<'a, Token>>,
    /// The callback section (`oauth2_code`).
    pub callback: Option<Sourced<'a, Callback>>,
    /// The multi-DC entry point, if any (`oauth2_code`).
    pub entry: Option<Sourced<'a, EntryPoint>>,
}

/// What an auth mode does with a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    /// The mode needs it (written here or shared by the set).
    Required,
    /// The mode may use it.
    Allowed,
    /// The mode has no use for it: writing it is a mistake.
    Refused,
}

/// What `mode` does with the section `name` (`issuer`, `authorization`, `token`, `callback`,
/// `scopes`, `credentials`, `api`).
pub(crate) fn section_use(mode: AuthMode, name: &str) -> Use {
    use AuthMode::{ApiKey, Basic, ClientCredentials, Oauth2Code, TokenRequest};
    match (name, mode) {
        ("issuer" | "authorization" | "callback", Oauth2Code) => Use::Required,
        ("issuer" | "authorization" | "callback", _) => Use::Refused,
        ("token", Oauth2Code | ClientCredentials | TokenRequest) => Use::Required,
        ("token", ApiKey | Basic) => Use::Refused,
        ("scopes", Oauth2Code | ClientCredentials) => Use::Allowed,
        ("scopes", _) => Use::Refused,
        ("credentials", Oauth2Code | ClientCredentials) => Use::Refused,
        ("credentials", ApiKey | TokenRequest) => Use::Required,
        ("credentials", Basic) => Use::Allowed,
        ("api", ApiKey | Basic) => Use::Required,
        _ => Use::Allowed,
    }
}

/// Picks each section the mode uses from the provider, else from the set's
/// `provider_defaults`; a required section that neither gives is a problem.
pub(crate) fn sections<'a>(
    definition: &'a ProviderDefinition,
    set: Option<&'a DataCenterSet>,
) -> Result<Sections<'a>, Vec<Problem>> {
    let mode = definition.mode();
    let defaults = set.and_then(|set| set.provider_defaults.as_ref());
    let mut problems = Vec::new();
    let mut pick = |name: &str| {
        let hint = match set {
            Some(_) => {
                format!("write `{name}` here, or under `provider_defaults` in the data-center set")
            }
            None => format!("add `{name}`"),
        };
        let message = match mode {
            AuthMode::Oauth2Code => format!("missing required field `{name}`"),
            _ => format!(
                "missing required field `{name}`: `{}` uses it",
                mode.as_str()
            ),
        };
        problems.push(Problem::provider(Kind::MissingField, "", Anchor::Key, message).hint(hint));
    };
    let own = |base: &'static str| (Origin::Provider, base);
    let shared = (Origin::DataCenterSet, "/provider_defaults");
    macro_rules! section {
        ($field:ident, $name:literal) => {
            match (
                section_use(mode, $name),
                &definition.$field,
                defaults.and_then(|d| d.$field.as_ref()),
            ) {
                (Use::Refused, _, _) => None,
                (_, Some(value), _) => Some(sourced(value, own(""))),
                (_, None, Some(value)) => Some(sourced(value, shared)),
                (Use::Required, None, None) => {
                    pick($name);
                    None
                }
                (_, None, None) => None,
            }
        };
    }
    let issuer = section!(issuer, "issuer");
    let authorization = section!(authorization, "authorization");
    let token = section!(token, "token");
    let callback = section!(callback, "callback");
    let entry = match (
        definition.multi_dc.as_ref().and_then(|m| m.entry.as_ref()),
        defaults.and_then(|d| d.entry.as_ref()),
    ) {
        _ if section_use(mode, "authorization") == Use::Refused => None,
        (Some(value), _) => Some(sourced(value, own("/multi_dc"))),
        (None, Some(value)) => Some(sourced(value, shared)),
        (None, None) => None,
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Sections {
        issuer,
        authorization,
        token,
        callback,
        entry,
    })
}

fn sourced<'a, T>(value: &'a T, (origin, base): (Origin, &'static str)) -> Sourced<'a, T> {
    Sourced {
        value,
        origin,
        base,
    }
}
