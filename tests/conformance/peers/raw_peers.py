#!/usr/bin/env python3
"""Raw TCP peers and clients for raw.sh (stdlib only): onward servers behind lwsws' raw-proxy, and clients that
talk to raw vhosts, fallbacks and sniffing ports.

usage: raw_peers.py serve [--echo PORT] [--echo6 PORT] [--echo-unix PATH] [--sink PORT] [--hc PORT --hc-dir DIR]
                          [--banner PORT] [--http PORT]
         One process, asyncio, all on loopback; prints "ready" once every listener is bound, then serves until killed.
         echo: sends back what it reads, passes the client's half-close on (shuts its side once all is echoed).
         sink: reads to EOF, then answers "LEN SHA256HEX\\n" and closes.
         hc:   sends "server-first\\n" and shuts its sending side at once, then reads to EOF and stores what it got
               in DIR/hc.N (complete files only).
         banner: a server-speaks-first service: sends "BANNER-OK\\n" and closes.
         http: reads a request head, answers HTTP/1.0 200 with the body "onward-http\\n" and closes.
       raw_peers.py CLIENT HOST PORT [options]: one check; prints one line "OK detail" or "ERR detail" and exits
         0 / 1. Clients:
         echo --msg TEXT            send TEXT, shut the sending side, expect exactly TEXT back then EOF
         server-halfclose --hc-dir DIR
                                    expect "server-first\\n" then EOF while our side is still open, then send a line
                                    and shut: the onward service must have got it (DIR/hc.*)
         transfer --size BYTES --mode echo|sink
                                    BYTES of random data up (and back down for echo), SHA-256 compared
         concurrent --n N [--pid PID]
                                    N connections open at once, each sends a unique line and expects it back
         refused [--within S]       the proxy's onward is refused: we must be closed within S s (default 3)
         silent --min S --max S [--send TEXT] [--expect TEXT] [--keep-open]
                                    send TEXT (default nothing) and nothing more; between MIN and MAX s later the
                                    server must have sent exactly --expect (default nothing) and closed (with
                                    --keep-open: sent --expect, closing not needed)
         drip [--delay S]           an HTTP/1.1 GET / written one byte at a time: expect status 200
         tls-to-plain               a real TLS ClientHello to a cleartext port: no TLS answer, closed (or HTTP 4xx)
         http-to-tls [--send TEXT]  an HTTP request (or TEXT, backslash escapes allowed) to a TLS port: no HTTP
                                    answer (a TLS alert is fine), closed promptly
         flood --n N --pid PID --wait S [--max-kib-per-conn K] [--rounds R]
                                    R rounds (default 2) of N connections that never speak, all open at once: lwsws
                                    VmRSS before / during / after (growth <= K KiB per connection, default 16; later
                                    rounds' peaks within 10% of the first), an HTTP GET / on the same port during
                                    each round must get 200, the server must close every idle connection within
                                    S + 10 s
"""
import argparse
import asyncio
import hashlib
import os
import resource
import socket
import ssl
import sys
import threading
import time

HOST = "127.0.0.1"


def out(ok, detail):
    print(("OK " if ok else "ERR ") + detail, flush=True)
    return 0 if ok else 1


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---- onward servers ---------------------------------------------------------------------------------------------

async def h_echo(reader, writer):
    try:
        while True:
            d = await reader.read(65536)
            if not d:
                break
            writer.write(d)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def h_sink(reader, writer):
    h = hashlib.sha256()
    n = 0
    try:
        while True:
            d = await reader.read(262144)
            if not d:
                break
            h.update(d)
            n += len(d)
        writer.write(b"%d %s\n" % (n, h.hexdigest().encode()))
        await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


HC_SEQ = [0]


def h_hc_factory(hc_dir):
    async def h_hc(reader, writer):
        try:
            writer.write(b"server-first\n")
            await writer.drain()
            writer.write_eof()
            got = await reader.read(-1)
            HC_SEQ[0] += 1
            p = os.path.join(hc_dir, "hc.%d" % HC_SEQ[0])
            with open(p + ".tmp", "wb") as f:
                f.write(got)
            os.rename(p + ".tmp", p)
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
    return h_hc


async def h_banner(reader, writer):
    try:
        writer.write(b"BANNER-OK\n")
        await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def h_http(reader, writer):
    try:
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        body = b"onward-http\n"
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (len(body), body))
        await writer.drain()
    except (ConnectionError, OSError, asyncio.TimeoutError, asyncio.IncompleteReadError,
            asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def serve(a):
    raise_nofile()
    servers = []
    kw = dict(backlog=4096, reuse_address=True)
    if a.echo:
        servers.append(await asyncio.start_server(h_echo, HOST, a.echo, **kw))
    if a.echo6:
        servers.append(await asyncio.start_server(h_echo, "::1", a.echo6, **kw))
    if a.echo_unix:
        servers.append(await asyncio.start_unix_server(h_echo, a.echo_unix, backlog=4096))
    if a.sink:
        servers.append(await asyncio.start_server(h_sink, HOST, a.sink, **kw))
    if a.hc:
        servers.append(await asyncio.start_server(h_hc_factory(a.hc_dir), HOST, a.hc, **kw))
    if a.banner:
        servers.append(await asyncio.start_server(h_banner, HOST, a.banner, **kw))
    if a.http:
        servers.append(await asyncio.start_server(h_http, HOST, a.http, **kw))
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


# ---- clients ----------------------------------------------------------------------------------------------------

def connect(a, timeout=10.0):
    s = socket.create_connection((a.host, a.port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_to_eof(s, limit=1 << 20):
    """Everything until EOF (a reset counts as EOF); raises socket.timeout when the peer stays open."""
    buf = b""
    while len(buf) < limit:
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            return buf, "reset"
        if not d:
            return buf, "eof"
        buf += d
    return buf, "limit"


def c_echo(a):
    msg = a.msg.encode()
    s = connect(a)
    t0 = time.monotonic()
    s.sendall(msg)
    s.shutdown(socket.SHUT_WR)
    try:
        got, how = read_to_eof(s)
    except socket.timeout:
        return out(False, "no EOF within 10 s after our half-close")
    dt = time.monotonic() - t0
    if got == msg and how == "eof":
        return out(True, "%d bytes back, then EOF, %.3f s" % (len(got), dt))
    return out(False, "got %r then %s, want %r then eof" % (got[:80], how, msg[:80]))


def c_server_halfclose(a):
    before = set(os.listdir(a.hc_dir))
    s = connect(a)
    try:
        got, how = read_to_eof(s)
    except socket.timeout:
        return out(False, "no EOF within 10 s after the onward service shut its side")
    if got != b"server-first\n" or how != "eof":
        return out(False, "got %r then %s, want 'server-first\\n' then eof" % (got[:80], how))
    line = b"client-after-server-eof\n"
    try:
        s.sendall(line)
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        return out(False, "our side was closed after the server's half-close: %s" % e)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        new = sorted(f for f in set(os.listdir(a.hc_dir)) - before if not f.endswith(".tmp"))
        if new:
            with open(os.path.join(a.hc_dir, new[0]), "rb") as f:
                data = f.read()
            if data == line:
                return out(True, "EOF from the onward side first, then our line reached it")
            return out(False, "onward service got %r, want %r" % (data[:80], line))
        time.sleep(0.05)
    return out(False, "the onward service never saw our line and EOF (10 s)")


def c_transfer(a):
    size = a.size
    s = connect(a, timeout=120)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    up = hashlib.sha256()
    down = hashlib.sha256()
    res = {"down": 0, "err": None, "reply": b""}
    block = os.urandom(1 << 20)

    def reader():
        try:
            if a.mode == "echo":
                while True:
                    d = s.recv(1 << 20)
                    if not d:
                        break
                    down.update(d)
                    res["down"] += len(d)
            else:
                buf = b""
                while True:
                    d = s.recv(4096)
                    if not d:
                        break
                    buf += d
                res["reply"] = buf
        except OSError as e:
            res["err"] = "read: %s" % e

    t = threading.Thread(target=reader, daemon=True)
    t0 = time.monotonic()
    t.start()
    sent = 0
    try:
        while sent < size:
            # a fresh random-looking block each time (rotated, so no two MiB are equal)
            n = min(len(block), size - sent)
            chunk = block[sent % 997:] + block[:sent % 997]
            chunk = chunk[:n]
            s.sendall(chunk)
            up.update(chunk)
            sent += n
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        return out(False, "write failed after %d bytes: %s" % (sent, e))
    t.join(a.timeout)
    dt = time.monotonic() - t0
    if t.is_alive():
        return out(False, "no EOF within %d s (%d bytes back)" % (a.timeout, res["down"]))
    if res["err"]:
        return out(False, res["err"])
    mib = size / 1048576
    if a.mode == "echo":
        if res["down"] == size and down.hexdigest() == up.hexdigest():
            return out(True, "%.0f MiB up and back, sha256 equal, %.1f s, %.0f MiB/s each way"
                       % (mib, dt, mib / max(dt, 1e-6)))
        return out(False, "sent %d bytes sha256 %s, got back %d bytes sha256 %s"
                   % (size, up.hexdigest()[:16], res["down"], down.hexdigest()[:16]))
    want = b"%d %s\n" % (size, up.hexdigest().encode())
    if res["reply"] == want:
        return out(True, "%.0f MiB to the sink, its length and sha256 match, %.1f s, %.0f MiB/s"
                   % (mib, dt, mib / max(dt, 1e-6)))
    return out(False, "sink answered %r, want %r" % (res["reply"][:100], want))


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


async def wait_fds(pid, want, secs=10.0):
    """Until lwsws holds at least `want` fds (connections still in the listen backlog are not accepted yet)."""
    deadline = time.monotonic() + secs
    n = fd_count(pid)
    while n < want and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        n = fd_count(pid)
    return n


async def open_many(host, port, n, conc=256):
    """n connections, at most conc connects in flight; returns (list of (reader, writer) or Exception)."""
    sem = asyncio.Semaphore(conc)

    async def one():
        async with sem:
            try:
                return await asyncio.wait_for(asyncio.open_connection(host, port), 20)
            except (OSError, asyncio.TimeoutError) as e:
                return e
    return await asyncio.gather(*(one() for _ in range(n)))


def c_concurrent(a):
    lim = raise_nofile()
    if lim < a.n + 50:
        return out(False, "RLIMIT_NOFILE %d is too low for %d connections" % (lim, a.n))

    async def run():
        fds0 = fd_count(a.pid) if a.pid else 0
        t0 = time.monotonic()
        conns = await open_many(a.host, a.port, a.n)
        bad = [c for c in conns if isinstance(c, Exception)]
        if bad:
            for c in conns:
                if not isinstance(c, Exception):
                    c[1].close()
            return out(False, "%d of %d connects failed, first: %r" % (len(bad), a.n, bad[0]))
        t_open = time.monotonic() - t0
        # every client connection is an accepted socket plus an onward one in lwsws
        peak_fds = await wait_fds(a.pid, fds0 + 2 * a.n) if a.pid else -1

        async def talk(i, rw):
            r, w = rw
            line = b"line %d %s\n" % (i, os.urandom(8).hex().encode())
            try:
                w.write(line)
                await w.drain()
                got = await asyncio.wait_for(r.readline(), 30)
                return got == line
            except (OSError, asyncio.TimeoutError):
                return False
        results = await asyncio.gather(*(talk(i, c) for i, c in enumerate(conns)))
        # still all open: close them only now
        for _, w in conns:
            w.close()
        dt = time.monotonic() - t0
        good = sum(results)
        fds = (", lwsws held %d fds with all open" % peak_fds) if a.pid else ""
        if good == a.n:
            return out(True, "%d connections open at once (opened in %.1f s), %d unique lines echoed, %.1f s%s"
                       % (a.n, t_open, good, dt, fds))
        return out(False, "%d of %d lines came back%s" % (good, a.n, fds))
    return asyncio.run(run())


def c_refused(a):
    s = connect(a)
    t0 = time.monotonic()
    try:
        s.sendall(b"hello?\n")
    except OSError:
        pass
    s.settimeout(a.within + 5)
    try:
        got, how = read_to_eof(s)
    except socket.timeout:
        return out(False, "still open after %.0f s" % (a.within + 5))
    except OSError as e:
        got, how = b"", str(e)
    dt = time.monotonic() - t0
    if dt <= a.within and not got:
        return out(True, "closed (%s) after %.3f s" % (how, dt))
    return out(False, "closed (%s) after %.3f s with %d bytes (want nothing within %.1f s)" % (how, dt, len(got), a.within))


def c_silent(a):
    s = connect(a)
    t0 = time.monotonic()
    if a.send:
        s.sendall(a.send.encode())
    s.settimeout(a.max + 2)
    want = (a.expect or "").encode()
    try:
        if a.keep_open:
            # the answer is all we wait for: the server keeps the connection open after it
            got, how = b"", "answer"
            while len(got) < len(want):
                d = s.recv(65536)
                if not d:
                    how = "eof"
                    break
                got += d
        else:
            got, how = read_to_eof(s)
    except socket.timeout:
        return out(False, "still open after %.1f s (got %r)" % (a.max + 2, locals().get("got", b"")[:80]))
    dt = time.monotonic() - t0
    if got == want and a.min <= dt <= a.max:
        return out(True, "%s after %.2f s%s" % (how, dt, (" with %r" % got) if got else ", nothing sent to us"))
    return out(False, "%s after %.2f s with %r (want %r between %.1f and %.1f s)" % (how, dt, got[:80], want, a.min, a.max))


def c_drip(a):
    req = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: raw-peers-drip\r\nConnection: close\r\n\r\n"
    s = connect(a, timeout=20)
    t0 = time.monotonic()
    try:
        for i in range(len(req)):
            s.send(req[i:i + 1])
            time.sleep(a.delay)
    except OSError as e:
        return out(False, "closed by the server after %d of %d bytes: %s" % (i, len(req), e))
    try:
        got, how = read_to_eof(s)
    except socket.timeout:
        return out(False, "no complete response within 20 s")
    line = got.split(b"\r\n", 1)[0]
    if line.startswith(b"HTTP/1.1 200"):
        return out(True, "%d bytes one at a time over %.1f s -> %s" % (len(req), time.monotonic() - t0, line.decode()))
    return out(False, "status line %r (%d bytes, %s)" % (line[:80], len(got), how))


def client_hello():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    inc, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, outb, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outb.read()


def c_tls_to_plain(a):
    hello = client_hello()
    s = connect(a)
    t0 = time.monotonic()
    s.sendall(hello)
    s.settimeout(a.within + 5)
    try:
        got, how = read_to_eof(s)
    except socket.timeout:
        return out(False, "still open %.0f s after a %d-byte ClientHello" % (a.within + 5, len(hello)))
    dt = time.monotonic() - t0
    if got[:1] == b"\x16":
        return out(False, "the cleartext port answered with a TLS handshake record")
    line = got.split(b"\r\n", 1)[0]
    if dt <= a.within and (not got or line.startswith(b"HTTP/1.1 4")):
        return out(True, "%d-byte ClientHello -> %s, closed (%s) after %.3f s"
                   % (len(hello), line.decode() if got else "nothing", how, dt))
    return out(False, "got %r, closed (%s) after %.3f s" % (got[:80], how, dt))


def c_http_to_tls(a):
    s = connect(a)
    t0 = time.monotonic()
    s.sendall(a.send.encode().decode("unicode_escape").encode("latin-1"))
    s.settimeout(a.within + 5)
    try:
        got, how = read_to_eof(s)
    except socket.timeout:
        return out(False, "still open %.0f s after %r" % (a.within + 5, a.send))
    dt = time.monotonic() - t0
    if got.startswith(b"HTTP/1.1 2") or got.startswith(b"HTTP/1.1 3"):
        return out(False, "a TLS-only port answered plain HTTP: %r" % got[:60])
    if dt <= a.within:
        what = "nothing" if not got else ("a TLS alert" if got[:1] == b"\x15" else "%d bytes %r" % (len(got), got[:20]))
        return out(True, "%s, closed (%s) after %.3f s" % (what, how, dt))
    return out(False, "closed (%s) only after %.3f s" % (how, dt))


def c_flood(a):
    lim = raise_nofile()
    if lim < a.n + 50:
        return out(False, "RLIMIT_NOFILE %d is too low for %d connections" % (lim, a.n))

    # a normal request on the same port while the flood is open
    def probe():
        s = socket.create_connection((a.host, a.port), timeout=10)
        t = time.monotonic()
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        got, _ = read_to_eof(s)
        s.close()
        return got.split(b"\r\n", 1)[0], time.monotonic() - t

    async def one_round():
        r = {"rss0": rss_kib(a.pid)}
        fds0 = fd_count(a.pid)
        t0 = time.monotonic()
        conns = await open_many(a.host, a.port, a.n)
        bad = [c for c in conns if isinstance(c, Exception)]
        good = [c for c in conns if not isinstance(c, Exception)]
        # sample once lwsws has accepted them all (they wait in the listen backlog until then)
        r["fds"] = await wait_fds(a.pid, fds0 + len(good), 5)
        r["accepted"] = r["fds"] - fds0
        r["t_open"] = time.monotonic() - t0
        r["rss1"] = rss_kib(a.pid)
        try:
            r["status"], r["t_probe"] = await asyncio.get_running_loop().run_in_executor(None, probe)
        except OSError as e:
            r["status"], r["t_probe"] = ("error %s" % e).encode(), -1

        async def closed(rw):
            rd, w = rw
            try:
                d = await asyncio.wait_for(rd.read(1), max(0.1, a.wait + 10 - (time.monotonic() - t0)))
                return d == b""
            except ConnectionResetError:
                return True
            except (OSError, asyncio.TimeoutError):
                return False
            finally:
                w.close()
        r["n_closed"] = sum(await asyncio.gather(*(closed(c) for c in good)))
        r["t_closed"] = time.monotonic() - t0
        await asyncio.sleep(0.5)
        r["rss2"] = rss_kib(a.pid)
        r["bad"], r["good"] = bad, len(good)
        return r

    async def run():
        rounds = []
        for _ in range(a.rounds):
            rounds.append(await one_round())
        problems, parts = [], []
        first = rounds[0]
        for i, r in enumerate(rounds, 1):
            per = (r["rss1"] - r["rss0"]) / max(r["good"], 1)
            parts.append("round %d: %d idle connections, all accepted after %.1f s (lwsws %d fds), VmRSS %d KiB before, "
                         "%d KiB with all open (+%.1f KiB/conn), %d KiB after; GET / during it -> %s in %.3f s; "
                         "%d closed by the server after %.1f s"
                         % (i, r["good"], r["t_open"], r["fds"], r["rss0"], r["rss1"], per, r["rss2"],
                            r["status"].decode("latin-1"), r["t_probe"], r["n_closed"], r["t_closed"]))
            if r["bad"]:
                problems.append("round %d: %d connects failed (%r)" % (i, len(r["bad"]), r["bad"][0]))
            if r["accepted"] < r["good"]:
                problems.append("round %d: lwsws accepted only %d of %d connections within 5 s"
                                % (i, r["accepted"], r["good"]))
            if not r["status"].startswith(b"HTTP/1.1 200"):
                problems.append("round %d: GET / during the flood did not get 200" % i)
            if r["n_closed"] != r["good"]:
                problems.append("round %d: %d of %d idle connections still open after %.0f s"
                                % (i, r["good"] - r["n_closed"], r["good"], a.wait + 10))
            if per > a.max_kib_per_conn:
                problems.append("round %d: RSS grew %.1f KiB per idle connection (limit %d)"
                                % (i, per, a.max_kib_per_conn))
            # later rounds reuse what the first one grew: a leak shows as a peak that keeps climbing
            if i > 1 and r["rss1"] > first["rss1"] * 1.1 + 1024:
                problems.append("round %d: peak VmRSS %d KiB > round 1's %d KiB + 10%% (leak?)"
                                % (i, r["rss1"], first["rss1"]))
        detail = "; ".join(parts)
        if problems:
            return out(False, "; ".join(problems) + " -- " + detail)
        return out(True, detail)
    return asyncio.run(run())


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    sv = sub.add_parser("serve")
    for o in ("--echo", "--echo6", "--sink", "--hc", "--banner", "--http"):
        sv.add_argument(o, type=int)
    sv.add_argument("--echo-unix")
    sv.add_argument("--hc-dir")

    def client(name):
        c = sub.add_parser(name)
        c.add_argument("host")
        c.add_argument("port", type=int)
        return c
    client("echo").add_argument("--msg", required=True)
    client("server-halfclose").add_argument("--hc-dir", required=True)
    c = client("transfer")
    c.add_argument("--size", type=int, required=True)
    c.add_argument("--mode", choices=("echo", "sink"), required=True)
    c.add_argument("--timeout", type=int, default=600)
    c = client("concurrent")
    c.add_argument("--n", type=int, required=True)
    c.add_argument("--pid", type=int)
    client("refused").add_argument("--within", type=float, default=3.0)
    c = client("silent")
    c.add_argument("--min", type=float, required=True)
    c.add_argument("--max", type=float, required=True)
    c.add_argument("--send")
    c.add_argument("--expect")
    c.add_argument("--keep-open", action="store_true")
    client("drip").add_argument("--delay", type=float, default=0.01)
    client("tls-to-plain").add_argument("--within", type=float, default=5.0)
    c = client("http-to-tls")
    c.add_argument("--within", type=float, default=5.0)
    c.add_argument("--send", default="GET / HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n")
    c = client("flood")
    c.add_argument("--n", type=int, required=True)
    c.add_argument("--pid", type=int, required=True)
    c.add_argument("--wait", type=float, required=True)
    c.add_argument("--max-kib-per-conn", type=int, default=16)
    c.add_argument("--rounds", type=int, default=2)
    a = p.parse_args()
    if a.cmd == "serve":
        try:
            asyncio.run(serve(a))
        except KeyboardInterrupt:
            pass
        return 0
    fn = {"echo": c_echo, "server-halfclose": c_server_halfclose, "transfer": c_transfer,
          "concurrent": c_concurrent, "refused": c_refused, "silent": c_silent, "drip": c_drip,
          "tls-to-plain": c_tls_to_plain, "http-to-tls": c_http_to_tls, "flood": c_flood}[a.cmd]
    try:
        return fn(a)
    except Exception as e:  # any unexpected failure is a failed check, with its reason
        return out(False, "%s: %s" % (type(e).__name__, e))


if __name__ == "__main__":
    sys.exit(main())
