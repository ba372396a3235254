//! `ClientIp`: the address rate limits key on — the TCP peer, or, when the peer is a configured
//! trusted proxy, the nearest untrusted address in `X-Forwarded-For`. An IPv6 client is its /64:
//! one subscriber usually holds a whole /64 and can pick any address in it.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::app::AppState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>().copied() else {
            // In-process callers (tests, tools) have no socket.
            return Ok(Self("local".into()));
        };
        let trusted = &state.config.trusted_proxies;
        if !trusted.contains(&peer.ip()) {
            return Ok(Self::of(peer.ip()));
        }
        let forwarded = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        let hops: Vec<IpAddr> =
            forwarded.flat_map(|v| v.split(',')).filter_map(|hop| hop.trim().parse().ok()).collect();
        let client = hops.iter().rev().find(|hop| !trusted.contains(hop)).copied().unwrap_or(peer.ip());
        Ok(Self::of(client))
    }
}

impl ClientIp {
    fn of(address: IpAddr) -> Self {
        match address.to_canonical() {
            IpAddr::V4(v4) => Self(v4.to_string()),
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                Self(format!("{}/64", std::net::Ipv6Addr::from(prefix)))
            }
        }
    }
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
}
