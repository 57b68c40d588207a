#!/usr/bin/env python3
# usage: ws_peers.py server ECHO_PORT DEMO_PORT     Python `websockets` (and raw sockets) against lwsws on 127.0.0.1:
#          ECHO_PORT = `lwsws --docroot DIR` (lws-echo on every path), DEMO_PORT = the demo site (no --docroot)
#        ws_peers.py client CLIENT_BINARY            a Python `websockets` server speaking the Autobahn client
#          protocol (getCaseCount / runCase / updateReports) with a few echo cases; runs `CLIENT -p PORT -a AGENT`
# Run with the venv python from `install.sh pyws`. Prints one "PASS name" / "FAIL name: detail" line per check
# (the calling shell script counts them); exit status 1 if any check failed.
import asyncio
import json
import os
import socket
import struct
import sys
import time
import base64
import urllib.parse

import websockets
from websockets.exceptions import ConnectionClosed

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

N_FAIL = 0
TIMEOUT = 20
LIMITS = dict(max_size=None, max_queue=None, ping_interval=None, close_timeout=5, open_timeout=10)


def ok(name, detail=""):
    print("PASS %s%s" % (name, (" (%s)" % detail) if detail else ""), flush=True)


def bad(name, detail):
    global N_FAIL
    N_FAIL += 1
    print("FAIL %s: %s" % (name, " ".join(str(detail).split())[:600]), flush=True)


def resp_headers(ws):
    r = getattr(ws, "response", None)
    if r is not None:
        return r.headers
    return getattr(ws, "response_headers", {})


def negotiated_extensions(ws):
    proto = getattr(ws, "protocol", None)
    exts = getattr(proto, "extensions", None)
    if exts is None:
        exts = getattr(ws, "extensions", [])
    return [getattr(e, "name", type(e).__name__) for e in exts]


async def run_check(name, coro):
    try:
        await asyncio.wait_for(coro, TIMEOUT)
    except asyncio.TimeoutError:
        bad(name, "timed out after %d s" % TIMEOUT)
    except Exception as e:  # noqa: BLE001 - every error is a failed check
        bad(name, "%s: %s" % (type(e).__name__, e))


def payload(n, text):
    if text:
        base = "lws-rs \u00e9cho \u2713 0123456789 "  # multi-byte UTF-8 included
        return (base * (n // len(base.encode()) + 1)).encode()[:n].decode("utf-8", "ignore")
    return bytes((i * 7 + (i >> 8)) & 0xFF for i in range(n))


async def echo_roundtrip(ws, msg):
    await ws.send(msg)
    got = await ws.recv()
    if type(got) is not type(msg):
        raise AssertionError("sent %s, got %s back" % (type(msg).__name__, type(got).__name__))
    if got != msg:
        raise AssertionError("echo differs: sent %d, got %d %s" % (len(msg), len(got),
                                                                   "chars" if isinstance(msg, str) else "bytes"))


# ---- against lwsws --docroot (lws-echo) ------------------------------------------------------------------------

async def echo_checks(base):
    # without compression: plain echo of text, binary and 1 MiB of each
    async def plain():
        async with connect(base + "/", compression=None, **LIMITS) as ws:
            ext = resp_headers(ws).get("Sec-WebSocket-Extensions")
            if ext:
                bad("no-extension-unless-offered", "no extension offered, server answered "
                    "Sec-WebSocket-Extensions: %s" % ext)
            else:
                ok("no-extension-unless-offered")
            if ws.subprotocol is not None:
                bad("no-subprotocol-unless-offered", "no subprotocol offered, server chose %r" % ws.subprotocol)
            else:
                ok("no-subprotocol-unless-offered")
            await echo_roundtrip(ws, "hello lws-rs \u2713")
            ok("echo-text")
            await echo_roundtrip(ws, bytes(range(256)))
            ok("echo-binary")
            t0 = time.monotonic()
            await echo_roundtrip(ws, payload(1 << 20, True))
            ok("echo-text-1MiB", "%.2f s" % (time.monotonic() - t0))
            t0 = time.monotonic()
            await echo_roundtrip(ws, payload(1 << 20, False))
            ok("echo-binary-1MiB", "%.2f s" % (time.monotonic() - t0))
            await ws.close()
            if ws.close_code != 1000:
                raise AssertionError("close code %s" % ws.close_code)
            ok("echo-close-1000")
    await run_check("echo-plain", plain())

    # permessage-deflate offered (websockets' default offer: client_max_window_bits, server_max_window_bits
    # unset, context takeover on): the server must accept it and the echo must still be right
    async def deflate():
        async with connect(base + "/", compression="deflate", **LIMITS) as ws:
            ext = resp_headers(ws).get("Sec-WebSocket-Extensions")
            names = negotiated_extensions(ws)
            if not ext or "permessage-deflate" not in ext or "permessage-deflate" not in names:
                bad("pmd-negotiated", "offered permessage-deflate; response Sec-WebSocket-Extensions: %r, "
                    "negotiated %r (pmd-echo-* checks not run)" % (ext, names))
                await ws.close()
                return
            else:
                ok("pmd-negotiated", ext)
            await echo_roundtrip(ws, "compressible " * 100)
            ok("pmd-echo-text")
            await echo_roundtrip(ws, bytes(range(256)) * 4)
            ok("pmd-echo-binary")
            for i in range(20):  # context takeover across messages
                await echo_roundtrip(ws, "message %d: %s" % (i, "abc" * i))
            ok("pmd-echo-20-messages")
            t0 = time.monotonic()
            await echo_roundtrip(ws, payload(1 << 20, True))
            ok("pmd-echo-text-1MiB", "%.2f s" % (time.monotonic() - t0))
            t0 = time.monotonic()
            await echo_roundtrip(ws, payload(1 << 20, False))
            ok("pmd-echo-binary-1MiB", "%.2f s" % (time.monotonic() - t0))
            await ws.close()
    await run_check("pmd-echo", deflate())

    async def subprotocol():
        async with connect(base + "/some/path", subprotocols=["lws-echo"], compression=None, **LIMITS) as ws:
            if ws.subprotocol != "lws-echo":
                raise AssertionError("offered lws-echo, server chose %r (Sec-WebSocket-Protocol: %r)" % (
                    ws.subprotocol, resp_headers(ws).get("Sec-WebSocket-Protocol")))
            await echo_roundtrip(ws, "via lws-echo")
            await echo_roundtrip(ws, b"\x00\x01binary")
            await ws.close()
        ok("subprotocol-lws-echo")
    await run_check("subprotocol-lws-echo", subprotocol())


# ---- against the demo site -------------------------------------------------------------------------------------

async def demo_checks(base):
    async def dumb_increment():
        async with connect(base + "/", subprotocols=["dumb-increment-protocol"], **LIMITS) as ws:
            if ws.subprotocol != "dumb-increment-protocol":
                raise AssertionError("server chose subprotocol %r" % ws.subprotocol)
            nums = [int(await ws.recv()) for _ in range(8)]
            if any(b != a + 1 for a, b in zip(nums, nums[1:])):
                raise AssertionError("numbers do not go up by one: %r" % nums)
            ok("dumb-increment-counts", "%d..%d" % (nums[0], nums[-1]))
            await ws.send("junk")  # under 6 bytes: ignored
            await ws.send("reset\n")
            seen = []
            for _ in range(20):
                seen.append(int(await ws.recv()))
                if seen[-1] < nums[-1]:
                    break
            if seen[-1] >= nums[-1]:
                raise AssertionError("after reset\\n the counter did not restart: %r after %r" % (seen, nums))
            ok("dumb-increment-reset", "%r" % seen[-3:])
            await ws.send("closeme\n")
            try:
                while True:
                    await ws.recv()
            except ConnectionClosed:
                pass
            if ws.close_code != 1001 or ws.close_reason != "seeya":
                raise AssertionError("closeme\\n -> close code %r reason %r, want 1001 'seeya'" % (
                    ws.close_code, ws.close_reason))
            ok("dumb-increment-closeme-1001-seeya")
    await run_check("dumb-increment", dumb_increment())

    async def mirror():
        url = base + "/?mirror=ws-peers"
        async with connect(url, subprotocols=["lws-mirror-protocol"], **LIMITS) as a, \
                connect(url, subprotocols=["lws-mirror-protocol"], **LIMITS) as b:
            if a.subprotocol != "lws-mirror-protocol" or b.subprotocol != "lws-mirror-protocol":
                raise AssertionError("subprotocols %r %r" % (a.subprotocol, b.subprotocol))
            if resp_headers(a).get("Sec-WebSocket-Extensions"):
                bad("mirror-refuses-pmd", "mirror accepted %r" % resp_headers(a).get("Sec-WebSocket-Extensions"))
            else:
                ok("mirror-refuses-pmd")
            msg = "c #7f0000 10 20 30 40;"
            await a.send(msg)
            got_b = await b.recv()
            got_a = await a.recv()
            if got_b != msg or got_a != msg:
                raise AssertionError("sent %r; second client got %r, sender got %r" % (msg, got_b, got_a))
            ok("mirror-to-second-client")
    await run_check("mirror", mirror())

    async def status():
        async with connect(base + "/", subprotocols=["lws-status"], **LIMITS) as ws:
            if ws.subprotocol != "lws-status":
                raise AssertionError("server chose subprotocol %r" % ws.subprotocol)
            doc = json.loads(await ws.recv())
            if not isinstance(doc.get("conns"), list) or not doc["conns"]:
                raise AssertionError("no non-empty \"conns\" list in %r" % doc)
            ok("status-json-conns", "%d conns" % len(doc["conns"]))
    await run_check("status", status())


# ---- raw sockets: protocol errors ------------------------------------------------------------------------------

def raw_handshake(port, version="13", path="/"):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: %s\r\n\r\n" % (path, port, key, version))
    s.sendall(req.encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            break
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    return s, head.decode("latin-1"), rest


def read_frame(s, buf):
    def need(n):
        nonlocal buf
        while len(buf) < n:
            d = s.recv(65536)
            if not d:
                raise EOFError("connection closed by the server without a close frame (%d bytes pending)" % len(buf))
            buf += d
    need(2)
    b0, b1 = buf[0], buf[1]
    n, off = b1 & 0x7F, 2
    if n == 126:
        need(4)
        n, off = struct.unpack("!H", buf[2:4])[0], 4
    elif n == 127:
        need(10)
        n, off = struct.unpack("!Q", buf[2:10])[0], 10
    if b1 & 0x80:
        off += 4
    need(off + n)
    return b0 & 0x0F, buf[off:off + n], buf[off + n:]


def raw_checks(port):
    name = "unmasked-frame-close-1002"
    try:
        s, head, rest = raw_handshake(port)
        if not head.startswith("HTTP/1.1 101"):
            raise AssertionError("handshake answered %r" % head.split("\r\n")[0])
        s.sendall(b"\x81\x05hello")  # FIN text, NOT masked: a protocol error from a client
        op, data, rest = read_frame(s, rest)
        while op != 8:
            op, data, rest = read_frame(s, rest)
        code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
        if code != 1002:
            raise AssertionError("close frame code %r reason %r, want 1002" % (code, data[2:]))
        ok(name, "reason %r" % data[2:].decode("utf-8", "replace"))
        s.close()
    except Exception as e:  # noqa: BLE001
        bad(name, "%s: %s" % (type(e).__name__, e))

    name = "version-8-426"
    try:
        s, head, _ = raw_handshake(port, version="8")
        s.close()
        status = head.split("\r\n")[0]
        hdrs = {}
        for line in head.split("\r\n")[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        if not status.startswith("HTTP/1.1 426"):
            raise AssertionError("Sec-WebSocket-Version: 8 answered %r" % status)
        ok(name)
        if hdrs.get("sec-websocket-version", "").replace(" ", "") not in ("13",) and \
                "13" not in hdrs.get("sec-websocket-version", "").replace(" ", "").split(","):
            bad("version-426-advertises-13", "426 without 'Sec-WebSocket-Version: 13' (RFC 6455 4.4); headers %r"
                % hdrs)
        else:
            ok("version-426-advertises-13")
    except Exception as e:  # noqa: BLE001
        bad(name, "%s: %s" % (type(e).__name__, e))


async def server_main(echo_port, demo_port):
    await echo_checks("ws://127.0.0.1:%d" % echo_port)
    await demo_checks("ws://127.0.0.1:%d" % demo_port)
    await asyncio.get_running_loop().run_in_executor(None, raw_checks, echo_port)


# ---- reverse direction: our client against a Python websockets server ------------------------------------------

CLIENT_CASES = [
    ("text", lambda: "hello from python websockets \u2713"),
    ("binary", lambda: bytes(range(256))),
    ("text-1MiB", lambda: payload(1 << 20, True)),
    ("binary-1MiB", lambda: payload(1 << 20, False)),
    ("ten-messages", None),
]


async def client_main(client):
    agent = "ws-peers"
    results = {}
    host_headers = []
    pmd = []
    done = asyncio.Event()

    async def handler(ws):
        req = ws.request
        host_headers.append(req.headers.get("Host"))
        u = urllib.parse.urlsplit(req.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        if u.path == "/getCaseCount":
            await ws.send(str(len(CLIENT_CASES)))
            await ws.close()
            return
        if u.path == "/updateReports":
            await ws.close()
            done.set()
            return
        if u.path != "/runCase":
            await ws.close(1008, "unknown path")
            return
        i = int(q.get("case", "0"))
        name = CLIENT_CASES[i - 1][0] if 1 <= i <= len(CLIENT_CASES) else "case-%d" % i
        pmd.append(req.headers.get("Sec-WebSocket-Extensions"))
        try:
            if CLIENT_CASES[i - 1][1] is None:
                for k in range(10):
                    await echo_roundtrip(ws, ("msg %d " % k) * (k + 1) if k % 2 == 0 else bytes([k]) * (k + 1))
            else:
                await echo_roundtrip(ws, CLIENT_CASES[i - 1][1]())
            await ws.close(1000)
            rcvd = getattr(getattr(ws, "protocol", None), "close_rcvd", None) or getattr(ws, "close_rcvd", None)
            if rcvd is None or rcvd.code != 1000:
                results[name] = "echo ok but the client's close answer was %r" % (rcvd,)
            else:
                results[name] = None
        except Exception as e:  # noqa: BLE001
            results[name] = "%s: %s" % (type(e).__name__, e)

    async with serve(handler, "127.0.0.1", 0, **LIMITS) as srv:
        port = srv.sockets[0].getsockname()[1]
        proc = await asyncio.create_subprocess_exec(client, "-p", str(port), "-a", agent,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
                                                    stdin=asyncio.subprocess.DEVNULL)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), 60)
        except asyncio.TimeoutError:
            proc.kill()
            out, _ = await proc.communicate()
            bad("client-run", "client did not finish within 60 s; output: %r" % out[-300:])
            return
        tail = out.decode("utf-8", "replace")[-300:]
        if proc.returncode == 0:
            ok("client-exit-0")
        else:
            bad("client-exit-0", "exit %s; output: %r" % (proc.returncode, tail))
        try:
            await asyncio.wait_for(done.wait(), 5)
            ok("client-update-reports")
        except asyncio.TimeoutError:
            bad("client-update-reports", "client never opened /updateReports?agent=...")
    for name, _ in CLIENT_CASES:
        if name not in results:
            bad("client-echo-" + name, "case never run")
        elif results[name]:
            bad("client-echo-" + name, results[name])
        else:
            ok("client-echo-" + name)
    print("# client's Sec-WebSocket-Extensions offers: %r" % sorted(set(map(str, pmd))), flush=True)
    bad_hosts = [h for h in host_headers if not h or not h.endswith(":%d" % port)]
    if host_headers and not bad_hosts:
        ok("client-host-header-has-port")
    else:
        bad("client-host-header-has-port", "Host headers %r (port %d)" % (sorted(set(map(str, host_headers))), port))


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "server":
        asyncio.run(server_main(int(sys.argv[2]), int(sys.argv[3])))
    elif len(sys.argv) >= 3 and sys.argv[1] == "client":
        asyncio.run(client_main(sys.argv[2]))
    else:
        sys.stderr.write(open(__file__).read().split("\nimport", 1)[0] + "\n")
        return 2
    print("# websockets %s" % websockets.__version__, flush=True)
    return 1 if N_FAIL else 0


if __name__ == "__main__":
    sys.exit(main())
