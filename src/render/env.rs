//! The names `render --format env` writes, checked before it writes them: a name made from two
//! different settings (data center `eu` with environment `west-production`, data center
//! `eu-west` with `production`) would have a dotenv reader keep one value and drop the other
//! without a word, so the output is refused, naming both.
//!
//! The names follow the built-in `env` template (templates/env.j2);
//! `names_are_those_the_template_writes` holds the two together.

use std::collections::HashMap;

use crate::env_var::env_var_name;
use crate::resolve::table::ResolvedProvider;

/// Two settings of one provider that the env output would write under one name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "provider `{provider}`: the env output would write `{name}` twice, for {first} and for \
     {second}; rename a data center or an API environment so that their names differ"
)]
pub struct EnvNameClash {
    /// The provider id.
    pub provider: String,
    /// The variable name both settings map to.
    pub name: String,
    /// The first setting, e.g. ``data center `eu`, environment `west-production` ``.
    pub first: String,
    /// The second setting.
    pub second: String,
}

/// Every name the env output writes for `provider`, with the setting it holds, in output
/// order.
fn names(provider: &ResolvedProvider) -> Vec<(String, String)> {
    let mut names = Vec::new();
    for dc in &provider.data_centers {
        let prefix = env_var_name(&format!("{}_{}", provider.id, dc.code));
        let setting = |what: &str| format!("data center `{}`, {what}", dc.code);
        // The names env.j2 writes, in its order, for the parts this mode has.
        let mut fixed = Vec::new();
        if dc.location.is_some() {
            fixed.push("LOCATION");
        }
        if dc.authorization.is_some() {
            fixed.extend(["ISSUER", "AUTHORIZATION_URL", "ENTRY_AUTHORIZATION_URL"]);
        }
        if let Some(token) = &dc.token {
            fixed.extend(["TOKEN_URL", "REFRESH_URL"]);
            if token.revoke_url.is_some() {
                fixed.push("REVOKE_URL");
            }
        }
        for suffix in fixed {
            let what = suffix.to_ascii_lowercase().replace('_', " ");
            names.push((format!("{prefix}_{suffix}"), setting(&what)));
        }
        for environment in dc.api_base_urls.keys() {
            names.push((
                format!("{prefix}_{}_API_URL", env_var_name(environment)),
                setting(&format!("environment `{environment}`")),
            ));
        }
    }
    names
}

/// The first name two settings of `provider` share, as an error naming both.
pub(super) fn check_names(provider: &ResolvedProvider) -> Result<(), EnvNameClash> {
    let mut seen: HashMap<String, String> = HashMap::new();
    for (name, setting) in names(provider) {
        if let Some(first) = seen.get(&name) {
            return Err(EnvNameClash {
                provider: provider.id.clone(),
                name,
                first: first.clone(),
                second: setting,
            });
        }
        seen.insert(name, setting);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::render::{Format, Output, Renderer};

    #[test]
    fn names_are_those_the_template_writes() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("providers");
        let catalog = crate::catalog::load(&[dir]).expect("readable");
        assert!(catalog.is_valid(), "{:#?}", catalog.diagnostics);
        let renderer = Renderer::new();
        for provider in catalog.providers.iter().map(|p| &p.resolved) {
            let text = renderer
                .provider(provider, &Output::Builtin(Format::Env))
                .unwrap();
            let written: Vec<&str> = text
                .lines()
                .filter(|line| !line.starts_with('#') && !line.is_empty())
                .map(|line| line.split_once('=').unwrap().0)
                .collect();
            let named: Vec<String> = names(provider).into_iter().map(|(name, _)| name).collect();
            assert_eq!(written, named, "{}", provider.id);
        }
    }
}
