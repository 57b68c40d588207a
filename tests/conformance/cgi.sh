#!/usr/bin/env bash
# tests/conformance/cgi.sh — lwsws CGI mounts (cgi:// origins) driven by curl on loopback, with a POSIX shell script
# and a Python 3 script as the CGIs:
#   the environment (RFC 3875 meta-variables, HTTP_* fields, no HTTP_PROXY, cgi-env, nothing of the server's own),
#   PATH_INFO and SCRIPT_NAME for a directory origin and a script origin, Status and extra fields, redirects
#   (absolute: 302; local: served by the server as a GET), POST bodies of 8 MiB with a length and streamed without one (chunked on
#   HTTP/1.1), sha256 compared, HTTP/2 (h2c prior knowledge), no Content-Type (502), garbage heads (502), a
#   crash after the head (curl reports a transfer error, never success), cgi-timeout (504, the process gone),
#   the vhost's cgi-max-processes (503 with Retry-After), paths outside the origin (never run), and lwsws still
#   serving at the end.
# Env overrides: CGI_MIB (upload size, default 8), LWSWS (default <repo>/target/release/lwsws).
# Needs 'install.sh curl python' (python3 is also the second CGI's interpreter).
# Prints PASS/FAIL lines and "N passed, M failed"; exits non-zero if anything failed.
set -euo pipefail
# shellcheck source=tests/conformance/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

for arg in "$@"; do
  die "unknown argument '$arg' (usage: cgi.sh)"
done
MIB="${CGI_MIB:-8}"

need_lwsws
need_cmd curl python3 sha256sum timeout
[ -x /usr/bin/python3 ] || die "/usr/bin/python3 not found (CGIs get PATH=/usr/local/bin:/usr/bin:/bin)"

# ---- scripts --------------------------------------------------------------------------------------------------------
BIN="$WORK/cgi-bin"
mkdir -p "$BIN/sub" "$WORK/outside"
script() { # FILE, body on stdin
  cat >"$1"
  chmod 755 "$1"
}
script "$BIN/env.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\r\nX-Cgi: shell\r\n\r\n'
env | sort
SH
script "$BIN/env.py" <<'PY'
#!/usr/bin/env python3
import hashlib, json, os, sys
body = sys.stdin.buffer.read() if os.environ.get("REQUEST_METHOD") == "POST" else b""
out = {"env": dict(os.environ), "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
sys.stdout.write("Content-Type: application/json\r\n\r\n")
sys.stdout.write(json.dumps(out))
PY
script "$BIN/echo.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: application/octet-stream\n\n'
exec cat
SH
script "$BIN/status.sh" <<'SH'
#!/bin/sh
printf 'Status: 404 Not Found\nContent-Type: text/plain\nX-Reason: none here\n\nnothing here\n'
SH
script "$BIN/abs.sh" <<'SH'
#!/bin/sh
printf 'Location: https://example.com/landing\n\n'
SH
script "$BIN/local.py" <<'PY'
#!/usr/bin/env python3
print("Location: /cgi/env.sh/after-redirect", end="\r\n\r\n")
PY
script "$BIN/notype.sh" <<'SH'
#!/bin/sh
printf 'X-Only: this\n\nbody without a type\n'
SH
script "$BIN/garbage.sh" <<'SH'
#!/bin/sh
printf 'this is not a header line\n\n'
SH
script "$BIN/crash.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\n\nhalf a document'
kill -SEGV $$
SH
script "$BIN/hang.sh" <<SH
#!/bin/sh
echo \$\$ > "$WORK/hang.pid"
exec sleep 600
SH
script "$BIN/slow.sh" <<SH
#!/bin/sh
echo \$\$ > "$WORK/slow.pid"
printf 'Content-Type: text/plain\n\nstarted\n'
# A tick every 0.2 s: HTTP/1.1 cannot tell a client that left from one that half-closed, so the server notices
# the departure when a write fails.
while :; do echo tick; sleep 0.2; done
SH
script "$BIN/sub/deep.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\n\n%s|%s\n' "$SCRIPT_NAME" "$PATH_INFO"
SH
script "$WORK/outside/evil.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\n\nEVIL\n'
SH
ln -s "$WORK/outside/evil.sh" "$BIN/escape.sh"
head -c $((MIB << 20)) /dev/urandom >"$WORK/upload.bin"
UP_SHA="$(sha256sum "$WORK/upload.bin" | cut -d' ' -f1)"

# ---- server ---------------------------------------------------------------------------------------------------------
P="$(free_port)" PC="$(free_port)"
lwsws_conf cgi <<EOF
{ "vhosts": [{
    "name": "localhost", "port": "$P", "interface": "127.0.0.1",
    "mounts": [{
      "mountpoint": "/cgi", "origin": "cgi://$BIN", "cgi-timeout": "2",
      "cgi-env": [{ "CONF_VAR": "from-cgi-env" }]
    }, {
      "mountpoint": "/one", "origin": "cgi://$BIN/sub/deep.sh"
    }]
  }, {
    "name": "capped", "port": "$PC", "interface": "127.0.0.1", "cgi-max-processes": "1",
    "mounts": [{ "mountpoint": "/cgi", "origin": "cgi://$BIN", "cgi-timeout": "30" }]
  }]
}
EOF
U="http://127.0.0.1:$P"
UC="http://127.0.0.1:$PC"
wait_http cgi "$U/cgi/env.sh"
wait_http cgi "$UC/cgi/env.sh"

# ---- environment ----------------------------------------------------------------------------------------------------
fetch env "$U/cgi/env.sh/a/b?x=1&y=2" -H 'X-Test: yes' -H 'Proxy: http://evil.example:3128' -H 'Cookie: k=v'
expect_eq env-status "$(code_of env)" 200
expect_eq env-field "$(header_of env X-Cgi)" shell
for want in GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 REQUEST_METHOD=GET "QUERY_STRING=x=1&y=2" \
  PATH_INFO=/a/b SCRIPT_NAME=/cgi/env.sh "SERVER_PORT=$P" REMOTE_ADDR=127.0.0.1 HTTP_X_TEST=yes HTTP_COOKIE=k=v \
  CONF_VAR=from-cgi-env "SCRIPT_FILENAME=$BIN/env.sh" "SCRIPT_PATH=$BIN/env.sh" \
  "REQUEST_URI=/cgi/env.sh/a/b?x=1&y=2" PATH=/usr/local/bin:/usr/bin:/bin; do
  check "env-has-${want%%=*}" grep -qxF "$want" "$WORK/env.body"
done
check env-no-HTTP_PROXY bash -c "! grep -q '^HTTP_PROXY=' '$WORK/env.body'"
check env-no-server-variables bash -c "! grep -qE '^(HOME|USER|LWSWS|CARGO|RUST)' '$WORK/env.body'"

fetch envpy "$U/cgi/env.py?lang=python"
expect_eq python-status "$(code_of envpy)" 200
expect_eq python-type "$(header_of envpy Content-Type)" application/json
expect_eq python-query "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["env"]["QUERY_STRING"])' \
  "$WORK/envpy.body" 2>/dev/null || echo none)" lang=python

fetch deep "$U/cgi/sub/deep.sh/x/y"
expect_eq dir-origin-split "$(cat "$WORK/deep.body")" "/cgi/sub/deep.sh|/x/y"
fetch one "$U/one/p/q"
expect_eq script-origin-split "$(cat "$WORK/one.body")" "/one|/p/q"
fetch bare "$U/one"
expect_eq script-origin-bare-mountpoint "$(code_of bare) $(cat "$WORK/bare.body")" "200 /one|"

# ---- head: status, redirects, bad heads -----------------------------------------------------------------------------
fetch status "$U/cgi/status.sh"
expect_eq status-404 "$(code_of status) $(header_of status X-Reason)" "404 none here"
fetch abs "$U/cgi/abs.sh"
expect_eq redirect-absolute "$(code_of abs) $(header_of abs Location)" "302 https://example.com/landing"
# A local redirect (RFC 3875 6.2.2) is served by the server: no Location reaches the client.
fetch local "$U/cgi/local.py" -X POST --data-binary 'ignored body' -H 'Cookie: k=v'
expect_eq redirect-local-served-internally "$(code_of local) $(header_of local Location)" "200 "
check redirect-local-is-a-get grep -qxF REQUEST_METHOD=GET "$WORK/local.body"
check redirect-local-path-info grep -qxF PATH_INFO=/after-redirect "$WORK/local.body"
check redirect-local-keeps-fields grep -qxF HTTP_COOKIE=k=v "$WORK/local.body"
fetch local-h2 "$U/cgi/local.py" --http2-prior-knowledge
check redirect-local-h2 grep -qxF PATH_INFO=/after-redirect "$WORK/local-h2.body"
expect_eq no-content-type-502 "$(http_code "$U/cgi/notype.sh")" 502
expect_eq garbage-head-502 "$(http_code "$U/cgi/garbage.sh")" 502
rc=0
curl -s --noproxy '*' --max-time 10 -o /dev/null "$U/cgi/crash.sh" || rc=$?
if [ "$rc" != 0 ]; then pass "crash-after-head-is-a-transfer-error (curl exit $rc)"; else
  fail crash-after-head-is-a-transfer-error "curl reported success for a body the script never finished"; fi

# ---- bodies ---------------------------------------------------------------------------------------------------------
got="$(curl -s --noproxy '*' --max-time 60 --http1.1 -X POST --data-binary @"$WORK/upload.bin" "$U/cgi/echo.sh" |
  sha256sum | cut -d' ' -f1)"
expect_eq "post-${MIB}MiB-echoed" "$got" "$UP_SHA"
got="$(curl -s --noproxy '*' --max-time 60 --http1.1 -X POST -H 'Transfer-Encoding: chunked' -T - \
  "$U/cgi/env.py" <"$WORK/upload.bin" |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["sha256"], d["bytes"])' 2>/dev/null || echo none)"
expect_eq "post-${MIB}MiB-chunked-to-python" "$got" "$UP_SHA $((MIB << 20))"
got="$(curl -s --noproxy '*' --max-time 60 --http2-prior-knowledge -X POST --data-binary @"$WORK/upload.bin" \
  "$U/cgi/echo.sh" | sha256sum | cut -d' ' -f1)"
expect_eq "h2c-post-${MIB}MiB-echoed" "$got" "$UP_SHA"
fetch h2env "$U/cgi/env.sh" --http2-prior-knowledge
check h2c-env grep -qxF SERVER_PROTOCOL=HTTP/2.0 "$WORK/h2env.body"

# ---- timeout, cap, outside the origin -------------------------------------------------------------------------------
t0=$(date +%s%N)
code="$(http_code "$U/cgi/hang.sh")"
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$code" = 504 ] && [ "$ms" -lt 6000 ]; then pass "timeout-504 (${ms} ms, cgi-timeout 2 s)"; else
  fail timeout-504 "status $code after $ms ms"; fi
pid="$(cat "$WORK/hang.pid" 2>/dev/null || echo 0)"
if _wait_gone "$pid" 50; then pass timeout-killed-the-script; else fail timeout-killed-the-script "pid $pid alive"; fi

curl -s --noproxy '*' --max-time 60 -o "$WORK/slow.body" "$UC/cgi/slow.sh" &
SLOW_CURL=$!
wait_for cgi "start slow.sh" test -s "$WORK/slow.pid"
fetch capped "$UC/cgi/env.sh"
expect_eq cap-503 "$(code_of capped) $(header_of capped Retry-After)" "503 5"
kill "$SLOW_CURL" 2>/dev/null || true
wait "$SLOW_CURL" 2>/dev/null || true
pid="$(cat "$WORK/slow.pid")"
if _wait_gone "$pid" 50; then pass client-gone-killed-the-script; else fail client-gone-killed-the-script "pid $pid"; fi
_serves_again() { [ "$(http_code "$UC/cgi/env.sh")" = 200 ]; }
wait_for cgi "free the CGI slot" _serves_again
pass cap-slot-freed

for path in /cgi/escape.sh /cgi/../outside/evil.sh /cgi/%2e%2e/outside/evil.sh /cgi/sub /cgi/missing.sh; do
  fetch outside "$U$path" --path-as-is
  code="$(code_of outside)"
  if [[ "$code" =~ ^(400|403|404)$ ]] && ! grep -q EVIL "$WORK/outside.body"; then pass "refused $path ($code)"; else
    fail "refused $path" "status $code: $(head -c 80 "$WORK/outside.body")"; fi
done

alive_check cgi lwsws-still-serving
expect_eq final-request "$(http_code "$U/cgi/sub/deep.sh")" 200
summary
