//! The data centers a provider actually has: its own list, or a shared set with the provider's
//! overrides applied, narrowed to the ones its multi-DC setting enables.

use indexmap::IndexMap;

use crate::definition::document::escape_pointer_token;
use crate::definition::types::{DataCenter, DataCenterSet, ProviderDefinition};
use crate::diagnostics::{Anchor, Kind};
use crate::resolve::problem::{Origin, Place, Problem};
use crate::resolve::template::is_placeholder_name;

/// One data center with its placeholder values merged from every layer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EffectiveDataCenter {
    /// Data-center code.
    pub code: String,
    /// Human-readable name.
    pub name: String,
    /// Callback location value.
    pub location: String,
    /// Values: the DC's own (from the set or the provider's list), then the provider's
    /// overrides on top.
    pub values: IndexMap<String, String>,
    /// The names of `values` that the provider's `overrides` wrote: with the entry's `pointer`,
    /// where each value is written (see [`EffectiveDataCenters::value_place`]).
    pub(crate) overridden: Vec<String>,
    /// File and pointer of the DC's entry, for problems about the DC as a whole.
    pub origin: Origin,
    /// JSON pointer of the DC's entry in its file.
    pub pointer: String,
}

/// All data centers of a provider and the placeholder defaults that apply to them.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct EffectiveDataCenters {
    /// Defaults: the set's, then the provider's on top.
    pub defaults: IndexMap<String, String>,
    /// The names of `defaults` that the provider's `placeholders` wrote; the others are the
    /// set's.
    pub(crate) provider_defaults: Vec<String>,
    /// Every defined data center, in definition order.
    pub all: Vec<EffectiveDataCenter>,
}

impl EffectiveDataCenters {
    /// The data center with `code`.
    pub(crate) fn get(&self, code: &str) -> Option<&EffectiveDataCenter> {
        self.all.iter().find(|dc| dc.code == code)
    }

    /// Every defined code, for messages that list them.
    pub(crate) fn codes(&self) -> String {
        let codes: Vec<&str> = self.all.iter().map(|dc| dc.code.as_str()).collect();
        codes.join(", ")
    }

    /// Where the value `name` in force for `dc` is written: the DC's override, else its own
    /// value, else the default; so that a fault a value brings into every URL using it is
    /// reported once, at the value.
    ///
    /// Worked out when a problem asks, not kept for every value: only a diagnostic reads it, and
    /// formatting a pointer for each value of each data center of each provider was a visible
    /// share of `resolve`'s work (BENCHMARKS.md).
    pub(crate) fn value_place(
        &self,
        dc: Option<&EffectiveDataCenter>,
        name: &str,
    ) -> Option<Place> {
        let escaped = escape_pointer_token(name);
        if let Some(dc) = dc {
            if dc.overridden.iter().any(|overridden| overridden == name) {
                let code = escape_pointer_token(&dc.code);
                let pointer = format!("/data_centers/overrides/{code}/{escaped}");
                return Some(Place {
                    origin: Origin::Provider,
                    pointer,
                });
            }
            if dc.values.contains_key(name) {
                let pointer = format!("{}/values/{escaped}", dc.pointer);
                return Some(Place {
                    origin: dc.origin,
                    pointer,
                });
            }
        }
        if self.provider_defaults.iter().any(|defined| defined == name) {
            let pointer = format!("/data_centers/placeholders/{escaped}");
            return Some(Place {
                origin: Origin::Provider,
                pointer,
            });
        }
        self.defaults.contains_key(name).then(|| Place {
            origin: Origin::DataCenterSet,
            pointer: format!("/placeholders/{escaped}"),
        })
    }

    /// Whether any data center or default defines `name`.
    pub(crate) fn defines(&self, name: &str) -> bool {
        self.defaults.contains_key(name) || self.all.iter().any(|dc| dc.values.contains_key(name))
    }
}

/// Merges the provider's data-center section with its shared set, if it names one.
///
/// `set` is the loaded set when `data_centers.set` names one that exists; a set that could not
/// be found is reported by the caller that looked for it.
pub(crate) fn effective(
    definition: &ProviderDefinition,
    set: Option<&DataCenterSet>,
) -> (EffectiveDataCenters, Vec<Problem>) {
    let mut problems = Vec::new();
    let Some(section) = &definition.data_centers else {
        return (EffectiveDataCenters::default(), problems);
    };
    if section.set.is_some() && !section.list.is_empty() {
        problems.push(
            Problem::provider(
                Kind::ConflictingFields,
                "/data_centers/list",
                Anchor::Key,
                "`list` and `set` are both given",
            )
            .hint("use the shared set and write exceptions under `overrides`, or drop `set`"),
        );
    }
    if section.set.is_none() && section.list.is_empty() {
        problems.push(
            Problem::provider(
                Kind::MissingField,
                "/data_centers",
                Anchor::Key,
                "no data centers: give `list` or `set`",
            )
            .hint("remove `data_centers` for a provider with one set of endpoints"),
        );
    }
    let mut result = EffectiveDataCenters::default();
    let mut sources: Vec<(&DataCenter, Origin, String)> = Vec::new();
    if let Some(set) = set {
        check_placeholder_names(
            &set.placeholders,
            Origin::DataCenterSet,
            "/placeholders",
            &mut problems,
        );
        result.defaults.extend(set.placeholders.clone());
        for (index, dc) in set.data_centers.iter().enumerate() {
            sources.push((dc, Origin::DataCenterSet, format!("/data_centers/{index}")));
        }
    }
    check_placeholder_names(
        &section.placeholders,
        Origin::Provider,
        "/data_centers/placeholders",
        &mut problems,
    );
    result.defaults.extend(section.placeholders.clone());
    result
        .provider_defaults
        .extend(section.placeholders.keys().cloned());
    for (index, dc) in section.list.iter().enumerate() {
        sources.push((dc, Origin::Provider, format!("/data_centers/list/{index}")));
    }

    for (dc, origin, pointer) in sources {
        check_placeholder_names(
            &dc.values,
            origin,
            format_args!("{pointer}/values"),
            &mut problems,
        );
        let location = dc.location.clone().unwrap_or_else(|| dc.code.clone());
        if let Some(first) = result.get(&dc.code) {
            let first = Place {
                origin: first.origin,
                pointer: format!("{}/code", first.pointer),
            };
            problems.push(
                Problem::provider(
                    Kind::DuplicateDataCenter,
                    format!("{pointer}/code"),
                    Anchor::Value,
                    format!("duplicate data center code `{}`", dc.code),
                )
                .hint("each data center needs its own code; remove or rename one")
                .in_origin(origin)
                .related(first, Anchor::Value, "first defined here"),
            );
            continue;
        }
        if let Some(other) = result.all.iter().find(|other| other.location == location) {
            problems.push(
                Problem::provider(
                    Kind::DuplicateDataCenter,
                    format!("{pointer}/location"),
                    Anchor::Key,
                    format!(
                        "data centers `{}` and `{}` share the callback location `{location}`",
                        other.code, dc.code
                    ),
                )
                .hint("the location value must tell data centers apart")
                .in_origin(origin),
            );
        }
        result.all.push(EffectiveDataCenter {
            code: dc.code.clone(),
            name: dc.name.clone(),
            location,
            values: dc.values.clone(),
            overridden: Vec::new(),
            origin,
            pointer,
        });
    }

    for (code, values) in &section.overrides {
        let pointer = format!("/data_centers/overrides/{}", escape_pointer_token(code));
        check_placeholder_names(values, Origin::Provider, &pointer, &mut problems);
        match result.all.iter_mut().find(|dc| &dc.code == code) {
            Some(dc) => {
                dc.values.extend(values.clone());
                dc.overridden.extend(values.keys().cloned());
            }
            None => problems.push(
                Problem::provider(
                    Kind::UnknownDataCenter,
                    pointer,
                    Anchor::Key,
                    format!("override for data center `{code}`, which is not defined"),
                )
                .hint(format!("defined data centers: {}", result.codes())),
            ),
        }
    }
    (result, problems)
}

/// Reports the names of `values`, a placeholder map written at `pointer`, that are not
/// placeholder names. `pointer` is formatted only for a name reported.
fn check_placeholder_names(
    values: &IndexMap<String, String>,
    origin: Origin,
    pointer: impl std::fmt::Display,
    problems: &mut Vec<Problem>,
) {
    for name in values.keys() {
        if !is_placeholder_name(name) {
            problems.push(
                Problem::provider(
                    Kind::BadPlaceholder,
                    format!("{pointer}/{}", escape_pointer_token(name)),
                    Anchor::Key,
                    format!("`{name}` is not a valid placeholder name"),
                )
                .hint("use letters, digits and `_`, starting with a letter, e.g. `api_host`")
                .in_origin(origin),
            );
        }
    }
}
