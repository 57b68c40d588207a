//! The TLS records of one server connection, without I/O: drives rustls's unbuffered state machine over
//! ciphertext that the caller holds, and keeps only what must outlive one call (encrypted output the socket
//! has not taken yet, plaintext the reader had no room for), each released as soon as it is empty. rustls's
//! buffered connection instead keeps a read buffer per connection for its whole life.

use std::io::{self, IoSlice};

use rustls::server::{ServerConnectionData, UnbufferedServerConnection};
use rustls::unbuffered::{ConnectionState, EncodeError, EncodeTlsData, EncryptError, WriteTraffic};
use tokio::io::ReadBuf;

/// Largest plaintext one record carries (RFC 8446 §5.1, RFC 5246 §6.2.1).
pub(super) const MAX_PLAINTEXT: usize = 16 * 1024;

/// What every AEAD suite of the ring provider adds to a record's plaintext at least (its 16-byte tag): a
/// record whose payload is `n` bytes long decrypts to at most `n - 16` bytes.
const MIN_EXPANSION: usize = 16;

/// What a round of record processing is for.
pub(super) enum Then<'a> {
    /// Reading: stop when more ciphertext from the peer is needed.
    Read,
    /// Writing: encrypt up to `limit` bytes of `bufs` into `space` once application data may be sent.
    Encrypt {
        bufs: &'a [IoSlice<'a>],
        limit: usize,
        space: &'a mut [u8],
    },
    /// Closing: queue a close_notify alert.
    CloseNotify,
}

/// How a round of record processing ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Ended {
    /// Nothing more to do without more ciphertext from the peer, or the reader's buffer is full.
    NeedInput,
    /// `taken` plaintext bytes were encrypted into the first `written` bytes of the space (`Then::Encrypt`),
    /// or close_notify was queued in the output (`Then::CloseNotify`, both 0).
    Encrypted { taken: usize, written: usize },
    /// The peer sent close_notify: it sends nothing more.
    PeerClosed,
}

/// One step of the state machine, inside a round.
enum Step {
    Again,
    End(Ended),
}

/// rustls's connection with the bytes that outlive a single call.
pub(super) struct Records {
    conn: UnbufferedServerConnection,
    /// Encrypted output not yet taken by the socket (`out[out_at..]`), in a buffer from the thread's pool.
    out: Vec<u8>,
    out_at: usize,
    /// Plaintext decrypted while the reader had no room for it (`plain[plain_at..]`): a small read buffer,
    /// or records that arrived with the handshake's last flight.
    plain: Vec<u8>,
    plain_at: usize,
    peer_closed: bool,
}

impl Records {
    /// A connection that has not seen the client's hello yet.
    pub(super) fn new(conn: UnbufferedServerConnection) -> Records {
        Records {
            conn,
            out: Vec::new(),
            out_at: 0,
            plain: Vec::new(),
            plain_at: 0,
            peer_closed: false,
        }
    }

    /// Whether the handshake is still under way.
    pub(super) fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// The protocol agreed by ALPN, if any.
    pub(super) fn alpn_protocol(&self) -> Option<&[u8]> {
        self.conn.alpn_protocol()
    }

    /// Whether the peer sent close_notify.
    pub(super) fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    /// Processes the records at the front of `input` for `then`, delivering application data into `to`
    /// (what does not fit is kept, in order), and says how many bytes of `input` are done with: the caller
    /// removes them from its front before the next call, and keeps the rest (a partial record, or a handshake
    /// message still being joined) for it.
    ///
    /// Once the reader got something (`to` filled past `start`), a record whose plaintext might not fit in
    /// what is left of `to` is not decrypted yet: it stays in `input` instead of taking a buffer here.
    pub(super) fn absorb(
        &mut self,
        input: &mut [u8],
        to: &mut ReadBuf<'_>,
        start: usize,
        then: &mut Then<'_>,
    ) -> io::Result<(usize, Ended)> {
        let mut used = 0;
        loop {
            if to.filled().len() > start && !fits(&input[used..], to.remaining()) {
                return Ok((used, Ended::NeedInput));
            }
            let (done, step) = self.step(&mut input[used..], to, then)?;
            used += done;
            if let Step::End(ended) = step {
                return Ok((used, ended));
            }
        }
    }

    /// One call into rustls's state machine and the handling of the state it returns: how many bytes of
    /// `input` are done with, and whether the round goes on.
    fn step(
        &mut self,
        input: &mut [u8],
        to: &mut ReadBuf<'_>,
        then: &mut Then<'_>,
    ) -> io::Result<(usize, Step)> {
        let status = self.conn.process_tls_records(input);
        let mut discard = status.discard;
        let state = match status.state {
            Ok(state) => state,
            Err(e) => {
                self.take_alert(&mut input[discard..]);
                return Err(tls_error(e));
            }
        };
        let step = match state {
            ConnectionState::ReadTraffic(mut traffic) => {
                while let Some(record) = traffic.next_record() {
                    let record = record.map_err(tls_error)?;
                    discard += record.discard;
                    deliver(&mut self.plain, self.plain_at, to, record.payload);
                }
                Step::Again
            }
            ConnectionState::EncodeTlsData(mut encode) => {
                encode_into(take_out(&mut self.out, &mut self.out_at), &mut encode);
                Step::Again
            }
            // The encoded bytes are queued in `out`, in order, ahead of anything encrypted later: as far as
            // rustls is concerned they are sent.
            ConnectionState::TransmitTlsData(transmit) => {
                transmit.done();
                Step::Again
            }
            ConnectionState::BlockedHandshake => match then {
                Then::Read => Step::End(Ended::NeedInput),
                _ => return Err(io::ErrorKind::NotConnected.into()),
            },
            ConnectionState::PeerClosed => {
                self.peer_closed = true;
                match then {
                    Then::Read => Step::End(Ended::PeerClosed),
                    _ => Step::Again,
                }
            }
            ConnectionState::Closed => {
                self.peer_closed = true;
                match then {
                    Then::Read => Step::End(Ended::PeerClosed),
                    Then::CloseNotify => Step::End(Ended::Encrypted {
                        taken: 0,
                        written: 0,
                    }),
                    Then::Encrypt { .. } => return Err(io::ErrorKind::BrokenPipe.into()),
                }
            }
            ConnectionState::WriteTraffic(mut traffic) => Step::End(match then {
                Then::Read => Ended::NeedInput,
                Then::Encrypt { bufs, limit, space } => {
                    let (taken, written) = encrypt_into(space, &mut traffic, bufs, *limit)?;
                    Ended::Encrypted { taken, written }
                }
                Then::CloseNotify => {
                    let out = take_out(&mut self.out, &mut self.out_at);
                    close_notify_into(out, &mut traffic)?;
                    Ended::Encrypted {
                        taken: 0,
                        written: 0,
                    }
                }
            }),
            // Early data is never accepted (the configuration allows none); later rustls states are unknown.
            _ => return Err(tls_error("unexpected TLS connection state")),
        };
        Ok((discard, step))
    }

    /// After rustls failed the connection, what it still queued for the peer goes into the output: the
    /// alert saying why, behind the handshake records that came before it. Only while something is queued:
    /// a call with nothing queued would process `input` again, and fail on the same record again.
    fn take_alert(&mut self, input: &mut [u8]) {
        let mut at = 0;
        while self.conn.wants_write() {
            let status = self.conn.process_tls_records(&mut input[at..]);
            at += status.discard;
            let Ok(ConnectionState::EncodeTlsData(mut encode)) = status.state else {
                return;
            };
            encode_into(take_out(&mut self.out, &mut self.out_at), &mut encode);
        }
    }

    /// Encrypted output the socket has not taken yet.
    pub(super) fn pending_out(&self) -> &[u8] {
        &self.out[self.out_at..]
    }

    /// The socket took `n` bytes of the pending output; once all of it went, the buffer goes back to the
    /// thread's pool, so an idle connection keeps none.
    pub(super) fn sent(&mut self, n: usize) {
        self.out_at += n;
        if self.out_at >= self.out.len() {
            self.out_at = 0;
            crate::transport::give_out_buf(std::mem::take(&mut self.out));
        }
    }

    /// Queues encrypted bytes behind the pending output (in a buffer from the thread's pool).
    pub(super) fn queue(&mut self, encrypted: &[u8]) {
        if !encrypted.is_empty() {
            take_out(&mut self.out, &mut self.out_at).extend_from_slice(encrypted);
        }
    }

    /// Whether plaintext is waiting for the reader.
    pub(super) fn has_plain(&self) -> bool {
        self.plain_at < self.plain.len()
    }

    /// Hands waiting plaintext to the reader, as much as fits; says whether there was any. The buffer is
    /// freed once the reader has had all of it.
    pub(super) fn take_plain(&mut self, to: &mut ReadBuf<'_>) -> bool {
        if !self.has_plain() {
            return false;
        }
        let n = to.remaining().min(self.plain.len() - self.plain_at);
        to.put_slice(&self.plain[self.plain_at..self.plain_at + n]);
        self.plain_at += n;
        if self.plain_at == self.plain.len() {
            self.plain = Vec::new();
            self.plain_at = 0;
        }
        true
    }
}

#[cfg(test)]
impl Records {
    /// The capacity of the buffers kept between calls: none once the connection is idle.
    pub(super) fn buffer_capacity(&self) -> usize {
        self.out.capacity() + self.plain.capacity()
    }
}

/// Whether the record at the front of `input` (when its header is there) surely decrypts into `room` bytes.
fn fits(input: &[u8], room: usize) -> bool {
    match input.get(3..5) {
        Some(len) => usize::from(u16::from_be_bytes([len[0], len[1]])) <= room + MIN_EXPANSION,
        None => true,
    }
}

/// Appends a record's plaintext to the reader's buffer, or, once that is full (or earlier plaintext is
/// still waiting), to the waiting plaintext, so that the order is kept.
fn deliver(plain: &mut Vec<u8>, plain_at: usize, to: &mut ReadBuf<'_>, mut payload: &[u8]) {
    if plain_at == plain.len() {
        let n = payload.len().min(to.remaining());
        to.put_slice(&payload[..n]);
        payload = &payload[n..];
    }
    plain.extend_from_slice(payload);
}

/// The output buffer ready to be appended to: what was already sent is dropped from its front, and an
/// empty one comes from the thread's pool.
fn take_out<'a>(out: &'a mut Vec<u8>, out_at: &mut usize) -> &'a mut Vec<u8> {
    if *out_at > 0 {
        out.drain(..*out_at);
        *out_at = 0;
    }
    if out.capacity() == 0 {
        *out = crate::transport::take_out_buf();
    }
    out
}

/// Appends a handshake (or alert) record that rustls prepared.
fn encode_into(out: &mut Vec<u8>, encode: &mut EncodeTlsData<'_, ServerConnectionData>) {
    let needs = |e: &EncodeError| match e {
        EncodeError::InsufficientSize(s) => Some(s.required_size),
        _ => None,
    };
    let _ = append_sized(out, 1024, |room| encode.encode(room), needs);
}

/// Appends what `write` puts into room at the end of `out`, starting with `room` bytes and growing it to
/// what `needs` says an error asked for; on any other error `out` is left as it was.
fn append_sized<E>(
    out: &mut Vec<u8>,
    mut room: usize,
    mut write: impl FnMut(&mut [u8]) -> Result<usize, E>,
    needs: impl Fn(&E) -> Option<usize>,
) -> Result<(), E> {
    let start = out.len();
    loop {
        out.resize(start + room, 0);
        match write(&mut out[start..]) {
            Ok(n) => {
                out.truncate(start + n);
                return Ok(());
            }
            Err(e) => match needs(&e).filter(|&need| need > room) {
                Some(need) => room = need,
                None => {
                    out.truncate(start);
                    return Err(e);
                }
            },
        }
    }
}

/// Encrypts up to `limit` bytes of `bufs` (records of at most 16 KiB of plaintext each) into `space`, and
/// says how many plaintext bytes that took and how many bytes of `space` it wrote: as many as fit. Bytes
/// spread over several slices are first gathered at the end of `space`, so that they make one record instead
/// of one per slice. `space` is initialised memory kept by the thread, so nothing is zero-filled per write.
fn encrypt_into(
    space: &mut [u8],
    traffic: &mut WriteTraffic<'_, ServerConnectionData>,
    bufs: &[IoSlice<'_>],
    limit: usize,
) -> io::Result<(usize, usize)> {
    let mut take = limit.min(bufs.iter().map(|b| b.len()).sum());
    loop {
        let single = bufs
            .iter()
            .find(|b| !b.is_empty())
            .filter(|b| b.len() >= take);
        let (encrypted, room) = match single {
            Some(data) => (traffic.encrypt(&data[..take], space), space.len()),
            None => {
                take = take.min(space.len() / 2);
                let (records, plain) = space.split_at_mut(space.len() - take);
                gather(bufs, plain);
                let room = records.len();
                (traffic.encrypt(plain, records), room)
            }
        };
        match encrypted {
            Ok(written) => return Ok((take, written)),
            // Fewer bytes, then: what rustls queued ahead of them (a key update) is small.
            Err(EncryptError::InsufficientSize(s)) if take > s.required_size - room => {
                take -= s.required_size - room;
            }
            Err(e) => return Err(io::Error::other(e)),
        }
    }
}

/// Copies the front of `bufs` into `to`, filling it.
fn gather(bufs: &[IoSlice<'_>], to: &mut [u8]) {
    let mut at = 0;
    for b in bufs {
        let n = b.len().min(to.len() - at);
        to[at..at + n].copy_from_slice(&b[..n]);
        at += n;
        if at == to.len() {
            break;
        }
    }
}

/// Appends a close_notify alert.
fn close_notify_into(
    out: &mut Vec<u8>,
    traffic: &mut WriteTraffic<'_, ServerConnectionData>,
) -> io::Result<()> {
    let needs = |e: &EncryptError| match e {
        EncryptError::InsufficientSize(s) => Some(s.required_size),
        _ => None,
    };
    append_sized(out, 64, |room| traffic.queue_close_notify(room), needs).map_err(io::Error::other)
}

/// A TLS failure as an I/O error: the peer sent something that is not valid TLS for this connection.
pub(super) fn tls_error(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}
