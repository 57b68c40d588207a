#!/usr/bin/env python3
"""Raw HTTP/1.1 over one TCP connection (stdlib only), for checks curl cannot express.

usage: rawhttp.py HOST PORT METHOD:PATH [METHOD:PATH ...]
  Writes all requests at once (pipelined) on one connection, then reads the responses in order, framing each by
  the rules of RFC 9112 (no body for HEAD/1xx/204/304; chunked; Content-Length; else until close).
  Prints one line per response: `STATUS <code> CL <content-length or -> BODY <bytes read> CT <content-type or ->`.
  Exit 1 (message on stderr) if a response is missing, malformed, or bytes are left over after the last one
  (e.g. a HEAD response that carried a body).
"""
import socket
import sys
import time

TIMEOUT = 10.0


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False

    def fill(self):
        if self.eof:
            return False
        d = self.sock.recv(65536)
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def read_until(self, sep):
        while sep not in self.buf:
            if not self.fill():
                raise EOFError("connection closed while waiting for %r (have %d bytes)" % (sep, len(self.buf)))
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_n(self, n):
        while len(self.buf) < n:
            if not self.fill():
                raise EOFError("connection closed with %d of %d body bytes" % (len(self.buf), n))
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_all(self):
        while self.fill():
            pass
        out, self.buf = self.buf, b""
        return out


def read_response(c, method):
    head = c.read_until(b"\r\n\r\n").decode("latin-1")
    lines = head.split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ValueError("bad status line %r" % lines[0])
    status = int(parts[1])
    hdrs = {}
    for ln in lines[1:]:
        if not ln:
            continue
        k, sep, v = ln.partition(":")
        if not sep:
            raise ValueError("bad header line %r" % ln)
        hdrs[k.strip().lower()] = v.strip()
    cl = hdrs.get("content-length")
    if method == "HEAD" or status < 200 or status in (204, 304):
        body = b""
    elif "chunked" in hdrs.get("transfer-encoding", "").lower():
        body = b""
        while True:
            size = int(c.read_until(b"\r\n").split(b";")[0].strip(), 16)
            if size == 0:
                while c.read_until(b"\r\n") != b"\r\n":  # trailers
                    pass
                break
            body += c.read_n(size)
            c.read_n(2)
    elif cl is not None:
        body = c.read_n(int(cl))
    else:
        body = c.read_all()
    return status, cl, body, hdrs.get("content-type", "-")


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    host, port = sys.argv[1], int(sys.argv[2])
    reqs = []
    for a in sys.argv[3:]:
        m, _, p = a.partition(":")
        reqs.append((m.upper(), p))
    wire = b"".join(("%s %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: lws-rs-conformance\r\n\r\n"
                     % (m, p, host, port)).encode() for m, p in reqs)
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    s.sendall(wire)
    c = Conn(s)
    rc = 0
    try:
        for m, p in reqs:
            status, cl, body, ct = read_response(c, m)
            print("STATUS %d CL %s BODY %d CT %s" % (status, cl if cl is not None else "-", len(body), ct))
        # anything more on the wire is a framing error (e.g. a body after a HEAD response)
        s.settimeout(0.3)
        t0 = time.time()
        try:
            while not c.buf and time.time() - t0 < 0.3 and c.fill():
                pass
        except socket.timeout:
            pass
        if c.buf:
            print("unexpected %d extra bytes after the last response: %r" % (len(c.buf), c.buf[:80]),
                  file=sys.stderr)
            rc = 1
    except (EOFError, ValueError, socket.timeout, OSError) as e:
        print("rawhttp: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        rc = 1
    finally:
        s.close()
    return rc


if __name__ == "__main__":
    sys.exit(main())
