//! `ClientIp`: the address rate limits key on — the TCP peer, or, when the peer is a configured
//! trusted proxy, the nearest untrusted address in `X-Forwarded-For`. An IPv6 client is its /64:
//! one subscriber usually holds a whole /64 and can pick any address in it.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::state::AppState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>().copied() else {
            // In-process callers (tests, tools) have no socket.
            return Ok(Self("local".into()));
        };
        let trusted = |address: &IpAddr| {
            let address = address.to_canonical();
            state.config.trusted_proxies.iter().any(|proxy| proxy.to_canonical() == address)
        };
        if !trusted(&peer.ip()) {
            return Ok(Self::of(peer.ip()));
        }
        // Hops are appended by each proxy: the first one from the right that is not a trusted
        // proxy is the client. One that does not parse is still that hop (never skipped, or the
        // client's own invented entries to its left would be believed).
        let forwarded = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        let hops: Vec<&str> = forwarded.flat_map(|v| v.split(',')).map(str::trim).collect();
        for hop in hops.iter().rev() {
            match parse_hop(hop) {
                Some(address) if trusted(&address) => continue,
                Some(address) => return Ok(Self::of(address)),
                None => return Ok(Self(format!("unparsed:{}", hop.chars().take(64).collect::<String>()))),
            }
        }
        Ok(Self::of(peer.ip()))
    }
}

impl ClientIp {
    /// The client an address stands for.
    pub fn of(address: IpAddr) -> Self {
        match address.to_canonical() {
            IpAddr::V4(v4) => Self(v4.to_string()),
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                Self(format!("{}/64", std::net::Ipv6Addr::from(prefix)))
            }
        }
    }
}

/// An `X-Forwarded-For` entry: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:5678`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|socket| socket.ip()))
        .or_else(|| hop.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')).and_then(|v6| v6.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_their_64_and_mapped_v4_is_v4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ClientIp::of(a), ClientIp::of(b));
        assert_eq!(ClientIp::of(a).0, "2001:db8:1:2::/64");
        assert_ne!(ClientIp::of(a), ClientIp::of(other));
        assert_eq!(ClientIp::of("::ffff:10.1.2.3".parse().unwrap()).0, "10.1.2.3");
        assert_eq!(ClientIp::of("10.1.2.3".parse().unwrap()).0, "10.1.2.3");
    }

    #[test]
    fn forwarded_hops_with_ports_and_brackets() {
        assert_eq!(parse_hop("1.2.3.4"), Some("1.2.3.4".parse().unwrap()));
        assert_eq!(parse_hop("1.2.3.4:5678"), Some("1.2.3.4".parse().unwrap()));
        assert_eq!(parse_hop("[2001:db8::1]:443"), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(parse_hop("[2001:db8::1]"), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(parse_hop("unknown"), None);
    }
}
