//! Nango's provider catalog (`providers.yaml` of Nango's public repository) and its scope
//! lists, read exactly as Nango's `loadProvidersYaml` (packages/providers/lib/index.ts) reads
//! them.
//!
//! Entries are visited in file order; an entry with `alias: BASE` is replaced by
//! `{ ...BASE, ...own fields without alias }`, a shallow merge with `BASE` as it stands at that
//! moment, so an alias of an alias already resolved above it gets the resolved fields
//! (`google-calendar-mcp` → `google-calendar` → `google`). [`NangoCatalog`] is the one reader of
//! Nango's file: the family comparison and the importer both read entries through it.

use serde_yaml::{Mapping, Value};

use crate::definition::document;

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
    /// Parses Nango's `providers.yaml` text (its nesting checked first, see `read_yaml`).
    pub fn parse(text: &str) -> Result<Self, NangoCatalogError> {
        let value = read_yaml(text)?;
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
    /// Parses Nango's `providers.scopes.yaml` text (its nesting checked first, see
    /// `read_yaml`).
    pub fn parse(text: &str) -> Result<Self, NangoCatalogError> {
        let value = read_yaml(text)?;
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

/// Reads one of Nango's files as a serde_yaml value, once the project's own reader has found
/// its nesting within [`document::MAX_DEPTH`] (serde_yaml would take hours on a few megabytes
/// of deep nesting before refusing it).
fn read_yaml(text: &str) -> Result<Value, NangoCatalogError> {
    document::check_nesting(text).map_err(|error| {
        let at = error.region.start;
        NangoCatalogError::NotACatalog(format!("{}:{}: {}", at.line, at.column, error.message))
    })?;
    serde_yaml::from_str(text).map_err(|e| NangoCatalogError::NotACatalog(e.to_string()))
}

impl NangoEntry {
    /// Nango's `auth_mode` of the entry (`OAUTH2`, `API_KEY`, ...).
    pub fn auth_mode(&self) -> Option<&str> {
        self.fields.get("auth_mode").and_then(Value::as_str)
    }
}
