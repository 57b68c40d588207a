#!/usr/bin/env python3
"""lws-rs side-by-side performance harness (driver).

Starts every server instance (anchors + optional servers under test) pinned to
one CPU, drives load from another CPU, runs every test for every server in an
interleaved order for several rounds, and writes raw JSONL + a markdown table
of medians and ratios against a baseline server (default: lws-c).

Stdlib only. See README.md for how to add a server under test (--sut).
"""
import argparse
import datetime
import gzip
import http.client
import json
import os
import queue
import random
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BENCH = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------------------
# Anchor servers. roles: role -> port. Roles:
#   h1  : HTTP/1.1 cleartext, serves {www}/1k.txt and {www}/1m.bin
#   tls : HTTP/2 over TLS (ALPN h2), same files
#   h2c : HTTP/2 cleartext, prior knowledge, same files
#   ws  : WebSocket echo at ws://127.0.0.1:PORT{ws_path}
#   wspmd : the same echo with permessage-deflate (RFC 7692) accepted, in its own process so that its
#         memory test starts from a fresh server (only servers that implement the extension have it)
#   proxy : raw TCP proxy: every connection accepted on the port is forwarded to 127.0.0.1:{port_backend},
#         the harness's own backend (proxyload serve, started per round, pinned with the load generators)
#   hp1 / hph2c / hptls : HTTP reverse proxy: every request (HTTP/1.1 on hp1, h2c prior knowledge on hph2c,
#         h2 over TLS with ALPN on hptls; ports may be shared) is proxied to http://127.0.0.1:{port_origin}/,
#         the harness's nginx origin (conf/nginx-origin.conf.in, started per round, pinned with the load
#         generators), which serves the same docroot
#   gz  : HTTP/1.1 cleartext with response compression on at level 6 (gzip; brotli and zstd where the server has
#         them), serving {www}/100k.html; its own process, fresh for each idle memory test (restarted before it)
#   ih1 / ih2c / itls : the idle connection tests (idle_h1, idle_h2c, idle_h1tls, idle_h2tls): HTTP/1.1, h2c with
#         prior knowledge, and TLS with ALPN h2 and http/1.1 (ports may be shared), serving {www}/1k.txt, keep-alive
#         idle timeouts of a minute or more; their own process, restarted before each of these tests
# cmd placeholders: {port_<role>} {port_backend} {port_origin} {www} {cert} {key} {run} {bench}
# ---------------------------------------------------------------------------
ANCHORS = [
    dict(name="lws-c", roles={"h1": 7681, "ws": 7681}, ws_path="/echo",
         cmd="{bench}/c/lws-bench-server -p {port_h1} -r {www}"),
    dict(name="lws-c", roles={"tls": 7682},
         cmd="{bench}/c/lws-bench-server -p {port_tls} -r {www} --h2-streams 128 --tls {cert} {key}"),
    dict(name="lws-c", roles={"h2c": 7683},
         cmd="{bench}/c/lws-bench-server -p {port_h2c} -r {www} --h2-streams 128 --h2-prior-knowledge"),
    # --pmd-rx-buf 4096: with its stock 1 KiB inflate buffer lws 4.1.6 aborts on compressed messages over
    # 2 KiB (see c/lws-bench-server.c); 4096 lets the 4 KiB ws_pmd_echo messages inflate in one step
    dict(name="lws-c", roles={"wspmd": 7684}, ws_path="/echo",
         cmd="{bench}/c/lws-bench-server -p {port_wspmd} -r {www} --pmd --pmd-rx-buf 4096"),
    dict(name="nginx", roles={"h1": 8080, "tls": 8443, "h2c": 8081},
         conf="nginx.conf.in", cmd="nginx -c {run}/nginx.conf -e {run}/nginx-error.log"),
    dict(name="h2o", roles={"h1": 8090, "tls": 8453, "h2c": 8090},
         conf="h2o.conf.in", cmd="h2o -c {run}/h2o.conf"),
    dict(name="hyper", roles={"h1": 9004, "h2c": 9004},
         cmd="{bench}/peers-rs/target/release/hyper-hello 127.0.0.1:{port_h1} {www}"),
    dict(name="tokio-tungstenite", roles={"ws": 9002}, ws_path="/echo",
         cmd="{bench}/peers-rs/target/release/tt-echo 127.0.0.1:{port_ws}"),
    dict(name="fastwebsockets", roles={"ws": 9003}, ws_path="/echo",
         cmd="{bench}/peers-rs/target/release/fws-echo 127.0.0.1:{port_ws}"),
    dict(name="uWebSockets", roles={"ws": 9001}, ws_path="/echo", optional=True,
         cmd="{bench}/bin/uws-echo {port_ws}"),
    # raw TCP proxies (proxy_* tests), each forwarding its port to the same backend. haproxy: mode tcp,
    # nbthread 1, no log (conf/haproxy.cfg.in). socat forks a child per connection and sslh-fork (Debian's
    # /usr/sbin/sslh) too: their CPU and memory are summed over the process tree. socat's listen backlog is
    # raised from its default of 5 (SYN drops would stall proxy_idle's connects).
    dict(name="haproxy", roles={"proxy": 7791},
         conf="haproxy.cfg.in", cmd="haproxy -db -f {run}/haproxy.cfg"),
    dict(name="socat", roles={"proxy": 7792},
         cmd="socat TCP-LISTEN:{port_proxy},bind=127.0.0.1,fork,reuseaddr,backlog=4096 TCP:127.0.0.1:{port_backend}"),
    dict(name="sslh-fork", roles={"proxy": 7793},
         cmd="sslh -f -n -p 127.0.0.1:{port_proxy} --anyprot 127.0.0.1:{port_backend}"),
    dict(name="sslh-select", roles={"proxy": 7794},
         cmd="sslh-select -f -n -p 127.0.0.1:{port_proxy} --anyprot 127.0.0.1:{port_backend}"),
    # HTTP reverse proxies (hproxy_* tests), each one worker / thread, all proxying to the same nginx origin.
    # nginx: proxy_pass to an upstream block with keepalive 64, HTTP/1.1, Connection ""; its h2c needs a port of
    # its own (nginx 1.22 `listen ... http2` without ssl takes prior knowledge only). h2o: proxy.reverse.url.
    # haproxy: mode http, http-reuse always; h2c is detected on the clear bind.
    dict(name="nginx", roles={"hp1": 8082, "hph2c": 8083, "hptls": 8444},
         conf="nginx-proxy.conf.in", cmd="nginx -c {run}/nginx-proxy.conf -e {run}/nginx-proxy-error.log"),
    dict(name="h2o", roles={"hp1": 8091, "hph2c": 8091, "hptls": 8454},
         conf="h2o-proxy.conf.in", cmd="h2o -c {run}/h2o-proxy.conf"),
    dict(name="haproxy", roles={"hp1": 7795, "hph2c": 7795, "hptls": 7797},
         conf="haproxy-http.cfg.in", cmd="haproxy -db -f {run}/haproxy-http.cfg"),
]
# The origin of the hproxy_* tests (not a server under test): nginx, pinned with the load generators.
# Compression anchors (gzip_100k, br_100k, zstd_100k, h1_idle, h1_idle_gz): nginx (gzip + Debian's brotli filter
# module) and h2o (gzip + brotli), each its own single-worker process at level / quality 6.
ANCHORS += [
    dict(name="nginx", roles={"gz": 8085}, conf="nginx-gz.conf.in",
         cmd="nginx -c {run}/nginx-gz.conf -e {run}/nginx-gz-error.log"),
    dict(name="h2o", roles={"gz": 8095}, conf="h2o-gz.conf.in", cmd="h2o -c {run}/h2o-gz.conf"),
]
# Idle connection anchors (idle_h1, idle_h2c, idle_h1tls, idle_h2tls): nginx and h2o configured like the anchors of
# the other tests (nginx.conf.in, h2o.conf.in) on ports of their own, so that they can be restarted before every idle
# test; h2o's idle timeouts raised from 10 to 65 s like nginx's keepalive_timeout. Roles ih1 (HTTP/1.1), ih2c (h2c,
# prior knowledge), itls (TLS, ALPN h2 and http/1.1).
ANCHORS += [
    dict(name="nginx", roles={"ih1": 8086, "ih2c": 8087, "itls": 8446}, conf="nginx-idle.conf.in",
         cmd="nginx -c {run}/nginx-idle.conf -e {run}/nginx-idle-error.log"),
    dict(name="h2o", roles={"ih1": 8096, "ih2c": 8096, "itls": 8456}, conf="h2o-idle.conf.in",
         cmd="h2o -c {run}/h2o-idle.conf"),
]
ORIGIN = dict(name="origin", roles={"origin": 7800}, conf="nginx-origin.conf.in",
              cmd="nginx -c {run}/nginx-origin.conf -e {run}/nginx-origin-error.log")

# test id -> (role, description)
TESTS = {
    "ws_idle":     ("ws",  "idle WebSocket connections: server RSS delta per connection"),
    "h1_1k":       ("h1",  "HTTP/1.1 keep-alive GET 1 KiB file, wrk -t1 -c64"),
    "h1_1m":       ("h1",  "HTTP/1.1 keep-alive GET 1 MiB file, wrk -t1 -c16"),
    "h2_tls":      ("tls", "HTTP/2 over TLS GET 1 KiB, h2load -c16 -m32"),
    "h2c":         ("h2c", "HTTP/2 cleartext (prior knowledge) GET 1 KiB, h2load -c16 -m32"),
    "ws_echo_32":  ("ws",  "WebSocket echo round trip, 64 conns, 32 B binary"),
    "ws_echo_16k": ("ws",  "WebSocket echo round trip, 64 conns, 16 KiB binary"),
    "ws_connect":  ("ws",  "WebSocket connect+handshake+close rate, 16 workers"),
    "ws_pmd_idle": ("wspmd", "idle WebSocket connections with permessage-deflate, one compressed echo each: "
                             "server RSS delta per connection"),
    "ws_pmd_echo": ("wspmd", "WebSocket echo round trip with permessage-deflate, 64 conns, 4 KiB of JSON-ish "
                             "text lines (~1 KiB deflated) in binary messages, echo content verified"),
    "proxy_idle": ("proxy", "idle proxied pairs (client - proxy - backend, one 32-byte echo each): proxy RSS "
                            "delta per pair, summed over its process tree"),
    "proxy_bulk": ("proxy", "1 GiB through one proxied connection (client sends, backend sinks): MiB/s"),
    "proxy_pingpong": ("proxy", "64 proxied connections, 64-byte messages echoed by the backend: round trips/s"),
    "hproxy_h1_1k": ("hp1", "HTTP reverse proxy, HTTP/1.1 client side: GET 1 KiB from the nginx origin through "
                            "the proxy, wrk -t1 -c64"),
    "hproxy_h1_1m": ("hp1", "HTTP reverse proxy, HTTP/1.1 client side: GET 1 MiB, wrk -t1 -c16"),
    "hproxy_h2c_1k": ("hph2c", "HTTP reverse proxy, h2c (prior knowledge) client side: GET 1 KiB, "
                               "h2load -t1 -c16 -m4"),
    "hproxy_h2c_1m": ("hph2c", "HTTP reverse proxy, h2c client side: GET 1 MiB, h2load -t1 -c8 -m2"),
    "hproxy_h2_1k": ("hptls", "HTTP reverse proxy, h2 over TLS (ALPN) client side: GET 1 KiB, h2load -t1 -c16 -m4"),
    "hproxy_h2_1m": ("hptls", "HTTP reverse proxy, h2 over TLS client side: GET 1 MiB, h2load -t1 -c8 -m2"),
}
TESTS.update({
    "h1_idle": ("gz", "idle HTTP/1.1 keep-alive connections after one uncompressed GET of the 100 KiB text file each: "
                      "server RSS delta per connection"),
    "h1_idle_gz": ("gz", "idle HTTP/1.1 keep-alive connections after one gzip-compressed GET of the 100 KiB text "
                         "file each: server RSS delta per connection"),
    "gzip_100k": ("gz", "HTTP/1.1 keep-alive GET of a 100 KiB HTML file, Accept-Encoding: gzip, wrk -t1 -c16"),
    "br_100k": ("gz", "HTTP/1.1 keep-alive GET of a 100 KiB HTML file, Accept-Encoding: br, wrk -t1 -c16"),
    "zstd_100k": ("gz", "HTTP/1.1 keep-alive GET of a 100 KiB HTML file, Accept-Encoding: zstd, wrk -t1 -c16"),
})
# Idle connections of four kinds (opt-in): idleconns.py --proto (one GET of /1k.txt each, then idle)
IDLE_CONN_TESTS = {"idle_h1": ("ih1", "h1"), "idle_h2c": ("ih2c", "h2c"), "idle_h1tls": ("itls", "h1tls"),
                   "idle_h2tls": ("itls", "h2tls")}
TESTS.update({
    "idle_h1": ("ih1", "idle HTTP/1.1 keep-alive connections after one GET of /1k.txt each: server RSS delta per "
                       "connection"),
    "idle_h2c": ("ih2c", "idle HTTP/2 cleartext (prior knowledge) connections after one request of /1k.txt each: "
                         "server RSS delta per connection"),
    "idle_h1tls": ("itls", "idle HTTP/1.1 over TLS (ALPN http/1.1) connections after one GET of /1k.txt each: "
                           "server RSS delta per connection"),
    "idle_h2tls": ("itls", "idle HTTP/2 over TLS (ALPN h2) connections after one request of /1k.txt each: server "
                           "RSS delta per connection"),
})
# Throughput as concurrency grows (opt-in): h1_1k with wrk -t1 -cN
SCALE_TESTS = {"h1_1k_c10": 10, "h1_1k_c100": 100, "h1_1k_c1000": 1000, "h1_1k_c10000": 10000}
TESTS.update({t: ("h1", f"HTTP/1.1 keep-alive GET 1 KiB file, wrk -t1 -c{n} --timeout 10s") for t, n in
              SCALE_TESTS.items()})
# ws_idle / ws_pmd_idle first on their role: servers are fresh at the start of a round
TEST_ORDER = list(TESTS)
# run only when asked for (--tests): not in the default list
HPROXY_TESTS = {t for t in TESTS if t.startswith("hproxy_")}
HPROXY_ROLES = {"hp1", "hph2c", "hptls"}
# compression tests: test -> Accept-Encoding (the coding the response must carry)
GZ_CODING = {"gzip_100k": "gzip", "br_100k": "br", "zstd_100k": "zstd"}
H1_IDLE_TESTS = {"h1_idle": "", "h1_idle_gz": "gzip"}
GZ_TESTS = set(GZ_CODING) | set(H1_IDLE_TESTS)
OPT_IN_TESTS = {"ws_pmd_idle", "ws_pmd_echo", "proxy_idle", "proxy_bulk", "proxy_pingpong"} | HPROXY_TESTS | GZ_TESTS \
    | set(IDLE_CONN_TESTS) | set(SCALE_TESTS)
IDLE_TESTS = {"ws_idle", "ws_pmd_idle", "proxy_idle"} | set(H1_IDLE_TESTS) | set(IDLE_CONN_TESTS)
# restarted right before each run, so that every idle memory figure starts from a fresh process
RESTART_TESTS = set(H1_IDLE_TESTS) | set(IDLE_CONN_TESTS)
PROXY_TESTS = {"proxy_idle", "proxy_bulk", "proxy_pingpong"}

UNITS = {"ws_idle": "KiB/conn", "h1_1k": "req/s", "h1_1m": "MiB/s", "h2_tls": "req/s",
         "h2c": "req/s", "ws_echo_32": "msg/s", "ws_echo_16k": "msg/s", "ws_connect": "conn/s",
         "ws_pmd_idle": "KiB/conn", "ws_pmd_echo": "msg/s",
         "proxy_idle": "KiB/pair", "proxy_bulk": "MiB/s", "proxy_pingpong": "rt/s"}
UNITS.update({t: "req/s" for t in HPROXY_TESTS})
UNITS.update({t: "req/s" for t in GZ_CODING})
UNITS.update({t: "KiB/conn" for t in H1_IDLE_TESTS})
UNITS.update({t: "KiB/conn" for t in IDLE_CONN_TESTS})
UNITS.update({t: "req/s" for t in SCALE_TESTS})
LOWER_IS_BETTER = IDLE_TESTS


def log(*a):
    print(f"[{datetime.datetime.now().strftime('%H:%M:%S')}]", *a, file=sys.stderr, flush=True)


def log_tail(path):
    """Last non-empty line of a server's log (why it died)."""
    try:
        with open(path, "rb") as f:
            f.seek(max(os.path.getsize(path) - 4096, 0))
            lines = [l for l in f.read().decode(errors="replace").splitlines() if l.strip()]
        return lines[-1][-200:] if lines else ""
    except OSError:
        return ""


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]


ROLES = ("h1", "tls", "h2c", "ws", "wspmd", "proxy", "hp1", "hph2c", "hptls", "gz", "ih1", "ih2c", "itls")


def parse_sut(spec):
    """name=lws-rs;h1=7781;ws=7781;tls=7782;h2c=7781;wspmd=7783;ws_path=/echo;ws_proto=lws-echo;cmd=..."""
    d = {"roles": {}}
    if "cmd=" not in spec:
        raise SystemExit(f"--sut needs cmd=...: {spec}")
    head, cmd = spec.split("cmd=", 1)
    d["cmd"] = cmd.strip()
    for kv in filter(None, (x.strip() for x in head.split(";"))):
        k, _, v = kv.partition("=")
        if k in ROLES:
            d["roles"][k] = int(v)
        elif k in ("name", "ws_path", "ws_proto"):
            d[k] = v
        else:
            raise SystemExit(f"--sut: unknown key {k}")
    if "name" not in d or not d["roles"]:
        raise SystemExit(f"--sut needs name= and at least one role port: {spec}")
    d["sut"] = True
    return d


# ---------------------------------------------------------------------------
# process helpers (we only ever signal PIDs we started)
# ---------------------------------------------------------------------------
def proc_tree(pid):
    """pid plus all descendants (via /proc/*/stat ppid)."""
    children = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                s = f.read()
            ppid = int(s[s.rfind(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(p))
        except (OSError, ValueError, IndexError):
            pass
    out, todo = [], [pid]
    while todo:
        x = todo.pop()
        out.append(x)
        todo.extend(children.get(x, []))
    return out


def rss_kib(pid):
    tot = 0
    for p in proc_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        tot += int(line.split()[1])
        except OSError:
            pass
    return tot


def cpu_ticks(pid):
    tot = 0
    for p in proc_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                s = f.read()
            fields = s[s.rfind(")") + 2:].split()
            tot += int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, ValueError, IndexError):
            pass
    return tot


CLK = os.sysconf("SC_CLK_TCK")


def nginx_workers():
    """worker_processes for the nginx anchor: env NGINX_WORKERS (default 1 = single process, no master)."""
    try:
        n = int(os.environ.get("NGINX_WORKERS", "1"))
    except ValueError:
        raise SystemExit("NGINX_WORKERS must be a number")
    return max(n, 1)


class Instance:
    def __init__(self, spec, args):
        self.spec = spec
        self.name = spec["name"]
        self.roles = spec["roles"]
        self.proc = None
        self.args = args
        ports = {f"port_{r}": p for r, p in self.roles.items()}
        first = next(iter(self.roles.values()))
        for r in ROLES:
            ports.setdefault(f"port_{r}", first)
        self.fmt = dict(ports, port=first, www=args.www, cert=args.cert, key=args.key,
                        run=args.run, bench=BENCH, port_backend=args.proxy_backend_port,
                        port_origin=args.origin_port)
        self.cmd = spec["cmd"].format(**self.fmt)
        self.logpath = os.path.join(args.run, f"{self.name}-{first}.log")

    def prepare(self):
        conf = self.spec.get("conf")
        if conf:
            with open(os.path.join(BENCH, "conf", conf)) as f:
                text = f.read()
            rep = {"@RUN@": self.args.run, "@WWW@": self.args.www, "@TLS@": os.path.dirname(self.args.cert),
                   "@P_H1@": str(self.roles.get("h1", 0)), "@P_TLS@": str(self.roles.get("tls", 0)),
                   "@P_H2C@": str(self.roles.get("h2c", 0)),
                   "@P_PROXY@": str(self.roles.get("proxy", 0)), "@P_BACKEND@": str(self.args.proxy_backend_port),
                   "@P_HP1@": str(self.roles.get("hp1", 0)), "@P_HPH2C@": str(self.roles.get("hph2c", 0)),
                   "@P_HPTLS@": str(self.roles.get("hptls", 0)), "@P_ORIGIN@": str(self.args.origin_port),
                   "@ORIGIN_WORKERS@": str(self.args.origin_workers), "@P_GZ@": str(self.roles.get("gz", 0)),
                   "@P_IH1@": str(self.roles.get("ih1", 0)), "@P_IH2C@": str(self.roles.get("ih2c", 0)),
                   "@P_ITLS@": str(self.roles.get("itls", 0)),
                   # NGINX_WORKERS>1 (bench/run.sh --threads2): real worker processes need the master process
                   "@WORKERS@": str(nginx_workers()), "@MASTER@": "on" if nginx_workers() > 1 else "off"}
            for k, v in rep.items():
                text = text.replace(k, v)
            with open(os.path.join(self.args.run, conf[:-3]), "w") as f:
                f.write(text)

    def start(self):
        self.prepare()
        argv = ["taskset", "-c", self.spec.get("cpu") or self.args.server_cpu] + shlex.split(self.cmd)
        lf = open(self.logpath, "ab")
        env = dict(os.environ, WORKERS="1")
        self.proc = subprocess.Popen(argv, stdout=lf, stderr=lf, stdin=subprocess.DEVNULL,
                                     start_new_session=True, env=env)
        lf.close()
        deadline = time.time() + 10
        pending = set(self.roles.values())
        while pending and time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited rc={self.proc.returncode}; see {self.logpath}")
            for p in list(pending):
                try:
                    socket.create_connection(("127.0.0.1", p), timeout=0.2).close()
                    pending.discard(p)
                except OSError:
                    pass
            time.sleep(0.05)
        if pending:
            raise RuntimeError(f"{self.name}: ports {pending} not listening; see {self.logpath}")
        time.sleep(0.3)

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            return
        pids = proc_tree(self.proc.pid)
        for p in reversed(pids):  # only PIDs of the tree we started
            try:
                os.kill(p, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.wait(timeout=5)
        time.sleep(0.2)

    @property
    def pid(self):
        return self.proc.pid


# ---------------------------------------------------------------------------
# clients
# ---------------------------------------------------------------------------
CLIENT_CPU = {"pct": None}


def _child_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_client(argv, timeout, args):
    full = ["taskset", "-c", args.client_cpu] + argv
    c0, w0 = _child_cpu(), time.time()
    try:
        r = subprocess.run(full, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timeout after {timeout}s: {' '.join(full)}"
    CLIENT_CPU["pct"] = round(100.0 * (_child_cpu() - c0) / max(time.time() - w0, 1e-6), 1)
    return r, None


def t_wrk(inst, args, path, conns):
    url = f"http://127.0.0.1:{inst.roles['h1']}{path}"
    d = args.duration
    argv = ["wrk", "-t1", f"-c{conns}", f"-d{d}s", "-s", os.path.join(BENCH, "wrk-report.lua"), url]
    r, err = run_client(argv, d + 30, args)
    if err:
        return {"error": err}
    m = re.search(r"^JSON (\{.*\})$", r.stdout, re.M)
    if not m:
        return {"error": "no wrk JSON: " + r.stdout[-500:] + r.stderr[-500:]}
    j = json.loads(m.group(1))
    secs = j["duration_us"] / 1e6
    errors = j["err_connect"] + j["err_read"] + j["err_write"] + j["err_timeout"] + j["non2xx"]
    return {"req_s": j["requests"] / secs, "mib_s": j["bytes"] / secs / 1048576,
            "p50_us": j["p50_us"], "p99_us": j["p99_us"], "errors": errors, "cmd": " ".join(argv)}


def t_h2load(inst, args, role):
    port = inst.roles[role]
    scheme = "https" if role == "tls" else "http"
    url = f"{scheme}://127.0.0.1:{port}/1k.txt"
    d = args.duration
    argv = ["h2load", "-t1", "-c16", "-m32", "-D", str(d), "--warm-up-time=1", url]
    r, err = run_client(argv, d + 30, args)
    if err:
        return {"error": err}
    out = r.stdout
    m = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s, ([\d.]+)([KMG]?B)/s", out)
    mreq = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", out)
    mproto = re.search(r"Application protocol: (\S+)", out)
    if not m or not mreq:
        return {"error": "cannot parse h2load: " + out[-800:] + r.stderr[-300:]}
    failed = int(mreq.group(5)) + int(mreq.group(6)) + int(mreq.group(7))
    res = {"req_s": float(m.group(3)), "errors": failed, "proto": mproto.group(1) if mproto else "?",
           "cmd": " ".join(argv)}
    if res["proto"] not in ("h2", "h2c"):
        res["error"] = f"negotiated {res['proto']}, not h2"
    if int(mreq.group(4)) == 0:
        res["error"] = ("no request succeeded (h2load: " + mreq.group(0) + "; connections refused/reset "
                        "before the measurement window are not counted by -D)")
    return res


def ws_url(inst, role="ws"):
    return f"ws://127.0.0.1:{inst.roles[role]}{inst.spec.get('ws_path', '/')}"


def ws_extra(inst):
    p = inst.spec.get("ws_proto")
    return ["--protocol", p] if p else []


def pmd_result(j, res, stderr):
    """wsload --pmd: keep what the server negotiated; fail the run if wsload has no pmd report."""
    if "pmd" not in j:
        res["error"] = "no permessage-deflate report from wsload: " + stderr[-300:]
        return res
    res.update(pmd=j["pmd"], pmd_wire_bytes=j["pmd_wire_bytes"], pmd_plain_replies=j["pmd_plain_replies"])
    return res


def t_ws_echo(inst, args, size, pmd=False):
    d = args.duration
    role = "wspmd" if pmd else "ws"
    argv = [args.wsload, "--url", ws_url(inst, role), "--mode", "echo", "--conns", "64", "--size", str(size),
            "--duration", str(d), "--warmup", "1"] + ws_extra(inst) + (["--pmd"] if pmd else [])
    r, err = run_client(argv, d + 30, args)
    if err:
        return {"error": err}
    try:
        j = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": "wsload: " + r.stdout[-300:] + r.stderr[-300:]}
    res = {"msg_s": j["msgs_per_s"], "p50_us": j["p50_us"], "p99_us": j["p99_us"], "errors": j["errors"],
           "cmd": " ".join(argv)}
    return pmd_result(j, res, r.stderr) if pmd else res


def t_ws_connect(inst, args):
    d = max(3, args.duration // 2)
    argv = [args.wsload, "--url", ws_url(inst), "--mode", "connect", "--conns", "16", "--duration", str(d),
            "--warmup", "1", "--src-ips", "32"] + ws_extra(inst)
    r, err = run_client(argv, d + 30, args)
    if err:
        return {"error": err}
    try:
        j = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": "wsload: " + r.stdout[-300:] + r.stderr[-300:]}
    return {"conn_s": j["conn_per_s"], "p50_us": j["p50_us"], "p99_us": j["p99_us"], "errors": j["errors"],
            "cmd": " ".join(argv)}


def t_ws_idle(inst, args, pmd=False):
    n = args.pmd_idle_conns if pmd else args.idle_conns
    rss0 = rss_kib(inst.pid)
    argv = ["taskset", "-c", args.client_cpu, args.wsload, "--url", ws_url(inst, "wspmd" if pmd else "ws"),
            "--mode", "idle", "--conns", str(n), "--parallel", "64", "--hold", "4", "--src-ips", "32"] \
        + ws_extra(inst) + (["--pmd"] if pmd else [])
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    ready = None
    while time.time() - t0 < 60:
        line = p.stdout.readline()
        if not line:
            break
        if line.startswith("READY"):
            ready = line.split()
            break
    if not ready:
        p.kill()
        p.wait()
        return {"error": "idle: no READY; " + p.stderr.read()[-300:]}
    time.sleep(1.5)
    rss1 = rss_kib(inst.pid)
    try:
        rest, errout = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        rest, errout = p.communicate()
    opened = int(ready[1])
    closed = 0
    j = {}
    try:
        j = json.loads(rest.strip().splitlines()[-1])
        closed = j.get("closed_during_hold", 0)
    except (ValueError, IndexError):
        pass
    time.sleep(1.0)
    res = {"kib_per_conn": (rss1 - rss0) / max(opened, 1), "rss0_kib": rss0, "rss1_kib": rss1,
           "open": opened, "errors": int(ready[2]) + closed, "cmd": " ".join(argv[3:])}
    if pmd:
        pmd_result(j, res, errout)
    if opened < n * 0.99:
        res["error"] = f"only {opened}/{n} connections opened"
    return res


# ---------------------------------------------------------------------------
# raw TCP proxy tests: proxyload client -> proxy under test -> proxyload backend (see proxyload/src/main.rs)
# ---------------------------------------------------------------------------
def tree_cpu(pids):
    """(utime+stime ticks, on-CPU ns from schedstat) summed over pids and all their threads."""
    ticks = ns = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                s = f.read()
            fields = s[s.rfind(")") + 2:].split()
            ticks += int(fields[11]) + int(fields[12])
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/schedstat") as f:
                    ns += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return ticks, ns


def busy_ticks():
    """CPU ticks (USER_HZ) the whole machine spent busy, all CPUs: user nice system irq softirq (not idle,
    iowait, steal)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:8]]
    return v[0] + v[1] + v[2] + v[5] + v[6]


def pss_kib(pid):
    """Proportional set size of the process tree (shared pages divided among the processes mapping them)."""
    tot = 0
    for p in proc_tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        tot += int(line.split()[1])
                        break
        except OSError:
            pass
    return tot


class Backend:
    """proxyload serve on 127.0.0.1:--proxy-backend-port: the sink / echo server behind every proxy. Fresh each
    round, pinned with the load generators (--client-cpu), so it never competes with the proxy for its CPU."""

    def __init__(self, args):
        self.args = args
        self.port = args.proxy_backend_port
        self.proc = None

    def start(self):
        argv = ["taskset", "-c", self.args.client_cpu, self.args.proxyload, "serve",
                "--listen", f"127.0.0.1:{self.port}"]
        lf = open(os.path.join(self.args.run, f"backend-{self.port}.log"), "ab")
        self.proc = subprocess.Popen(argv, stdout=lf, stderr=lf, stdin=subprocess.DEVNULL, start_new_session=True)
        lf.close()
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"proxy backend exited rc={self.proc.returncode} (port {self.port} in use?)")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"proxy backend not listening on {self.port}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


class ProxyClient:
    """A proxyload client (pinned to --client-cpu) driven through its READY / go / END handshake: it sets up,
    prints READY and waits for a line on stdin; the harness samples the proxy, writes "go"; the client does
    the measured part, prints END {json} and holds its connections until stdin is closed."""

    def __init__(self, argv, args):
        self.cmd = " ".join(argv)
        self.err = tempfile.TemporaryFile(mode="w+")
        self.p = subprocess.Popen(["taskset", "-c", args.client_cpu] + argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.err, text=True, bufsize=1)
        self.q = queue.Queue()
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        for line in self.p.stdout:
            self.q.put(line.rstrip("\n"))
        self.q.put(None)

    def expect(self, word, timeout):
        deadline = time.time() + timeout
        while True:
            try:
                line = self.q.get(timeout=max(deadline - time.time(), 0.001))
            except queue.Empty:
                return None
            if line is None:
                return None
            if line.startswith(word):
                return line

    def go(self):
        self.p.stdin.write("go\n")
        self.p.stdin.flush()

    def finish(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(timeout=5)

    def stderr_tail(self):
        self.err.seek(0)
        return self.err.read()[-300:]

    def stderr_head(self):
        self.err.seek(0)
        return self.err.read().strip().split("\n")[0][:160]


def t_proxy_load(inst, args, mode):
    """proxy_bulk / proxy_pingpong: the proxy's CPU (process tree, utime+stime) is read right before "go" and
    right after END, while every connection (and a forking proxy's child) is still open; the rate is the
    client's over the same window, so value / (cpu_s / window) = work per proxy CPU-second exactly."""
    port = inst.roles["proxy"]
    if mode == "bulk":
        argv = [args.proxyload, "bulk", "--connect", f"127.0.0.1:{port}", "--bytes", str(args.proxy_bulk_bytes)]
        end_timeout = 150
    else:
        argv = [args.proxyload, "pingpong", "--connect", f"127.0.0.1:{port}", "--conns", str(args.proxy_conns),
                "--size", str(args.proxy_size), "--duration", str(args.duration), "--warmup-rounds", "100"]
        end_timeout = args.duration + 30
    c = ProxyClient(argv, args)
    try:
        if not c.expect("READY", 60):
            return {"error": "no READY from proxyload: " + c.stderr_tail(), "cmd": c.cmd}
        pids0 = proc_tree(inst.pid)
        s0, k0, b0 = tree_cpu(pids0), tree_cpu([c.p.pid]), tree_cpu([args.backend.proc.pid])
        m0 = busy_ticks()
        c.go()
        end = c.expect("END", end_timeout)
        if not end:
            return {"error": f"no END from proxyload within {end_timeout}s: " + c.stderr_tail(), "cmd": c.cmd}
        m1 = busy_ticks()
        s1 = tree_cpu(sorted(set(pids0) | set(proc_tree(inst.pid))))
        k1, b1 = tree_cpu([c.p.pid]), tree_cpu([args.backend.proc.pid])
    finally:
        c.finish()
    j = json.loads(end[4:])
    el = j["elapsed_s"]
    cpu_s, sched_s = (s1[0] - s0[0]) / CLK, (s1[1] - s0[1]) / 1e9
    res = {"window_s": el, "server_cpu_s": round(cpu_s, 3), "server_sched_s": round(sched_s, 4),
           "server_cpu_pct": round(100.0 * cpu_s / el, 1),
           "client_cpu_pct": round(100.0 * (k1[0] - k0[0]) / CLK / el, 1),
           "backend_cpu_pct": round(100.0 * (b1[0] - b0[0]) / CLK / el, 1),
           # CPU that neither the proxy, the client nor the backend used during the window (other sessions'
           # builds on this shared machine): % of one core; a run with much of it is a noisy one
           "other_cpu_pct": round(100.0 * ((m1 - m0) - (s1[0] - s0[0]) - (k1[0] - k0[0]) - (b1[0] - b0[0]))
                                  / CLK / el, 1),
           "server_procs": len(pids0), "errors": j["errors"], "cmd": c.cmd}
    if mode == "bulk":
        res.update(mib_s=j["mib_per_s"], bytes=j["bytes"])
        work = j["bytes"] / 1048576
    else:
        res.update(rt_s=j["rt_per_s"], round_trips=j["round_trips"], p50_us=j["p50_us"], p99_us=j["p99_us"],
                   max_us=j["max_us"])
        work = j["round_trips"]
    if sched_s > 0:  # the same efficiency from the scheduler's ns clock (no 10 ms tick rounding)
        res["per_cpu_s_sched"] = work / sched_s
    return res


def t_proxy_idle(inst, args):
    """proxy_idle: open N pairs (one 32-byte echo each), wait 1.5 s, read the proxy's memory (VmRSS and PSS
    summed over its process tree) with every pair open, then check none was closed meanwhile."""
    n = args.proxy_idle_conns
    pids0 = proc_tree(inst.pid)
    rss0, pss0 = rss_kib(inst.pid), pss_kib(inst.pid)
    argv = [args.proxyload, "idle", "--connect", f"127.0.0.1:{inst.roles['proxy']}", "--conns", str(n),
            "--parallel", "64", "--size", "32", "--src-ips", "32"]
    c = ProxyClient(argv, args)
    end = None
    try:
        ready = c.expect("READY", 600)
        if not ready:
            return {"error": "idle: no READY: " + c.stderr_tail(), "cmd": c.cmd}
        time.sleep(1.5)
        rss1, pss1 = rss_kib(inst.pid), pss_kib(inst.pid)
        procs = len(proc_tree(inst.pid))
        c.go()
        end = c.expect("END", 120)
    finally:
        c.finish()
    opened, errors = int(ready.split()[1]), int(ready.split()[2])
    j = json.loads(end[4:]) if end else {}
    res = {"kib_per_pair": (rss1 - rss0) / max(opened, 1), "pss_kib_per_pair": (pss1 - pss0) / max(opened, 1),
           "rss0_kib": rss0, "rss1_kib": rss1, "pss0_kib": pss0, "pss1_kib": pss1, "server_procs": procs,
           "open": opened, "open_s": j.get("open_s"), "errors": errors + j.get("closed_during_hold", 0),
           "cmd": c.cmd}
    if opened < n * 0.99:
        res["error"] = f"only {opened}/{n} pairs opened (client: {c.stderr_head()})"
    # a forking proxy's children end with their pairs: wait for them, so that the next run starts clean
    deadline = time.time() + 120
    while inst.proc.poll() is None and len(proc_tree(inst.pid)) > len(pids0) and time.time() < deadline:
        time.sleep(0.5)
    return res


# ---------------------------------------------------------------------------
# HTTP reverse proxy tests: wrk / h2load -> proxy under test -> nginx origin (see conf/nginx-origin.conf.in)
# ---------------------------------------------------------------------------
# test -> (client, path, body size, connections, streams per connection (h2))
HPROXY = {
    "hproxy_h1_1k": ("wrk", "/1k.txt", 1024, 64, 1),
    "hproxy_h1_1m": ("wrk", "/1m.bin", 1 << 20, 16, 1),
    "hproxy_h2c_1k": ("h2load", "/1k.txt", 1024, 16, 4),
    "hproxy_h2c_1m": ("h2load", "/1m.bin", 1 << 20, 8, 2),
    "hproxy_h2_1k": ("h2load", "/1k.txt", 1024, 16, 4),
    "hproxy_h2_1m": ("h2load", "/1m.bin", 1 << 20, 8, 2),
}


def percentile(sorted_vals, q):
    if not sorted_vals:
        return None
    return sorted_vals[min(len(sorted_vals) - 1, int(q / 100.0 * len(sorted_vals)))]


def t_hproxy(inst, args, test):
    """One hproxy_* run: the proxy's CPU (process tree: utime+stime ticks and schedstat ns), the origin's, the
    client's and the rest of the machine's are read right before the client starts and right after it ends;
    the efficiency is every completed request divided by the proxy's CPU-seconds over that window (the proxy
    is idle outside it). wrk runs --duration seconds; h2load runs -D --duration without a warm-up, so that its
    request count covers the whole window too. h2load's p50/p99 come from its --log-file."""
    client, path, size, conns, streams = HPROXY[test]
    role = TESTS[test][0]
    port = inst.roles[role]
    d = args.duration
    logf = None
    if client == "wrk":
        url = f"http://127.0.0.1:{port}{path}"
        argv = ["wrk", "-t1", f"-c{conns}", f"-d{d}s", "-s", os.path.join(BENCH, "wrk-report.lua"), url]
    else:
        url = f"{'https' if role == 'hptls' else 'http'}://127.0.0.1:{port}{path}"
        logf = os.path.join(args.run, "h2load-requests.log")
        argv = ["h2load", "-t1", f"-c{conns}", f"-m{streams}", "-D", str(d), f"--log-file={logf}", url]
    full = ["taskset", "-c", args.client_cpu] + argv
    pids0 = proc_tree(inst.pid)
    opids = proc_tree(args.origin.pid)
    s0, o0, m0 = tree_cpu(pids0), tree_cpu(opids), busy_ticks()
    c0, w0 = _child_cpu(), time.time()
    try:
        r = subprocess.run(full, capture_output=True, text=True, timeout=d + 30)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {d + 30}s: {' '.join(full)}", "cmd": " ".join(argv)}
    w1, c1 = time.time(), _child_cpu()
    s1 = tree_cpu(sorted(set(pids0) | set(proc_tree(inst.pid))))
    o1, m1 = tree_cpu(opids), busy_ticks()
    el = max(w1 - w0, 1e-6)
    # The clients have left: a proxy should now be idle. CPU it still uses (e.g. connections it failed to
    # close) is reported, not counted in the run.
    time.sleep(1.0)
    s2 = tree_cpu(sorted(set(pids0) | set(proc_tree(inst.pid))))
    cpu_s, sched_s = (s1[0] - s0[0]) / CLK, (s1[1] - s0[1]) / 1e9
    cli_s = c1 - c0
    res = {"cmd": " ".join(argv), "window_s": round(el, 3), "server_cpu_s": round(cpu_s, 3),
           "server_sched_s": round(sched_s, 4), "server_cpu_pct": round(100.0 * cpu_s / el, 1),
           "client_cpu_pct": round(100.0 * cli_s / el, 1),
           "origin_cpu_pct": round(100.0 * (o1[0] - o0[0]) / CLK / el, 1),
           "after_cpu_pct": round(100.0 * (s2[1] - s1[1]) / 1e9, 1),
           "other_cpu_pct": round(100.0 * (((m1 - m0) - (s1[0] - s0[0]) - (o1[0] - o0[0])) / CLK - cli_s) / el, 1)}
    if client == "wrk":
        m = re.search(r"^JSON (\{.*\})$", r.stdout, re.M)
        if not m:
            res["error"] = "no wrk JSON: " + r.stdout[-500:] + r.stderr[-500:]
            return res
        j = json.loads(m.group(1))
        done = j["requests"]
        res.update(req_s=done / (j["duration_us"] / 1e6), requests=done, p50_us=j["p50_us"], p99_us=j["p99_us"],
                   bytes_per_req=j["bytes"] / max(done, 1),
                   errors=j["err_connect"] + j["err_read"] + j["err_write"] + j["err_timeout"] + j["non2xx"],
                   non2xx=j["non2xx"])
    else:
        out = r.stdout
        m = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", out)
        mreq = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                         r"(\d+) errored, (\d+) timeout", out)
        mst = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
        mtr = re.search(r"traffic: .*? \((\d+)\) total, .*? \((\d+)\) headers .*?, .*? \((\d+)\) data", out)
        mproto = re.search(r"Application protocol: (\S+)", out)
        if not (m and mreq and mst):
            res["error"] = "cannot parse h2load: " + out[-800:] + r.stderr[-300:]
            return res
        done = int(mst.group(1))  # responses with a 2xx status
        non2xx = int(mst.group(2)) + int(mst.group(3)) + int(mst.group(4))
        res.update(req_s=float(m.group(3)), requests=done, non2xx=non2xx,
                   errors=int(mreq.group(5)) + int(mreq.group(6)) + int(mreq.group(7)) + non2xx,
                   proto=mproto.group(1) if mproto else "?")
        if mtr:
            res["bytes_per_req"] = int(mtr.group(3)) / max(done, 1)
        try:
            with open(logf) as f:
                lat = sorted(int(line.split("\t")[2]) for line in f if line.count("\t") >= 2)
            res.update(p50_us=percentile(lat, 50), p99_us=percentile(lat, 99))
        except (OSError, ValueError, IndexError):
            pass
        finally:
            try:
                os.unlink(logf)
            except OSError:
                pass
        if res["proto"] not in ("h2", "h2c"):
            res["error"] = f"negotiated {res['proto']}, not h2"
    if done and res.get("bytes_per_req", size) < 0.97 * size:
        res["error"] = f"short responses: {res['bytes_per_req']:.0f} bytes per request, file is {size}"
    if cpu_s > 0:
        res["req_per_cpu_s"] = done / cpu_s
    if sched_s > 0:
        res["per_cpu_s_sched"] = done / sched_s
    return res


# ---------------------------------------------------------------------------
# compression tests: wrk with Accept-Encoding -> server with compression at level 6 (role gz), and idle keep-alive
# connections after one (compressed or not) GET each (h1idle.py)
# ---------------------------------------------------------------------------
WORDS = ("the of and to in a is that for it as was with be by on not he this are or his from at which but have an "
         "they you were her she there been one all we their has would when if so no will more can what out other "
         "into up some could them time than only two may first then do any like my now over such our man me even "
         "most made after also did many before must through back years where much your way well down should "
         "because each just those people how too little state good very make world still own see men work long "
         "get here between both life being under never day same another know while last might us great old year "
         "off come since against go came right used take three server client request response header body stream "
         "connection socket buffer window frame protocol version cache proxy origin route mount vhost thread "
         "memory kernel network packet latency throughput compression gzip brotli deflate encoding content length "
         "chunk timeout keepalive session cookie token secret certificate handshake cipher record plugin event "
         "loop callback handler queue worker pool limit error status message payload message JSON schema field "
         "value number string array object table index query result page link image script style document "
         "section article author date title summary note example figure release change issue patch build test "
         "benchmark report").split()
HTML_100K = 100 * 1024


def html_100k():
    """A 100 KiB HTML page like a documentation or news page: head with inline CSS, navigation, headings, paragraphs
    of English-like text (words drawn with Zipf-like weights from a fixed vocabulary, fixed seed), links, emphasis,
    code, lists and tables. Not one repeated byte: gzip -6 shrinks it to 34 KiB (3:1), brotli -q 6 and zstd -6
    about the same."""
    rng = random.Random(20261207)
    weights = [1.0 / (i + 1) ** 0.9 for i in range(len(WORDS))]

    def words(lo, hi):
        return rng.choices(WORDS, weights, k=rng.randint(lo, hi))

    def sentence():
        w = words(6, 22)
        w[0] = w[0].capitalize()
        if len(w) > 9 and rng.random() < 0.5:
            w[rng.randint(3, len(w) - 4)] += ","
        for i in range(len(w)):
            r = rng.random()
            if r < 0.03:
                w[i] = f'<a href="/docs/{rng.choice(WORDS)}-{rng.randint(1, 999)}.html">{w[i]}</a>'
            elif r < 0.05:
                w[i] = f"<em>{w[i]}</em>"
            elif r < 0.06:
                w[i] = f"<code>{w[i]}_{rng.choice(WORDS)}()</code>"
        return " ".join(w) + rng.choice([".", ".", ".", "?", "!"])

    out = ['<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Release notes and '
           'server guide</title>\n<style>\nbody { font-family: sans-serif; margin: 0 auto; max-width: 60em; }\n'
           'nav a { margin-right: 1em; }\ntable { border-collapse: collapse; }\ntd, th { border: 1px solid #ccc; '
           'padding: 2px 6px; }\n</style>\n</head>\n<body>\n<nav>'
           + "".join(f'<a href="/{w}/">{w.capitalize()}</a>' for w in WORDS[200:212]) + "</nav>\n"]
    n = 0
    while sum(map(len, out)) < HTML_100K:
        n += 1
        out.append(f'<h2 id="s{n}">{" ".join(words(2, 6)).capitalize()}</h2>\n')
        for _ in range(rng.randint(2, 4)):
            out.append("<p>" + " ".join(sentence() for _ in range(rng.randint(2, 6))) + "</p>\n")
        r = rng.random()
        if r < 0.3:
            out.append("<ul>\n" + "".join(f"<li>{sentence()}</li>\n" for _ in range(rng.randint(3, 6))) + "</ul>\n")
        elif r < 0.45:
            out.append("<table>\n<tr><th>name</th><th>value</th><th>note</th></tr>\n" + "".join(
                f"<tr><td>{rng.choice(WORDS)}-{rng.choice(WORDS)}</td><td>{rng.randint(0, 100000)}</td>"
                f"<td>{' '.join(words(2, 7))}</td></tr>\n" for _ in range(rng.randint(3, 8))) + "</table>\n")
    tail = "</body>\n</html>\n"
    text = "".join(out)[:HTML_100K - len(tail)]
    text = text[:text.rfind("\n") + 1]
    text += " " * (HTML_100K - len(tail) - len(text)) + tail
    return text.encode()


def decode_body(body, coding):
    """Decode a compressed body with an independent decoder (python's gzip, the brotli / zstd tools); None if no
    decoder is installed."""
    if coding == "gzip":
        return gzip.decompress(body)
    tool = {"br": "brotli", "zstd": "zstd"}.get(coding)
    if not tool or not shutil.which(tool):
        return None
    r = subprocess.run([tool, "-d", "-c"], input=body, capture_output=True, timeout=30)
    if r.returncode:
        raise ValueError(f"{tool} -d failed: {r.stderr.decode(errors='replace')[:200]}")
    return r.stdout


def check_coding(port, path, coding, original):
    """One GET with Accept-Encoding: coding: the response must be 200, carry that Content-Encoding and decode to the
    file. Returns a dict of what was seen (encoding, compressed size, Server, Vary) with `error` set otherwise."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("GET", path, headers={"Accept-Encoding": coding} if coding else {"Accept-Encoding": "identity"})
        r = c.getresponse()
        body = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
    except (OSError, http.client.HTTPException) as e:
        return {"error": f"check GET failed: {e}"}
    finally:
        c.close()
    enc = hdrs.get("content-encoding", "identity")
    seen = {"status": r.status, "content_encoding": enc, "wire_bytes": len(body), "server_header": hdrs.get("server"),
            "vary": hdrs.get("vary"), "framing": "chunked" if "chunked" in hdrs.get("transfer-encoding", "")
            else "content-length" if "content-length" in hdrs else "close"}
    if r.status != 200:
        seen["error"] = f"check GET: status {r.status}"
    elif enc != (coding or "identity"):
        seen["error"] = (f"does not compress: Accept-Encoding: {coding} answered with Content-Encoding {enc}"
                         if coding else f"answered Content-Encoding {enc} to Accept-Encoding: identity")
    else:
        try:
            dec = decode_body(body, enc) if coding else body
        except (OSError, ValueError, EOFError, subprocess.TimeoutExpired) as e:
            seen["error"] = f"{enc} body does not decode: {e}"
            return seen
        seen["decoded"] = "not checked (no decoder)" if dec is None else "equal" if dec == original else "DIFFERENT"
        if dec is not None and dec != original:
            seen["error"] = f"{enc} body decodes to {len(dec)} bytes that differ from the file"
    return seen


def wrk_with_server_cpu(inst, full, timeout, res, preexec_fn=None):
    """Runs the wrk command line `full` while reading the server's CPU (its process tree, utime+stime and
    schedstat), the client's and the machine's; records the window and the CPU shares in `res` and returns
    wrk-report.lua's JSON, or None with res["error"] set."""
    pids0 = proc_tree(inst.pid)
    s0, m0 = tree_cpu(pids0), busy_ticks()
    c0, w0 = _child_cpu(), time.time()
    try:
        r = subprocess.run(full, capture_output=True, text=True, timeout=timeout, preexec_fn=preexec_fn)
    except subprocess.TimeoutExpired:
        res["error"] = f"timeout after {timeout}s"
        return None
    w1, c1 = time.time(), _child_cpu()
    s1, m1 = tree_cpu(sorted(set(pids0) | set(proc_tree(inst.pid)))), busy_ticks()
    el = max(w1 - w0, 1e-6)
    cpu_s, sched_s, cli_s = (s1[0] - s0[0]) / CLK, (s1[1] - s0[1]) / 1e9, c1 - c0
    res.update(window_s=round(el, 3), server_cpu_s=round(cpu_s, 3), server_sched_s=round(sched_s, 4),
               server_cpu_pct=round(100.0 * cpu_s / el, 1), client_cpu_pct=round(100.0 * cli_s / el, 1),
               other_cpu_pct=round(100.0 * (((m1 - m0) - (s1[0] - s0[0])) / CLK - cli_s) / el, 1))
    m = re.search(r"^JSON (\{.*\})$", r.stdout, re.M)
    if not m:
        res["error"] = "no wrk JSON: " + r.stdout[-500:] + r.stderr[-500:]
        return None
    return json.loads(m.group(1))


def t_compress(inst, args, test):
    """gzip_100k / br_100k / zstd_100k: check once that the server answers the coding (decoded and compared with the
    file), then wrk -t1 -c16 with that Accept-Encoding for --duration seconds. The server's CPU (process tree,
    utime+stime ticks and schedstat ns) is read right before and right after wrk: the figure is requests per server
    CPU-second. Responses during the run must be about the checked compressed size (wrk's bytes per request)."""
    coding = GZ_CODING[test]
    port = inst.roles["gz"]
    seen = check_coding(port, "/100k.html", coding, args.html_100k)
    argv = ["wrk", "-t1", "-c16", f"-d{args.duration}s", "-H", f"Accept-Encoding: {coding}",
            "-s", os.path.join(BENCH, "wrk-report.lua"), f"http://127.0.0.1:{port}/100k.html"]
    res = dict(seen, cmd=" ".join(argv), file_bytes=len(args.html_100k))
    if seen.get("error"):
        return res
    full = ["taskset", "-c", args.client_cpu] + argv
    d = args.duration
    j = wrk_with_server_cpu(inst, full, d + 30, res)
    if j is None:
        return res
    done = j["requests"]
    res.update(req_s=done / (j["duration_us"] / 1e6), requests=done, p50_us=j["p50_us"], p99_us=j["p99_us"],
               bytes_per_req=round(j["bytes"] / max(done, 1)),
               errors=j["err_connect"] + j["err_read"] + j["err_write"] + j["err_timeout"] + j["non2xx"])
    # headers and chunk framing add a few hundred bytes; an uncompressed answer would be 100 KiB
    if done and res["bytes_per_req"] > seen["wire_bytes"] * 1.1 + 1024:
        res["error"] = (f"responses during the run average {res['bytes_per_req']} bytes, the checked {coding} "
                        f"response was {seen['wire_bytes']}: not compressed?")
    if res["server_cpu_s"] > 0:
        res["req_per_cpu_s"] = done / res["server_cpu_s"]
    if res["server_sched_s"] > 0:
        res["per_cpu_s_sched"] = done / res["server_sched_s"]
    return res


def t_h1_idle(inst, args, test):
    """h1_idle / h1_idle_gz (the server was restarted right before): h1idle.py warms the server up (2 x 64
    connections with one GET each, closed), the server's RSS is read (rss0), then it opens --h1-idle-conns
    keep-alive connections, 64 at a time, each with one GET of the 100 KiB file (uncompressed, or with
    Accept-Encoding: gzip) read to its end; 1.5 s later the RSS is read again (rss1) with every connection idle.
    Figure: (rss1 - rss0) / connections. rss_pre (before the warm-up) is kept too."""
    coding = H1_IDLE_TESTS[test]
    port = inst.roles["gz"]
    n = args.h1_idle_conns
    seen = check_coding(port, "/100k.html", coding, args.html_100k)
    argv = [sys.executable, os.path.join(BENCH, "h1idle.py"), "--port", str(port), "--path", "/100k.html",
            "--conns", str(n), "--parallel", "64", "--warmup", "2"] \
        + (["--accept-encoding", coding] if coding else [])
    res = {"content_encoding": seen.get("content_encoding"), "wire_bytes": seen.get("wire_bytes"),
           "cmd": " ".join(argv[1:])}
    if seen.get("error"):
        res["error"] = seen["error"]
        return res
    rss_pre = rss_kib(inst.pid)
    c = ProxyClient(argv, args)
    end = None
    try:
        warm = c.expect("WARM", 120)
        if not warm:
            res["error"] = "h1idle: no WARM: " + c.stderr_tail()
            return res
        time.sleep(0.5)
        rss0, pss0 = rss_kib(inst.pid), pss_kib(inst.pid)
        c.go()
        ready = c.expect("READY", 600)
        if not ready:
            res["error"] = "h1idle: no READY: " + c.stderr_tail()
            return res
        time.sleep(1.5)
        rss1, pss1 = rss_kib(inst.pid), pss_kib(inst.pid)
        c.go()
        end = c.expect("END", 120)
    finally:
        c.finish()
    opened, errors = int(ready.split()[1]), int(ready.split()[2])
    j = json.loads(end[4:]) if end else {}
    encs = j.get("encodings", {})
    res.update(kib_per_conn=(rss1 - rss0) / max(opened, 1), pss_kib_per_conn=(pss1 - pss0) / max(opened, 1),
               kib_per_conn_cold=(rss1 - rss_pre) / max(opened, 1), rss_pre_kib=rss_pre, rss0_kib=rss0,
               rss1_kib=rss1, open=opened, open_s=j.get("open_s"), encodings=encs,
               body_bytes_per_response=j.get("body_bytes_per_response"), warm=json.loads(warm[5:]),
               errors=errors + j.get("closed_during_hold", 0), closed_during_hold=j.get("closed_during_hold"))
    if opened < n * 0.99:
        res["error"] = f"only {opened}/{n} connections opened ({j.get('first_error')})"
    elif not end:
        res["error"] = "h1idle: no END: " + c.stderr_tail()
    elif j.get("closed_during_hold", 0) > n * 0.01:
        res["error"] = f"{j['closed_during_hold']} connections closed by the server while idle"
    elif set(encs) != {coding or "identity"}:
        res["error"] = f"responses with content-encodings {encs}, expected only {coding or 'identity'}"
    return res


def t_idle_conns(inst, args, test):
    """idle_h1 / idle_h2c / idle_h1tls / idle_h2tls (the server was restarted right before): idleconns.py --proto
    warms the server up (2 x 64 connections with one request each, closed), the server's RSS is read (rss0), then it
    opens --idle-conns connections, 64 at a time, each with one GET of /1k.txt (HTTP/1.1, or HTTP/2 on stream 1,
    over TCP or TLS with ALPN) read to its end and checked (200, 1024 body bytes, the ALPN asked for); 1.5 s later
    the RSS is read again (rss1) with every connection idle, then the client checks that none was closed.
    Figure: (rss1 - rss0) / connections. rss_pre (before the warm-up) is kept too."""
    role, proto = IDLE_CONN_TESTS[test]
    n = args.idle_conns
    argv = [sys.executable, os.path.join(BENCH, "idleconns.py"), "--port", str(inst.roles[role]), "--proto", proto,
            "--path", "/1k.txt", "--expect-bytes", "1024", "--conns", str(n), "--parallel", "64", "--warmup", "2"]
    res = {"proto": proto, "cmd": " ".join(argv[1:])}
    rss_pre = rss_kib(inst.pid)
    c = ProxyClient(argv, args)
    end = None
    try:
        warm = c.expect("WARM", 120)
        if not warm:
            res["error"] = "idleconns: no WARM: " + c.stderr_tail()
            return res
        wj = json.loads(warm[5:])
        if wj.get("errors"):
            res["error"] = f"idleconns warm-up: {wj['errors']} errors, first: {wj.get('first_error')}"
            return res
        time.sleep(0.5)
        rss0, pss0 = rss_kib(inst.pid), pss_kib(inst.pid)
        c.go()
        ready = c.expect("READY", 900)
        if not ready:
            res["error"] = "idleconns: no READY: " + c.stderr_tail()
            return res
        time.sleep(1.5)
        rss1, pss1 = rss_kib(inst.pid), pss_kib(inst.pid)
        c.go()
        end = c.expect("END", 120)
    finally:
        c.finish()
    opened, errors = int(ready.split()[1]), int(ready.split()[2])
    j = json.loads(end[4:]) if end else {}
    res.update(kib_per_conn=(rss1 - rss0) / max(opened, 1), pss_kib_per_conn=(pss1 - pss0) / max(opened, 1),
               kib_per_conn_cold=(rss1 - rss_pre) / max(opened, 1), rss_pre_kib=rss_pre, rss0_kib=rss0,
               rss1_kib=rss1, open=opened, open_s=j.get("open_s"), alpn=j.get("alpn"), warm=wj,
               bytes_sent_while_idle=j.get("bytes_sent_while_idle"),
               errors=errors + j.get("closed_during_hold", 0), closed_during_hold=j.get("closed_during_hold"))
    if opened < n * 0.99:
        res["error"] = f"only {opened}/{n} connections opened ({j.get('first_error')})"
    elif not end:
        res["error"] = "idleconns: no END: " + c.stderr_tail()
    elif j.get("closed_during_hold", 0) > n * 0.01:
        res["error"] = f"{j['closed_during_hold']} connections closed by the server while idle"
    return res


def t_wrk_scale(inst, args, test):
    """h1_1k_c10 ... h1_1k_c10000: wrk -t1 -cN on /1k.txt (the h1_1k client with N connections; --timeout 10s so
    that slow answers at 10,000 connections are kept in the latency histogram instead of counted as timeouts).
    wrk's descriptor limit is raised to N + 100 (20,000 per process here). The server's CPU (process tree,
    utime+stime ticks and schedstat ns) is read right before and right after wrk: requests per server CPU-second,
    connection set-up included."""
    n = SCALE_TESTS[test]
    url = f"http://127.0.0.1:{inst.roles['h1']}/1k.txt"
    d = args.duration
    argv = ["wrk", "-t1", f"-c{n}", f"-d{d}s", "--timeout", "10s", "-s", os.path.join(BENCH, "wrk-report.lua"),
            url]
    res = {"conns": n, "cmd": " ".join(argv)}
    need = n + 100

    def raise_nofile():
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < need:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard) if hard != resource.RLIM_INFINITY
                                                        else need, hard))

    full = ["taskset", "-c", args.client_cpu] + argv
    j = wrk_with_server_cpu(inst, full, d + 60, res, preexec_fn=raise_nofile)
    if j is None:
        return res
    done = j["requests"]
    res.update(req_s=done / (j["duration_us"] / 1e6), requests=done, p50_us=j["p50_us"], p99_us=j["p99_us"],
               mib_s=j["bytes"] / (j["duration_us"] / 1e6) / 1048576,
               err_connect=j["err_connect"], err_read=j["err_read"], err_write=j["err_write"],
               err_timeout=j["err_timeout"], non2xx=j["non2xx"],
               errors=j["err_connect"] + j["err_read"] + j["err_write"] + j["err_timeout"] + j["non2xx"])
    if j["err_connect"] > n * 0.01:
        res["error"] = f"wrk: {j['err_connect']} of {n} connections failed to connect"
    if res["server_cpu_s"] > 0:
        res["req_per_cpu_s"] = done / res["server_cpu_s"]
    if res["server_sched_s"] > 0:
        res["per_cpu_s_sched"] = done / res["server_sched_s"]
    return res


def run_test(test, inst, args):
    if test == "h1_1k":
        r = t_wrk(inst, args, "/1k.txt", 64)
        val = r.get("req_s")
    elif test == "h1_1m":
        r = t_wrk(inst, args, "/1m.bin", 16)
        val = r.get("mib_s")
    elif test == "h2_tls":
        r = t_h2load(inst, args, "tls")
        val = r.get("req_s")
    elif test == "h2c":
        r = t_h2load(inst, args, "h2c")
        val = r.get("req_s")
    elif test == "ws_echo_32":
        r = t_ws_echo(inst, args, 32)
        val = r.get("msg_s")
    elif test == "ws_echo_16k":
        r = t_ws_echo(inst, args, 16384)
        val = r.get("msg_s")
    elif test == "ws_connect":
        r = t_ws_connect(inst, args)
        val = r.get("conn_s")
    elif test == "ws_idle":
        r = t_ws_idle(inst, args)
        val = r.get("kib_per_conn")
    elif test == "ws_pmd_idle":
        r = t_ws_idle(inst, args, pmd=True)
        val = r.get("kib_per_conn")
    elif test == "ws_pmd_echo":
        r = t_ws_echo(inst, args, 4096, pmd=True)
        val = r.get("msg_s")
    elif test == "proxy_idle":
        r = t_proxy_idle(inst, args)
        val = r.get("kib_per_pair")
    elif test == "proxy_bulk":
        r = t_proxy_load(inst, args, "bulk")
        val = r.get("mib_s")
    elif test == "proxy_pingpong":
        r = t_proxy_load(inst, args, "pingpong")
        val = r.get("rt_s")
    elif test in HPROXY_TESTS:
        r = t_hproxy(inst, args, test)
        val = r.get("req_s")
    elif test in GZ_CODING:
        r = t_compress(inst, args, test)
        val = r.get("req_s")
    elif test in H1_IDLE_TESTS:
        r = t_h1_idle(inst, args, test)
        val = r.get("kib_per_conn")
    elif test in IDLE_CONN_TESTS:
        r = t_idle_conns(inst, args, test)
        val = r.get("kib_per_conn")
    elif test in SCALE_TESTS:
        r = t_wrk_scale(inst, args, test)
        val = r.get("req_s")
    else:
        raise ValueError(test)
    r["value"] = val
    if not r.get("error") and not val and test not in IDLE_TESTS:
        r["error"] = "zero throughput"
    return r


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------
def fmt_num(v):
    if v is None:
        return "–"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_ratio(x):
    """Ratio cell: 2 decimals in the usual range, 3 significant digits for far-apart values (proxy_idle)."""
    if x >= 100:
        return f"{x:.0f}×"
    if x >= 0.1:
        return f"{x:.2f}×"
    return f"{x:.2g}×"


def summarize(records, servers, tests, baseline, meta):
    for r in records:  # older raw files: a zero-throughput run is a failed run
        if r["test"] not in IDLE_TESTS and not r.get("value") and not r.get("error"):
            r["error"] = "zero throughput"

    def med(test, srv, key="value"):
        vals = [r[key] for r in records if r["test"] == test and r["server"] == srv
                and r.get(key) is not None and not r.get("error")]
        return (statistics.median(vals), len(vals)) if vals else (None, 0)

    proxy_base = meta.get("proxy_baseline", "haproxy")
    hproxy_base = meta.get("hproxy_baseline", "nginx")
    gz_base = meta.get("gz_baseline", "nginx")

    def base_of(test):
        return proxy_base if test in PROXY_TESTS else hproxy_base if test in HPROXY_TESTS \
            else gz_base if test in GZ_TESTS | set(IDLE_CONN_TESTS) else baseline

    lines = []
    only_proxy = set(tests) <= PROXY_TESTS
    only_hproxy = set(tests) <= HPROXY_TESTS
    only_gz = set(tests) <= GZ_TESTS
    lines.append(f"Medians over {meta['rounds']} interleaved rounds; ratio = server / "
                 + (proxy_base if only_proxy else hproxy_base if only_hproxy else gz_base if only_gz else baseline)
                 + (f" (compression tests: / {gz_base})" if GZ_TESTS & set(tests) and not only_gz else "")
                 + (f" (proxy_* tests: / {proxy_base})" if PROXY_TESTS & set(tests) and not only_proxy else "")
                 + (f" (hproxy_* tests: / {hproxy_base})" if HPROXY_TESTS & set(tests) and not only_hproxy else "")
                 + f" (for {', '.join(sorted(t for t in LOWER_IS_BETTER if t in tests) or ['idle tests'])} "
                 "lower is better, elsewhere higher is better).")
    lines.append("")
    hdr = "| test | unit | " + " | ".join(servers) + " |"
    lines.append(hdr)
    lines.append("|" + "---|" * (len(servers) + 2))
    for t in tests:
        cells = []
        base, _ = med(t, base_of(t))
        any_val = False
        for s in servers:
            v, n = med(t, s)
            if v is None:
                cells.append("–")
                continue
            any_val = True
            c = fmt_num(v)
            if base and s != base_of(t):
                c += f" ({fmt_ratio(v / base)})" if t in PROXY_TESTS else f" ({v / base:.2f}×)"
            if n < meta["rounds"]:
                c += f" [n={n}]"
            cells.append(c)
        if not any_val and any(r["test"] == t for r in records):
            cells = ["FAIL" if any(r["test"] == t and r["server"] == s for r in records) else "–"
                     for s in servers]
            any_val = True
        elif any_val:
            cells = [c if c != "–" or not any(r["test"] == t and r["server"] == s for r in records) else "FAIL"
                     for c, s in zip(cells, servers)]
        if any_val:
            lines.append(f"| {t} | {UNITS[t]} | " + " | ".join(cells) + " |")
    # latency rows
    for t in ("ws_echo_32", "ws_echo_16k", "ws_pmd_echo", "h1_1k", *SCALE_TESTS, "ws_connect", "proxy_pingpong",
              *[t for t in TEST_ORDER if t in HPROXY_TESTS]):
        if t not in tests:
            continue
        cells = []
        any_val = False
        for s in servers:
            v, n = med(t, s, "p99_us")
            if v is None:
                cells.append("–")
            else:
                any_val = True
                cells.append(fmt_num(v))
        if any_val:
            lines.append(f"| {t} p99 | µs | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Server CPU use during each load run (median % of one core; ~100 % = server-bound, "
                 "lower = client/loopback-bound):")
    lines.append("")
    lines.append(hdr)
    lines.append("|" + "---|" * (len(servers) + 2))
    for t in tests:
        if t in IDLE_TESTS:
            continue
        cells, any_val = [], False
        for s in servers:
            v, n = med(t, s, "server_cpu_pct")
            cells.append("–" if v is None else f"{v:.0f}")
            any_val |= v is not None
        if any_val:
            lines.append(f"| {t} | % | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Load-generator CPU use (median % of one core; ~100 % = the client is the bottleneck):")
    lines.append("")
    lines.append(hdr)
    lines.append("|" + "---|" * (len(servers) + 2))
    for t in tests:
        if t in IDLE_TESTS:
            continue
        cells, any_val = [], False
        for s in servers:
            v, n = med(t, s, "client_cpu_pct")
            cells.append("–" if v is None else f"{v:.0f}")
            any_val |= v is not None
        if any_val:
            lines.append(f"| {t} | % | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Efficiency: throughput per server CPU-second (median of value / server core fraction, "
                 + (f"ratio vs {proxy_base}" if only_proxy else f"ratio vs {hproxy_base}" if only_hproxy
                    else f"ratio vs {gz_base}" if only_gz else f"ratio vs {baseline}"
                    + (f"; proxy_* vs {proxy_base}" if PROXY_TESTS & set(tests) else ""))
                 + "); meaningful when the client, not the server, is the bottleneck:")
    lines.append("")
    lines.append(hdr)
    lines.append("|" + "---|" * (len(servers) + 2))
    for t in tests:
        if t in IDLE_TESTS:
            continue
        cells, any_val = [], False
        for r in records:
            if r["test"] == t and r.get("req_per_cpu_s"):  # hproxy_*: requests / proxy CPU-seconds, exactly
                r["per_cpu_s"] = r["req_per_cpu_s"]
            elif r["test"] == t and r.get("value") and r.get("server_cpu_pct"):
                r["per_cpu_s"] = r["value"] * 100.0 / r["server_cpu_pct"]
        base, _ = med(t, base_of(t), "per_cpu_s")
        for s in servers:
            v, n = med(t, s, "per_cpu_s")
            if v is None:
                cells.append("–")
                continue
            any_val = True
            c = fmt_num(v)
            if base and s != base_of(t):
                c += f" ({fmt_ratio(v / base)})" if t in PROXY_TESTS else f" ({v / base:.2f}×)"
            cells.append(c)
        if any_val:
            lines.append(f"| {t} | {UNITS[t]}·cpu⁻¹ | " + " | ".join(cells) + " |")
    lines += proxy_summary(records, servers, tests, med)
    lines += hproxy_summary(records, servers, tests, med, meta)
    lines += gz_summary(records, servers, tests, med, meta)
    lines += idle_conn_summary(records, servers, tests, med, meta)
    lines += scale_summary(records, servers, tests, med, meta)
    stalls = [r for r in records if r["test"] not in IDLE_TESTS and not r.get("error")
              and (r.get("server_cpu_pct") or 0) < 50 and (r.get("client_cpu_pct") or 0) < 50
              and r.get("load1", 99) < 2.5]
    if stalls:
        lines.append("")
        lines.append("Possible stalls (quiet machine, yet server and client both < 50 % CPU: the pair was "
                     "waiting, e.g. connections died and h2load -D does not reconnect or count them):")
        lines.append("")
        for r in stalls:
            lines.append(f"- round {r['round']} {r['test']} {r['server']}: value={fmt_num(r.get('value'))} "
                         f"server={r.get('server_cpu_pct')}% client={r.get('client_cpu_pct')}% load1={r.get('load1')}")
    pmd = {}
    for r in records:
        if r.get("pmd") is not None:
            pmd.setdefault((r["server"], r["test"]), set()).add(
                f"answer `{r['pmd']}`, {r['pmd_wire_bytes']} B deflated per message, "
                f"{r['pmd_plain_replies']} uncompressed replies")
    if pmd:
        lines.append("")
        lines.append("permessage-deflate as negotiated and seen by wsload (every echo inflated and compared):")
        lines.append("")
        for (srv, t), seen in sorted(pmd.items()):
            lines.append(f"- {t} {srv}: " + "; ".join(sorted(seen)))
    errs = [r for r in records if r.get("error") or r.get("errors")]
    if errs:
        lines.append("")
        lines.append("Runs with errors (excluded from medians only when `error` is set):")
        lines.append("")
        for r in errs:
            lines.append(f"- round {r['round']} {r['test']} {r['server']}: error={r.get('error', '')!s:.200} "
                         f"errors={r.get('errors')}")
    return "\n".join(lines) + "\n"


def proxy_summary(records, servers, tests, med):
    """proxy_* tests: every proxy against every other (same run), plus the idle test's PSS and the CPU cross-check."""
    ptests = [t for t in tests if t in PROXY_TESTS]
    if not ptests:
        return []
    key = {"proxy_bulk": "per_cpu_s", "proxy_pingpong": "per_cpu_s", "proxy_idle": "value"}
    what = {"proxy_bulk": "MiB per proxy CPU-second", "proxy_pingpong": "round trips per proxy CPU-second",
            "proxy_idle": "KiB per idle pair (RSS), lower is better"}
    out = ["", "Raw proxies, ratio of each row's figure to each column's (same run, medians):"]
    for t in ptests:
        vals = {s: med(t, s, key[t])[0] for s in servers}
        have = [s for s in servers if vals[s]]
        if not have:
            continue
        out += ["", f"{t}: {what[t]}", "", "| proxy | value | " + " | ".join(f"÷ {s}" for s in have) + " |",
                "|" + "---|" * (len(have) + 2)]
        for a in have:
            out.append(f"| {a} | {fmt_num(vals[a])} | "
                       + " | ".join("" if a == b else fmt_ratio(vals[a] / vals[b]) for b in have) + " |")
    if "proxy_idle" in ptests:
        out += ["", "proxy_idle detail (medians): RSS and PSS (proportional: shared pages split between the "
                "processes of a forking proxy) per pair, processes with every pair open, seconds to open them:", ""]
        for s in servers:
            rss, n = med("proxy_idle", s, "value")
            if rss is None:
                continue
            pss, _ = med("proxy_idle", s, "pss_kib_per_pair")
            procs, _ = med("proxy_idle", s, "server_procs")
            opn, _ = med("proxy_idle", s, "open_s")
            out.append(f"- {s}: RSS {fmt_num(rss)} KiB/pair, PSS {fmt_num(pss)} KiB/pair, {procs:.0f} processes, "
                       f"opened in {fmt_num(opn)} s")
    loads = [t for t in ptests if t != "proxy_idle"]
    if loads:
        out += ["", "proxy load tests, cross-check (medians): per CPU-second from the scheduler's ns clock "
                "(schedstat) instead of utime+stime ticks; per CPU-second of the whole machine (proxy + client + "
                "backend + anything else, both cores: loopback TCP work charged to whichever side ran it counts "
                "once); client, backend and other processes' CPU % (of one core) over the same window:", ""]
        for r in records:
            parts = [r.get(k) for k in ("server_cpu_pct", "client_cpu_pct", "backend_cpu_pct", "other_cpu_pct")]
            if r["test"] in loads and r.get("value") and None not in parts and sum(parts) > 0:
                r["per_machine_cpu_s"] = r["value"] * 100.0 / sum(parts)
        for t in loads:
            for s in servers:
                v, n = med(t, s, "per_cpu_s_sched")
                if v is None:
                    continue
                cli, _ = med(t, s, "client_cpu_pct")
                be, _ = med(t, s, "backend_cpu_pct")
                oth, _ = med(t, s, "other_cpu_pct")
                mach, _ = med(t, s, "per_machine_cpu_s")
                out.append(f"- {t} {s}: {fmt_num(v)} {UNITS[t]}·cpu⁻¹ (schedstat)"
                           + ("" if mach is None else f", {fmt_num(mach)} per machine CPU-second")
                           + f", client {cli:.0f} %, "
                           f"backend {be:.0f} %" + ("" if oth is None else f", other {oth:.0f} %"))
        noisy = [r for r in records if r["test"] in loads and (r.get("other_cpu_pct") or 0) > 20]
        if noisy:
            out += ["", "Noisy proxy runs (other processes used > 20 % of a core during the window; kept in the "
                    "medians):", ""]
            out += [f"- round {r['round']} {r['test']} {r['server']}: other {r['other_cpu_pct']:.0f} %, "
                    f"proxy {r.get('server_cpu_pct')} %" for r in noisy]
    return out


def hproxy_summary(records, servers, tests, med, meta):
    """hproxy_* tests: per test, every proxy's rate, CPU, requests per proxy CPU-second with its ratio to every
    other proxy (same run, medians), p99, and each round on its own (the machine may be shared)."""
    htests = [t for t in tests if t in HPROXY_TESTS]
    if not htests:
        return []
    out = ["", "HTTP reverse proxies (medians; req/CPU-s = requests completed ÷ the proxy's CPU-seconds over the "
           "client's run, the origin's CPU not included; ratio columns = this proxy's req/CPU-s ÷ that proxy's):"]
    for t in htests:
        have = [s for s in servers if med(t, s, "req_per_cpu_s")[0]]
        if not have:
            continue
        out += ["", f"{t}: {TESTS[t][1]}", "",
                "| proxy | req/s | proxy CPU-s | proxy CPU % | req/CPU-s | " + " | ".join(f"÷ {s}" for s in have)
                + " | p50 ms | p99 ms | origin CPU % | client CPU % | other CPU % |",
                "|" + "---|" * (len(have) + 10)]
        eff = {s: med(t, s, "req_per_cpu_s")[0] for s in have}
        for a in have:
            cells = [fmt_num(med(t, a, k)[0]) for k in ("req_s", "server_cpu_s", "server_cpu_pct")]
            cells.append(fmt_num(eff[a]))
            cells += ["" if a == b else fmt_ratio(eff[a] / eff[b]) for b in have]
            for k in ("p50_us", "p99_us"):
                v = med(t, a, k)[0]
                cells.append("–" if v is None else f"{v / 1000:.2f}")
            cells += [fmt_num(med(t, a, k)[0]) for k in ("origin_cpu_pct", "client_cpu_pct", "other_cpu_pct")]
            out.append(f"| {a} | " + " | ".join(cells) + " |")
        rounds = sorted({r["round"] for r in records if r["test"] == t})
        out += ["", f"{t} per round (req/CPU-s, p99 ms):", ""]
        for a in have:
            per = []
            for rnd in rounds:
                rr = [r for r in records if r["test"] == t and r["server"] == a and r["round"] == rnd]
                if rr and not rr[0].get("error") and rr[0].get("req_per_cpu_s"):
                    p99 = rr[0].get("p99_us")
                    per.append(f"r{rnd} {fmt_num(rr[0]['req_per_cpu_s'])}"
                               + ("" if p99 is None else f" / {p99 / 1000:.2f}"))
                else:
                    per.append(f"r{rnd} FAIL")
            out.append(f"- {a}: " + "; ".join(per))
    out += ["", "Cross-check: req per proxy CPU-second from the scheduler's ns clock (schedstat), medians:", ""]
    for t in htests:
        cells = []
        for s in servers:
            v = med(t, s, "per_cpu_s_sched")[0]
            if v is not None:
                cells.append(f"{s} {fmt_num(v)}")
        if cells:
            out.append(f"- {t}: " + ", ".join(cells))
    busy = [r for r in records if r["test"] in htests and (r.get("after_cpu_pct") or 0) > 5]
    if busy:
        out += ["", "Proxies still busy after the clients left (CPU % of one core in the second after the run; "
                "not counted in the run's figures):", ""]
        out += [f"- round {r['round']} {r['test']} {r['server']}: {r['after_cpu_pct']:.0f} %" for r in busy]
    noisy = [r for r in records if r["test"] in htests and (r.get("other_cpu_pct") or 0) > 20]
    if noisy:
        out += ["", "Noisy runs (other processes used > 20 % of a core during the run; kept in the medians):", ""]
        out += [f"- round {r['round']} {r['test']} {r['server']}: other {r['other_cpu_pct']:.0f} %, "
                f"proxy {r.get('server_cpu_pct')} %" for r in noisy]
    return out


def gz_summary(records, servers, tests, med, meta):
    """Compression tests: per coding, every server's rate, CPU and requests per server CPU-second with its ratio to
    every other server, and the compressed size it sent (so that the levels can be compared); the idle memory
    tests in detail."""
    ctests = [t for t in tests if t in GZ_CODING]
    itests = [t for t in tests if t in H1_IDLE_TESTS]
    if not ctests and not itests:
        return []
    out = []
    if ctests:
        out += ["", "Compression (medians; req/CPU-s = requests completed ÷ the server's CPU-seconds over wrk's run; "
                "ratio columns = this server's req/CPU-s ÷ that server's; size = the compressed body of the 100 KiB "
                "(102,400-byte) file as one GET received it, checked to decode to the file):"]
    for t in ctests:
        have = [s for s in servers if med(t, s, "req_per_cpu_s")[0]]
        out += ["", f"{t}: {TESTS[t][1]}", ""]
        if have:
            eff = {s: med(t, s, "req_per_cpu_s")[0] for s in have}
            out += ["| server | encoding | size B | ratio | req/s | server CPU % | req/CPU-s | "
                    + " | ".join(f"÷ {s}" for s in have) + " | p99 ms | client CPU % | other CPU % |",
                    "|" + "---|" * (len(have) + 10)]
            for a in have:
                rr = [r for r in records if r["test"] == t and r["server"] == a and not r.get("error")]
                size = rr[0].get("wire_bytes") if rr else None
                cells = [rr[0].get("content_encoding", "?") if rr else "?", fmt_num(size),
                         f"{HTML_100K / size:.2f}:1" if size else "–",
                         fmt_num(med(t, a, "req_s")[0]), fmt_num(med(t, a, "server_cpu_pct")[0]), fmt_num(eff[a])]
                cells += ["" if a == b else fmt_ratio(eff[a] / eff[b]) for b in have]
                p99 = med(t, a, "p99_us")[0]
                cells.append("–" if p99 is None else f"{p99 / 1000:.2f}")
                cells += [fmt_num(med(t, a, k)[0]) for k in ("client_cpu_pct", "other_cpu_pct")]
                out.append(f"| {a} | " + " | ".join(cells) + " |")
            out += ["", f"{t} per round (req/CPU-s):", ""]
            for a in have:
                per = [f"r{r['round']} " + ("FAIL" if r.get("error") else fmt_num(r.get("req_per_cpu_s")))
                       for r in records if r["test"] == t and r["server"] == a]
                out.append(f"- {a}: " + "; ".join(per))
        failed = sorted({(r["server"], r.get("error", "")[:160]) for r in records
                         if r["test"] == t and r.get("error") and r["server"] not in have})
        for srv, err in failed:
            out.append(f"- {srv}: FAIL: {err}")
    if itests:
        out += ["", f"Idle HTTP/1.1 keep-alive connections ({meta.get('h1_idle_conns')} per run, each after one GET of "
                "the 100 KiB file; fresh server per run; RSS delta from after a warm-up of 2 x 64 one-GET "
                "connections to all connections idle, medians; cold = from before the warm-up; ratio = ÷ the same "
                "server's h1_idle):", "",
                "| server | test | encoding | KiB/conn (RSS) | KiB/conn (PSS) | KiB/conn cold | ÷ h1_idle | "
                "RSS before / after warm-up / idle KiB | opened in s |", "|" + "---|" * 9]
        for s in servers:
            base = med("h1_idle", s)[0]
            for t in itests:
                v = med(t, s)[0]
                if v is None:
                    continue
                rr = [r for r in records if r["test"] == t and r["server"] == s and not r.get("error")]
                r0 = rr[0] if rr else {}
                encs = ", ".join(f"{k} {n}" for k, n in sorted(r0.get("encodings", {}).items()))
                out.append(f"| {s} | {t} | {encs} | {v:.2f} | {med(t, s, 'pss_kib_per_conn')[0]:.2f} | "
                           f"{med(t, s, 'kib_per_conn_cold')[0]:.2f} | "
                           + (f"{v / base:.2f}×" if base and t != "h1_idle" else "") + " | "
                           f"{fmt_num(med(t, s, 'rss_pre_kib')[0])} / {fmt_num(med(t, s, 'rss0_kib')[0])} / "
                           f"{fmt_num(med(t, s, 'rss1_kib')[0])} | {fmt_num(med(t, s, 'open_s')[0])} |")
    noisy = [r for r in records if r["test"] in ctests and (r.get("other_cpu_pct") or 0) > 20]
    if noisy:
        out += ["", "Noisy runs (other processes used > 20 % of a core during the run; kept in the medians):", ""]
        out += [f"- round {r['round']} {r['test']} {r['server']}: other {r['other_cpu_pct']:.0f} %, "
                f"server {r.get('server_cpu_pct')} %" for r in noisy]
    return out


def idle_conn_summary(records, servers, tests, med, meta):
    """idle_h1 / idle_h2c / idle_h1tls / idle_h2tls: KiB per idle connection of every kind side by side, each with
    its ratio to the idle baseline server (--gz-baseline, nginx by default), then the detail of each run."""
    itests = [t for t in IDLE_CONN_TESTS if t in tests]
    if not itests:
        return []
    base = meta.get("gz_baseline", "nginx")
    have = [s for s in servers if any(med(t, s)[0] is not None for t in itests)]
    if not have:
        return []
    out = ["", f"Idle connections ({meta.get('idle_conns')} per run, each after one request of /1k.txt read to its "
           "end; fresh server per run; server RSS delta per connection in KiB from after a warm-up of 2 x 64 "
           f"one-request connections to all connections idle, medians; in brackets ÷ {base}; lower is better):", "",
           "| server | " + " | ".join(itests) + " |", "|" + "---|" * (len(itests) + 1)]
    for s in have:
        cells = []
        for t in itests:
            v = med(t, s)[0]
            b = med(t, base)[0]
            cells.append("FAIL" if v is None and any(r["test"] == t and r["server"] == s for r in records)
                         else "–" if v is None
                         else f"{v:.2f}" + (f" ({v / b:.2f}×)" if b and s != base else ""))
        out.append(f"| {s} | " + " | ".join(cells) + " |")
    out += ["", "Idle connections in detail (medians): KiB/conn by RSS and by PSS, cold = from before the warm-up; "
            "RSS before / after the warm-up / with every connection idle (KiB); seconds to open them (64 at a time, "
            "python client on the load CPU); protocol as negotiated:", "",
            "| server | test | KiB/conn | PSS KiB/conn | cold KiB/conn | RSS KiB before / warm / idle | opened in s | "
            "negotiated |", "|" + "---|" * 8]
    for s in have:
        for t in itests:
            v = med(t, s)[0]
            if v is None:
                continue
            rr = [r for r in records if r["test"] == t and r["server"] == s and not r.get("error")]
            alpn = ", ".join(f"{k} ×{n}" for k, n in sorted((rr[0].get("alpn") or {}).items())) if rr else ""
            out.append(f"| {s} | {t} | {v:.2f} | {med(t, s, 'pss_kib_per_conn')[0]:.2f} | "
                       f"{med(t, s, 'kib_per_conn_cold')[0]:.2f} | {fmt_num(med(t, s, 'rss_pre_kib')[0])} / "
                       f"{fmt_num(med(t, s, 'rss0_kib')[0])} / {fmt_num(med(t, s, 'rss1_kib')[0])} | "
                       f"{fmt_num(med(t, s, 'open_s')[0])} | {alpn} |")
    return out


def scale_summary(records, servers, tests, med, meta):
    """h1_1k_c10 ... h1_1k_c10000: per server, req/s, req per server CPU-second and p99 at every concurrency, each
    with its ratio to the same server's figure at 100 connections (the issue's target: within 15 % from 100 to
    10,000 connections)."""
    stests = [t for t in SCALE_TESTS if t in tests]
    if not stests:
        return []
    have = [s for s in servers if any(med(t, s)[0] is not None for t in stests)]
    if not have:
        return []
    ref = "h1_1k_c100"
    out = ["", "Throughput as concurrency grows (h1_1k with wrk -t1 -cN, medians; in brackets ÷ the same server's figure "
           "at 100 connections; last column: do c1000 and c10000 stay within 15 % of c100? For req/s and "
           "req/CPU-s higher is better, for p99 lower):", "",
           "| server | figure | " + " | ".join(f"{SCALE_TESTS[t]:,} conns" for t in stests) + " | within 15 % |",
           "|" + "---|" * (len(stests) + 3)]
    figures = [("req/s", "value", False), ("req/CPU-s", "req_per_cpu_s", False), ("p99 ms", "p99_us", True),
               ("server CPU %", "server_cpu_pct", None)]
    for s in have:
        for label, key, lower in figures:
            vals = {t: med(t, s, key)[0] for t in stests}
            r = vals.get(ref)
            cells = []
            for t in stests:
                v = vals[t]
                if v is None:
                    cells.append("FAIL" if any(x["test"] == t and x["server"] == s for x in records) else "–")
                    continue
                if key == "p99_us":
                    c = f"{v / 1000:.2f}"
                else:
                    c = fmt_num(v)
                if r and t != ref and lower is not None:
                    c += f" ({v / r:.2f}×)"
                cells.append(c)
            verdict = ""
            if lower is False and r:
                far = [vals[t] / r for t in ("h1_1k_c1000", "h1_1k_c10000") if t in stests and vals[t]]
                if far:
                    verdict = ("yes" if min(far) >= 0.85 else "no") + f" (min {min(far):.2f}×)"
            out.append(f"| {s} | {label} | " + " | ".join(cells) + f" | {verdict} |")
    rounds = sorted({r["round"] for r in records if r["test"] in stests})
    if len(rounds) > 1:
        out += ["", "req/CPU-s per round (" + ", ".join(f"{SCALE_TESTS[t]:,}" for t in stests)
                + " connections; a shared machine moves single runs by tens of %):", ""]
        for s in have:
            per = []
            for rnd in rounds:
                vals = []
                for t in stests:
                    rr = [r for r in records if r["test"] == t and r["server"] == s and r["round"] == rnd]
                    vals.append("FAIL" if rr and rr[0].get("error") else
                                fmt_num(rr[0].get("req_per_cpu_s")) if rr else "–")
                per.append(f"r{rnd} " + " / ".join(vals))
            out.append(f"- {s}: " + "; ".join(per))
    errs = [r for r in records if r["test"] in stests and (r.get("err_read") or r.get("err_write")
                                                              or r.get("err_timeout") or r.get("err_connect"))]
    if errs:
        out += ["", "wrk socket errors in these runs (connect / read / write / timeout):", ""]
        out += [f"- round {r['round']} {r['test']} {r['server']}: {r.get('err_connect')} / {r.get('err_read')} / "
                f"{r.get('err_write')} / {r.get('err_timeout')}" for r in errs]
    noisy = [r for r in records if r["test"] in stests and (r.get("other_cpu_pct") or 0) > 20]
    if noisy:
        out += ["", "Noisy runs (other processes used > 20 % of a core during the run; kept in the medians):", ""]
        out += [f"- round {r['round']} {r['test']} {r['server']}: other {r['other_cpu_pct']:.0f} %, "
                f"server {r.get('server_cpu_pct')} %" for r in noisy]
    return out


def versions(args):
    def sh(c):
        try:
            return subprocess.run(c, shell=True, capture_output=True, text=True, timeout=10).stdout.strip() or \
                subprocess.run(c, shell=True, capture_output=True, text=True, timeout=10).stderr.strip()
        except Exception as e:  # noqa
            return f"? ({e})"
    v = {
        "libwebsockets": sh("pkg-config --modversion libwebsockets"),
        "nginx": sh("nginx -v 2>&1"),
        "h2o": sh("h2o --version 2>&1 | head -1"),
        "wrk": sh("wrk -v 2>&1 | head -1"),
        "h2load": sh("h2load --version"),
        "openssl": sh("openssl version"),
        "rustc": sh("rustc --version"),
        "kernel": sh("uname -r"),
        "cpu": sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"),
        "uWebSockets": sh(f"cat {BENCH}/bin/uws-echo.version 2>/dev/null"),
        "haproxy": sh("haproxy -v 2>&1 | head -1"),
        "socat": sh("socat -V 2>&1 | grep -m1 'socat version'"),
        "sslh": sh("dpkg-query -W -f '${Version}' sslh 2>/dev/null"),
        "nginx brotli": sh("dpkg-query -W -f '${Version}' libnginx-mod-http-brotli-filter 2>/dev/null"),
    }
    lock = os.path.join(BENCH, "peers-rs", "Cargo.lock")
    if os.path.exists(lock):
        txt = open(lock).read()
        for crate in ("tokio", "tokio-tungstenite", "tungstenite", "fastwebsockets", "hyper", "hyper-util"):
            m = re.search(r'name = "' + re.escape(crate) + r'"\nversion = "([^"]+)"', txt)
            if m:
                v[f"crate {crate}"] = m.group(1)
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10, help="seconds per load run (<=20)")
    ap.add_argument("--idle-conns", type=int, default=10000)
    ap.add_argument("--pmd-idle-conns", type=int, default=1000,
                    help="connections for ws_pmd_idle (each holds a compressor and an inflater on the server)")
    ap.add_argument("--tests", default=",".join(t for t in TEST_ORDER if t not in OPT_IN_TESTS),
                    help=f"comma list (default all but {', '.join(sorted(OPT_IN_TESTS))}): {', '.join(TEST_ORDER)}")
    ap.add_argument("--only", default="", help="comma list of server names to run (default all)")
    ap.add_argument("--skip", default="", help="comma list of server names to skip")
    ap.add_argument("--sut", action="append", default=[],
                    help="server under test: 'name=X;h1=PORT;tls=PORT;h2c=PORT;ws=PORT;ws_path=/echo;"
                         "ws_proto=P;cmd=COMMAND {port_h1} {www} {cert} {key}' (repeatable)")
    ap.add_argument("--baseline", default="lws-c")
    ap.add_argument("--proxy-baseline", default="haproxy", help="ratio column of the proxy_* tests")
    ap.add_argument("--proxy-idle-conns", type=int, default=8000,
                    help="proxied pairs for proxy_idle (the proxy holds 2 fds per pair)")
    ap.add_argument("--proxy-bulk-bytes", type=int, default=1 << 30, help="bytes through the proxy in proxy_bulk")
    ap.add_argument("--proxy-conns", type=int, default=64, help="connections in proxy_pingpong")
    ap.add_argument("--proxy-size", type=int, default=64, help="message size in proxy_pingpong")
    ap.add_argument("--proxy-backend-port", type=int, default=7799,
                    help="port of the harness's backend (proxyload serve) that every proxy forwards to")
    ap.add_argument("--origin-port", type=int, default=7800,
                    help="port of the nginx origin that every HTTP reverse proxy (hproxy_* tests) proxies to")
    ap.add_argument("--origin-workers", type=int, default=1,
                    help="nginx worker processes of the origin (all pinned to --client-cpu)")
    ap.add_argument("--hproxy-baseline", default="nginx", help="ratio column of the hproxy_* tests")
    ap.add_argument("--hproxy-keep", action="store_true",
                    help="hproxy_* tests: start every proxy at the start of a round and keep it for the whole round "
                         "(default: each proxy runs alone, started before each of its runs and stopped after it)")
    ap.add_argument("--gz-baseline", default="nginx",
                    help="ratio column of the compression tests (gzip_100k, br_100k, zstd_100k, h1_idle*) and of the "
                         "idle connection tests (idle_h1, idle_h2c, idle_h1tls, idle_h2tls)")
    ap.add_argument("--h1-idle-conns", type=int, default=2000,
                    help="idle keep-alive connections of h1_idle / h1_idle_gz (one GET of 100 KiB each)")
    ap.add_argument("--server-cpu", default="0")
    ap.add_argument("--client-cpu", default="1")
    ap.add_argument("--out", default=os.environ.get("BENCH_OUT", os.path.join(BENCH, "results")))
    ap.add_argument("--label", default="")
    ap.add_argument("--report", metavar="RESULT_DIR",
                    help="only re-render RESULT_DIR/summary.md from its raw.jsonl + meta.json")
    args = ap.parse_args()
    if args.report:
        meta = json.load(open(os.path.join(args.report, "meta.json")))
        records = [json.loads(l) for l in open(os.path.join(args.report, "raw.jsonl")) if l.strip()]
        if args.proxy_baseline:
            meta["proxy_baseline"] = args.proxy_baseline
        if args.hproxy_baseline:
            meta["hproxy_baseline"] = args.hproxy_baseline
        if args.gz_baseline:
            meta["gz_baseline"] = args.gz_baseline
        write_summary(args.report, records, meta, args.baseline)
        return
    if args.duration > 20:
        raise SystemExit("--duration must be <= 20")
    tests = [t for t in TEST_ORDER if t in args.tests.split(",")]
    unknown = set(filter(None, args.tests.split(","))) - set(TESTS)
    if unknown:
        raise SystemExit(f"unknown tests {sorted(unknown)}; known: {', '.join(TEST_ORDER)}")
    roles = {TESTS[t][0] for t in tests}

    # fd limit for 10k idle connections (client and server are separate processes)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < args.idle_conns + 500:
        log(f"warning: RLIMIT_NOFILE hard={hard} < idle conns {args.idle_conns}")

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + (f"-{args.label}" if args.label else "")
    outdir = os.path.join(args.out, stamp)
    os.makedirs(outdir, exist_ok=True)
    args.run = os.path.join("/tmp", f"lwsbench-{stamp}")
    os.makedirs(args.run, exist_ok=True)

    # docroot + TLS material
    args.www = os.path.join(args.run, "www")
    os.makedirs(args.www, exist_ok=True)
    with open(os.path.join(args.www, "1k.txt"), "wb") as f:
        f.write(b"a" * 1023 + b"\n")
    with open(os.path.join(args.www, "1m.bin"), "wb") as f:
        f.write(os.urandom(1 << 20))
    args.html_100k = html_100k()
    with open(os.path.join(args.www, "100k.html"), "wb") as f:  # compression tests (role gz)
        f.write(args.html_100k)
    with open(os.path.join(args.www, "index.html"), "wb") as f:
        f.write(b"<html><body>hello</body></html>\n")
    args.cert = os.path.join(args.run, "cert.pem")
    args.key = os.path.join(args.run, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", args.key,
                    "-out", args.cert, "-days", "30", "-subj", "/CN=localhost"], check=True,
                   capture_output=True)
    with open(os.path.join(args.run, "combined.pem"), "w") as f:  # haproxy's crt: certificate + key in one file
        f.write(open(args.cert).read() + open(args.key).read())
    args.wsload = os.path.join(BENCH, "wsload", "target", "release", "wsload")
    args.proxyload = os.path.join(BENCH, "proxyload", "target", "release", "proxyload")
    if "proxy" in roles and not os.path.exists(args.proxyload):
        raise SystemExit(f"{args.proxyload} not found (run run-all.sh to build)")

    specs = [dict(s) for s in ANCHORS] + [parse_sut(s) for s in args.sut]
    only = set(filter(None, args.only.split(",")))
    skip = set(filter(None, args.skip.split(",")))
    keep = []
    for s in specs:
        if only and s["name"] not in only:
            continue
        if s["name"] in skip:
            continue
        if not roles & set(s["roles"]):  # e.g. the pmd instances when no pmd test runs
            continue
        binpath = shlex.split(s["cmd"].format(bench=BENCH, **{k: 0 for k in
                              ("port", "www", "cert", "key", "run", "port_backend", "port_origin")
                              + tuple(f"port_{r}" for r in ROLES)}))[0]
        if not (shutil.which(binpath) or os.path.exists(binpath)):
            if s.get("optional"):
                log(f"skipping {s['name']}: {binpath} not built")
                continue
            raise SystemExit(f"{s['name']}: {binpath} not found (run run-all.sh to build)")
        keep.append(s)
    specs = keep
    servers = []
    for s in specs:
        if s["name"] not in servers:
            servers.append(s["name"])

    meta = {"stamp": stamp, "rounds": args.rounds, "duration": args.duration, "idle_conns": args.idle_conns,
            "pmd_idle_conns": args.pmd_idle_conns,
            "proxy_baseline": args.proxy_baseline, "proxy_idle_conns": args.proxy_idle_conns,
            "proxy_bulk_bytes": args.proxy_bulk_bytes, "proxy_conns": args.proxy_conns,
            "proxy_size": args.proxy_size,
            "hproxy_baseline": args.hproxy_baseline, "hproxy_keep": args.hproxy_keep,
            "gz_baseline": args.gz_baseline, "h1_idle_conns": args.h1_idle_conns,
            "origin_port": args.origin_port,
            "origin_workers": args.origin_workers,
            "server_cpu": args.server_cpu, "client_cpu": args.client_cpu, "servers": servers, "tests": tests,
            "nginx_workers": nginx_workers(),
            "versions": versions(args), "uptime_start": subprocess.run(["uptime"], capture_output=True,
                                                                         text=True).stdout.strip(),
            "instances": [{k: v for k, v in s.items()} for s in specs]}
    log(f"results -> {outdir}; {meta['uptime_start']}")
    rawf = open(os.path.join(outdir, "raw.jsonl"), "w")
    records = []
    loads = []
    for rnd in range(args.rounds):
        insts = [Instance(s, args) for s in specs]
        args.backend = Backend(args) if "proxy" in roles else None
        hproxy = bool(roles & HPROXY_ROLES)
        args.origin = Instance(dict(ORIGIN, roles={"origin": args.origin_port}, cpu=args.client_cpu), args) \
            if hproxy else None
        try:
            if args.backend:
                args.backend.start()
            if args.origin:
                args.origin.start()
            for i in insts:
                # HTTP proxies run one at a time (started before each of their runs, stopped after it), unless
                # --hproxy-keep: a proxy left busy by its run would otherwise share CPU 0 with the next one
                if args.hproxy_keep or not set(i.roles) <= HPROXY_ROLES:
                    i.start()
            up = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
            loads.append(f"round {rnd + 1} start: {up}")
            log(f"round {rnd + 1}/{args.rounds}: {up}")
            for t in tests:
                role = TESTS[t][0]
                cands = [i for i in insts if role in i.roles]
                # rotate order per round (interleaving)
                k = rnd % max(len(cands), 1)
                cands = cands[k:] + cands[:k]
                for inst in cands:
                    if t in HPROXY_TESTS and not args.hproxy_keep:
                        # every HTTP proxy run has a fresh process and CPU 0 to itself: what one run leaves
                        # behind (open connections, a busy loop) is charged neither to the next run of the same
                        # proxy nor to another proxy's
                        inst.start()
                    if t in RESTART_TESTS:  # idle memory tests start from a fresh process
                        inst.stop()
                        inst.start()
                    la = loadavg()
                    CLIENT_CPU["pct"] = None
                    c0, w0 = cpu_ticks(inst.pid), time.time()
                    r = run_test(t, inst, args)
                    c1, w1 = cpu_ticks(inst.pid), time.time()
                    died = inst.proc.poll() is not None
                    if died:
                        r["error"] = (r.get("error") or "") + f" server died rc={inst.proc.returncode}" \
                            + f" (log: {log_tail(inst.logpath)})"
                    # the proxy tests measure CPU over their own window (from "go" to END)
                    window = {k: r.pop(k) for k in ("server_cpu_pct", "client_cpu_pct") if k in r}
                    r.update({"round": rnd + 1, "test": t, "server": inst.name, "port": inst.roles[role],
                              "load1": float(la[0]), "wall_s": round(w1 - w0, 2),
                              "server_cpu_pct": round(100.0 * (c1 - c0) / CLK / max(w1 - w0, 1e-6), 1),
                              "client_cpu_pct": CLIENT_CPU["pct"]})
                    r.update(window)
                    records.append(r)
                    rawf.write(json.dumps(r) + "\n")
                    rawf.flush()
                    log(f"  {t:12s} {inst.name:18s} {fmt_num(r.get('value')):>10s} {UNITS[t]:9s} "
                        f"p99={r.get('p99_us', '-')} srv={r['server_cpu_pct']}% cli={r['client_cpu_pct']}% load={la[0]}"
                        + (f" ERROR {r['error'][:120]}" if r.get("error") else "")
                        + (f" errors={r['errors']}" if r.get("errors") else ""))
                    if t in HPROXY_TESTS and not args.hproxy_keep:
                        inst.stop()
                    elif died:  # e.g. sslh-select past FD_SETSIZE in proxy_idle: a fresh one for the next tests
                        log(f"  restarting {inst.name} (port {inst.roles[role]})")
                        inst.start()
        finally:
            for i in insts:
                i.stop()
            if args.backend:
                args.backend.stop()
            if args.origin:
                args.origin.stop()
        up = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        loads.append(f"round {rnd + 1} end: {up}")
    rawf.close()
    meta["uptime_rounds"] = loads
    meta["uptime_end"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    with open(os.path.join(outdir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    write_summary(outdir, records, meta, args.baseline)
    log(f"wrote {outdir}/summary.md")


def write_summary(outdir, records, meta, baseline):
    md = [f"# bench run {meta['stamp']}", ""]
    md.append(f"server pinned to CPU {meta['server_cpu']}, load generators pinned to CPU {meta['client_cpu']}; "
              f"{meta['duration']} s per load run"
              + (f"; {meta['idle_conns']} idle conns" if not set(meta["tests"]) <= PROXY_TESTS | HPROXY_TESTS | GZ_TESTS
                 else "")
              + (f"; compression tests on a 100 KiB HTML file, every server at level 6, "
                 f"{meta.get('h1_idle_conns')} idle HTTP/1.1 connections" if GZ_TESTS & set(meta["tests"]) else "")
              + (f"; HTTP reverse proxies -> nginx origin on 127.0.0.1:{meta.get('origin_port')} "
                 f"({meta.get('origin_workers')} worker(s), pinned to CPU {meta['client_cpu']} with the clients), "
                 + ("every proxy running for the whole round" if meta.get("hproxy_keep")
                    else "one proxy running at a time, started fresh for each run and stopped after it")
                 if HPROXY_TESTS & set(meta["tests"]) else "")
              + (f"; proxy_idle {meta.get('proxy_idle_conns')} pairs, proxy_bulk {meta.get('proxy_bulk_bytes')} "
                 f"bytes, proxy_pingpong {meta.get('proxy_conns')} conns x {meta.get('proxy_size')} B"
                 if PROXY_TESTS & set(meta["tests"]) else "")
              + (f", {meta['pmd_idle_conns']} with permessage-deflate" if "ws_pmd_idle" in meta["tests"] else "")
              + ".")
    md.append("")
    md.append(summarize(records, meta["servers"], meta["tests"], baseline, meta))
    md.append("Load (uptime):")
    md.append("")
    md += [f"- {x}" for x in [meta["uptime_start"]] + meta.get("uptime_rounds", [])]
    md.append("")
    md.append("Versions:")
    md.append("")
    md += [f"- {k}: {v}" for k, v in meta["versions"].items()]
    md.append("")
    with open(os.path.join(outdir, "summary.md"), "w") as f:
        f.write("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
