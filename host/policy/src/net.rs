//! Network grants: host patterns, the allow-list checks, and the table of
//! non-public address ranges.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

/// What a plugin may connect to: the `[network]` table of a policy.
///
/// An empty allow-list (the default) means no network at all. A connection
/// by name must pass [`allows_host`](Self::allows_host) *and*, for every
/// address the name resolves to, [`allows_ip`](Self::allows_ip); a raw
/// socket connection, where only an address is known, must pass
/// [`allows_socket_addr`](Self::allows_socket_addr).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkGrant {
    /// The hosts the plugin may reach (`network.allow`), in file order.
    pub allow: Vec<HostPattern>,
    /// Whether non-public addresses (see [`is_public_ip`]) may be reached
    /// (`network.allow_private`, default `false`).
    pub allow_private: bool,
    /// Per-host request rates (`network.rate_limits`), in file order; each
    /// pattern is also an `allow` entry.
    pub rate_limits: Vec<RateLimit>,
}

/// A request rate for the hosts of one `allow` entry
/// (`network.rate_limits."PATTERN"`).
///
/// The host spaces the plugin's HTTP requests to matching hosts so that at
/// most `per_second` start in any second, across all calls of the plugin:
/// a request over the rate waits (within the call's deadline) instead of
/// failing. Services such as NCBI E-utilities allow more requests with an
/// API key: `with_env` names the `[env]` variable whose presence selects
/// the higher rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    /// The `allow` entry whose hosts this rate applies to.
    pub pattern: HostPattern,
    /// Requests per second (`per_second`, or the value itself in the short
    /// form `"host" = 3`).
    pub per_second: u32,
    /// The rate that applies instead when an environment variable is given
    /// to the plugin (`with_env` and `with_env_per_second`).
    pub with_env: Option<EnvRate>,
}

/// The alternative rate of a [`RateLimit`], selected by an env variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvRate {
    /// The `[env]` variable (as the plugin sees it) whose presence selects
    /// this rate, e.g. `NCBI_API_KEY`.
    pub var: String,
    /// Requests per second while it is set.
    pub per_second: u32,
}

impl RateLimit {
    /// The rate in force for a plugin given these environment variables
    /// (the policy's `[env]`, resolved): the `with_env` rate when its
    /// variable is present and non-empty, else `per_second`.
    pub fn effective(&self, env: &[(String, String)]) -> u32 {
        match &self.with_env {
            Some(alt) if env.iter().any(|(k, v)| *k == alt.var && !v.is_empty()) => alt.per_second,
            _ => self.per_second,
        }
    }
}

impl NetworkGrant {
    /// Is an outgoing connection to this host name (lowercased, no trailing
    /// dot) and port allowed by the allow-list?
    ///
    /// The name is normalized anyway (lowercased, one trailing dot dropped),
    /// and an IP literal (`192.0.2.1`, `::1` or `[::1]`) is matched against
    /// the IP-literal patterns. This checks the allow-list only: the caller
    /// must still check every resolved address with
    /// [`allows_ip`](Self::allows_ip).
    pub fn allows_host(&self, host: &str, port: u16) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
        let literal = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(&host)
            .parse::<IpAddr>()
            .ok();
        self.allow.iter().any(|p| match literal {
            Some(ip) => p.matches_ip(ip, port),
            None => p.matches_host(&host, port),
        })
    }

    /// Is a connection to this resolved IP address allowed? (false for
    /// non-public addresses unless `allow_private`; IPv4-mapped IPv6 is
    /// judged as the IPv4 address)
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        self.allow_private || is_public_ip(ip)
    }

    /// For raw sockets, where only an address is known: true only if the
    /// address is an IP literal in the allow-list (patterns may be IP
    /// literals like `"127.0.0.1:8080"`) and [`allows_ip`](Self::allows_ip)
    /// passes.
    pub fn allows_socket_addr(&self, addr: SocketAddr) -> bool {
        self.allow
            .iter()
            .any(|p| p.matches_ip(addr.ip(), addr.port()))
            && self.allows_ip(addr.ip())
    }

    /// True when the allow-list is empty: the plugin gets no network.
    pub fn is_empty(&self) -> bool {
        self.allow.is_empty()
    }

    /// The first rate limit whose pattern matches this host (name or IP
    /// literal, normalized like [`allows_host`](Self::allows_host)) and port.
    pub fn rate_limit_for(&self, host: &str, port: u16) -> Option<&RateLimit> {
        let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
        let literal = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(&host)
            .parse::<IpAddr>()
            .ok();
        self.rate_limits.iter().find(|r| match literal {
            Some(ip) => r.pattern.matches_ip(ip, port),
            None => r.pattern.matches_host(&host, port),
        })
    }
}

/// One entry of `network.allow`: a host name, a `*.domain` wildcard or an IP
/// literal, with an optional port.
///
/// Syntax (parsed with [`FromStr`], printed back with [`Display`](fmt::Display)):
///
/// - `eutils.ncbi.nlm.nih.gov`: exactly that host, any port;
/// - `*.uniprot.org`: any subdomain of `uniprot.org` at any depth
///   (`rest.uniprot.org`, `a.b.uniprot.org`), but not `uniprot.org` itself;
///   the domain must have at least two labels (`*.com` is refused);
/// - `rest.ensembl.org:443`: that host on port 443 only;
/// - `192.0.2.10`, `192.0.2.10:8080`, `[2001:db8::1]:443`, `2001:db8::1`:
///   IP literals (IPv6 needs brackets when a port follows).
///
/// Host names are ASCII (write internationalized names in punycode),
/// case-insensitive (stored lowercased), made of labels of letters, digits,
/// `-` and `_` (no label starts or ends with `-`), and their last label is not
/// all digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPattern {
    target: Target,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Target {
    /// An exact host name, lowercased.
    Exact(String),
    /// `*.suffix`: the suffix (without `*.`), lowercased.
    Wildcard(String),
    /// An IP literal, IPv4-mapped IPv6 stored as IPv4.
    Ip(IpAddr),
}

impl HostPattern {
    /// The port this pattern is restricted to, or `None` for any port.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// True for `*.domain` patterns.
    pub fn is_wildcard(&self) -> bool {
        matches!(self.target, Target::Wildcard(_))
    }

    /// The address, when this pattern is an IP literal.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.target {
            Target::Ip(ip) => Some(ip),
            _ => None,
        }
    }

    /// The host name (for a wildcard, the domain after `*.`), when this
    /// pattern is not an IP literal.
    pub fn host_name(&self) -> Option<&str> {
        match &self.target {
            Target::Exact(h) | Target::Wildcard(h) => Some(h),
            Target::Ip(_) => None,
        }
    }

    /// Does this pattern allow a connection to the host name `host`
    /// (lowercased, no trailing dot) on `port`? Never true for IP-literal
    /// patterns; use [`matches_ip`](Self::matches_ip) for addresses.
    pub fn matches_host(&self, host: &str, port: u16) -> bool {
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        match &self.target {
            Target::Exact(h) => h.eq_ignore_ascii_case(host),
            Target::Wildcard(suffix) => {
                host.len() > suffix.len() + 1
                    && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
                    && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
            }
            Target::Ip(_) => false,
        }
    }

    /// Is this an IP-literal pattern for `ip` (IPv4-mapped IPv6 compared as
    /// IPv4) whose port allows `port`?
    pub fn matches_ip(&self, ip: IpAddr, port: u16) -> bool {
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        matches!(self.target, Target::Ip(mine) if mine == ip.to_canonical())
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Target::Exact(h) => f.write_str(h)?,
            Target::Wildcard(h) => write!(f, "*.{h}")?,
            Target::Ip(IpAddr::V4(ip)) => write!(f, "{ip}")?,
            Target::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]")?,
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

/// Why a string is not a [`HostPattern`]. Each message quotes the input and
/// says how to write it instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostPatternError {
    /// The pattern is the empty string.
    #[error(
        "an empty string is not a host pattern: write a host name such as `eutils.ncbi.nlm.nih.gov`, or remove the entry"
    )]
    Empty,
    /// The pattern contains white space.
    #[error(
        "`{0}` is not a host pattern: it contains white space; write one host per entry, e.g. `eutils.ncbi.nlm.nih.gov`"
    )]
    Whitespace(String),
    /// The pattern is a URL with a scheme (`https://...`).
    #[error(
        "`{0}` is not a host pattern: write the host name only, e.g. `eutils.ncbi.nlm.nih.gov`"
    )]
    Scheme(String),
    /// The pattern has a path, query or user part.
    #[error(
        "`{0}` is not a host pattern: it has a path or other URL part; write the host name only (and optionally `:port`), e.g. `rest.ensembl.org:443`"
    )]
    UrlPart(String),
    /// The pattern is `*` alone, or `*` followed by a port.
    #[error("`{0}` would allow every host: list the hosts the plugin needs, e.g. `*.uniprot.org`")]
    BareWildcard(String),
    /// A wildcard over a single label, such as `*.com`.
    #[error(
        "`{0}` is too broad: a wildcard must cover a registered domain of at least two labels, e.g. `*.uniprot.org`"
    )]
    WildcardTooBroad(String),
    /// `*` somewhere other than a leading `*.` label.
    #[error(
        "`{0}` is not a host pattern: `*` is allowed only as the whole first label, as in `*.uniprot.org`"
    )]
    WildcardPosition(String),
    /// A wildcard over an IP address.
    #[error(
        "`{0}` is not a host pattern: wildcards apply to host names, not IP addresses; list each address"
    )]
    WildcardIp(String),
    /// The port is not a number in 1..=65535.
    #[error(
        "`{0}` has an invalid port: write `host:PORT` with PORT a number from 1 to 65535 without leading zeros, or leave the port out to allow any port"
    )]
    BadPort(String),
    /// An IPv6 address with a port but no brackets, or malformed brackets.
    #[error(
        "`{0}` is not a host pattern: write an IPv6 address in brackets, e.g. `[2001:db8::1]` or `[2001:db8::1]:443`"
    )]
    Ipv6(String),
    /// A host name with non-ASCII characters.
    #[error("`{0}` is not ASCII: write internationalized host names in punycode (`xn--...`)")]
    NonAscii(String),
    /// A host name whose last label is all digits (an incomplete IP address).
    #[error(
        "`{0}` is neither a host name nor an IP address: write a complete IPv4 address such as `192.0.2.10`, or a host name"
    )]
    Numeric(String),
    /// A host name that is too long, has an empty label, or a bad character.
    #[error("`{0}` is not a valid host name: {1}")]
    BadName(String, &'static str),
}

impl FromStr for HostPattern {
    type Err = HostPatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        use HostPatternError as E;
        let own = || s.to_string();
        if s.is_empty() {
            return Err(E::Empty);
        }
        if s.chars().any(char::is_whitespace) {
            return Err(E::Whitespace(own()));
        }
        if s.contains("://") {
            return Err(E::Scheme(own()));
        }
        if s.contains(['/', '?', '#', '@']) {
            return Err(E::UrlPart(own()));
        }
        if !s.is_ascii() {
            return Err(E::NonAscii(own()));
        }

        // Bracketed IPv6, with or without a port.
        if let Some(rest) = s.strip_prefix('[') {
            let Some((inside, after)) = rest.split_once(']') else {
                return Err(E::Ipv6(own()));
            };
            let ip: Ipv6Addr = inside.parse().map_err(|_| E::Ipv6(own()))?;
            let port = match after {
                "" => None,
                _ => match after.strip_prefix(':') {
                    Some(p) => Some(parse_port(p).ok_or_else(|| E::BadPort(own()))?),
                    None => return Err(E::Ipv6(own())),
                },
            };
            return Ok(HostPattern {
                target: Target::Ip(IpAddr::V6(ip).to_canonical()),
                port,
            });
        }
        // Bare IPv6 (more than one colon): no port possible.
        if s.matches(':').count() > 1 {
            return match s.parse::<Ipv6Addr>() {
                Ok(ip) => Ok(HostPattern {
                    target: Target::Ip(IpAddr::V6(ip).to_canonical()),
                    port: None,
                }),
                Err(_) => Err(E::Ipv6(own())),
            };
        }

        let (host, port) = match s.split_once(':') {
            Some((h, p)) => (h, Some(parse_port(p).ok_or_else(|| E::BadPort(own()))?)),
            None => (s, None),
        };
        if host == "*" {
            return Err(E::BareWildcard(own()));
        }
        if let Ok(ip) = host.parse::<Ipv4Addr>() {
            return Ok(HostPattern {
                target: Target::Ip(IpAddr::V4(ip)),
                port,
            });
        }
        let host = host.to_ascii_lowercase();
        let (wildcard, name) = match host.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, host.as_str()),
        };
        if name.contains('*') {
            return Err(E::WildcardPosition(own()));
        }
        if wildcard && name.parse::<Ipv4Addr>().is_ok() {
            return Err(E::WildcardIp(own()));
        }
        check_host_name(name).map_err(|why| E::BadName(own(), why))?;
        if name
            .rsplit('.')
            .next()
            .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(if wildcard {
                E::WildcardIp(own())
            } else {
                E::Numeric(own())
            });
        }
        if wildcard && !name.contains('.') {
            return Err(E::WildcardTooBroad(own()));
        }
        let name = name.to_string();
        Ok(HostPattern {
            target: if wildcard {
                Target::Wildcard(name)
            } else {
                Target::Exact(name)
            },
            port,
        })
    }
}

/// A port: 1..=65535, decimal digits, no sign, no leading zero.
fn parse_port(p: &str) -> Option<u16> {
    if p.is_empty() || p.starts_with('0') || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    p.parse::<u16>().ok()
}

/// Checks a lowercase ASCII host name; returns what is wrong with it.
fn check_host_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("the host name is empty; write e.g. `eutils.ncbi.nlm.nih.gov`");
    }
    if name.ends_with('.') {
        return Err("drop the trailing dot");
    }
    if name.len() > 253 {
        return Err("host names are at most 253 characters");
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(
                "it has an empty label (`..` or a leading dot); write labels separated by single dots",
            );
        }
        if label.len() > 63 {
            return Err("a label (the part between dots) is at most 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("host names contain only letters, digits, `-`, `_` and dots");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a label cannot start or end with `-`");
        }
    }
    Ok(())
}

/// Is this a public, globally routable unicast address?
///
/// False for every address in the table below; IPv4-mapped IPv6
/// (`::ffff:a.b.c.d`), NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`)
/// addresses are judged by the IPv4 address they embed. IPv6 is public only
/// inside global unicast `2000::/3`.
///
/// | range | what |
/// | --- | --- |
/// | `0.0.0.0/8` | "this network", unspecified |
/// | `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16` | private (RFC 1918) |
/// | `100.64.0.0/10` | carrier-grade NAT (RFC 6598) |
/// | `127.0.0.0/8` | loopback |
/// | `169.254.0.0/16` | link-local (and cloud metadata services) |
/// | `192.0.0.0/24` | IETF protocol assignments |
/// | `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24` | documentation |
/// | `192.88.99.0/24` | 6to4 relay anycast (deprecated) |
/// | `198.18.0.0/15` | benchmarking |
/// | `224.0.0.0/4` | multicast |
/// | `240.0.0.0/4` | reserved, including broadcast `255.255.255.255` |
/// | `::`, `::1` | unspecified, loopback |
/// | `fe80::/10` | link-local |
/// | `fc00::/7` | unique local |
/// | `ff00::/8` | multicast |
/// | `2001::/23` | IETF protocol assignments (Teredo, benchmarking, ORCHID) |
/// | `2001:db8::/32`, `3fff::/20` | documentation |
/// | anything outside `2000::/3` | not global unicast (incl. `64:ff9b:1::/48`, `100::/64`, `fec0::/10`) |
pub fn is_public_ip(ip: IpAddr) -> bool {
    special_range(ip).is_none()
}

/// The name of the non-public range `ip` falls in, or `None` when it is
/// public. Used for [`is_public_ip`] and for error messages.
pub(crate) fn special_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

fn special_v4(ip: Ipv4Addr) -> Option<&'static str> {
    const TABLE: &[([u8; 4], u8, &str)] = &[
        ([0, 0, 0, 0], 8, "\"this network\" 0.0.0.0/8"),
        ([10, 0, 0, 0], 8, "private 10.0.0.0/8"),
        ([100, 64, 0, 0], 10, "carrier-grade NAT 100.64.0.0/10"),
        ([127, 0, 0, 0], 8, "loopback 127.0.0.0/8"),
        ([169, 254, 0, 0], 16, "link-local 169.254.0.0/16"),
        ([172, 16, 0, 0], 12, "private 172.16.0.0/12"),
        ([192, 0, 0, 0], 24, "IETF protocol assignments 192.0.0.0/24"),
        ([192, 0, 2, 0], 24, "documentation 192.0.2.0/24"),
        ([192, 88, 99, 0], 24, "6to4 relay anycast 192.88.99.0/24"),
        ([192, 168, 0, 0], 16, "private 192.168.0.0/16"),
        ([198, 18, 0, 0], 15, "benchmarking 198.18.0.0/15"),
        ([198, 51, 100, 0], 24, "documentation 198.51.100.0/24"),
        ([203, 0, 113, 0], 24, "documentation 203.0.113.0/24"),
        ([224, 0, 0, 0], 4, "multicast 224.0.0.0/4"),
        ([255, 255, 255, 255], 32, "broadcast 255.255.255.255"),
        ([240, 0, 0, 0], 4, "reserved 240.0.0.0/4"),
    ];
    let bits = u32::from(ip);
    TABLE.iter().find_map(|&(net, len, name)| {
        let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
        (bits & mask == u32::from_be_bytes(net) & mask).then_some(name)
    })
}

fn special_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return special_v4(v4);
    }
    let bits = u128::from(ip);
    let in_net = |net: u128, len: u32| {
        let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
        bits & mask == net & mask
    };
    // NAT64 well-known prefix: judged by the embedded IPv4 address.
    if in_net(0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96) {
        return special_v4(Ipv4Addr::from(bits as u32));
    }
    // 6to4: the IPv4 address is in bits 16..48.
    if in_net(0x2002_0000_0000_0000_0000_0000_0000_0000, 16) {
        return special_v4(Ipv4Addr::from((bits >> 80) as u32));
    }
    const TABLE: &[(u128, u32, &str)] = &[
        (0, 128, "unspecified ::"),
        (1, 128, "loopback ::1"),
        (0xfe80 << 112, 10, "link-local fe80::/10"),
        (0xfc00 << 112, 7, "unique local fc00::/7"),
        (0xff00 << 112, 8, "multicast ff00::/8"),
        (0x2001_0db8 << 96, 32, "documentation 2001:db8::/32"),
        (0x3fff << 112, 20, "documentation 3fff::/20"),
        (0x2001 << 112, 23, "IETF protocol assignments 2001::/23"),
    ];
    if let Some(&(_, _, name)) = TABLE.iter().find(|&&(net, len, _)| in_net(net, len)) {
        return Some(name);
    }
    if !in_net(0x2000 << 112, 3) {
        return Some("non-global IPv6 (outside 2000::/3)");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(allow: &[&str], allow_private: bool) -> NetworkGrant {
        NetworkGrant {
            allow: allow.iter().map(|s| s.parse().unwrap()).collect(),
            allow_private,
            rate_limits: Vec::new(),
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn wildcard_matches_subdomains_only() {
        let g = grant(&["*.uniprot.org"], false);
        assert!(g.allows_host("rest.uniprot.org", 443));
        assert!(g.allows_host("a.b.uniprot.org", 80));
        assert!(!g.allows_host("uniprot.org", 443));
        assert!(!g.allows_host("evil-uniprot.org", 443));
        assert!(!g.allows_host("rest.uniprot.org.evil.com", 443));
        assert!(!g.allows_host(".uniprot.org", 443));
        assert!(!g.allows_host("xuniprot.org", 443));
    }

    #[test]
    fn exact_host_matches_only_itself() {
        let g = grant(&["eutils.ncbi.nlm.nih.gov"], false);
        assert!(g.allows_host("eutils.ncbi.nlm.nih.gov", 443));
        assert!(g.allows_host("eutils.ncbi.nlm.nih.gov", 8080));
        assert!(!g.allows_host("x.eutils.ncbi.nlm.nih.gov", 443));
        assert!(!g.allows_host("ncbi.nlm.nih.gov", 443));
        assert!(!g.allows_host("eutils.ncbi.nlm.nih.gov.evil.com", 443));
    }

    #[test]
    fn matching_is_case_insensitive_and_ignores_trailing_dot() {
        let g = grant(&["REST.Ensembl.ORG", "*.UniProt.org"], false);
        assert_eq!(g.allow[0].to_string(), "rest.ensembl.org");
        assert_eq!(g.allow[1].to_string(), "*.uniprot.org");
        assert!(g.allows_host("rest.ensembl.org", 443));
        assert!(g.allows_host("Rest.Ensembl.Org", 443));
        assert!(g.allows_host("rest.ensembl.org.", 443));
        assert!(g.allows_host("WWW.UNIPROT.ORG", 443));
    }

    #[test]
    fn ports() {
        let g = grant(&["rest.ensembl.org:443", "*.uniprot.org:8443"], false);
        assert!(g.allows_host("rest.ensembl.org", 443));
        assert!(!g.allows_host("rest.ensembl.org", 80));
        assert!(g.allows_host("www.uniprot.org", 8443));
        assert!(!g.allows_host("www.uniprot.org", 443));
        let p: HostPattern = "rest.ensembl.org:443".parse().unwrap();
        assert_eq!(p.port(), Some(443));
        assert_eq!(p.host_name(), Some("rest.ensembl.org"));
        assert!(!p.is_wildcard());
        let p: HostPattern = "rest.ensembl.org".parse().unwrap();
        assert_eq!(p.port(), None);
        assert!("a.org:65535".parse::<HostPattern>().is_ok());
        for bad in [
            "a.org:0",
            "a.org:65536",
            "a.org:",
            "a.org:08",
            "a.org:+1",
            "a.org:http",
            "a.org:1:2",
        ] {
            let e = bad.parse::<HostPattern>().unwrap_err();
            assert!(
                matches!(e, HostPatternError::BadPort(_) | HostPatternError::Ipv6(_)),
                "{bad}: {e:?}"
            );
        }
    }

    #[test]
    fn ip_literal_patterns() {
        let g = grant(
            &["127.0.0.1:8080", "[::1]:9000", "192.0.2.7", "2001:db8::5"],
            true,
        );
        assert!(g.allows_socket_addr("127.0.0.1:8080".parse().unwrap()));
        assert!(!g.allows_socket_addr("127.0.0.1:8081".parse().unwrap()));
        assert!(!g.allows_socket_addr("127.0.0.2:8080".parse().unwrap()));
        assert!(g.allows_socket_addr("[::1]:9000".parse().unwrap()));
        assert!(g.allows_socket_addr("[::ffff:127.0.0.1]:8080".parse().unwrap()));
        assert!(g.allows_socket_addr("192.0.2.7:1".parse().unwrap()));
        assert!(g.allows_socket_addr("[2001:db8::5]:443".parse().unwrap()));
        // Literal host names in URLs match IP-literal patterns.
        assert!(g.allows_host("127.0.0.1", 8080));
        assert!(g.allows_host("[::1]", 9000));
        assert!(g.allows_host("::1", 9000));
        assert!(!g.allows_host("::1", 9001));
        // Display round-trips.
        let shown: Vec<String> = g.allow.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["127.0.0.1:8080", "[::1]:9000", "192.0.2.7", "[2001:db8::5]"]
        );
        for s in &shown {
            assert_eq!(s.parse::<HostPattern>().unwrap().to_string(), *s);
        }
        assert_eq!(
            "::ffff:10.0.0.1"
                .parse::<HostPattern>()
                .unwrap()
                .to_string(),
            "10.0.0.1"
        );
        assert_eq!(
            "[::1]".parse::<HostPattern>().unwrap().ip(),
            Some(ip("::1"))
        );
    }

    #[test]
    fn socket_addr_needs_allow_private_for_private_literals() {
        let g = grant(&["127.0.0.1:8080"], false);
        assert!(!g.allows_socket_addr("127.0.0.1:8080".parse().unwrap()));
        // A name pattern never lets a raw socket through.
        let g = grant(&["example.org", "8.8.8.8:53"], false);
        assert!(!g.allows_socket_addr("93.184.216.34:443".parse().unwrap()));
        assert!(g.allows_socket_addr("8.8.8.8:53".parse().unwrap()));
        assert!(!g.allows_socket_addr("8.8.8.8:54".parse().unwrap()));
    }

    #[test]
    fn name_patterns_do_not_match_ip_literals() {
        let g = grant(&["*.example.org", "example.org"], false);
        assert!(!g.allows_host("1.2.3.4", 443));
        assert!(!g.allows_host("[::1]", 443));
        assert!(!NetworkGrant::default().allows_host("example.org", 443));
        assert!(NetworkGrant::default().is_empty());
        assert!(!g.is_empty());
    }

    #[test]
    fn allows_ip_follows_allow_private() {
        let strict = grant(&[], false);
        let lax = grant(&[], true);
        for a in [
            "10.1.2.3",
            "127.0.0.1",
            "::1",
            "fd00::1",
            "::ffff:192.168.1.1",
        ] {
            assert!(!strict.allows_ip(ip(a)), "{a}");
            assert!(lax.allows_ip(ip(a)), "{a}");
        }
        for a in ["8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(strict.allows_ip(ip(a)), "{a}");
        }
    }

    #[test]
    fn bad_patterns() {
        use HostPatternError as E;
        type Check = fn(&E) -> bool;
        let cases: &[(&str, Check)] = &[
            ("", |e| matches!(e, E::Empty)),
            ("a b.org", |e| matches!(e, E::Whitespace(_))),
            (" a.org", |e| matches!(e, E::Whitespace(_))),
            ("https://x", |e| matches!(e, E::Scheme(_))),
            ("a.org/path", |e| matches!(e, E::UrlPart(_))),
            ("user@a.org", |e| matches!(e, E::UrlPart(_))),
            ("*", |e| matches!(e, E::BareWildcard(_))),
            ("*:443", |e| matches!(e, E::BareWildcard(_))),
            ("*.com", |e| matches!(e, E::WildcardTooBroad(_))),
            ("*.org:443", |e| matches!(e, E::WildcardTooBroad(_))),
            ("*uniprot.org", |e| matches!(e, E::WildcardPosition(_))),
            ("a.*.org", |e| matches!(e, E::WildcardPosition(_))),
            ("*.*.org", |e| matches!(e, E::WildcardPosition(_))),
            ("*.1.2.3.4", |e| matches!(e, E::WildcardIp(_))),
            ("*.10.0.0", |e| matches!(e, E::WildcardIp(_))),
            ("a.org:99999", |e| matches!(e, E::BadPort(_))),
            ("::1:80:", |e| matches!(e, E::Ipv6(_))),
            ("[::1", |e| matches!(e, E::Ipv6(_))),
            ("[::1]x", |e| matches!(e, E::Ipv6(_))),
            ("[1.2.3.4]", |e| matches!(e, E::Ipv6(_))),
            ("[::1]:0", |e| matches!(e, E::BadPort(_))),
            ("bücher.de", |e| matches!(e, E::NonAscii(_))),
            ("127.1", |e| matches!(e, E::Numeric(_))),
            ("1.2.3.256", |e| matches!(e, E::Numeric(_))),
            ("a.org.", |e| matches!(e, E::BadName(..))),
            ("a..org", |e| matches!(e, E::BadName(..))),
            (".a.org", |e| matches!(e, E::BadName(..))),
            ("-a.org", |e| matches!(e, E::BadName(..))),
            ("a-.org", |e| matches!(e, E::BadName(..))),
            ("a!.org", |e| matches!(e, E::BadName(..))),
            (":443", |e| matches!(e, E::BadName(..))),
        ];
        for (input, ok) in cases {
            let e = input.parse::<HostPattern>().unwrap_err();
            assert!(ok(&e), "{input:?} gave {e:?}");
        }
        let long_label = format!("{}.org", "a".repeat(64));
        assert!(matches!(
            long_label.parse::<HostPattern>(),
            Err(E::BadName(..))
        ));
        let long_name = format!("{}org", "abcdefghi.".repeat(26));
        assert!(matches!(
            long_name.parse::<HostPattern>(),
            Err(E::BadName(..))
        ));
        assert_eq!(
            "https://x".parse::<HostPattern>().unwrap_err().to_string(),
            "`https://x` is not a host pattern: write the host name only, e.g. `eutils.ncbi.nlm.nih.gov`"
        );
    }

    #[test]
    fn good_patterns() {
        for s in [
            "localhost",
            "minio",
            "my_host.internal",
            "x1.example.org",
            "*.co.uk",
            "*.a.b.c.d",
            "xn--bcher-kva.de",
            "123.example.org",
            "a.123abc",
        ] {
            let p: HostPattern = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(p.to_string(), s);
        }
    }

    fn private(a: &str) {
        assert!(!is_public_ip(ip(a)), "{a} should not be public");
    }
    fn public(a: &str) {
        assert!(is_public_ip(ip(a)), "{a} should be public");
    }

    #[test]
    fn rfc1918() {
        private("10.0.0.0");
        private("10.255.255.255");
        private("172.16.0.1");
        private("172.31.255.255");
        public("172.15.255.255");
        public("172.32.0.0");
        private("192.168.0.1");
        private("192.168.255.255");
        public("192.169.0.1");
        public("11.0.0.1");
        public("9.255.255.255");
    }

    #[test]
    fn loopback_unspecified_this_network() {
        private("127.0.0.1");
        private("127.255.255.254");
        private("0.0.0.0");
        private("0.1.2.3");
        public("1.0.0.1");
        private("::1");
        private("::");
        private("::2");
    }

    #[test]
    fn link_local_and_cgnat() {
        private("169.254.169.254");
        private("169.254.0.0");
        public("169.253.255.255");
        public("169.255.0.0");
        private("100.64.0.1");
        private("100.127.255.255");
        public("100.63.255.255");
        public("100.128.0.0");
        private("fe80::1");
        private("febf::1");
        private("fec0::1");
    }

    #[test]
    fn multicast_reserved_broadcast() {
        private("224.0.0.1");
        private("239.255.255.255");
        private("240.0.0.1");
        private("255.255.255.255");
        public("223.255.255.255");
        private("ff02::1");
        private("ff0e::1");
    }

    #[test]
    fn documentation_and_benchmarking() {
        private("192.0.2.1");
        private("198.51.100.1");
        private("203.0.113.1");
        private("198.18.0.1");
        private("198.19.255.255");
        private("192.0.0.8");
        private("192.88.99.1");
        public("198.20.0.1");
        public("203.0.114.1");
        private("2001:db8::1");
        private("3fff::1");
        private("2001::1");
        private("2001:1ff::1");
        public("2001:200::1");
        public("2001:4860:4860::8888");
    }

    #[test]
    fn unique_local_and_global_v6() {
        private("fc00::1");
        private("fd12:3456::1");
        public("2606:4700:4700::1111");
        public("2a00:1450::1");
        private("100::1");
        private("4000::1");
        private("64:ff9b:1::1");
    }

    #[test]
    fn ipv4_mapped_is_judged_as_ipv4() {
        private("::ffff:127.0.0.1");
        private("::ffff:10.0.0.1");
        private("::ffff:169.254.169.254");
        public("::ffff:8.8.8.8");
    }

    #[test]
    fn nat64_and_6to4_embed_ipv4() {
        private("64:ff9b::10.0.0.1");
        private("64:ff9b::127.0.0.1");
        private("64:ff9b::a9fe:a9fe");
        public("64:ff9b::8.8.8.8");
        private("2002:0a00:0001::1");
        private("2002:7f00:0001::");
        public("2002:0808:0808::1");
    }

    #[test]
    fn public_v4() {
        public("8.8.8.8");
        public("1.1.1.1");
        public("93.184.216.34");
        public("130.14.29.110");
    }
}
