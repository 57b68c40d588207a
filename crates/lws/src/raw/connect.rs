//! Raw clients (libwebsockets' raw-skt client connections): outgoing TCP by address or host name, or a unix
//! socket, with a connect timeout and the client retry policy, served by a raw protocol.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use super::protocol::RawTransport;
use super::service::{RawConn, RawIo};
use super::target::{Family, RawTarget};
use super::{RawClose, RawInfo, RawTargetError};
use crate::client::RetryPolicy;
use crate::ProtocolHandle;

/// How long a connection attempt may take unless the builder says otherwise.
pub const DEFAULT_RAW_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Starts a raw client connection to `target` (see [`RawTarget`] for the forms it takes).
pub fn connect(target: &str) -> Result<RawClientBuilder, RawTargetError> {
    Ok(RawClientBuilder {
        target: target.parse()?,
        connect_timeout: DEFAULT_RAW_CONNECT_TIMEOUT,
        retry: None,
    })
}

/// Options of a raw client connection.
#[derive(Debug, Clone)]
pub struct RawClientBuilder {
    target: RawTarget,
    connect_timeout: Duration,
    retry: Option<RetryPolicy>,
}

impl RawClientBuilder {
    /// A builder for a target already parsed.
    pub fn new(target: RawTarget) -> Self {
        RawClientBuilder {
            target,
            connect_timeout: DEFAULT_RAW_CONNECT_TIMEOUT,
            retry: None,
        }
    }

    /// How long one connection attempt (name resolution included) may take; default 10 s.
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.connect_timeout = limit;
        self
    }

    /// Retries failed attempts as `policy` says (failures it conceals are retried after its delay).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Connects (retrying as the policy says), then serves the connection with `protocol`'s raw callbacks
    /// until it ends; returns how it ended.
    pub async fn run(self, protocol: &ProtocolHandle) -> io::Result<RawClose> {
        let service = super::adopt::raw_service(protocol)?;
        let (io, mut info) = self.open().await?;
        info.protocol = protocol.name.clone();
        let conn = RawConn::unmanaged(io, info);
        Ok(service.serve(conn).await)
    }

    /// Connects as [`RawClientBuilder::run`] does and returns the stream itself, for code that reads and
    /// writes it directly.
    pub async fn connect_stream(self) -> io::Result<RawStream> {
        let (io, _) = self.open().await?;
        Ok(RawStream(io))
    }

    /// Opens the connection, retrying as the policy says.
    pub(crate) async fn open(&self) -> io::Result<(Box<dyn RawIo>, RawInfo)> {
        match &self.retry {
            Some(policy) => {
                let what = format!("raw client {}", self.target);
                policy
                    .run(&what, |_| true, || self.open_within_timeout())
                    .await
            }
            None => self.open_within_timeout().await,
        }
    }

    /// One attempt, bounded by the connect timeout.
    async fn open_within_timeout(&self) -> io::Result<(Box<dyn RawIo>, RawInfo)> {
        match tokio::time::timeout(self.connect_timeout, open_once(&self.target)).await {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("connecting to {} timed out", self.target),
            )),
        }
    }
}

/// A raw client connection's byte stream, for code that drives it itself (`AsyncRead` + `AsyncWrite`).
pub struct RawStream(Box<dyn RawIo>);

impl std::fmt::Debug for RawStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawStream")
    }
}

impl tokio::io::AsyncRead for RawStream {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for RawStream {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, data)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// One attempt: resolve (TCP) and try each address in turn.
async fn open_once(target: &RawTarget) -> io::Result<(Box<dyn RawIo>, RawInfo)> {
    match target {
        RawTarget::Unix(path) => {
            let s = tokio::net::UnixStream::connect(path).await?;
            let info = RawInfo::new(RawTransport::Unix(Some(path.clone())), "".into());
            Ok((Box::new(s), info))
        }
        RawTarget::Tcp { host, port, family } => {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), *port))
                .await?
                .filter(|a| match family {
                    Family::V4 => a.is_ipv4(),
                    Family::V6 => a.is_ipv6(),
                    _ => true,
                })
                .collect();
            let mut last = io::Error::new(
                io::ErrorKind::NotFound,
                format!("{target}: no address of the asked family"),
            );
            for addr in addrs {
                match tokio::net::TcpStream::connect(addr).await {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        let mut info = RawInfo::new(RawTransport::Tcp, "".into());
                        info.peer = Some(addr);
                        info.local = s.local_addr().ok();
                        return Ok((Box::new(s), info));
                    }
                    Err(e) => last = e,
                }
            }
            Err(last)
        }
    }
}
