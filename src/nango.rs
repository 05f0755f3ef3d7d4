//! Comparison of a provider family with Nango's catalog (`providers.yaml` of Nango's public
//! repository): which data centers each side offers, and where the hosts each side would call
//! differ.
//!
//! Why it exists: the differences between our definitions and Nango's are the argument for
//! describing a family once, so they must be computed from both files, never written by hand.
//! The README's family table is [`markdown_table`] of [`compare`], and a test keeps it fresh.
//!
//! How Nango's entries are read: exactly as Nango's `loadProvidersYaml`
//! (packages/providers/lib/index.ts) reads them. Entries are visited in file order; an entry with
//! `alias: BASE` is replaced by `{ ...BASE, ...own fields without alias }`, a shallow merge with
//! `BASE` as it stands at that moment, so an alias of an alias already resolved above it gets the
//! resolved fields (`google-calendar-mcp` → `google-calendar` → `google`). [`NangoCatalog`] is
//! the one reader of Nango's file: the family comparison here and the importer
//! (`crate::import`) both read entries through it. Nango URLs may hold several alternatives joined by
//! ` || `; the first one is the one Nango builds from the user's connection config, so it is the
//! one compared. `${connectionConfig.extension}` is replaced by the data center's domain
//! extension (our `dc` placeholder). A first alternative that still needs another value
//! (`${connectionConfig.api_domain}`, ...) is not comparable and is skipped.

use std::fmt::Write as _;

use serde_yaml::{Mapping, Value};

use crate::catalog::Provider;
use crate::definition::types::DataCenterSet;
use crate::resolve::data_centers;

/// The text Nango's templates use for the user's domain extension.
const EXTENSION_VARIABLE: &str = "${connectionConfig.extension}";

/// Nango's `providers.yaml` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum NangoCatalogError {
    /// Not YAML, or not a mapping of provider ids to entries.
    #[error("Nango providers file is not a YAML mapping of providers: {0}")]
    NotACatalog(String),
}

/// Nango's provider catalog, as parsed from its `providers.yaml`, aliases resolved.
#[derive(Debug, Clone)]
pub struct NangoCatalog {
    /// Every entry in file order, each with its alias already merged in (and `alias` removed).
    entries: Mapping,
    /// The `alias` each entry named in the file, by entry id.
    aliases: std::collections::HashMap<String, String>,
}

/// One Nango entry with its alias already merged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NangoEntry {
    /// The entry's id (e.g. `zoho-books`).
    pub id: String,
    /// The entry it aliases, if any (e.g. `zoho`).
    pub alias: Option<String>,
    /// Every field of the entry after the alias merge, as Nango's server sees it (without
    /// `alias`). The importer reads all of them, so that none is dropped unnoticed.
    pub fields: Mapping,
    /// `authorization_url` template.
    pub authorization_url: Option<String>,
    /// `token_url` template.
    pub token_url: Option<String>,
    /// `proxy.base_url` template: the API base Nango calls.
    pub api_base_url: Option<String>,
    /// The domain extensions Nango offers (`connection_config.extension.enum`).
    pub extensions: Vec<String>,
}

impl NangoCatalog {
    /// Parses Nango's `providers.yaml` text.
    pub fn parse(text: &str) -> Result<Self, NangoCatalogError> {
        let value: Value = serde_yaml::from_str(text)
            .map_err(|e| NangoCatalogError::NotACatalog(e.to_string()))?;
        let Value::Mapping(mut entries) = value else {
            return Err(NangoCatalogError::NotACatalog(
                "the top level is not a mapping".into(),
            ));
        };
        let mut aliases = std::collections::HashMap::new();
        let keys: Vec<Value> = entries.keys().cloned().collect();
        for key in keys {
            let Some(own) = entries.get(&key).and_then(Value::as_mapping) else {
                continue;
            };
            let Some(alias) = own.get("alias").and_then(Value::as_str).map(str::to_owned) else {
                continue;
            };
            // `{ ...aliasData, ...overrides }`: the base's fields in the base's order, each
            // replaced in place by the entry's own value, then the entry's other fields.
            let mut merged = entries
                .get(alias.as_str())
                .and_then(Value::as_mapping)
                .cloned()
                .unwrap_or_default();
            for (field, value) in own {
                if field.as_str() != Some("alias") {
                    merged.insert(field.clone(), value.clone());
                }
            }
            if let Some(id) = key.as_str() {
                aliases.insert(id.to_owned(), alias);
            }
            entries.insert(key, Value::Mapping(merged));
        }
        Ok(NangoCatalog { entries, aliases })
    }

    /// Every entry id, in file order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().filter_map(Value::as_str)
    }

    /// The entry `id`, with the fields of the entry it aliases merged under its own.
    pub fn entry(&self, id: &str) -> Option<NangoEntry> {
        let own = self.entries.get(id)?.as_mapping()?;
        let field = |key: &str| own.get(key);
        let string = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
        Some(NangoEntry {
            id: id.to_owned(),
            alias: self.aliases.get(id).cloned(),
            fields: own.clone(),
            authorization_url: string(field("authorization_url")),
            token_url: string(field("token_url")),
            api_base_url: string(field("proxy").and_then(|p| p.get("base_url"))),
            extensions: field("connection_config")
                .and_then(|c| c.get("extension"))
                .and_then(|e| e.get("enum"))
                .and_then(Value::as_sequence)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
}

/// Nango's scope lists (`providers.scopes.yaml`): the scopes each provider offers, by provider
/// id. Read as Nango reads it: a plain mapping, with no alias resolution.
#[derive(Debug, Clone, Default)]
pub struct NangoScopes {
    lists: std::collections::HashMap<String, Vec<String>>,
}

impl NangoScopes {
    /// Parses Nango's `providers.scopes.yaml` text.
    pub fn parse(text: &str) -> Result<Self, NangoCatalogError> {
        let value: Value = serde_yaml::from_str(text)
            .map_err(|e| NangoCatalogError::NotACatalog(e.to_string()))?;
        let Value::Mapping(entries) = value else {
            return Err(NangoCatalogError::NotACatalog(
                "the scopes file's top level is not a mapping".into(),
            ));
        };
        let lists = entries
            .iter()
            .filter_map(|(id, list)| {
                let names = list
                    .as_sequence()?
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                Some((id.as_str()?.to_owned(), names))
            })
            .collect();
        Ok(NangoScopes { lists })
    }

    /// The scopes listed for `id`, if the file has an entry for it.
    pub fn for_provider(&self, id: &str) -> Option<&[String]> {
        self.lists.get(id).map(Vec::as_slice)
    }
}

impl NangoEntry {
    /// Nango's `auth_mode` of the entry (`OAUTH2`, `API_KEY`, ...).
    pub fn auth_mode(&self) -> Option<&str> {
        self.fields.get("auth_mode").and_then(Value::as_str)
    }

    /// The host Nango's template gives for `extension`, when the template can be built from the
    /// extension alone.
    fn host_for(template: Option<&str>, extension: &str) -> Option<String> {
        let first = template?.split(" || ").next()?.trim();
        let url = first.replace(EXTENSION_VARIABLE, extension);
        if url.contains("${") {
            return None;
        }
        host(&url)
    }

    /// The API host when Nango's API template does not depend on the extension at all (the same
    /// host for every data center, e.g. `calendar.zoho.com`).
    pub fn fixed_api_host(&self) -> Option<String> {
        let first = self.api_base_url.as_deref()?.split(" || ").next()?.trim();
        if first.contains("${") {
            return None;
        }
        host(first)
    }
}

fn host(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
}

/// Which endpoint's host differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HostRole {
    /// The accounts server (authorization endpoint; token endpoint too when it agrees).
    Accounts,
    /// The token endpoint, when it differs in another way than the authorization endpoint.
    Token,
    /// The API base URL.
    Api,
}

impl HostRole {
    fn label(self) -> &'static str {
        match self {
            HostRole::Accounts => "accounts",
            HostRole::Token => "token",
            HostRole::Api => "API",
        }
    }
}

/// One data center where our host and Nango's are not the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostDifference {
    /// Our data-center code.
    pub data_center: String,
    /// Which endpoint.
    pub role: HostRole,
    /// Our host.
    pub ours: String,
    /// The host Nango's template builds for this data center's extension.
    pub nango: String,
    /// Whether Nango lists this data center's extension; when it does not, `nango` is what its
    /// template would build if a user typed the extension in.
    pub nango_lists_data_center: bool,
}

/// Nango's side of one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NangoSide {
    /// The Nango entry.
    pub entry: NangoEntry,
    /// Nango's extensions, as our data-center codes where the set knows them.
    pub data_centers: Vec<String>,
    /// Data centers we enable whose extension Nango does not list.
    pub only_ours: Vec<String>,
    /// Nango's data centers we leave disabled.
    pub only_nango: Vec<String>,
    /// Every host that differs, by data center in our order.
    pub differences: Vec<HostDifference>,
}

/// One product of the family compared with Nango.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductComparison {
    /// Our provider id, which is also the Nango id looked up.
    pub id: String,
    /// Our display name.
    pub display_name: String,
    /// The data centers we enable, in definition order.
    pub data_centers: Vec<String>,
    /// Nango's side, or `None` when Nango has no entry with this id.
    pub nango: Option<NangoSide>,
}

/// Compares every provider that uses `set` with Nango's entry of the same id.
///
/// `extension_placeholder` names the placeholder holding a data center's domain extension
/// (`dc` for Zoho): it is what Nango's `${connectionConfig.extension}` stands for. Its value is
/// taken after the provider's overrides, exactly as resolution sees it.
pub fn compare(
    providers: &[Provider],
    set: &DataCenterSet,
    extension_placeholder: &str,
    nango: &NangoCatalog,
) -> Vec<ProductComparison> {
    let mut family: Vec<&Provider> = providers
        .iter()
        .filter(|p| {
            p.definition
                .data_centers
                .as_ref()
                .and_then(|dcs| dcs.set.as_deref())
                == Some(set.name.as_str())
        })
        .collect();
    family.sort_by(|a, b| a.resolved.id.cmp(&b.resolved.id));
    family
        .into_iter()
        .map(|provider| compare_one(provider, set, extension_placeholder, nango))
        .collect()
}

fn compare_one(
    provider: &Provider,
    set: &DataCenterSet,
    extension_placeholder: &str,
    nango: &NangoCatalog,
) -> ProductComparison {
    let resolved = &provider.resolved;
    let (effective, _) = data_centers::effective(&provider.definition, Some(set));
    let extension_of = |code: &str| {
        effective
            .get(code)
            .and_then(|dc| dc.values.get(extension_placeholder))
            .cloned()
    };
    // Nango's extensions named by our codes, through the set's own values.
    let code_of_extension = |extension: &str| {
        set.data_centers
            .iter()
            .find(|dc| dc.values.get(extension_placeholder).map(String::as_str) == Some(extension))
            .map(|dc| dc.code.clone())
            .unwrap_or_else(|| extension.to_owned())
    };
    let ours: Vec<String> = resolved
        .data_centers
        .iter()
        .map(|dc| dc.code.clone())
        .collect();
    let nango = nango.entry(&resolved.id).map(|entry| {
        let nango_codes: Vec<String> = entry
            .extensions
            .iter()
            .map(|e| code_of_extension(e))
            .collect();
        let mut differences = Vec::new();
        let mut only_ours = Vec::new();
        for dc in &resolved.data_centers {
            let Some(extension) = extension_of(&dc.code) else {
                continue;
            };
            let listed = entry.extensions.contains(&extension);
            if !listed {
                only_ours.push(dc.code.clone());
            }
            let pairs = [
                (
                    HostRole::Accounts,
                    dc.authorization
                        .as_ref()
                        .and_then(|a| host(&a.authorization_url)),
                    NangoEntry::host_for(entry.authorization_url.as_deref(), &extension),
                ),
                (
                    HostRole::Token,
                    dc.token.as_ref().and_then(|t| host(&t.token_url)),
                    NangoEntry::host_for(entry.token_url.as_deref(), &extension),
                ),
                (
                    HostRole::Api,
                    dc.api_base_urls.get("production").and_then(|u| host(u)),
                    NangoEntry::host_for(entry.api_base_url.as_deref(), &extension),
                ),
            ];
            let mut accounts: Option<(String, String)> = None;
            for (role, ours, theirs) in pairs {
                let (Some(ours), Some(theirs)) = (ours, theirs) else {
                    continue;
                };
                if ours == theirs {
                    continue;
                }
                if role == HostRole::Accounts {
                    accounts = Some((ours.clone(), theirs.clone()));
                } else if role == HostRole::Token
                    && accounts.as_ref() == Some(&(ours.clone(), theirs.clone()))
                {
                    continue;
                }
                differences.push(HostDifference {
                    data_center: dc.code.clone(),
                    role,
                    ours,
                    nango: theirs,
                    nango_lists_data_center: listed,
                });
            }
        }
        let only_nango = nango_codes
            .iter()
            .filter(|code| !ours.contains(code))
            .cloned()
            .collect();
        NangoSide {
            entry,
            data_centers: nango_codes,
            only_ours,
            only_nango,
            differences,
        }
    });
    ProductComparison {
        id: resolved.id.clone(),
        display_name: resolved.display_name.clone(),
        data_centers: ours,
        nango,
    }
}

/// The family table as Markdown, for the README: one row per product.
pub fn markdown_table(products: &[ProductComparison]) -> String {
    let mut out = String::new();
    out.push_str(
        "| Product | Our DCs | Nango entry | Nango's DCs | Only we enable | Only Nango offers | Hosts that differ (ours / Nango's) |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|\n");
    let list = |items: &[String]| {
        if items.is_empty() {
            "—".to_owned()
        } else {
            items.join(", ")
        }
    };
    for product in products {
        let (entry, theirs, only_ours, only_nango, differences) = match &product.nango {
            None => (
                "none".to_owned(),
                "—".to_owned(),
                "—".to_owned(),
                "—".to_owned(),
                "—".to_owned(),
            ),
            Some(side) => {
                let entry = match &side.entry.alias {
                    Some(alias) => format!("`{}` (alias of `{alias}`)", side.entry.id),
                    None => format!("`{}`", side.entry.id),
                };
                let mut notes: Vec<String> = side
                    .differences
                    .iter()
                    .map(|d| {
                        let mark = if d.nango_lists_data_center { "" } else { "*" };
                        format!(
                            "{}{mark} {}: `{}` / `{}`",
                            d.data_center,
                            d.role.label(),
                            d.ours,
                            d.nango
                        )
                    })
                    .collect();
                if let Some(fixed) = side.entry.fixed_api_host() {
                    notes.push(format!("Nango's API host is `{fixed}` for every DC"));
                }
                let differences = if notes.is_empty() {
                    "none".to_owned()
                } else {
                    notes.join("; ")
                };
                (
                    entry,
                    list(&side.data_centers),
                    list(&side.only_ours),
                    list(&side.only_nango),
                    differences,
                )
            }
        };
        let _ = writeln!(
            out,
            "| {} (`{}`) | {} | {entry} | {theirs} | {only_ours} | {only_nango} | {differences} |",
            product.display_name,
            product.id,
            list(&product.data_centers),
        );
    }
    out.push_str(
        "\n\\* Nango does not list this DC; the host is what its template builds from the DC's \
extension.\n",
    );
    out
}
