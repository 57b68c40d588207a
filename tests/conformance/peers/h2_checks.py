#!/usr/bin/env python3
"""HTTP/2 conformance checks against lwsws (RFC 9113, RFC 7541, RFC 8441), one behaviour per check.

usage: h2_checks.py HOST PORT [--tls] [--timeout S] [--only NAME,...] [--server-pid PID] [--list]

Speaks h2c with prior knowledge, or TLS with ALPN h2 (--tls; certificate not verified). Frames are built by hand
(hyperframe for parsing, hpack for header blocks) so malformed input can be sent. Every check opens its own
connection(s) and is bounded by a timeout. Output: one "PASS|FAIL <h2c|tls>/name: detail" line per check, then
"N passed, M failed"; exit status 1 when anything failed. Run with the lws-peers venv python (install.sh pyh2).
"""
import argparse
import os
import select
import socket
import ssl
import struct
import sys
import time
import zlib

import hpack
import hyperframe.frame as hf

# frame types
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
FRAME_NAMES = ["DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING", "GOAWAY",
               "WINDOW_UPDATE", "CONTINUATION"]
# flags
END_STREAM = ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIO = 0x20
# settings
S_HEADER_TABLE_SIZE, S_ENABLE_PUSH, S_MAX_CONCURRENT_STREAMS, S_INITIAL_WINDOW_SIZE, S_MAX_FRAME_SIZE, \
    S_MAX_HEADER_LIST_SIZE = range(1, 7)
S_ENABLE_CONNECT_PROTOCOL = 0x8
SETTING_NAMES = {1: "HEADER_TABLE_SIZE", 2: "ENABLE_PUSH", 3: "MAX_CONCURRENT_STREAMS", 4: "INITIAL_WINDOW_SIZE",
                 5: "MAX_FRAME_SIZE", 6: "MAX_HEADER_LIST_SIZE", 8: "ENABLE_CONNECT_PROTOCOL"}
# error codes
ERRORS = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED",
          "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
          "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"]
(NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, SETTINGS_TIMEOUT, STREAM_CLOSED, FRAME_SIZE_ERROR,
 REFUSED_STREAM, CANCEL, COMPRESSION_ERROR, CONNECT_ERROR, ENHANCE_YOUR_CALM) = range(12)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
MAX_WINDOW = (1 << 31) - 1
FORM_PATH = "/formtest"  # protocol-post-demo on the demo site


def err_name(code):
    return ERRORS[code] if 0 <= code < len(ERRORS) else "0x%x" % code


class Fail(Exception):
    pass


# ---- frame building (raw: anything goes, including malformed frames) -------------------------------------------
def frame(ftype, flags, sid, payload=b""):
    """9-byte header + payload; nothing is validated."""
    return struct.pack("!I", len(payload))[1:] + struct.pack("!BBI", ftype, flags, sid) + payload


def settings_frame(pairs=(), flags=0):
    return frame(SETTINGS, flags, 0, b"".join(struct.pack("!HI", k, v) for k, v in pairs))


def ping_frame(payload=b"lws-ping", flags=0):
    return frame(PING, flags, 0, payload)


def window_update(sid, incr):
    return frame(WINDOW_UPDATE, 0, sid, struct.pack("!I", incr))


def rst_frame(sid, code):
    return frame(RST_STREAM, 0, sid, struct.pack("!I", code))


def goaway_frame(last_sid, code, debug=b""):
    return frame(GOAWAY, 0, 0, struct.pack("!II", last_sid, code) + debug)


def priority_frame(sid, dep, weight=16, exclusive=False):
    return frame(PRIORITY, 0, sid, struct.pack("!IB", dep | (0x80000000 if exclusive else 0), weight - 1))


def data_frame(sid, data, end=False, pad=None):
    flags = END_STREAM if end else 0
    if pad is not None:
        return frame(DATA, flags | PADDED, sid, bytes([pad]) + data + b"\0" * pad)
    return frame(DATA, flags, sid, data)


def headers_frame(sid, block, end_stream=True, end_headers=True, pad=None, prio=None):
    flags = (END_STREAM if end_stream else 0) | (END_HEADERS if end_headers else 0)
    payload = block
    if prio is not None:  # (dependency, weight)
        flags |= PRIO
        payload = struct.pack("!IB", prio[0], prio[1] - 1) + payload
    if pad is not None:
        flags |= PADDED
        payload = bytes([pad]) + payload + b"\0" * pad
    return frame(HEADERS, flags, sid, payload)


def continuation_frame(sid, block, end_headers=True):
    return frame(CONTINUATION, END_HEADERS if end_headers else 0, sid, block)


def hpack_int(value, prefix_bits, first_byte_flags):
    """RFC 7541 5.1 integer with an N-bit prefix."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte_flags | value])
    out = [first_byte_flags | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_literal(name, value):
    """Literal header field without indexing, new name, no Huffman (exact bytes, no validation)."""
    n, v = name.encode() if isinstance(name, str) else name, value.encode() if isinstance(value, str) else value
    return b"\x00" + hpack_int(len(n), 7, 0) + n + hpack_int(len(v), 7, 0) + v


def ws_frame(opcode, payload, fin=True):
    """Client WebSocket frame (masked)."""
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        hdr = struct.pack("!BB", b0, 0x80 | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, 0x80 | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, 0x80 | 127, n)
    key = os.urandom(4)
    return hdr + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


def ws_parse(buf):
    """Complete frames in buf: list of (b0, masked, payload)."""
    out, off = [], 0
    while len(buf) - off >= 2:
        b0, b1 = buf[off], buf[off + 1]
        n, p = b1 & 0x7F, off + 2
        if n == 126:
            if len(buf) - p < 2:
                break
            n, p = struct.unpack_from("!H", buf, p)[0], p + 2
        elif n == 127:
            if len(buf) - p < 8:
                break
            n, p = struct.unpack_from("!Q", buf, p)[0], p + 8
        masked = bool(b1 & 0x80)
        key = None
        if masked:
            key, p = buf[p:p + 4], p + 4
        if len(buf) - p < n:
            break
        pl = bytes(buf[p:p + n])
        if key:
            pl = bytes(c ^ key[i % 4] for i, c in enumerate(pl))
        out.append((b0, masked, pl))
        off = p + n
    return out


# ---- the client connection ---------------------------------------------------------------------------------------
class Stream:
    def __init__(self, sid):
        self.sid = sid
        self.headers = None  # final response headers (dict, lower-case names)
        self.informational = []
        self.trailers = None
        self.body = bytearray()
        self.ended = False
        self.reset = None  # RST_STREAM error code from the server
        self.data_frames = 0
        self.recv_window = 0  # what the server may still send on this stream
        self.send_window = 0  # what we may still send
        self.window_updates = 0

    @property
    def status(self):
        return self.headers.get(":status") if self.headers else None

    @property
    def done(self):
        return self.ended or self.reset is not None

    def describe(self):
        parts = [":status %s" % self.status] if self.headers else ["no response headers"]
        parts.append("%d body bytes" % len(self.body))
        if self.ended:
            parts.append("END_STREAM")
        if self.reset is not None:
            parts.append("RST_STREAM %s" % err_name(self.reset))
        return ", ".join(parts)


class Conn:
    """One HTTP/2 connection with hand-made frames. Reads happen only inside until()/send() (which reads while the
    socket is not writable, so a flood never deadlocks against a server that stops reading)."""

    def __init__(self, opts, settings=None, preface=True, handshake=True, auto_window=True, auto_ack=True,
                 table_size=4096):
        self.opts = opts
        self.timeout = opts.timeout
        raw = socket.create_connection((opts.host, opts.port), timeout=self.timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if opts.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(["h2"])
            raw = ctx.wrap_socket(raw, server_hostname=opts.host)
            if raw.selected_alpn_protocol() != "h2":
                raise Fail("TLS ALPN selected %r, not h2" % raw.selected_alpn_protocol())
        raw.setblocking(False)
        self.sock = raw
        self.rbuf = bytearray()
        self.eof = False
        self.eof_reason = None
        self.send_error = None
        self.enc = hpack.Encoder()
        self.dec = hpack.Decoder()
        self.dec.max_allowed_table_size = table_size
        self.auto_window = auto_window
        self.auto_ack = auto_ack
        self.streams = {}
        self.next_sid = 1
        self.server_settings = {}
        self.server_settings_frames = 0
        self.first_frame = None
        self.settings_acks = 0
        self.pings = []  # (flags, payload) of PINGs received
        self.goaway = None  # (last_sid, code, debug)
        self.frames = []  # (type, flags, sid, length) of every frame received
        self.violations = []  # things the server must never do, seen while reading
        self.pushes = 0
        self.conn_window_updates = 0
        self.hdr_block = None  # (sid, bytearray, is_first) while a server header block is open
        # flow control
        self.local = {S_INITIAL_WINDOW_SIZE: 65535}
        self.local.update(settings or {})
        self.recv_conn_window = 65535
        self.send_conn_window = 65535
        self.peer_initial_window = 65535
        self.peer_max_frame = 16384
        if preface:
            self.send(PREFACE + settings_frame(sorted((settings or {}).items())))
            if handshake:
                self.handshake()

    # -- low level I/O
    def _recv_some(self):
        try:
            d = self.sock.recv(262144)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError) as e:
            self.eof, self.eof_reason = True, "%s" % type(e).__name__
            return
        if not d:
            self.eof, self.eof_reason = True, self.eof_reason or "FIN"
        else:
            self.rbuf += d

    def send(self, data, deadline=None):
        """Write everything (reading meanwhile). Returns False if the peer closed/reset the connection."""
        if self.send_error:
            return False
        deadline = deadline or time.time() + self.timeout
        mv, off = memoryview(data), 0
        chunk = 16384 if self.opts.tls else 262144
        while off < len(data):
            try:
                off += self.sock.send(mv[off:off + chunk])
                continue
            except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                pass
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError) as e:
                self.send_error = "%s" % type(e).__name__
                return False
            if time.time() > deadline:
                raise Fail("timeout writing to the server (it stopped reading; %d/%d bytes written)"
                           % (off, len(data)))
            r, _, _ = select.select([self.sock], [self.sock], [], 0.2)
            if r and not self.eof:
                self._recv_some()
        return True

    def _next_frame(self, deadline):
        """Next frame from the socket, None at EOF; raises Fail on timeout."""
        while True:
            if len(self.rbuf) >= 9:
                n = int.from_bytes(self.rbuf[:3], "big")
                if len(self.rbuf) >= 9 + n:
                    head, body = bytes(self.rbuf[:9]), bytes(self.rbuf[9:9 + n])
                    del self.rbuf[:9 + n]
                    return head, body
            if self.eof:
                return None
            pending = isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()
            if not pending:
                left = deadline - time.time()
                if left <= 0:
                    raise TimeoutError()
                r, _, _ = select.select([self.sock], [], [], min(left, 0.5))
                if not r:
                    continue
            self._recv_some()

    # -- frame handling
    def stream(self, sid):
        s = self.streams.get(sid)
        if s is None:
            s = self.streams[sid] = Stream(sid)
            s.recv_window = self.local[S_INITIAL_WINDOW_SIZE]
            s.send_window = self.peer_initial_window
        return s

    def _process(self, head, body):
        try:
            f, _ = hf.Frame.parse_frame_header(memoryview(head))
            f.parse_body(memoryview(body))
        except Exception as e:  # hyperframe refuses malformed frames from the server
            t = head[3]
            self.violations.append("malformed %s frame from server: %s" % (
                FRAME_NAMES[t] if t < 10 else hex(t), e))
            return None
        t, flags, sid = head[3], head[4], f.stream_id
        self.frames.append((t, flags, sid, len(body)))
        if self.first_frame is None:
            self.first_frame = (t, flags, sid, len(body))
        if self.hdr_block is not None and t != CONTINUATION:
            self.violations.append("server sent %s inside a header block" % FRAME_NAMES[t] if t < 10 else hex(t))
        if t == SETTINGS:
            if flags & ACK:
                self.settings_acks += 1
            else:
                self.server_settings_frames += 1
                for k, v in f.settings.items():
                    self.server_settings[k] = v
                    if k == S_INITIAL_WINDOW_SIZE:
                        delta = v - self.peer_initial_window
                        self.peer_initial_window = v
                        for s in self.streams.values():
                            s.send_window += delta
                    elif k == S_MAX_FRAME_SIZE:
                        self.peer_max_frame = v
                    elif k == S_HEADER_TABLE_SIZE:
                        self.enc.header_table_size = min(v, 4096)
                if self.auto_ack:
                    self.send(settings_frame(flags=ACK))
        elif t == PING:
            self.pings.append((flags, bytes(f.opaque_data)))
            if not flags & ACK:
                self.send(ping_frame(bytes(f.opaque_data), ACK))
        elif t == GOAWAY:
            self.goaway = (f.last_stream_id, f.error_code, bytes(f.additional_data))
        elif t == WINDOW_UPDATE:
            if sid == 0:
                self.send_conn_window += f.window_increment
                self.conn_window_updates += 1
            else:
                s = self.stream(sid)
                s.send_window += f.window_increment
                s.window_updates += 1
        elif t == RST_STREAM:
            self.stream(sid).reset = f.error_code
        elif t == PUSH_PROMISE:
            self.pushes += 1
            self.violations.append("PUSH_PROMISE from server on stream %d" % sid)
        elif t in (HEADERS, CONTINUATION):
            if t == HEADERS:
                if self.hdr_block is not None:
                    self.violations.append("HEADERS while a header block was open")
                self.hdr_block = (sid, bytearray(f.data))
            else:
                if self.hdr_block is None or self.hdr_block[0] != sid:
                    self.violations.append("CONTINUATION without an open header block on stream %d" % sid)
                    return f
                self.hdr_block[1].extend(f.data)
            if t == HEADERS and flags & END_STREAM:
                self.stream(sid).ended_pending = True
            if flags & END_HEADERS:
                bsid, block = self.hdr_block
                self.hdr_block = None
                try:
                    hdrs = self.dec.decode(bytes(block))
                except Exception as e:
                    self.violations.append("cannot decode server header block on stream %d: %s" % (bsid, e))
                    hdrs = []
                s = self.stream(bsid)
                d = {}
                for k, v in hdrs:
                    d[k] = v
                st = d.get(":status", "")
                if s.headers is None and st.startswith("1"):
                    s.informational.append(d)
                elif s.headers is None:
                    s.headers = d
                else:
                    s.trailers = d
                if getattr(s, "ended_pending", False):
                    s.ended = True
        elif t == DATA:
            s = self.stream(sid)
            flen = len(body)  # flow-controlled length includes padding
            self.recv_conn_window -= flen
            s.recv_window -= flen
            if self.recv_conn_window < 0:
                self.violations.append("server overran the connection window by %d bytes" % -self.recv_conn_window)
            if s.recv_window < 0:
                self.violations.append("server overran stream %d's window by %d bytes" % (sid, -s.recv_window))
            s.body += f.data
            s.data_frames += 1
            if flags & END_STREAM:
                s.ended = True
            if self.auto_window and flen:
                self.send(window_update(0, flen))
                self.recv_conn_window += flen
                if not s.ended:
                    self.send(window_update(sid, flen))
                    s.recv_window += flen
        return f

    def until(self, pred, what, timeout=None, allow_eof=False):
        """Read frames until pred() holds. EOF: returns if allow_eof, else Fail. Timeout: Fail."""
        deadline = time.time() + (timeout or self.timeout)
        while not pred():
            try:
                fr = self._next_frame(deadline)
            except TimeoutError:
                raise Fail("timeout (%.1fs) waiting for %s; %s" % (timeout or self.timeout, what, self.summary()))
            if fr is None:
                if pred() or allow_eof:
                    return
                raise Fail("connection closed (%s) while waiting for %s; %s" % (self.eof_reason, what,
                                                                                  self.summary()))
            self._process(*fr)

    def drain(self, timeout):
        """Read whatever arrives within timeout (for 'the server must not do X' checks); stops at EOF."""
        try:
            self.until(lambda: self.eof, "quiet period", timeout=timeout, allow_eof=True)
        except Fail:
            pass

    def summary(self):
        parts = []
        if self.goaway:
            parts.append("GOAWAY %s last_stream_id=%d%s" % (err_name(self.goaway[1]), self.goaway[0],
                                                            " debug=%r" % self.goaway[2][:80] if self.goaway[2] else ""))
        if self.eof:
            parts.append("closed (%s)" % self.eof_reason)
        tail = self.frames[-6:]
        if tail:
            parts.append("last frames received: " + " ".join(
                "%s(sid=%d,flags=0x%x,len=%d)" % (FRAME_NAMES[t] if t < 10 else hex(t), sid, fl, ln)
                for t, fl, sid, ln in tail))
        else:
            parts.append("no frames received")
        if self.violations:
            parts.append("violations: " + "; ".join(self.violations[:3]))
        return ", ".join(parts)

    def handshake(self):
        self.until(lambda: self.server_settings_frames >= 1, "server SETTINGS")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- requests
    def new_sid(self):
        sid = self.next_sid
        self.next_sid += 2
        return sid

    def authority(self):
        return "%s:%d" % (self.opts.host, self.opts.port)

    def req_headers(self, method="GET", path="/", extra=()):
        return [(":method", method), (":scheme", "https" if self.opts.tls else "http"),
                (":authority", self.authority()), (":path", path)] + list(extra)

    def send_block(self, sid, block, end_stream, pad=None, prio=None):
        """HEADERS (+ CONTINUATIONs when the block is larger than the server's MAX_FRAME_SIZE)."""
        step = self.peer_max_frame - 64
        first, rest = block[:step], block[step:]
        out = [headers_frame(sid, first, end_stream=end_stream, end_headers=not rest, pad=pad, prio=prio)]
        while rest:
            part, rest = rest[:step], rest[step:]
            out.append(continuation_frame(sid, part, end_headers=not rest))
        return self.send(b"".join(out))

    def request(self, method="GET", path="/", extra=(), body=None, end=True, headers=None, sid=None):
        """Send a request; body bytes are sent within the server's flow-control windows. Returns the Stream."""
        sid = sid or self.new_sid()
        s = self.stream(sid)
        hdrs = headers if headers is not None else self.req_headers(method, path, extra)
        if body is not None and headers is None and not any(k == "content-length" for k, _ in extra):
            hdrs.append(("content-length", str(len(body))))
        self.send_block(sid, self.enc.encode(hdrs), end_stream=(body is None and end))
        if body is not None:
            self.send_body(s, body, end)
        return s

    def send_body(self, s, body, end=True):
        off = 0
        while off < len(body):
            if s.done:
                return off  # the server answered or reset early: legal, stop sending
            n = min(s.send_window, self.send_conn_window, self.peer_max_frame, len(body) - off)
            if n <= 0:
                cw, sw = self.conn_window_updates, s.window_updates
                self.until(lambda: self.conn_window_updates > cw or s.window_updates > sw or s.done,
                           "WINDOW_UPDATE (sent %d of %d body bytes)" % (off, len(body)))
                continue
            last = off + n == len(body)
            if not self.send(data_frame(s.sid, body[off:off + n], end=end and last)):
                raise Fail("connection broken (%s) after %d of %d body bytes; %s" % (
                    self.send_error, off, len(body), self.summary()))
            s.send_window -= n
            self.send_conn_window -= n
            off += n
        if not body and end:
            self.send(data_frame(s.sid, b"", end=True))
        return off

    def wait(self, streams, what=None):
        streams = streams if isinstance(streams, list) else [streams]
        self.until(lambda: all(s.done for s in streams), what or "response on stream(s) %s" % (
            ",".join(str(s.sid) for s in streams)))

    def get_ok(self, path="/", what="follow-up GET"):
        """GET path on this connection; Fail unless 200 with content-length matching the body."""
        s = self.request("GET", path)
        self.wait(s, "%s %s" % (what, path))
        if s.status != "200" or s.reset is not None:
            raise Fail("%s %s: %s; %s" % (what, path, s.describe(), self.summary()))
        cl = s.headers.get("content-length")
        if cl is not None and int(cl) != len(s.body):
            raise Fail("%s %s: content-length %s but %d body bytes" % (what, path, cl, len(s.body)))
        return s

    def expect_goaway(self, code, what="GOAWAY %s", also=()):
        """Connection error: GOAWAY with code (or one of also), and then the connection is closed."""
        self.until(lambda: self.goaway is not None, what % err_name(code), allow_eof=True)
        if self.goaway is None:
            raise Fail("connection closed (%s) without GOAWAY, want GOAWAY %s; %s" % (
                self.eof_reason, err_name(code), self.summary()))
        got = self.goaway[1]
        if got != code and got not in also:
            raise Fail("GOAWAY %s, want %s; %s" % (err_name(got), err_name(code), self.summary()))
        # RFC 9113 5.4.1: after GOAWAY for a connection error the endpoint MUST close the connection
        try:
            self.until(lambda: self.eof, "connection close after GOAWAY", allow_eof=True)
        except Fail:
            raise Fail("GOAWAY %s sent but the connection was not closed within %.0fs" % (err_name(got),
                                                                                        self.timeout))
        return "GOAWAY %s (last_stream_id=%d%s), connection closed" % (
            err_name(got), self.goaway[0], ", debug %r" % self.goaway[2][:60] if self.goaway[2] else "")

    def expect_rst(self, s, code, also=()):
        """Stream error: RST_STREAM with code on s (a response before it is allowed), no GOAWAY; then the same
        connection must still serve a GET."""
        self.until(lambda: s.reset is not None or s.ended or self.goaway is not None,
                   "RST_STREAM %s on stream %d" % (err_name(code), s.sid), allow_eof=True)
        if s.reset is None:
            if self.goaway is not None:
                raise Fail("connection error GOAWAY %s instead of RST_STREAM %s on stream %d; %s" % (
                    err_name(self.goaway[1]), err_name(code), s.sid, self.summary()))
            if self.eof:
                raise Fail("connection closed (%s) instead of RST_STREAM %s; %s" % (
                    self.eof_reason, err_name(code), self.summary()))
            raise Fail("stream %d was answered (%s) instead of reset with %s" % (s.sid, s.describe(),
                                                                                 err_name(code)))
        if s.reset != code and s.reset not in also:
            raise Fail("RST_STREAM %s on stream %d, want %s (%s)" % (err_name(s.reset), s.sid, err_name(code),
                                                                     s.describe()))
        self.get_ok("/", "GET after the stream error")
        if self.goaway is not None:
            raise Fail("GOAWAY %s after the stream error" % err_name(self.goaway[1]))
        resp = " after a %s response" % s.status if s.headers else ""
        return "RST_STREAM %s on stream %d%s; next GET on the same connection 200" % (
            err_name(s.reset), s.sid, resp)

    def no_violations(self):
        if self.violations:
            raise Fail("; ".join(self.violations[:4]))


# ---- checks ------------------------------------------------------------------------------------------------------
# Each check gets the options, returns a detail string (PASS) or raises Fail. Connections are closed by run_check.
OPEN = []


def conn(opts, **kw):
    c = Conn(opts, **kw)
    OPEN.append(c)
    return c


# connection
def check_preface_settings(o):
    c = conn(o)
    c.until(lambda: c.settings_acks >= 1, "SETTINGS ACK for our SETTINGS")
    t = c.first_frame
    if t[0] != SETTINGS or t[1] & ACK:
        raise Fail("first server frame is %s flags 0x%x, not SETTINGS" % (FRAME_NAMES[t[0]], t[1]))
    c.get_ok("/")
    c.no_violations()
    st = ", ".join("%s=%d" % (SETTING_NAMES.get(k, hex(k)), v) for k, v in sorted(c.server_settings.items()))
    return "server preface SETTINGS {%s}; our SETTINGS ACKed; GET / 200" % st


def check_server_settings(o):
    c = conn(o)
    ss = c.server_settings
    bad = []
    mcs = ss.get(S_MAX_CONCURRENT_STREAMS)
    if mcs is None or mcs < 100:
        bad.append("MAX_CONCURRENT_STREAMS %s (want >= 100)" % mcs)
    if ss.get(S_ENABLE_CONNECT_PROTOCOL) != 1:
        bad.append("ENABLE_CONNECT_PROTOCOL %s (want 1)" % ss.get(S_ENABLE_CONNECT_PROTOCOL))
    if ss.get(S_ENABLE_PUSH, 0) != 0:
        bad.append("ENABLE_PUSH %s (a server MUST NOT send other than 0)" % ss.get(S_ENABLE_PUSH))
    if ss.get(S_INITIAL_WINDOW_SIZE, 0) > MAX_WINDOW:
        bad.append("INITIAL_WINDOW_SIZE %d > 2^31-1" % ss[S_INITIAL_WINDOW_SIZE])
    if not 16384 <= ss.get(S_MAX_FRAME_SIZE, 16384) <= (1 << 24) - 1:
        bad.append("MAX_FRAME_SIZE %d out of range" % ss[S_MAX_FRAME_SIZE])
    if bad:
        raise Fail("; ".join(bad))
    return "MAX_CONCURRENT_STREAMS=%d, ENABLE_CONNECT_PROTOCOL=1, other values in range" % mcs


def check_ping(o):
    c = conn(o)
    payload = b"\x01lws-rs\xfe"
    c.send(ping_frame(payload))
    c.until(lambda: any(fl & ACK for fl, _ in c.pings), "PING ACK")
    acks = [p for fl, p in c.pings if fl & ACK]
    if acks[0] != payload:
        raise Fail("PING ACK payload %r, sent %r" % (acks[0], payload))
    return "PING answered with ACK and the same 8 bytes"


def check_ping_ack_not_answered(o):
    c = conn(o)
    c.send(ping_frame(b"unsolict", ACK) + ping_frame(b"realping"))
    c.until(lambda: any(fl & ACK for fl, _ in c.pings), "PING ACK")
    acks = [p for fl, p in c.pings if fl & ACK]
    if acks != [b"realping"]:
        raise Fail("PING ACKs %r: an unsolicited PING ACK must not be answered" % acks)
    return "unsolicited PING ACK ignored; PING answered"


def _rejected_preface(o, first):
    """The server must end the connection with GOAWAY PROTOCOL_ERROR or close it; never an HTTP/1 answer,
    which an HTTP/2 client would read as a broken frame (RFC 9113 §3.4)."""
    c = conn(o, preface=False)
    c.send(first)
    c.until(lambda: c.goaway is not None or c.eof, "GOAWAY or close", allow_eof=True)
    if c.goaway is not None and c.goaway[1] != PROTOCOL_ERROR:
        raise Fail("GOAWAY %s, want PROTOCOL_ERROR" % err_name(c.goaway[1]))
    if c.goaway is None and not c.eof:
        raise Fail(c.summary())
    if any(t == HEADERS for t, _, _, _ in c.frames):
        raise Fail("served something after a bad preface")
    if c.goaway is not None:
        c.until(lambda: c.eof, "close after GOAWAY", allow_eof=True)
        return "GOAWAY PROTOCOL_ERROR, closed"
    if c.rbuf:
        raise Fail("closed after %d bytes that are not HTTP/2 frames: %r" % (len(c.rbuf), bytes(c.rbuf[:40])))
    return "connection closed (%s) without an answer" % c.eof_reason


def check_bad_preface(o):
    return _rejected_preface(o, b"PRI * HTTP/2.0\r\n\r\nXY\r\n\r\n" + settings_frame())


def check_garbage_preface(o):
    return _rejected_preface(o, b"INVALID CONNECTION PREFACE\r\n\r\n")


def check_first_frame_not_settings(o):
    c = conn(o, preface=False)
    c.send(PREFACE + ping_frame())
    return c.expect_goaway(PROTOCOL_ERROR)


def check_mid_connection_settings(o):
    # a mid-connection SETTINGS change must be ACKed too, and applied (a smaller window is respected right away)
    c = conn(o)
    acks = c.settings_acks
    c.send(settings_frame([(S_HEADER_TABLE_SIZE, 4096)]))
    c.until(lambda: c.settings_acks >= acks + 2, "ACK of a mid-connection SETTINGS")
    return "mid-connection SETTINGS ACKed"


# requests
def check_get_root(o):
    c = conn(o)
    s = c.get_ok("/", "GET")
    if not s.body:
        raise Fail("empty body")
    if "content-length" not in s.headers:
        raise Fail("no content-length")
    c.no_violations()
    return "200, %d bytes = content-length, content-type %s" % (len(s.body), s.headers.get("content-type"))


def check_head(o):
    c = conn(o)
    g = c.get_ok("/")
    s = c.request("HEAD", "/")
    c.wait(s)
    if s.status != "200":
        raise Fail("HEAD / %s" % s.describe())
    if s.body:
        raise Fail("HEAD response has %d body bytes" % len(s.body))
    if s.headers.get("content-length") not in (None, str(len(g.body))):
        raise Fail("HEAD content-length %s, GET body %d" % (s.headers.get("content-length"), len(g.body)))
    c.get_ok("/")
    return "HEAD / 200, no DATA payload, content-length %s" % s.headers.get("content-length")


def check_404(o):
    c = conn(o)
    s = c.request("GET", "/no-such-file-here")
    c.wait(s)
    if s.status != "404":
        raise Fail(s.describe())
    cl = s.headers.get("content-length")
    if cl is not None and int(cl) != len(s.body):
        raise Fail("content-length %s but %d bytes" % (cl, len(s.body)))
    c.get_ok("/")
    return "404 (%d bytes), connection still serves" % len(s.body)


def check_static_file(o):
    c = conn(o)
    out = []
    for path, ctype in (("/demo.css", "text/css"), ("/demo.js", "javascript"), ("/favicon.ico", "image/")):
        s = c.get_ok(path)
        if ctype not in s.headers.get("content-type", ""):
            raise Fail("%s content-type %s" % (path, s.headers.get("content-type")))
        out.append("%s %d" % (path, len(s.body)))
    return "200 with matching content-length: " + ", ".join(out)


def check_concurrent_100(o):
    c = conn(o)
    n = 100
    c.send(b"".join(headers_frame(c.new_sid(), c.enc.encode(c.req_headers("GET", "/"))) for _ in range(n)))
    sids = list(range(1, 2 * n, 2))
    for sid in sids:
        c.stream(sid)
    ss = [c.streams[sid] for sid in sids]
    c.wait(ss, "%d parallel GETs" % n)
    bad = [(s.sid, s.describe()) for s in ss if s.status != "200" or s.reset is not None]
    if bad:
        raise Fail("%d of %d not 200: %s" % (len(bad), n, bad[:3]))
    lens = {len(s.body) for s in ss}
    if len(lens) != 1:
        raise Fail("different body lengths %s" % sorted(lens))
    c.no_violations()
    return "%d GETs in one write, all 200 with %d bytes" % (n, lens.pop())


def check_multiplex_interleave(o):
    # a 1000-byte stream window makes the server interleave the three responses
    ref = {}
    c0 = conn(o)
    for p in ("/", "/demo.css", "/demo.js"):
        ref[p] = bytes(c0.get_ok(p).body)
    c = conn(o, settings={S_INITIAL_WINDOW_SIZE: 1000}, auto_window=False)
    ss = {p: c.request("GET", p) for p in ref}
    while not all(s.done for s in ss.values()):
        c.until(lambda: all(s.done or s.recv_window <= 0 for s in ss.values()), "DATA up to the stream windows",
                timeout=3)
        upd = b""
        for s in ss.values():
            if not s.done and s.recv_window < 1000:
                upd += window_update(s.sid, 1000 - s.recv_window)
                s.recv_window = 1000
        used = 65535 - c.recv_conn_window
        if used:
            upd += window_update(0, used)
            c.recv_conn_window += used
        c.send(upd)
    c.no_violations()
    order = [sid for t, _, sid, _ in c.frames if t == DATA]
    switches = sum(1 for a, b in zip(order, order[1:]) if a != b)
    for p, s in ss.items():
        if s.status != "200" or bytes(s.body) != ref[p]:
            raise Fail("%s: %s, body differs from a plain GET" % (p, s.describe()))
    if switches < 2:
        raise Fail("responses were not interleaved (DATA stream order %s)" % order[:20])
    return "streams 1,3,5 answered interleaved (%d DATA frames, %d stream switches), bodies intact" % (
        len(order), switches)


def check_post_urlencoded(o):
    c = conn(o)
    body = b"text=%3Cb%3Elws-rs+over+h2%3C%2Fb%3E&send=Send"
    s = c.request("POST", FORM_PATH, extra=[("content-type", "application/x-www-form-urlencoded")], body=body)
    c.wait(s)
    if s.status != "200":
        raise Fail("POST %s: %s" % (FORM_PATH, s.describe()))
    if b"&lt;b&gt;lws-rs over h2&lt;/b&gt;" not in s.body:
        raise Fail("the echoed field is missing from the response: %r" % bytes(s.body[:200]))
    c.get_ok("/")
    return "POST %s urlencoded -> 200 with the field echoed (HTML-escaped)" % FORM_PATH


def check_post_multipart(o):
    c = conn(o)
    b = "lwsrsboundary7d1"
    filedata = b"u" * 1234
    body = ("--%s\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nmultipart-over-h2\r\n"
            "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"upload-sample.txt\"\r\n"
            "Content-Type: text/plain\r\n\r\n" % (b, b)).encode() + filedata + \
        ("\r\n--%s\r\nContent-Disposition: form-data; name=\"upload\"\r\n\r\nUpload\r\n--%s--\r\n" % (b, b)).encode()
    s = c.request("POST", FORM_PATH, extra=[("content-type", "multipart/form-data; boundary=%s" % b)], body=body)
    c.wait(s)
    if s.status != "200":
        raise Fail("POST %s multipart: %s" % (FORM_PATH, s.describe()))
    if b"upload-sample.txt" not in s.body or b"1234" not in s.body or b"multipart-over-h2" not in s.body:
        raise Fail("fields/file not echoed: %r" % bytes(s.body[:300]))
    c.get_ok("/")
    return "POST %s multipart (text + 1234-byte file) -> 200, file name, size and field echoed" % FORM_PATH


def check_upload_1mib(o):
    c = conn(o)
    body = os.urandom(1 << 20)
    iw = c.server_settings.get(S_INITIAL_WINDOW_SIZE, 65535)
    s = c.request("POST", FORM_PATH, extra=[("content-type", "application/x-www-form-urlencoded"),
                                            ("content-length", str(len(body)))], body=b"", end=False)
    sent = c.send_body(s, body)
    c.wait(s, "response to the 1 MiB upload (sent %d bytes)" % sent)
    if s.status not in ("200", "413"):
        raise Fail("1 MiB POST %s (sent %d bytes, %d stream / %d connection WINDOW_UPDATEs): %s" % (
            FORM_PATH, sent, s.window_updates, c.conn_window_updates, s.describe()))
    if s.reset not in (None, NO_ERROR, CANCEL):
        raise Fail("response %s then RST_STREAM %s" % (s.status, err_name(s.reset)))
    c.get_ok("/", "GET after the upload")
    c.no_violations()
    return "server INITIAL_WINDOW_SIZE %d; sent %d of %d bytes, %d stream + %d connection WINDOW_UPDATEs, %s" % (
        iw, sent, len(body), s.window_updates, c.conn_window_updates, s.describe())


def check_upload_connection_window(o):
    # 12 x ~100 kB uploads on one connection exceed the server's connection window: it must send WINDOW_UPDATEs
    c = conn(o)
    c.until(lambda: c.conn_window_updates >= 1 or c.settings_acks >= 1, "server's first frames")
    start = c.send_conn_window
    b = "lwsrsb0undary"
    total = 0
    for i in range(12):
        body = ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f%d.bin\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n" % (b, i)).encode() + b"z" * 99000 + \
            ("\r\n--%s\r\nContent-Disposition: form-data; name=\"upload\"\r\n\r\nUpload\r\n--%s--\r\n"
             % (b, b)).encode()
        s = c.request("POST", FORM_PATH, extra=[("content-type", "multipart/form-data; boundary=%s" % b)],
                      body=body)
        c.wait(s, "response to upload %d" % (i + 1))
        if s.status != "200" or s.reset not in (None, NO_ERROR):
            raise Fail("upload %d of 99000 bytes: %s" % (i + 1, s.describe()))
        total += len(body)
    c.get_ok("/")
    c.no_violations()
    return "12 uploads, %d body bytes on one connection (connection window %d at start): %d connection " \
           "WINDOW_UPDATEs, all 200" % (total, start, c.conn_window_updates)


def check_download_small_window(o):
    win = 1024
    c = conn(o, settings={S_INITIAL_WINDOW_SIZE: win}, auto_window=False)
    s = c.request("GET", "/demo.js")
    updates = 0
    while not s.done:
        try:
            c.until(lambda: s.done or s.recv_window <= 0, "DATA up to the %d-byte window" % win, timeout=3)
        except Fail:
            if s.recv_window == win:
                raise
        c.no_violations()
        if not s.done:
            c.send(window_update(s.sid, win - s.recv_window) + window_update(0, 65535 - c.recv_conn_window))
            s.recv_window, c.recv_conn_window = win, 65535
            updates += 1
    c.no_violations()
    if s.status != "200" or len(s.body) != int(s.headers.get("content-length", -1)):
        raise Fail(s.describe())
    if updates < 2:
        raise Fail("only %d WINDOW_UPDATE rounds for %d bytes with a %d-byte window" % (updates, len(s.body), win))
    return "/demo.js %d bytes in %d DATA frames with INITIAL_WINDOW_SIZE %d: never over the window, resumed " \
           "after each of %d WINDOW_UPDATEs" % (len(s.body), s.data_frames, win, updates)


def check_download_conn_window(o):
    # stream windows large, connection window left at 65535: total DATA must stop at 65535 until we open it
    c = conn(o, settings={S_INITIAL_WINDOW_SIZE: 1 << 20}, auto_window=False)
    ss = [c.request("GET", "/demo.js") for _ in range(6)]  # 6 x 16737 > 65535
    try:
        c.until(lambda: c.recv_conn_window <= 0 or all(s.done for s in ss), "65535 bytes of DATA", timeout=3)
    except Fail:
        if c.recv_conn_window == 65535:
            raise
    c.no_violations()
    if all(s.done for s in ss):
        raise Fail("all responses complete without connection WINDOW_UPDATE")
    before = 65535 - c.recv_conn_window
    c.auto_window = True
    c.send(window_update(0, 65535 - c.recv_conn_window))
    c.recv_conn_window = 65535
    c.wait(ss, "the rest after the connection WINDOW_UPDATE")
    c.no_violations()
    bad = [s.describe() for s in ss if s.status != "200" or len(s.body) != 16737]
    if bad:
        raise Fail("; ".join(bad[:2]))
    return "stopped at %d bytes (connection window), rest after WINDOW_UPDATE" % before


def check_te_trailers_ok(o):
    c = conn(o)
    s = c.request("GET", "/", extra=[("te", "trailers")])
    c.wait(s)
    if s.status != "200":
        raise Fail("te: trailers -> %s" % s.describe())
    return "te: trailers accepted (200)"


def check_no_push(o):
    c = conn(o, settings={S_ENABLE_PUSH: 0})
    c.get_ok("/")
    if c.pushes:
        raise Fail("PUSH_PROMISE with ENABLE_PUSH=0")
    return "no PUSH_PROMISE with ENABLE_PUSH=0"


def check_header_table_size_0(o):
    c = conn(o, settings={S_HEADER_TABLE_SIZE: 0}, table_size=0)
    c.until(lambda: c.settings_acks >= 1, "SETTINGS ACK")
    c.dec.header_table_size = 0  # what we allow from now on; any indexed reference to an insert fails
    for _ in range(3):
        c.get_ok("/")
    c.no_violations()
    return "with HEADER_TABLE_SIZE=0 three responses decode without a dynamic table"


# connection errors
def goaway_check(frames_fn, code, also=(), **kw):
    def fn(o):
        c = conn(o, **kw)
        c.send(frames_fn(c))
        return c.expect_goaway(code, also=also)
    return fn


def _get_block(c, path="/", extra=()):
    return c.enc.encode(c.req_headers("GET", path, extra))


def _backwards(c):
    b1 = headers_frame(5, _get_block(c))
    b2 = headers_frame(3, _get_block(c))
    return b1 + b2


def _oversized_headers(c):
    big = c.peer_max_frame + 1
    block = _get_block(c) + hpack_literal("x-pad", "p" * (big + 100))
    return headers_frame(1, block[:big])


def _oversized_data_conn(c):
    return data_frame(0, b"x" * (c.peer_max_frame + 1))


def _hpack_huffman_bad_padding(c):
    # literal, new name, name "x" plain; value Huffman-coded '0' (5 bits 00000) padded with three 0-bits
    # (padding MUST be the EOS prefix, i.e. 1-bits: RFC 7541 5.2)
    value = bytes([0x80 | 1, 0x00])
    return headers_frame(1, _get_block(c) + b"\x00\x01x" + value)


def _hpack_huffman_long_padding(c):
    # value Huffman-coded 'a' (00011) followed by a whole byte of 1s: padding longer than 7 bits
    value = bytes([0x80 | 2, 0x1F, 0xFF])
    return headers_frame(1, _get_block(c) + b"\x00\x01x" + value)


def _hpack_eos(c):
    # a Huffman string containing the EOS symbol (30 bits of 1s) MUST be a decoding error
    value = bytes([0x80 | 4, 0xFF, 0xFF, 0xFF, 0xFF])
    return headers_frame(1, _get_block(c) + b"\x00\x01x" + value)


CONNECTION_ERRORS = [
    ("data-stream-0", lambda c: data_frame(0, b"hello"), PROTOCOL_ERROR),
    ("headers-stream-0", lambda c: headers_frame(0, _get_block(c)), PROTOCOL_ERROR),
    ("even-stream-id", lambda c: headers_frame(2, _get_block(c)), PROTOCOL_ERROR),
    ("stream-id-backwards", _backwards, PROTOCOL_ERROR),
    ("headers-over-max-frame-size", _oversized_headers, FRAME_SIZE_ERROR),
    ("data-stream-0-over-max-frame-size", _oversized_data_conn, FRAME_SIZE_ERROR, (PROTOCOL_ERROR,)),
    ("settings-bad-length", lambda c: frame(SETTINGS, 0, 0, b"\x00\x04\x00\x01\x00"), FRAME_SIZE_ERROR),
    ("settings-on-stream", lambda c: frame(SETTINGS, 0, 1, b""), PROTOCOL_ERROR),
    ("settings-enable-push-2", lambda c: settings_frame([(S_ENABLE_PUSH, 2)]), PROTOCOL_ERROR),
    ("settings-initial-window-2^31", lambda c: settings_frame([(S_INITIAL_WINDOW_SIZE, 1 << 31)]),
     FLOW_CONTROL_ERROR),
    ("settings-max-frame-size-16383", lambda c: settings_frame([(S_MAX_FRAME_SIZE, 16383)]), PROTOCOL_ERROR),
    ("settings-max-frame-size-2^24", lambda c: settings_frame([(S_MAX_FRAME_SIZE, 1 << 24)]), PROTOCOL_ERROR),
    ("settings-ack-with-payload", lambda c: frame(SETTINGS, ACK, 0, struct.pack("!HI", 3, 100)), FRAME_SIZE_ERROR),
    ("ping-bad-length", lambda c: frame(PING, 0, 0, b"1234567"), FRAME_SIZE_ERROR),
    ("ping-on-stream", lambda c: frame(PING, 0, 1, b"12345678"), PROTOCOL_ERROR),
    ("goaway-on-stream", lambda c: frame(GOAWAY, 0, 1, struct.pack("!II", 0, 0)), PROTOCOL_ERROR),
    ("window-update-0-connection", lambda c: window_update(0, 0), PROTOCOL_ERROR),
    ("window-update-bad-length", lambda c: frame(WINDOW_UPDATE, 0, 0, b"\0\0\1"), FRAME_SIZE_ERROR),
    ("connection-window-overflow", lambda c: window_update(0, MAX_WINDOW) + window_update(0, MAX_WINDOW),
     FLOW_CONTROL_ERROR),
    ("rst-stream-idle", lambda c: rst_frame(1, CANCEL), PROTOCOL_ERROR),
    ("rst-stream-bad-length", lambda c: headers_frame(1, _get_block(c), end_stream=False) +
     frame(RST_STREAM, 0, 1, b"\0\0\0\0\0"), FRAME_SIZE_ERROR),
    ("rst-stream-stream-0", lambda c: rst_frame(0, CANCEL), PROTOCOL_ERROR),
    ("window-update-idle-stream", lambda c: window_update(1, 100), PROTOCOL_ERROR),
    ("data-idle-stream", lambda c: data_frame(1, b"hello"), PROTOCOL_ERROR),
    ("continuation-without-headers", lambda c: continuation_frame(1, _get_block(c)), PROTOCOL_ERROR),
    ("continuation-after-end-headers", lambda c: headers_frame(1, _get_block(c), end_stream=False) +
     continuation_frame(1, b""), PROTOCOL_ERROR),
    ("headers-interrupted-by-ping", lambda c: headers_frame(1, _get_block(c), end_headers=False) + ping_frame(),
     PROTOCOL_ERROR),
    ("continuation-other-stream", lambda c: headers_frame(1, _get_block(c), end_headers=False) +
     continuation_frame(3, b""), PROTOCOL_ERROR),
    ("headers-interrupted-by-headers", lambda c: headers_frame(1, _get_block(c), end_headers=False) +
     headers_frame(3, _get_block(c)), PROTOCOL_ERROR),
    ("unknown-frame-in-header-block", lambda c: headers_frame(1, _get_block(c), end_headers=False) +
     frame(0x21, 0, 1, b"xyz") + continuation_frame(1, b""), PROTOCOL_ERROR),
    ("headers-pad-too-long", lambda c: frame(HEADERS, END_HEADERS | END_STREAM | PADDED, 1,
                                             bytes([200]) + _get_block(c)), PROTOCOL_ERROR),
    ("data-pad-too-long", lambda c: headers_frame(1, _get_block(c), end_stream=False) +
     frame(DATA, PADDED | END_STREAM, 1, bytes([10]) + b"abc"), PROTOCOL_ERROR),
    ("hpack-invalid-index", lambda c: headers_frame(1, _get_block(c) + hpack_int(200, 7, 0x80)),
     COMPRESSION_ERROR),
    ("hpack-index-0", lambda c: headers_frame(1, _get_block(c) + b"\x80"), COMPRESSION_ERROR),
    ("hpack-huffman-bad-padding", _hpack_huffman_bad_padding, COMPRESSION_ERROR),
    ("hpack-huffman-padding-over-7-bits", _hpack_huffman_long_padding, COMPRESSION_ERROR),
    ("hpack-huffman-eos", _hpack_eos, COMPRESSION_ERROR),
    ("hpack-table-size-update-over-limit", lambda c: headers_frame(1, hpack_int(8192, 5, 0x20) + _get_block(c)),
     COMPRESSION_ERROR),
    ("hpack-table-size-update-after-field", lambda c: headers_frame(1, _get_block(c) + hpack_int(100, 5, 0x20)),
     COMPRESSION_ERROR),
    ("hpack-truncated-block", lambda c: headers_frame(1, _get_block(c) + b"\x00\x05ab"), COMPRESSION_ERROR),
    ("push-promise-from-client", lambda c: headers_frame(1, _get_block(c), end_stream=False) +
     frame(PUSH_PROMISE, END_HEADERS, 1, struct.pack("!I", 2) + _get_block(c)), PROTOCOL_ERROR),
]


# stream errors
def stream_error_check(make, code, also=()):
    """make(c) -> Stream after sending the offending frames."""
    def fn(o):
        c = conn(o)
        s = make(c)
        return c.expect_rst(s, code, also=also)
    return fn


def _raw_request(headers, end=True):
    def make(c):
        sid = c.new_sid()
        s = c.stream(sid)
        block = b"".join(hpack_literal(k, v) for k, v in headers(c))
        c.send(headers_frame(sid, block, end_stream=end))
        return s
    return make


def _std(c, method="GET", path="/"):
    return c.req_headers(method, path)


def _without(name):
    return lambda c: [(k, v) for k, v in _std(c) if k != name]


def _with(*extra):
    return lambda c: _std(c) + list(extra)


def _cl_mismatch(declared, sent):
    def make(c):
        sid = c.new_sid()
        s = c.stream(sid)
        hdrs = c.req_headers("POST", FORM_PATH, [("content-type", "application/x-www-form-urlencoded"),
                                                 ("content-length", str(declared))])
        c.send(headers_frame(sid, c.enc.encode(hdrs), end_stream=False) + data_frame(sid, sent, end=True))
        return s
    return make


def _data_after_end_stream(c):
    sid = c.new_sid()
    s = c.stream(sid)
    c.send(headers_frame(sid, _get_block(c), end_stream=True) + data_frame(sid, b"late", end=True))
    return s


def _data_after_client_reset(c):
    """DATA on a stream we (the client) reset ourselves: the server must say STREAM_CLOSED (RFC 9113 §5.1)."""
    s = _open_post(c)
    c.send(rst_frame(s.sid, CANCEL) + data_frame(s.sid, b"text=a", end=True))
    return s


def check_headers_after_client_reset(o):
    c = conn(o)
    s = _open_post(c)
    c.send(rst_frame(s.sid, CANCEL) + headers_frame(s.sid, c.enc.encode([("x-late", "1")]), end_stream=True))
    c.until(lambda: s.reset is not None or c.goaway is not None, "STREAM_CLOSED", allow_eof=True)
    got = s.reset if s.reset is not None else (c.goaway[1] if c.goaway else None)
    if got != STREAM_CLOSED:
        raise Fail("want RST_STREAM or GOAWAY STREAM_CLOSED; %s" % c.summary())
    return ("RST_STREAM" if s.reset is not None else "GOAWAY") + " STREAM_CLOSED"


def _open_post(c):
    """A POST whose body we have not sent yet: the stream is open at the server."""
    sid = c.new_sid()
    s = c.stream(sid)
    c.send(headers_frame(sid, c.enc.encode(c.req_headers("POST", FORM_PATH, [
        ("content-type", "application/x-www-form-urlencoded"), ("content-length", "6")])), end_stream=False))
    return s


def _answered_then(c, offending):
    """A GET with content-length 6 and its body still to come, which the server answers at once; only once
    the answer is complete (END_STREAM seen) the offending frames follow: the stream error must not depend on
    whether the response went out first."""
    sid = c.new_sid()
    s = c.stream(sid)
    c.send(headers_frame(sid, c.enc.encode(c.req_headers("GET", "/", [("content-length", "6")])),
                         end_stream=False))
    c.until(lambda: s.ended or s.reset is not None, "the complete answer before the body")
    if s.reset is not None:
        raise Fail("reset (%s) before the body was sent" % err_name(s.reset))
    s.ended = False  # expect_rst waits for the reset now
    c.send(offending(sid))
    return s


def _cl_mismatch_after_response(c):
    return _answered_then(c, lambda sid: data_frame(sid, b"too long for 6", end=True))


def _wu_0_after_response(c):
    return _answered_then(c, lambda sid: window_update(sid, 0))


def _stream_wu_0(c):
    s = _open_post(c)
    c.send(window_update(s.sid, 0))
    return s


def _stream_window_overflow(c):
    s = _open_post(c)
    c.send(window_update(s.sid, MAX_WINDOW))
    return s


def _priority_self(c):
    sid = c.new_sid()
    s = c.stream(sid)
    c.send(priority_frame(sid, sid))
    return s


def _headers_priority_self(c):
    sid = c.new_sid()
    s = c.stream(sid)
    c.send(headers_frame(sid, _get_block(c), prio=(sid, 16)))
    return s


def _trailers_without_end_stream(c):
    s = _open_post(c)
    c.send(data_frame(s.sid, b"text=a") + headers_frame(s.sid, c.enc.encode([("x-trailer", "t")]),
                                                         end_stream=False))
    return s


def _pseudo_in_trailers(c):
    s = _open_post(c)
    c.send(data_frame(s.sid, b"text=a") + headers_frame(s.sid, b"".join(
        hpack_literal(k, v) for k, v in [(":path", "/x")]), end_stream=True))
    return s


def _priority_bad_length(c):
    sid = c.new_sid()
    s = c.stream(sid)
    c.send(headers_frame(sid, _get_block(c), end_stream=False) + frame(PRIORITY, 0, sid, b"\0\0\0\0"))
    return s


STREAM_ERRORS = [
    ("uppercase-header-name", _raw_request(_with(("X-Upper", "1"))), PROTOCOL_ERROR),
    ("missing-method", _raw_request(_without(":method")), PROTOCOL_ERROR),
    ("missing-scheme", _raw_request(_without(":scheme")), PROTOCOL_ERROR),
    ("missing-path", _raw_request(_without(":path")), PROTOCOL_ERROR),
    ("empty-path", _raw_request(lambda c: [(k, "" if k == ":path" else v) for k, v in _std(c)]), PROTOCOL_ERROR),
    ("duplicate-path", _raw_request(lambda c: _std(c)[:4] + [(":path", "/")]), PROTOCOL_ERROR),
    ("pseudo-after-regular", _raw_request(lambda c: _std(c)[:3] + [("x-a", "1")] + _std(c)[3:]), PROTOCOL_ERROR),
    ("unknown-pseudo-header", _raw_request(_with((":foo", "bar"))), PROTOCOL_ERROR),
    ("status-in-request", _raw_request(_with((":status", "200"))), PROTOCOL_ERROR),
    ("header-connection", _raw_request(_with(("connection", "keep-alive"))), PROTOCOL_ERROR),
    ("header-transfer-encoding", _raw_request(_with(("transfer-encoding", "chunked"))), PROTOCOL_ERROR),
    ("header-keep-alive", _raw_request(_with(("keep-alive", "timeout=5"))), PROTOCOL_ERROR),
    ("header-upgrade", _raw_request(_with(("upgrade", "websocket"))), PROTOCOL_ERROR),
    ("header-proxy-connection", _raw_request(_with(("proxy-connection", "keep-alive"))), PROTOCOL_ERROR),
    ("te-not-trailers", _raw_request(_with(("te", "gzip"))), PROTOCOL_ERROR),
    ("header-value-crlf", _raw_request(_with(("x-a", "a\r\nx-b: b"))), PROTOCOL_ERROR),
    ("header-value-nul", _raw_request(_with(("x-a", "a\0b"))), PROTOCOL_ERROR),
    ("header-name-space", _raw_request(_with(("x a", "1"))), PROTOCOL_ERROR),
    ("header-name-colon", _raw_request(_with(("x:a", "1"))), PROTOCOL_ERROR),
    ("content-length-more-than-data", _cl_mismatch(10, b"text=a"), PROTOCOL_ERROR),
    ("content-length-less-than-data", _cl_mismatch(2, b"text=a"), PROTOCOL_ERROR),
    ("data-after-end-stream", _data_after_end_stream, STREAM_CLOSED),
    ("data-after-client-reset", _data_after_client_reset, STREAM_CLOSED),
    ("content-length-mismatch-after-response", _cl_mismatch_after_response, PROTOCOL_ERROR),
    ("window-update-0-after-response", _wu_0_after_response, PROTOCOL_ERROR),
    ("window-update-0-stream", _stream_wu_0, PROTOCOL_ERROR),
    ("stream-window-overflow", _stream_window_overflow, FLOW_CONTROL_ERROR),
    ("priority-self-dependency", _priority_self, PROTOCOL_ERROR),
    ("headers-priority-self-dependency", _headers_priority_self, PROTOCOL_ERROR),
    ("priority-bad-length", _priority_bad_length, FRAME_SIZE_ERROR),
    ("trailers-without-end-stream", _trailers_without_end_stream, PROTOCOL_ERROR),
    ("pseudo-header-in-trailers", _pseudo_in_trailers, PROTOCOL_ERROR),
]


# ignored / accepted
def check_unknown_frames_ignored(o):
    c = conn(o)
    sid = c.new_sid()
    c.send(frame(0x20, 0xFF, 0, b"unknown on stream 0") + frame(0xFA, 0, 1, b"unknown on idle stream 1"))
    s = c.request("GET", "/", sid=sid, end=False)
    c.send(frame(0x21, 0, sid, b"unknown on open stream") + data_frame(sid, b"", end=True))
    c.wait(s)
    if s.status != "200":
        raise Fail(s.describe())
    c.get_ok("/")
    return "unknown types 0x20/0xfa/0x21 on stream 0, an idle and an open stream ignored; GETs 200"


def check_priority_accepted(o):
    c = conn(o)
    c.send(priority_frame(11, 0) + priority_frame(13, 11, 200, True))  # idle streams
    s = c.request("GET", "/", end=False)
    c.send(priority_frame(s.sid, 0, 256) + data_frame(s.sid, b"", end=True))
    c.wait(s)
    if s.status != "200":
        raise Fail(s.describe())
    s2 = c.stream(15)
    c.next_sid = 17
    c.send(headers_frame(15, _get_block(c), prio=(1, 32)))
    c.wait(s2)
    if s2.status != "200":
        raise Fail("HEADERS with PRIORITY flag: %s" % s2.describe())
    c.no_violations()
    return "PRIORITY on idle and open streams and HEADERS with priority accepted (RFC 9113: ignored)"


def check_padding(o):
    c = conn(o)
    sid = c.new_sid()
    s = c.stream(sid)
    body = b"text=padded-data&send=Send"
    hdrs = c.req_headers("POST", FORM_PATH, [("content-type", "application/x-www-form-urlencoded"),
                                             ("content-length", str(len(body)))])
    c.send(headers_frame(sid, c.enc.encode(hdrs), end_stream=False, pad=17) +
           data_frame(sid, body[:10], pad=0) + data_frame(sid, body[10:], end=True, pad=200))
    c.wait(s)
    if s.status != "200" or b"padded-data" not in s.body:
        raise Fail(s.describe())
    c.get_ok("/")
    return "padded HEADERS (17) and DATA (0 and 200 pad bytes) POST -> 200 with the field echoed"


def check_unknown_settings(o):
    c = conn(o)
    c.until(lambda: c.settings_acks >= 1, "ACK of our first SETTINGS")
    n = c.settings_acks
    c.send(settings_frame([(0xFF, 1), (0x1234, 0xFFFFFFFF), (0x7, 5)]))
    c.until(lambda: c.settings_acks > n, "ACK of SETTINGS with unknown ids")
    c.get_ok("/")
    return "SETTINGS with ids 0xff, 0x1234, 0x7 ACKed and ignored"


def check_recently_reset_server(o):
    # the server resets stream 1 (malformed); our HEADERS' DATA/WINDOW_UPDATE still in flight must be ignored
    c = conn(o)
    s = c.stream(1)
    c.next_sid = 3
    block = b"".join(hpack_literal(k, v) for k, v in _std(c, "POST", FORM_PATH) + [("X-Upper", "1")])
    c.send(headers_frame(1, block, end_stream=False) + data_frame(1, b"a" * 1000) + window_update(1, 1000) +
           data_frame(1, b"b" * 1000, end=True))
    c.until(lambda: s.done, "RST_STREAM on stream 1")
    c.send(data_frame(1, b"c" * 100) + priority_frame(1, 0))
    c.get_ok("/", "GET after frames on the reset stream")
    return "DATA/WINDOW_UPDATE/PRIORITY on a stream the server reset (%s) ignored" % s.describe()


def check_recently_reset_client(o):
    c = conn(o)
    s = c.request("GET", "/demo.js")
    c.send(rst_frame(s.sid, CANCEL) + priority_frame(s.sid, 0) + rst_frame(s.sid, CANCEL))
    c.get_ok("/", "GET after our RST_STREAM")
    if c.goaway:
        raise Fail(c.summary())
    return "our RST_STREAM then PRIORITY and a second RST_STREAM on the reset stream accepted"


# limits
def check_max_concurrent_refused(o):
    c = conn(o)
    mcs = c.server_settings.get(S_MAX_CONCURRENT_STREAMS)
    if not mcs or mcs > 1000:
        raise Fail("server MAX_CONCURRENT_STREAMS %s: cannot test" % mcs)
    extra = 5
    ss = [_open_post(c) for _ in range(mcs + extra)]
    c.until(lambda: all(s.reset is not None for s in ss[mcs:]) or c.goaway is not None,
            "RST_STREAM REFUSED_STREAM on the %d streams over the limit" % extra)
    if c.goaway:
        raise Fail("GOAWAY instead of REFUSED_STREAM; %s" % c.summary())
    early = [s.sid for s in ss[:mcs] if s.reset is not None]
    codes = {err_name(s.reset) for s in ss[mcs:]}
    if early:
        raise Fail("streams within the limit were reset: %s" % early[:5])
    if codes != {"REFUSED_STREAM"}:
        raise Fail("over-limit streams reset with %s, want REFUSED_STREAM" % codes)
    first = ss[0]
    c.send(data_frame(first.sid, b"text=a", end=True))
    c.wait(first, "response of the first open stream")
    if first.status != "200":
        raise Fail("first stream after the refusals: %s" % first.describe())
    c.get_ok("/", "GET after the refusals")
    return "%d open streams accepted (MAX_CONCURRENT_STREAMS %d), %d more got RST_STREAM REFUSED_STREAM, " \
           "no GOAWAY; connection still serves" % (mcs, mcs, extra)


def flood_check(unit, count, code=ENHANCE_YOUR_CALM, what="", setup=None, batch=200):
    """Send unit(c, i) frames (batched) until GOAWAY or count; GOAWAY code expected, then the server alive."""
    def fn(o):
        rss0 = rss_kib(o.server_pid)
        c = conn(o)
        ctx = setup(c) if setup else None
        sent = 0
        while sent < count and c.goaway is None and not c.eof:
            buf = b"".join(unit(c, sent + i, ctx) for i in range(batch))
            if not c.send(buf):
                break
            sent += batch
        detail = c.expect_goaway(code)
        rss1 = rss_kib(o.server_pid)
        growth = "" if rss0 is None or rss1 is None else ", server RSS %+d KiB" % (rss1 - rss0)
        if rss0 is not None and rss1 is not None and rss1 - rss0 > 64 * 1024:
            raise Fail("server RSS grew by %d KiB during the flood" % (rss1 - rss0))
        fresh = conn(o)
        fresh.get_ok("/", "GET on a new connection after the flood")
        return "%s after %d %s; %s%s; new connection GET 200" % (detail.split(",")[0], sent, what, detail, growth)
    return fn


def rss_kib(pid):
    if not pid:
        return None
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _rapid_reset_unit(c, i, ctx):
    sid = c.new_sid()
    return headers_frame(sid, ctx) + rst_frame(sid, CANCEL)


def _rapid_reset_setup(c):
    c.enc = hpack.Encoder()
    return b"".join(hpack_literal(k, v) for k, v in c.req_headers("GET", "/"))


def _continuation_flood_setup(c):
    c.send(headers_frame(1, _get_block(c), end_headers=False))


def _big_continuation_setup(c):
    c.send(headers_frame(1, _get_block(c) + b"\x00\x06x-junk" + hpack_int(1 << 27, 7, 0), end_headers=False))


def _empty_data_setup(c):
    s = _open_post(c)
    return s.sid


def check_oversized_header_list(o):
    c = conn(o)
    sid = c.new_sid()
    s = c.stream(sid)
    # literal without indexing, no Huffman (python hpack's Huffman coder needs seconds for 100 KiB)
    c.send_block(sid, _get_block(c) + hpack_literal("cookie", "c=" + "x" * (100 * 1024)), end_stream=True)
    c.until(lambda: s.done or c.goaway is not None, "431, RST_STREAM or GOAWAY for a 100 KiB header", allow_eof=True)
    if s.status == "431" or s.reset is not None:
        outcome = s.describe()
        if c.goaway is None and not c.eof:
            c.get_ok("/", "GET after the oversized header list")
            outcome += ", same connection still serves"
    elif c.goaway is not None:
        outcome = "GOAWAY %s" % err_name(c.goaway[1])
    elif c.eof:
        raise Fail("connection closed without GOAWAY (%s)" % c.summary())
    else:
        raise Fail("100 KiB header list accepted: %s (server announces MAX_HEADER_LIST_SIZE %s)" % (
            s.describe(), c.server_settings.get(S_MAX_HEADER_LIST_SIZE)))
    fresh = conn(o)
    fresh.get_ok("/", "GET on a new connection")
    return "100 KiB cookie -> %s; new connection GET 200" % outcome


def check_graceful_client_goaway(o):
    c = conn(o)
    s = _open_post(c)
    g = c.request("GET", "/demo.js")
    c.send(goaway_frame(0, NO_ERROR, b"client going away"))
    c.send(data_frame(s.sid, b"text=a", end=True))
    c.until(lambda: s.done and g.done, "the open streams to finish after our GOAWAY", allow_eof=True)
    if s.status != "200" or g.status != "200" or len(g.body) != int(g.headers.get("content-length", -1)):
        raise Fail("after our GOAWAY: POST %s; GET %s; %s" % (s.describe(), g.describe(), c.summary()))
    return "after our GOAWAY the open POST and GET completed (200, 200)"


# RFC 8441
def check_rfc8441_settings(o):
    c = conn(o)
    v = c.server_settings.get(S_ENABLE_CONNECT_PROTOCOL)
    if v != 1:
        raise Fail("SETTINGS_ENABLE_CONNECT_PROTOCOL %s" % v)
    return "SETTINGS_ENABLE_CONNECT_PROTOCOL=1"


def ws_connect(c, extra=()):
    hdrs = [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https" if c.opts.tls else "http"),
            (":path", "/"), (":authority", c.authority()), ("sec-websocket-version", "13"),
            ("sec-websocket-protocol", "dumb-increment-protocol"),
            ("origin", "%s://%s" % ("https" if c.opts.tls else "http", c.authority()))] + list(extra)
    sid = c.new_sid()
    s = c.stream(sid)
    c.send_block(sid, c.enc.encode(hdrs), end_stream=False)
    c.until(lambda: s.headers is not None or s.done or c.goaway is not None, "extended CONNECT response")
    if s.status != "200" or s.done:
        raise Fail("CONNECT :protocol websocket -> %s; %s" % (s.describe(), c.summary()))
    return s


def _ws_counters(s, deflate):
    out = []
    for b0, masked, pl in ws_parse(s.body):
        if masked:
            raise Fail("server WebSocket frame is masked")
        if b0 & 0x0F != 1:
            continue
        if b0 & 0x40:
            if not deflate:
                raise Fail("RSV1 set without permessage-deflate")
            pl = zlib.decompressobj(-15).decompress(pl + b"\x00\x00\xff\xff")
        out.append(pl)
    return out


def check_rfc8441_websocket(o):
    c = conn(o)
    s = ws_connect(c)
    c.until(lambda: len(_ws_counters(s, False)) >= 3 or s.done, "3 dumb-increment messages over the stream")
    msgs = _ws_counters(s, False)
    nums = [int(m) for m in msgs[:3]]
    if nums != sorted(nums) or len(set(nums)) != 3:
        raise Fail("counter messages %r are not increasing" % msgs[:3])
    c.send(data_frame(s.sid, ws_frame(0x8, struct.pack("!H", 1000))))
    c.until(lambda: any(b0 & 0x0F == 8 for b0, _, _ in ws_parse(s.body)) or s.done, "WebSocket close reply")
    c.get_ok("/", "GET on the same connection")
    return "CONNECT :protocol websocket -> 200 (subprotocol %s), counters %s, close answered" % (
        s.headers.get("sec-websocket-protocol"), nums)


def check_rfc8441_permessage_deflate(o):
    c = conn(o)
    s = ws_connect(c, [("sec-websocket-extensions", "permessage-deflate; client_max_window_bits")])
    ext = s.headers.get("sec-websocket-extensions", "")
    if "permessage-deflate" not in ext:
        raise Fail("permessage-deflate not negotiated (sec-websocket-extensions %r)" % ext)
    c.until(lambda: len(_ws_counters(s, True)) >= 2 or s.done, "2 messages")
    msgs = _ws_counters(s, True)
    return "negotiated %r, messages %r" % (ext, [bytes(m) for m in msgs[:2]])


CHECKS = [
    ("conn/preface-settings", check_preface_settings),
    ("conn/server-settings", check_server_settings),
    ("conn/ping", check_ping),
    ("conn/ping-ack-not-answered", check_ping_ack_not_answered),
    ("conn/bad-preface", check_bad_preface),
    ("conn/garbage-instead-of-preface", check_garbage_preface),
    ("conn/headers-after-client-reset", check_headers_after_client_reset),
    ("conn/first-frame-not-settings", check_first_frame_not_settings),
    ("conn/mid-connection-settings-acked", check_mid_connection_settings),
    ("req/get-root", check_get_root),
    ("req/head", check_head),
    ("req/404", check_404),
    ("req/static-files", check_static_file),
    ("req/concurrent-100", check_concurrent_100),
    ("req/multiplex-interleaved", check_multiplex_interleave),
    ("req/post-urlencoded", check_post_urlencoded),
    ("req/post-multipart", check_post_multipart),
    ("req/upload-1mib-flow-control", check_upload_1mib),
    ("req/upload-connection-window", check_upload_connection_window),
    ("req/download-small-stream-window", check_download_small_window),
    ("req/download-connection-window", check_download_conn_window),
    ("req/te-trailers-accepted", check_te_trailers_ok),
    ("req/no-push", check_no_push),
    ("req/header-table-size-0", check_header_table_size_0),
]
for _e in CONNECTION_ERRORS:
    CHECKS.append(("conn-error/" + _e[0], goaway_check(_e[1], _e[2], _e[3] if len(_e) > 3 else ())))
for _e in STREAM_ERRORS:
    CHECKS.append(("stream-error/" + _e[0], stream_error_check(_e[1], _e[2], _e[3] if len(_e) > 3 else ())))
CHECKS += [
    ("ignored/unknown-frame-types", check_unknown_frames_ignored),
    ("ignored/priority-frames", check_priority_accepted),
    ("ignored/padding", check_padding),
    ("ignored/unknown-settings", check_unknown_settings),
    ("ignored/frames-on-stream-reset-by-server", check_recently_reset_server),
    ("ignored/frames-on-stream-reset-by-client", check_recently_reset_client),
    ("limits/max-concurrent-streams-refused", check_max_concurrent_refused),
    ("limits/rapid-reset-flood", flood_check(_rapid_reset_unit, 20000, what="HEADERS+RST_STREAM pairs",
                                             setup=_rapid_reset_setup, batch=100)),
    ("limits/ping-flood", flood_check(lambda c, i, x: ping_frame(struct.pack("!Q", i)), 20000, what="PINGs")),
    ("limits/settings-flood", flood_check(lambda c, i, x: settings_frame(), 20000, what="SETTINGS")),
    ("limits/empty-data-flood", flood_check(lambda c, i, x: data_frame(x, b""), 20000, what="empty DATA frames",
                                            setup=_empty_data_setup)),
    ("limits/continuation-flood", flood_check(lambda c, i, x: continuation_frame(1, b"", end_headers=False),
                                              200000, what="empty CONTINUATIONs", setup=_continuation_flood_setup,
                                              batch=1000)),
    ("limits/continuation-flood-big", flood_check(
        lambda c, i, x: continuation_frame(1, b"j" * 16000, end_headers=False), 8000,
        what="16 kB CONTINUATIONs of one header", setup=_big_continuation_setup, batch=16,
        code=ENHANCE_YOUR_CALM)),
    ("limits/oversized-header-list", check_oversized_header_list),
    ("graceful/client-goaway-finishes-streams", check_graceful_client_goaway),
    ("rfc8441-settings", check_rfc8441_settings),
    ("rfc8441-websocket", check_rfc8441_websocket),
    ("rfc8441-permessage-deflate", check_rfc8441_permessage_deflate),
]


def run_check(opts, name, fn):
    t0 = time.time()
    try:
        detail = fn(opts)
        ok = True
    except Fail as e:
        ok, detail = False, str(e)
    except (OSError, ssl.SSLError, hpack.HPACKError) as e:
        ok, detail = False, "%s: %s" % (type(e).__name__, e)
    finally:
        while OPEN:
            OPEN.pop().close()
    dt = time.time() - t0
    print("%s %s/%s: %s (%.2fs)" % ("PASS" if ok else "FAIL", "tls" if opts.tls else "h2c", name, detail, dt))
    sys.stdout.flush()
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("host", nargs="?", default="127.0.0.1")
    ap.add_argument("port", nargs="?", type=int, default=7681)
    ap.add_argument("--tls", action="store_true", help="TLS + ALPN h2 (cert not verified); default h2c")
    ap.add_argument("--timeout", type=float, default=5.0, help="per-wait timeout in seconds")
    ap.add_argument("--only", default=None, help="comma list of check names or name prefixes")
    ap.add_argument("--server-pid", type=int, default=None, help="lwsws pid: RSS growth checked in the floods")
    ap.add_argument("--list", action="store_true")
    opts = ap.parse_args()
    if opts.list:
        for name, _ in CHECKS:
            print(name)
        return 0
    sel = [p for p in opts.only.split(",") if p] if opts.only else None
    passed = failed = 0
    for name, fn in CHECKS:
        if sel and not any(name == p or name.startswith(p) for p in sel):
            continue
        if run_check(opts, name, fn):
            passed += 1
        else:
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
