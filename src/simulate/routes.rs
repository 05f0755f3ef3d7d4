//! Which provider and data center a request is for, from its host name and path alone: every
//! URL of every enabled data center in the resolved tables becomes a route. Providers that
//! share an OAuth server (the Zoho family on Zoho Accounts) resolve to the same host and path,
//! so one route carries all of them and they share the endpoint.

use std::collections::BTreeMap;

use crate::resolve::table::ResolvedProvider;

/// Which endpoint of an OAuth server a request hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// The authorization endpoint (the user's browser).
    Authorize,
    /// The token endpoint with any grant type but `refresh_token` (the code exchange).
    Token,
    /// The refresh endpoint (`grant_type=refresh_token`).
    Refresh,
    /// The revocation endpoint (RFC 7009).
    Revoke,
}

impl Endpoint {
    /// The name used in the request log.
    pub fn name(self) -> &'static str {
        match self {
            Self::Authorize => "authorize",
            Self::Token => "token",
            Self::Refresh => "refresh",
            Self::Revoke => "revoke",
        }
    }
}

/// One role a (host, path) plays for one provider's data center.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RouteTarget {
    /// Index into the simulator's providers.
    pub(crate) provider: usize,
    /// Index into that provider's `data_centers`.
    pub(crate) dc: usize,
    pub(crate) endpoint: Endpoint,
}

/// Every (host, path) the simulator serves, with what it is for whom.
#[derive(Debug, Default)]
pub(crate) struct Routes {
    routes: BTreeMap<(String, String), Vec<RouteTarget>>,
}

impl Routes {
    /// The routes of every URL in the tables (filled with the connection's values first, see
    /// [`super::connection`]). A URL that does not parse (the resolver never produces one) is
    /// an error naming it.
    pub(crate) fn new(providers: &[ResolvedProvider]) -> Result<Routes, String> {
        let mut routes = Routes::default();
        for (p, provider) in providers.iter().enumerate() {
            for (d, dc) in provider.data_centers.iter().enumerate() {
                let (authorization, token) = (dc.authorization.as_ref(), dc.token.as_ref());
                let urls = [
                    (
                        Endpoint::Authorize,
                        authorization.map(|a| &a.authorization_url),
                    ),
                    (Endpoint::Token, token.map(|t| &t.token_url)),
                    (Endpoint::Refresh, token.map(|t| &t.refresh_url)),
                    (Endpoint::Revoke, token.and_then(|t| t.revoke_url.as_ref())),
                ];
                for (endpoint, url) in urls {
                    let Some(url) = url else { continue };
                    let parsed = url::Url::parse(url)
                        .map_err(|e| format!("{}: invalid URL `{url}`: {e}", provider.id))?;
                    let host = parsed
                        .host_str()
                        .ok_or_else(|| format!("{}: URL `{url}` has no host", provider.id))?
                        .to_ascii_lowercase();
                    let target = RouteTarget {
                        provider: p,
                        dc: d,
                        endpoint,
                    };
                    let entry = routes
                        .routes
                        .entry((host, parsed.path().to_owned()))
                        .or_default();
                    if !entry.contains(&target) {
                        entry.push(target);
                    }
                }
            }
        }
        Ok(routes)
    }

    /// What `host` and `path` serve (empty when nothing).
    pub(crate) fn lookup(&self, host: &str, path: &str) -> &[RouteTarget] {
        self.routes
            .get(&(host.to_owned(), path.to_owned()))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Every host name served, sorted, each once.
    pub(crate) fn hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = self.routes.keys().map(|(host, _)| host.clone()).collect();
        hosts.dedup();
        hosts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;

    fn zoho_family() -> Vec<ResolvedProvider> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("providers");
        let catalog =
            catalog::load(&[root.join("zoho-crm.yaml"), root.join("zoho-desk.yaml")]).unwrap();
        assert!(catalog.is_valid(), "{:?}", catalog.diagnostics);
        catalog.providers.into_iter().map(|p| p.resolved).collect()
    }

    #[test]
    fn providers_on_one_oauth_server_share_its_routes() {
        let routes = Routes::new(&zoho_family()).unwrap();
        let token = routes.lookup("accounts.zoho.eu", "/oauth/v2/token");
        let providers: Vec<usize> = token
            .iter()
            .filter(|t| t.endpoint == Endpoint::Token)
            .map(|t| t.provider)
            .collect();
        assert_eq!(
            providers,
            vec![0, 1],
            "CRM and Desk both serve Europe's token URL"
        );
        assert!(routes.lookup("accounts.zoho.eu", "/nowhere").is_empty());
        let hosts = routes.hosts();
        assert!(hosts.contains(&"accounts.zohocloud.ca".to_owned()));
        assert!(!hosts.contains(&"accounts.zoho.ca".to_owned()));
        let mut sorted = hosts.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(hosts, sorted);
    }
}
