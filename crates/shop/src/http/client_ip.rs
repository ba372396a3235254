//! `ClientIp`: the address rate limits key on — the TCP peer, or, when the peer is a configured
//! trusted proxy, the nearest untrusted address in `X-Forwarded-For`.

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
            return Ok(Self(peer.ip().to_string()));
        }
        let forwarded = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        let hops: Vec<IpAddr> =
            forwarded.flat_map(|v| v.split(',')).filter_map(|hop| hop.trim().parse().ok()).collect();
        let client = hops.iter().rev().find(|hop| !trusted.contains(hop)).copied().unwrap_or(peer.ip());
        Ok(Self(client.to_string()))
    }
}
