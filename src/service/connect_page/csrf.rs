//! The form's CSRF token, bound to the session and to the browser that opened the page.
//!
//! The page sets a random nonce in a cookie (`HttpOnly`, `SameSite=Strict`, `Secure` when the
//! service is served over https, scoped to the connect pages' path) and puts
//! `HMAC-SHA256(page token, nonce)` in the form. A submission is accepted only when the form's
//! token is that HMAC of the cookie it arrived with, compared in constant time. Knowing a
//! connect URL is therefore not enough to post its form from another site: that site's request
//! carries no `SameSite=Strict` cookie, and it cannot read the nonce of the victim's browser.
//! Nothing is stored: the page token, which only the session's URL holds, keys the HMAC.

use axum::http::{HeaderMap, HeaderValue, header};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::oauth::authorize::random_token;

/// The cookie holding the browser's nonce.
pub(crate) const COOKIE: &str = "pf_connect";
/// The form field holding the token.
pub(crate) const FIELD: &str = "csrf";
/// Random bytes in a nonce.
const NONCE_BYTES: usize = 32;

/// A fresh nonce.
pub(crate) fn new_nonce() -> String {
    random_token(NONCE_BYTES)
}

/// The browser's nonce from its `Cookie` headers, when it holds a well-formed one.
pub(crate) fn nonce(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|value| well_formed(value))
}

/// A nonce as [`new_nonce`] makes them: URL-safe base64 of [`NONCE_BYTES`] bytes.
fn well_formed(value: &str) -> bool {
    value.len() == (NONCE_BYTES * 4).div_ceil(3)
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn mac(page_token: &str, nonce: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(page_token.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(b"provider-forge connect form\0");
    mac.update(nonce.as_bytes());
    mac
}

/// The token the form carries for this page and nonce (hex).
pub(crate) fn token(page_token: &str, nonce: &str) -> String {
    mac(page_token, nonce)
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `presented` is the token of this page and nonce (compared in constant time).
pub(crate) fn verify(page_token: &str, nonce: &str, presented: &str) -> bool {
    token(page_token, nonce)
        .as_bytes()
        .ct_eq(presented.as_bytes())
        .into()
}

/// The `Set-Cookie` value that gives the browser `nonce` for pages under `path`.
pub(crate) fn set_cookie(nonce: &str, path: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={nonce}; Path={path}; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("a nonce and a URL path make a valid header")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_verifies_only_for_its_page_and_nonce() {
        let nonce = new_nonce();
        let token = token("page-a", &nonce);
        assert!(verify("page-a", &nonce, &token));
        assert!(!verify("page-b", &nonce, &token), "another session");
        assert!(!verify("page-a", &new_nonce(), &token), "another browser");
        assert!(!verify("page-a", &nonce, &token[..token.len() - 2]));
        assert!(!verify("page-a", &nonce, "zz"));
        assert!(!verify("page-a", &nonce, ""));
    }

    #[test]
    fn the_nonce_is_read_from_any_cookie_header_and_must_be_well_formed() {
        let nonce = new_nonce();
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1"));
        headers.append(
            header::COOKIE,
            HeaderValue::from_str(&format!("b=2; {COOKIE}={nonce}")).unwrap(),
        );
        assert_eq!(super::nonce(&headers), Some(nonce));
        let mut forged = HeaderMap::new();
        forged.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("{COOKIE}=short")).unwrap(),
        );
        assert_eq!(super::nonce(&forged), None);
    }

    #[test]
    fn the_cookie_is_strict_http_only_and_secure_over_https() {
        let cookie = set_cookie("n", "/connect", true);
        assert_eq!(
            cookie.to_str().unwrap(),
            "pf_connect=n; Path=/connect; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(
            !set_cookie("n", "/connect", false)
                .to_str()
                .unwrap()
                .contains("Secure")
        );
    }
}
