//! The connection the simulator plays: the values each connection supplies (`--param`,
//! [`super::Setup::connection_values`]) are filled into every served table through the one
//! run-time expander, [`crate::resolve::connection::fill`], so the server answers at the hosts
//! a connection with those values calls (`acme.myshopify.com`) and nowhere else. The values a
//! real server hands out during the flow (runtime values: Salesforce's `instance_url` in the
//! token answer, a value in the callback) are the simulator's to choose, per data center: the
//! one given with the parameters, else the first candidate that `fill` accepts (the data
//! center's API base, then its issuer's origin or host), so they always pass the definition's
//! own pattern and host checks.

use indexmap::IndexMap;

use super::SimulateError;
use crate::definition::types::{RuntimeSource, ValueKind};
use crate::resolve::connection::{ConnectionValues, fill};
use crate::resolve::table::{ResolvedDataCenter, ResolvedProvider, TokenExchange};

/// What the server hands out and expects for one data center of one provider, with this
/// simulation's connection values filled in.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServedDataCenter {
    /// Runtime values sent on the callback redirect (`from: callback`).
    pub(crate) callback: Vec<(String, String)>,
    /// Runtime values sent in token answers (`from: token_response`).
    pub(crate) token_response: Vec<(String, String)>,
    /// Extra parameters the code exchange must carry (`token.params`).
    pub(crate) token_params: IndexMap<String, String>,
    /// Extra parameters a refresh must carry (`token.refresh_params`).
    pub(crate) refresh_params: IndexMap<String, String>,
}

/// The served tables: each provider's table with every data center's entry filled with this
/// simulation's values, and per data center what it hands out and expects.
pub(crate) struct Served {
    pub(crate) providers: Vec<ResolvedProvider>,
    pub(crate) data_centers: Vec<Vec<ServedDataCenter>>,
}

/// Fills `values` into every provider that declares them. A value no provider declares, a
/// missing required parameter, a value its pattern refuses, or a runtime value the simulator
/// cannot choose is an error naming it.
pub(crate) fn serve(
    providers: &[ResolvedProvider],
    values: &ConnectionValues,
) -> Result<Served, SimulateError> {
    let declares = |provider: &ResolvedProvider, name: &str| {
        provider.connection.params.contains_key(name)
            || provider.connection.runtime.contains_key(name)
    };
    for name in values.keys() {
        if !providers.iter().any(|p| declares(p, name)) {
            let mut declared: Vec<String> = providers
                .iter()
                .flat_map(|p| {
                    p.connection
                        .params
                        .keys()
                        .chain(p.connection.runtime.keys())
                })
                .cloned()
                .collect();
            declared.sort();
            declared.dedup();
            return Err(SimulateError::UnknownConnectionValue {
                name: name.clone(),
                declared: if declared.is_empty() {
                    "none".to_owned()
                } else {
                    declared.join(", ")
                },
            });
        }
    }
    let mut served = Served {
        providers: Vec::new(),
        data_centers: Vec::new(),
    };
    for provider in providers {
        let mine: ConnectionValues = values
            .iter()
            .filter(|(name, _)| declares(provider, name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        let base = fill(provider, &mine).map_err(SimulateError::Connection)?;
        let mut table = base.clone();
        let mut dcs = Vec::new();
        for (d, dc) in base.data_centers.iter().enumerate() {
            let chosen = choose_runtime(&base, dc)?;
            let filled = fill(&base, &chosen).map_err(SimulateError::Connection)?;
            table.data_centers[d] = filled.data_centers[d].clone();
            let exchange = filled.token.unwrap_or_else(|| TokenExchange {
                token_auth_method: None,
                token_response_metadata: Vec::new(),
                token_params: IndexMap::new(),
                refresh_params: IndexMap::new(),
                token_body: Default::default(),
                revoke: None,
            });
            let mut entry = ServedDataCenter {
                token_params: exchange.token_params,
                refresh_params: exchange.refresh_params,
                ..ServedDataCenter::default()
            };
            for (name, input) in &provider.connection.runtime {
                let Some(value) = mine.get(name).or_else(|| chosen.get(name)) else {
                    continue;
                };
                let pair = (name.clone(), value.clone());
                match input.declared.from {
                    RuntimeSource::Callback => entry.callback.push(pair),
                    RuntimeSource::TokenResponse => entry.token_response.push(pair),
                }
            }
            dcs.push(entry);
        }
        served.providers.push(table);
        served.data_centers.push(dcs);
    }
    Ok(served)
}

/// A value for each runtime value still open in `base`, for data center `dc`: the first
/// candidate `fill` accepts along with the ones chosen before it.
fn choose_runtime(
    base: &ResolvedProvider,
    dc: &ResolvedDataCenter,
) -> Result<ConnectionValues, SimulateError> {
    let mut chosen = ConnectionValues::new();
    for (name, input) in &base.connection.runtime {
        let found = candidates(dc, input.declared.kind)
            .into_iter()
            .find(|value| {
                let mut trial = chosen.clone();
                trial.insert(name.clone(), value.clone());
                fill(base, &trial).is_ok()
            });
        let Some(value) = found else {
            return Err(SimulateError::Setup(format!(
                "provider `{}`, data center `{}`: no value for runtime value `{name}` passes \
                 its declaration; give one as --param {name}=VALUE",
                base.id, dc.code
            )));
        };
        chosen.insert(name.clone(), value);
    }
    Ok(chosen)
}

/// Values a server of this data center could plausibly hand out for a runtime value of `kind`.
fn candidates(dc: &ResolvedDataCenter, kind: ValueKind) -> Vec<String> {
    let concrete = |url: &&String| !url.contains('<');
    let api_base = dc
        .api_base_urls
        .get("production")
        .or_else(|| dc.api_base_urls.values().next())
        .filter(concrete)
        .cloned();
    let issuer = dc
        .authorization
        .as_ref()
        .map(|a| a.issuer.as_str())
        .filter(|issuer| !issuer.contains('<'))
        .and_then(|issuer| url::Url::parse(issuer).ok());
    let origin = issuer
        .as_ref()
        .map(|url| url.origin().ascii_serialization());
    let host = issuer
        .as_ref()
        .and_then(|url| url.host_str().map(str::to_owned));
    match kind {
        ValueKind::Url => api_base.into_iter().chain(origin).collect(),
        ValueKind::Host => host.into_iter().collect(),
        ValueKind::Segment => vec![dc.code.clone()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;

    fn bundled(name: &str) -> ResolvedProvider {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("providers")
            .join(name);
        let catalog = catalog::load(&[path]).unwrap();
        assert!(catalog.is_valid(), "{:?}", catalog.diagnostics);
        catalog.providers.into_iter().next().unwrap().resolved
    }

    #[test]
    fn salesforce_hands_out_its_login_host_as_instance_url() {
        let values = ConnectionValues::from([("hostname".into(), "acme.my.salesforce.com".into())]);
        let served = serve(&[bundled("salesforce.yaml")], &values).unwrap();
        let dc = &served.providers[0].data_centers[0];
        assert_eq!(
            dc.token.as_ref().unwrap().token_url,
            "https://acme.my.salesforce.com/services/oauth2/token"
        );
        assert_eq!(
            served.data_centers[0][0].token_response,
            vec![(
                "instance_url".to_owned(),
                "https://acme.my.salesforce.com".to_owned()
            )]
        );
    }

    #[test]
    fn a_value_no_provider_declares_is_refused_by_name() {
        let values = ConnectionValues::from([("subdomain".into(), "acme".into())]);
        let error = serve(&[bundled("gitlab.yaml")], &values).err().unwrap();
        assert_eq!(
            error.to_string(),
            "no simulated provider declares connection value `subdomain`; declared: none"
        );
    }
}
