//! Reaching a server: resolving its name, opening TCP, and for an [`Origin`] the TLS handshake whose ALPN
//! answer decides between HTTP/1.1 and HTTP/2. Shared by the WebSocket and the HTTP client, which differ
//! only in what they speak once connected.

use std::io;
use std::time::Duration;

use tokio::net::TcpStream;

use super::error::ClientError;
use super::origin::{H2Mode, Origin};
use super::transport::Transport;

/// Default [`WsClientBuilder::connect_timeout`](super::WsClientBuilder::connect_timeout) and
/// [`HttpRequestBuilder::connect_timeout`](super::HttpRequestBuilder::connect_timeout): 20 s, as
/// libwebsockets' connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// Resolves `host` (unless it is an IP literal) and connects to its addresses in order.
pub(crate) async fn connect_tcp(host: &str, port: u16) -> Result<TcpStream, ClientError> {
    let addrs: Vec<std::net::SocketAddr> = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![(ip, port).into()],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(ClientError::Dns)?
            .collect(),
    };
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => ClientError::Connect(e),
        None => ClientError::Dns(io::Error::new(
            io::ErrorKind::NotFound,
            "the host has no address",
        )),
    })
}

/// Resolves, connects, and runs TLS for `https` (offering `h2` when the origin allows it); says whether the
/// connection speaks HTTP/2 from here on.
pub(crate) async fn connect_transport(origin: &Origin) -> Result<(Transport, bool), ClientError> {
    if let Some(path) = &origin.unix {
        let s = tokio::net::UnixStream::connect(path)
            .await
            .map_err(ClientError::Connect)?;
        return Ok((Transport::Unix(s), origin.h2 == H2Mode::PriorKnowledge));
    }
    let tcp = connect_tcp(&origin.host, origin.port).await?;
    if origin.tls {
        #[cfg(feature = "tls")]
        {
            let offer = origin.h2 != H2Mode::Off;
            let tls = super::tls::handshake(tcp, &origin.host, &origin.trust, offer).await?;
            let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
            Ok((Transport::Tls(Box::new(tls)), h2))
        }
        #[cfg(not(feature = "tls"))]
        {
            drop(tcp);
            Err(ClientError::TlsUnavailable)
        }
    } else {
        Ok((Transport::Plain(tcp), origin.h2 == H2Mode::PriorKnowledge))
    }
}
