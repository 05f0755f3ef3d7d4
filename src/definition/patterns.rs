//! The JSON Schema `pattern`s of the format's placeholder names, placeholder values and URLs.
//!
//! They are facts of the format, written for editors that only read the schema, so they sit
//! beside the types that carry them; `resolve` holds the full rules they approximate, and a test
//! there keeps the two in step.

/// JSON Schema `pattern` of a placeholder name: the rule of `is_placeholder_name` (in
/// `resolve::template`), for editors that only read the schema.
pub(crate) const NAME_PATTERN: &str = "^[A-Za-z_][A-Za-z0-9_]*$";

/// JSON Schema `pattern` of a placeholder value (a data center's value or a default): every
/// `<` opens a well-formed `<name>`, and no `{` or `}`, which are other tools' placeholder
/// syntax. Checked for every value, used or not, since either is a mistake wherever it is.
pub(crate) const VALUE_PATTERN: &str = "^([^<{}]|<[A-Za-z_][A-Za-z0-9_]*>)*$";

/// JSON Schema `pattern` of a URL template, for editors that only read the schema: https, or
/// http to a loopback host (or to a host a placeholder builds, which only expansion can
/// check), or a whole-URL placeholder at the start (`<instance_url>/oauth/token`); then only
/// printable ASCII (no whitespace, no `{` or `}`), every `<` opening a well-formed `<name>`.
/// Everything it refuses, the URL rules (`resolve::url_rules`) refuse too once the template is
/// expanded (non-ASCII and whitespace are not the normalised form; braces are refused as other tools'
/// placeholder syntax), so an editor never flags a file `validate` accepts. Written for both
/// ECMA-262 (yaml-language-server) and Rust regexes: no look-around, no class subtraction.
pub(crate) const URL_TEMPLATE_PATTERN: &str =
    concat!(url_template_start!(), url_template_rest!(), "$");

/// The start of [`URL_TEMPLATE_PATTERN`]: the scheme and what opens the host.
macro_rules! url_template_start {
    () => {
        concat!(
            r"^(https://",
            r"|http://((localhost|127\.[0-9]+\.[0-9]+\.[0-9]+|\[::1\])([:/?#]|$)",
            // A host built by a placeholder: printable ASCII up to the first `<`, no `/ ? #`.
            r"|[\x21\x22\x24-\x2E\x30-\x3B=\x40-\x7A|~]*<[A-Za-z_][A-Za-z0-9_]*>)",
            r"|<[A-Za-z_][A-Za-z0-9_]*>)",
        )
    };
}
use url_template_start;

/// The rest of [`URL_TEMPLATE_PATTERN`]: printable ASCII except `<`, `>`, `{`, `}`, or a
/// placeholder.
macro_rules! url_template_rest {
    () => {
        r"([\x21-\x3B=\x3F-\x7A|~]|<[A-Za-z_][A-Za-z0-9_]*>)*"
    };
}
use url_template_rest;

/// JSON Schema `pattern` of `token.url`: [`URL_TEMPLATE_PATTERN`], whose query string may also
/// hold `<credentials.NAME>` and `<base64(...)>` (a `token_request` that sends its key there).
pub(crate) const TOKEN_URL_TEMPLATE_PATTERN: &str = concat!(
    url_template_start!(),
    url_template_rest!(),
    r"(\?([\x21-\x3B=\x3F-\x7A|~]|<(credentials\.)?[A-Za-z_][A-Za-z0-9_]*>",
    r"|<base64\(([\x21-\x3B=\x3F-\x7A|~]|<(credentials\.)?[A-Za-z_][A-Za-z0-9_]*>)*\)>)*)?$"
);

/// JSON Schema `pattern` of a header, query or request parameter value: [`VALUE_PATTERN`]
/// with `<credentials.NAME>` and one level of `<base64(...)>` (a regular expression cannot
/// count nesting; deeper ones are checked by `validate`).
pub(crate) const PARAMETER_VALUE_PATTERN: &str = "^([^<{}]|<(credentials\\.)?[A-Za-z_][A-Za-z0-9_]*>|<base64\\(([^<{}]|<(credentials\\.)?[A-Za-z_][A-Za-z0-9_]*>)*\\)>)*$";

/// JSON Schema `pattern` of a URL written out in full (`docs_url`, `callback.redirect_uri`):
/// https, or http to a loopback host, with no placeholders.
pub(crate) const URL_PATTERN: &str = concat!(
    r"^(https://|http://(localhost|127\.[0-9]+\.[0-9]+\.[0-9]+|\[::1\])([:/?#]|$))",
    r"[\x21-\x3B=\x3F-\x7A|~]*$"
);
