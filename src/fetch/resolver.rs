//! DNS for the fetcher: the system resolver, wrapped so that names resolving to non-public
//! addresses are refused before any connection is made.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::{FetchError, guard};

/// The operating system's resolver (getaddrinfo through tokio).
pub(crate) struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(Box::new(addrs.collect::<Vec<_>>().into_iter()) as Addrs)
        })
    }
}

/// Wraps a resolver: turns its failures into [`FetchError::Dns`] and, when `guard` is on,
/// refuses the whole lookup if any address is not public (so no connection can pick one).
pub(crate) struct CheckedResolver {
    inner: Arc<dyn Resolve>,
    guard: bool,
}

impl CheckedResolver {
    /// `guard` off trusts every address `inner` returns.
    pub(crate) fn new(inner: Arc<dyn Resolve>, guard: bool) -> Self {
        Self { inner, guard }
    }
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let lookup = self.inner.resolve(name);
        let guard = self.guard;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = match lookup.await {
                Ok(addrs) => addrs.collect(),
                Err(err) => {
                    let detail = err.to_string();
                    return Err(Box::new(FetchError::Dns { host, detail }) as _);
                }
            };
            if addrs.is_empty() {
                let detail = "no addresses".to_owned();
                return Err(Box::new(FetchError::Dns { host, detail }) as _);
            }
            if guard {
                for addr in &addrs {
                    if let Err(err) = guard::check_ip(addr.ip(), false) {
                        tracing::warn!(%host, ip = %addr.ip(), "refused a name resolving to a non-public address");
                        return Err(Box::new(err) as _);
                    }
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::str::FromStr;

    /// A DNS table in memory: no packets leave the test.
    struct Table(HashMap<&'static str, Vec<SocketAddr>>);

    impl Resolve for Table {
        fn resolve(&self, name: Name) -> Resolving {
            let found = self.0.get(name.as_str()).cloned();
            Box::pin(async move {
                match found {
                    Some(addrs) => Ok(Box::new(addrs.into_iter()) as Addrs),
                    None => Err("no such name".into()),
                }
            })
        }
    }

    fn table() -> Arc<dyn Resolve> {
        let addr = |s: &str| SocketAddr::new(s.parse().unwrap(), 0);
        Arc::new(Table(HashMap::from([
            (
                "public.example",
                vec![addr("93.184.216.34"), addr("2606:2800:220:1::1")],
            ),
            (
                "mixed.example",
                vec![addr("93.184.216.34"), addr("10.0.0.5")],
            ),
            ("mapped.example", vec![addr("::ffff:192.168.0.1")]),
            ("metadata.example", vec![addr("169.254.169.254")]),
            ("empty.example", vec![]),
        ])))
    }

    async fn lookup(resolver: &CheckedResolver, host: &str) -> Result<Vec<SocketAddr>, FetchError> {
        let name = Name::from_str(host).unwrap();
        match resolver.resolve(name).await {
            Ok(addrs) => Ok(addrs.collect()),
            Err(err) => Err(err.downcast_ref::<FetchError>().unwrap().clone()),
        }
    }

    #[tokio::test]
    async fn guarded_lookup_refuses_a_name_if_any_address_is_not_public() {
        let resolver = CheckedResolver::new(table(), true);
        assert_eq!(lookup(&resolver, "public.example").await.unwrap().len(), 2);
        for host in ["mixed.example", "mapped.example", "metadata.example"] {
            let err = lookup(&resolver, host).await.unwrap_err();
            assert_eq!(
                err.to_string(),
                "that address is on a private network",
                "{host}"
            );
        }
    }

    #[tokio::test]
    async fn unguarded_lookup_trusts_the_inner_resolver() {
        let resolver = CheckedResolver::new(table(), false);
        assert_eq!(lookup(&resolver, "mixed.example").await.unwrap().len(), 2);
        assert_eq!(
            lookup(&resolver, "metadata.example").await.unwrap().len(),
            1
        );
    }

    #[tokio::test]
    async fn failed_or_empty_lookups_read_as_site_not_found() {
        let resolver = CheckedResolver::new(table(), true);
        for host in ["missing.example", "empty.example"] {
            let err = lookup(&resolver, host).await.unwrap_err();
            assert_eq!(err.to_string(), "the site could not be found", "{host}");
            assert_eq!(err.kind(), "dns");
        }
    }
}
