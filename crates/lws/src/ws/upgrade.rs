//! Choosing and accepting a WebSocket upgrade on HTTP/1.1, as libwebsockets does: subprotocol by name, else
//! the protocol marked `default` (or the vhost's first), basic auth from the protocol's `basic-auth`
//! option, `no-ws-upgrades` mounts, permessage-deflate negotiation, then the 101 response.

use std::sync::Arc;

use bytes::Bytes;
use std::time::SystemTime;

use lws_proto::http1::RequestHead;
use lws_proto::ws::pmd::{self, PermessageDeflate};
use lws_proto::ws::{handshake, MessageCodec, WsConfig};

use super::driver::WsSetup;
use super::WsInfo;
use crate::auth::{self, AuthResult};
use crate::http::outgoing::{OutBody, Outgoing};
use crate::http::{Request, Response};
use crate::mount;
use crate::protocol::ProtocolHandle;
use crate::vhost::VhostInner;

/// Whether a request asks to become a WebSocket.
pub(crate) fn is_websocket(head: &RequestHead) -> bool {
    head.is_upgrade() && head.header_has_token("upgrade", "websocket")
}

/// Accepts or refuses the upgrade: the 101 response (200 for an HTTP/2 extended CONNECT, RFC 8441) and the
/// connection setup, or the refusal to send.
pub(crate) fn prepare(
    req: &Request,
    vhost: &Arc<VhostInner>,
    over_h2: bool,
) -> Result<(Outgoing, WsSetup), Box<Outgoing>> {
    let parsed = if over_h2 {
        handshake::parse_extended_connect(&req.head)
    } else {
        handshake::parse_upgrade(&req.head)
    };
    let upgrade = parsed.map_err(|e| {
        let mut o = Outgoing::from_response(Response::error(e.status()));
        if e.status() == 426 {
            o.headers
                .push(("sec-websocket-version".into(), Bytes::from_static(b"13")));
        }
        Box::new(o)
    })?;
    if let Some((i, _)) = mount::select(&vhost.mounts, req.path(), |m| &m.mount) {
        if vhost.mounts[i].mount.no_ws_upgrades {
            return Err(Box::new(Outgoing::error(403)));
        }
    }
    let protocol =
        choose(vhost, &upgrade.protocols).map_err(|status| Box::new(Outgoing::error(status)))?;
    let user = match protocol.options.get("basic-auth") {
        Some(file) => match auth::check(req.header("authorization"), std::path::Path::new(file)) {
            AuthResult::Granted(user) => Some(user),
            AuthResult::Challenge => {
                let mut o = Outgoing::error(401);
                o.headers.push((
                    "www-authenticate".into(),
                    Bytes::from_static(b"Basic realm=\"lwsws\""),
                ));
                return Err(Box::new(o));
            }
            AuthResult::Malformed => return Err(Box::new(Outgoing::error(403))),
        },
        None => None,
    };
    protocol
        .inner
        .accept_upgrade(req)
        .map_err(|status| Box::new(Outgoing::error(status)))?;
    let options = protocol.inner.ws_options();
    // upgrade, accept, protocol, extensions: at most four, in one allocation.
    let mut headers: Vec<(std::borrow::Cow<'static, str>, Bytes)> = Vec::with_capacity(4);
    if !over_h2 {
        headers.push(("upgrade".into(), Bytes::from_static(b"websocket")));
        let accept = handshake::accept_key(&upgrade.key);
        headers.push(("sec-websocket-accept".into(), accept.into()));
    }
    if !upgrade.protocols.is_empty() {
        headers.push((
            "sec-websocket-protocol".into(),
            Bytes::copy_from_slice(protocol.name.as_bytes()),
        ));
    }
    let mut codec: Option<Box<dyn MessageCodec + Send>> = None;
    if options.permessage_deflate && vhost.permessage_deflate {
        let offers: Vec<&str> = upgrade.extensions.iter().map(String::as_str).collect();
        let config = &vhost.pmd;
        if let Some((params, answer)) = pmd::server_negotiate(&offers, config) {
            headers.push(("sec-websocket-extensions".into(), answer.into()));
            codec = Some(Box::new(PermessageDeflate::new(params, true, config)));
        }
    }
    let members = vhost.members(&protocol.name);
    let info = Arc::new(WsInfo {
        path: req.path().to_string(),
        query: req.query().map(str::to_string),
        protocol: protocol.name.clone(),
        origin: upgrade.origin,
        user_agent: req.header("user-agent").map(str::to_string),
        peer: req.peer_addr(),
        vhost: vhost.name.clone(),
        connected_at: SystemTime::now(),
        compressed: codec.is_some(),
        over_h2,
        user,
    });
    let config = WsConfig {
        max_message: options.max_message,
        max_frame: options.max_message,
        stream_fragments: options.stream_fragments,
        ..WsConfig::default()
    };
    let setup = WsSetup {
        role: lws_proto::ws::Role::Server,
        protocol: protocol.inner.clone(),
        info,
        config,
        codec,
        members,
    };
    Ok((
        Outgoing {
            file: None,
            status: if over_h2 { 200 } else { 101 },
            headers,
            body: OutBody::Empty,
            tunnel: None,
        },
        setup,
    ))
}

/// The protocol for this upgrade: the first requested subprotocol this vhost has, else (no subprotocol
/// asked) the one whose options say `default`, else the vhost's first protocol.
/// The protocol a WebSocket upgrade gets, or the status refusing it.
fn choose<'v>(vhost: &'v VhostInner, requested: &[String]) -> Result<&'v ProtocolHandle, u16> {
    if !requested.is_empty() {
        return requested
            .iter()
            .find_map(|name| {
                vhost
                    .protocols
                    .iter()
                    .find(|p| p.websocket && &*p.name == name.as_str())
            })
            .ok_or(400);
    }
    if vhost.disable_no_protocol_ws_upgrades {
        return Err(400);
    }
    let mut websocket = vhost.protocols.iter().filter(|p| p.websocket);
    let default = websocket
        .clone()
        .find(|p| p.options.get("default").is_some_and(crate::truthy));
    default.or(websocket.next()).ok_or(404)
}
