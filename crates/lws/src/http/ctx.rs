//! What a protocol's HTTP callbacks get: the request, and the ways to answer it.

use tokio::sync::oneshot;

use super::request_body::{self, BodyPipe, RequestBody};
use super::{Request, Response};

/// The per-callback view of one request: read it, answer it now, or defer the answer.
pub struct HttpCtx<'a> {
    pub(crate) request: &'a Request,
    pub(crate) reply: &'a mut Reply,
    pub(crate) body_limit: &'a mut u64,
    pub(crate) pipe: &'a mut Option<BodyPipe>,
}

/// How a request is being answered.
#[derive(Default)]
pub(crate) enum Reply {
    /// Not answered yet.
    #[default]
    Pending,
    /// Answered; the runtime sends it.
    Ready(Response),
    /// Another task will answer through a [`Responder`].
    Deferred(oneshot::Receiver<Response>),
    /// The runtime answers with what this future gives, polled by the connection's own task (no task
    /// spawned, no channel: the reverse proxy's requests).
    Future(std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>),
    /// Answered by the runtime itself, already in wire form.
    Wire(super::outgoing::Outgoing),
    /// Taken by the runtime.
    Sent,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Reply::Pending => "Pending",
            Reply::Ready(_) => "Ready",
            Reply::Deferred(_) => "Deferred",
            Reply::Future(_) => "Future",
            Reply::Wire(_) => "Wire",
            Reply::Sent => "Sent",
        })
    }
}

impl Reply {
    /// Whether the answer is on its way from elsewhere (a [`Responder`] or a future).
    pub(crate) fn is_awaited(&self) -> bool {
        matches!(self, Reply::Deferred(_) | Reply::Future(_))
    }

    /// Polls an awaited answer; a [`Responder`] dropped unused answers 500.
    pub(crate) fn poll_answer(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Response> {
        use std::future::Future;
        match self {
            Reply::Deferred(rx) => std::pin::Pin::new(rx)
                .poll(cx)
                .map(|r| r.unwrap_or_else(|_| Response::error(500))),
            Reply::Future(f) => f.as_mut().poll(cx),
            _ => std::task::Poll::Pending,
        }
    }
}

impl<'a> HttpCtx<'a> {
    /// The view of one exchange's request and answer that a callback gets.
    pub(crate) fn of(
        request: &'a Request,
        reply: &'a mut Reply,
        body_limit: &'a mut u64,
        pipe: &'a mut Option<BodyPipe>,
    ) -> HttpCtx<'a> {
        HttpCtx {
            request,
            reply,
            body_limit,
            pipe,
        }
    }
}

impl HttpCtx<'_> {
    /// The request being handled.
    pub fn request(&self) -> &Request {
        self.request
    }

    /// Answers the request. The body, if the request has one and it was not read yet, is discarded or the
    /// connection is closed after the response.
    pub fn respond(&mut self, response: Response) {
        if matches!(self.reply, Reply::Pending) {
            *self.reply = Reply::Ready(response);
        }
    }

    /// Whether an answer was given (or deferred) already.
    pub fn responded(&self) -> bool {
        !matches!(self.reply, Reply::Pending)
    }

    /// Promises an answer from elsewhere (another task, a thread pool); the connection waits for it.
    /// Dropping the [`Responder`] unused answers 500.
    pub fn defer(&mut self) -> Responder {
        let (tx, rx) = oneshot::channel();
        if matches!(self.reply, Reply::Pending) {
            *self.reply = Reply::Deferred(rx);
        }
        Responder { tx }
    }

    /// Takes the request body to read at the handler's own pace, from any task, instead of through
    /// `http_body` callbacks; `None` when the request has no body or it was taken already. The connection
    /// reads the body only as fast as the returned [`RequestBody`] is read. Answer with [`HttpCtx::defer`]
    /// (or at once) as usual; the body limit ([`HttpCtx::set_body_limit`]) still applies.
    pub fn take_body(&mut self) -> Option<RequestBody> {
        use lws_proto::http1::BodyKind;
        let declared = match self.request.head.body_kind() {
            BodyKind::Empty => return None,
            BodyKind::Length(n) => Some(n),
            _ => None,
        };
        if self.pipe.is_some() {
            return None;
        }
        let (pipe, body) = request_body::pipe(declared);
        *self.pipe = Some(pipe);
        Some(body)
    }

    /// Sets the largest request body this request may carry (default 1 MiB); a larger one is answered 413.
    pub fn set_body_limit(&mut self, limit: u64) {
        *self.body_limit = limit;
    }
}

/// Answers a request later, from any task.
#[derive(Debug)]
pub struct Responder {
    tx: oneshot::Sender<Response>,
}

impl Responder {
    /// Sends the answer. Returns the response back if the connection is gone.
    pub fn respond(self, response: Response) -> Result<(), Response> {
        self.tx.send(response)
    }
}
