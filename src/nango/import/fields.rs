//! How the importer reads a Nango entry's fields, and how it says why an entry is not imported:
//! shared by the entry's mapping and its connection values.

use serde_yaml::{Mapping, Value};

use crate::definition::types::RetryHeaders;

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

/// `proxy.retry` as `api.retry`: Nango's `after` (headers giving seconds to wait) and `at`
/// (headers giving the time the limit resets) are the format's own two lists. What the format
/// has no field for (`error_code`, `remaining`, `in_body`) is listed in `not_carried_over`.
pub(super) fn retry_headers(proxy: &Mapping, not_carried_over: &mut Vec<String>) -> RetryHeaders {
    let Some(retry) = proxy.get("retry") else {
        return RetryHeaders::default();
    };
    let Some(retry) = retry.as_mapping() else {
        not_carried_over.push("proxy.retry".to_owned());
        return RetryHeaders::default();
    };
    let mut headers = RetryHeaders::default();
    for (key, value) in retry {
        let key = key.as_str().unwrap_or_default();
        match (key, value.as_sequence()) {
            ("after", Some(_)) => headers.after = string_list(Some(value)),
            ("at", Some(_)) => headers.at = string_list(Some(value)),
            _ => not_carried_over.push(format!("proxy.retry.{key}")),
        }
    }
    headers
}
