#!/usr/bin/env bash
# tests/conformance/h1-load.sh — HTTP/1.1 under load (h2load --h1) and the demo site's HTTP behaviour (curl, raw
# sockets). Loopback only; env LWSWS (default <repo>/target/release/lwsws), H1_LOAD_N (default 100000).
# Prints PASS/FAIL lines and "N passed, M failed"; exits non-zero if anything failed.
set -euo pipefail
# shellcheck source=tests/conformance/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

need_lwsws
need_cmd curl h2load python3
RAW=(python3 "$CONF_DIR/rawhttp.py")
N="${H1_LOAD_N:-100000}"

# ---- 1. file mount (--docroot) under load --------------------------------------------------------------------
WWW="$WORK/www"
mkdir -p "$WWW"
head -c 1023 /dev/zero | tr '\0' 'a' >"$WWW/1k.txt"
echo >>"$WWW/1k.txt"
printf '<!DOCTYPE html>\n<html><head><title>docroot</title></head><body>docroot index</body></html>\n' \
  >"$WWW/index.html"

P1="$(free_port)"
lwsws_start docroot --docroot "$WWW" --interface 127.0.0.1 --port "$P1"
wait_http docroot "http://127.0.0.1:$P1/"
B1="http://127.0.0.1:$P1"

fetch d-1k "$B1/1k.txt"
if [ "$(code_of d-1k)" = 200 ] && cmp -s "$WORK/d-1k.body" "$WWW/1k.txt"; then pass docroot-get-1k
else fail docroot-get-1k "status $(code_of d-1k), $(stat -c %s "$WORK/d-1k.body") bytes"; fi
fetch d-index "$B1/"
if [ "$(code_of d-index)" = 200 ] && grep -q 'docroot index' "$WORK/d-index.body"; then pass docroot-default-index
else fail docroot-default-index "GET / -> status $(code_of d-index)"; fi

H2LOAD_TIMEOUT=300 h2load_expect "h2load-h1-c100-n$N" "$N" --h1 -c 100 "$B1/1k.txt"
H2LOAD_TIMEOUT=300 h2load_expect "h2load-h1-c1-n$N" "$N" --h1 -c 1 "$B1/1k.txt"
alive_check docroot docroot-alive-after-load

# the file mount must never serve files outside its root
traversal_check() { # NAME BASE
  local bad=() p
  for p in '/../../../../etc/passwd' '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd' '/..%2f..%2f..%2f..%2fetc/passwd' \
    '/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc/passwd' '/./.././../../etc/passwd' '//../../../../etc/passwd' \
    '/1k.txt/../../../../etc/passwd'; do
    "${CURL[@]}" --path-as-is -o "$WORK/traversal.body" "$2$p" || true
    if grep -q '^root:' "$WORK/traversal.body" 2>/dev/null; then bad+=("$p"); fi
    rm -f "$WORK/traversal.body"
  done
  if [ ${#bad[@]} -eq 0 ]; then pass "$1"; else fail "$1" "served /etc/passwd for: ${bad[*]}"; fi
}
traversal_check docroot-no-traversal "$B1"

fetch d-etag "$B1/1k.txt"
ETAG="$(header_of d-etag etag)"
if [ -n "$ETAG" ] && [ "$(http_code "$B1/1k.txt" -H "If-None-Match: $ETAG")" = 304 ]; then pass docroot-etag-304
else fail docroot-etag-304 "etag '${ETAG}'"; fi

lwsws_stop docroot
expect_eq docroot-sigterm-exit-0 "$STOP_RC" 0

# ---- 2. --port 0: the startup line names the real port ------------------------------------------------------
lwsws_start port0 --interface 127.0.0.1 --port 0
if P0="$(wait_log_port port0)" && [ "$P0" != 0 ] &&
  [ "$(http_code "http://127.0.0.1:$P0/")" = 200 ]; then
  pass "port-0-prints-serving-url (port $P0)"
else
  fail port-0-prints-serving-url "no 'lwsws: serving http://localhost:PORT/' line with a live port; log: \
$(head -3 "$WORK/port0.log" | tr '\n' ' ')"
fi
lwsws_stop port0

# ---- 3. the built-in demo site -------------------------------------------------------------------------------
P2="$(free_port)"
lwsws_start demo --interface 127.0.0.1 --port "$P2"
wait_http demo "http://127.0.0.1:$P2/"
B2="http://127.0.0.1:$P2"

CSP="default-src 'none'; img-src 'self' data: ; script-src 'self'; font-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none';form-action 'self';"

fetch root "$B2/"
expect_eq demo-get-root-200 "$(code_of root)" 200
expect_eq demo-root-csp "$(header_of root content-security-policy)" "$CSP"
sec_bad=()
[ "$(header_of root x-content-type-options)" = nosniff ] || sec_bad+=(x-content-type-options)
[ "$(header_of root x-xss-protection)" = "1; mode=block" ] || sec_bad+=(x-xss-protection)
[ "$(header_of root x-frame-options | tr 'A-Z' 'a-z')" = deny ] || sec_bad+=(x-frame-options)
[ "$(header_of root referrer-policy)" = no-referrer ] || sec_bad+=(referrer-policy)
if [ ${#sec_bad[@]} -eq 0 ]; then pass demo-root-security-headers
else fail demo-root-security-headers "missing or wrong: ${sec_bad[*]}"; fi
case "$(header_of root content-type)" in
  text/html*) pass demo-root-text-html ;;
  *) fail demo-root-text-html "content-type '$(header_of root content-type)'" ;;
esac
if grep -q '<title>lws-rs demo</title>' "$WORK/root.body"; then pass demo-root-is-demo-page
else fail demo-root-is-demo-page "no '<title>lws-rs demo</title>' in GET / body"; fi

# every same-origin asset the page references is served with a fitting type
assets_bad=()
ASSETS="$(grep -o '\(src\|href\)="/[^"]*"' "$WORK/root.body" | sed 's/^[a-z]*="//; s/"$//' | sort -u || true)"
for a in $ASSETS; do
  fetch asset "$B2$a"
  ct="$(header_of asset content-type)"
  want=""
  case "$a" in
    *.js) want='^(application|text)/javascript' ;;
    *.css) want='^text/css' ;;
    *.svg) want='^image/svg\+xml' ;;
    *.ico) want='^image/(x-icon|vnd\.microsoft\.icon)' ;;
    *.html | */) want='^text/html' ;;
  esac
  if [ "$(code_of asset)" != 200 ] || { [ -n "$want" ] && ! [[ "$ct" =~ $want ]]; }; then
    assets_bad+=("$a:$(code_of asset):$ct")
  fi
done
if [ ${#assets_bad[@]} -eq 0 ]; then pass demo-assets-served
else fail demo-assets-served "${assets_bad[*]}"; fi

fetch js "$B2/demo.js"
if [ "$(code_of js)" = 200 ] && [[ "$(header_of js content-type)" =~ ^(application|text)/javascript ]]; then
  pass demo-js-200-javascript
else fail demo-js-200-javascript "status $(code_of js), content-type '$(header_of js content-type)'"; fi

# HEAD: same Content-Length as GET, no body (checked on one connection: a body would corrupt the next response)
GET_LEN="$(stat -c %s "$WORK/root.body")"
if out="$("${RAW[@]}" 127.0.0.1 "$P2" HEAD:/ GET:/ 2>&1)"; then
  head_line="$(sed -n 1p <<<"$out")"
  get_line="$(sed -n 2p <<<"$out")"
  if [[ "$head_line" == "STATUS 200 CL $GET_LEN BODY 0 "* ]] && [[ "$get_line" == "STATUS 200 CL $GET_LEN BODY $GET_LEN "* ]]; then
    pass demo-head-no-body
  else fail demo-head-no-body "HEAD: '$head_line'; GET: '$get_line' (GET length $GET_LEN)"; fi
else fail demo-head-no-body "$(tr '\n' ' ' <<<"$out")"; fi

fetch nope "$B2/nope"
case "$(code_of nope) $(header_of nope content-type)" in
  "404 text/html"*) pass demo-404-html ;;
  *) fail demo-404-html "status $(code_of nope), content-type '$(header_of nope content-type)'" ;;
esac
expect_eq demo-404-csp "$(header_of nope content-security-policy)" "$CSP"

ETAG="$(header_of root etag)"
if [ -z "$ETAG" ]; then fail demo-etag-304 "GET / has no ETag"
else
  fetch inm "$B2/" -H "If-None-Match: $ETAG"
  if [ "$(code_of inm)" = 304 ] && [ ! -s "$WORK/inm.body" ]; then pass demo-etag-304
  else fail demo-etag-304 "If-None-Match $ETAG -> $(code_of inm), $(stat -c %s "$WORK/inm.body") body bytes"; fi
fi

fetch range "$B2/" -H 'Range: bytes=0-9'
if [ "$(code_of range)" = 206 ] && [ "$(stat -c %s "$WORK/range.body")" = 10 ] &&
  cmp -s "$WORK/range.body" <(head -c 10 "$WORK/root.body") &&
  [ "$(header_of range content-range)" = "bytes 0-9/$GET_LEN" ]; then
  pass demo-range-206
else
  fail demo-range-206 "status $(code_of range), $(stat -c %s "$WORK/range.body") bytes, content-range \
'$(header_of range content-range)'"
fi

# POST urlencoded: values come back HTML-escaped
fetch post "$B2/formtest" --data 'text=<b>hi</b>&send=Send'
if [ "$(code_of post)" = 200 ] && grep -qF '&lt;b&gt;hi&lt;/b&gt;' "$WORK/post.body" &&
  ! grep -qF '<b>hi</b>' "$WORK/post.body" && grep -q 'id="form-results"' "$WORK/post.body"; then
  pass demo-post-urlencoded-escaped
else
  fail demo-post-urlencoded-escaped "status $(code_of post); body: $(head -c 300 "$WORK/post.body" | tr '\n' ' ')"
fi
expect_eq demo-post-csp "$(header_of post content-security-policy)" "$CSP"

# POST multipart with a file
UP="$WORK/upload-sample.txt"
head -c 1234 /dev/zero | tr '\0' 'u' >"$UP"
fetch mp "$B2/formtest" -F text=x -F "file=@$UP" -F upload=Upload
if [ "$(code_of mp)" = 200 ] && grep -q 'id="file-result"' "$WORK/mp.body" &&
  sed -n '/id="file-result"/,/<\/p>/p' "$WORK/mp.body" | grep -q 'upload-sample\.txt' &&
  sed -n '/id="file-result"/,/<\/p>/p' "$WORK/mp.body" | grep -q '1234'; then
  pass demo-post-multipart-file
else
  fail demo-post-multipart-file "status $(code_of mp); body: $(head -c 400 "$WORK/mp.body" | tr '\n' ' ')"
fi

BIG="$WORK/too-big.bin"
head -c 100001 /dev/zero >"$BIG"
expect_eq demo-post-file-too-big-413 "$(http_code "$B2/formtest" -F text=x -F "file=@$BIG" -F upload=Upload)" 413

traversal_check demo-no-traversal "$B2"

# pipelining: two requests written at once on one connection, two 200 responses in order
if out="$("${RAW[@]}" 127.0.0.1 "$P2" GET:/ GET:/demo.css 2>&1)" &&
  [[ "$(sed -n 1p <<<"$out")" == "STATUS 200 "*"CT text/html"* ]] &&
  [[ "$(sed -n 2p <<<"$out")" == "STATUS 200 "*"CT text/css"* ]]; then
  pass demo-pipelining
else fail demo-pipelining "$(tr '\n' ' ' <<<"$out")"; fi

# raw_first_line PORT BYTES: what the server answers to BYTES (printf format) on a fresh connection: its first
# line, or "closed" when it closes without a byte
raw_first_line() {
  python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
got = b""
while b"\r\n" not in got:
    d = s.recv(4096)
    if not d:
        break
    got += d
print(got.split(b"\r\n")[0].decode("latin-1") if got else "closed")
PY
}
# A protocol name that is not HTTP is a malformed request (400), never 505; a real HTTP/x.y we do not speak is
# 505. Bytes that are neither HTTP/1 nor the h2 preface, on this port that takes h2c prior knowledge, get no
# HTTP/1 answer (an HTTP/2 client would read it as a broken frame): the connection is closed.
expect_eq demo-protocol-not-http-400 "$(raw_first_line "$P2" 'GET / FOO/1.1\r\nHost: x\r\n\r\n')" \
  "HTTP/1.1 400 Bad Request"
expect_eq demo-http-9.9-505 "$(raw_first_line "$P2" 'GET / HTTP/9.9\r\nHost: x\r\n\r\n')" \
  "HTTP/1.1 505 HTTP Version Not Supported"
expect_eq demo-garbage-closed-without-answer "$(raw_first_line "$P2" 'INVALID CONNECTION PREFACE\r\n\r\n')" closed
expect_eq demo-broken-preface-closed-without-answer \
  "$(raw_first_line "$P2" 'PRI * HTTP/2.0\r\n\r\nXY\r\n\r\n')" closed

alive_check demo demo-alive
lwsws_stop demo
expect_eq demo-sigterm-exit-0 "$STOP_RC" 0

summary
