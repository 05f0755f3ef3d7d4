//! The provider sections in force: the provider's own, or the ones its data-center set shares
//! under `provider_defaults`, each with the place it was written so problems point there.

use crate::definition::types::{
    Authorization, Callback, DataCenterSet, EntryPoint, ProviderDefinition, Template, Token,
};
use crate::diagnostics::Anchor;
use crate::resolve::problem::{Origin, Place, Problem};

/// A section and where it was written.
#[derive(Debug)]
pub struct Sourced<'a, T> {
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
    pub fn place(&self, path: &str) -> Place {
        Place {
            origin: self.origin,
            pointer: format!("{}{path}", self.base),
        }
    }
}

/// Every provider section that may come from a shared set.
#[derive(Debug, Clone, Copy)]
pub struct Sections<'a> {
    /// The issuer template.
    pub issuer: Sourced<'a, Template>,
    /// The authorization section.
    pub authorization: Sourced<'a, Authorization>,
    /// The token section.
    pub token: Sourced<'a, Token>,
    /// The callback section.
    pub callback: Sourced<'a, Callback>,
    /// The multi-DC entry point, if any.
    pub entry: Option<Sourced<'a, EntryPoint>>,
}

/// Picks each section from the provider, else from the set's `provider_defaults`; a section
/// that neither gives is a problem.
pub fn sections<'a>(
    definition: &'a ProviderDefinition,
    set: Option<&'a DataCenterSet>,
) -> Result<Sections<'a>, Vec<Problem>> {
    let defaults = set.and_then(|set| set.provider_defaults.as_ref());
    let mut problems = Vec::new();
    let mut pick = |name: &str| {
        problems.push(
            Problem::provider("", Anchor::Key, format!("missing required field `{name}`")).hint(
                match set {
                    Some(_) => format!(
                        "write `{name}` here, or under `provider_defaults` in the data-center set"
                    ),
                    None => format!("add `{name}`"),
                },
            ),
        );
    };
    let own = |base: &'static str| (Origin::Provider, base);
    let shared = (Origin::DataCenterSet, "/provider_defaults");
    macro_rules! section {
        ($field:ident, $name:literal) => {
            match (&definition.$field, defaults.and_then(|d| d.$field.as_ref())) {
                (Some(value), _) => Some(sourced(value, own(""))),
                (None, Some(value)) => Some(sourced(value, shared)),
                (None, None) => {
                    pick($name);
                    None
                }
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
        (Some(value), _) => Some(sourced(value, own("/multi_dc"))),
        (None, Some(value)) => Some(sourced(value, shared)),
        (None, None) => None,
    };
    match (issuer, authorization, token, callback) {
        (Some(issuer), Some(authorization), Some(token), Some(callback)) => Ok(Sections {
            issuer,
            authorization,
            token,
            callback,
            entry,
        }),
        _ => Err(problems),
    }
}

fn sourced<'a, T>(value: &'a T, (origin, base): (Origin, &'static str)) -> Sourced<'a, T> {
    Sourced {
        value,
        origin,
        base,
    }
}
