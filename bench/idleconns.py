#!/usr/bin/env python3
"""Idle connection client of the idle_h1 / idle_h2c / idle_h1tls / idle_h2tls tests (bench.py; python3 stdlib only).

  idleconns.py --port P --proto h1|h2c|h1tls|h2tls [--path /1k.txt] [--conns N] [--parallel 64] [--warmup 2]
               [--expect-bytes 1024]

Every connection makes one GET of --path, reads the response to its end and is then kept open, idle:
  h1     HTTP/1.1 keep-alive over TCP (the request and response parser of h1idle.py)
  h2c    HTTP/2 with prior knowledge over TCP
  h1tls  HTTP/1.1 over TLS, ALPN http/1.1
  h2tls  HTTP/2 over TLS, ALPN h2
TLS: python's ssl module, no certificate verification (the harness's self-signed certificate), ALPN set to the one
protocol; a connection that negotiates anything else is an error.

HTTP/2, written out here (no library): the client preface and an empty SETTINGS frame; the server's SETTINGS is
read and ACKed; one HEADERS frame on stream 1 (END_STREAM | END_HEADERS; HPACK: :method GET and :scheme from the
static table, :path, :authority and user-agent as literals without indexing with an indexed name, no Huffman);
then frames are read until END_STREAM on stream 1 and the server's ACK of our SETTINGS (so nothing the server sent
is left unread), answering PING and SETTINGS frames. The response must be :status 200 (the one-byte static-table
form, which every server here sends, or a plain literal) and carry --expect-bytes of DATA on stream 1.

Driven by bench.py like h1idle.py (WARM / READY / go / END on stdout and stdin):
  1. warm-up: --warmup times --parallel connections, each one request, then closed; prints `WARM {json}` and waits
     for a line on stdin (bench.py reads the server's memory);
  2. opens --conns connections, --parallel at a time (one thread each), each one request read fully, kept open;
     prints `READY opened errors` and waits for a line on stdin (bench.py reads the server's memory again);
  3. checks every connection is still open: a readable socket is read without blocking; end of stream, an error or
     an HTTP/2 GOAWAY counts as closed by the server; prints `END {json}` and holds the connections until stdin is
     closed.
"""
import argparse
import json
import os
import select
import socket
import ssl
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ next to the harness for the import below
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from h1idle import read_response  # noqa: E402

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIO = 0x1, 0x1, 0x4, 0x8, 0x20


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def hpack_int(value, prefix_bits, first):
    """HPACK integer (RFC 7541 5.1) with the pattern bits of the first byte in `first`."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7f) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_literal(index, value):
    """Literal header field without indexing, name from static table entry `index`, value not Huffman-coded."""
    v = value.encode()
    return hpack_int(index, 4, 0x00) + hpack_int(len(v), 7, 0x00) + v


def h2_request(args, tls):
    block = (b"\x82"                                     # :method GET (static 2)
             + (b"\x87" if tls else b"\x86")             # :scheme https (7) / http (6)
             + hpack_literal(4, args.path)               # :path (static 4)
             + hpack_literal(1, f"{args.host}:{args.port}")  # :authority (static 1)
             + hpack_literal(58, "idleconns"))           # user-agent (static 58)
    return frame(HEADERS, END_STREAM | END_HEADERS, 1, block)


def h2_status(block):
    """:status of a response header block: the first field, after any dynamic table size updates."""
    i = 0
    while i < len(block) and block[i] & 0xe0 == 0x20:  # dynamic table size update: skip its integer
        i += 1
        if block[i - 1] & 0x1f == 0x1f:
            while block[i] & 0x80:
                i += 1
            i += 1
    if i >= len(block):
        return None
    b = block[i]
    static = {0x88: 200, 0x89: 204, 0x8a: 206, 0x8b: 304, 0x8c: 400, 0x8d: 404, 0x8e: 500}
    if b in static:
        return static[b]
    # literal with an indexed :status name (8): 0x48 (incremental indexing), 0x08 (without), 0x18 (never)
    if b in (0x48, 0x08, 0x18) and i + 1 < len(block) and not block[i + 1] & 0x80:
        n = block[i + 1]
        try:
            return int(block[i + 2:i + 2 + n])
        except ValueError:
            return None
    return None


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def recv_exact(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(65536)
            if not d:
                raise ConnectionError("closed by the server")
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self):
        head = self.recv_exact(9)
        length = int.from_bytes(head[:3], "big")
        stream = int.from_bytes(head[5:9], "big") & 0x7fffffff
        return head[3], head[4], stream, self.recv_exact(length)


def h2_exchange(c, args, tls):
    """Preface + SETTINGS, wait for the server's SETTINGS, ACK it and send the request; read until END_STREAM on
    stream 1 and our SETTINGS ACKed. Returns the body bytes."""
    c.sock.sendall(PREFACE + frame(SETTINGS, 0, 0, struct.pack(">HI", 2, 0)))  # SETTINGS_ENABLE_PUSH = 0
    while True:
        ftype, flags, stream, payload = c.read_frame()
        if ftype == SETTINGS and not flags & ACK:
            break
        if ftype == GOAWAY:
            raise ConnectionError("GOAWAY before SETTINGS")
    c.sock.sendall(frame(SETTINGS, ACK, 0) + h2_request(args, tls))
    status, body, ended, acked, block = None, 0, False, False, b""
    while not (ended and acked):
        ftype, flags, stream, payload = c.read_frame()
        if ftype == SETTINGS:
            if flags & ACK:
                acked = True
            else:
                c.sock.sendall(frame(SETTINGS, ACK, 0))
        elif ftype == PING:
            if not flags & ACK:
                c.sock.sendall(frame(PING, ACK, 0, payload))
        elif ftype == GOAWAY:
            raise ConnectionError("GOAWAY: error code %d" % int.from_bytes(payload[4:8], "big"))
        elif stream == 1 and ftype == RST_STREAM:
            raise ConnectionError("RST_STREAM on stream 1: error code %d" % int.from_bytes(payload[:4], "big"))
        elif stream == 1 and ftype in (HEADERS, CONTINUATION):
            p = payload
            if ftype == HEADERS:
                if flags & PADDED:
                    p = p[1:len(p) - p[0]]
                if flags & PRIO:
                    p = p[5:]
            block += p
            if flags & END_HEADERS and status is None:
                status = h2_status(block)
            if flags & END_STREAM:
                ended = True
        elif stream == 1 and ftype == DATA:
            body += len(payload) - ((payload[0] + 1) if flags & PADDED else 0)
            if flags & END_STREAM:
                ended = True
    if status != 200:
        raise ValueError(f"status {status}")
    if c.buf:
        raise ValueError(f"{len(c.buf)} bytes after the response")
    return body


def one(args, ctx, keep):
    """One connection with one request; returns (socket or None, ALPN, TLS version, body bytes)."""
    s = socket.create_connection((args.host, args.port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        alpn = version = None
        if ctx is not None:
            s = ctx.wrap_socket(s, server_hostname="localhost")
            alpn, version = s.selected_alpn_protocol(), s.version()
            want = "h2" if args.proto == "h2tls" else "http/1.1"
            if alpn != want:
                raise ValueError(f"ALPN {alpn!r}, asked for {want}")
        if args.proto in ("h2c", "h2tls"):
            body = h2_exchange(Conn(s), args, args.proto == "h2tls")
        else:
            s.sendall(f"GET {args.path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\nUser-Agent: idleconns\r\n\r\n"
                      .encode())
            status, hdrs, body, rest = read_response(s, b"")
            if status != 200 or rest:
                raise ValueError(f"status {status}, {len(rest)} extra bytes")
            if hdrs.get("connection", "").lower() == "close":
                raise ValueError("server answered Connection: close")
        if args.expect_bytes is not None and body != args.expect_bytes:
            raise ValueError(f"{body} body bytes, expected {args.expect_bytes}")
    except BaseException:
        s.close()
        raise
    if not keep:
        s.close()
        s = None
    return s, alpn, version, body


def run_phase(args, ctx, n, keep):
    socks, alpns, bodies, errs = [], {}, [], []
    lock = threading.Lock()
    todo = [n]

    def worker():
        while True:
            with lock:
                if todo[0] <= 0:
                    return
                todo[0] -= 1
            try:
                s, alpn, version, body = one(args, ctx, keep)
                with lock:
                    if s is not None:
                        socks.append(s)
                    k = f"{alpn} {version}" if ctx is not None else "cleartext"
                    alpns[k] = alpns.get(k, 0) + 1
                    bodies.append(body)
            except (OSError, ValueError, ssl.SSLError) as e:
                with lock:
                    errs.append(f"{type(e).__name__}: {e}")

    th = [threading.Thread(target=worker) for _ in range(min(args.parallel, n))]
    for t in th:
        t.start()
    for t in th:
        t.join()
    return socks, alpns, bodies, errs


def still_open(s, h2):
    """False if the server closed the connection (end of stream, error, or an HTTP/2 GOAWAY) while it was idle."""
    po = select.poll()  # not select(): the descriptors pass FD_SETSIZE
    po.register(s, select.POLLIN)
    if not po.poll(0) and not (isinstance(s, ssl.SSLSocket) and s.pending()):
        return True, 0
    s.setblocking(False)
    data = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return False, len(data)
            data += d
    except (ssl.SSLWantReadError, BlockingIOError):
        pass
    except (OSError, ssl.SSLError):
        return False, len(data)
    finally:
        s.setblocking(True)
    if h2:
        i = 0
        while i + 9 <= len(data):
            if data[i + 3] == GOAWAY:
                return False, len(data)
            i += 9 + int.from_bytes(data[i:i + 3], "big")
    return True, len(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--proto", choices=("h1", "h2c", "h1tls", "h2tls"), required=True)
    ap.add_argument("--path", default="/1k.txt")
    ap.add_argument("--conns", type=int, default=10000)
    ap.add_argument("--parallel", type=int, default=64)
    ap.add_argument("--warmup", type=int, default=2, help="rounds of --parallel one-request connections before WARM")
    ap.add_argument("--expect-bytes", type=int, default=None, help="body bytes every response must have")
    args = ap.parse_args()
    ctx = None
    if args.proto.endswith("tls"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["h2" if args.proto == "h2tls" else "http/1.1"])

    t0 = time.time()
    _, walpn, wbodies, werrs = run_phase(args, ctx, args.warmup * args.parallel, keep=False)
    print("WARM " + json.dumps({"requests": len(wbodies), "alpn": walpn, "errors": len(werrs),
                                "first_error": werrs[0] if werrs else None,
                                "warm_s": round(time.time() - t0, 2)}), flush=True)
    sys.stdin.readline()

    t0 = time.time()
    socks, alpns, bodies, errs = run_phase(args, ctx, args.conns, keep=True)
    open_s = time.time() - t0
    print(f"READY {len(socks)} {len(errs)}", flush=True)
    sys.stdin.readline()

    closed = unread = 0
    for s in socks:
        ok, n = still_open(s, args.proto in ("h2c", "h2tls"))
        closed += not ok
        unread += n
    print("END " + json.dumps({"opened": len(socks), "errors": len(errs), "first_error": errs[0] if errs else None,
                               "closed_during_hold": closed, "bytes_sent_while_idle": unread, "alpn": alpns,
                               "body_bytes_per_response": round(sum(bodies) / max(len(bodies), 1)),
                               "open_s": round(open_s, 2)}), flush=True)
    sys.stdin.read()
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
