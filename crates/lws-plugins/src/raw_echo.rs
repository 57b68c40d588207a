//! `lws-raw-echo` (an lws-rs addition): a raw protocol that sends back every byte it receives and passes a
//! half-close on, for raw vhosts, fallbacks and their tests (`nc`, `socat`).

use lws::raw::{RawCtx, RawProtocol};
use lws::{ProtocolHandle, ProtocolInitError, Pvo};

/// Echoes raw bytes; when the peer shuts its side, shuts ours once the echo is written.
#[derive(Debug, Default)]
pub struct RawEcho;

impl RawEcho {
    /// Builds the protocol handle; it takes no options.
    pub fn handle(name: &str, _pvo: &Pvo) -> Result<ProtocolHandle, ProtocolInitError> {
        Ok(ProtocolHandle::raw(name, RawEcho))
    }
}

impl RawProtocol for RawEcho {
    type Session = ();

    fn rx(&self, _: &mut (), cx: &mut RawCtx<'_>, data: &[u8]) {
        cx.send(data);
        // Echo no faster than the peer reads: stop reading while its queue is full.
        if cx.choked() {
            cx.rx_flow(false);
            cx.request_writable();
        }
    }

    fn writable(&self, _: &mut (), cx: &mut RawCtx<'_>) {
        cx.rx_flow(true);
    }

    fn peer_shutdown(&self, _: &mut (), cx: &mut RawCtx<'_>) {
        cx.shutdown_write();
    }
}
