//! A stand-in for `Service::authorization` while it is being built: the credentials of an
//! OAuth connection (its access token, renewed through the token route's single flight) filled
//! into the definition's API request. Deleted once the real one lands.

use crate::resolve::connection::{
    ApiRequest, ConnectionValues, CredentialValues, fill_api_request,
};
use crate::service::refresh::Renew;
use crate::service::{Service, ServiceError};

/// What a proxied call needs of a connection.
pub(crate) struct Authorization {
    /// Base URL, headers and query parameters, filled.
    pub(crate) api: ApiRequest,
    /// The row's generation when these credentials were read.
    pub(crate) generation: i64,
    /// Whether a refused call can be answered with a renewal (token modes).
    pub(crate) renewable: bool,
    /// When the access token expires, Unix seconds.
    pub(crate) expires_at: Option<u64>,
}

impl Service {
    /// The connection's credentials for one call in `environment` (the first defined when
    /// `None`), the token renewed first as `renew` says.
    pub(crate) async fn proxy_authorization(
        &self,
        provider_id: &str,
        connection_id: &str,
        environment: Option<&str>,
        renew: Renew,
    ) -> Result<Authorization, ServiceError> {
        let issued = self
            .renewed_token(provider_id, connection_id, renew)
            .await?;
        let (provider, _) = self.provider(provider_id)?;
        let mut values: ConnectionValues = issued
            .record
            .params
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        for name in provider.connection.runtime.keys() {
            if let Some(serde_json::Value::String(value)) = issued.tokens.metadata.get(name) {
                values.entry(name.clone()).or_insert_with(|| value.clone());
            }
        }
        let api = fill_api_request(
            provider,
            &issued.record.data_center,
            environment,
            &values,
            &CredentialValues::new(),
            Some(issued.tokens.access_token.expose()),
        )
        .map_err(|error| ServiceError::BadRequest(error.to_string()))?;
        Ok(Authorization {
            api,
            generation: issued.record.generation,
            renewable: true,
            expires_at: issued.tokens.expires_at,
        })
    }
}
