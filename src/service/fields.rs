//! A refused field of a request (a credential, a connection parameter, the environment, the
//! data center): which field, a machine-readable code, and a message that names what the
//! definition wants, never the value given for a credential.
//!
//! The HTTP layer answers it as 400 with `error` = [`FieldError::code`] and `field` =
//! [`FieldError::field`]; the connect page shows the message beside the field it names. The
//! checks themselves are the resolved table's ([`crate::resolve::fill_api_request`] and the
//! other fillers): this only classifies what they refuse.

use super::error_code::ErrorCode;
use crate::resolve::connection::ConnectionError;

/// A request field the definition refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// `connection_id` is empty, too long or holds a control character.
    #[error(
        "connection_id must be 1 to {max} characters without control characters",
        max = super::MAX_CONNECTION_ID_LEN
    )]
    ConnectionId,
    /// A credential the provider does not declare (or, for `client_credentials`, not
    /// `client_id` or `client_secret`).
    #[error("{message}")]
    UnknownCredential {
        /// The name given.
        name: String,
        /// What is wrong and what the provider declares.
        message: String,
    },
    /// A required credential is missing.
    #[error("{message}")]
    MissingCredential {
        /// The credential's name.
        name: String,
        /// What is missing.
        message: String,
    },
    /// A credential fails its pattern or holds a control character (the value is never
    /// quoted).
    #[error("{message}")]
    InvalidCredential {
        /// The credential's name.
        name: String,
        /// Why.
        message: String,
    },
    /// A connection parameter that is missing, undeclared, or refused (pattern, kind, host).
    #[error("{message}")]
    Param {
        /// The parameter's name, when the refusal names one.
        name: Option<String>,
        /// The code: `missing_param`, `unknown_param` or `invalid_param`.
        code: ErrorCode,
        /// What the definition wants.
        message: String,
    },
    /// An API environment the provider does not define.
    #[error("provider `{provider}` has no API environment `{environment}`; it defines: {known}")]
    UnknownEnvironment {
        /// Provider id.
        provider: String,
        /// The environment asked for.
        environment: String,
        /// The environments it defines, comma-separated (`none` when it has no API section).
        known: String,
    },
    /// A data center the provider does not enable.
    #[error("{message}")]
    UnknownDataCenter {
        /// The code asked for.
        code: String,
        /// What the provider enables.
        message: String,
    },
}

impl FieldError {
    /// The machine-readable code (`missing_credential`, `unknown_environment`, ...).
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::ConnectionId => ErrorCode::InvalidConnectionId,
            Self::UnknownCredential { .. } => ErrorCode::UnknownCredential,
            Self::MissingCredential { .. } => ErrorCode::MissingCredential,
            Self::InvalidCredential { .. } => ErrorCode::InvalidCredential,
            Self::Param { code, .. } => *code,
            Self::UnknownEnvironment { .. } => ErrorCode::UnknownEnvironment,
            Self::UnknownDataCenter { .. } => ErrorCode::UnknownDataCenter,
        }
    }

    /// The field of the request it is about: `connection_id`, `credentials.NAME`,
    /// `params.NAME` (or `params`), `environment`, `dc`.
    pub fn field(&self) -> String {
        match self {
            Self::ConnectionId => "connection_id".to_owned(),
            Self::UnknownCredential { name, .. }
            | Self::MissingCredential { name, .. }
            | Self::InvalidCredential { name, .. } => format!("credentials.{name}"),
            Self::Param {
                name: Some(name), ..
            } => format!("params.{name}"),
            Self::Param { name: None, .. } => "params".to_owned(),
            Self::UnknownEnvironment { .. } => "environment".to_owned(),
            Self::UnknownDataCenter { .. } => "dc".to_owned(),
        }
    }

    /// The field a refusal of the resolved table is about, when it is about a field of the
    /// request; `None` for refusals that are not (a request the definition cannot build).
    pub(crate) fn from_connection(error: &ConnectionError) -> Option<Self> {
        let message = error.to_string();
        let param = |name: Option<&String>, code| Self::Param {
            name: name.cloned(),
            code,
            message: message.clone(),
        };
        Some(match error {
            ConnectionError::MissingCredential { name, .. } => Self::MissingCredential {
                name: name.clone(),
                message,
            },
            ConnectionError::UnknownCredential { name, .. } => Self::UnknownCredential {
                name: name.clone(),
                message,
            },
            ConnectionError::InvalidCredential { name, .. } => Self::InvalidCredential {
                name: name.clone(),
                message,
            },
            ConnectionError::Missing { name, .. } => param(Some(name), ErrorCode::MissingParam),
            ConnectionError::Unknown { name, .. } => param(Some(name), ErrorCode::UnknownParam),
            ConnectionError::Invalid { name, .. } => param(Some(name), ErrorCode::InvalidParam),
            // A URL the values make that leaves the definition's host: the values as a whole.
            ConnectionError::Url { .. } => param(None, ErrorCode::InvalidParam),
            ConnectionError::UnknownEnvironment {
                provider,
                environment,
                known,
            } => Self::UnknownEnvironment {
                provider: provider.clone(),
                environment: environment.clone(),
                known: known.clone(),
            },
            ConnectionError::UnknownDataCenter { code, .. } => Self::UnknownDataCenter {
                code: code.clone(),
                message,
            },
            ConnectionError::NotInMode(_) | ConnectionError::NotKnownYet { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_names_its_field_and_code() {
        let missing = FieldError::from_connection(&ConnectionError::MissingCredential {
            provider: "anthropic".into(),
            name: "apiKey".into(),
            title: "API Key".into(),
        })
        .unwrap();
        assert_eq!(
            (missing.code().as_str(), missing.field().as_str()),
            ("missing_credential", "credentials.apiKey")
        );
        let param = FieldError::from_connection(&ConnectionError::Invalid {
            name: "subdomain".into(),
            reason: "`a/b` holds `/`".into(),
        })
        .unwrap();
        assert_eq!(
            (param.code().as_str(), param.field().as_str()),
            ("invalid_param", "params.subdomain")
        );
        let environment = FieldError::from_connection(&ConnectionError::UnknownEnvironment {
            provider: "zoho-crm".into(),
            environment: "staging".into(),
            known: "production, sandbox, developer".into(),
        })
        .unwrap();
        assert_eq!(environment.field(), "environment");
        assert!(
            environment
                .to_string()
                .ends_with("it defines: production, sandbox, developer"),
            "{environment}"
        );
        assert!(
            FieldError::from_connection(&ConnectionError::NotKnownYet {
                entry: "api_auth.headers.Authorization".into(),
                name: "access_token".into(),
            })
            .is_none()
        );
    }
}
