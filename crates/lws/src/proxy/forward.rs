//! One proxied request: choose an origin, take a pooled connection to it, send the request with its body
//! streaming from the client, answer with the origin's head, then stream the origin's body back paced by
//! the client. Failures before the head become 502/503/504; failures after it abort the response.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use lws_proto::http1::client::OutgoingRequest;

use super::config::{HostHeader, ProxyMount};
use super::headers::{self, ClientSide, PathMap};
use super::origin::ProxyOrigin;
use crate::client::error::ClientError;
use crate::client::http::connection::{ConnectOptions, Connection};
use crate::client::http::head::ResponseStart;
use crate::client::http::pool::{Checkout, Pool, PoolSettings};
use crate::client::http::request::PreparedRequest;
use crate::client::origin::Origin;
use crate::http::{Body, BodyError, BodySender, RequestBody, Response};

/// Largest origin response head accepted; a bigger one is a 502.
const MAX_ORIGIN_HEAD: usize = 32 * 1024;
/// Origin bodies of at most this many bytes (by their `content-length`) are read whole before answering.
const WHOLE_BODY: u64 = 64 * 1024;
/// Origin body pieces queued toward the client before reading the origin pauses.
const BODY_QUEUE: usize = 4;

/// A request as the proxy passes it on, copied out of the connection that received it.
pub(crate) struct ProxyJob {
    pub(crate) mount: Arc<ProxyMount>,
    /// The path below the mountpoint (`/x`, or empty).
    pub(crate) below: String,
    pub(crate) query: Option<String>,
    /// The request head as received (shares its buffer; no field is copied): method, `Host`, fields.
    pub(crate) head: lws_proto::http1::RequestHead,
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
                    http1_only: !mount.settings.http2,
                    h2_prior_knowledge: mount.settings.http2,
                }))
            })
            .clone()
    })
}

/// Why the proxy answers instead of the origin.
fn failure_status(e: &ClientError) -> u16 {
    match e {
        ClientError::Timeout => 504,
        ClientError::Dns(_) | ClientError::Connect(_) | ClientError::TlsUnavailable => 503,
        _ => 502,
    }
}

/// How one origin took a request.
enum Attempt {
    /// No connection could be had: the next origin may be tried. The status to answer if none works.
    Unreachable(u16),
    /// The request went out and the origin's response head came back, on this connection.
    Answered(Box<(ResponseStart, Checkout)>),
    /// The request went out and the exchange failed: no other origin is tried.
    Failed(ClientError),
}

/// Runs one proxied request until its answer is known; a body that streams on is passed by a task of its
/// own. The connection's task polls this future itself (no task or channel for the answer).
pub(crate) async fn forward(mut job: ProxyJob) -> Response {
    let mount = job.mount.clone();
    let mut tried = Vec::new();
    let mut status = 503;
    // Connection failures move on to the next origin; once the request went out, nothing is retried.
    while let Some(flight) = mount.upstreams.pick(&tried) {
        tried.push(flight.index);
        // WebSockets are HTTP/1.1 upgrades onward, whatever the mount speaks otherwise.
        let http2 = mount.settings.http2 && job.upgrade.is_none();
        let (origin, key) = mount.upstreams.get(flight.index, http2);
        let (start, conn) = match attempt(&mut job, origin, key).await {
            Attempt::Unreachable(s) => {
                mount.upstreams.failed(flight.index);
                status = s;
                continue;
            }
            Attempt::Failed(e) => {
                tracing::warn!(%origin, "proxy: {e}");
                mount.upstreams.failed(flight.index);
                return Response::error(failure_status(&e));
            }
            Attempt::Answered(answered) => *answered,
        };
        if start.status == 101 && job.upgrade.is_none() {
            // A switch nobody asked for: the connection now speaks something else.
            tracing::warn!(%origin, "proxy: unsolicited 101");
            mount.upstreams.failed(flight.index);
            return Response::error(502);
        }
        mount.upstreams.succeeded(flight.index);
        if start.status == 101 {
            return upgraded(&job, &start, conn.into_connection());
        }
        let response = answer(&job, origin, &start);
        let idle = mount.settings.idle_timeout;
        if let Some(n) = start
            .content_length
            .filter(|&n| !start.bodiless && n <= WHOLE_BODY)
        {
            // A small body is read whole first: one hand-over to the client's connection instead of a
            // stream of them, the origin connection free sooner, and a failure still answerable as a 502.
            return match read_whole(conn, n, idle).await {
                Ok(body) => response.body(body),
                Err(e) => {
                    tracing::warn!(%origin, "proxy: {e}");
                    mount.upstreams.failed(flight.index);
                    Response::error(502)
                }
            };
        }
        let length = match start.bodiless {
            // HEAD keeps the length the origin announced (RFC 9110 §8.6); 204 and 304 have none.
            true if job.head.method() == "HEAD" => announced_length(&start),
            true => Some(0),
            false => start.content_length,
        };
        let (tx, body) = Body::channel_with_length(BODY_QUEUE, length);
        if !start.bodiless {
            let origin = origin.to_string();
            tokio::spawn(async move { relay_body(conn, tx, idle, &origin).await });
        }
        return response.with_body(body);
    }
    Response::error(status)
}

/// Takes a connection to `origin` and sends the request on it; a pooled connection the origin closed while
/// idle is replaced once (for bodiless requests, which can be sent again).
async fn attempt(job: &mut ProxyJob, origin: &ProxyOrigin, key: &Origin) -> Attempt {
    let settings = &job.mount.settings;
    let pool = pool_for(&job.mount);
    let opts = ConnectOptions {
        connect_timeout: settings.connect_timeout,
        max_response_head: MAX_ORIGIN_HEAD,
        idle_timeout: settings.idle_timeout,
    };
    let bodiless = job.body.is_none();
    let mut fresh = false;
    loop {
        let mut conn = match pool.checkout(key, &opts, fresh).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(%origin, "proxy: {e}");
                return Attempt::Unreachable(failure_status(&e));
            }
        };
        match send(job, origin, conn.conn()).await {
            Ok(start) => return Attempt::Answered(Box::new((start, conn))),
            Err(e) if conn.reused && bodiless && !fresh && is_stale(&e) => fresh = true,
            Err(e) => return Attempt::Failed(e),
        }
    }
}

/// The response head to send for the origin's (its body is set by the caller).
fn answer(job: &ProxyJob, origin: &ProxyOrigin, start: &ResponseStart) -> Response {
    let map = PathMap {
        base: origin.base(),
        mountpoint: &job.mount.mountpoint,
        authority: origin.authority(),
    };
    // The proxy's own `date` and `server` go out, as nginx does by default.
    let fields = start
        .headers
        .shared()
        .filter(|(n, _)| *n != "date" && *n != "server");
    let rewrite = job.mount.settings.rewrite_paths.then_some(&map);
    let mut response = Response::new(start.status);
    response.headers = headers::back_to_client(fields, rewrite);
    response
}

/// The `content-length` the origin's head announced (for HEAD, where no body follows it).
fn announced_length(start: &ResponseStart) -> Option<u64> {
    let v = start.headers.get("content-length")?;
    v.trim().parse().ok()
}

/// Reads a body of `n` bytes whole, each read bounded by `idle`.
async fn read_whole(
    mut conn: Checkout,
    n: u64,
    idle: Duration,
) -> Result<bytes::Bytes, ClientError> {
    let c = conn.conn();
    let mut all = bytes::BytesMut::with_capacity(n as usize);
    loop {
        match tokio::time::timeout(idle, c.chunk()).await {
            Ok(Some(Ok(piece))) => all.extend_from_slice(&piece),
            Ok(Some(Err(e))) => return Err(e),
            Ok(None) if all.len() as u64 == n => return Ok(all.freeze()),
            Ok(None) => return Err(ClientError::MalformedResponse),
            Err(_) => return Err(ClientError::Timeout),
        }
    }
}

/// Passes the origin's body to the client as fast as the client takes it; a failure or a silence longer
/// than `idle` aborts the client's response.
async fn relay_body(mut conn: Checkout, tx: BodySender, idle: Duration, origin: &str) {
    let c = conn.conn();
    loop {
        match tokio::time::timeout(idle, c.chunk()).await {
            Ok(Some(Ok(piece))) => {
                if tx.send(piece).await.is_err() {
                    // The client left: the half-read connection is not reused (the pool checks).
                    return;
                }
            }
            Ok(None) => {
                if let Some(t) = c.take_trailers() {
                    let t = t.into_iter().map(|(n, v)| (n, v.to_vec())).collect();
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

/// The answer to a WebSocket the origin accepted: `101` (HTTP/1.1) or `200` (RFC 8441) with the origin's
/// WebSocket fields, carrying the origin's connection to be joined to the client's.
fn upgraded(job: &ProxyJob, start: &ResponseStart, conn: Connection) -> Response {
    let Connection::H1(c) = conn else {
        return Response::error(502);
    };
    let (io, leftover) = c.into_upgraded();
    let over_h2 = job.upgrade == Some(Upgrade::H2);
    let mut r = Response::new(if over_h2 { 200 } else { 101 });
    for (name, value) in start.headers.shared() {
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
            r.headers.push((name.to_string().into(), value));
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
            | ClientError::Http2Refused
            | ClientError::Response(lws_proto::http1::client::ResponseError::ClosedBeforeResponse)
    )
}

/// Sends the request head and body on `conn`; the origin's response head.
async fn send(
    job: &mut ProxyJob,
    origin: &ProxyOrigin,
    conn: &mut Connection,
) -> Result<ResponseStart, ClientError> {
    let settings = &job.mount.settings;
    let client = ClientSide {
        peer: job.peer,
        tls: job.tls,
        host: job.head.header_str("host"),
    };
    let onward = headers::onward_request(job.head.headers(), &client);
    let mut fields: Vec<(&str, &[u8])> = onward.iter().map(|(n, v)| (*n, v.as_ref())).collect();
    // The upgrade fields are hop-by-hop: this hop asks for the WebSocket itself.
    let key;
    let mut method = job.head.method();
    match job.upgrade {
        None => {}
        Some(Upgrade::H1) => {
            let upgrade = job.head.header("upgrade").unwrap_or(b"websocket");
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
    let host = match (settings.host, job.head.header_str("host")) {
        (HostHeader::Client, Some(h)) => h,
        _ => origin.authority(),
    };
    let body = match &job.body {
        _ if job.upgrade.is_some() => lws_proto::http1::client::RequestBody::Empty,
        None => lws_proto::http1::client::RequestBody::Empty,
        Some(b) => match b.declared_len() {
            Some(n) => lws_proto::http1::client::RequestBody::Length(n),
            None => lws_proto::http1::client::RequestBody::Chunked,
        },
    };
    match conn {
        Connection::H1(c) => {
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
        Connection::H2(c) => {
            let req = PreparedRequest {
                method: method.to_string(),
                target,
                host: host.to_string(),
                headers: fields
                    .iter()
                    .map(|(n, v)| {
                        (
                            n.to_ascii_lowercase(),
                            String::from_utf8_lossy(v).into_owned(),
                        )
                    })
                    .collect(),
                body: None,
            };
            // Over HTTP/2 the upload and the wait for the head overlap: the header timeout counts from the
            // start of the request.
            // Boxed: its state would otherwise be part of every HTTP/1.1 request's.
            let sent = Box::pin(c.send_streaming(req, job.body.take()));
            tokio::time::timeout(settings.header_timeout, sent)
                .await
                .unwrap_or(Err(ClientError::Timeout))
        }
    }
}

#[cfg(test)]
mod tests {
    /// The connection's task holds this future for every proxied request: rare paths (opening a
    /// connection, streaming an upload, HTTP/2 onward) are boxed so that they do not make it larger.
    #[test]
    fn the_forward_future_stays_small() {
        let proxy = super::super::ReverseProxy::new("http://127.0.0.1:1/").unwrap();
        let job = super::ProxyJob {
            mount: super::ProxyMount::new(proxy, "/"),
            below: String::new(),
            query: None,
            head: lws_proto::http1::RequestHead::placeholder(),
            peer: None,
            tls: false,
            body: None,
            upgrade: None,
        };
        let size = std::mem::size_of_val(&super::forward(job));
        assert!(size <= 1600, "{size} bytes");
    }
}
