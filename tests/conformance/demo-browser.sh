#!/usr/bin/env bash
# tests/conformance/demo-browser.sh — headless Chromium loads the lwsws demo site over HTTP/1.1 on loopback, then
# over HTTPS where ALPN picks HTTP/2 (and the WebSockets run over h2 streams, RFC 8441, when Chromium does it):
# #proto says HTTP/1.1, no CSP violation or JS error on any page, styles and images load, the urlencoded and the
# multipart (file upload) forms post to /formtest and the results come back HTML-escaped; the WebSocket panels work:
# dumb-increment counter (runs, survives junk, resets, closeme -> 1001 "seeya", reconnect, permessage-deflate),
# lws-mirror-protocol (a mouse stroke on the canvas comes back to the page and to a second member, no pmd) and
# lws-status (lists a second status connection, drops it on close).
# Env LWSWS (default <repo>/target/release/lwsws), CHROMIUM, CHROMIUM_EXTRA.
# Prints PASS/FAIL lines and "N passed, M failed"; exits non-zero if anything failed.
set -euo pipefail
# shellcheck source=tests/conformance/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

need_lwsws
need_cmd curl python3 openssl
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "${CHROMIUM:-}" ] ||
  die "chromium not found: run 'bash tests/conformance/install.sh chromium' (as root)"

UPLOAD="$WORK/browser-upload.txt"
head -c 4321 /dev/zero | tr '\0' 'z' >"$UPLOAD"

# browse NAME BASE_URL EXPECT_PROTO: one full pass of the demo checks, lines prefixed with NAME
browse() {
  local name="$1" base="$2" proto="$3" out="$WORK/browser-$1.out" rc=0
  timeout 180 python3 "$CONF_DIR/peers/demo_browser.py" "$base" "$proto" "$UPLOAD" >"$out" 2>&1 || rc=$?
  sed -e "s/^PASS /PASS $name\//" -e "s/^FAIL /FAIL $name\//" "$out"
  N_PASS=$((N_PASS + $(grep -c '^PASS ' "$out" || true)))
  N_FAIL=$((N_FAIL + $(grep -c '^FAIL ' "$out" || true)))
  if [ "$rc" != 0 ] && ! grep -q '^FAIL ' "$out"; then
    fail "$name/browser-driver" "demo_browser.py exited $rc"
  fi
}

P="$(free_port)"
lwsws_start demo --interface 127.0.0.1 --port "$P"
wait_http demo "http://127.0.0.1:$P/"
browse h1 "http://127.0.0.1:$P" HTTP/1.1
alive_check demo demo-alive
lwsws_stop demo
expect_eq demo-sigterm-exit-0 "$STOP_RC" 0

# HTTPS: Chromium speaks h2 only over TLS with ALPN; the self-signed certificate is accepted by flag.
make_test_cert
PT="$(free_port)"
lwsws_start demo-tls --interface 127.0.0.1 --port "$PT" --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"
wait_http demo-tls "https://127.0.0.1:$PT/" -k
CHROMIUM_EXTRA="${CHROMIUM_EXTRA:-} --ignore-certificate-errors" browse h2 "https://127.0.0.1:$PT" HTTP/2
alive_check demo-tls demo-tls-alive
lwsws_stop demo-tls
expect_eq demo-tls-sigterm-exit-0 "$STOP_RC" 0

summary
