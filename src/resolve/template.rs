//! `<name>` placeholders in URL templates.
//!
//! A template such as `https://<accounts_host>/oauth/v2/auth` is expanded per data center. A
//! placeholder's value may itself contain placeholders (`accounts_host: accounts.zoho.<dc>`),
//! which is what lets one default serve eight data centers and one explicit value serve Canada.
//!
//! Connection values (`<subdomain>`, `<instance_url>`) are "late" names: resolution keeps them
//! as `<name>` in the table, and [`crate::resolve::connection::fill`] replaces them for one
//! connection through this same [`expand`]. A late value is data, never a template: it is
//! inserted as is, without expanding placeholders inside it.

use indexmap::IndexMap;
use smallvec::SmallVec;

/// Longest chain of placeholders expanding into placeholders. Deeper is a cycle or a mistake.
const MAX_EXPANSION_DEPTH: usize = 16;

/// The placeholders being expanded around the current one, outermost first. It never holds
/// more than [`MAX_EXPANSION_DEPTH`], so it lives on the stack: a `Vec` here was allocated for
/// every URL whose placeholder has a placeholder in its value.
type Chain<'s> = SmallVec<[&'s str; MAX_EXPANSION_DEPTH]>;

/// Why a template could not be expanded for one data center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PlaceholderError {
    /// `<` without a well-formed `name>` after it.
    Malformed { at: usize },
    /// A placeholder with no value for this data center and no default. `via` is the
    /// placeholder whose value wrote it (`None`: the template itself did), so a name a
    /// data-center value introduces is reported at that value, not at every template using it.
    Missing { name: String, via: Option<String> },
    /// Placeholders that expand into each other.
    Cycle { chain: Vec<String> },
}

/// The placeholder values in force for one data center: its own values first, then defaults.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlaceholderValues<'a> {
    /// Values given for this data center (its own, then overrides applied).
    pub values: &'a IndexMap<String, String>,
    /// Defaults shared by every data center.
    pub defaults: &'a IndexMap<String, String>,
    /// Late (per-connection) names: `Some(value)` inserts the value as is, `None` keeps
    /// `<name>` for a later fill.
    pub late: &'a IndexMap<String, Option<String>>,
}

/// What a placeholder name stands for in one scope.
enum Lookup<'a> {
    /// A template to expand further.
    Template(&'a str),
    /// A connection value, inserted verbatim.
    Verbatim(&'a str),
    /// A connection value not known yet: `<name>` stays.
    Keep,
}

impl<'a> PlaceholderValues<'a> {
    /// A scope with only late names, for filling a resolved table.
    pub(crate) fn late_only(late: &'a IndexMap<String, Option<String>>) -> Self {
        static EMPTY: std::sync::OnceLock<IndexMap<String, String>> = std::sync::OnceLock::new();
        let empty = EMPTY.get_or_init(IndexMap::new);
        PlaceholderValues {
            values: empty,
            defaults: empty,
            late,
        }
    }

    fn lookup(&self, name: &str) -> Option<Lookup<'a>> {
        if let Some(late) = self.late.get(name) {
            return Some(match late {
                Some(value) => Lookup::Verbatim(value),
                None => Lookup::Keep,
            });
        }
        self.values
            .get(name)
            .or_else(|| self.defaults.get(name))
            .map(|value| Lookup::Template(value))
    }
}

/// The placeholder names a template uses, in order of appearance (those inside a
/// `<base64(...)>` included), or where it is malformed.
pub(crate) fn placeholders(template: &str) -> Result<Vec<&str>, PlaceholderError> {
    let mut names = Vec::new();
    collect_names(template, &mut names)?;
    Ok(names)
}

fn collect_names<'t>(template: &'t str, names: &mut Vec<&'t str>) -> Result<(), PlaceholderError> {
    for found in scan(template, 0) {
        match found?.piece {
            Piece::Name(name) => names.push(name),
            Piece::Base64(inner) => collect_names(inner, names)?,
        }
    }
    Ok(())
}

/// The prefix of a credential placeholder: `<credentials.apiKey>`.
pub(crate) const CREDENTIALS_PREFIX: &str = "credentials.";

/// Where `<credentials.NAME>` and `<base64(...)>` may be written, for hints.
pub(crate) const CREDENTIAL_PLACES: &str = "credentials go in `api.headers`, `api.query`, `api.verify.headers`, `token.headers`, `token.params`, `token.refresh_params` and the query string of `token.url`";

/// Opens a base64 placeholder: `<base64(TEXT)>`.
const BASE64_OPEN: &str = "<base64(";

/// The credential a placeholder name refers to (`apiKey` for `credentials.apiKey`), if it is
/// one.
pub(crate) fn credential_name(name: &str) -> Option<&str> {
    name.strip_prefix(CREDENTIALS_PREFIX)
        .filter(|rest| is_placeholder_name(rest))
}

/// One placeholder of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece<'t> {
    /// `<name>` or `<credentials.NAME>`.
    Name(&'t str),
    /// `<base64(TEXT)>`: TEXT, which may hold placeholders of its own.
    Base64(&'t str),
}

/// A placeholder found by [`scan`]: where it starts, how long it is, and what it is.
#[derive(Debug, Clone, Copy)]
struct Found<'t> {
    open: usize,
    len: usize,
    piece: Piece<'t>,
}

/// Each placeholder of `template` from byte `from` on, in order, or where a `<` opens no
/// well-formed placeholder (the scan ends there). Allocates nothing and searches bytes (`<`,
/// `>` and `)` are ASCII): expansion runs it for every template of every data center.
fn scan(
    template: &str,
    from: usize,
) -> impl Iterator<Item = Result<Found<'_>, PlaceholderError>> + '_ {
    let bytes = template.as_bytes();
    let mut offset = from;
    std::iter::from_fn(move || {
        let open = offset + bytes.get(offset..)?.iter().position(|&b| b == b'<')?;
        match placeholder_at(template, open) {
            Some(found) => {
                offset = open + found.len;
                Some(Ok(found))
            }
            None => {
                offset = template.len() + 1;
                Some(Err(PlaceholderError::Malformed { at: open }))
            }
        }
    })
}

/// The well-formed placeholder whose `<` is at byte `open`, if there is one.
fn placeholder_at(template: &str, open: usize) -> Option<Found<'_>> {
    let bytes = template.as_bytes();
    if template[open..].starts_with(BASE64_OPEN) {
        // TEXT ends at the `)>` that closes it: placeholders inside it are skipped whole.
        let start = open + BASE64_OPEN.len();
        let mut at = start;
        while at < bytes.len() {
            if bytes[at] == b')' && bytes.get(at + 1) == Some(&b'>') {
                return Some(Found {
                    open,
                    len: at + 2 - open,
                    piece: Piece::Base64(&template[start..at]),
                });
            }
            if bytes[at] == b'<' {
                at += placeholder_at(template, at)?.len;
            } else {
                at += 1;
            }
        }
        return None;
    }
    let close = bytes[open + 1..].iter().position(|&b| b == b'>')?;
    let name = &template[open + 1..open + 1 + close];
    (is_placeholder_name(name) || credential_name(name).is_some()).then_some(Found {
        open,
        len: name.len() + 2,
        piece: Piece::Name(name),
    })
}

/// Placeholder names are identifiers: `dc`, `accounts_host`, `subdomain`, or camelCase
/// connection-config keys such as `tenantId`.
pub(crate) fn is_placeholder_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What is wrong with a malformed placeholder at byte `at` of `template`, and how to fix it:
/// one wording for the schema check and for expansion. `at` may point into a value the
/// template expanded rather than into the template: then the template is named without a
/// position, never sliced out of bounds.
pub(crate) fn malformed_problem(template: &str, at: usize) -> (String, String) {
    let opens_here = template.get(at..).is_some_and(|rest| rest.starts_with('<'));
    let message = match template.get(..at).filter(|_| opens_here) {
        Some(before) => format!(
            "malformed placeholder at character {} of `{template}`",
            before.chars().count() + 1
        ),
        None => format!("malformed placeholder in a value `{template}` uses"),
    };
    (
        message,
        "write placeholders as `<name>`, with a name of letters, digits and `_`".to_owned(),
    )
}

/// A placeholder written in another tool's syntax: `${name}` (Nango, JavaScript template
/// strings), `{{name}}` (Jinja, Mustache) or `{name}` (OpenAPI server variables). Users who
/// come from those tools write them by habit, and the URL error they would otherwise get (an
/// invalid DNS label) does not say what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ForeignPlaceholder {
    /// The placeholder as written, e.g. `${connectionConfig.subdomain}`.
    pub written: String,
    /// Whose syntax it is, for the message.
    pub syntax: &'static str,
    /// The name to write between `<` and `>`, when the written one makes a valid name
    /// (Nango's `connectionConfig.` prefix dropped).
    pub name: Option<String>,
}

impl ForeignPlaceholder {
    /// The first foreign placeholder in `text`, if any.
    pub(crate) fn find(text: &str) -> Option<Self> {
        let open = text.find('{')?;
        let (start, syntax, close) = if text[..open].ends_with('$') {
            (open - 1, "Nango's placeholder syntax", "}")
        } else if text[open + 1..].starts_with('{') {
            (open, "a Jinja or Mustache placeholder", "}}")
        } else {
            (open, "an OpenAPI-style placeholder", "}")
        };
        let inner_start = open + if close == "}}" { 2 } else { 1 };
        let end = inner_start + text[inner_start..].find(close)? + close.len();
        let inner = text[inner_start..end - close.len()].trim();
        let inner = inner.strip_prefix("connectionConfig.").unwrap_or(inner);
        Some(ForeignPlaceholder {
            written: text[start..end].to_owned(),
            syntax,
            name: is_placeholder_name(inner).then(|| inner.to_owned()),
        })
    }

    /// What is wrong and how to fix it.
    pub(crate) fn problem(&self) -> (String, String) {
        let written = &self.written;
        let syntax = self.syntax;
        match &self.name {
            Some(name) => (
                format!(
                    "`{written}` looks like {syntax}; placeholders here are written `<{name}>`"
                ),
                format!(
                    "write `<{name}>`; the name must be a data-center placeholder or be declared under `connection.params`"
                ),
            ),
            None => (
                format!("`{written}` looks like {syntax}; placeholders here are written `<name>`"),
                "write `<name>`, with a name of letters, digits and `_`".to_owned(),
            ),
        }
    }
}

/// What is wrong with a template that has `{` or `}` outside a foreign placeholder.
pub(crate) fn brace_problem(template: &str) -> (String, String) {
    match ForeignPlaceholder::find(template) {
        Some(foreign) => foreign.problem(),
        None => (
            format!("`{template}` has `{{` or `}}`, which are not placeholder syntax here"),
            "write placeholders as `<name>`; in a URL, percent-encode a literal brace (`%7B`, `%7D`)".to_owned(),
        ),
    }
}

/// Expands every placeholder of `template` for one data center.
pub(crate) fn expand(
    template: &str,
    scope: PlaceholderValues<'_>,
) -> Result<String, PlaceholderError> {
    let mut out = String::with_capacity(template.len() + 16);
    expand_into(template, scope, &mut Chain::new(), &mut out)?;
    Ok(out)
}

/// Whether a template uses a credential or `<base64(...)>` (`false` when it is malformed:
/// that is reported on its own).
pub(crate) fn uses_credentials(template: &str) -> bool {
    template.contains(BASE64_OPEN)
        || placeholders(template)
            .is_ok_and(|names| names.iter().any(|name| credential_name(name).is_some()))
}

/// Appends `template` expanded to `out`; true when a late name was kept as `<name>`. `chain`
/// holds the placeholders being expanded around this one (for cycles, and to say which value
/// wrote a missing name).
fn expand_into<'s>(
    template: &'s str,
    scope: PlaceholderValues<'s>,
    chain: &mut Chain<'s>,
    out: &mut String,
) -> Result<bool, PlaceholderError> {
    let mut copied = 0;
    let mut kept = false;
    for found in scan(template, 0) {
        let Found { open, len, piece } = found?;
        out.push_str(&template[copied..open]);
        copied = open + len;
        let done = match piece {
            Piece::Name(name) => expand_one(name, scope, chain, out),
            Piece::Base64(inner) => expand_base64(inner, scope, chain, out),
        };
        match done {
            Ok(kept_here) => kept |= kept_here,
            Err(error) => {
                // A malformed placeholder anywhere in this template is its problem, whatever a
                // value looked up before it lacks.
                return Err(match scan(template, copied).find_map(Result::err) {
                    Some(malformed) => malformed,
                    None => error,
                });
            }
        }
    }
    out.push_str(&template[copied..]);
    Ok(kept)
}

/// Appends `<base64(TEXT)>`: the base64 of TEXT expanded, or, while TEXT still keeps a late
/// name, the placeholder with TEXT expanded as far as it goes.
fn expand_base64<'s>(
    inner: &'s str,
    scope: PlaceholderValues<'s>,
    chain: &mut Chain<'s>,
    out: &mut String,
) -> Result<bool, PlaceholderError> {
    use base64::Engine as _;
    let mut text = String::with_capacity(inner.len() + 16);
    let kept = expand_into(inner, scope, chain, &mut text)?;
    if kept {
        out.push_str(BASE64_OPEN);
        out.push_str(&text);
        out.push_str(")>");
    } else {
        base64::engine::general_purpose::STANDARD.encode_string(text.as_bytes(), out);
    }
    Ok(kept)
}

/// Appends the value of the placeholder `name` to `out`; true when it was kept as `<name>`.
fn expand_one<'s>(
    name: &'s str,
    scope: PlaceholderValues<'s>,
    chain: &mut Chain<'s>,
    out: &mut String,
) -> Result<bool, PlaceholderError> {
    if chain.contains(&name) || chain.len() >= MAX_EXPANSION_DEPTH {
        let mut cycle: Vec<String> = chain.iter().map(|seen| (*seen).to_owned()).collect();
        cycle.push(name.to_owned());
        return Err(PlaceholderError::Cycle { chain: cycle });
    }
    match scope.lookup(name) {
        None => {
            return Err(PlaceholderError::Missing {
                name: name.to_owned(),
                via: chain.last().map(|via| (*via).to_owned()),
            });
        }
        Some(Lookup::Verbatim(value)) => out.push_str(value),
        Some(Lookup::Keep) => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            return Ok(true);
        }
        Some(Lookup::Template(value)) => {
            chain.push(name);
            let kept = expand_into(value, scope, chain, out)?;
            chain.pop();
            return Ok(kept);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> IndexMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn expands_nested_placeholders_with_dc_values_first() {
        let defaults = map(&[("accounts_host", "accounts.zoho.<dc>")]);
        let eu = map(&[("dc", "eu")]);
        let ca = map(&[("dc", "ca"), ("accounts_host", "accounts.zohocloud.ca")]);
        let template = "https://<accounts_host>/oauth/v2/token";
        let late = IndexMap::new();
        let scope = |values| PlaceholderValues {
            values,
            defaults: &defaults,
            late: &late,
        };
        assert_eq!(
            expand(template, scope(&eu)).unwrap(),
            "https://accounts.zoho.eu/oauth/v2/token"
        );
        assert_eq!(
            expand(template, scope(&ca)).unwrap(),
            "https://accounts.zohocloud.ca/oauth/v2/token"
        );
    }

    #[test]
    fn names_the_missing_placeholder() {
        let empty = IndexMap::new();
        let err = expand(
            "https://www.zohoapis.<dc>",
            PlaceholderValues {
                values: &empty,
                defaults: &empty,
                late: &IndexMap::new(),
            },
        )
        .unwrap_err();
        assert_eq!(
            err,
            PlaceholderError::Missing {
                name: "dc".into(),
                via: None
            }
        );
    }

    #[test]
    fn detects_cycles() {
        let defaults = map(&[("a", "<b>"), ("b", "x.<a>")]);
        let empty = IndexMap::new();
        let err = expand(
            "https://<a>",
            PlaceholderValues {
                values: &empty,
                defaults: &defaults,
                late: &IndexMap::new(),
            },
        )
        .unwrap_err();
        assert_eq!(
            err,
            PlaceholderError::Cycle {
                chain: vec!["a".into(), "b".into(), "a".into()]
            }
        );
    }

    #[test]
    fn rejects_malformed_placeholders() {
        assert_eq!(
            placeholders("https://x.<dc/y"),
            Err(PlaceholderError::Malformed { at: 10 })
        );
        assert_eq!(
            placeholders("https://x.<Bad Name>/"),
            Err(PlaceholderError::Malformed { at: 10 })
        );
        assert_eq!(
            placeholders("https://x.<9lives>/"),
            Err(PlaceholderError::Malformed { at: 10 })
        );
        assert_eq!(placeholders("https://<a>.<b>/"), Ok(vec!["a", "b"]));
        assert_eq!(placeholders("https://<tenantId>/"), Ok(vec!["tenantId"]));
    }

    /// Expansion is one pass, but a template's own malformed placeholder still wins over a
    /// value that an earlier placeholder lacks, or a fault inside that value.
    #[test]
    fn a_malformed_template_wins_over_what_its_values_lack() {
        let defaults = map(&[
            ("host", "<nowhere>.example.com"),
            ("a", "<b>"),
            ("b", "<a>"),
        ]);
        let empty = IndexMap::new();
        let late = IndexMap::new();
        let scope = PlaceholderValues {
            values: &empty,
            defaults: &defaults,
            late: &late,
        };
        for template in [
            "https://<missing>/<bad",
            "https://<host>/<bad",
            "https://<a>/<bad",
        ] {
            assert_eq!(
                expand(template, scope),
                Err(PlaceholderError::Malformed {
                    at: template.rfind('<').unwrap()
                }),
                "{template}"
            );
        }
        assert_eq!(
            expand("https://<host>/<ok>", scope),
            Err(PlaceholderError::Missing {
                name: "nowhere".into(),
                via: Some("host".into())
            })
        );
    }

    #[test]
    fn late_values_are_kept_or_inserted_verbatim() {
        let defaults = map(&[("host", "<subdomain>.example.com")]);
        let empty = IndexMap::new();
        let kept = IndexMap::from([("subdomain".to_owned(), None)]);
        let filled = IndexMap::from([("subdomain".to_owned(), Some("<host>".to_owned()))]);
        let scope = |late| PlaceholderValues {
            values: &empty,
            defaults: &defaults,
            late,
        };
        assert_eq!(
            expand("https://<host>/a", scope(&kept)).unwrap(),
            "https://<subdomain>.example.com/a"
        );
        assert_eq!(
            expand("https://<host>/a", scope(&filled)).unwrap(),
            "https://<host>.example.com/a",
            "a connection value is never expanded as a template"
        );
    }
    #[test]
    fn credentials_and_base64_are_placeholders_and_base64_waits_for_its_values() {
        let template = "Basic <base64(<credentials.username>:<credentials.password>)>";
        assert_eq!(
            placeholders(template),
            Ok(vec!["credentials.username", "credentials.password"])
        );
        let kept: IndexMap<String, Option<String>> = IndexMap::from([
            ("credentials.username".to_owned(), None),
            ("credentials.password".to_owned(), None),
        ]);
        assert_eq!(
            expand(template, PlaceholderValues::late_only(&kept)).unwrap(),
            template,
            "kept until the credentials are known"
        );
        let filled: IndexMap<String, Option<String>> = IndexMap::from([
            (
                "credentials.username".to_owned(),
                Some("Aladdin".to_owned()),
            ),
            (
                "credentials.password".to_owned(),
                Some("open sesame".to_owned()),
            ),
        ]);
        // RFC 7617's example.
        assert_eq!(
            expand(template, PlaceholderValues::late_only(&filled)).unwrap(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        // A value is data: a `)>` inside it does not end the base64 text early.
        let tricky: IndexMap<String, Option<String>> =
            IndexMap::from([("credentials.k".to_owned(), Some(")>".to_owned()))]);
        assert_eq!(
            expand(
                "<base64(<credentials.k>)>",
                PlaceholderValues::late_only(&tricky)
            )
            .unwrap(),
            "KT4="
        );
        assert_eq!(
            placeholders("x <base64(<credentials.k>"),
            Err(PlaceholderError::Malformed { at: 2 })
        );
        assert_eq!(
            placeholders("<credentials.>"),
            Err(PlaceholderError::Malformed { at: 0 })
        );
        assert_eq!(
            placeholders("<other.name>"),
            Err(PlaceholderError::Malformed { at: 0 })
        );
        assert!(uses_credentials("?key=<credentials.k>"));
        assert!(uses_credentials("<base64(a:b)>"));
        assert!(!uses_credentials("https://<subdomain>.example.com"));
    }

    #[test]
    fn the_parameter_pattern_takes_credentials_and_base64() {
        let pattern =
            regex::Regex::new(crate::definition::patterns::PARAMETER_VALUE_PATTERN).unwrap();
        for good in [
            "<credentials.apiKey>",
            "Basic <base64(<credentials.username>:<credentials.password>)>",
            "Bearer <access_token>",
            "2023-06-01",
        ] {
            assert!(pattern.is_match(good), "{good}");
        }
        for bad in ["${apiKey}", "<credentials.>", "<base64(<x>", "{{ key }}"] {
            assert!(!pattern.is_match(bad), "{bad}");
        }
    }

    #[test]
    fn finds_placeholders_written_in_other_tools_syntax() {
        let found =
            ForeignPlaceholder::find("https://${connectionConfig.subdomain}.x.com/a").unwrap();
        assert_eq!(found.written, "${connectionConfig.subdomain}");
        assert_eq!(found.name.as_deref(), Some("subdomain"));
        assert!(found.syntax.contains("Nango"));
        let (message, _) = found.problem();
        assert_eq!(
            message,
            "`${connectionConfig.subdomain}` looks like Nango's placeholder syntax; placeholders here are written `<subdomain>`"
        );

        let found = ForeignPlaceholder::find("https://api.x.com/{{ version }}/").unwrap();
        assert_eq!(found.written, "{{ version }}");
        assert_eq!(found.name.as_deref(), Some("version"));
        let found = ForeignPlaceholder::find("https://www.zohoapis.{dc}").unwrap();
        assert_eq!(found.written, "{dc}");
        assert!(found.syntax.contains("OpenAPI"));

        // Not a name we could write as `<name>`: the message says what the syntax is anyway.
        let found = ForeignPlaceholder::find("https://x.com/${credentials.clientId}").unwrap();
        assert_eq!(found.name, None);
        assert!(found.problem().0.contains("`<name>`"));

        assert_eq!(ForeignPlaceholder::find("https://<host>/a"), None);
        assert_eq!(ForeignPlaceholder::find("https://x.com/${unclosed"), None);
    }

    #[test]
    fn a_malformed_placeholder_is_placed_by_character_not_byte() {
        let (message, _) = malformed_problem("https://ü.<x", 11);
        assert_eq!(
            message,
            "malformed placeholder at character 11 of `https://ü.<x`"
        );
        // Found in a value the template expanded (`accounts_host: accounts.<dc`): the offset
        // is the value's, so it is not shown against the template.
        let defaults = map(&[("accounts_host", "accounts.zoho.<dc")]);
        let scope = PlaceholderValues {
            values: &defaults,
            defaults: &defaults,
            late: &IndexMap::new(),
        };
        let Err(PlaceholderError::Malformed { at }) = expand("https://ü<accounts_host>", scope)
        else {
            panic!("the value is malformed");
        };
        let (message, _) = malformed_problem("https://ü<accounts_host>", at);
        assert_eq!(
            message,
            "malformed placeholder in a value `https://ü<accounts_host>` uses"
        );
    }
}
