//! Fakes and helpers shared by the end-to-end test modules.
// Each test module uses a different subset of these helpers.
#![allow(dead_code)]

pub mod autolink;
pub mod bot;
pub mod fake_site;
pub mod fake_telegram;
pub mod hostile;
pub mod pages;
pub mod redis;
pub mod tg_html;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use linkdigest::fetch::{FetchConfig, NoSuchName};

/// A fetch configuration for tests: short timeouts, private addresses allowed (the fake site
/// lives on 127.0.0.1), production size and redirect limits.
pub fn fetch_config() -> FetchConfig {
    FetchConfig {
        connect_timeout: Duration::from_millis(300),
        timeout: Duration::from_millis(1000),
        allow_private_addresses: true,
        ..FetchConfig::default()
    }
}

/// [`fetch_config`] with the SSRF guard on, as in production, but any port allowed (the fake
/// site listens on a random one), so the guard's own reason shows.
pub fn guarded_fetch_config() -> FetchConfig {
    FetchConfig {
        allow_private_addresses: false,
        allowed_ports: (1..=u16::MAX).collect(),
        ..fetch_config()
    }
}

/// DNS in memory for tests: maps names (e.g. `news.example`) to the fake site, sends no
/// packets; any other name does not exist.
pub struct StaticDns(pub Vec<(&'static str, SocketAddr)>);

impl StaticDns {
    /// A resolver answering `name` with `addr` and failing every other name.
    pub fn one(name: &'static str, addr: SocketAddr) -> Arc<dyn Resolve> {
        Arc::new(Self(vec![(name, addr)]))
    }
}

impl Resolve for StaticDns {
    fn resolve(&self, name: Name) -> Resolving {
        let found: Vec<SocketAddr> = self
            .0
            .iter()
            .filter(|(known, _)| *known == name.as_str())
            .map(|(_, addr)| *addr)
            .collect();
        Box::pin(async move {
            if found.is_empty() {
                return Err(Box::new(NoSuchName) as _);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// DNS in memory that finds no address, sending no packets: a name starting `gone.` does not
/// exist (NXDOMAIN), for any other the DNS server does not answer. Counts look-ups per name.
#[derive(Default)]
pub struct DeadDns(Mutex<HashMap<String, usize>>);

impl DeadDns {
    /// How many times `name` was looked up.
    pub fn lookups(&self, name: &str) -> usize {
        self.0.lock().unwrap().get(name).copied().unwrap_or(0)
    }
}

impl Resolve for DeadDns {
    fn resolve(&self, name: Name) -> Resolving {
        *self
            .0
            .lock()
            .unwrap()
            .entry(name.as_str().to_owned())
            .or_default() += 1;
        let missing = name.as_str().starts_with("gone.");
        Box::pin(async move {
            if missing {
                Err(Box::new(NoSuchName) as _)
            } else {
                Err("Temporary failure in name resolution".into())
            }
        })
    }
}
