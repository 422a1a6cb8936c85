//! DNS for the fetcher: the system resolver, wrapped so that names resolving to non-public
//! addresses are refused before any connection is made. A name that does not exist is told
//! apart from a resolver that did not answer: the first is a dead link, the second may pass.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::{FetchError, guard};

/// A resolver's answer that the name does not exist (NXDOMAIN, or a name without any
/// address). A resolver given to [`super::Fetcher::with_resolver`] returns it to say so; any
/// other error counts as a resolver failure that may pass by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no such name")]
pub struct NoSuchName;

/// The operating system's resolver (getaddrinfo through tokio).
pub(crate) struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(classify)?;
            Ok(Box::new(addrs.collect::<Vec<_>>().into_iter()) as Addrs)
        })
    }
}

/// What getaddrinfo says (through `gai_strerror`; the standard library keeps only the text)
/// when the name does not exist: glibc's EAI_NONAME and EAI_NODATA, musl's, macOS's and
/// Windows' wording. A timeout or server failure ("Temporary failure in name resolution",
/// "Try again", "Non-recoverable failure") is none of these.
const NO_SUCH_NAME: [&str; 5] = [
    "Name or service not known",
    "No address associated with hostname",
    "Name does not resolve",
    "nodename nor servname provided, or not known",
    "No such host is known",
];

/// Turns a failed system lookup into [`NoSuchName`] when the name does not exist; any other
/// failure stays as it is (a resolver failure).
fn classify(err: std::io::Error) -> Box<dyn std::error::Error + Send + Sync> {
    let text = err.to_string();
    if NO_SUCH_NAME.iter().any(|words| text.contains(words)) {
        Box::new(NoSuchName)
    } else {
        Box::new(err)
    }
}

/// Wraps a resolver: turns its failures into [`FetchError::NoSuchHost`] (the name does not
/// exist) or [`FetchError::Dns`] (the resolver failed) and, when `guard` is on,
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
                Err(err) if err.downcast_ref::<NoSuchName>().is_some() => {
                    return Err(Box::new(FetchError::NoSuchHost { host }) as _);
                }
                Err(err) => {
                    let detail = err.to_string();
                    return Err(Box::new(FetchError::Dns { host, detail }) as _);
                }
            };
            if addrs.is_empty() {
                return Err(Box::new(FetchError::NoSuchHost { host }) as _);
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
            let name = name.as_str().to_owned();
            Box::pin(async move {
                match found {
                    Some(addrs) => Ok(Box::new(addrs.into_iter()) as Addrs),
                    None if name.as_str().starts_with("flaky") => {
                        Err("the DNS server did not answer".into())
                    }
                    None => Err(Box::new(NoSuchName) as _),
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
    async fn names_that_do_not_exist_read_as_site_not_found() {
        let resolver = CheckedResolver::new(table(), true);
        for host in ["missing.example", "empty.example"] {
            let err = lookup(&resolver, host).await.unwrap_err();
            assert_eq!(err.to_string(), "the site could not be found", "{host}");
            assert_eq!(err.kind(), "no_such_host");
        }
    }

    #[tokio::test]
    async fn a_resolver_that_fails_reads_as_site_not_reached() {
        let resolver = CheckedResolver::new(table(), true);
        let err = lookup(&resolver, "flaky.example").await.unwrap_err();
        assert_eq!(err.to_string(), "the site could not be reached");
        assert_eq!(err.kind(), "dns");
    }

    /// getaddrinfo's failures as the standard library words them (no lookup is made).
    fn gai(detail: &str) -> std::io::Error {
        std::io::Error::other(format!("failed to lookup address information: {detail}"))
    }

    #[test]
    fn system_lookups_tell_a_missing_name_from_a_failed_resolver() {
        let missing = [
            "Name or service not known",
            "No address associated with hostname",
            "Name does not resolve",
            "nodename nor servname provided, or not known",
        ];
        for detail in missing {
            assert!(classify(gai(detail)).is::<NoSuchName>(), "{detail}");
        }
        let failed = [
            "Temporary failure in name resolution",
            "Non-recoverable failure in name resolution",
            "Try again",
        ];
        for detail in failed {
            assert!(!classify(gai(detail)).is::<NoSuchName>(), "{detail}");
        }
        let system = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert!(!classify(system).is::<NoSuchName>());
    }
}
