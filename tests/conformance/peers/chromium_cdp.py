#!/usr/bin/env python3
"""Headless Chromium driven over the DevTools protocol (stdlib only: no pip packages needed).

usage: chromium_cdp.py dom URL SECS | shot URL SECS OUT.png [WxH] | eval URL SECS JS-EXPR
  Starts headless chromium (env CHROMIUM, CHROMIUM_EXTRA) with a DevTools port, loads URL, waits SECS of real time
  (page JS can do WebSocket/XHR traffic), then prints the DOM, writes a PNG, or prints the JS expression's value.
As a module: `with Browser() as b: b.navigate(url); b.eval(js)` (see demo_browser.py).

Adapted from the project's peers/chromium-cdp.py; the WebSocket client for the DevTools connection is a minimal
RFC 6455 client here so that CI needs no Python venv.
"""
import base64
import json
import os
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--remote-debugging-port=0"]


def chrome_path():
    p = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not p:
        raise RuntimeError("chromium not found: run tests/conformance/install.sh chromium")
    return p


class WS:
    """Just enough of a WebSocket client for a DevTools endpoint on loopback."""

    def __init__(self, url, timeout=30.0):
        u = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        path = u.path + ("?" + u.query if u.query else "")
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                           % (path, u.hostname, u.port, key)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            d = self.sock.recv(4096)
            if not d:
                raise RuntimeError("DevTools closed during the WebSocket handshake")
            self.buf += d
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("DevTools WebSocket handshake failed: %r" % head[:200])

    def _frame(self):
        """Parse one whole frame from the buffer (consumed only when complete): (b0, payload) or None."""
        b = self.buf
        if len(b) < 2:
            return None
        n, i = b[1] & 0x7F, 2
        if n == 126:
            if len(b) < 4:
                return None
            n, i = struct.unpack("!H", b[2:4])[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, i = struct.unpack("!Q", b[2:10])[0], 10
        mask = None
        if b[1] & 0x80:
            if len(b) < i + 4:
                return None
            mask, i = b[i:i + 4], i + 4
        if len(b) < i + n:
            return None
        data, self.buf = b[i:i + n], b[i + n:]
        if mask:
            data = bytes(x ^ mask[k & 3] for k, x in enumerate(data))
        return b[0], data

    def _send_frame(self, opcode, payload):
        hdr = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
        self.sock.sendall(hdr + mask + body)

    def send(self, text):
        self._send_frame(0x1, text.encode())

    def recv(self, timeout):
        """One whole text message, or None on timeout."""
        deadline = time.time() + timeout
        msg = b""
        while True:
            f = self._frame()
            if f is None:
                left = deadline - time.time()
                if left <= 0:
                    if msg:
                        self.pending = msg  # keep a partial fragmented message for the next call
                    return None
                self.sock.settimeout(left)
                try:
                    d = self.sock.recv(1 << 16)
                except socket.timeout:
                    continue
                if not d:
                    raise RuntimeError("DevTools connection closed")
                self.buf += d
                continue
            b0, data = f
            op = b0 & 0x0F
            if op == 0x9:
                self._send_frame(0xA, data)
            elif op == 0x8:
                raise RuntimeError("DevTools closed the WebSocket")
            elif op in (0x0, 0x1, 0x2):
                msg = getattr(self, "pending", b"") + msg + data
                self.pending = b""
                if b0 & 0x80:
                    return msg.decode()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Browser:
    """A headless chromium process with one page target. Events are kept in self.events (method, params)."""

    def __init__(self, extra_flags=()):
        self.prof = tempfile.mkdtemp(prefix="lws-conformance-chromium-")
        args = [chrome_path()] + FLAGS + ["--user-data-dir=" + self.prof] + list(extra_flags)
        args += shlex.split(os.environ.get("CHROMIUM_EXTRA", "")) + ["about:blank"]
        self.log = open(os.path.join(self.prof, "stderr.log"), "wb")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.log, start_new_session=True)
        self.ws = None
        self.seq = 0
        self.events = []
        try:
            port_file = os.path.join(self.prof, "DevToolsActivePort")
            deadline = time.time() + 30
            while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.log.flush()
                    tail = open(os.path.join(self.prof, "stderr.log"), errors="replace").read()[-3000:]
                    raise RuntimeError("chromium did not start a DevTools port:\n" + tail)
                time.sleep(0.1)  # polling for readiness
            port = int(open(port_file).read().split()[0])
            targets = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10))
            page = next(t for t in targets if t.get("type") == "page")
            self.ws = WS(page["webSocketDebuggerUrl"])
        except Exception:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, method, timeout=30.0, **params):
        self.seq += 1
        my = self.seq
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise RuntimeError("%s: no answer within %.0f s" % (method, timeout))
            raw = self.ws.recv(left)
            if raw is None:
                continue
            m = json.loads(raw)
            if m.get("id") == my:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            if "method" in m:
                self.events.append((m["method"], m.get("params", {})))

    def wait_event(self, method, timeout=30.0, since=0):
        """Wait for an event named method (among those received after index `since`); returns its params."""
        deadline = time.time() + timeout
        i = since
        while True:
            while i < len(self.events):
                if self.events[i][0] == method:
                    return self.events[i][1]
                i += 1
            left = deadline - time.time()
            if left <= 0:
                raise RuntimeError("no %s within %.0f s" % (method, timeout))
            raw = self.ws.recv(left)
            if raw is None:
                continue
            m = json.loads(raw)
            if "method" in m:
                self.events.append((m["method"], m.get("params", {})))

    def navigate(self, url, timeout=30.0):
        """Navigate and wait for the load event."""
        mark = len(self.events)
        r = self.call("Page.navigate", url=url)
        if r.get("errorText"):
            raise RuntimeError("navigate %s: %s" % (url, r["errorText"]))
        self.wait_event("Page.loadEventFired", timeout, since=mark)

    def eval(self, expr, timeout=30.0):
        r = self.call("Runtime.evaluate", timeout=timeout, expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError("JS exception in %r: %s" % (expr[:80], r["exceptionDetails"]))
        return r["result"].get("value")

    def close(self):
        if self.ws:
            self.ws.close()
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own chromium's process group only
            self.proc.wait(timeout=10)
        except Exception:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except Exception:
                pass
        try:
            self.log.close()
        except Exception:
            pass
        shutil.rmtree(self.prof, ignore_errors=True)


def main():
    argv = sys.argv
    if len(argv) < 4 or argv[1] not in ("dom", "shot", "eval") or (argv[1] != "dom" and len(argv) < 5):
        sys.exit(__doc__)
    mode, url, secs = argv[1], argv[2], float(argv[3])
    try:
        with Browser() as b:
            if mode == "shot":
                size = argv[5] if len(argv) > 5 else "1280x900"
                w, h = (int(x) for x in size.split("x"))
                b.call("Emulation.setDeviceMetricsOverride", width=w, height=h, deviceScaleFactor=1, mobile=False)
            b.call("Page.enable")
            b.call("Page.navigate", url=url)
            time.sleep(secs)  # the requested real-time budget for page JS, not synchronisation
            if mode in ("dom", "eval"):
                v = b.eval("document.documentElement.outerHTML" if mode == "dom" else argv[4])
                sys.stdout.write((v if isinstance(v, str) else json.dumps(v)) + "\n")
            else:
                r = b.call("Page.captureScreenshot", format="png")
                with open(argv[4], "wb") as f:
                    f.write(base64.b64decode(r["data"]))
                print("wrote %s" % argv[4], file=sys.stderr)
    except Exception as e:  # report, fail
        print("chromium_cdp: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
