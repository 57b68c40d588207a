//! Reading a new connection's first bytes until [`lws_proto::sniff::classify`] can tell what it speaks.

use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use lws_proto::sniff::{Verdict, MAX_SNIFF};
use tokio::io::AsyncRead;

/// The first bytes of a connection and what they are.
#[derive(Debug)]
pub(crate) struct Sniffed {
    pub(crate) verdict: Verdict,
    /// Everything read so far; it belongs to whichever role takes the connection.
    pub(crate) bytes: Bytes,
    /// How reading ended when no verdict was reached.
    pub(crate) end: SniffEnd,
}

/// Why sniffing stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SniffEnd {
    /// A verdict was reached (or [`MAX_SNIFF`] bytes read).
    Decided,
    /// The peer closed (or half-closed) before the bytes were decisive.
    Eof,
    /// The peer sent nothing decisive within the wait.
    Silent,
    /// Reading failed.
    Failed,
}

/// Reads until the bytes decide (`until` says when they do), the peer closes, or `wait` passes. Most
/// connections decide on their first read, which is then copied out of the thread's read buffer once; only
/// a connection whose first read has to wait gets the timer (in an allocation of its own).
///
/// Not an `async fn`, which would keep a second copy of its arguments in every connection task's state.
#[allow(clippy::manual_async_fn)]
pub(crate) fn sniff<'a, S: AsyncRead + Unpin>(
    io: &'a mut S,
    wait: Duration,
    until: impl Fn(&[u8]) -> Verdict + 'a,
) -> impl std::future::Future<Output = Sniffed> + 'a {
    async move {
        let mut got: Vec<u8> = Vec::new();
        let first =
            std::future::poll_fn(|cx| Poll::Ready(poll_sniff(cx, io, &mut got, &until))).await;
        let (verdict, end) = match first {
            Poll::Ready(r) => r,
            Poll::Pending => {
                let read = std::future::poll_fn(|cx| poll_sniff(cx, io, &mut got, &until));
                match Box::pin(tokio::time::timeout(wait, read)).await {
                    Ok(r) => r,
                    Err(_) => (Verdict::NeedMore, SniffEnd::Silent),
                }
            }
        };
        Sniffed {
            verdict,
            bytes: got.into(),
            end,
        }
    }
}

/// One turn of reading: appends what arrived to `got` and decides if it can.
fn poll_sniff<S: AsyncRead + Unpin>(
    cx: &mut Context<'_>,
    io: &mut S,
    got: &mut Vec<u8>,
    until: &impl Fn(&[u8]) -> Verdict,
) -> Poll<(Verdict, SniffEnd)> {
    loop {
        let room = MAX_SNIFF - got.len();
        let read =
            crate::transport::poll_read_through(cx, &mut *io, room, |d| got.extend_from_slice(d));
        match std::task::ready!(read) {
            Err(_) => return Poll::Ready((Verdict::NeedMore, SniffEnd::Failed)),
            Ok(None) => return Poll::Ready((until(got), SniffEnd::Eof)),
            Ok(Some(())) => {}
        }
        let verdict = until(got);
        if verdict != Verdict::NeedMore {
            return Poll::Ready((verdict, SniffEnd::Decided));
        }
        if got.len() >= MAX_SNIFF {
            return Poll::Ready((Verdict::Other, SniffEnd::Decided));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{sniff, SniffEnd};
    use lws_proto::sniff::Verdict;
    use std::time::Duration;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn a_preface_in_one_byte_pieces_is_still_http2() {
        let (mut client, mut server) = tokio::io::duplex(64);
        let feeder = tokio::spawn(async move {
            for b in lws_proto::sniff::H2_PREFACE {
                client.write_all(&[*b]).await.unwrap();
                tokio::task::yield_now().await;
            }
            client
        });
        let s = sniff(
            &mut server,
            Duration::from_secs(5),
            lws_proto::sniff::classify,
        )
        .await;
        assert_eq!(s.verdict, Verdict::Http2);
        assert_eq!(&s.bytes[..], lws_proto::sniff::H2_PREFACE);
        drop(feeder.await.unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn silence_ends_after_the_wait_with_what_arrived() {
        let (mut client, mut server) = tokio::io::duplex(64);
        client.write_all(b"GE").await.unwrap();
        let s = sniff(
            &mut server,
            Duration::from_secs(3),
            lws_proto::sniff::classify,
        )
        .await;
        assert_eq!((s.verdict, s.end), (Verdict::NeedMore, SniffEnd::Silent));
        assert_eq!(&s.bytes[..], b"GE");
        drop(client);
    }

    #[tokio::test]
    async fn half_close_before_deciding_is_eof() {
        let (mut client, mut server) = tokio::io::duplex(64);
        client.write_all(b"abc").await.unwrap();
        client.shutdown().await.unwrap();
        let s = sniff(
            &mut server,
            Duration::from_secs(3),
            lws_proto::sniff::classify,
        )
        .await;
        assert_eq!(s.end, SniffEnd::Eof);
        assert_eq!(&s.bytes[..], b"abc");
        // "abc" alone is still a method being typed.
        assert_eq!(s.verdict, Verdict::NeedMore);
    }
}
