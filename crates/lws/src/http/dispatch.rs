//! From a request to what answers it: vhost and mount selection, basic auth, file mounts, redirects and
//! callback protocols. Wire-independent, so HTTP/2 streams can share it.

use std::any::Any;
use std::sync::Arc;

use bytes::Bytes;

use crate::auth::{self, AuthResult};
use crate::files::{self, FileMount, FileOutcome};
use crate::mount::{self, MountKind, MountMatch};
use crate::protocol::ProtocolHandle;
use crate::vhost::{ResolvedMount, VhostInner};

use super::ctx::Reply;
pub(crate) use super::outgoing::{OutBody, Outgoing};
use super::{BodyPipe, HttpCtx, Request, Response, Trailers};
use crate::access_log::LogEntry;
use lws_proto::uri::Target;

/// Where a response's header fields go: HPACK fields, or HTTP/1 lines that may take a file's fields as one
/// framed block.
pub(crate) trait HeaderSink {
    fn field(&mut self, name: &str, value: &[u8]);

    /// The `date` field of the current second.
    fn date(&mut self) {
        super::date::with_http_date(|d| self.field("date", d.as_bytes()));
    }

    /// A file's own fields, one by one unless the sink has a faster way.
    fn file(&mut self, file: &files::FileHeaders) {
        file.for_each(|n, v| self.field(n, v));
    }
}

impl<F: FnMut(&str, &[u8])> HeaderSink for F {
    fn field(&mut self, name: &str, value: &[u8]) {
        self(name, value)
    }
}

/// Gives `sink` every header of a response besides its framing, in sending order: `date`, `server`, the
/// response's own, then the mount's and the vhost's configured headers unless the response set them.
pub(crate) fn response_headers(
    o: &Outgoing,
    ex: Option<&Exchange>,
    fallback: &VhostInner,
    server: &[u8],
    sink: &mut impl HeaderSink,
) {
    let (vhost, mount_headers): (&VhostInner, &[(String, Vec<u8>)]) = match ex {
        Some(ex) => (
            &ex.vhost,
            ex.mount()
                .map(|m| m.mount.headers.as_slice())
                .unwrap_or(&[]),
        ),
        None => (fallback, &[]),
    };
    sink.date();
    sink.field("server", server);
    for (n, v) in &o.headers {
        sink.field(n, v);
    }
    if let Some(file) = &o.file {
        sink.file(file);
    }
    let mut f = |n: &str, v: &[u8]| sink.field(n, v);
    let from_file = |name: &str| o.file.as_ref().is_some_and(|f| f.emits(name));
    let in_response =
        |name: &str| from_file(name) || o.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    for (n, v) in mount_headers {
        if !in_response(n) {
            f(n, v);
        }
    }
    for (n, v) in &vhost.headers {
        if !in_response(n) && !mount_headers.iter().any(|(m, _)| m == n) {
            f(n, v);
        }
    }
}

/// One request in flight and who answers it.
pub(crate) struct Exchange {
    pub(crate) req: Request,
    pub(crate) vhost: Arc<VhostInner>,
    pub(crate) mount: Option<usize>,
    pub(crate) handler: Option<(ProtocolHandle, Box<dyn Any + Send>)>,
    pub(crate) reply: Reply,
    pub(crate) body_limit: u64,
    /// The request body's way to a handler that reads it at its own pace ([`HttpCtx::take_body`]).
    pub(crate) body_pipe: Option<BodyPipe>,
    /// Not written to the access log (the request head itself was unreadable).
    pub(crate) unlogged: bool,
    /// Local redirects followed so far (a CGI's `Location: /path`).
    redirects: u8,
    /// The request the client sent, once a local redirect replaced `req`.
    original: Option<Box<Request>>,
}

/// Local redirects one request may follow; a loop ends in 500.
const MAX_LOCAL_REDIRECTS: u8 = 5;

impl Drop for Exchange {
    fn drop(&mut self) {
        if let Some((p, session)) = &mut self.handler {
            p.inner.http_closed(session.as_mut());
        }
    }
}

impl Exchange {
    /// The mount serving this request, if any.
    pub(crate) fn mount(&self) -> Option<&ResolvedMount> {
        self.mount.map(|i| &self.vhost.mounts[i])
    }

    /// Routes a new request; afterwards either `reply` is set or a handler waits for the body.
    pub(crate) fn start(req: Request, vhost: Arc<VhostInner>, plain_on_tls: bool) -> Exchange {
        let mut ex = Exchange::with_reply(req, vhost, Reply::Pending);
        if plain_on_tls {
            let host = ex.req.header("host").unwrap_or(&ex.vhost.name).to_string();
            let location = format!("https://{}{}", host, ex.req.raw_target());
            ex.ready(Response::redirect(301, &location));
            return ex;
        }
        ex.route();
        ex
    }

    /// A request refused before routing (bad target, unreadable head) with this status.
    pub(crate) fn refused(req: Request, vhost: Arc<VhostInner>, status: u16) -> Exchange {
        Exchange::with_reply(req, vhost, Reply::Ready(Response::error(status)))
    }

    /// A request the runtime answered itself in wire form (e.g. a WebSocket 101 or its refusal).
    pub(crate) fn answered(req: Request, vhost: Arc<VhostInner>, out: Outgoing) -> Exchange {
        Exchange::with_reply(req, vhost, Reply::Wire(out))
    }

    /// An exchange not yet routed, with the vhost's default body limit.
    fn with_reply(req: Request, vhost: Arc<VhostInner>, reply: Reply) -> Exchange {
        let body_limit = vhost.limits.max_body;
        Exchange {
            req,
            vhost,
            mount: None,
            handler: None,
            reply,
            body_limit,
            body_pipe: None,
            unlogged: false,
            redirects: 0,
            original: None,
        }
    }

    /// Takes an awaited answer (from a [`super::Responder`] or a future); a local redirect is served here
    /// instead of being sent.
    pub(crate) fn take_answer(&mut self, r: Response) {
        match r.local_redirect {
            Some(path) => self.follow_local_redirect(&path),
            None => self.reply = Reply::Ready(r),
        }
    }

    /// Serves `path` on the same vhost as a bodiless `GET` with this request's other fields: the original
    /// request's handler is done (its body, if any, was consumed or is discarded by the driver), and the
    /// access log records the original request line with the final status.
    fn follow_local_redirect(&mut self, path: &str) {
        let next = self.req.redirected(path);
        let Some(req) = next.filter(|_| self.redirects < MAX_LOCAL_REDIRECTS) else {
            tracing::warn!(
                "local redirect to {path:?} from {} refused (invalid, or more than {MAX_LOCAL_REDIRECTS})",
                self.req.path()
            );
            return self.ready(Response::error(500));
        };
        if let Some((p, mut session)) = self.handler.take() {
            p.inner.http_closed(session.as_mut());
        }
        let original = std::mem::replace(&mut self.req, req);
        self.redirects += 1;
        self.mount = None;
        self.body_pipe = None;
        self.body_limit = self.vhost.limits.max_body;
        self.reply = Reply::Pending;
        self.route();
        // The redirected request has no body: a handler that answers at the end of one answers now.
        self.body_complete(None);
        // The access log keeps the request line the client sent.
        self.original.get_or_insert(Box::new(original));
    }

    /// The answer in wire form once it is ready (compressed if the settings and the request allow it);
    /// `None` while it is still awaited.
    pub(crate) fn take_outgoing(&mut self) -> Option<Outgoing> {
        let mut out = match std::mem::replace(&mut self.reply, Reply::Sent) {
            Reply::Ready(r) => Outgoing::from_response(r),
            Reply::Wire(o) => o,
            other => {
                self.reply = other;
                return None;
            }
        };
        let settings = match self.mount() {
            Some(m) => &m.compression,
            None => &self.vhost.compression,
        };
        crate::compress::apply(&mut out, &self.req, settings);
        Some(out)
    }

    /// Writes the finished exchange to its vhost's access log, if it has one.
    pub(crate) fn log(&self, status: u16, bytes: u64) {
        let Some(log) = &self.vhost.access_log else {
            return;
        };
        if self.unlogged {
            return;
        }
        let req = self.original.as_deref().unwrap_or(&self.req);
        log.write(&LogEntry {
            peer: req.peer.map(|p| p.ip()),
            user: req.user.as_deref(),
            request_line: (req.method(), req.raw_target(), req.version().as_str()),
            status,
            bytes,
            referer: req.header("referer"),
            user_agent: req.header("user-agent"),
        });
    }

    fn ready(&mut self, r: Response) {
        self.reply = Reply::Ready(r);
    }

    fn ready_out(&mut self, o: Outgoing) {
        self.reply = Reply::Wire(o);
    }

    fn route(&mut self) {
        let found = mount::select(&self.vhost.mounts, self.req.path(), |m| &m.mount);
        let Some((idx, how)) = found else {
            return self.not_found();
        };
        self.mount = Some(idx);
        let vhost = self.vhost.clone();
        let m = &vhost.mounts[idx];
        self.req.mountpoint_len = if m.mount.mountpoint == "/" {
            0
        } else {
            m.mount.mountpoint.len()
        };
        if let Some(file) = &m.mount.basic_auth {
            match auth::check(self.req.header("authorization"), file) {
                AuthResult::Granted(user) => self.req.user = Some(user),
                AuthResult::Challenge => {
                    let o = Outgoing::error(401)
                        .with_header("www-authenticate", "Basic realm=\"lwsws\"");
                    return self.ready_out(o);
                }
                AuthResult::Malformed => return self.ready(Response::error(403)),
            }
        }
        match &m.mount.kind {
            MountKind::Files(_) | MountKind::Redirect(_) if how == MountMatch::Bare => {
                self.add_slash();
            }
            MountKind::Files(_) => self.serve_file(m),
            MountKind::Redirect(target) => {
                let mut location = target.clone();
                if m.mount.append_path {
                    location.push_str(self.req.mount_path().trim_start_matches('/'));
                }
                self.ready(Response::redirect(301, &location));
            }
            MountKind::Callback(_) => self.call_protocol(m),
            MountKind::Proxy(_) => self.proxy(m),
            MountKind::Cgi(_) => self.cgi(m),
            MountKind::NoMount => self.not_found(),
        }
    }

    fn add_slash(&mut self) {
        let mut location = format!("{}/", self.req.path());
        if let Some(q) = self.req.query() {
            location.push('?');
            location.push_str(q);
        }
        self.ready(Response::redirect(301, &location));
    }

    fn serve_file(&mut self, m: &ResolvedMount) {
        if !matches!(self.req.method(), "GET" | "HEAD") {
            return self.ready_out(Outgoing::error(405).with_header("allow", "GET, HEAD"));
        }
        let Some(origin) = &m.origin else {
            return self.not_found();
        };
        let siblings = crate::compress::sibling_accept(&m.compression, &self.req);
        let fm = FileMount {
            origin,
            default_doc: &m.default_doc,
            extra_mimetypes: &m.mount.extra_mimetypes,
            cache_control: &m.cache_control,
            siblings,
        };
        match files::resolve(&fm, self.req.mount_path(), &self.req.head) {
            FileOutcome::Serve(plan) => {
                let (start, len) = (plan.start, plan.len);
                let body = match plan.source {
                    files::Source::File(file) => OutBody::File { file, start, len },
                    files::Source::Memory(b) if start == 0 && len == b.len() as u64 => {
                        OutBody::Full(b)
                    }
                    files::Source::Memory(b) => {
                        OutBody::Full(b.slice(start as usize..(start + len) as usize))
                    }
                };
                self.ready_out(Outgoing {
                    status: plan.status,
                    headers: plan.headers,
                    file: Some(plan.file_headers),
                    body,
                    tunnel: None,
                });
            }
            FileOutcome::NotModified(file) => {
                self.ready_out(Outgoing {
                    status: 304,
                    headers: Vec::new(),
                    file: Some(file),
                    body: OutBody::Empty,
                    tunnel: None,
                });
            }
            FileOutcome::AddSlash => self.add_slash(),
            FileOutcome::NotFound => self.not_found(),
            FileOutcome::Forbidden => self.ready(Response::error(403)),
            FileOutcome::RangeNotSatisfiable(size) => {
                let o =
                    Outgoing::error(416).with_header("content-range", format!("bytes */{size}"));
                self.ready_out(o);
            }
        }
    }

    /// 404, with the vhost's `error-document-404` page when it names a file a file mount can serve.
    fn not_found(&mut self) {
        let vhost = self.vhost.clone();
        if let Some(doc) = &vhost.error_document_404 {
            if let Some((i, _)) = mount::select(&vhost.mounts, doc, |m| &m.mount) {
                let m = &vhost.mounts[i];
                if let Some(origin) = &m.origin {
                    let rel = if m.mount.mountpoint == "/" {
                        doc.as_str()
                    } else {
                        &doc[m.mount.mountpoint.len()..]
                    };
                    if let Ok((file, meta)) = files::locate(origin, rel, &m.default_doc) {
                        let ct = crate::mime::content_type(doc, &m.mount.extra_mimetypes)
                            .unwrap_or("text/html");
                        return self.ready_out(Outgoing {
                            file: None,
                            status: 404,
                            headers: vec![(
                                "content-type".into(),
                                Bytes::copy_from_slice(ct.as_bytes()),
                            )],
                            body: OutBody::File {
                                file: Arc::new(file),
                                start: 0,
                                len: meta.len(),
                            },
                            tunnel: None,
                        });
                    }
                }
            }
        }
        self.ready(Response::error(404));
    }

    fn call_protocol(&mut self, m: &ResolvedMount) {
        let Some(p) = m.protocol.clone() else {
            return self.not_found();
        };
        let mut session = p.inner.new_session();
        let mut cx = HttpCtx::of(
            &self.req,
            &mut self.reply,
            &mut self.body_limit,
            &mut self.body_pipe,
        );
        p.inner.http(session.as_mut(), &mut cx);
        self.handler = Some((p, session));
    }

    /// Hands the request to the mount's reverse proxy, on a task of this thread; the answer is deferred.
    fn proxy(&mut self, m: &ResolvedMount) {
        let Some(mount) = m.proxy.clone() else {
            return self.not_found();
        };
        let mut cx = HttpCtx::of(
            &self.req,
            &mut self.reply,
            &mut self.body_limit,
            &mut self.body_pipe,
        );
        // An RFC 8441 extended CONNECT reaches routing only as a WebSocket (other CONNECTs are refused before).
        let upgrade = if cx.request.method() == "CONNECT" {
            Some(crate::proxy::Upgrade::H2)
        } else if crate::ws::upgrade::is_websocket(&cx.request.head) {
            Some(crate::proxy::Upgrade::H1)
        } else {
            None
        };
        cx.set_body_limit(mount.settings.max_body);
        let body = if upgrade.is_none() {
            cx.take_body()
        } else {
            None
        };
        let req = &self.req;
        let job = crate::proxy::ProxyJob {
            below: req.mount_path().to_string(),
            query: req.query().map(str::to_string),
            head: req.head.clone(),
            peer: req.peer.map(|p| p.ip()),
            tls: req.tls,
            body,
            mount,
            upgrade,
        };
        self.reply = Reply::Future(Box::pin(crate::proxy::forward(job)));
    }

    /// Runs the mount's CGI script; the answer is deferred to a future the connection's task polls.
    fn cgi(&mut self, m: &ResolvedMount) {
        let Some(mount) = m.cgi.clone() else {
            return self.not_found();
        };
        let mut cx = HttpCtx::of(
            &self.req,
            &mut self.reply,
            &mut self.body_limit,
            &mut self.body_pipe,
        );
        cx.set_body_limit(mount.settings.max_body);
        let body = cx.take_body();
        self.reply =
            match crate::cgi::CgiJob::prepare(&self.req, mount, &self.vhost.cgi_slots, body) {
                Ok(job) => Reply::Future(Box::pin(crate::cgi::run(job))),
                Err(refused) => Reply::Ready(refused),
            };
    }

    /// Whether the mount for `path` is a reverse proxy, so a WebSocket request to it goes to the origin
    /// rather than to a protocol of this server.
    pub(crate) fn is_proxied(vhost: &VhostInner, path: &str) -> bool {
        mount::select(&vhost.mounts, path, |m| &m.mount)
            .is_some_and(|(i, _)| vhost.mounts[i].proxy.is_some())
    }

    /// Whether a handler is still waiting for body data (through callbacks or its [`super::RequestBody`]).
    pub(crate) fn wants_body(&self) -> bool {
        match &self.body_pipe {
            Some(pipe) => !pipe.consumer_gone(),
            None => self.handler.is_some() && matches!(self.reply, Reply::Pending),
        }
    }

    /// Whether the handler reads the body at its own pace, so the driver must wait for room in its pipe.
    pub(crate) fn pipe(&self) -> Option<&BodyPipe> {
        self.body_pipe.as_ref()
    }

    /// Feeds a body piece to the handler, if it still wants it.
    pub(crate) fn body(&mut self, chunk: &[u8]) {
        if let Some(pipe) = &mut self.body_pipe {
            return pipe.push(chunk);
        }
        if !self.wants_body() {
            return;
        }
        if let Some((p, session)) = &mut self.handler {
            let mut cx = HttpCtx::of(
                &self.req,
                &mut self.reply,
                &mut self.body_limit,
                &mut self.body_pipe,
            );
            p.inner.http_body(session.as_mut(), &mut cx, chunk);
        }
    }

    /// The body is complete: the handler must answer now (500 if it does not), or its [`super::RequestBody`] ends
    /// with these trailers.
    pub(crate) fn body_complete(&mut self, trailers: Option<Trailers>) {
        if let Some(pipe) = &mut self.body_pipe {
            return pipe.finish(trailers);
        }
        if !self.wants_body() {
            return;
        }
        if let Some((p, session)) = &mut self.handler {
            let mut cx = HttpCtx::of(
                &self.req,
                &mut self.reply,
                &mut self.body_limit,
                &mut self.body_pipe,
            );
            p.inner.http_body_completion(session.as_mut(), &mut cx);
            if matches!(self.reply, Reply::Pending) {
                tracing::error!(
                    "protocol {} left {} {} unanswered",
                    p.name,
                    self.req.method(),
                    self.req.path()
                );
                self.reply = Reply::Ready(Response::error(500));
            }
        }
    }

    /// A protocol error ended the request body: answer with its status unless an answer exists already.
    pub(crate) fn fail(&mut self, status: u16) {
        if let Some(pipe) = &mut self.body_pipe {
            pipe.abort("the request body was refused");
        }
        if matches!(self.reply, Reply::Pending) || self.reply.is_awaited() {
            self.ready(Response::error(status));
        }
    }
}

/// The target `/`, for exchanges whose own target could not be read.
pub(crate) fn root_target() -> Target {
    Target::parse(b"/").unwrap_or_else(|_| unreachable!("\"/\" is a valid target"))
}
