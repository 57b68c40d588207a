//! `dumb-increment-protocol`: every 50 ms each connection is sent its counter as text, then the counter
//! goes up; `reset\n` zeroes it, `closeme\n` makes the server close with 1001 "seeya", and messages under
//! 6 bytes are ignored (libwebsockets' test-server protocol, same wire behaviour).

use std::time::Duration;

use lws::ws::{WsCtx, WsMessage};
use lws::{Protocol, ProtocolInitError, Pvo};

/// How often the counter is sent.
const PERIOD: Duration = Duration::from_millis(50);

/// The dumb-increment protocol (no options).
#[derive(Debug, Clone, Default)]
pub struct DumbIncrement;

/// Per connection: the counter.
#[derive(Debug, Default)]
pub struct Counter {
    number: u64,
}

impl DumbIncrement {
    /// Builds the protocol; it takes no options.
    pub fn from_pvo(_pvo: &Pvo) -> Result<DumbIncrement, ProtocolInitError> {
        Ok(DumbIncrement)
    }
}

impl Protocol for DumbIncrement {
    type Session = Counter;

    fn established(&self, s: &mut Counter, cx: &mut WsCtx<'_>) {
        s.number = 0;
        cx.set_timer(PERIOD);
    }

    fn timer(&self, _s: &mut Counter, cx: &mut WsCtx<'_>) {
        cx.request_writable();
        cx.set_timer(PERIOD);
    }

    fn writable(&self, s: &mut Counter, cx: &mut WsCtx<'_>) {
        cx.send_text(&s.number.to_string());
        s.number += 1;
    }

    fn message(&self, s: &mut Counter, cx: &mut WsCtx<'_>, msg: WsMessage<'_>) {
        if msg.data.len() < 6 {
            return;
        }
        if msg.data.starts_with(b"reset\n") {
            s.number = 0;
        }
        if msg.data.starts_with(b"closeme\n") {
            cx.close(1001, "seeya");
        }
    }
}
