//! The host's own addresses, refused like private ones: on a server with a public address,
//! a link to that address would reach the services listening on it from inside.
//!
//! Read once from the kernel's tables (`/proc/net/fib_trie` and `/proc/net/if_inet6` on
//! Linux); elsewhere the set is empty and only the private ranges apply.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::OnceLock;

/// Whether `ip` is one of this host's own addresses.
pub(crate) fn is_own(ip: IpAddr) -> bool {
    static OWN: OnceLock<HashSet<IpAddr>> = OnceLock::new();
    OWN.get_or_init(|| {
        let mut own = HashSet::new();
        if let Ok(table) = std::fs::read_to_string("/proc/net/fib_trie") {
            own.extend(local_v4(&table));
        }
        if let Ok(table) = std::fs::read_to_string("/proc/net/if_inet6") {
            own.extend(local_v6(&table));
        }
        own
    })
    .contains(&ip)
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
