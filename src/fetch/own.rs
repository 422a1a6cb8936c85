//! The host's own addresses, refused like private ones: on a server with a public address,
//! a link to that address would reach the services listening on it from inside.
//!
//! Read from the kernel's tables (`/proc/net/fib_trie` and `/proc/net/if_inet6` on Linux)
//! and read again when a check finds the last read older than [`REFRESH`], so an address
//! that DHCP or a container runtime hands out later is refused too; elsewhere the set is
//! empty and only the private ranges apply.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, LazyLock, RwLock};
use std::time::{Duration, Instant};

/// How long one read of the kernel's tables is trusted (a read takes well under a
/// millisecond on an ordinary host).
const REFRESH: Duration = Duration::from_secs(5);

/// Whether `ip` is one of this host's own addresses, as of at most [`REFRESH`] ago.
pub(crate) fn is_own(ip: IpAddr) -> bool {
    static OWN: LazyLock<OwnAddresses> =
        LazyLock::new(|| OwnAddresses::new(read_kernel_tables, REFRESH));
    OWN.contains(ip, Instant::now())
}

/// The host's addresses as the kernel lists them now.
fn read_kernel_tables() -> HashSet<IpAddr> {
    let mut own = HashSet::new();
    if let Ok(table) = std::fs::read_to_string("/proc/net/fib_trie") {
        own.extend(local_v4(&table));
    }
    if let Ok(table) = std::fs::read_to_string("/proc/net/if_inet6") {
        own.extend(local_v6(&table));
    }
    own
}

/// The host's addresses from `read`, read again once the last read is `refresh` old.
struct OwnAddresses {
    read: fn() -> HashSet<IpAddr>,
    refresh: Duration,
    /// When the set was read (`None`: never) and what it held.
    last: RwLock<(Option<Instant>, Arc<HashSet<IpAddr>>)>,
}

impl OwnAddresses {
    fn new(read: fn() -> HashSet<IpAddr>, refresh: Duration) -> Self {
        OwnAddresses {
            read,
            refresh,
            last: RwLock::new((None, Arc::default())),
        }
    }

    /// Whether `ip` is in the set read at most `refresh` before `now`.
    fn contains(&self, ip: IpAddr, now: Instant) -> bool {
        self.current(now).contains(&ip)
    }

    fn current(&self, now: Instant) -> Arc<HashSet<IpAddr>> {
        let fresh = |read: Option<Instant>| {
            read.is_some_and(|at| now.saturating_duration_since(at) < self.refresh)
        };
        {
            // a panic while holding the lock leaves a set that is still whole
            let last = self.last.read().unwrap_or_else(|p| p.into_inner());
            if fresh(last.0) {
                return Arc::clone(&last.1);
            }
        }
        let mut last = self.last.write().unwrap_or_else(|p| p.into_inner());
        // Another check may have read the tables while this one waited for the lock.
        if !fresh(last.0) {
            *last = (Some(now), Arc::new((self.read)()));
        }
        Arc::clone(&last.1)
    }
}

/// The addresses marked `/32 host LOCAL` in a `fib_trie` dump: each follows its `|--` line.
fn local_v4(table: &str) -> impl Iterator<Item = IpAddr> + '_ {
    let mut last: Option<IpAddr> = None;
    table.lines().filter_map(move |line| {
        let line = line.trim();
        if let Some(addr) = line.strip_prefix("|-- ") {
            last = addr.trim().parse().ok();
            None
        } else if line.starts_with("/32 host LOCAL") {
            last
        } else {
            None
        }
    })
}

/// The addresses in an `if_inet6` table: the first column, 32 hex digits.
fn local_v6(table: &str) -> impl Iterator<Item = IpAddr> + '_ {
    table.lines().filter_map(|line| {
        let hex = line.split_whitespace().next()?;
        let bits = u128::from_str_radix(hex, 16).ok()?;
        (hex.len() == 32).then(|| IpAddr::V6(Ipv6Addr::from(bits)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    static MOVED: AtomicBool = AtomicBool::new(false);
    static READS: AtomicUsize = AtomicUsize::new(0);

    /// The interfaces of a host whose DHCP lease moves it from 8.8.8.8 to 8.8.4.4.
    fn interfaces() -> HashSet<IpAddr> {
        READS.fetch_add(1, Ordering::SeqCst);
        let now = if MOVED.load(Ordering::SeqCst) {
            "8.8.4.4"
        } else {
            "8.8.8.8"
        };
        HashSet::from([now.parse().expect("address")])
    }

    #[test]
    fn a_new_address_is_refused_once_the_tables_are_read_again() {
        let own = OwnAddresses::new(interfaces, Duration::from_secs(5));
        let (old, new): (IpAddr, IpAddr) = ("8.8.8.8".parse().unwrap(), "8.8.4.4".parse().unwrap());
        let start = Instant::now();
        assert!(own.contains(old, start));
        assert!(!own.contains(new, start));
        MOVED.store(true, Ordering::SeqCst);
        let reads = READS.load(Ordering::SeqCst);
        assert!(
            own.contains(old, start + Duration::from_secs(4)),
            "a read is trusted a while"
        );
        assert_eq!(READS.load(Ordering::SeqCst), reads, "no read per check");
        let later = start + Duration::from_secs(6);
        assert!(
            own.contains(new, later),
            "the new address is the host's own"
        );
        assert!(!own.contains(old, later), "the old one is not any more");
        assert_eq!(READS.load(Ordering::SeqCst), reads + 1);
    }

    #[test]
    fn local_addresses_are_read_from_the_kernel_tables() {
        let trie = "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 203.0.113.7\n        /32 host LOCAL\n     \
                    |-- 203.0.113.255\n        /32 link BROADCAST\n";
        let v4: Vec<IpAddr> = local_v4(trie).collect();
        assert_eq!(v4, vec!["203.0.113.7".parse::<IpAddr>().unwrap()]);
        let inet6 = "20010db8000000000000000000000001 02 40 00 80     eth0\n";
        let v6: Vec<IpAddr> = local_v6(inet6).collect();
        assert_eq!(v6, vec!["2001:db8::1".parse::<IpAddr>().unwrap()]);
    }
}
