//! What kind of problem a [`Diagnostic`](super::Diagnostic) is: a stable id per kind of
//! mistake, chosen where the problem is found, never guessed from its message.
//!
//! Tools group and filter problems by it: `--format json` writes it as `kind`, SARIF makes one
//! rule per kind (code scanning shows the rule's description and help beside each alert, and
//! lets a repository dismiss one kind), and the language server sends it as the diagnostic's
//! `code` with a link to its documentation. The ids are part of the output format: a kind may
//! be added, but an id is never renamed or reused for another kind of problem. Each kind is
//! documented under a heading of the same name in `docs/validate.md`.

use std::fmt;

use serde::Serialize;

/// Where `docs/validate.md` is published: every kind's documentation is this URL with the
/// kind's id as the fragment (the heading's anchor). The one place to change when the
/// repository moves.
pub const DOCS_URL: &str = "https://github.com/OWNER/provider-forge/blob/main/docs/validate.md";

/// The kind of a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The text is not well-formed YAML (or repeats a key in a mapping).
    YamlSyntax,
    /// The file cannot be read as a definition: not UTF-8, or past a size, nesting or
    /// alias-expansion limit.
    UnreadableFile,
    /// A key the format does not have.
    UnknownField,
    /// A key of the format written in the wrong section.
    MisplacedField,
    /// A required key or section is absent.
    MissingField,
    /// A value of the wrong type (a string where a list goes).
    WrongType,
    /// A value outside the values the format allows for the field.
    ValueNotAllowed,
    /// A value of the right type that is wrong for its field in another way.
    InvalidValue,
    /// A section or field the provider's auth mode does not use.
    ModeMismatch,
    /// Two fields that exclude each other are both given.
    ConflictingFields,
    /// A URL that breaks the URL rules (https, normalised form, a valid host).
    BadUrl,
    /// A value a connection supplies could move a request to another domain.
    MovableHost,
    /// A credential placeholder where no credential may go (a URL's host or path).
    MisplacedCredential,
    /// A placeholder nothing defines.
    UnknownPlaceholder,
    /// A data-center placeholder without a value for some data centers.
    MissingDcValue,
    /// A placeholder written wrongly, used where it cannot be, or expanding into itself.
    BadPlaceholder,
    /// One name declared in two roles (a connection value and a data-center placeholder).
    NameClash,
    /// A validation pattern that does not compile or is not anchored.
    BadPattern,
    /// A data-center code defined or enabled twice.
    DuplicateDataCenter,
    /// A data center that is referred to but not defined or not enabled.
    UnknownDataCenter,
    /// A scope listed twice in the catalog.
    DuplicateScope,
    /// A default scope that is not in the catalog.
    UnknownScope,
    /// A declared credential or connection value that nothing uses.
    UnusedDeclaration,
    /// A credential named like a secret but declared `secret: false`.
    UnmarkedSecret,
    /// A control character in a name or text that outputs embed.
    ControlCharacter,
    /// A `set:` that names no data-center set file, or a set whose name is not its file's.
    SetName,
    /// Any other violation of the JSON Schema.
    SchemaViolation,
    /// A file that passed every check but could not be read: a bug in provider-forge.
    /// (Declared last: add new kinds above it.)
    InternalError,
}

/// What a kind is, for tools that explain it: `(title, description, how to fix)`. The title
/// is a phrase; the other two are sentences in Markdown (backquoted code only).
struct About {
    title: &'static str,
    description: &'static str,
    fix: &'static str,
}

impl Kind {
    /// Every kind, in the order the documentation lists them (and declared: a test checks it).
    pub const ALL: &'static [Kind] = &[
        Kind::YamlSyntax,
        Kind::UnreadableFile,
        Kind::UnknownField,
        Kind::MisplacedField,
        Kind::MissingField,
        Kind::WrongType,
        Kind::ValueNotAllowed,
        Kind::InvalidValue,
        Kind::ModeMismatch,
        Kind::ConflictingFields,
        Kind::BadUrl,
        Kind::MovableHost,
        Kind::MisplacedCredential,
        Kind::UnknownPlaceholder,
        Kind::MissingDcValue,
        Kind::BadPlaceholder,
        Kind::NameClash,
        Kind::BadPattern,
        Kind::DuplicateDataCenter,
        Kind::UnknownDataCenter,
        Kind::DuplicateScope,
        Kind::UnknownScope,
        Kind::UnusedDeclaration,
        Kind::UnmarkedSecret,
        Kind::ControlCharacter,
        Kind::SetName,
        Kind::SchemaViolation,
        Kind::InternalError,
    ];

    /// The stable id: lowercase words joined by `-` (`unknown-field`), as JSON, SARIF and the
    /// language server write it.
    pub fn id(self) -> &'static str {
        match self {
            Kind::YamlSyntax => "yaml-syntax",
            Kind::UnreadableFile => "unreadable-file",
            Kind::UnknownField => "unknown-field",
            Kind::MisplacedField => "misplaced-field",
            Kind::MissingField => "missing-field",
            Kind::WrongType => "wrong-type",
            Kind::ValueNotAllowed => "value-not-allowed",
            Kind::InvalidValue => "invalid-value",
            Kind::ModeMismatch => "mode-mismatch",
            Kind::ConflictingFields => "conflicting-fields",
            Kind::BadUrl => "bad-url",
            Kind::MovableHost => "movable-host",
            Kind::MisplacedCredential => "misplaced-credential",
            Kind::UnknownPlaceholder => "unknown-placeholder",
            Kind::MissingDcValue => "missing-dc-value",
            Kind::BadPlaceholder => "bad-placeholder",
            Kind::NameClash => "name-clash",
            Kind::BadPattern => "bad-pattern",
            Kind::DuplicateDataCenter => "duplicate-data-center",
            Kind::UnknownDataCenter => "unknown-data-center",
            Kind::DuplicateScope => "duplicate-scope",
            Kind::UnknownScope => "unknown-scope",
            Kind::UnusedDeclaration => "unused-declaration",
            Kind::UnmarkedSecret => "unmarked-secret",
            Kind::ControlCharacter => "control-character",
            Kind::SetName => "set-name",
            Kind::SchemaViolation => "schema-violation",
            Kind::InternalError => "internal-error",
        }
    }

    /// The kind's documentation: [`DOCS_URL`] with the kind's id as the anchor.
    pub fn docs_url(self) -> String {
        format!("{DOCS_URL}#{}", self.id())
    }

    /// A short phrase naming the kind (`Unknown field`).
    pub fn title(self) -> &'static str {
        self.about().title
    }

    /// What the kind of problem is, in a sentence or two (Markdown: backquoted code only).
    pub fn description(self) -> &'static str {
        self.about().description
    }

    /// How to fix a problem of this kind (Markdown: backquoted code only).
    pub fn fix(self) -> &'static str {
        self.about().fix
    }

    fn about(self) -> About {
        let (title, description, fix) = match self {
            Kind::YamlSyntax => (
                "YAML syntax error",
                "The file is not well-formed YAML: an indentation that lines up with no \
                 mapping, a bracket left open, a key without `: value`, a tab used for \
                 indentation, an unquoted `: ` in a value, or a key written twice in one \
                 mapping. Nothing else in the file is checked until it reads.",
                "Edit the line the problem points at: the message says what the reader \
                 expected and the help line how to write it (the columns a key can line up \
                 with, the quoted form of a value, where the bracket opened).",
            ),
            Kind::UnreadableFile => (
                "File cannot be read",
                "The file cannot be read as a definition: it is not UTF-8 text, it is larger \
                 than 4 MiB, it nests deeper than 64 levels, or its aliases expand past \
                 200,000 nodes.",
                "Save the file as UTF-8, and check that it is a provider definition or a \
                 data-center set; split a definition that is really this large.",
            ),
            Kind::UnknownField => (
                "Unknown field",
                "A key that the format does not have where it is written: usually a misspelt \
                 or half-typed key.",
                "Use the key the help line suggests (`did you mean ...?`) or one of the keys \
                 it lists as allowed here; `schemas/provider.schema.json` has them all.",
            ),
            Kind::MisplacedField => (
                "Field in the wrong section",
                "A key of the format written in a section it does not belong to, usually \
                 because its indentation put it there.",
                "Move the key into the section the message names (`belongs under ...`), or \
                 out to the top level, and check its indentation.",
            ),
            Kind::MissingField => (
                "Missing required field",
                "A key or section that the definition needs is absent: one the format always \
                 requires, one the auth mode requires, or one another setting requires \
                 (`multi_dc` needs `data_centers` and `callback.location_param`).",
                "Add the field the message names; the help line says what it holds.",
            ),
            Kind::WrongType => (
                "Value of the wrong type",
                "A value of another type than its field takes: a string where a list goes, \
                 a quoted `\"true\"` where a boolean goes, a mapping where a string goes.",
                "Write the value as the type the message expects (a YAML list is `[a, b]` or \
                 one `- item` per line; booleans are `true` and `false`, unquoted).",
            ),
            Kind::ValueNotAllowed => (
                "Value not allowed",
                "A value outside the fixed set of values its field allows (an auth mode, a \
                 token authentication method, a placeholder kind).",
                "Use one of the values the help line lists.",
            ),
            Kind::InvalidValue => (
                "Invalid value",
                "A value of the right type that is wrong for its field in another way: an \
                 empty token path, a connection value's example or default that its own \
                 pattern or `enum` refuses, an empty scope separator.",
                "Change the value as the help line says.",
            ),
            Kind::ModeMismatch => (
                "Not used by the auth mode",
                "A section or field that the provider's `auth.mode` does not use (a `scopes` \
                 section for `api_key`, a credential other than `username` and `password` for \
                 `basic`). It would be ignored, so it is refused.",
                "Remove it, or set the `auth.mode` that uses it.",
            ),
            Kind::ConflictingFields => (
                "Conflicting fields",
                "Two fields that exclude each other are both given (`data_centers.list` and \
                 `data_centers.set`; `expires_in` and `expires_at`).",
                "Keep one of the two, as the help line says.",
            ),
            Kind::BadUrl => (
                "URL breaks the URL rules",
                "A URL, once its placeholders are expanded for each data center, breaks a \
                 rule secrets need: https only (http only to a loopback host), no user or \
                 password in it, a valid ASCII host, written in its normalised form; or a \
                 path that must be relative is a URL.",
                "Write the URL as the help line shows (it gives the normalised form when \
                 that is the fix). A problem in one data center's value names that data \
                 center.",
            ),
            Kind::MovableHost => (
                "Connection value could move the host",
                "A value each connection supplies stands in a URL's host where a value such \
                 as `evil.com` would send the request, and the secrets with it, to another \
                 domain.",
                "Put the value left of a fixed registrable domain (`<tenant>.example.com`), \
                 list its allowed values under `enum`, or declare it as a whole host \
                 (`kind: host`) bounded by its pattern.",
            ),
            Kind::MisplacedCredential => (
                "Credential where none may go",
                "A credential placeholder (`<credentials.NAME>`) in the host or path of a \
                 URL, in a query string that may not hold one, or in a request that does not \
                 send credentials. A credential must never decide where a request goes nor \
                 be written into a URL that is logged.",
                "Send the credential in `api.headers`, `api.query` or the token request, as \
                 the help line lists.",
            ),
            Kind::UnknownPlaceholder => (
                "Unknown placeholder",
                "A placeholder (`<name>`) that no data center, default, connection value, \
                 runtime value or credential defines.",
                "Fix its spelling (the help line suggests the closest known name), give it a \
                 value per data center, or declare it under `connection.params`.",
            ),
            Kind::MissingDcValue => (
                "Placeholder without a value for a data center",
                "A data-center placeholder has a value in some data centers but not in the \
                 ones the message names, and no default.",
                "Give it a value under each named data center's `values`, or a default.",
            ),
            Kind::BadPlaceholder => (
                "Placeholder written or used wrongly",
                "A placeholder that is malformed (`${name}`, `{name}`, an unclosed `<`), has \
                 an invalid name, expands into itself, or is used where its value is not \
                 known (a data-center placeholder in a parameter, a runtime value before the \
                 step that learns it).",
                "Write placeholders as `<name>` (letters, digits and `_`) and use each where \
                 the help line says it can go.",
            ),
            Kind::NameClash => (
                "Name declared twice",
                "One name is declared in two roles (a connection value and a data-center \
                 placeholder, a connection parameter and a runtime value) or takes a \
                 built-in name, so a placeholder would be ambiguous.",
                "Rename one of the two.",
            ),
            Kind::BadPattern => (
                "Invalid validation pattern",
                "A `pattern` of a credential or connection value that does not compile as a \
                 Rust regular expression, or that is not anchored with `^` and `$` and so \
                 would accept a value that only contains a match.",
                "Anchor the pattern (`^...$`) and use Rust `regex` syntax (no look-around, \
                 no backreferences).",
            ),
            Kind::DuplicateDataCenter => (
                "Duplicate data center",
                "A data-center code defined twice, or enabled twice in \
                 `multi_dc.data_centers`. A related location points at the first one.",
                "Remove one of the two, or give it its own code.",
            ),
            Kind::UnknownDataCenter => (
                "Unknown data center",
                "A data-center code that is used (enabled, the default, the entry, an \
                 override) but not defined, or not enabled where it must be.",
                "Use a code the help line lists, or define (or enable) the data center.",
            ),
            Kind::DuplicateScope => (
                "Duplicate scope",
                "A scope listed twice in `scopes.catalog`. A related location points at the \
                 first one.",
                "Remove one of the two entries.",
            ),
            Kind::UnknownScope => (
                "Default scope not in the catalog",
                "A scope in `scopes.default` that `scopes.catalog` does not list.",
                "Add the scope to the catalog, or fix its spelling (the help line suggests \
                 the closest one).",
            ),
            Kind::UnusedDeclaration => (
                "Declared but never used",
                "A connection value or credential that is declared but used in no URL, \
                 parameter or header: a connection would be asked for it for nothing. An \
                 unused credential is a warning; an unused connection value an error.",
                "Use it as `<name>` where it belongs, or remove the declaration.",
            ),
            Kind::UnmarkedSecret => (
                "Secret not marked secret",
                "A credential named like a secret (`apiKey`, `password`, `token`, ...) is \
                 declared `secret: false`, so it would be shown in forms and stored \
                 unsealed. A warning: the file stays valid.",
                "Remove `secret: false` unless the value is really public.",
            ),
            Kind::ControlCharacter => (
                "Control character in text",
                "A name or text contains a control character (a line break, a tab, an \
                 escape), which would change the meaning of the outputs that embed it \
                 (dotenv, Markdown, Nango YAML).",
                "Write it on one line without control characters.",
            ),
            Kind::SetName => (
                "Data-center set name",
                "A provider's `data_centers.set` does not name a set file in the \
                 `data-centers/` folder beside it, or a set's `name` differs from its file \
                 name, by which providers find it.",
                "Name an existing set (the help line lists them), or rename the set or its \
                 file so they agree.",
            ),
            Kind::SchemaViolation => (
                "Schema violation",
                "A value that breaks a rule of the JSON Schema that no other kind describes.",
                "Compare the value with `schemas/provider.schema.json` (or \
                 `schemas/data-center-set.schema.json` for a set) at the path the message \
                 names.",
            ),
            Kind::InternalError => (
                "Internal error",
                "The file passed every check but could not be read: a bug in \
                 provider-forge, not in the file.",
                "Report it with the file.",
            ),
        };
        About {
            title,
            description,
            fix,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ALL` lists each kind once, in declaration order: with `InternalError` declared last,
    /// a kind left out of it or listed twice fails here.
    #[test]
    fn all_lists_every_kind_in_order() {
        assert_eq!(Kind::ALL.len(), Kind::InternalError as usize + 1);
        for (index, kind) in Kind::ALL.iter().enumerate() {
            assert_eq!(*kind as usize, index, "{kind}");
        }
    }

    /// The ids are what serde writes, so JSON and the other outputs agree.
    #[test]
    fn ids_are_what_json_writes_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for kind in Kind::ALL {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.id())
            );
            assert!(seen.insert(kind.id()), "{} twice", kind.id());
            assert!(
                kind.id()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-')
            );
        }
    }

    /// Every kind links to a heading of docs/validate.md, and every kind heading there is a
    /// kind: GitHub makes a heading's anchor from its text, lowercased, with backquotes dropped,
    /// so the heading ``### `unknown-field` `` has the anchor `#unknown-field`.
    #[test]
    fn every_kind_has_a_section_in_the_documentation() {
        let docs = std::fs::read_to_string("docs/validate.md").unwrap();
        let documented: Vec<&str> = docs
            .lines()
            .filter_map(|line| line.strip_prefix("### `")?.strip_suffix('`'))
            .collect();
        let ids: Vec<&str> = Kind::ALL.iter().map(|kind| kind.id()).collect();
        assert_eq!(
            documented, ids,
            "the ### `ID` headings of docs/validate.md, in the order of Kind::ALL"
        );
    }
}
