//! `lws-status`: on every connect and close, every member is sent a JSON document listing the live
//! connections of the protocol on the vhost (peer address, connect time, user agent), JSON-escaped.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use lws::ws::{CloseInfo, WsCtx, WsHandle};
use lws::{Protocol, ProtocolInitError, Pvo};

use crate::json::json_str;

/// The status protocol; per-vhost state is the list of connections.
#[derive(Debug, Default)]
pub struct Status {
    conns: Mutex<Vec<Entry>>,
    /// Bumped on every change; members send when they have not seen the latest.
    version: AtomicU64,
    next_id: AtomicU64,
}

#[derive(Debug)]
struct Entry {
    id: u64,
    peer: String,
    time: u64,
    user_agent: String,
    handle: WsHandle,
}

/// Per connection: its id and the last list version it was sent.
#[derive(Debug, Default)]
pub struct StatusMember {
    id: u64,
    seen: u64,
}

impl Status {
    /// Builds the protocol; it takes no options.
    pub fn from_pvo(_pvo: &Pvo) -> Result<Status, ProtocolInitError> {
        Ok(Status::default())
    }

    fn document(&self, cx: &WsCtx<'_>) -> String {
        let conns = self.conns.lock().map(|c| {
            c.iter()
                .map(|e| {
                    let mut entry = String::from("{\"peer\":");
                    json_str(&mut entry, &e.peer);
                    let _ = write!(entry, ",\"time\":\"{}\",\"ua\":", e.time);
                    json_str(&mut entry, &e.user_agent);
                    entry.push('}');
                    entry
                })
                .collect::<Vec<_>>()
        });
        let conns = conns.unwrap_or_default();
        let mut doc = format!(
            "{{\"version\":\"lws-rs {}\",\"wss_over_h2\":\"{}\",\"hostname\":",
            env!("CARGO_PKG_VERSION"),
            u8::from(cx.info().over_h2())
        );
        json_str(&mut doc, cx.info().vhost());
        let _ = write!(
            doc,
            ",\"wsi\":\"{}\",\"conns\":[{}]}}",
            conns.len(),
            conns.join(",")
        );
        doc
    }

    fn changed(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
        if let Ok(c) = self.conns.lock() {
            c.iter().for_each(|e| e.handle.request_writable());
        }
    }
}

impl Protocol for Status {
    type Session = StatusMember;

    fn established(&self, s: &mut StatusMember, cx: &mut WsCtx<'_>) {
        s.id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let info = cx.info();
        let entry = Entry {
            id: s.id,
            peer: info
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_else(|| "unix".into()),
            time: info
                .connected_at()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            user_agent: info.user_agent().unwrap_or_default().to_string(),
            handle: cx.handle(),
        };
        if let Ok(mut c) = self.conns.lock() {
            c.push(entry);
        }
        self.changed();
    }

    fn writable(&self, s: &mut StatusMember, cx: &mut WsCtx<'_>) {
        let version = self.version.load(Ordering::Acquire);
        if s.seen != version {
            s.seen = version;
            let doc = self.document(cx);
            cx.send_text(&doc);
        }
    }

    fn closed(&self, s: &mut StatusMember, _close: &CloseInfo) {
        if let Ok(mut c) = self.conns.lock() {
            c.retain(|e| e.id != s.id);
        }
        self.changed();
    }
}
