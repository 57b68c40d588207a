//! One CGI request: spawn the script, read and check the head it prints, answer with it, and stream the
//! rest of its stdout as the body (read only when the client's connection has room).

use std::borrow::Cow;
use std::ffi::OsString;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use lws_proto::cgi::{CgiHead, HeadError, Parsed};
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};
use tokio::process::{ChildStdout, Command};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::config::{CgiMount, CgiSlots};
use super::keeper::{self, KeeperHandle, KILL_GRACE};
use super::script::{self, Refusal};
use crate::http::{Body, BodyError, BodySource, Frame, Request, RequestBody, Response};

/// Bytes read from stdout at a time (also the most one body frame holds).
const READ_PIECE: usize = 16 * 1024;
/// How long a busy vhost asks clients to wait before retrying (`Retry-After`, seconds).
const RETRY_AFTER: &str = "5";

/// A request ready to run: the script found, its environment built, a process slot taken.
pub(crate) struct CgiJob {
    mount: Arc<CgiMount>,
    script: PathBuf,
    env: Vec<(OsString, OsString)>,
    body: Option<RequestBody>,
    permit: OwnedSemaphorePermit,
}

impl CgiJob {
    /// Prepares `req` for the mount; the refusal (403, 404, 503) is the answer when it cannot run.
    pub(crate) fn prepare(
        req: &Request,
        mount: Arc<CgiMount>,
        slots: &CgiSlots,
        body: Option<RequestBody>,
    ) -> Result<CgiJob, Response> {
        let script = script::resolve(&mount, req.mount_path()).map_err(|r| match r {
            Refusal::NotFound => Response::error(404),
            Refusal::Forbidden => Response::error(403),
        })?;
        let Some(permit) = slots.try_take() else {
            tracing::warn!(script = %script.path.display(), "CGI process cap reached: 503");
            return Err(Response::error(503).header("retry-after", RETRY_AFTER));
        };
        let env = super::env::build(req, &script, &mount.settings.env);
        Ok(CgiJob {
            script: script.path,
            env,
            body,
            permit,
            mount,
        })
    }
}

/// Runs the job and answers with the script's head; its body follows as the script writes it.
pub(crate) async fn run(job: CgiJob) -> Response {
    let CgiJob {
        mount,
        script,
        env,
        body,
        permit,
    } = job;
    let name: Arc<str> = script.display().to_string().into();
    let dir = script.parent().map(PathBuf::from).unwrap_or_default();
    let mut cmd = Command::new(&script);
    cmd.env_clear()
        .envs(env)
        .current_dir(dir)
        .process_group(0)
        .stdin(if body.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(script = %name, "CGI could not start: {e}");
            return Response::error(match e.kind() {
                std::io::ErrorKind::NotFound => 404,
                std::io::ErrorKind::PermissionDenied => 403,
                _ => 500,
            });
        }
    };
    let (Some(pgid), Some(mut stdout)) = (child.id(), child.stdout.take()) else {
        // Spawned with a piped stdout and not yet waited for, so neither is missing; answer rather than
        // trust that.
        return Response::error(500);
    };
    let settings = &mount.settings;
    let deadline = Instant::now() + settings.timeout;
    let keeper = keeper::start(keeper::Charge {
        stdin: child.stdin.take(),
        stderr: child.stderr.take(),
        child,
        pgid,
        body,
        name: name.clone(),
        deadline,
        permit,
    });
    // The keeper kills the group at the deadline, which ends stdout; the extra bound only covers a
    // descendant that left the group and still holds stdout open.
    let read_head = read_head(&mut stdout, settings.max_head, settings.max_fields);
    let late = deadline + KILL_GRACE * 2;
    let (head, rest) = match tokio::time::timeout_at(late, read_head).await {
        Ok(Ok(Some(parsed))) => parsed,
        Ok(Ok(None)) => {
            if keeper.killed() {
                return Response::error(504);
            }
            tracing::warn!(script = %name, "CGI output ended before its head was complete: 502");
            return Response::error(502);
        }
        Ok(Err(e)) => {
            tracing::warn!(script = %name, "{e}: 502");
            return Response::error(502);
        }
        Err(_) => return Response::error(504),
    };
    respond(head, rest, stdout, keeper, &name)
}

/// Reads stdout until the head is complete: the head and the body bytes read past it, or `None` at EOF.
async fn read_head(
    stdout: &mut ChildStdout,
    max_head: usize,
    max_fields: usize,
) -> Result<Option<(CgiHead, Bytes)>, HeadError> {
    let mut buf = BytesMut::with_capacity(READ_PIECE);
    loop {
        let room = (max_head + 1)
            .saturating_sub(buf.len())
            .clamp(1, READ_PIECE);
        let start = buf.len();
        buf.resize(start + room, 0);
        let n = stdout.read(&mut buf[start..]).await.unwrap_or(0);
        buf.truncate(start + n);
        if n == 0 {
            return Ok(None);
        }
        if let Parsed::Complete(head, used) =
            lws_proto::cgi::parse_head(&buf, max_head, max_fields)?
        {
            return Ok(Some((head, buf.split_off(used).freeze())));
        }
    }
}

/// Turns a head into the response (RFC 3875 6.2): a document, a redirect, or 502 for output that is
/// neither.
fn respond(
    head: CgiHead,
    rest: Bytes,
    stdout: ChildStdout,
    mut keeper: KeeperHandle,
    name: &str,
) -> Response {
    let redirect_only = head.location.is_some() && head.status.is_none();
    if head.content_type.is_none() && !redirect_only {
        tracing::warn!(script = %name, "CGI head has no Content-Type and is no redirect: 502");
        return Response::error(502);
    }
    if let Some(path) = head
        .location
        .as_deref()
        .filter(|l| redirect_only && Request::is_local_target(l))
    {
        // A local redirect (RFC 3875 6.2.2): the server serves that path instead; the script's further
        // output is not wanted.
        keeper.finished();
        return Response::local_redirect(path);
    }
    let status = head.status.unwrap_or(if redirect_only { 302 } else { 200 });
    let mut resp = Response::new(status);
    if let Some(ty) = &head.content_type {
        resp = resp.header("content-type", ty);
    }
    if let Some(loc) = &head.location {
        resp = resp.header("location", loc);
    }
    for (n, v) in head.fields {
        resp.headers.push((Cow::Owned(n), Bytes::from(v)));
    }
    if redirect_only && head.content_type.is_none() {
        // No document to send: the script may run on, but its output is not wanted.
        keeper.finished();
        return resp;
    }
    resp.with_body(Body::from_source(CgiBody {
        pending: (!rest.is_empty()).then_some(rest),
        stdout,
        keeper,
        length: head.content_length,
        at_eof: false,
        buf: vec![0; READ_PIECE],
    }))
}

/// The rest of the script's stdout, read only when polled, i.e. when the connection has room: a script
/// writing faster than the client reads blocks on its full pipe. Dropped early, it kills the script
/// through the keeper. Ends in error when the script was killed or exited unsuccessfully, so a cut-off
/// document never looks complete.
struct CgiBody {
    pending: Option<Bytes>,
    stdout: ChildStdout,
    keeper: KeeperHandle,
    length: Option<u64>,
    at_eof: bool,
    /// Read into, then copied out at the size read (a frame never keeps a mostly empty 16 KiB buffer).
    buf: Vec<u8>,
}

impl BodySource for CgiBody {
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame, BodyError>>> {
        let this = &mut *self;
        if let Some(b) = this.pending.take() {
            return Poll::Ready(Some(Ok(Frame::Data(b))));
        }
        if !this.at_eof {
            let mut rb = ReadBuf::new(&mut this.buf);
            match std::task::ready!(Pin::new(&mut this.stdout).poll_read(cx, &mut rb)) {
                Ok(()) if rb.filled().is_empty() => this.at_eof = true,
                Ok(()) => {
                    let piece = Bytes::copy_from_slice(rb.filled());
                    return Poll::Ready(Some(Ok(Frame::Data(piece))));
                }
                Err(_) => this.at_eof = true,
            }
        }
        // End of output: complete only if the script exited on its own with success.
        let exit = std::task::ready!(this.keeper.poll_exit(cx));
        this.keeper.finished();
        Poll::Ready(match exit {
            _ if this.keeper.killed() => Some(Err(BodyError::new("CGI killed (timeout)"))),
            Some(s) if s.success() => None,
            Some(_) => Some(Err(BodyError::new("CGI exited unsuccessfully"))),
            None => Some(Err(BodyError::new("CGI ended without an exit status"))),
        })
    }

    fn exact_len(&self) -> Option<u64> {
        self.length
    }
}
