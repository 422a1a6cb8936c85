//! The SSRF address policy: which IP addresses and URLs the fetcher may reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use super::FetchError;

/// IPv4 ranges that are not the public internet: (network, prefix length, name).
const V4_NON_PUBLIC: &[([u8; 4], u8, &str)] = &[
    ([0, 0, 0, 0], 8, "this network (unspecified)"),
    ([10, 0, 0, 0], 8, "private"),
    ([100, 64, 0, 0], 10, "shared address space (CGNAT)"),
    ([127, 0, 0, 0], 8, "loopback"),
    ([169, 254, 0, 0], 16, "link-local"),
    ([172, 16, 0, 0], 12, "private"),
    ([192, 0, 0, 0], 24, "IETF protocol assignments"),
    ([192, 0, 2, 0], 24, "documentation"),
    ([192, 88, 99, 0], 24, "6to4 relay anycast"),
    ([192, 168, 0, 0], 16, "private"),
    ([198, 18, 0, 0], 15, "benchmarking"),
    ([198, 51, 100, 0], 24, "documentation"),
    ([203, 0, 113, 0], 24, "documentation"),
    ([224, 0, 0, 0], 4, "multicast"),
    ([240, 0, 0, 0], 4, "reserved (incl. broadcast)"),
];

/// IPv6 ranges inside or beside global unicast that are not the public internet.
const V6_NON_PUBLIC: &[([u16; 8], u8, &str)] = &[
    ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, "local-use NAT64"),
    ([0x100, 0, 0, 0, 0, 0, 0, 0], 64, "discard-only"),
    (
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        23,
        "IETF protocol assignments (incl. Teredo)",
    ),
    ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, "documentation"),
    ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "documentation"),
    (
        [0x5f00, 0, 0, 0, 0, 0, 0, 0],
        16,
        "SRv6 segment identifiers",
    ),
    ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "unique-local"),
    ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "link-local"),
    ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "site-local"),
    ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "multicast"),
];

/// Why `ip` is not on the public internet, or `None` when it is.
pub fn non_public_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_range(v4),
        IpAddr::V6(v6) => v6_range(v6),
    }
}

/// Whether `ip` is an ordinary public internet address the fetcher may connect to.
pub fn is_public(ip: IpAddr) -> bool {
    non_public_range(ip).is_none()
}

fn v4_range(ip: Ipv4Addr) -> Option<&'static str> {
    let addr = u32::from(ip);
    V4_NON_PUBLIC.iter().find_map(|&(net, len, name)| {
        let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
        (addr & mask == u32::from(Ipv4Addr::from(net)) & mask).then_some(name)
    })
}

fn v6_range(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    // Forms that carry an IPv4 address reach that address: judge it instead.
    if let Some(v4) = embedded_v4(ip) {
        return v4_range(v4);
    }
    let addr = u128::from(ip);
    let listed = V6_NON_PUBLIC.iter().find_map(|&(net, len, name)| {
        let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
        (addr & mask == u128::from(Ipv6Addr::from(net)) & mask).then_some(name)
    });
    // Only 2000::/3 is allocated as global unicast; everything else is reserved.
    listed.or_else(|| (ip.segments()[0] & 0xe000 != 0x2000).then_some("reserved"))
}

/// The IPv4 address inside IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96) and 6to4 addresses.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0, 0, _, _] => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

/// Checks a URL before it is requested (the first one and every redirect target): its scheme,
/// and its host when the host is an IP literal (names are checked when they resolve).
pub(crate) fn check_url(url: &Url, allow_private: bool) -> Result<(), FetchError> {
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(FetchError::UnsupportedScheme(other.to_owned())),
    }
    let ip = match url.host() {
        None => return Err(FetchError::InvalidUrl),
        Some(Host::Domain(_)) => return Ok(()),
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
    };
    check_ip(ip, allow_private)
}

/// Refuses a non-public address, or one of the host's own, unless the operator allows
/// private addresses.
pub(crate) fn check_ip(ip: IpAddr, allow_private: bool) -> Result<(), FetchError> {
    if allow_private {
        return Ok(());
    }
    let range = non_public_range(ip).or_else(|| super::own::is_own(ip).then_some("this host"));
    match range {
        Some(range) => Err(FetchError::PrivateAddress {
            host: ip.to_string(),
            range,
        }),
        None => Ok(()),
    }
}

/// Refuses a port outside `allowed` (80 and 443 by default) unless the operator allows
/// private addresses, which lifts the port rule too (tests, local development).
pub(crate) fn check_port(
    url: &Url,
    allowed: &[u16],
    allow_private: bool,
) -> Result<(), FetchError> {
    match url.port_or_known_default() {
        Some(port) if !allow_private && !allowed.contains(&port) => Err(FetchError::Port(port)),
        _ => Ok(()),
    }
}

/// `url` as it may be logged: no user name or password, no query, no fragment.
pub fn loggable(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_web_ports_are_fetched_by_default() {
        let web = [80, 443];
        for (text, ok) in [
            ("http://example.org/", true),
            ("https://example.org/", true),
            ("http://example.org:443/", true),
            ("http://example.org:8080/", false),
            ("https://example.org:22/", false),
        ] {
            let url = Url::parse(text).unwrap();
            assert_eq!(check_port(&url, &web, false).is_ok(), ok, "{text}");
            assert!(
                check_port(&url, &web, true).is_ok(),
                "the private switch lifts the rule"
            );
        }
        let url = Url::parse("http://example.org:8080/").unwrap();
        assert!(check_port(&url, &[80, 443, 8080], false).is_ok());
    }

    #[test]
    fn logged_urls_carry_no_secrets() {
        let url = Url::parse("https://user:pass@example.org/a/b?token=s3cret#frag").unwrap();
        assert_eq!(loggable(&url), "https://example.org/a/b");
    }

    #[test]
    fn every_non_public_ipv4_range_is_refused() {
        let refused = [
            ("0.0.0.0", "this network (unspecified)"),
            ("0.255.255.255", "this network (unspecified)"),
            ("10.0.0.1", "private"),
            ("10.255.255.255", "private"),
            ("100.64.0.1", "shared address space (CGNAT)"),
            ("100.127.255.255", "shared address space (CGNAT)"),
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("169.254.169.254", "link-local"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.0.0.8", "IETF protocol assignments"),
            ("192.0.2.10", "documentation"),
            ("192.88.99.1", "6to4 relay anycast"),
            ("192.168.1.1", "private"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved (incl. broadcast)"),
            ("255.255.255.255", "reserved (incl. broadcast)"),
        ];
        for (text, range) in refused {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(non_public_range(ip), Some(range), "{text}");
        }
    }

    #[test]
    fn public_ipv4_addresses_next_to_the_ranges_are_allowed() {
        for text in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
        ] {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(non_public_range(ip), None, "{text}");
        }
    }

    #[test]
    fn every_non_public_ipv6_range_is_refused() {
        let refused = [
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.1.2.3", "private"),
            ("::ffff:169.254.169.254", "link-local"),
            ("::127.0.0.1", "loopback"),
            ("::192.168.0.1", "private"),
            ("64:ff9b::127.0.0.1", "loopback"),
            ("64:ff9b::a00:1", "private"),
            ("64:ff9b:1::1", "local-use NAT64"),
            ("2002:7f00:1::1", "loopback"),
            ("2002:c0a8:101::", "private"),
            ("100::1", "discard-only"),
            ("2001::1", "IETF protocol assignments (incl. Teredo)"),
            ("2001:2::1", "IETF protocol assignments (incl. Teredo)"),
            ("2001:db8::1", "documentation"),
            ("3fff::1", "documentation"),
            ("5f00::1", "SRv6 segment identifiers"),
            ("fc00::1", "unique-local"),
            ("fd12:3456::1", "unique-local"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fec0::1", "site-local"),
            ("ff02::1", "multicast"),
            ("ff0e::1", "multicast"),
            ("4000::1", "reserved"),
            ("1::1", "reserved"),
        ];
        for (text, range) in refused {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(non_public_range(ip), Some(range), "{text}");
        }
    }

    #[test]
    fn public_ipv6_addresses_are_allowed() {
        for text in [
            "2606:4700:4700::1111",
            "2a00:1450:4001:830::200e",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(non_public_range(ip), None, "{text}");
        }
    }

    #[test]
    fn obfuscated_ip_literals_are_refused() {
        // The url crate parses WHATWG host forms, so each of these arrives as 127.0.0.1 or ::1.
        for text in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://127.0.0.1./",
            "http://[::1]/",
            "http://[::ffff:7f00:1]/",
            "http://[0:0:0:0:0:ffff:127.0.0.1]/",
            "http://good.example@127.0.0.1/",
            "http://good.example:pw@127.0.0.1:8080/path",
            "https://[fe80::1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://0/",
            // Every numeric IPv4 spelling the WHATWG parser accepts.
            "http://0x7f.0x0.0x0.0x1/",
            "http://0X7F.1/",
            "http://0177.0000.0000.0001/",
            "http://017700000001/",
            "http://127.000.000.001/",
            "http://127.0.1/",
            "http://0x7f000001./",
            "http://167772161/",
            "http://0xa.0.0.1/",
            "http://012.0.0.1/",
            "http://0xA9FEA9FE/",
            "http://2852039166/",
            "http://0xac.0x10.1/",
            "http://0300.0250.1.1/",
            "http://100.64.0.1/",
            "http://1681915905/",
            "http://224.0.0.1/",
            "http://0xe0000001/",
            "http://255.255.255.255/",
            "http://4294967295/",
            "http://0.0.0.0/",
            "http://0x0/",
            // Full-width digits and ideographic dots are mapped to ASCII before the host is read.
            "http://１２７.０.０.１/",
            "http://127。0。0。1/",
            "http://①②⑦.0.0.1/",
            // IPv6: unspecified, ULA, link-local, multicast, IPv4-mapped/compatible, NAT64, 6to4.
            "http://[::]/",
            "http://[0:0:0:0:0:0:0:1]/",
            "http://[fd00::1]/",
            "http://[fc00:ab::9]/",
            "http://[fe80::1ff:fe23:4567:890a]/",
            "http://[ff02::1]/",
            "http://[::ffff:10.0.0.1]/",
            "http://[::ffff:a9fe:a9fe]/",
            "http://[::ffff:0:0]/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[64:ff9b::169.254.169.254]/",
            "http://[64:ff9b:1::a00:1]/",
            "http://[2002:a9fe:a9fe::]/",
            // Userinfo, fragments and backslashes that make another host look like the target.
            "http://good.com@127.0.0.1/",
            "http://good.com:80@10.0.0.1/",
            "http://user:pass@[::1]:80/",
            "http://127.0.0.1#@good.com/",
            "http://127.0.0.1\\@good.com/",
            "http://127.0.0.1?@good.com/",
            "http://good.com@evil.com@127.0.0.1/",
            "https://good.com%2540@192.168.0.1/",
        ] {
            let url = Url::parse(text).unwrap();
            let err = check_url(&url, false).unwrap_err();
            assert_eq!(
                err.to_string(),
                "that address is on a private network",
                "{text}"
            );
            assert_eq!(
                check_url(&url, true),
                Ok(()),
                "{text} with private addresses allowed"
            );
        }
    }

    #[test]
    fn names_and_public_literals_pass_the_url_check() {
        for text in [
            "https://example.org/a",
            "http://localhost/",
            "http://8.8.8.8/",
            "http://[2606:4700:4700::1111]/",
            "http://127.0.0.1.example.org/",
            // The text before `@` is only userinfo: the host is the public name after it.
            "http://127.0.0.1@good.example/",
            "http://[::1]@good.example/",
            "http://10.0.0.1:80@good.example/",
        ] {
            let url = Url::parse(text).unwrap();
            assert_eq!(check_url(&url, false), Ok(()), "{text}");
        }
    }

    #[test]
    fn only_http_and_https_are_fetched() {
        for text in [
            "ftp://example.org/",
            "file:///etc/passwd",
            "gopher://example.org/",
            "data:text/html,hi",
        ] {
            let url = Url::parse(text).unwrap();
            let err = check_url(&url, true).unwrap_err();
            assert_eq!(
                err.to_string(),
                "only http and https links can be read",
                "{text}"
            );
        }
    }

    /// A DNS table in memory: no packet leaves the test.
    struct Table(Vec<(&'static str, Vec<IpAddr>)>);

    impl reqwest::dns::Resolve for Table {
        fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
            let found = self
                .0
                .iter()
                .find(|(known, _)| *known == name.as_str())
                .map(|(_, ips)| ips.clone());
            Box::pin(async move {
                let ips = found.ok_or("no such name")?;
                let addrs = ips.into_iter().map(|ip| std::net::SocketAddr::new(ip, 443));
                Ok(Box::new(addrs.collect::<Vec<_>>().into_iter()) as reqwest::dns::Addrs)
            })
        }
    }

    #[tokio::test]
    async fn a_name_is_refused_when_any_of_its_addresses_is_not_public() {
        use reqwest::dns::Resolve as _;
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // (name, its addresses, whether the guarded lookup may answer)
        let cases: Vec<(&'static str, Vec<IpAddr>, bool)> = vec![
            ("public.example", vec![ip("93.184.216.34")], true),
            (
                "dual.example",
                vec![ip("93.184.216.34"), ip("2606:2800:220:1::1")],
                true,
            ),
            (
                "v4-mix.example",
                vec![ip("93.184.216.34"), ip("10.0.0.5")],
                false,
            ),
            (
                "private-first.example",
                vec![ip("192.168.1.1"), ip("8.8.8.8")],
                false,
            ),
            (
                "v6-ula.example",
                vec![ip("93.184.216.34"), ip("fd00::5")],
                false,
            ),
            (
                "v6-loop.example",
                vec![ip("2606:4700::1"), ip("::1")],
                false,
            ),
            (
                "mapped.example",
                vec![ip("8.8.8.8"), ip("::ffff:127.0.0.1")],
                false,
            ),
            ("nat64.example", vec![ip("64:ff9b::a9fe:a9fe")], false),
            (
                "cgnat.example",
                vec![ip("1.1.1.1"), ip("100.100.0.1")],
                false,
            ),
            ("metadata.example", vec![ip("169.254.169.254")], false),
            (
                "multicast.example",
                vec![ip("8.8.4.4"), ip("239.1.1.1")],
                false,
            ),
            ("zero.example", vec![ip("0.0.0.0")], false),
            ("linklocal6.example", vec![ip("fe80::1")], false),
        ];
        let table = Table(cases.iter().map(|(n, ips, _)| (*n, ips.clone())).collect());
        let guarded =
            super::super::resolver::CheckedResolver::new(std::sync::Arc::new(table), true);
        for (name, ips, allowed) in cases {
            let lookup = guarded.resolve(name.parse().unwrap()).await;
            match lookup {
                Ok(addrs) => {
                    assert!(allowed, "{name} should have been refused");
                    assert_eq!(addrs.count(), ips.len(), "{name}");
                }
                Err(err) => {
                    assert!(!allowed, "{name} should resolve: {err}");
                    let err = err.downcast_ref::<FetchError>().unwrap();
                    assert_eq!(err.kind(), "private_address", "{name}");
                }
            }
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// The ways the WHATWG parser lets one write an IPv4 address in a URL host.
        fn spellings(ip: Ipv4Addr) -> Vec<String> {
            let n = u32::from(ip);
            let [a, b, c, d] = ip.octets();
            let low16 = n & 0xffff;
            let low24 = n & 0xff_ffff;
            vec![
                ip.to_string(),
                n.to_string(),
                format!("0x{n:x}"),
                format!("0{n:o}"),
                format!("0x{a:x}.0x{b:x}.0x{c:x}.0x{d:x}"),
                format!("0{a:o}.0{b:o}.0{c:o}.0{d:o}"),
                format!("{a}.{b}.{low16}"),
                format!("{a}.{low24}"),
                format!("{ip}."),
                format!("[::ffff:{ip}]"),
                format!("[64:ff9b::{ip}]"),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn every_spelling_of_an_ipv4_host_gets_the_same_verdict(n in any::<u32>()) {
                let ip = Ipv4Addr::from(n);
                let public = is_public(IpAddr::V4(ip));
                for host in spellings(ip) {
                    let url = Url::parse(&format!("http://user@{host}:8080/p")).unwrap();
                    prop_assert_eq!(check_url(&url, false).is_ok(), public, "{}", host);
                }
            }

            #[test]
            fn a_host_the_guard_leaves_to_dns_is_never_an_ip_literal(
                host in "[0-9a-fA-FxX.\\[\\]:%@。．０-９①-⑨]{1,24}"
            ) {
                // reqwest connects to an IP-looking name without asking the resolver, so a
                // name that slipped past `check_url` must not be one.
                if let Ok(url) = Url::parse(&format!("http://{host}/"))
                    && let Some(Host::Domain(name)) = url.host()
                {
                    prop_assert!(name.parse::<IpAddr>().is_err(), "{}", name);
                    let bare = name.trim_start_matches('[').trim_end_matches(']');
                    prop_assert!(bare.parse::<IpAddr>().is_err(), "{}", name);
                }
            }
        }
    }
}
