//! Secrets as types: every credential the engine handles is a newtype whose `Debug` and
//! `Display` print `[redacted]`, so formatting a struct, an error or a log line can never leak
//! it. The value comes out only through [`expose`](ClientSecret::expose), which makes every
//! place that sends or stores a secret easy to find.
//!
//! Serde support writes the value itself (serialising a [`PkceVerifier`] inside a pending
//! authorization is how a server keeps it until the callback); only the explicit act of
//! serialising reveals it, never formatting.

/// What every secret prints as.
pub(crate) const REDACTED: &str = "[redacted]";

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret itself, for the one place that must send or store it.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}({})", stringify!($name), $crate::oauth::secret::REDACTED)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::oauth::secret::REDACTED)
            }
        }

        /// Serialises the value itself: serialising is storing on purpose (a server-side
        /// session, an encrypted row), unlike `Debug`/`Display`, which stay redacted.
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                <String as ::serde::Deserialize>::deserialize(deserializer).map(Self)
            }
        }
    };
}

/// For other modules' secrets (the service's webhook secret).
#[cfg(feature = "service")]
pub(crate) use secret_type;

secret_type!(
    /// The OAuth client secret (one shared secret, or one per data center).
    ClientSecret
);
secret_type!(
    /// The single-use authorization code (Zoho's "grant token") from the callback.
    AuthorizationCode
);
secret_type!(
    /// The PKCE code verifier (RFC 7636), kept between the authorization request and the
    /// exchange.
    PkceVerifier
);
secret_type!(
    /// An access token, sent on API calls.
    AccessToken
);
secret_type!(
    /// A refresh token, exchanged for new access tokens.
    RefreshToken
);
secret_type!(
    /// A credential a connection supplies (an API key, a username, a password): each is
    /// kept redacted, the ones the definition does not call secret too, since a username
    /// beside its password is half of the pair.
    CredentialSecret
);

/// Compares two strings in time that depends only on their lengths, so an attacker probing
/// `state` values learns nothing from response timing.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = ClientSecret::new("s3cr3t-value");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(format!("{secret:?}"), "ClientSecret([redacted])");
        let token = RefreshToken::new("rt-value");
        assert!(!format!("{:?}", Some(&token)).contains("rt-value"));
        assert_eq!(token.expose(), "rt-value");
    }

    #[test]
    fn serde_round_trips_the_value_while_debug_stays_redacted() {
        let verifier = PkceVerifier::new("verifier-value");
        let json = serde_json::to_string(&verifier).unwrap();
        assert_eq!(json, "\"verifier-value\"");
        let back: PkceVerifier = serde_json::from_str(&json).unwrap();
        assert_eq!(back, verifier);
        assert_eq!(format!("{back:?}"), "PkceVerifier([redacted])");
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
        assert!(constant_time_eq("", ""));
    }
}
