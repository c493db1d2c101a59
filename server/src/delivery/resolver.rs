//! DNS that refuses non-public addresses: the address guard runs on the
//! addresses a name actually resolves to, for every new connection, so a name
//! that points (or is re-pointed) at a private address gets nothing sent.

use crate::domain::address_guard::{self, BlockedAddress};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("{host} does not resolve: {source}")]
    NotFound {
        host: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Blocked(BlockedAddress),
}

#[derive(Clone)]
pub struct GuardedResolver {
    pub allowed: Arc<Vec<(IpAddr, u8)>>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = self.allowed.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs = lookup(&host, &allowed)
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The public (or allow-listed) addresses of `host`; an error when there are none.
pub async fn lookup(host: &str, allowed: &[(IpAddr, u8)]) -> Result<Vec<SocketAddr>, ResolveError> {
    let found: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|source| ResolveError::NotFound {
            host: host.to_owned(),
            source,
        })?
        .collect();
    let mut blocked = None;
    let usable: Vec<SocketAddr> = found
        .into_iter()
        .filter(|addr| match address_guard::check(addr.ip(), allowed) {
            Ok(()) => true,
            Err(b) => {
                blocked.get_or_insert(b);
                false
            }
        })
        .collect();
    match (usable.is_empty(), blocked) {
        (false, _) => Ok(usable),
        (true, Some(b)) => Err(ResolveError::Blocked(b)),
        (true, None) => Err(ResolveError::NotFound {
            host: host.to_owned(),
            source: std::io::Error::other("no addresses"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The connection-time half of the guard, on a name: every address
    /// `localhost` resolves to is loopback, so nothing is left to connect to.
    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_blocked() {
        let refused = lookup("localhost", &[]).await;
        assert!(
            matches!(refused, Err(ResolveError::Blocked(_))),
            "{refused:?}"
        );
        let loopback = [
            ("127.0.0.0".parse().unwrap(), 8),
            ("::1".parse().unwrap(), 128),
        ];
        assert!(!lookup("localhost", &loopback).await.unwrap().is_empty());
    }
}
