//! What a provider's refusal says, in one line a user can act on and nothing secret.
//!
//! A refusal of an API key or a token request is the user's main clue ("invalid api key",
//! "account locked"), so it is shown; but providers echo what they were sent, so every value
//! the request carried that is a secret is cut out first, and the text is bounded and kept on
//! one line. A JSON answer is summarised by its usual message fields; any other answer by its
//! first line.

use serde_json::Value;

use super::secret::REDACTED;

/// Longest summary shown, in characters.
const MAX_CHARS: usize = 200;

/// JSON fields that carry a provider's explanation, most specific first.
const MESSAGE_FIELDS: [&str; 7] = [
    "error_description",
    "message",
    "error",
    "detail",
    "title",
    "errors",
    "description",
];

/// A one-line summary of `body` with every one of `secrets` cut out; empty when the body says
/// nothing readable.
pub(crate) fn summarise(body: &[u8], secrets: &[&str]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => {
            let parts: Vec<String> = MESSAGE_FIELDS
                .iter()
                .filter_map(|field| object.get(*field).map(flatten))
                .filter(|text| !text.is_empty())
                .collect();
            if parts.is_empty() {
                Value::Object(object).to_string()
            } else {
                parts.join(": ")
            }
        }
        Ok(other) => flatten(&other),
        Err(_) => String::from_utf8_lossy(body)
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .unwrap_or_default()
            .to_owned(),
    };
    let mut text = text;
    for secret in secrets.iter().filter(|secret| secret.len() >= 4) {
        text = text.replace(secret, REDACTED);
    }
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let text = text.trim();
    if text.chars().count() > MAX_CHARS {
        let cut: String = text.chars().take(MAX_CHARS).collect();
        format!("{cut}…")
    } else {
        text.to_owned()
    }
}

/// A JSON value as text: strings as they are, arrays and objects by their message fields or
/// compact JSON.
fn flatten(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items
            .iter()
            .map(flatten)
            .filter(|text| !text.is_empty())
            .collect::<Vec<_>>()
            .join("; "),
        Value::Object(object) => MESSAGE_FIELDS
            .iter()
            .find_map(|field| object.get(*field).map(flatten))
            .unwrap_or_else(|| value.to_string()),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_refusal_is_summarised_by_its_message_fields_without_the_key_it_echoes() {
        let body = br#"{"error":{"type":"authentication_error","message":"invalid x-api-key sk-ant-abc123"}}"#;
        let summary = summarise(body, &["sk-ant-abc123"]);
        assert_eq!(summary, "invalid x-api-key [redacted]");
        let body = br#"{"errors":[{"message":"Bad credentials"},{"message":"locked"}]}"#;
        assert_eq!(summarise(body, &[]), "Bad credentials; locked");
    }

    #[test]
    fn any_other_answer_gives_its_first_line_bounded_and_without_control_characters() {
        let summary = summarise(b"\n  Unauthorized\x1b[31m\nmore", &[]);
        assert_eq!(summary, "Unauthorized [31m");
        let long = "x".repeat(500);
        assert_eq!(
            summarise(long.as_bytes(), &[]).chars().count(),
            MAX_CHARS + 1
        );
        assert_eq!(summarise(b"", &[]), "");
    }
}
