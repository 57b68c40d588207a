#!/usr/bin/env python3
"""HTTP/1.1 idle keep-alive client of the h1_idle / h1_idle_gz tests (bench.py; python3 stdlib only).

  h1idle.py --host 127.0.0.1 --port P --path /100k.html --conns N [--parallel 64] [--accept-encoding gzip]
            [--warmup 2]

Driven by bench.py like proxyload (READY / go / END on stdout and stdin):
  1. warm-up: --warmup times --parallel connections, each one GET (the same request), then closed; prints
     `WARM {json}` and waits for a line on stdin (bench.py reads the server's memory now: per-response state
     that the server keeps in a pool, e.g. compressors, is then already allocated and not charged to the idle
     connections);
  2. opens --conns connections, --parallel at a time; on each one GET, reads the whole response (Content-Length or
     chunked) and keeps the connection open; prints `READY opened errors` and waits for a line on stdin (bench.py
     reads the server's memory with every connection idle);
  3. checks every connection is still open (none closed by the server meanwhile), prints `END {json}` and holds
     the connections until stdin is closed.
The JSON reports content-encodings seen, body bytes on the wire per response and seconds to open.
"""
import argparse
import json
import select
import socket
import sys
import threading
import time


def read_response(sock, buf):
    """Read one HTTP/1.1 response from sock (buf: bytes already read). Returns (status, headers dict lowercased,
    body bytes on the wire, rest)."""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            raise ConnectionError("closed in headers")
        buf += d
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    if "content-length" in hdrs:
        n = int(hdrs["content-length"])
        while len(buf) < n:
            d = sock.recv(65536)
            if not d:
                raise ConnectionError("closed in body")
            buf += d
        return status, hdrs, n, buf[n:]
    if "chunked" not in hdrs.get("transfer-encoding", "").lower():
        raise ValueError("neither content-length nor chunked")
    body = 0
    while True:
        while b"\r\n" not in buf:
            d = sock.recv(65536)
            if not d:
                raise ConnectionError("closed in chunk size")
            buf += d
        line, _, buf = buf.partition(b"\r\n")
        size = int(line.split(b";")[0], 16)
        if size == 0:  # trailers (none expected) end with an empty line
            while True:
                while b"\r\n" not in buf:
                    d = sock.recv(65536)
                    if not d:
                        raise ConnectionError("closed in trailer")
                    buf += d
                line, _, buf = buf.partition(b"\r\n")
                if not line:
                    return status, hdrs, body, buf
        while len(buf) < size + 2:
            d = sock.recv(65536)
            if not d:
                raise ConnectionError("closed in chunk")
            buf += d
        body += size
        buf = buf[size + 2:]


def one(args, req, keep):
    s = socket.create_connection((args.host, args.port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(req)
    status, hdrs, body, rest = read_response(s, b"")
    if status != 200 or rest:
        s.close()
        raise ValueError(f"status {status}, {len(rest)} extra bytes")
    if not keep:
        s.close()
        s = None
    return s, hdrs.get("content-encoding", "identity"), body


def run_phase(args, req, n, keep):
    socks, encs, bodies, errs = [], {}, [], []
    lock = threading.Lock()
    todo = list(range(n))

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                todo.pop()
            try:
                s, enc, body = one(args, req, keep)
                with lock:
                    if s is not None:
                        socks.append(s)
                    encs[enc] = encs.get(enc, 0) + 1
                    bodies.append(body)
            except (OSError, ValueError) as e:
                with lock:
                    errs.append(str(e))

    th = [threading.Thread(target=worker) for _ in range(min(args.parallel, n))]
    for t in th:
        t.start()
    for t in th:
        t.join()
    return socks, encs, bodies, errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/100k.html")
    ap.add_argument("--conns", type=int, default=2000)
    ap.add_argument("--parallel", type=int, default=64)
    ap.add_argument("--accept-encoding", default="")
    ap.add_argument("--warmup", type=int, default=2, help="rounds of --parallel one-GET connections before WARM")
    args = ap.parse_args()
    req = (f"GET {args.path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\nUser-Agent: h1idle\r\n"
           + (f"Accept-Encoding: {args.accept_encoding}\r\n" if args.accept_encoding else "") + "\r\n").encode()

    t0 = time.time()
    _, wencs, wbodies, werrs = run_phase(args, req, args.warmup * args.parallel, keep=False)
    print("WARM " + json.dumps({"requests": len(wbodies), "encodings": wencs, "errors": len(werrs),
                                "warm_s": round(time.time() - t0, 2)}), flush=True)
    sys.stdin.readline()

    t0 = time.time()
    socks, encs, bodies, errs = run_phase(args, req, args.conns, keep=True)
    open_s = time.time() - t0
    print(f"READY {len(socks)} {len(errs)}", flush=True)
    sys.stdin.readline()

    closed = 0
    for s in socks:  # an idle keep-alive connection has nothing to read; readable means closed (or garbage)
        po = select.poll()  # not select(): the descriptors pass FD_SETSIZE
        po.register(s, select.POLLIN)
        if po.poll(0):
            try:
                d = s.recv(1, socket.MSG_PEEK)
            except OSError:
                d = b""
            if not d:
                closed += 1
    print("END " + json.dumps({"opened": len(socks), "errors": len(errs), "first_error": errs[0] if errs else None,
                               "closed_during_hold": closed, "encodings": encs,
                               "body_bytes_per_response": round(sum(bodies) / max(len(bodies), 1)),
                               "open_s": round(open_s, 2)}), flush=True)
    sys.stdin.read()
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
