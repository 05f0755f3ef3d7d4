//! How the importer reads a Nango entry's fields, and how it says why an entry is not imported:
//! shared by the entry's mapping and its connection values.

use serde_yaml::Value;

/// Why an entry is not imported: the Nango feature with no equivalent, and the details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// The Nango feature, as its field name where there is one (`post_connection_script`).
    pub feature: String,
    /// What exactly in this entry needs it.
    pub detail: String,
}

pub(super) fn skip(feature: impl Into<String>, detail: impl Into<String>) -> Skip {
    Skip {
        feature: feature.into(),
        detail: detail.into(),
    }
}

/// A Nango field's value as the string Nango sends (numbers and booleans stringified as
/// JavaScript would).
pub(super) fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(super) fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_sequence)
        .map(|items| items.iter().filter_map(scalar).collect())
        .unwrap_or_default()
}
