//! `lws-mirror-protocol`: a shared world. Each connection joins the mirror instance named by `?mirror=`
//! (at most 3 instances per vhost); every message a member sends goes to every member of its instance
//! through a 32-slot ring with a read position per member. Reading pauses for all members while fewer than
//! 4 slots are free and resumes at 21; a member that keeps the ring full for 3 s is dropped. Compression is
//! refused, as in libwebsockets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use lws::ws::{WsCtx, WsHandle, WsMessage, WsOptions};
use lws::{Protocol, ProtocolInitError, Pvo, Request};

/// Slots in an instance's ring.
const RING: u64 = 32;
/// Pause reading when fewer slots than this are free.
const PAUSE_BELOW: u64 = 4;
/// Resume reading once this many slots are free.
const RESUME_AT: u64 = 21;
/// Instances per vhost.
const MAX_INSTANCES: usize = 3;
/// How long the slowest member may keep the ring full.
const LAGGARD_GRACE: Duration = Duration::from_secs(3);

/// The mirror protocol; per-vhost state is the set of live instances.
#[derive(Debug, Default)]
pub struct Mirror {
    instances: Mutex<HashMap<String, Arc<Instance>>>,
}

/// One shared world.
#[derive(Debug, Default)]
struct Instance {
    state: Mutex<Ring>,
}

#[derive(Debug, Default)]
struct Ring {
    /// Messages at positions `head - slots.len() .. head`.
    slots: std::collections::VecDeque<Bytes>,
    head: u64,
    /// Read position and handle of every member.
    members: HashMap<u64, (u64, WsHandle)>,
    next_member: u64,
    /// Since when the ring has had too few free slots.
    full_since: Option<Instant>,
    paused: bool,
}

impl Ring {
    fn slowest(&self) -> u64 {
        self.members
            .values()
            .map(|(t, _)| *t)
            .min()
            .unwrap_or(self.head)
    }

    fn free(&self) -> u64 {
        RING - (self.head - self.slowest())
    }

    /// Drops what every member has read.
    fn trim(&mut self) {
        let keep_from = self.slowest();
        while self.head - (self.slots.len() as u64) < keep_from {
            self.slots.pop_front();
        }
    }
}

/// Per connection: which instance and member it is.
#[derive(Debug, Default)]
pub struct MirrorMember {
    instance: Option<(String, Arc<Instance>)>,
    id: u64,
}

impl Mirror {
    /// Builds the protocol; it takes no options.
    pub fn from_pvo(_pvo: &Pvo) -> Result<Mirror, ProtocolInitError> {
        Ok(Mirror::default())
    }

    fn instance(&self, name: &str) -> Option<Arc<Instance>> {
        let mut all = self.instances.lock().ok()?;
        if let Some(i) = all.get(name) {
            return Some(i.clone());
        }
        if all.len() >= MAX_INSTANCES {
            return None;
        }
        let i = Arc::new(Instance::default());
        all.insert(name.to_string(), i.clone());
        Some(i)
    }
}

impl Protocol for Mirror {
    type Session = MirrorMember;

    fn ws_options(&self) -> WsOptions {
        WsOptions {
            permessage_deflate: false,
            ..WsOptions::default()
        }
    }

    fn accept_upgrade(&self, request: &Request) -> Result<(), u16> {
        let name = request.arg("mirror").unwrap_or_default();
        let all = self.instances.lock().map_err(|_| 500u16)?;
        if all.contains_key(&name) || all.len() < MAX_INSTANCES {
            Ok(())
        } else {
            Err(503)
        }
    }

    fn established(&self, s: &mut MirrorMember, cx: &mut WsCtx<'_>) {
        let name = cx.info().arg("mirror").unwrap_or_default();
        let Some(instance) = self.instance(&name) else {
            cx.close(1013, "too many mirror instances");
            return;
        };
        if let Ok(mut ring) = instance.state.lock() {
            s.id = ring.next_member;
            ring.next_member += 1;
            let head = ring.head;
            ring.members.insert(s.id, (head, cx.handle()));
        }
        s.instance = Some((name, instance));
    }

    fn message(&self, s: &mut MirrorMember, cx: &mut WsCtx<'_>, msg: WsMessage<'_>) {
        let Some((_, instance)) = &s.instance else {
            return;
        };
        let Ok(mut ring) = instance.state.lock() else {
            return;
        };
        if ring.free() == 0 {
            return; // no slot: the message is dropped, as libwebsockets does
        }
        ring.slots.push_back(Bytes::copy_from_slice(msg.data));
        ring.head += 1;
        if ring.free() < PAUSE_BELOW && !ring.paused {
            ring.paused = true;
            ring.full_since.get_or_insert_with(Instant::now);
            cx.rx_flow_all(false);
            // Nobody can send while paused, so a timer (not the next message) must catch a stuck member.
            cx.set_timer(LAGGARD_GRACE);
        }
        drop_laggards(&mut ring);
        cx.request_writable_all();
    }

    fn writable(&self, s: &mut MirrorMember, cx: &mut WsCtx<'_>) {
        let Some((_, instance)) = &s.instance else {
            return;
        };
        let Ok(mut ring) = instance.state.lock() else {
            return;
        };
        let Some(&(mut tail, _)) = ring.members.get(&s.id) else {
            return;
        };
        let base = ring.head - ring.slots.len() as u64;
        while tail < ring.head && !cx.choked() {
            if let Some(m) = ring.slots.get((tail - base) as usize) {
                cx.send_text(std::str::from_utf8(m).unwrap_or_default());
            }
            tail += 1;
        }
        if let Some(entry) = ring.members.get_mut(&s.id) {
            entry.0 = tail;
        }
        ring.trim();
        if ring.paused && ring.free() >= RESUME_AT {
            ring.paused = false;
            ring.full_since = None;
            cx.rx_flow_all(true);
        }
        if tail < ring.head {
            cx.request_writable();
        }
    }

    fn timer(&self, s: &mut MirrorMember, cx: &mut WsCtx<'_>) {
        let Some((_, instance)) = &s.instance else {
            return;
        };
        let Ok(mut ring) = instance.state.lock() else {
            return;
        };
        if ring.paused {
            drop_laggards(&mut ring);
            cx.set_timer(LAGGARD_GRACE);
        }
    }

    fn closed(&self, s: &mut MirrorMember, _close: &lws::ws::CloseInfo) {
        let Some((name, instance)) = s.instance.take() else {
            return;
        };
        let empty = match instance.state.lock() {
            Ok(mut ring) => {
                ring.members.remove(&s.id);
                ring.trim();
                if ring.paused && ring.free() >= RESUME_AT {
                    ring.paused = false;
                    ring.full_since = None;
                    for (_, h) in ring.members.values() {
                        h.request_writable();
                    }
                }
                ring.members.is_empty()
            }
            Err(_) => false,
        };
        if empty {
            if let Ok(mut all) = self.instances.lock() {
                all.remove(&name);
            }
        }
    }
}

/// Closes the slowest members once the ring has stayed full for the grace period.
fn drop_laggards(ring: &mut Ring) {
    let Some(since) = ring.full_since else { return };
    if since.elapsed() < LAGGARD_GRACE {
        return;
    }
    let slowest = ring.slowest();
    for (tail, handle) in ring.members.values() {
        if *tail == slowest {
            let _ = handle.try_close(1008, "too slow");
        }
    }
    ring.full_since = Some(Instant::now());
}
