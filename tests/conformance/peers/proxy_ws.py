#!/usr/bin/env python3
"""WebSocket clients through the lwsws reverse proxy for tests/conformance/proxy.sh. Run with the lws-peers venv
python (install.sh pyws pyh2: PyPI websockets and h2). The last line printed is the verdict: "OK detail" or
"ERR detail"; the exit status is 0 only with OK.

usage:
  proxy_ws.py echo URL [--size BYTES] [--count N]
      HTTP/1.1 upgrade (ws:// or wss://, certificate not verified) with subprotocol lws-echo, permessage-deflate
      offered: a text message, N binary messages of BYTES random bytes each (every echo compared), a ping, then
      a normal close (1000) answered by the origin
  proxy_ws.py increment URL
      subprotocol dumb-increment-protocol: 3 counter messages arrive in increasing order, then a normal close
  proxy_ws.py h2 HOST PORT PATH [--tls] [--size BYTES]
      RFC 8441 over HTTP/2 (h2c prior knowledge, or TLS with ALPN h2): the server announces
      SETTINGS_ENABLE_CONNECT_PROTOCOL, CONNECT :protocol websocket with subprotocol lws-echo answers 200, a text and
      a binary message of BYTES come back, a close is answered, and a GET on the same connection still works
"""
import argparse
import asyncio
import os
import socket
import ssl
import struct
import sys
import time

TIMEOUT = 20.0


def insecure_ctx(alpn=None):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


# The asyncio client, not websockets.sync: the sync client reads on a thread of its own while the caller writes on
# the same ssl.SSLSocket, and over TLS that fails now and then (close 1006, "did not receive a valid HTTP response")
# even straight to a server without a proxy, when the server sends unprompted (dumb-increment).
def ws_kw(url, **kw):
    if url.startswith("wss:"):
        kw["ssl"] = insecure_ctx()
    return dict(proxy=None, open_timeout=TIMEOUT, close_timeout=TIMEOUT, ping_interval=None, **kw)


async def ws_echo(a):
    from websockets.asyncio.client import connect
    t0 = time.time()
    async with connect(a.url, **ws_kw(a.url, subprotocols=["lws-echo"], max_size=None)) as ws:
        ext = ws.response.headers.get("Sec-WebSocket-Extensions") or "none"
        if ws.subprotocol != "lws-echo":
            return "ERR subprotocol %r (want lws-echo)" % ws.subprotocol
        text = "hello through the proxy \u2713"
        await ws.send(text)
        got = await asyncio.wait_for(ws.recv(), TIMEOUT)
        if got != text:
            return "ERR text echo %r (want %r)" % (got[:60], text)
        for i in range(a.count):
            blob = os.urandom(a.size)
            await ws.send(blob)
            got = await asyncio.wait_for(ws.recv(), TIMEOUT)
            if got != blob:
                return "ERR binary echo %d: %s bytes back (want %d identical)" % (
                    i, len(got) if isinstance(got, bytes) else type(got).__name__, a.size)
        await asyncio.wait_for(await ws.ping(b"proxy-ping"), TIMEOUT)
        await ws.close(1000, "done")
        code = ws.close_code
    if code != 1000:
        return "ERR close code %r (want 1000)" % code
    return "OK subprotocol lws-echo, extensions %s, text + %d x %d bytes echoed, ping answered, close 1000 (%.2f s)" % (
        ext, a.count, a.size, time.time() - t0)


async def ws_increment(a):
    from websockets.asyncio.client import connect
    async with connect(a.url, **ws_kw(a.url, subprotocols=["dumb-increment-protocol"])) as ws:
        if ws.subprotocol != "dumb-increment-protocol":
            return "ERR subprotocol %r" % ws.subprotocol
        nums = [int(await asyncio.wait_for(ws.recv(), TIMEOUT)) for _ in range(3)]
        await ws.close(1000)
        code = ws.close_code
    if nums != sorted(nums) or len(set(nums)) != 3:
        return "ERR counters %r not increasing" % nums
    if code != 1000:
        return "ERR close code %r (want 1000)" % code
    return "OK counters %s, close 1000" % nums


# ---- RFC 8441 -------------------------------------------------------------------------------------------------------
def ws_frame(opcode, payload):
    """A masked client frame."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + mask + bytes(b ^ mask[i & 3] for i, b in enumerate(payload))


def ws_take(buf):
    """One whole unmasked server frame from buf: (opcode, fin, payload, rest) or None."""
    if len(buf) < 2:
        return None
    n, i = buf[1] & 0x7F, 2
    if buf[1] & 0x80:
        raise ValueError("server frame is masked")
    if n == 126:
        if len(buf) < 4:
            return None
        n, i = struct.unpack("!H", buf[2:4])[0], 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n, i = struct.unpack("!Q", buf[2:10])[0], 10
    if len(buf) < i + n:
        return None
    return buf[0] & 0x0F, bool(buf[0] & 0x80), buf[i:i + n], buf[i + n:]


class H2:
    def __init__(self, host, port, tls):
        import h2.config
        import h2.connection
        self.h2 = h2
        raw = socket.create_connection((host, port), timeout=TIMEOUT)
        if tls:
            self.sock = insecure_ctx(["h2"]).wrap_socket(raw, server_hostname=host)
            if self.sock.selected_alpn_protocol() != "h2":
                raise RuntimeError("ALPN chose %r, not h2" % self.sock.selected_alpn_protocol())
        else:
            self.sock = raw
        self.authority = "%s:%d" % (host, port)
        self.scheme = "https" if tls else "http"
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.flush()
        self.data = {}
        self.headers = {}
        self.ended = set()
        self.reset = {}
        self.settings_seen = False

    def flush(self):
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def pump(self, until, what):
        import h2.events as ev
        deadline = time.time() + TIMEOUT
        while not until():
            if time.time() > deadline:
                raise RuntimeError("timed out waiting for %s" % what)
            d = self.sock.recv(65536)
            if not d:
                raise RuntimeError("connection closed waiting for %s" % what)
            for e in self.conn.receive_data(d):
                if isinstance(e, ev.RemoteSettingsChanged):
                    self.settings_seen = True
                elif isinstance(e, ev.ResponseReceived):
                    self.headers[e.stream_id] = dict(e.headers)
                elif isinstance(e, ev.DataReceived):
                    self.data[e.stream_id] = self.data.get(e.stream_id, b"") + e.data
                    self.conn.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                elif isinstance(e, ev.StreamEnded):
                    self.ended.add(e.stream_id)
                elif isinstance(e, ev.StreamReset):
                    self.reset[e.stream_id] = e.error_code
                elif isinstance(e, ev.ConnectionTerminated):
                    raise RuntimeError("GOAWAY %s" % e.error_code)
            self.flush()

    def send_data(self, sid, payload):
        """Sends within the flow-control windows, reading while they are shut."""
        while payload:
            room = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
            if room <= 0:
                self.pump(lambda: self.conn.local_flow_control_window(sid) > 0, "WINDOW_UPDATE")
                continue
            self.conn.send_data(sid, payload[:room])
            payload = payload[room:]
            self.flush()

    def next_message(self, sid):
        """(opcode, payload) of the next whole message on the stream (fragments joined)."""
        parts, op = [], None
        while True:
            got = None
            try:
                got = ws_take(self.data.get(sid, b""))
            except ValueError as e:
                raise RuntimeError(str(e))
            if got is None:
                self.pump(lambda: ws_take(self.data.get(sid, b"")) is not None or sid in self.ended
                          or sid in self.reset, "a WebSocket frame")
                if ws_take(self.data.get(sid, b"")) is None:
                    raise RuntimeError("stream ended (reset %s) before a whole frame" % self.reset.get(sid))
                continue
            opcode, fin, payload, rest = got
            self.data[sid] = rest
            if opcode in (0x9, 0xA):  # ping/pong between fragments: not part of the message
                continue
            if op is None:
                op = opcode
            parts.append(payload)
            if fin:
                return op, b"".join(parts)


def ws_h2(a):
    c = H2(a.host, a.port, a.tls)
    c.pump(lambda: c.settings_seen, "the server's SETTINGS")
    ecp = c.conn.remote_settings.get(0x8)
    if ecp != 1:
        return "ERR SETTINGS_ENABLE_CONNECT_PROTOCOL %r (want 1)" % ecp
    sid = c.conn.get_next_available_stream_id()
    c.conn.send_headers(sid, [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", c.scheme),
                              (":path", a.path), (":authority", c.authority), ("sec-websocket-version", "13"),
                              ("sec-websocket-protocol", "lws-echo"),
                              ("origin", "%s://%s" % (c.scheme, c.authority))])
    c.flush()
    c.pump(lambda: sid in c.headers or sid in c.reset or sid in c.ended, "the extended CONNECT response")
    h = c.headers.get(sid, {})
    if h.get(":status") != "200":
        return "ERR CONNECT :protocol websocket -> status %r, reset %r, headers %r" % (
            h.get(":status"), c.reset.get(sid), sorted(h.items())[:8])
    proto = h.get("sec-websocket-protocol")
    if proto != "lws-echo":
        return "ERR sec-websocket-protocol %r (want lws-echo)" % proto
    text = "rfc8441 through the proxy \u2713".encode()
    c.send_data(sid, ws_frame(0x1, text))
    op, got = c.next_message(sid)
    if (op, got) != (0x1, text):
        return "ERR text echo: opcode %d, %r" % (op, got[:60])
    blob = os.urandom(a.size)
    c.send_data(sid, ws_frame(0x2, blob))
    op, got = c.next_message(sid)
    if op != 0x2 or got != blob:
        return "ERR binary echo: opcode %d, %d bytes (want %d identical)" % (op, len(got), a.size)
    c.send_data(sid, ws_frame(0x8, struct.pack("!H", 1000) + b"bye"))
    op, got = c.next_message(sid)
    if op != 0x8 or got[:2] != struct.pack("!H", 1000):
        return "ERR close answered with opcode %d %r" % (op, got[:20])
    gid = c.conn.get_next_available_stream_id()
    c.conn.send_headers(gid, [(":method", "GET"), (":scheme", c.scheme), (":path", a.get_path),
                              (":authority", c.authority)], end_stream=True)
    c.flush()
    c.pump(lambda: gid in c.ended or gid in c.reset, "the GET after the WebSocket")
    st = c.headers.get(gid, {}).get(":status")
    if st != "200":
        return "ERR GET %s on the same connection -> %r (reset %r)" % (a.get_path, st, c.reset.get(gid))
    return "OK ENABLE_CONNECT_PROTOCOL=1, CONNECT -> 200 lws-echo, text + %d bytes echoed, close 1000 answered, " \
           "GET %s on the same connection 200" % (a.size, a.get_path)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("echo")
    e.add_argument("url")
    e.add_argument("--size", type=int, default=256 << 10)
    e.add_argument("--count", type=int, default=8)
    i = sub.add_parser("increment")
    i.add_argument("url")
    h = sub.add_parser("h2")
    h.add_argument("host")
    h.add_argument("port", type=int)
    h.add_argument("path")
    h.add_argument("--tls", action="store_true")
    h.add_argument("--size", type=int, default=256 << 10)
    h.add_argument("--get-path", default="/")
    a = ap.parse_args()
    try:
        if a.cmd == "h2":
            verdict = ws_h2(a)
        else:
            verdict = asyncio.run({"echo": ws_echo, "increment": ws_increment}[a.cmd](a))
    except Exception as ex:  # the verdict line carries it
        verdict = "ERR %s: %s" % (type(ex).__name__, ex)
    print(verdict, flush=True)
    return 0 if verdict.startswith("OK") else 1


if __name__ == "__main__":
    sys.exit(main())
