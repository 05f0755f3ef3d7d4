//! Text that rendered outputs embed (names, descriptions, scope and parameter names) must be
//! plain text on one line.
//!
//! The outputs escape what they embed, but a display name with a newline is a mistake in the
//! definition whatever the output does with it: in a dotenv comment it would start a live line,
//! in Markdown a new paragraph. So control characters (and the Unicode line and paragraph
//! separators) are refused where they are written, with file, line and column.

use std::fmt;

use crate::definition::document::escape_pointer_token;
use crate::definition::types::{
    Authorization, Callback, DataCenter, DataCenterSet, ProviderDefinition, Token,
};
use crate::diagnostics::{Anchor, Kind};
use crate::resolve::problem::{Origin, Problem};

/// Every embedded text of the provider and of its shared set that holds a control character.
pub(crate) fn check_embedded_text(
    definition: &ProviderDefinition,
    set: Option<&DataCenterSet>,
) -> Vec<Problem> {
    let mut texts = Texts::default();
    let provider = Origin::Provider;
    texts.add(
        provider,
        "/display_name",
        Anchor::Value,
        &definition.display_name,
    );
    if let Some(section) = &definition.data_centers {
        data_centers(&mut texts, provider, "/data_centers/list", &section.list);
    }
    if let Some(authorization) = &definition.authorization {
        self::authorization(&mut texts, provider, "", authorization);
    }
    if let Some(token) = &definition.token {
        self::token(&mut texts, provider, "", token);
    }
    if let Some(callback) = &definition.callback {
        self::callback(&mut texts, provider, "", callback);
    }
    if let Some(api) = &definition.api {
        texts.add(
            provider,
            "/api/auth_scheme",
            Anchor::Value,
            &api.auth_scheme,
        );
    }
    for (index, name) in definition.scopes.default.iter().enumerate() {
        texts.add(
            provider,
            format_args!("/scopes/default/{index}"),
            Anchor::Value,
            name,
        );
    }
    for (index, scope) in definition.scopes.catalog.iter().enumerate() {
        texts.add(
            provider,
            format_args!("/scopes/catalog/{index}/name"),
            Anchor::Value,
            &scope.name,
        );
        for (field, value) in [("module", &scope.module), ("operation", &scope.operation)] {
            if let Some(value) = value {
                texts.add(
                    provider,
                    format_args!("/scopes/catalog/{index}/{field}"),
                    Anchor::Value,
                    value,
                );
            }
        }
        texts.add(
            provider,
            format_args!("/scopes/catalog/{index}/description"),
            Anchor::Value,
            &scope.description,
        );
    }
    if let Some(set) = set {
        let shared = Origin::DataCenterSet;
        if let Some(description) = &set.description {
            texts.add(shared, "/description", Anchor::Value, description);
        }
        data_centers(&mut texts, shared, "/data_centers", &set.data_centers);
        if let Some(defaults) = &set.provider_defaults {
            let base = "/provider_defaults";
            if let Some(authorization) = &defaults.authorization {
                self::authorization(&mut texts, shared, base, authorization);
            }
            if let Some(token) = &defaults.token {
                self::token(&mut texts, shared, base, token);
            }
            if let Some(callback) = &defaults.callback {
                self::callback(&mut texts, shared, base, callback);
            }
        }
    }
    texts.problems
}

fn data_centers(texts: &mut Texts, origin: Origin, base: &str, list: &[DataCenter]) {
    for (index, dc) in list.iter().enumerate() {
        texts.add(
            origin,
            format_args!("{base}/{index}/name"),
            Anchor::Value,
            &dc.name,
        );
        if let Some(location) = &dc.location {
            texts.add(
                origin,
                format_args!("{base}/{index}/location"),
                Anchor::Value,
                location,
            );
        }
    }
}

fn authorization(texts: &mut Texts, origin: Origin, base: &str, section: &Authorization) {
    texts.add(
        origin,
        format_args!("{base}/authorization/scope_separator"),
        Anchor::Value,
        &section.scope_separator,
    );
    for (name, value) in &section.params {
        let pointer = || format!("{base}/authorization/params/{}", escape_pointer_token(name));
        texts.add(origin, Lazy(pointer), Anchor::Key, name);
        texts.add(origin, Lazy(pointer), Anchor::Value, value);
    }
}

fn token(texts: &mut Texts, origin: Origin, base: &str, section: &Token) {
    for (index, name) in section.response_metadata.iter().enumerate() {
        texts.add(
            origin,
            format_args!("{base}/token/response_metadata/{index}"),
            Anchor::Value,
            name,
        );
    }
}

fn callback(texts: &mut Texts, origin: Origin, base: &str, section: &Callback) {
    for (field, value) in [
        ("location_param", &section.location_param),
        ("issuer_param", &section.issuer_param),
    ] {
        if let Some(value) = value {
            texts.add(
                origin,
                format_args!("{base}/callback/{field}"),
                Anchor::Value,
                value,
            );
        }
    }
}

#[derive(Default)]
struct Texts {
    problems: Vec<Problem>,
}

impl Texts {
    /// Checks one text. `pointer` is formatted only when the text has a problem: nearly every
    /// text is fine, and building a pointer string for each one was a large part of loading a
    /// valid file.
    fn add(&mut self, origin: Origin, pointer: impl fmt::Display, anchor: Anchor, text: &str) {
        if is_printable_ascii(text) {
            return;
        }
        let Some((index, c)) = text.chars().enumerate().find(|(_, c)| is_forbidden(*c)) else {
            return;
        };
        let what = if anchor == Anchor::Key {
            "this name"
        } else {
            "this text"
        };
        self.problems.push(
            Problem::provider(
                Kind::ControlCharacter,
                pointer.to_string(),
                anchor,
                format!(
                    "{what} contains the control character U+{:04X} at character {}",
                    c as u32,
                    index + 1
                ),
            )
            .hint(
                "write it on one line without control characters: rendered outputs (dotenv, \
                 Markdown, Nango YAML) embed it, where a line break would change their meaning",
            )
            .in_origin(origin),
        );
    }
}

/// A pointer built by a closure when it is displayed, for one used twice.
struct Lazy<F>(F);

impl<F: Fn() -> String> fmt::Display for Lazy<F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&(self.0)())
    }
}

/// Whether `text` is all printable ASCII (space to `~`), so holds no forbidden character.
/// Nearly every text is; this settles it a byte at a time without decoding characters, and
/// folds without an early exit so that the compiler checks many bytes at once (decoding every
/// character showed in the profile of validating a catalog).
fn is_printable_ascii(text: &str) -> bool {
    text.bytes().fold(true, |printable, byte| {
        printable & matches!(byte, b' '..=b'~')
    })
}

/// Control characters (C0, DEL, C1) and the Unicode line and paragraph separators.
fn is_forbidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition(display_name: &str, description: &str) -> ProviderDefinition {
        let mut definition: ProviderDefinition = serde_yaml::from_str(
            "id: t\ndisplay_name: T\nissuer: https://a.example.com\n\
             authorization: { url: https://a.example.com/auth }\n\
             token: { url: https://a.example.com/token }\n\
             callback: { redirect_uri: https://a.example.com/cb }\n\
             scopes: { catalog: [{ name: read, description: D }] }\n",
        )
        .unwrap();
        definition.display_name = display_name.to_owned();
        definition.scopes.catalog[0].description = description.to_owned();
        definition
    }

    #[test]
    fn only_space_to_tilde_is_printable_ascii() {
        assert!(is_printable_ascii(""));
        assert!(is_printable_ascii(" Zoho CRM: read ~all~"));
        for text in ["a\tb", "a\nb", "\u{7f}", "caf\u{e9}", "a\u{2028}b"] {
            assert!(!is_printable_ascii(text), "{text:?}");
        }
    }

    #[test]
    fn plain_text_passes() {
        assert!(check_embedded_text(&definition("Zoho CRM", "Read – all"), None).is_empty());
    }

    #[test]
    fn a_line_break_or_control_character_is_refused_where_it_is_written() {
        let problems = check_embedded_text(
            &definition("Zoho\nX_A_TOKEN_URL=http://evil.example", "ok\u{7}"),
            None,
        );
        let found: Vec<(&str, &str)> = problems
            .iter()
            .map(|p| (p.pointer.as_str(), p.message.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "/display_name",
                    "this text contains the control character U+000A at character 5"
                ),
                (
                    "/scopes/catalog/0/description",
                    "this text contains the control character U+0007 at character 3"
                ),
            ]
        );
        let separator = check_embedded_text(&definition("a\u{2028}b", "ok"), None);
        assert_eq!(separator.len(), 1);
    }

    #[test]
    fn a_parameter_name_and_value_are_each_placed_at_their_escaped_pointer() {
        let mut definition = definition("T", "D");
        let authorization = definition.authorization.as_mut().unwrap();
        authorization
            .params
            .insert("a/b\u{7}".to_owned(), "fine".to_owned());
        authorization
            .params
            .insert("c~d".to_owned(), "line\nbreak".to_owned());
        let problems = check_embedded_text(&definition, None);
        let found: Vec<(&str, Anchor, &str)> = problems
            .iter()
            .map(|p| (p.pointer.as_str(), p.anchor, p.message.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "/authorization/params/a~1b\u{7}",
                    Anchor::Key,
                    "this name contains the control character U+0007 at character 4"
                ),
                (
                    "/authorization/params/c~0d",
                    Anchor::Value,
                    "this text contains the control character U+000A at character 5"
                ),
            ]
        );
    }
}
