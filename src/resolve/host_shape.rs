//! Where connection values stand in the host of a URL template, and what the template fixes.
//!
//! Host safety is a matter of structure, not of text. A template's host is read as DNS labels,
//! each fixed text, one whole `<value>`, or text glued to a value. A value is safe where it
//! fills whole labels at the left of a fixed registrable domain (`<shop>.myshopify.com`: the
//! value picks a tenant, the definition picks the domain), or where it is the whole host or the
//! whole URL and a pattern bounds it. Anywhere else (right of a fixed label as in
//! `api.amazon.<extension>`, glued to fixed text as in `example.com<path>`, or left of fewer
//! than two fixed labels as in `<x>.com`) the value would choose the registrable domain, so it
//! must be one of a list of allowed values (`enum`), each checked at validate time.
//!
//! "Registrable domain" here is two fixed labels at least. The public-suffix list is the
//! finer notion, but its private section lists the very platforms tenants live under
//! (`myshopify.com`), so only its ICANN section would fit, and no well-kept crate bundles
//! that section alone; two labels cover every template with a purpose, and a template whose
//! two fixed labels are a public suffix (`<x>.co.uk`) is the one shape this does not refuse.
//!
//! At run time [`check_filled_host`] checks the URL built: every fixed label left and right
//! of the values is in place, and a host built from a value is neither an IP address nor a
//! loopback name (a serve end user would otherwise point the token request, client secret
//! included, at the server's own loopback), unless the caller opts in for local tests.

use url::{Host, Url};

use super::url_rules;

/// How a template's host is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::resolve) enum HostShape<'t> {
    /// No value in the host: the template fixes it whole.
    Fixed(&'t str),
    /// The template starts with a value: a whole URL.
    WholeUrl(&'t str),
    /// The host is one value: a whole host name.
    WholeHost(&'t str),
    /// Values fill whole labels left of a fixed registrable domain (`<shop>.myshopify.com`).
    LeftOfDomain {
        /// The values, left to right.
        names: Vec<&'t str>,
        /// The fixed labels right of them (`myshopify.com`).
        domain: &'t str,
    },
    /// Values that could choose the registrable domain: they must be enumerated.
    Open(OpenHost<'t>),
}

/// A host whose values stand where they could choose the registrable domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::resolve) struct OpenHost<'t> {
    /// Each value with why it is open.
    pub(in crate::resolve) values: Vec<(&'t str, Openness)>,
    /// The fixed text left of the first label holding a value (`api.amazon.`).
    prefix: &'t str,
    /// The fixed text right of the last label holding a value (`.example.com`).
    suffix: &'t str,
}

/// Why a value in a host could choose the registrable domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::resolve) enum Openness {
    /// Glued to fixed text in one label (`com<path>`, `api<x>`).
    Glued(String),
    /// A fixed label stands left of it (`amazon` in `api.amazon.<extension>`).
    RightOf(String),
    /// Fewer than two fixed labels right of it (`<x>.com`).
    ShortDomain(String),
}

impl Openness {
    /// Why, in a sentence that follows "`<name>` ".
    pub(in crate::resolve) fn describe(&self) -> String {
        match self {
            Openness::Glued(label) => {
                format!("is glued to fixed text without a dot (`{label}`)")
            }
            Openness::RightOf(label) => format!("stands right of the fixed label `{label}`"),
            Openness::ShortDomain(domain) if domain.is_empty() => {
                "has no fixed domain right of it".to_owned()
            }
            Openness::ShortDomain(domain) => {
                format!("stands left of `{domain}` only, not of a registrable domain")
            }
        }
    }
}

/// The host part of a URL template (userinfo and port left out), or `None` when the template
/// starts with a value (a whole URL) or has no `scheme://`.
fn template_host(template: &str) -> Option<&str> {
    if template.starts_with('<') {
        return None;
    }
    let authority = url_rules::authority(url_rules::after_scheme(template)?);
    let host = authority
        .rfind('@')
        .map_or(authority, |at| &authority[at + 1..]);
    Some(if host.starts_with('[') {
        // An IPv6 literal has colons of its own: it ends at its bracket.
        host.find(']').map_or(host, |close| &host[..=close])
    } else {
        // Placeholder names hold no `:`, so the first one starts the port.
        host.find(':').map_or(host, |colon| &host[..colon])
    })
}

/// The name of a label that is exactly one `<name>`.
fn whole_value(label: &str) -> Option<&str> {
    label
        .strip_prefix('<')
        .and_then(|rest| rest.strip_suffix('>'))
        .filter(|name| !name.contains(['<', '>']))
}

/// The `<name>`s of a text, in order.
fn names(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        found.push(&rest[open + 1..open + close]);
        rest = &rest[open + close + 1..];
    }
    found
}

impl<'t> HostShape<'t> {
    /// The shape of `template`'s host; `template` has its data-center placeholders expanded
    /// and its connection values kept as `<name>`.
    pub(in crate::resolve) fn of(template: &'t str) -> Self {
        let Some(host) = template_host(template) else {
            return match names(template).first() {
                Some(name) if template.starts_with('<') => HostShape::WholeUrl(name),
                _ => HostShape::Fixed(template),
            };
        };
        if !host.contains('<') {
            return HostShape::Fixed(host);
        }
        if let Some(name) = whole_value(host) {
            return HostShape::WholeHost(name);
        }
        let labels: Vec<&str> = host.split('.').collect();
        let first = labels.iter().position(|l| l.contains('<')).unwrap_or(0);
        let last = labels.iter().rposition(|l| l.contains('<')).unwrap_or(0);
        let fixed_right = labels.len() - last - 1;
        // Byte offsets of the first and last label holding a value.
        let start: usize = labels[..first].iter().map(|l| l.len() + 1).sum();
        let end: usize = labels[..=last].iter().map(|l| l.len() + 1).sum::<usize>() - 1;
        let (prefix, suffix) = (&host[..start], &host[end..]);
        let domain = suffix.strip_prefix('.').unwrap_or(suffix);
        let mut values = Vec::new();
        let mut all_whole = first == 0 && fixed_right >= 2;
        for (index, label) in labels.iter().enumerate().take(last + 1).skip(first) {
            if let Some(name) = whole_value(label) {
                let openness = if index > 0 && !labels[index - 1].contains('<') {
                    all_whole = false;
                    Openness::RightOf(labels[index - 1].to_owned())
                } else {
                    Openness::ShortDomain(domain.to_owned())
                };
                values.push((name, openness));
            } else {
                all_whole = false;
                for name in names(label) {
                    values.push((name, Openness::Glued((*label).to_owned())));
                }
            }
        }
        if all_whole {
            return HostShape::LeftOfDomain {
                names: values.into_iter().map(|(name, _)| name).collect(),
                domain,
            };
        }
        HostShape::Open(OpenHost {
            values,
            prefix,
            suffix,
        })
    }
}

/// The values of `template`'s host that could choose its registrable domain, each with why:
/// what must be enumerated. The importer asks this of each URL it converts.
pub(crate) fn open_values(template: &str) -> Vec<(String, String)> {
    match HostShape::of(template) {
        HostShape::Open(open) => open
            .values
            .into_iter()
            .map(|(name, openness)| (name.to_owned(), openness.describe()))
            .collect(),
        _ => Vec::new(),
    }
}

/// Checks that `url`, built from `template` with connection values, keeps what the template
/// fixes of its host: the whole host, or every fixed label left and right of the values. A
/// host built from a value must be a DNS name that is not a loopback name, unless `loopback`
/// is allowed (local tests only).
pub(in crate::resolve) fn check_filled_host(
    template: &str,
    filled: &str,
    url: &Url,
    loopback: bool,
) -> Result<(), String> {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let shape = HostShape::of(template);
    if let HostShape::Fixed(expected) = shape {
        if template_host(template).is_some() && !host.eq_ignore_ascii_case(expected) {
            return Err(format!(
                "`{filled}` goes to host `{host}`, not `{expected}` as the definition says"
            ));
        }
        return Ok(());
    }
    if !loopback && is_local_host(url) {
        return Err(match url.host() {
            Some(Host::Domain(_)) => format!(
                "`{filled}` goes to the loopback host `{host}`; a connection value may not name this machine"
            ),
            _ => format!(
                "`{filled}` goes to the IP address `{host}`; a connection value must give a DNS name"
            ),
        });
    }
    let outside = |fixed: String| {
        Err(format!(
            "`{filled}` goes to host `{host}`, outside `{fixed}` which the definition fixes"
        ))
    };
    match shape {
        HostShape::LeftOfDomain { domain, .. } => {
            let tail = format!(".{}", domain.to_ascii_lowercase());
            if host.len() <= tail.len() || !host.ends_with(&tail) {
                return outside(format!("*{tail}"));
            }
        }
        HostShape::Open(open) => {
            // The fixed labels, and the fixed text of the labels glued to a value, in place.
            let written = template_host(template).unwrap_or_default();
            let head = format!("{}{}", open.prefix, literal_head(written, open.prefix));
            let tail = format!("{}{}", literal_tail(written, open.suffix), open.suffix);
            let (head, tail) = (head.to_ascii_lowercase(), tail.to_ascii_lowercase());
            if host.len() < head.len() + tail.len()
                || !host.starts_with(&head)
                || !host.ends_with(&tail)
            {
                return outside(format!("{head}*{tail}"));
            }
        }
        HostShape::Fixed(_) | HostShape::WholeUrl(_) | HostShape::WholeHost(_) => {}
    }
    Ok(())
}

/// The fixed text at the start of the first label holding a value (`api` of `api<x>`).
fn literal_head<'h>(host: &'h str, prefix: &str) -> &'h str {
    let rest = &host[prefix.len()..];
    &rest[..rest.find('<').unwrap_or(0)]
}

/// The fixed text at the end of the last label holding a value (`-api` of `<x>-api`).
fn literal_tail<'h>(host: &'h str, suffix: &str) -> &'h str {
    let rest = &host[..host.len() - suffix.len()];
    rest.rfind('>').map_or("", |close| &rest[close + 1..])
}

/// Whether a URL's host is a loopback name (`localhost` and the names under it, which RFC 6761
/// resolves to loopback) or an IP address: what a value may never make a host, since a request
/// there would reach the server's own machine or a bare address. The service asks it of every
/// URL a session's values build.
pub(crate) fn is_local_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => true,
        Some(Host::Domain(domain)) => {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            domain == "localhost" || domain.ends_with(".localhost")
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(template: &str) -> Vec<(&str, Openness)> {
        match HostShape::of(template) {
            HostShape::Open(open) => open.values,
            other => panic!("{template}: {other:?}"),
        }
    }

    #[test]
    fn values_left_of_a_fixed_registrable_domain_are_safe() {
        assert_eq!(
            HostShape::of("https://<shop>.myshopify.com/admin"),
            HostShape::LeftOfDomain {
                names: vec!["shop"],
                domain: "myshopify.com"
            }
        );
        assert_eq!(
            HostShape::of("https://<a>.<b>.auth0.com:8443/x"),
            HostShape::LeftOfDomain {
                names: vec!["a", "b"],
                domain: "auth0.com"
            }
        );
    }

    #[test]
    fn whole_hosts_whole_urls_and_fixed_hosts_are_told_apart() {
        assert_eq!(
            HostShape::of("https://<hostname>/services"),
            HostShape::WholeHost("hostname")
        );
        assert_eq!(
            HostShape::of("https://<hostname>:443/services"),
            HostShape::WholeHost("hostname")
        );
        assert_eq!(
            HostShape::of("<instance_url>/services"),
            HostShape::WholeUrl("instance_url")
        );
        assert_eq!(
            HostShape::of("https://login.microsoftonline.com/<tenant>/v2.0?x=<y>"),
            HostShape::Fixed("login.microsoftonline.com")
        );
        assert_eq!(
            HostShape::of("http://[::1]:8080/<path>"),
            HostShape::Fixed("[::1]")
        );
        assert_eq!(
            HostShape::of("https://example.com:<port>/x"),
            HostShape::Fixed("example.com")
        );
    }

    #[test]
    fn values_that_could_choose_the_domain_are_open_and_say_why() {
        assert_eq!(
            open("https://api.amazon.<extension>/auth/o2/token"),
            vec![("extension", Openness::RightOf("amazon".into()))]
        );
        assert_eq!(
            open("https://example.com<path>/x"),
            vec![("path", Openness::Glued("com<path>".into()))]
        );
        assert_eq!(
            open("https://api<x>.example.com"),
            vec![("x", Openness::Glued("api<x>".into()))]
        );
        assert_eq!(
            open("https://<x>-api.example.com"),
            vec![("x", Openness::Glued("<x>-api".into()))]
        );
        assert_eq!(
            open("https://<x>.com"),
            vec![("x", Openness::ShortDomain("com".into()))]
        );
        assert_eq!(
            open("https://<a>.<b>"),
            vec![
                ("a", Openness::ShortDomain(String::new())),
                ("b", Openness::ShortDomain(String::new()))
            ]
        );
    }

    fn check(template: &str, filled: &str) -> Result<(), String> {
        let url = Url::parse(filled).unwrap();
        check_filled_host(template, filled, &url, false)
    }

    #[test]
    fn a_filled_host_keeps_every_fixed_label_in_place() {
        let amazon = "https://api.amazon.<extension>/auth/o2/token";
        assert!(check(amazon, "https://api.amazon.co.uk/auth/o2/token").is_ok());
        assert!(check(amazon, "https://api.evil.com/auth/o2/token").is_err());
        let glued = "https://api<x>.example.com/";
        assert!(check(glued, "https://api-eu.example.com/").is_ok());
        assert!(check(glued, "https://apix.evil.com/").is_err());
        assert!(check(glued, "https://evil.example.com/").is_err());
        let shop = "https://<shop>.myshopify.com/";
        assert!(check(shop, "https://acme.myshopify.com/").is_ok());
        assert!(check(shop, "https://myshopify.com/").is_err());
        assert!(check(shop, "https://acme.myshopify.com.evil.com/").is_err());
    }

    #[test]
    fn a_host_built_from_a_value_is_never_loopback_or_an_ip_address() {
        for filled in [
            "https://localhost/x",
            "https://a.localhost/x",
            "https://127.0.0.1/x",
            "https://[::1]/x",
            "https://10.0.0.1/x",
        ] {
            assert!(check("https://<host>/x", filled).is_err(), "{filled}");
            let url = Url::parse(filled).unwrap();
            assert!(check_filled_host("https://<host>/x", filled, &url, true).is_ok());
        }
        // The definition's own loopback host is not a value.
        assert!(check("http://127.0.0.1:8080/<path>", "http://127.0.0.1:8080/a").is_ok());
    }

    #[test]
    fn loopback_and_ip_hosts_are_told_apart_from_dns_names() {
        for url in [
            "https://127.0.0.1/token",
            "https://localhost/token",
            "https://LOCALHOST./token",
            "https://api.localhost/token",
            "https://[::1]:8443/token",
            "https://10.0.0.7/token",
            "https://0x7f.1/token",
            "https://2130706433/token",
            "https://169.254.169.254/latest",
        ] {
            assert!(is_local_host(&Url::parse(url).unwrap()), "{url}");
        }
        for url in [
            "https://acme.my.salesforce.com/services/oauth2/token",
            "https://1234.suitetalk.api.netsuite.com/x",
            "https://accounts.zoho.eu/oauth/v2/token",
        ] {
            assert!(!is_local_host(&Url::parse(url).unwrap()), "{url}");
        }
    }
}
