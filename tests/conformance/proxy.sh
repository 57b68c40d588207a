#!/usr/bin/env bash
# tests/conformance/proxy.sh [--full] — lwsws reverse-proxy mounts between real peers on loopback:
#   origins: nginx (TCP and unix socket), a second lwsws (TCP and unix socket) serving files, and a Python
#     stdlib origin (peers/proxy_origin.py) that hashes uploads as they stream in, echoes the request it got, and
#     misbehaves on purpose on three more ports (garbage, silence, a body cut in the middle);
#   the proxy: one lwsws with a mount per origin on a cleartext port (HTTP/1.1 and h2c prior knowledge) and a TLS
#     port (HTTP/1.1 and h2 by ALPN);
#   clients: curl over the four ways in (GET of a 1 KiB and an N MiB file from every origin with sha256 compared,
#     POST of N MiB with a length and without one (chunked on HTTP/1.1) hashed by the origin, HEAD, query strings
#     and origin paths, X-Forwarded-*/Forwarded, hop-by-hop fields dropped, proxy-max-body 413, failover to a
#     second origin), h2load (h2 over TLS, h2c, HTTP/1.1: every request 2xx) and headless Chromium (a page, an
#     image and a fetched file with its sha256, over h2 through the proxy);
#   errors: dead origin 503, garbage 502, proxy-header-timeout-ms 504, an origin dying mid-body makes curl
#     report a transfer error (never success), each over all four ways in;
#   WebSockets to the lwsws origins (TCP and unix socket): Python websockets over HTTP/1.1 upgrades (ws:// and
#     wss://: lws-echo with permessage-deflate, dumb-increment-protocol), RFC 8441 from an HTTP/2 client (python h2,
#     h2c and TLS) to an HTTP/1.1 upgrade onward, Chromium's WebSocket from the page, upgrades the origin refuses or
#     cannot take, and Autobahn|Testsuite fuzzingclient through the proxy (autobahn.sh's 325-case CI selection;
#     --full: all 517 cases).
# N = 64 (CI), 1024 with --full. Env overrides: PROXY_MIB, PROXY_AB_CASES (e.g. "1.*,5.*"), LWSWS (default
# <repo>/target/release/lwsws), NGINX, CHROMIUM, CHROMIUM_EXTRA, LWS_PEERS_HOME, AUTOBAHN_OUT (Autobahn reports go to
# $AUTOBAHN_OUT/proxy-autobahn, default <repo>/target/conformance/proxy-autobahn).
# Needs 'install.sh curl nghttp2 openssl python nginx pyws pyh2 autobahn' (+ chromium for the browser check).
# Prints PASS/FAIL lines (SKIP lines are not counted) and "N passed, M failed" (Autobahn cases count one each);
# exits non-zero if anything failed.
set -euo pipefail
# shellcheck source=tests/conformance/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

FULL=0
for arg in "$@"; do
  case "$arg" in
    --full) FULL=1 ;;
    *) die "unknown argument '$arg' (usage: proxy.sh [--full])" ;;
  esac
done
if [ "$FULL" = 1 ]; then MIB="${PROXY_MIB:-1024}"; else MIB="${PROXY_MIB:-64}"; fi
T_START=$(date +%s)

need_lwsws
need_cmd curl openssl python3 h2load nghttp sha256sum timeout
NGINX="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
[ -x "$NGINX" ] || die "nginx not found: run 'bash tests/conformance/install.sh nginx' (as root)"
ORIGIN_PY=(python3 "$CONF_DIR/peers/proxy_origin.py")
CDP="$CONF_DIR/peers/chromium_cdp.py"
PEERS_HOME="${LWS_PEERS_HOME:-$HOME/.cache/lws-peers}"
VENV_PY="$PEERS_HOME/venv/bin/python"
WSTEST="$PEERS_HOME/autobahn-py27/bin/wstest"
WS_PY=("$VENV_PY" "$CONF_DIR/peers/proxy_ws.py")
"$VENV_PY" -c 'import websockets, h2' >/dev/null 2>&1 ||
  die "no Python websockets + h2 in $PEERS_HOME/venv: run 'bash tests/conformance/install.sh pyws pyh2' (as root)"
[ -x "$WSTEST" ] || die "wstest not found at $WSTEST: run 'bash tests/conformance/install.sh autobahn' (as root)"

# ---- helpers ------------------------------------------------------------------------------------------------------
_unix_answers() { curl -s -o /dev/null --max-time 1 --unix-socket "$1" "http://localhost/"; }
# wait_unix NAME SOCKET: poll until an HTTP server answers on the unix socket
wait_unix() { wait_for "$1" "answer on $2" _unix_answers "$2"; }

sha() { sha256sum "$1" | cut -d' ' -f1; }

# curl for transfers: long enough for 1 GiB, never a proxy; -w prints "code version size exitcode errormsg" on
# stderr so stdout can carry the body
XFER=(curl -s --noproxy '*' --max-time 900)
META='%{stderr}%{http_code} %{http_version} %{size_download} %{exitcode} %{errormsg}\n'

# The four ways into the proxy: name -> base URL and curl arguments, and the HTTP version curl must report.
WAYS=(h1 h2c h1s h2s)
way_base() { case "$1" in h1 | h2c) echo "http://127.0.0.1:$PX" ;; *) echo "https://127.0.0.1:$PXS" ;; esac; }
way_args() {
  case "$1" in
    h1) WAY_ARGS=(--http1.1) ;;
    h2c) WAY_ARGS=(--http2-prior-knowledge) ;;
    h1s) WAY_ARGS=(-k --http1.1) ;;
    h2s) WAY_ARGS=(-k --http2) ;;
  esac
}
way_ver() { case "$1" in h1 | h1s) echo 1.1 ;; *) echo 2 ;; esac; }
way_proto() { case "$1" in h1 | h2c) echo http ;; *) echo https ;; esac; }

# read_meta NAME: sets M_CODE M_VER M_SIZE M_RC M_ERR from $WORK/NAME.meta (the last line: curl may also print)
read_meta() {
  local line
  line="$(tail -n 1 "$WORK/$1.meta" 2>/dev/null || true)"
  read -r M_CODE M_VER M_SIZE M_RC M_ERR <<<"${line:-000 - 0 none no output}" || true
}

# get_sha NAME WAY PATH FILE: GET through the proxy, body hashed on the fly; 200, the way's HTTP version, the
# file's size and sha256
get_sha() {
  local name="$1" way="$2" path="$3" file="$4" got want t0 ms
  way_args "$way"
  t0=$(date +%s%N)
  got="$("${XFER[@]}" "${WAY_ARGS[@]}" -o - -w "$META" "$(way_base "$way")$path" 2>"$WORK/$name.meta" | sha256sum |
    cut -d' ' -f1)" || true
  ms=$((($(date +%s%N) - t0) / 1000000))
  read_meta "$name"
  want="$(sha "$file")"
  if [ "$M_CODE $M_VER $M_RC" = "200 $(way_ver "$way") 0" ] && [ "$M_SIZE" = "$(stat -c %s "$file")" ] &&
    [ "$got" = "$want" ]; then
    pass "$name ($M_SIZE bytes, sha256 ok, ${ms} ms)"
  else
    fail "$name" "status $M_CODE, HTTP/$M_VER, $M_SIZE bytes (want $(stat -c %s "$file")), curl exit $M_RC \
${M_ERR:+($M_ERR) }sha256 ${got:0:12} (want ${want:0:12})"
  fi
}

# upload NAME WAY PATH FILE length|stream: POST FILE through the proxy with a Content-Length, or streamed from
# stdin without one (HTTP/1.1: chunked; h2: DATA frames without content-length); the origin's sha256 and count
upload() {
  local name="$1" way="$2" path="$3" file="$4" mode="$5" want line t0 ms
  way_args "$way"
  t0=$(date +%s%N)
  if [ "$mode" = length ]; then
    "${XFER[@]}" "${WAY_ARGS[@]}" -X POST -T "$file" -o "$WORK/$name.body" -w "$META" "$(way_base "$way")$path" \
      2>"$WORK/$name.meta" || true
  else
    "${XFER[@]}" "${WAY_ARGS[@]}" -X POST -T - -o "$WORK/$name.body" -w "$META" "$(way_base "$way")$path" \
      <"$file" 2>"$WORK/$name.meta" || true
  fi
  ms=$((($(date +%s%N) - t0) / 1000000))
  read_meta "$name"
  want="sha256=$(sha "$file") bytes=$(stat -c %s "$file") "
  line="$(head -n 1 "$WORK/$name.body" 2>/dev/null || true)"
  if [ "$M_CODE $M_VER $M_RC" = "200 $(way_ver "$way") 0" ] && [[ "$line" == "$want"* ]]; then
    pass "$name (origin got $(stat -c %s "$file") bytes, sha256 ok, ${line##* bytes=* }, ${ms} ms)"
  else
    fail "$name" "status $M_CODE, HTTP/$M_VER, curl exit $M_RC ${M_ERR:+($M_ERR) }origin said '${line:0:120}' \
(want '${want:0:20}... bytes=$(stat -c %s "$file")')"
  fi
}

# req NAME WAY PATH [CURL_ARGS...]: one request through the proxy: body $WORK/NAME.body, head $WORK/NAME.hdr,
# M_* from the meta line
req() {
  local name="$1" way="$2" path="$3"
  shift 3
  way_args "$way"
  "${XFER[@]}" --max-time 30 "${WAY_ARGS[@]}" -D "$WORK/$name.hdr" -o "$WORK/$name.body" -w "$META" "$@" \
    "$(way_base "$way")$path" 2>"$WORK/$name.meta" || true
  touch "$WORK/$name.hdr" "$WORK/$name.body"
  read_meta "$name"
}

# jfield FILE EXPR: a value from the Python origin's JSON echo (EXPR over `d`, and `h(name)`: the values of a
# header joined by ", ", empty when absent)
jfield() {
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
def h(n):
    return ", ".join(v for k, v in d["headers"] if k.lower() == n.lower())
print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null || echo "<no JSON echo: $(head -c 80 "$1" | tr '\r\n' '  ')>"
}

# ---- content --------------------------------------------------------------------------------------------------------
make_test_cert
WWW="$WORK/www"
mkdir -p "$WWW"
# nginx workers run unprivileged: the docroot (and the scratch dir above it) must be world-readable.
chmod 755 "$WORK" "$WWW"
MARKER="proxy-conformance-$$"
head -c 1024 /dev/urandom | base64 -w 0 | head -c 1024 >"$WWW/small.txt"
head -c $((MIB << 20)) /dev/urandom >"$WWW/big.bin"
head -c $((4 << 20)) /dev/urandom >"$WWW/mid.bin"
python3 - "$WWW/pixel.png" <<'PY'
import struct, sys, zlib
w, h = 3, 2
raw = b"".join(b"\x00" + b"\xff\x00\x00" * w for _ in range(h))
def chunk(t, d):
    return struct.pack("!I", len(d)) + t + d + struct.pack("!I", zlib.crc32(t + d) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack("!IIBBBBB", w, h, 8, 2, 0, 0, 0)) + \
    chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
cat >"$WWW/index.html" <<EOF
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>proxy-conformance</title></head>
<body><p id="m">$MARKER</p><img src="/lwu/pixel.png" alt="pixel"></body></html>
EOF
chmod 644 "$WWW"/*
SMALL="$WWW/small.txt" BIG="$WWW/big.bin" MID="$WWW/mid.bin"

# ---- origins --------------------------------------------------------------------------------------------------------
NG="$(free_port)" NG_SOCK="$WORK/ng.sock"
mkdir -p "$WORK/nginx/logs" "$WORK/nginx/tmp"
cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
error_log $WORK/nginx/logs/error.log warn;
pid $WORK/nginx/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/tmp/body; proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fcgi; uwsgi_temp_path $WORK/nginx/tmp/uwsgi; scgi_temp_path $WORK/nginx/tmp/scgi;
  types { text/html html; text/plain txt; image/png png; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$NG;
    listen unix:$NG_SOCK;
    root $WWW;
    location = /args { default_type text/plain; return 200 "\$request_uri\n"; }
  }
}
CONF
peer_start nginx "$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -e "$WORK/nginx/logs/error.log"

LW="$(free_port)" LW_SOCK="$WORK/lw.sock"
lwsws_conf lworigin <<EOF
{ "vhosts": [
  { "name": "lw-tcp", "port": "$LW", "interface": "127.0.0.1",
    "ws-protocols": [{ "lws-echo": { "default": "1" }, "dumb-increment-protocol": {} }],
    "mounts": [{ "mountpoint": "/", "origin": "file://$WWW", "default": "index.html" }] },
  { "name": "lw-unix", "unix-socket": "1", "interface": "$LW_SOCK",
    "ws-protocols": [{ "lws-echo": { "default": "1" }, "dumb-increment-protocol": {} }],
    "mounts": [{ "mountpoint": "/", "origin": "file://$WWW", "default": "index.html" }] }
] }
EOF

PY="$(free_port)" GB="$(free_port)" SL="$(free_port)" CT="$(free_port)" DEAD="$(free_port)"
peer_start pyorigin "${ORIGIN_PY[@]}" serve --http "$PY" --garbage "$GB" --silent "$SL" --cut "$CT"

wait_http nginx "http://127.0.0.1:$NG/small.txt"
wait_unix nginx "$NG_SOCK"
wait_http lworigin "http://127.0.0.1:$LW/small.txt"
wait_unix lworigin "$LW_SOCK"
wait_line pyorigin ready

# ---- the proxy ------------------------------------------------------------------------------------------------------
PX="$(free_port)" PXS="$(free_port)"
proxy_mounts() {
  cat <<EOF
    "mounts": [
      { "mountpoint": "/ng", "origin": "http://127.0.0.1:$NG/" },
      { "mountpoint": "/ngu", "origin": "http://+$NG_SOCK:/" },
      { "mountpoint": "/lw", "origin": "http://127.0.0.1:$LW/" },
      { "mountpoint": "/lwu", "origin": "http://+$LW_SOCK:/" },
      { "mountpoint": "/py", "origin": "http://127.0.0.1:$PY/" },
      { "mountpoint": "/pyb", "origin": "http://127.0.0.1:$PY/inner" },
      { "mountpoint": "/pysmall", "origin": "http://127.0.0.1:$PY/", "proxy-max-body": "1048576" },
      { "mountpoint": "/failover", "origin": "http://127.0.0.1:$DEAD/", "proxy-origins": ["http://127.0.0.1:$NG/"] },
      { "mountpoint": "/dead", "origin": "http://127.0.0.1:$DEAD/" },
      { "mountpoint": "/garbage", "origin": "http://127.0.0.1:$GB/" },
      { "mountpoint": "/garbage-again", "origin": "http://127.0.0.1:$GB/" },
      { "mountpoint": "/slow", "origin": "http://127.0.0.1:$SL/", "proxy-header-timeout-ms": "500" },
      { "mountpoint": "/cut", "origin": "http://127.0.0.1:$CT/" }
    ]
EOF
}
lwsws_conf proxy <<EOF
{ "vhosts": [
  { "name": "proxy", "port": "$PX", "interface": "127.0.0.1",
$(proxy_mounts) },
  { "name": "proxy-tls", "port": "$PXS", "interface": "127.0.0.1",
    "host-ssl-cert": "$WORK/cert.pem", "host-ssl-key": "$WORK/key.pem",
$(proxy_mounts) }
] }
EOF
wait_http proxy "http://127.0.0.1:$PX/ng/small.txt"
wait_http proxy "https://127.0.0.1:$PXS/ng/small.txt" -k

# ---- 1. GET: every origin, every way in, small and big files with sha256 ---------------------------------------------
for way in "${WAYS[@]}"; do
  for o in ng ngu lw lwu; do
    get_sha "get-$way-$o-1KiB" "$way" "/$o/small.txt" "$SMALL"
    get_sha "get-$way-$o-${MIB}MiB" "$way" "/$o/big.bin" "$BIG"
  done
done

# ---- 2. uploads: the Python origin hashes what arrives ---------------------------------------------------------------
for way in "${WAYS[@]}"; do
  upload "post-$way-${MIB}MiB-length" "$way" /py/upload "$BIG" length
  upload "post-$way-${MIB}MiB-streamed" "$way" /py/upload "$BIG" stream
done

# ---- 3. HEAD, query strings, origin paths, forwarding fields, hop-by-hop, body limit, failover ---------------------
# origin_head_length ng|lwu: Content-Length of HEAD /big.bin asked of the origin directly
origin_head_length() {
  local a=("http://127.0.0.1:$NG/big.bin")
  [ "$1" = lwu ] && a=(--unix-socket "$LW_SOCK" http://localhost/big.bin)
  curl -s --max-time 10 -I "${a[@]}" | awk 'tolower($1) == "content-length:" { sub(/\r$/, "", $2); print $2 }'
}
for way in "${WAYS[@]}"; do
  for o in ng lwu; do
    req "head-$way-$o" "$way" "/$o/big.bin" -I
    cl="$(awk 'tolower($1) == "content-length:" { sub(/\r$/, "", $2); print $2 }' "$WORK/head-$way-$o.hdr" | tail -n 1)"
    if [ "$M_CODE $M_VER" = "200 $(way_ver "$way")" ] && [ "$cl" = "$(stat -c %s "$BIG")" ] && [ "$M_SIZE" = 0 ] &&
      [ "$M_RC" = 0 ]; then
      pass "head-$way-$o (content-length $cl, no body)"
    else
      fail "head-$way-$o" "status $M_CODE, HTTP/$M_VER, content-length '$cl' (want $(stat -c %s "$BIG"), which the \
origin itself sends: $(origin_head_length "$o")), $M_SIZE body bytes, curl exit $M_RC ${M_ERR:+($M_ERR)}"
    fi
  done

  req "query-$way-python" "$way" '/py/echo?a=1&b=two%20words&c'
  expect_eq "query-$way-python-target" "$M_CODE $(jfield "$WORK/query-$way-python.body" 'd["target"]')" \
    '200 /echo?a=1&b=two%20words&c'
  req "query-$way-nginx" "$way" '/ng/args?x=1&y=%2F'
  expect_eq "query-$way-nginx-request-uri" "$M_CODE $(head -n 1 "$WORK/query-$way-nginx.body")" '200 /args?x=1&y=%2F'
  req "path-$way-origin-base" "$way" '/pyb/deep/x.txt?q=1'
  expect_eq "path-$way-origin-base (/pyb -> origin /inner)" \
    "$M_CODE $(jfield "$WORK/path-$way-origin-base.body" 'd["target"]')" '200 /inner/deep/x.txt?q=1'

  proto="$(way_proto "$way")" port="$PX"
  [ "$proto" = https ] && port="$PXS"
  req "fwd-$way" "$way" /py/echo -H 'X-Forwarded-For: 192.0.2.7'
  f="$WORK/fwd-$way.body"
  got="$M_CODE|$(jfield "$f" 'h("x-forwarded-for")')|$(jfield "$f" 'h("x-forwarded-proto")')|$(jfield "$f" 'h("x-forwarded-host")')|$(jfield "$f" 'h("host")')"
  expect_eq "forwarded-$way-x-forwarded-*" "$got" "200|192.0.2.7, 127.0.0.1|$proto|127.0.0.1:$port|127.0.0.1:$port"
  fwd="$(jfield "$f" 'h("forwarded")')"
  if [[ "$fwd" == *"for=127.0.0.1"* && "$fwd" == *"proto=$proto"* ]]; then pass "forwarded-$way-rfc7239 ($fwd)"
  else fail "forwarded-$way-rfc7239" "Forwarded: '$fwd' (want for=127.0.0.1 and proto=$proto)"; fi

  if [ "$(way_ver "$way")" = 1.1 ]; then
    req "hop-$way" "$way" /py/echo -H 'Connection: keep-alive, X-Drop-Me' -H 'X-Drop-Me: 1' -H 'X-Keep-Me: 1' \
      -H 'Keep-Alive: timeout=5' -H 'Proxy-Authorization: Basic Zm9vOmJhcg==' -H 'TE: trailers'
  else
    req "hop-$way" "$way" /py/echo -H 'X-Keep-Me: 1' -H 'Proxy-Authorization: Basic Zm9vOmJhcg==' -H 'TE: trailers'
  fi
  # what reached the origin of the fields sent, and whether its Connection (the proxy's own) names X-Drop-Me
  got="$(jfield "$WORK/hop-$way.body" '" ".join(sorted(k.lower() for k, v in d["headers"] if k.lower() in ("x-drop-me", "x-keep-me", "keep-alive", "proxy-authorization", "te", "upgrade", "transfer-encoding")) + ["connection:" + ("names-x-drop-me" if "x-drop-me" in h("connection").lower() else "ok")])')"
  expect_eq "hop-by-hop-$way-dropped" "$M_CODE $got" "200 x-keep-me connection:ok"

  if [ "$(way_ver "$way")" = 1.1 ]; then
    req "maxbody-$way-over" "$way" /pysmall/upload -X POST --data-binary "@$MID"
    expect_eq "max-body-$way-4MiB-over-1MiB-413" "$M_CODE" 413
  else
    # curl 7.88 drops an HTTP/2 response that ends before the upload does when RST_STREAM(NO_ERROR) follows
    # (RFC 9113 8.1: clients MUST NOT discard it; it reports exit 92 and no status): nghttp shows what was sent
    timeout 30 nghttp -v -d "$MID" "$(way_base "$way")/pysmall/upload" >"$WORK/maxbody-$way-over.nghttp" 2>&1 || true
    got="$(sed -n 's/.*recv (stream_id=[0-9]*) :status: \([0-9]*\).*/\1/p' "$WORK/maxbody-$way-over.nghttp" | head -n 1)"
    rst="$(grep -A1 'recv RST_STREAM' "$WORK/maxbody-$way-over.nghttp" | grep -o 'error_code=[A-Z_]*' | head -n 1)"
    if [ "$got" = 413 ]; then pass "max-body-$way-4MiB-over-1MiB-413 (nghttp; then ${rst:-no RST_STREAM})"
    else fail "max-body-$way-4MiB-over-1MiB-413" "nghttp saw status '${got:-none}': $(tail -n 3 "$WORK/maxbody-$way-over.nghttp" | tr '\n' ' ')"; fi
  fi
  req "maxbody-$way-at" "$way" /pysmall/upload -X POST -T "$SMALL"
  if [ "$M_CODE" = 200 ] && grep -q "^sha256=$(sha "$SMALL") bytes=1024 " "$WORK/maxbody-$way-at.body"; then
    pass "max-body-$way-1KiB-under-limit-200"
  else fail "max-body-$way-1KiB-under-limit-200" "status $M_CODE, body '$(head -c 100 "$WORK/maxbody-$way-at.body")'"; fi
done

codes=""
for i in 1 2 3 4 5 6; do
  req failover h1 /failover/small.txt
  codes="$codes $M_CODE"
done
expect_eq "failover-dead-first-origin-to-nginx (6 requests)" "${codes# }" "200 200 200 200 200 200"

# ---- 4. load: h2load through the proxy (every request 2xx) ----------------------------------------------------------
LOAD_PATHS=(/ng/small.txt /ngu/small.txt /lw/small.txt /lwu/small.txt)
urls() { local p; for p in "${LOAD_PATHS[@]}"; do echo "$1$p"; done; }
mapfile -t U_TLS < <(urls "https://127.0.0.1:$PXS")
mapfile -t U_CLR < <(urls "http://127.0.0.1:$PX")
H2LOAD_TIMEOUT=120 h2load_expect "h2load-h2-tls-4-origins-c10-m10" 2000 -c 10 -m 10 "${U_TLS[@]}"
H2LOAD_TIMEOUT=120 h2load_expect "h2load-h2c-4-origins-c10-m10" 2000 -c 10 -m 10 "${U_CLR[@]}"
H2LOAD_TIMEOUT=120 h2load_expect "h2load-h1-4-origins-c10" 2000 --h1 -c 10 "${U_CLR[@]}"

# ---- 5. Chromium: a page from nginx, an image from the lwsws unix origin, a fetched file with sha256 ---------------
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "${CHROMIUM:-}" ]; then
  JS='(async () => {
    if (document.readyState !== "complete") await new Promise(r => addEventListener("load", r));
    const nav = performance.getEntriesByType("navigation")[0].nextHopProtocol;
    const r = await fetch("/lw/mid.bin", { cache: "no-store" });
    const buf = await r.arrayBuffer();
    const d = new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
    const hex = Array.from(d, x => x.toString(16).padStart(2, "0")).join("");
    const e = performance.getEntriesByName(r.url)[0];
    const echo = await new Promise(res => {
      const ws = new WebSocket("wss://" + location.host + "/lw/", "lws-echo");
      const t = setTimeout(() => res("ws-timeout"), 10000);
      ws.onopen = () => ws.send("chromium-ws-" + ws.protocol);
      ws.onmessage = m => { clearTimeout(t); ws.close(1000); res(m.data); };
      ws.onerror = () => { clearTimeout(t); res("ws-error"); };
    });
    return [nav, document.getElementById("m").textContent, document.querySelector("img").naturalWidth,
            r.status, e ? e.nextHopProtocol : "none", buf.byteLength, hex, echo].join(" ");
  })()'
  want="h2 $MARKER 3 200 h2 $(stat -c %s "$MID") $(sha "$MID") chromium-ws-lws-echo"
  got="$(CHROMIUM_EXTRA="${CHROMIUM_EXTRA:-} --ignore-certificate-errors" timeout 120 python3 "$CDP" eval \
    "https://127.0.0.1:$PXS/ng/index.html" 0.5 "$JS" 2>"$WORK/chromium.err" || true)"
  if [ "$got" = "$want" ]; then
    pass "chromium-h2-page-image-fetch-sha256-websocket (nginx page, lwsws-unix image, lwsws 4 MiB fetch, lws-echo)"
  else fail chromium-h2-page-image-fetch-sha256-websocket "got '$got' (want '$want'): $(tail -3 "$WORK/chromium.err" | tr '\n' ' ')"; fi
else
  echo "SKIP chromium-h2-page-image-fetch-sha256-websocket: chromium not installed ('install.sh chromium')"
fi

# ---- 6. errors: 503, 502, 504, an origin dying mid-body -------------------------------------------------------------
for way in "${WAYS[@]}"; do
  req "dead-$way" "$way" /dead/x
  expect_eq "origin-dead-$way-503" "$M_CODE" 503
  req "garbage-$way" "$way" /garbage/x
  expect_eq "origin-garbage-$way-502" "$M_CODE" 502
  t0=$(date +%s%N)
  req "slow-$way" "$way" /slow/x
  ms=$((($(date +%s%N) - t0) / 1000000))
  if [ "$M_CODE" = 504 ] && [ "$ms" -ge 400 ] && [ "$ms" -lt 5000 ]; then
    pass "origin-silent-$way-504-after-header-timeout (${ms} ms, proxy-header-timeout-ms 500)"
  else fail "origin-silent-$way-504-after-header-timeout" "status $M_CODE after ${ms} ms (want 504 after ~500 ms)"; fi
  for kind in length chunked; do
    req "cut-$way-$kind" "$way" "/cut/$kind"
    case "$M_RC" in
      18 | 56 | 92) pass "origin-dies-mid-body-$way-$kind-curl-error (status $M_CODE, $M_SIZE bytes, curl exit $M_RC: $M_ERR)" ;;
      *) fail "origin-dies-mid-body-$way-$kind-curl-error" "curl exit $M_RC (want 18, 56 or 92), status $M_CODE, \
$M_SIZE bytes ${M_ERR:+($M_ERR)}" ;;
    esac
  done
done
# The same garbage, five times in a row on one mount with its single origin: still 502 each time (the origin is
# there and answering; nginx never takes the only server of an upstream out of service, and says 502 when none is
# left), not 503 "unreachable" once passive health (proxy-max-fails, default 3) pauses it.
codes=""
for i in 1 2 3 4 5; do
  req "garbage-again-$i" h1 /garbage-again/x
  codes="$codes $M_CODE"
done
expect_eq "origin-garbage-5-in-a-row-single-origin-502" "${codes# }" "502 502 502 502 502"
get_sha "after-errors-get-h2s-ng-1KiB" h2s /ng/small.txt "$SMALL"
get_sha "after-errors-get-h1-lwu-1KiB" h1 /lwu/small.txt "$SMALL"

# ---- 7. WebSockets through the proxy to lwsws origins ---------------------------------------------------------------
# peer_check NAME ARGS...: one proxy_ws.py client; its "OK detail" / "ERR detail" line is the check
peer_check() {
  local name="$1" line rc=0
  shift
  line="$(timeout -k 5 120 "${WS_PY[@]}" "$@" 2>"$WORK/$name.peer.err" | tail -n 1)" || rc=$?
  case "$line" in
    "OK "*) pass "$name (${line#OK })" ;;
    "ERR "*) fail "$name" "${line#ERR }" ;;
    *) fail "$name" "proxy_ws.py $1 exited $rc without a verdict: $(tail -n 3 "$WORK/$name.peer.err" | tr '\n' ' ')" ;;
  esac
}
for o in lw lwu; do
  peer_check "ws-h1-$o-echo" echo "ws://127.0.0.1:$PX/$o/"
  peer_check "ws-h1s-$o-echo" echo "wss://127.0.0.1:$PXS/$o/"
  peer_check "ws-h2c-rfc8441-$o-echo" h2 127.0.0.1 "$PX" "/$o/" --get-path "/$o/small.txt"
  peer_check "ws-h2s-rfc8441-$o-echo" h2 127.0.0.1 "$PXS" "/$o/" --tls --get-path "/$o/small.txt"
done
peer_check ws-h1-lw-dumb-increment increment "ws://127.0.0.1:$PX/lw/"
peer_check ws-h1s-lwu-dumb-increment increment "wss://127.0.0.1:$PXS/lwu/"
peer_check "ws-h1-lw-echo-8MiB" echo "ws://127.0.0.1:$PX/lw/" --size $((8 << 20)) --count 1

# An upgrade the origin does not take: the client gets what the origin said, never a 101
WS_HDRS=(-H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13'
  -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==')
req ws-to-nginx h1 /ng/small.txt "${WS_HDRS[@]}"
if [ "$M_CODE" != 101 ] && [ "$M_CODE" != 000 ]; then pass "ws-upgrade-to-non-ws-origin-not-101 (nginx answered $M_CODE)"
else fail ws-upgrade-to-non-ws-origin-not-101 "status $M_CODE, curl exit $M_RC ${M_ERR:+($M_ERR)}"; fi
req ws-to-dead h1 /dead/ "${WS_HDRS[@]}"
expect_eq ws-upgrade-to-dead-origin-503 "$M_CODE" 503

# Autobahn|Testsuite fuzzingclient through the proxy (cleartext HTTP/1.1) to the lwsws TCP origin's lws-echo
if [ -n "${PROXY_AB_CASES:-}" ]; then AB_CASES="$PROXY_AB_CASES" AB_EXPECTED=0
elif [ "$FULL" = 1 ]; then AB_CASES="*" AB_EXPECTED=517
else
  # autobahn.sh's CI selection: sections 1-10 whole and x.y.1, x.y.2 of 12.1-12.5 and 13.1-13.7 (permessage-deflate)
  AB_CASES="1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*" AB_EXPECTED=325
  for s in 12.1 12.2 12.3 12.4 12.5 13.1 13.2 13.3 13.4 13.5 13.6 13.7; do AB_CASES+=",$s.1,$s.2"; done
fi
AB_OUT="${AUTOBAHN_OUT:-$REPO/target/conformance}/proxy-autobahn"
rm -rf "$AB_OUT"
mkdir -p "$AB_OUT"
python3 - "$AB_OUT/fuzzingclient.json" "ws://127.0.0.1:$PX/lw/" "$AB_OUT" "$AB_CASES" <<'PY'
import json, sys
spec, url, out, cases = sys.argv[1:]
json.dump({"outdir": out, "servers": [{"agent": "lwsws-proxy", "url": url}],
           "cases": [c.strip() for c in cases.split(",") if c.strip()], "exclude-cases": [],
           "exclude-agent-cases": {}}, open(spec, "w"), indent=2)
PY
log "autobahn: fuzzingclient -> ws://127.0.0.1:$PX/lw/ cases=$AB_CASES (log $AB_OUT/wstest.log)"
t0=$(date +%s)
rc=0
(cd "$AB_OUT" && PYTHONHASHSEED=0 timeout -k 10 "$([ "$FULL" = 1 ] && echo 2700 || echo 300)" "$WSTEST" -m fuzzingclient \
  -s "$AB_OUT/fuzzingclient.json" >"$AB_OUT/wstest.log" 2>&1 </dev/null) || rc=$?
secs=$(($(date +%s) - t0))
[ "$rc" = 0 ] || fail autobahn-proxy-wstest "fuzzingclient exited $rc after $secs s: $(tail -n 3 "$AB_OUT/wstest.log" | tr '\n' ' ')"
python3 "$CONF_DIR/peers/autobahn_report.py" "$AB_OUT" lwsws-proxy autobahn-proxy "$AB_EXPECTED" >"$WORK/ab.report" 2>&1 || true
grep -v '^RESULT ' "$WORK/ab.report" || true
res="$(grep '^RESULT ' "$WORK/ab.report" | tail -n 1)"
if [[ "$res" =~ ^RESULT\ ([0-9]+)\ ([0-9]+)$ ]]; then
  N_PASS=$((N_PASS + BASH_REMATCH[1]))
  N_FAIL=$((N_FAIL + BASH_REMATCH[2]))
  if [ "${BASH_REMATCH[2]}" = 0 ]; then
    echo "PASS autobahn-proxy: all ${BASH_REMATCH[1]} cases OK through the proxy ($secs s; cases $AB_CASES; reports in $AB_OUT)"
  fi
else
  fail autobahn-proxy "report summary failed: $(tail -n 3 "$WORK/ab.report" | tr '\n' ' ')"
fi

# ---- shutdown -------------------------------------------------------------------------------------------------------
alive_check proxy proxy-alive
for s in proxy lworigin; do
  lwsws_stop "$s"
  expect_eq "$s-sigterm-exit-0" "$STOP_RC" 0
done
log "run time $(($(date +%s) - T_START)) s"
summary
