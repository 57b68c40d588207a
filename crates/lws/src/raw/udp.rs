//! The raw driver for adopted UDP sockets: each datagram goes to the protocol with its sender's address;
//! datagrams the protocol sends go out as the socket takes them (a bounded queue holds those it could not
//! take at once).

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::ReadBuf;
use tokio::net::UdpSocket;

use super::ctx::{apply, CommandQueue, Requests, SendQueue, MAX_QUEUED_DATAGRAMS};
use super::service::DynRaw;
use super::{RawClose, RawCtx, RawInfo};
use crate::conn::ConnShared;

/// Largest datagram read (the largest UDP payload over IPv4).
const MAX_DATAGRAM: usize = 65_507;
/// Datagrams handled per wake-up before yielding, so that a flood cannot starve the thread's other tasks.
const BATCH: usize = 64;

macro_rules! cx {
    ($d:expr) => {
        RawCtx {
            out: &mut $d.out,
            requests: &mut $d.requests,
            info: &$d.info,
            shared: &$d.shared,
            commands: &mut $d.commands,
            members: None,
            direct: None,
            datagram: true,
        }
    };
}

/// Serves an adopted UDP socket with `protocol` until the protocol closes it.
pub(crate) async fn serve(socket: UdpSocket, protocol: Arc<dyn DynRaw>, info: RawInfo) -> RawClose {
    let mut d = Udp {
        socket,
        session: protocol.new_session(),
        protocol,
        info: Arc::new(info),
        shared: Arc::new(ConnShared::new(0)),
        out: SendQueue::default(),
        requests: Requests::default(),
        commands: CommandQueue::default(),
        user_timer: None,
    };
    d.protocol.established(d.session.as_mut(), &mut cx!(d));
    let timer = tokio::time::sleep(Duration::from_secs(3600));
    tokio::pin!(timer);
    let close = std::future::poll_fn(|cx| d.poll(cx, timer.as_mut())).await;
    d.commands = CommandQueue::default();
    d.protocol.closed(d.session.as_mut(), &close);
    close
}

struct Udp {
    socket: UdpSocket,
    protocol: Arc<dyn DynRaw>,
    session: Box<dyn std::any::Any + Send>,
    info: Arc<RawInfo>,
    shared: Arc<ConnShared>,
    out: SendQueue,
    requests: Requests,
    commands: CommandQueue,
    user_timer: Option<Instant>,
}

impl Udp {
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        mut timer: std::pin::Pin<&mut tokio::time::Sleep>,
    ) -> Poll<RawClose> {
        self.shared.register(cx.waker());
        let mut handled = 0;
        loop {
            // Commands wait in their channel while the datagram queue is full, so handles' sends wait.
            if let Some(rx) = self.commands.receiver() {
                while self.out.datagrams.len() < MAX_QUEUED_DATAGRAMS {
                    let Poll::Ready(Some(cmd)) = rx.poll_recv(cx) else {
                        break;
                    };
                    apply(&mut self.out, &mut self.requests, cmd);
                }
            }
            if std::mem::take(&mut self.requests.writable) | self.shared.take_writable() {
                self.protocol
                    .writable(self.session.as_mut(), &mut cx!(self));
            }
            if let Some(t) = self.requests.timer.take() {
                self.user_timer = t.map(|d| Instant::now() + d);
                if let Some(at) = self.user_timer {
                    timer.as_mut().reset(at.into());
                }
            }
            if let Err(e) = self.send_queued(cx) {
                return Poll::Ready(RawClose {
                    by_peer: false,
                    error: Some(e.to_string()),
                });
            }
            if self.requests.close && self.out.is_empty() {
                return Poll::Ready(RawClose {
                    by_peer: false,
                    error: None,
                });
            }
            if self.user_timer.is_some() && std::future::Future::poll(timer.as_mut(), cx).is_ready()
            {
                self.user_timer = None;
                self.protocol.timer(self.session.as_mut(), &mut cx!(self));
                continue;
            }
            if self.shared.rx_paused() || self.requests.close {
                return Poll::Pending;
            }
            if handled == BATCH {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            match self.poll_datagram(cx) {
                Poll::Ready(true) => handled += 1,
                Poll::Ready(false) => {}
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Receives one datagram and hands it over; `false` when receiving failed (an ICMP error reported by
    /// the kernel for an earlier send: not fatal for a UDP socket).
    fn poll_datagram(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        let Udp {
            socket,
            protocol,
            session,
            out,
            requests,
            info,
            shared,
            commands,
            ..
        } = self;
        crate::transport::with_read_buf(|buf| {
            let n = buf.len().min(MAX_DATAGRAM);
            let mut rb = ReadBuf::new(&mut buf[..n]);
            match std::task::ready!(socket.poll_recv_from(cx, &mut rb)) {
                Ok(from) => {
                    let mut rcx = RawCtx {
                        out,
                        requests,
                        info,
                        shared,
                        commands,
                        members: None,
                        direct: None,
                        datagram: true,
                    };
                    protocol.datagram(session.as_mut(), &mut rcx, rb.filled(), from);
                    Poll::Ready(true)
                }
                Err(e) => {
                    tracing::debug!("raw udp: {e}");
                    Poll::Ready(false)
                }
            }
        })
    }

    /// Sends queued datagrams while the socket takes them.
    fn send_queued(&mut self, cx: &mut Context<'_>) -> std::io::Result<()> {
        while let Some((to, data)) = self.out.datagrams.front() {
            let sent = match to {
                Some(to) => self.socket.poll_send_to(cx, data, *to),
                None => self.socket.poll_send(cx, data),
            };
            match sent {
                Poll::Pending => break,
                Poll::Ready(Ok(_)) => {}
                // No destination (an unconnected socket asked to `send`) or a refused one: drop this
                // datagram, as UDP would lose it anyway.
                Poll::Ready(Err(e)) if e.kind() != std::io::ErrorKind::OutOfMemory => {
                    tracing::debug!("raw udp send: {e}");
                }
                Poll::Ready(Err(e)) => return Err(e),
            }
            self.out.datagrams.pop_front();
        }
        Ok(())
    }
}
