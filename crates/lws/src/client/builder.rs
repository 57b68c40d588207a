//! [`WsClientBuilder`]: the options of one client connection, and connecting (TCP, TLS, opening handshake).

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lws_proto::ws::handshake;
use lws_proto::ws::pmd::{self, PermessageDeflate, PmdConfig};
use lws_proto::ws::{Role, WsConfig, WsConn, DEFAULT_MAX_MESSAGE};
use tokio::io::AsyncWriteExt;

use super::dial::{connect_tcp, connect_transport, DEFAULT_CONNECT_TIMEOUT};
use super::error::ClientError;
use super::http::connection::ConnectOptions;
use super::http::h2_handle::H2Handle;
use super::http::pool::{Pool, DEFAULT_IDLE_TIMEOUT};
use super::origin::{H2Mode, Origin};
use super::socket::WebSocket;
#[cfg(feature = "tls")]
use super::tls::Trust;
use super::transport::Transport;
use super::upgrade::{accept_extension, check_h2_answer, parse_response, read_head};
use super::url::{UrlError, WsUrl};

/// Default [`WsClientBuilder::max_response_head`]: 8 KiB.
pub const DEFAULT_MAX_RESPONSE_HEAD: usize = 8 * 1024;
/// Default [`WsClientBuilder::send_high_water`]: 256 KiB, the server runtime's mark.
pub const DEFAULT_SEND_HIGH_WATER: usize = 256 * 1024;

/// The options of a WebSocket client connection; made by [`super::ws`], used by
/// [`WsClientBuilder::connect`] (which may be called again, e.g. to reconnect).
#[derive(Debug, Clone)]
pub struct WsClientBuilder {
    /// The parsed URL, or why it cannot be used (reported by `connect`, so that building never fails).
    url: Result<WsUrl, UrlError>,
    /// See [`WsClientBuilder::protocol`].
    protocols: Vec<String>,
    /// See [`WsClientBuilder::header`].
    headers: Vec<(String, String)>,
    /// See [`WsClientBuilder::origin`].
    origin: Option<String>,
    /// See [`WsClientBuilder::permessage_deflate`].
    permessage_deflate: bool,
    /// See [`WsClientBuilder::max_message`].
    max_message: usize,
    /// See [`WsClientBuilder::max_response_head`].
    max_response_head: usize,
    /// See [`WsClientBuilder::send_high_water`].
    send_high_water: usize,
    /// See [`WsClientBuilder::connect_timeout`].
    connect_timeout: Duration,
    /// See [`WsClientBuilder::close_timeout`].
    close_timeout: Duration,
    /// See [`WsClientBuilder::validity`].
    validity: crate::ws::ValidityPolicy,
    /// See [`WsClientBuilder::http2`].
    http2: bool,
    /// See [`WsClientBuilder::http2_prior_knowledge`].
    h2_prior_knowledge: bool,
    /// The pool of the [`HttpClient`](super::HttpClient) that made the builder, for HTTP/2 connections.
    pool: Option<Arc<Pool>>,
    #[cfg(feature = "tls")]
    /// See [`WsClientBuilder::ca_file`] and [`WsClientBuilder::allow_self_signed_for_tests`].
    trust: Trust,
}

impl WsClientBuilder {
    /// A builder for `url` with the default options.
    pub(crate) fn new(url: &str) -> Self {
        WsClientBuilder {
            url: WsUrl::parse(url),
            protocols: Vec::new(),
            headers: Vec::new(),
            origin: None,
            permessage_deflate: true,
            max_message: DEFAULT_MAX_MESSAGE,
            max_response_head: DEFAULT_MAX_RESPONSE_HEAD,
            send_high_water: DEFAULT_SEND_HIGH_WATER,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            close_timeout: WsConfig::default().close_timeout,
            validity: crate::ws::ValidityPolicy::default(),
            http2: true,
            h2_prior_knowledge: false,
            pool: None,
            #[cfg(feature = "tls")]
            trust: Trust::default(),
        }
    }

    /// Binds the builder to an [`HttpClient`](super::HttpClient)'s pool (see
    /// [`HttpClient::ws`](super::HttpClient::ws)).
    pub(crate) fn with_pool(mut self, pool: Arc<Pool>) -> Self {
        self.pool = Some(pool);
        self
    }

    /// Opens the WebSocket over HTTP/2 (RFC 8441) when possible; default `true`. A `wss://` connection
    /// then offers ALPN `h2, http/1.1` (and `ws://` speaks h2c only with
    /// [`WsClientBuilder::http2_prior_knowledge`]); if the server picks HTTP/2 and its SETTINGS enable
    /// extended CONNECT, the WebSocket is an extended CONNECT stream (`:protocol websocket`, answered 200)
    /// of that connection — see [`WebSocket::is_h2`]. Otherwise it falls back to the HTTP/1.1 upgrade (on the
    /// same connection when ALPN picked `http/1.1`, else on a new one). Frames are masked and
    /// permessage-deflate is negotiated exactly as over HTTP/1.1. Built by [`super::HttpClient::ws`], the
    /// HTTP/2 connection is the client's pooled one, shared with its other WebSockets and requests.
    pub fn http2(mut self, enable: bool) -> Self {
        self.http2 = enable;
        self
    }

    /// For `ws://`: speaks HTTP/2 from the first byte (h2c with prior
    /// knowledge) instead of HTTP/1.1. For servers known to accept it.
    pub fn http2_prior_knowledge(mut self) -> Self {
        self.h2_prior_knowledge = true;
        self
    }

    /// Offers a subprotocol (`Sec-WebSocket-Protocol`); repeat for several, in order of preference. The
    /// server's choice is [`WebSocket::protocol`]; a server that has none of them refuses the upgrade.
    pub fn protocol(mut self, name: &str) -> Self {
        self.protocols.push(name.to_string());
        self
    }

    /// Adds a header line to the upgrade request (e.g. `Authorization`). CR, LF and NUL are dropped.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sends this `Origin` header.
    pub fn origin(mut self, origin: &str) -> Self {
        self.origin = Some(origin.to_string());
        self
    }

    /// Whether to offer permessage-deflate (RFC 7692); default true. [`WebSocket::compressed`] says whether
    /// the server accepted it.
    pub fn permessage_deflate(mut self, offer: bool) -> Self {
        self.permessage_deflate = offer;
        self
    }

    /// Largest incoming message (after decompression) and frame; a bigger one fails the connection with close
    /// 1009. Default 16 MiB.
    pub fn max_message(mut self, n: usize) -> Self {
        self.max_message = n;
        self
    }

    /// Largest response head to the upgrade request; default 8 KiB.
    pub fn max_response_head(mut self, n: usize) -> Self {
        self.max_response_head = n;
        self
    }

    /// How many bytes may wait to be written before the `Sink` side stops accepting messages until they are
    /// written (backpressure); default 256 KiB. Also stops reading while that much is unwritten.
    pub fn send_high_water(mut self, n: usize) -> Self {
        self.send_high_water = n.max(1);
        self
    }

    /// Time allowed for resolving, connecting, TLS and the opening handshake together; default 20 s.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// How long closing waits for the server's Close after ours (and for ours to be written); default 5 s.
    pub fn close_timeout(mut self, d: Duration) -> Self {
        self.close_timeout = d;
        self
    }

    /// Trusts the certificates in this PEM file **instead of** the operating system's roots: the server's
    /// chain must lead to one of them, or its certificate must be one of them (a self-signed server
    /// certificate can be trusted this way). Replacing rather than adding keeps a private deployment from
    /// trusting every public CA. Only for `wss://`.
    #[cfg(feature = "tls")]
    pub fn ca_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.trust = Trust::CaFile(path.into());
        self
    }

    /// **DANGER, tests only**: accepts any server certificate — self-signed, wrong host, expired, any
    /// issuer — so that anybody on the network path can impersonate the server and read and alter the
    /// traffic. Only the TLS handshake's signatures are still checked. libwebsockets'
    /// `LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK`. To trust one self-signed
    /// certificate, prefer [`WsClientBuilder::ca_file`] with that certificate.
    #[cfg(feature = "tls")]
    pub fn allow_self_signed_for_tests(mut self) -> Self {
        self.trust = Trust::AnyForTests;
        self
    }

    /// Connects: resolves the host (trying its addresses in order), opens TCP, TLS for `wss://`, sends the
    /// upgrade request and checks the 101 response, all within [`WsClientBuilder::connect_timeout`].
    pub async fn connect(&self) -> Result<WebSocket, ClientError> {
        let url = self.url.clone().map_err(ClientError::Url)?;
        match tokio::time::timeout(self.connect_timeout, self.open(url)).await {
            Ok(r) => r,
            Err(_) => Err(ClientError::Timeout),
        }
    }

    /// For [`WsClientBuilder::run`]: when to ping a silent server and when to give up on it (libwebsockets'
    /// validity policy; default 300 s / 310 s).
    pub fn validity(mut self, policy: crate::ws::ValidityPolicy) -> Self {
        self.validity = policy;
        self
    }

    /// Connects and runs `protocol` on the connection in libwebsockets' callback style, with the same
    /// [`crate::Protocol`] trait servers use (`established`, `message`, `writable`, `timer`, `closed`, sends
    /// through [`crate::ws::WsCtx`]), until the connection ends; returns how it ended. The validity policy
    /// pings an idle server and hangs up on a silent one.
    pub async fn run(
        &self,
        protocol: crate::ProtocolHandle,
    ) -> Result<crate::ws::CloseInfo, ClientError> {
        let url = self.url.clone().map_err(ClientError::Url)?;
        let (path, query) = match url.resource.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (url.resource.clone(), None),
        };
        let opened = match tokio::time::timeout(self.connect_timeout, self.handshake(url)).await {
            Ok(r) => r?,
            Err(_) => return Err(ClientError::Timeout),
        };
        let info = std::sync::Arc::new(crate::ws::WsInfo {
            path,
            query,
            protocol: opened.protocol.as_deref().unwrap_or(protocol.name()).into(),
            origin: self.origin.clone(),
            user_agent: None,
            peer: opened.io.peer_addr(),
            vhost: "".into(),
            connected_at: std::time::SystemTime::now(),
            compressed: opened.codec.is_some(),
            over_h2: opened.io.is_pipe(),
            user: None,
        });
        let setup = crate::ws::driver::WsSetup {
            role: Role::Client,
            protocol: protocol.inner,
            info,
            config: self.engine_config(),
            codec: opened
                .codec
                .map(|c| Box::new(c) as Box<dyn lws_proto::ws::MessageCodec + Send>),
            members: std::sync::Arc::new(crate::ws::Members::new(self.validity)),
        };
        // Nothing shuts a client connection down from outside but its own protocol and handles; the
        // sender stays alive so the driver never sees a shutdown.
        let (keep, never) = tokio::sync::watch::channel(false);
        let leftover = bytes::Bytes::from(opened.leftover);
        let close = crate::ws::serve(opened.io, leftover, setup, never).await;
        drop(keep);
        Ok(close)
    }

    /// Connects and hands the opened connection to a client engine, with the frames that came with the
    /// handshake already fed to it.
    async fn open(&self, url: WsUrl) -> Result<WebSocket, ClientError> {
        let opened = self.handshake(url).await?;
        let config = self.engine_config();
        let now = Instant::now();
        let mut conn = WsConn::new(Role::Client, config, now);
        let compressed = opened.codec.is_some();
        if let Some(codec) = opened.codec {
            conn.set_extension(Box::new(codec));
        }
        if !opened.leftover.is_empty() {
            conn.handle_input(now, &opened.leftover);
        }
        Ok(WebSocket::new(
            opened.io,
            conn,
            opened.protocol,
            compressed,
            self.send_high_water,
        ))
    }

    /// The engine settings these options ask for, the same for [`WsClientBuilder::connect`] and
    /// [`WsClientBuilder::run`].
    fn engine_config(&self) -> WsConfig {
        WsConfig::default()
            .max_message(self.max_message)
            .max_frame(self.max_message)
            .close_timeout(self.close_timeout)
    }

    /// Connects and completes the opening handshake: as an HTTP/2 stream when [`WsClientBuilder::http2`]
    /// allows and the server does, else as an HTTP/1.1 upgrade.
    async fn handshake(&self, url: WsUrl) -> Result<Opened, ClientError> {
        let mut h1_io = None;
        if self.http2 {
            match self.try_h2(&url).await? {
                H2Attempt::Opened(o) => return Ok(*o),
                H2Attempt::Http1(io) => h1_io = Some(io),
                H2Attempt::Unavailable => {}
            }
        }
        let io = match h1_io {
            Some(io) => io,
            None => self.connect_h1(&url).await?,
        };
        self.upgrade_h1(io, &url).await
    }

    /// The HTTP/1.1 upgrade on `io`: sends the request, reads the 101 response and checks it.
    async fn upgrade_h1(&self, mut io: Transport, url: &WsUrl) -> Result<Opened, ClientError> {
        let key = new_key()?;
        let protocols = self.offered_protocols();
        let pmd_config = PmdConfig::default();
        let offer = self.pmd_offer(&pmd_config);
        let mut extra: Vec<(&str, &str)> = Vec::with_capacity(self.headers.len() + 1);
        if let Some(o) = &self.origin {
            extra.push(("Origin", o));
        }
        extra.extend(self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let mut request = Vec::with_capacity(256);
        handshake::client_request(
            &url.host_header,
            &url.resource,
            &key,
            &protocols,
            offer.as_deref(),
            &extra,
            &mut request,
        );
        io.write_all(&request).await.map_err(ClientError::Io)?;
        io.flush().await.map_err(ClientError::Io)?;

        let (head, leftover) = read_head(&mut io, self.max_response_head).await?;
        let accepted = parse_response(&head, &key, &protocols)?;
        let codec = accept_extension(accepted.extensions.as_deref(), offer.is_some(), &pmd_config)?;
        Ok(Opened {
            io,
            leftover,
            protocol: accepted.protocol,
            codec,
        })
    }

    /// The subprotocols to offer, in order of preference.
    fn offered_protocols(&self) -> Vec<&str> {
        self.protocols.iter().map(String::as_str).collect()
    }

    /// The `Sec-WebSocket-Extensions` offer, if permessage-deflate is to be offered.
    fn pmd_offer(&self, config: &PmdConfig) -> Option<String> {
        self.permessage_deflate.then(|| pmd::client_offer(config))
    }
}

/// What trying HTTP/2 for a WebSocket gave.
enum H2Attempt {
    /// The WebSocket rides an HTTP/2 stream.
    Opened(Box<Opened>),
    /// ALPN picked HTTP/1.1: upgrade on this connection.
    Http1(Transport),
    /// No HTTP/2 here (or no extended CONNECT): upgrade on a new HTTP/1.1 connection.
    Unavailable,
}

impl WsClientBuilder {
    /// TCP, then TLS offering ALPN `http/1.1` for `wss`.
    async fn connect_h1(&self, url: &WsUrl) -> Result<Transport, ClientError> {
        let tcp = connect_tcp(&url.host, url.port).await?;
        if url.tls {
            #[cfg(feature = "tls")]
            {
                let tls = super::tls::handshake(tcp, &url.host, &self.trust, false).await?;
                Ok(Transport::Tls(Box::new(tls)))
            }
            #[cfg(not(feature = "tls"))]
            {
                drop(tcp);
                Err(ClientError::TlsUnavailable)
            }
        } else {
            Ok(Transport::Plain(tcp))
        }
    }

    /// Opens the WebSocket as an RFC 8441 extended CONNECT stream when the server allows it.
    async fn try_h2(&self, url: &WsUrl) -> Result<H2Attempt, ClientError> {
        let mode = H2Mode::for_url(url, false, self.h2_prior_knowledge);
        if mode == H2Mode::Off {
            return Ok(H2Attempt::Unavailable);
        }
        let origin = Origin::new(
            url,
            mode,
            #[cfg(feature = "tls")]
            &self.trust,
        );
        let handle = match self.h2_connection(url, &origin).await? {
            Ok(handle) => handle,
            Err(fallback) => return Ok(fallback),
        };
        let protocols = self.offered_protocols();
        let pmd_config = PmdConfig::default();
        let offer = self.pmd_offer(&pmd_config);
        let fields = self.connect_fields(&protocols, offer.as_deref());
        let (block, pipe) = match handle
            .websocket(url.host_header.clone(), url.resource.clone(), fields)
            .await
        {
            Ok(t) => t,
            Err(ClientError::Http2ConnectUnsupported) => return Ok(H2Attempt::Unavailable),
            Err(e) => return Err(e),
        };
        let (protocol, codec) = check_h2_answer(&block, &protocols, offer.is_some(), &pmd_config)?;
        Ok(H2Attempt::Opened(Box::new(Opened {
            io: Transport::Pipe(pipe),
            leftover: Vec::new(),
            protocol,
            codec,
        })))
    }

    /// An HTTP/2 connection to `origin`: the pool's (shared, or new and then pooled) when the builder came
    /// from an [`HttpClient`](super::HttpClient), else a new one of the WebSocket's own. `Ok(Err(_))`: how
    /// to go on over HTTP/1.1 when the origin does not speak HTTP/2.
    async fn h2_connection(
        &self,
        url: &WsUrl,
        origin: &Origin,
    ) -> Result<Result<H2Handle, H2Attempt>, ClientError> {
        match &self.pool {
            Some(pool) => {
                let opts = ConnectOptions {
                    connect_timeout: self.connect_timeout,
                    max_response_head: self.max_response_head,
                    idle_timeout: pool.idle_timeout,
                };
                Ok(pool
                    .h2_handle(origin, &opts)
                    .await?
                    .ok_or(H2Attempt::Unavailable))
            }
            None => {
                let (io, h2) = connect_transport(origin).await?;
                if !h2 {
                    return Ok(Err(H2Attempt::Http1(io)));
                }
                Ok(Ok(H2Handle::spawn(io, url.tls, DEFAULT_IDLE_TIMEOUT)))
            }
        }
    }

    /// The header fields of the extended CONNECT: the same offers as an HTTP/1.1 upgrade, as RFC 8441 §5
    /// carries them (no `Sec-WebSocket-Key`: `:protocol` takes its place).
    fn connect_fields(&self, protocols: &[&str], offer: Option<&str>) -> Vec<(String, String)> {
        let mut fields: Vec<(String, String)> = vec![("sec-websocket-version".into(), "13".into())];
        if !protocols.is_empty() {
            fields.push(("sec-websocket-protocol".into(), protocols.join(", ")));
        }
        if let Some(o) = offer {
            fields.push(("sec-websocket-extensions".into(), o.to_string()));
        }
        if let Some(o) = &self.origin {
            fields.push(("origin".into(), o.clone()));
        }
        fields.extend(self.headers.iter().cloned());
        fields
    }
}

/// A connection whose opening handshake succeeded.
struct Opened {
    /// The byte stream the WebSocket runs on.
    io: Transport,
    /// Bytes read past the handshake: the first frames.
    leftover: Vec<u8>,
    /// The subprotocol the server chose.
    protocol: Option<String>,
    /// permessage-deflate, when the server accepted it.
    codec: Option<PermessageDeflate>,
}

/// A fresh random `Sec-WebSocket-Key`.
pub(crate) fn new_key() -> Result<String, ClientError> {
    let mut random = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random)
        .map_err(|_| ClientError::Io(io::Error::other("no randomness for the key")))?;
    Ok(handshake::client_key(random))
}
