//! One proxied request: choose an origin, take a pooled connection to it, send the request with its body
//! streaming from the client, answer with the origin's head, then stream the origin's body back paced by
//! the client. Failures before the head become 502/503/504; failures after it abort the response.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use lws_proto::http1::client::OutgoingRequest;

use super::config::{HostHeader, ProxyMount};
use super::headers::{self, ClientSide, PathMap};
use super::origin::ProxyOrigin;
use crate::client::error::ClientError;
use crate::client::http::connection::{ConnectOptions, Connection};
use crate::client::http::pool::{Pool, PoolSettings};
use crate::client::origin::{H2Mode, Origin};
use crate::http::{Body, BodyError, RequestBody, Responder, Response};

/// Largest origin response head accepted; a bigger one is a 502.
const MAX_ORIGIN_HEAD: usize = 32 * 1024;
/// Origin body pieces queued toward the client before reading the origin pauses.
const BODY_QUEUE: usize = 4;

/// A request as the proxy passes it on, copied out of the connection that received it.
pub(crate) struct ProxyJob {
    pub(crate) mount: Arc<ProxyMount>,
    pub(crate) mountpoint: String,
    pub(crate) method: String,
    /// The path below the mountpoint (`/x`, or empty).
    pub(crate) below: String,
    pub(crate) query: Option<String>,
    pub(crate) fields: Vec<(String, Vec<u8>)>,
    pub(crate) host: Option<String>,
    pub(crate) peer: Option<IpAddr>,
    pub(crate) tls: bool,
    pub(crate) body: Option<RequestBody>,
    /// The client asked for a WebSocket: the onward request is an HTTP/1.1 upgrade either way.
    pub(crate) upgrade: Option<Upgrade>,
}

/// How the client asked for a WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Upgrade {
    /// An HTTP/1.1 `Upgrade: websocket`: answered `101`, then the connection is the tunnel.
    H1,
    /// An RFC 8441 extended CONNECT on an HTTP/2 stream: answered `200`, then the stream is the tunnel.
    H2,
}

thread_local! {
    /// Each service thread keeps its own connections per proxy mount: a connection stays on the runtime
    /// that opened it, with no wake-ups across threads.
    static POOLS: RefCell<HashMap<usize, Arc<Pool>>> = RefCell::new(HashMap::new());
}

fn pool_for(mount: &ProxyMount) -> Arc<Pool> {
    POOLS.with(|pools| {
        pools
            .borrow_mut()
            .entry(mount.id)
            .or_insert_with(|| {
                Arc::new(Pool::new(PoolSettings {
                    max_per_origin: mount.settings.max_connections,
                    idle_timeout: mount.settings.idle_timeout,
                    http1_only: true,
                    h2_prior_knowledge: false,
                }))
            })
            .clone()
    })
}

fn client_origin(o: &ProxyOrigin) -> Origin {
    Origin {
        tls: o.tls,
        host: o.host.clone(),
        port: o.port,
        unix: o.unix.clone(),
        h2: H2Mode::Off,
        #[cfg(feature = "tls")]
        trust: Default::default(),
    }
}

/// Why the proxy answers instead of the origin.
fn failure_status(e: &ClientError) -> u16 {
    match e {
        ClientError::Timeout => 504,
        ClientError::Dns(_) | ClientError::Connect(_) | ClientError::TlsUnavailable => 503,
        _ => 502,
    }
}

/// Runs one proxied request to its end and answers it through `responder`.
pub(crate) async fn forward(mut job: ProxyJob, responder: Responder) {
    let mount = job.mount.clone();
    let settings = &mount.settings;
    let pool = pool_for(&mount);
    let mut tried = Vec::new();
    let mut status = 503;
    // Connection failures move on to the next origin; once the body started moving, nothing is retried.
    while let Some(flight) = mount.upstreams.pick(&tried) {
        tried.push(flight.index);
        let upstream = mount.upstreams.origins().nth(flight.index).cloned();
        let Some(origin) = upstream else { break };
        let opts = ConnectOptions {
            connect_timeout: settings.connect_timeout,
            max_response_head: MAX_ORIGIN_HEAD,
            idle_timeout: settings.idle_timeout,
        };
        let key = client_origin(&origin);
        let mut conn = match pool.checkout(&key, &opts, false).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(%origin, "proxy: {e}");
                mount.upstreams.failed(flight.index);
                status = failure_status(&e);
                continue;
            }
        };
        let reused = conn.reused;
        let mut outcome = send(&mut job, &origin, conn.conn()).await;
        if matches!(&outcome, Err(e) if reused && job.body.is_none() && is_stale(e)) {
            // The origin closed an idle connection as we reused it: once more on a new one.
            drop(conn);
            conn = match pool.checkout(&key, &opts, true).await {
                Ok(c) => c,
                Err(e) => {
                    mount.upstreams.failed(flight.index);
                    status = failure_status(&e);
                    continue;
                }
            };
            outcome = send(&mut job, &origin, conn.conn()).await;
        }
        let start = match outcome {
            Ok(s) if s.status == 101 && job.upgrade.is_some() => {
                mount.upstreams.succeeded(flight.index);
                let answer = upgraded(&job, &s, conn.into_connection());
                let _ = responder.respond(answer);
                return;
            }
            // A switch nobody asked for: the connection now speaks something else.
            Ok(s) if s.status == 101 => {
                tracing::warn!(%origin, "proxy: unsolicited 101");
                mount.upstreams.failed(flight.index);
                let _ = responder.respond(Response::error(502));
                return;
            }
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(%origin, "proxy: {e}");
                mount.upstreams.failed(flight.index);
                let _ = responder.respond(Response::error(failure_status(&e)));
                return;
            }
        };
        mount.upstreams.succeeded(flight.index);
        let map = PathMap {
            base: origin.base(),
            mountpoint: &job.mountpoint,
            authority: &origin.authority(),
        };
        // The proxy's own `date` and `server` go out, as nginx does by default.
        let fields: Vec<(&str, &[u8])> = start
            .headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("date") && !n.eq_ignore_ascii_case("server"))
            .collect();
        let back = headers::back_to_client(
            fields.iter().copied(),
            settings.rewrite_paths.then_some(&map),
        );
        let length = if start.bodiless {
            (job.method != "HEAD").then_some(0).or(start.content_length)
        } else {
            start.content_length
        };
        let (tx, body) = Body::channel_with_length(BODY_QUEUE, length);
        let mut response = Response::new(start.status).with_body(body);
        response.headers = back;
        if responder.respond(response).is_err() {
            return;
        }
        if start.bodiless {
            return;
        }
        let Connection::H1(c) = conn.conn() else {
            return;
        };
        loop {
            match tokio::time::timeout(settings.idle_timeout, c.chunk()).await {
                Ok(Some(Ok(piece))) => {
                    if tx.send(piece).await.is_err() {
                        // The client left: the half-read connection is not reused (the pool checks).
                        return;
                    }
                }
                Ok(None) => {
                    if let Some(t) = c.take_trailers() {
                        let t = t.fields.into_iter().map(|(n, v)| (n, v.to_vec())).collect();
                        let _ = tx.send_trailers(t).await;
                    }
                    return;
                }
                Ok(Some(Err(e))) => {
                    tx.abort(BodyError::new(format!("origin {origin}: {e}")))
                        .await;
                    return;
                }
                Err(_) => {
                    tx.abort(BodyError::new(format!("origin {origin} went silent")))
                        .await;
                    return;
                }
            }
        }
    }
    let _ = responder.respond(Response::error(status));
}

/// The answer to a WebSocket the origin accepted: `101` (HTTP/1.1) or `200` (RFC 8441) with the origin's
/// WebSocket fields, carrying the origin's connection to be joined to the client's.
fn upgraded(
    job: &ProxyJob,
    start: &crate::client::http::head::ResponseStart,
    conn: Connection,
) -> Response {
    let Connection::H1(c) = conn else {
        return Response::error(502);
    };
    let (io, leftover) = c.into_upgraded();
    let over_h2 = job.upgrade == Some(Upgrade::H2);
    let mut r = Response::new(if over_h2 { 200 } else { 101 });
    for (name, value) in start.headers.iter() {
        let keep = if over_h2 {
            // RFC 8441 answers carry no Sec-WebSocket-Accept, Upgrade or Connection.
            matches!(name, "sec-websocket-protocol" | "sec-websocket-extensions")
        } else {
            !matches!(
                name,
                "connection" | "date" | "server" | "content-length" | "transfer-encoding"
            )
        };
        if keep {
            r.headers.push((name.to_string(), value.to_vec()));
        }
    }
    r.tunnel = Some(Box::new(super::tunnel::OriginTunnel { io, leftover }));
    r
}

/// Whether a failure on a reused connection looks like the origin closing it while idle.
fn is_stale(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::Io(_)
            | ClientError::Response(lws_proto::http1::client::ResponseError::ClosedBeforeResponse)
    )
}

/// Sends the request head and body on `conn`; the origin's response head.
async fn send(
    job: &mut ProxyJob,
    origin: &ProxyOrigin,
    conn: &mut Connection,
) -> Result<crate::client::http::head::ResponseStart, ClientError> {
    let settings = &job.mount.settings;
    let Connection::H1(c) = conn else {
        return Err(ClientError::MalformedResponse);
    };
    let client = ClientSide {
        peer: job.peer,
        tls: job.tls,
        host: job.host.as_deref(),
    };
    let onward = headers::onward_request(
        job.fields.iter().map(|(n, v)| (n.as_str(), v.as_slice())),
        &client,
    );
    let mut fields: Vec<(&str, &[u8])> = onward
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    // The upgrade fields are hop-by-hop: this hop asks for the WebSocket itself.
    let key;
    let mut method = job.method.as_str();
    match job.upgrade {
        None => {}
        Some(Upgrade::H1) => {
            let upgrade = job
                .fields
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("upgrade"))
                .map_or(&b"websocket"[..], |(_, v)| v.as_slice());
            fields.push(("connection", b"upgrade"));
            fields.push(("upgrade", upgrade));
        }
        Some(Upgrade::H2) => {
            key = crate::client::builder::new_key()?;
            method = "GET";
            fields.push(("connection", b"upgrade"));
            fields.push(("upgrade", b"websocket"));
            fields.push(("sec-websocket-key", key.as_bytes()));
            if !fields
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-version"))
            {
                fields.push(("sec-websocket-version", b"13"));
            }
        }
    }
    let target = origin.target(&job.below, job.query.as_deref());
    let authority = origin.authority();
    let host = match (settings.host, job.host.as_deref()) {
        (HostHeader::Client, Some(h)) => h,
        _ => &authority,
    };
    let body = match &job.body {
        _ if job.upgrade.is_some() => lws_proto::http1::client::RequestBody::Empty,
        None => lws_proto::http1::client::RequestBody::Empty,
        Some(b) => match b.declared_len() {
            Some(n) => lws_proto::http1::client::RequestBody::Length(n),
            None => lws_proto::http1::client::RequestBody::Chunked,
        },
    };
    let head = OutgoingRequest {
        method,
        target: &target,
        host,
        headers: &fields,
        body,
    };
    c.forward(
        &head,
        job.body.as_mut(),
        settings.idle_timeout,
        settings.header_timeout,
    )
    .await
}
