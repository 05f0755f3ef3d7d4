//! Narrowing a resolved catalog to some data centers and API environments (`render --dc`,
//! `--env`).
//!
//! Filtering works on the resolved table, never on URLs: it keeps or drops whole rows, so the
//! narrowed output shows exactly the URLs the full output shows for the rows kept.

use std::collections::BTreeSet;

use crate::resolve::table::ResolvedProvider;

/// Which data centers and environments to keep. An empty list keeps everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Data-center codes (`eu`, `ca`, or `default` for a provider without data centers).
    pub data_centers: Vec<String>,
    /// API environment names (`production`, `sandbox`, `developer`).
    pub environments: Vec<String>,
}

/// A selection naming something no provider in the catalog has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// A `--dc` code that no rendered provider defines.
    #[error("unknown data center `{code}`; known data centers: {}", known.join(", "))]
    UnknownDataCenter {
        /// The code asked for.
        code: String,
        /// Every code the rendered providers define, sorted.
        known: Vec<String>,
    },
    /// An `--env` name that no rendered provider defines.
    #[error(
        "unknown environment `{name}`; known environments: {}",
        known_or_none(known)
    )]
    UnknownEnvironment {
        /// The name asked for.
        name: String,
        /// Every environment the rendered providers define, sorted.
        known: Vec<String>,
    },
}

fn known_or_none(known: &[String]) -> String {
    if known.is_empty() {
        "none (no provider has an `api` section)".to_owned()
    } else {
        known.join(", ")
    }
}

impl Selection {
    /// Whether the selection keeps everything (no `--dc`, no `--env`).
    pub fn is_empty(&self) -> bool {
        self.data_centers.is_empty() && self.environments.is_empty()
    }
}

/// Narrows `providers` to the selected data centers and environments.
///
/// A name is unknown (an error listing the known ones) when no provider in `providers` has it.
/// A provider that has none of the selected data centers, or none of the selected environments,
/// is left out, so `render providers/ --dc eu` renders the providers that run in Europe.
pub fn narrow(
    providers: &[ResolvedProvider],
    selection: &Selection,
) -> Result<Vec<ResolvedProvider>, FilterError> {
    let mut known = KnownNames::default();
    for provider in providers {
        known.add(provider);
    }
    known.check(selection)?;
    Ok(providers
        .iter()
        .filter_map(|provider| narrow_one(provider.clone(), selection))
        .collect())
}

/// The data-center codes and environment names a catalog has, gathered one provider at a time
/// so that a streamed catalog can check a [`Selection`] once every provider has been seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownNames {
    data_centers: BTreeSet<String>,
    environments: BTreeSet<String>,
}

impl KnownNames {
    /// Adds the names `provider` has (before any narrowing).
    pub fn add(&mut self, provider: &ResolvedProvider) {
        for dc in &provider.data_centers {
            insert(&mut self.data_centers, &dc.code);
            for name in dc.api_base_urls.keys() {
                insert(&mut self.environments, name);
            }
        }
    }

    /// Adds names gathered elsewhere (another thread's share of the catalog).
    pub fn merge(&mut self, other: KnownNames) {
        self.data_centers.extend(other.data_centers);
        self.environments.extend(other.environments);
    }

    /// The first selected name no provider has, as an error listing the known ones.
    pub fn check(&self, selection: &Selection) -> Result<(), FilterError> {
        if let Some(code) = selection
            .data_centers
            .iter()
            .find(|code| !self.data_centers.contains(code.as_str()))
        {
            return Err(FilterError::UnknownDataCenter {
                code: code.clone(),
                known: self.data_centers.iter().cloned().collect(),
            });
        }
        if let Some(name) = selection
            .environments
            .iter()
            .find(|name| !self.environments.contains(name.as_str()))
        {
            return Err(FilterError::UnknownEnvironment {
                name: name.clone(),
                known: self.environments.iter().cloned().collect(),
            });
        }
        Ok(())
    }
}

fn insert(names: &mut BTreeSet<String>, name: &str) {
    if !names.contains(name) {
        names.insert(name.to_owned());
    }
}

/// Narrows one provider in place (nothing is copied); `None` when it has none of the selected
/// data centers or environments. An empty selection gives the provider back unchanged.
pub fn narrow_one(
    mut provider: ResolvedProvider,
    selection: &Selection,
) -> Option<ResolvedProvider> {
    if !selection.data_centers.is_empty() {
        provider
            .data_centers
            .retain(|dc| selection.data_centers.contains(&dc.code));
    }
    if !selection.environments.is_empty() {
        for dc in &mut provider.data_centers {
            dc.api_base_urls
                .retain(|name, _| selection.environments.contains(name));
        }
        if provider
            .data_centers
            .iter()
            .all(|dc| dc.api_base_urls.is_empty())
        {
            return None;
        }
    }
    (!provider.data_centers.is_empty()).then_some(provider)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn bundled() -> Vec<ResolvedProvider> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("providers");
        let catalog = crate::catalog::load(&[dir]).expect("readable");
        assert!(catalog.is_valid(), "{:#?}", catalog.diagnostics);
        catalog.providers.into_iter().map(|p| p.resolved).collect()
    }

    fn select(dcs: &[&str], envs: &[&str]) -> Selection {
        Selection {
            data_centers: dcs.iter().map(|s| (*s).to_owned()).collect(),
            environments: envs.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn an_empty_selection_keeps_everything() {
        let providers = bundled();
        assert_eq!(
            narrow(&providers, &Selection::default()).unwrap(),
            providers
        );
    }

    #[test]
    fn narrowing_keeps_rows_unchanged() {
        let providers = bundled();
        let narrowed = narrow(&providers, &select(&["ca"], &["sandbox"])).unwrap();
        assert_eq!(narrowed.len(), 1, "only zoho-crm has `ca` and a sandbox");
        assert_eq!(narrowed[0].id, "zoho-crm");
        let ca = &narrowed[0].data_centers[0];
        let original = providers
            .iter()
            .find(|p| p.id == "zoho-crm")
            .and_then(|p| p.data_center("ca"))
            .unwrap();
        assert_eq!(
            ca.token.as_ref().unwrap().token_url,
            original.token.as_ref().unwrap().token_url
        );
        assert_eq!(
            ca.api_base_urls.iter().collect::<Vec<_>>(),
            [(&"sandbox".to_owned(), &original.api_base_urls["sandbox"])]
        );
    }

    #[test]
    fn the_default_pseudo_data_center_selects_single_site_providers() {
        let narrowed = narrow(&bundled(), &select(&["default"], &[])).unwrap();
        let ids: Vec<&str> = narrowed.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "anthropic",
                "auth0-m2m",
                "freshdesk",
                "gitlab",
                "heap",
                "salesforce",
                "shopify"
            ]
        );
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let error = narrow(&bundled(), &select(&["ae"], &[])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown data center `ae`; known data centers: au, ca, china, cn, default, eu, global, in, jp, sa, uk, us, usgov"
        );
        let error = narrow(&bundled(), &select(&[], &["prod"])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown environment `prod`; known environments: beta, developer, production, sandbox"
        );
    }
}
