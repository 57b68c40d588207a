//! `lws-echo`: every message comes back whole, with the same type (text or binary). Used by conformance
//! suites (Autobahn) and benchmarks.

use lws::ws::{WsCtx, WsMessage};
use lws::{Protocol, ProtocolInitError, Pvo};
use lws_proto::ws::MessageKind;

/// The echo protocol (option `max-message`: bytes, default 16 MiB).
#[derive(Debug, Clone)]
pub struct Echo {
    max_message: usize,
}

impl Echo {
    /// Builds the protocol from its options.
    pub fn from_pvo(pvo: &Pvo) -> Result<Echo, ProtocolInitError> {
        let max_message = match pvo.get("max-message") {
            Some(v) => v.parse().map_err(|_| ProtocolInitError {
                protocol: "lws-echo".into(),
                message: format!("max-message {v:?} is not a number of bytes"),
            })?,
            None => lws::ws::WsOptions::default().max_message,
        };
        Ok(Echo { max_message })
    }
}

impl Protocol for Echo {
    type Session = ();

    fn ws_options(&self) -> lws::ws::WsOptions {
        lws::ws::WsOptions {
            max_message: self.max_message,
            ..Default::default()
        }
    }

    fn message(&self, _s: &mut (), cx: &mut WsCtx<'_>, msg: WsMessage<'_>) {
        match msg.kind {
            MessageKind::Text => cx.send_text(msg.text().unwrap_or_default()),
            MessageKind::Binary => cx.send_binary(msg.data),
        }
    }
}
