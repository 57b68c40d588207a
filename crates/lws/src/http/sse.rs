//! Server-Sent Events (the `text/event-stream` format of the HTML Living Standard, §9.2), over HTTP/1.1
//! and HTTP/2 alike, built on the body model ([`Body`], [`BodySource`]): an answer made with [`Response::sse`] is
//! a streamed body fed through an [`EventSender`] from any task.
//!
//! - Events leave as soon as they are sent: the drivers write every frame a body yields at once, so one
//!   small event reaches the client without waiting for more.
//! - The stream lasts as long as the client stays. No idle timer of either driver runs while a response
//!   is being sent (the HTTP/1 engine times only the peer's input between requests, the HTTP/2 engine
//!   goes idle only without open streams), so a quiet stream is never cut. A client that goes away (its
//!   connection closes, an HTTP/2 reset, an HTTP/1 client that closes its sending side) drops the body, and
//!   the next [`EventSender::send`] fails with [`ClientGone`].
//! - A keep-alive comment ([`Response::sse_with_keep_alive`]) keeps intermediaries that cut quiet
//!   connections from doing so, and finds a vanished client (no FIN) through the failing write.
//! - A reconnecting browser sends the id of the last event it saw: [`Request::last_event_id`].
//!
//! [`EventRing`](super::sse_ring::EventRing) lets many clients follow one producer without buffering for
//! a slow one.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::sync::mpsc;
use tokio::time::Sleep;

use super::body::{Body, BodyError, BodySource, ClientGone, Frame};
use super::{Request, Response};

/// The longest `Last-Event-ID` value [`Request::last_event_id`] returns; a longer one is ignored.
pub const MAX_LAST_EVENT_ID: usize = 1024;

/// What the keep-alive comment of [`Response::sse_with_keep_alive`] looks like on the wire.
const KEEP_ALIVE: &[u8] = b": keep-alive\n";

impl Response {
    /// A Server-Sent Events answer: `200`, `content-type: text/event-stream`, `cache-control: no-cache` and
    /// `x-accel-buffering: no` (asks nginx-style proxies not to hold events back), with a body fed by the
    /// returned [`EventSender`]. `capacity` events may wait in the queue; beyond that `send` waits for the
    /// client. Dropping every sender ends the stream normally.
    pub fn sse(capacity: usize) -> (Response, EventSender) {
        Response::sse_stream(capacity, None)
    }

    /// [`Response::sse`] that sends a comment line (`: keep-alive`) whenever no event went out for `every`,
    /// so proxies with idle timeouts keep the connection and a client that vanished without closing is
    /// found by the failing write.
    pub fn sse_with_keep_alive(capacity: usize, every: Duration) -> (Response, EventSender) {
        Response::sse_stream(capacity, Some(every))
    }

    fn sse_stream(capacity: usize, keep_alive: Option<Duration>) -> (Response, EventSender) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let stream = EventStream {
            rx,
            keep_alive,
            timer: None,
        };
        let response = Response::new(200)
            .header("content-type", "text/event-stream")
            .header("cache-control", "no-cache")
            .header("x-accel-buffering", "no")
            .with_body(Body::from_source(stream));
        (response, EventSender { tx })
    }
}

impl Request {
    /// The `Last-Event-ID` a reconnecting `EventSource` sends: the id of the last event it received.
    /// `None` when absent, empty, longer than [`MAX_LAST_EVENT_ID`], not UTF-8, or holding a NUL (which no
    /// event id may contain).
    pub fn last_event_id(&self) -> Option<&str> {
        let raw = self.head.header("last-event-id")?;
        if raw.is_empty() || raw.len() > MAX_LAST_EVENT_ID || raw.contains(&0) {
            return None;
        }
        std::str::from_utf8(raw).ok()
    }
}

/// One event. Build it with [`Event::data`] (or [`Event::new`] for an event without data, e.g. only a
/// `retry`), then add a type, an id or a retry delay.
///
/// ```
/// use lws::http::sse::Event;
/// let e = Event::data("line 1\nline 2").event("tick")?.id("7")?;
/// assert_eq!(&e.to_bytes()[..], b"event: tick\nid: 7\ndata: line 1\ndata: line 2\n\n");
/// # Ok::<(), lws::http::sse::FieldError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    event: Option<Cow<'static, str>>,
    id: Option<String>,
    data: Option<String>,
    retry: Option<Duration>,
}

impl Event {
    /// An event with no field set (it sends only the fields added later).
    pub fn new() -> Event {
        Event::default()
    }

    /// An event carrying `data`; each of its lines (split at CR LF, CR or LF) becomes a `data:` line, and
    /// the browser joins them back with LF.
    pub fn data(data: impl Into<String>) -> Event {
        Event {
            data: Some(data.into()),
            ..Event::default()
        }
    }

    /// Sets the event type (`event:`), which selects the browser's listener (`message` when unset).
    /// A type with CR or LF is refused: it would end the field early and inject others.
    pub fn event(mut self, name: impl Into<Cow<'static, str>>) -> Result<Event, FieldError> {
        let name = name.into();
        if name.bytes().any(|b| b == b'\r' || b == b'\n') {
            return Err(FieldError::EventLineBreak);
        }
        self.event = Some(name);
        Ok(self)
    }

    /// Sets the id (`id:`) the browser sends back as `Last-Event-ID` when it reconnects. An id with NUL,
    /// CR or LF is refused (browsers ignore an id with NUL; a line break would inject fields).
    pub fn id(mut self, id: impl Into<String>) -> Result<Event, FieldError> {
        let id = id.into();
        if id.bytes().any(|b| b == 0 || b == b'\r' || b == b'\n') {
            return Err(FieldError::IdForbiddenByte);
        }
        self.id = Some(id);
        Ok(self)
    }

    /// Sets the reconnection delay the browser uses from now on (`retry:`, in milliseconds).
    pub fn retry(mut self, delay: Duration) -> Event {
        self.retry = Some(delay);
        self
    }

    /// The event in wire form, ending with the blank line that dispatches it.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.data.as_ref().map_or(0, String::len) + 32);
        if let Some(retry) = self.retry {
            out.put_slice(format!("retry: {}\n", retry.as_millis()).as_bytes());
        }
        if let Some(event) = &self.event {
            field(&mut out, "event", event);
        }
        if let Some(id) = &self.id {
            field(&mut out, "id", id);
        }
        if let Some(data) = &self.data {
            for line in lines(data) {
                field(&mut out, "data", line);
            }
        }
        out.put_u8(b'\n');
        out.freeze()
    }
}

/// An event field that would break the stream's framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldError {
    /// An event type containing CR or LF.
    EventLineBreak,
    /// An id containing NUL, CR or LF.
    IdForbiddenByte,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FieldError::EventLineBreak => "an event type may not contain CR or LF",
            FieldError::IdForbiddenByte => "an event id may not contain NUL, CR or LF",
        })
    }
}

impl std::error::Error for FieldError {}

/// The producing end of an event stream; clone it to send from several tasks.
#[derive(Debug, Clone)]
pub struct EventSender {
    tx: mpsc::Sender<Bytes>,
}

impl EventSender {
    /// Queues an event, waiting while the queue is full. Fails when the client is gone.
    pub async fn send(&self, event: &Event) -> Result<(), ClientGone> {
        self.send_bytes(event.to_bytes()).await
    }

    /// Queues a comment (`: text`, one comment line per line of `text`), which browsers ignore: useful
    /// to keep a quiet connection alive or to show something to a human reading the raw stream.
    pub async fn comment(&self, text: &str) -> Result<(), ClientGone> {
        let mut out = BytesMut::with_capacity(text.len() + 3);
        for line in lines(text) {
            if line.is_empty() {
                out.put_slice(b":\n");
            } else {
                out.put_slice(b": ");
                out.put_slice(line.as_bytes());
                out.put_u8(b'\n');
            }
        }
        self.send_bytes(out.freeze()).await
    }

    /// Whether the client is gone (a `send` would fail).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Waits until the client is gone, e.g. to stop a producer that has nothing to send for a while.
    pub async fn closed(&self) {
        self.tx.closed().await;
    }

    /// Queues bytes already in wire form (whole events).
    pub(crate) async fn send_bytes(&self, bytes: Bytes) -> Result<(), ClientGone> {
        self.tx.send(bytes).await.map_err(|_| ClientGone)
    }
}

/// The body of an SSE response: events from the channel, and a keep-alive comment after each quiet
/// interval. Polled by the connection only when it has room, so a slow client fills the channel and
/// slows the producer instead of growing a buffer.
struct EventStream {
    rx: mpsc::Receiver<Bytes>,
    keep_alive: Option<Duration>,
    /// Armed at the last frame plus `keep_alive`, created at the first poll.
    timer: Option<Pin<Box<Sleep>>>,
}

impl EventStream {
    /// Restarts the quiet interval: something just went out.
    fn rearm(&mut self) {
        let Some(every) = self.keep_alive else { return };
        let at = tokio::time::Instant::now() + every;
        match self.timer.as_mut() {
            Some(t) => t.as_mut().reset(at),
            None => self.timer = Some(Box::pin(tokio::time::sleep_until(at))),
        }
    }
}

impl BodySource for EventStream {
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame, BodyError>>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(bytes)) => {
                self.rearm();
                return Poll::Ready(Some(Ok(Frame::Data(bytes))));
            }
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        if self.keep_alive.is_some() && self.timer.is_none() {
            self.rearm();
        }
        let fired = self
            .timer
            .as_mut()
            .is_some_and(|t| t.as_mut().poll(cx).is_ready());
        if fired {
            self.rearm();
            return Poll::Ready(Some(Ok(Frame::Data(Bytes::from_static(KEEP_ALIVE)))));
        }
        Poll::Pending
    }

    fn open_ended(&self) -> bool {
        true
    }
}

/// Appends `name: value\n`.
fn field(out: &mut BytesMut, name: &str, value: &str) {
    out.put_slice(name.as_bytes());
    out.put_slice(b": ");
    out.put_slice(value.as_bytes());
    out.put_u8(b'\n');
}

/// The lines of `text` split at CR LF, CR or LF, the three line ends of the event-stream format; a text
/// ending in a line end has an empty last line, as the format reads it.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let t = rest?;
        match t.find(['\r', '\n']) {
            None => {
                rest = None;
                Some(t)
            }
            Some(i) => {
                let skip = if t[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&t[i + skip..]);
                Some(&t[..i])
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_lines_are_split_at_every_line_end() {
        let got: Vec<_> = lines("a\r\nb\rc\nd").collect();
        assert_eq!(got, ["a", "b", "c", "d"]);
        assert_eq!(lines("x\n").collect::<Vec<_>>(), ["x", ""]);
        assert_eq!(lines("").collect::<Vec<_>>(), [""]);
        let e = Event::data("one\ntwo\r\n three").to_bytes();
        assert_eq!(&e[..], b"data: one\ndata: two\ndata:  three\n\n");
    }

    #[test]
    fn every_field_in_order() {
        let e = Event::data("x")
            .event("update")
            .unwrap()
            .id("42")
            .unwrap()
            .retry(Duration::from_millis(2500));
        assert_eq!(
            &e.to_bytes()[..],
            b"retry: 2500\nevent: update\nid: 42\ndata: x\n\n"
        );
        assert_eq!(&Event::new().to_bytes()[..], b"\n");
    }

    #[test]
    fn fields_that_break_framing_are_refused() {
        for bad in ["a\nb", "a\rb", "a\0b"] {
            assert_eq!(Event::new().id(bad), Err(FieldError::IdForbiddenByte));
        }
        assert_eq!(Event::new().event("x\ny"), Err(FieldError::EventLineBreak));
        assert!(Event::new().id("").is_ok());
    }

    fn poll(s: &mut Pin<Box<EventStream>>) -> Poll<Option<Result<Frame, BodyError>>> {
        s.as_mut()
            .poll_frame(&mut Context::from_waker(std::task::Waker::noop()))
    }

    fn stream(keep_alive: Option<Duration>) -> (Pin<Box<EventStream>>, EventSender) {
        let (tx, rx) = mpsc::channel(4);
        let s = EventStream {
            rx,
            keep_alive,
            timer: None,
        };
        (Box::pin(s), EventSender { tx })
    }

    #[tokio::test(start_paused = true)]
    async fn a_comment_keeps_a_quiet_stream_alive() {
        let (mut s, tx) = stream(Some(Duration::from_secs(10)));
        assert!(poll(&mut s).is_pending());
        tokio::time::advance(Duration::from_secs(9)).await;
        assert!(poll(&mut s).is_pending());
        tx.send(&Event::data("e")).await.unwrap();
        assert!(
            matches!(poll(&mut s), Poll::Ready(Some(Ok(Frame::Data(d)))) if &d[..] == b"data: e\n\n")
        );
        // The event restarted the quiet interval.
        tokio::time::advance(Duration::from_secs(9)).await;
        assert!(poll(&mut s).is_pending());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(
            matches!(poll(&mut s), Poll::Ready(Some(Ok(Frame::Data(d)))) if &d[..] == KEEP_ALIVE)
        );
        assert!(poll(&mut s).is_pending());
        drop(tx);
        assert!(matches!(poll(&mut s), Poll::Ready(None)));
    }

    #[tokio::test(start_paused = true)]
    async fn without_keep_alive_a_quiet_stream_sends_nothing() {
        let (mut s, _tx) = stream(None);
        tokio::time::advance(Duration::from_secs(3600)).await;
        assert!(poll(&mut s).is_pending());
        assert!(s.open_ended());
    }

    #[tokio::test]
    async fn comments_and_a_gone_client() {
        let (mut s, tx) = stream(None);
        tx.comment("hello\nthere").await.unwrap();
        tx.comment("").await.unwrap();
        assert!(
            matches!(poll(&mut s), Poll::Ready(Some(Ok(Frame::Data(d)))) if &d[..] == b": hello\n: there\n")
        );
        assert!(matches!(poll(&mut s), Poll::Ready(Some(Ok(Frame::Data(d)))) if &d[..] == b":\n"));
        drop(s);
        assert!(tx.is_closed());
        assert_eq!(tx.send(&Event::data("x")).await, Err(ClientGone));
        let mut closed = Box::pin(tx.closed());
        assert!(closed
            .as_mut()
            .poll(&mut Context::from_waker(std::task::Waker::noop()))
            .is_ready());
    }
}
