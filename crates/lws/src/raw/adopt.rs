//! Adoption (libwebsockets' `lws_adopt_socket` and `lws_adopt_descriptor_vhost`): an already-open socket or
//! descriptor, from wherever the application got it, served by a raw protocol on the current runtime.

use std::future::Future;
use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::task::JoinHandle;

use super::protocol::RawTransport;
use super::service::{RawConn, RawIo};
use super::{RawClose, RawInfo};
use crate::ProtocolHandle;

/// An adopted connection being served on its own task. Await it for how the connection ended; dropping it
/// lets the connection run on.
#[derive(Debug)]
pub struct Adopted {
    task: JoinHandle<RawClose>,
}

impl Adopted {
    /// Ends the connection now, without flushing what is queued.
    pub fn abort(&self) {
        self.task.abort();
    }
}

impl Future for Adopted {
    type Output = RawClose;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RawClose> {
        Pin::new(&mut self.task).poll(cx).map(|r| {
            r.unwrap_or_else(|e| RawClose {
                by_peer: false,
                error: Some(format!("the connection's task ended: {e}")),
            })
        })
    }
}

/// Serves an open TCP connection with `protocol`'s raw callbacks. Must be called within a tokio runtime.
pub fn adopt_tcp(stream: std::net::TcpStream, protocol: &ProtocolHandle) -> io::Result<Adopted> {
    stream.set_nonblocking(true)?;
    let stream = tokio::net::TcpStream::from_std(stream)?;
    let _ = stream.set_nodelay(true);
    let mut info = RawInfo::new(RawTransport::Tcp, protocol.name.clone());
    info.peer = stream.peer_addr().ok();
    info.local = stream.local_addr().ok();
    adopt_stream(Box::new(stream), info, protocol)
}

/// Serves an open unix stream socket with `protocol`'s raw callbacks. Must be called within a tokio runtime.
pub fn adopt_unix(
    stream: std::os::unix::net::UnixStream,
    protocol: &ProtocolHandle,
) -> io::Result<Adopted> {
    stream.set_nonblocking(true)?;
    let stream = tokio::net::UnixStream::from_std(stream)?;
    let path = stream
        .peer_addr()
        .ok()
        .and_then(|a| a.as_pathname().map(Into::into));
    let info = RawInfo::new(RawTransport::Unix(path), protocol.name.clone());
    adopt_stream(Box::new(stream), info, protocol)
}

/// Serves a pipe, FIFO, character device or other pollable descriptor with `protocol`'s raw callbacks
/// (libwebsockets' `raw-file`). Regular files are refused: they cannot be waited on. Must be called within
/// a tokio runtime.
pub fn adopt_fd(fd: OwnedFd, protocol: &ProtocolHandle) -> io::Result<Adopted> {
    let stream = super::fd::FdStream::new(fd)?;
    let info = RawInfo::new(RawTransport::Fd, protocol.name.clone());
    adopt_stream(Box::new(stream), info, protocol)
}

/// Serves a bound UDP socket with `protocol`: each datagram arrives through
/// [`super::RawProtocol::datagram`] with its sender; [`super::RawCtx::send_to`] answers. Must be called within
/// a tokio runtime.
pub fn adopt_udp(socket: std::net::UdpSocket, protocol: &ProtocolHandle) -> io::Result<Adopted> {
    let raw = raw_part(protocol)?;
    socket.set_nonblocking(true)?;
    let socket = tokio::net::UdpSocket::from_std(socket)?;
    let mut info = RawInfo::new(RawTransport::Udp, protocol.name.clone());
    info.local = socket.local_addr().ok();
    info.peer = socket.peer_addr().ok();
    let task = tokio::spawn(super::udp::serve(socket, raw, info));
    Ok(Adopted { task })
}

fn adopt_stream(
    io: Box<dyn RawIo>,
    info: RawInfo,
    protocol: &ProtocolHandle,
) -> io::Result<Adopted> {
    let service = raw_service(protocol)?;
    let conn = RawConn::unmanaged(io, info);
    Ok(Adopted {
        task: tokio::spawn(service.serve(conn)),
    })
}

/// What serves `protocol`'s raw connections, or an error saying it has none.
pub(super) fn raw_service(
    protocol: &ProtocolHandle,
) -> io::Result<std::sync::Arc<dyn super::RawService>> {
    protocol.raw.clone().ok_or_else(|| no_raw(protocol))
}

/// The callbacks of `protocol`, for drivers that call them directly (UDP).
fn raw_part(protocol: &ProtocolHandle) -> io::Result<std::sync::Arc<dyn super::service::DynRaw>> {
    protocol
        .raw_callbacks
        .clone()
        .ok_or_else(|| no_raw(protocol))
}

fn no_raw(protocol: &ProtocolHandle) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("protocol {} has no raw callbacks", protocol.name),
    )
}
