#!/usr/bin/env python3
"""Origins behind the lwsws reverse proxy for tests/conformance/proxy.sh (stdlib only, loopback only).

usage: proxy_origin.py serve --http PORT [--garbage PORT] [--silent PORT] [--cut PORT]
  Prints "ready" once every port listens, then serves until killed.

  --http     an HTTP/1.1 keep-alive origin (ThreadingHTTPServer):
               POST/PUT .../upload  reads the body as it arrives (Content-Length or chunked, decoded here because
                                    http.server does not), hashes it on the way and answers one line
                                    "sha256=HEX bytes=N framing=length|chunked expect=VALUE|-"
               GET/HEAD anything else answers JSON {"method", "target", "headers": [[name, value], ...]}: the
                                    request exactly as it reached the origin (target with its query string)
  --garbage  reads a request head, answers bytes that are not HTTP, closes
  --silent   reads a request head and never answers (holds the connection until the peer leaves)
  --cut      reads a request head, announces a 16 MiB body and closes after 1 MiB of it; a target containing
             "chunked" announces a chunked body instead and closes after 1 MiB without the last chunk
"""
import argparse
import hashlib
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PIECE = 1 << 20


class Origin(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "proxy-origin"

    def log_message(self, fmt, *args):  # quiet: the proxy's behaviour is what the script reports
        pass

    def _answer(self, code, body, ctype="text/plain", head_only=False):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def _read_body(self, h):
        """Hashes the body as it arrives; (digest, length, framing) or None if the framing is broken."""
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        n = 0
        if "chunked" in te:
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    return None
                size = int(line.split(b";", 1)[0].strip() or b"x", 16)
                if size == 0:
                    while True:  # trailer section up to the empty line
                        t = self.rfile.readline(8192)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    return h.hexdigest(), n, "chunked"
                left = size
                while left:
                    d = self.rfile.read(min(left, PIECE))
                    if not d:
                        return None
                    h.update(d)
                    n += len(d)
                    left -= len(d)
                if self.rfile.readline(8) not in (b"\r\n", b"\n"):
                    return None
        length = int(self.headers.get("Content-Length") or 0)
        left = length
        while left:
            d = self.rfile.read(min(left, PIECE))
            if not d:
                return None
            h.update(d)
            n += len(d)
            left -= len(d)
        return h.hexdigest(), n, "length"

    def _upload(self):
        try:
            got = self._read_body(hashlib.sha256())
        except ValueError:
            got = None
        if got is None:
            self.close_connection = True
            self._answer(400, b"broken request body\n")
            return
        digest, n, framing = got
        line = "sha256=%s bytes=%d framing=%s expect=%s\n" % (digest, n, framing, self.headers.get("Expect") or "-")
        self._answer(200, line.encode())

    def _echo(self, head_only=False):
        body = json.dumps({"method": self.command, "target": self.path,
                           "headers": [[k, v] for k, v in self.headers.items()]}).encode()
        self._answer(200, body, "application/json", head_only)

    def do_POST(self):
        if self.path.split("?", 1)[0].endswith("/upload"):
            self._upload()
        else:
            self._read_body(hashlib.sha256())
            self._echo()

    do_PUT = do_POST

    def do_GET(self):
        self._echo()

    def do_HEAD(self):
        self._echo(head_only=True)

    def do_DELETE(self):
        self._echo()


def read_head(conn):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = conn.recv(65536)
        if not d:
            return None
        buf += d
        if len(buf) > 1 << 16:
            return None
    return buf.split(b"\r\n\r\n", 1)[0]


def garbage(conn):
    if read_head(conn) is not None:
        conn.sendall(b"this is not HTTP at all \x00\x01\x02\r\n\r\n")


def silent(conn):
    if read_head(conn) is None:
        return
    while conn.recv(65536):  # until the proxy gives up and closes
        pass


def cut(conn):
    head = read_head(conn)
    if head is None:
        return
    chunk = b"c" * PIECE
    if b"chunked" in head.split(b"\r\n", 1)[0]:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        conn.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
    else:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n"
                     % (16 * PIECE))
        conn.sendall(chunk)
    conn.shutdown(socket.SHUT_RDWR)


def raw_server(port, fn):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)

    def one(conn):
        try:
            fn(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def loop():
        while True:
            conn, _ = ls.accept()
            threading.Thread(target=one, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["serve"])
    ap.add_argument("--http", type=int, required=True)
    ap.add_argument("--garbage", type=int)
    ap.add_argument("--silent", type=int)
    ap.add_argument("--cut", type=int)
    a = ap.parse_args()
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 128
    httpd = ThreadingHTTPServer(("127.0.0.1", a.http), Origin)
    for port, fn in ((a.garbage, garbage), (a.silent, silent), (a.cut, cut)):
        if port:
            raw_server(port, fn)
    print("ready", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
