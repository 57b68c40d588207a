//! The keeper: one task per running script that feeds the request body to its stdin, logs its stderr,
//! enforces the timeout, kills its process group when the response no longer wants it, and always reaps it.
//!
//! It is a task of its own (not part of the response) because the timeout and the reaping must happen
//! even while nobody polls the response: a client that stops reading leaves the body unpolled, and the
//! script must still be killed on time.

use std::future::Future;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStderr, ChildStdin};
use tokio::sync::{oneshot, OwnedSemaphorePermit};
use tokio::time::Instant;

use super::group;
use crate::http::RequestBody;

/// Time between SIGTERM and SIGKILL when a script's group is ended.
pub(crate) const KILL_GRACE: Duration = Duration::from_secs(1);
/// Longest stderr line logged; the rest of a longer line is dropped.
const MAX_LOG_LINE: usize = 1024;
/// Most stderr lines logged per request; later ones are read and counted, not logged.
const MAX_LOG_LINES: usize = 100;

/// What the response side holds: the script's fate, and the means to tell the keeper it is done. Dropped
/// before [`KeeperHandle::finished`], it makes the keeper kill the group (the client went away, or the
/// output was refused).
#[derive(Debug)]
pub(crate) struct KeeperHandle {
    exit: oneshot::Receiver<ExitStatus>,
    killed: Arc<AtomicBool>,
    done: Option<oneshot::Sender<()>>,
}

impl KeeperHandle {
    /// The response has all it needs from stdout; the script may run on until it exits or times out.
    pub(crate) fn finished(&mut self) {
        if let Some(d) = self.done.take() {
            let _ = d.send(());
        }
    }

    /// Whether the group was killed (timeout or abandonment): output that ended then is cut off.
    pub(crate) fn killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// Polls for the script's exit status; `None` when it was killed or could not be waited for.
    pub(crate) fn poll_exit(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<ExitStatus>> {
        std::pin::Pin::new(&mut self.exit).poll(cx).map(Result::ok)
    }
}

/// What the keeper is given.
pub(crate) struct Charge {
    pub(crate) child: Child,
    pub(crate) pgid: u32,
    pub(crate) stdin: Option<ChildStdin>,
    pub(crate) body: Option<RequestBody>,
    pub(crate) stderr: Option<ChildStderr>,
    pub(crate) name: Arc<str>,
    pub(crate) deadline: Instant,
    pub(crate) permit: OwnedSemaphorePermit,
}

/// Starts the keeper on the current runtime.
pub(crate) fn start(charge: Charge) -> KeeperHandle {
    let (exit_tx, exit) = oneshot::channel();
    let (done, done_rx) = oneshot::channel();
    let killed = Arc::new(AtomicBool::new(false));
    tokio::spawn(keep(charge, exit_tx, done_rx, killed.clone()));
    KeeperHandle {
        exit,
        killed,
        done: Some(done),
    }
}

/// How the keeper's watch ended.
enum End {
    /// Exited and the response is complete.
    Clean,
    /// The timeout passed.
    TimedOut,
    /// The response side went away before the script was done.
    Abandoned,
}

async fn keep(
    charge: Charge,
    exit_tx: oneshot::Sender<ExitStatus>,
    mut done: oneshot::Receiver<()>,
    killed: Arc<AtomicBool>,
) {
    let Charge {
        mut child,
        pgid,
        stdin,
        body,
        stderr,
        name,
        deadline,
        permit,
    } = charge;
    let feed = feed_stdin(stdin, body);
    let logs = log_stderr(stderr, name.clone());
    let timer = tokio::time::sleep_until(deadline);
    tokio::pin!(feed, logs, timer);
    let (mut fed, mut logged, mut answered) = (false, false, false);
    let mut exit_tx = Some(exit_tx);
    let mut reaped = false;
    let end = loop {
        if reaped && answered {
            break End::Clean;
        }
        tokio::select! {
            () = &mut feed, if !fed => fed = true,
            () = &mut logs, if !logged => logged = true,
            r = child.wait(), if !reaped => {
                reaped = true;
                match r {
                    Ok(status) => {
                        if !status.success() {
                            tracing::warn!(script = %name, "CGI exited with {status}");
                        }
                        if let Some(tx) = exit_tx.take() {
                            let _ = tx.send(status);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(script = %name, "waiting for the CGI failed: {e}");
                        exit_tx = None;
                    }
                }
            }
            r = &mut done, if !answered => {
                if r.is_err() {
                    break End::Abandoned;
                }
                answered = true;
            }
            () = &mut timer => break End::TimedOut,
        }
    };
    match end {
        End::Clean => {}
        End::TimedOut => {
            tracing::warn!(script = %name, "CGI timed out: killing its process group");
            terminate(&killed, pgid, &mut child, reaped).await;
        }
        End::Abandoned => terminate(&killed, pgid, &mut child, reaped).await,
    }
    // The slot is free only once the process is gone.
    drop(permit);
}

/// SIGTERM to the group, SIGKILL after the grace period (to whatever ignored it, grandchildren included),
/// then reaps the leader. The leader is reaped only after the last signal, so its id still names this
/// group when the signals go out.
async fn terminate(killed: &AtomicBool, pgid: u32, child: &mut Child, reaped: bool) {
    killed.store(true, Ordering::Release);
    group::signal(pgid, group::TERM);
    tokio::time::sleep(KILL_GRACE).await;
    group::signal(pgid, group::KILL);
    if !reaped {
        let _ = child.wait().await;
    }
}

/// Copies the request body to the script's stdin at the script's pace, then closes it (EOF). A script that
/// stops reading stops the copy, and so the connection's reading of the upload.
async fn feed_stdin(stdin: Option<ChildStdin>, body: Option<RequestBody>) {
    let (Some(mut stdin), Some(mut body)) = (stdin, body) else {
        return;
    };
    while let Some(Ok(piece)) = body.data().await {
        if stdin.write_all(&piece).await.is_err() {
            return;
        }
    }
}

/// Logs the script's stderr line by line (each line bounded, at most [`MAX_LOG_LINES`] per request).
async fn log_stderr(stderr: Option<ChildStderr>, name: Arc<str>) {
    let Some(mut stderr) = stderr else {
        return;
    };
    let mut buf = [0u8; 4096];
    let mut line: Vec<u8> = Vec::new();
    let mut cut = false;
    let mut lines = 0usize;
    let mut emit = |line: &mut Vec<u8>, cut: &mut bool| {
        lines += 1;
        if lines <= MAX_LOG_LINES {
            let text = String::from_utf8_lossy(line);
            let more = if *cut { " [...]" } else { "" };
            tracing::warn!(script = %name, "CGI stderr: {}{more}", text.trim_end_matches('\r'));
        } else if lines == MAX_LOG_LINES + 1 {
            tracing::warn!(script = %name, "CGI stderr: further lines not logged");
        }
        line.clear();
        *cut = false;
    };
    loop {
        let n = match stderr.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &b in &buf[..n] {
            if b == b'\n' {
                emit(&mut line, &mut cut);
            } else if line.len() < MAX_LOG_LINE {
                line.push(b);
            } else {
                cut = true;
            }
        }
    }
    if !line.is_empty() {
        emit(&mut line, &mut cut);
    }
}
