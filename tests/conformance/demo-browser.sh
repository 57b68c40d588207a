#!/usr/bin/env bash
# tests/conformance/demo-browser.sh — headless Chromium loads the lwsws demo site over HTTP/1.1 on loopback:
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
need_cmd curl python3
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "${CHROMIUM:-}" ] ||
  die "chromium not found: run 'bash tests/conformance/install.sh chromium' (as root)"

P="$(free_port)"
lwsws_start demo --interface 127.0.0.1 --port "$P"
wait_http demo "http://127.0.0.1:$P/"

UPLOAD="$WORK/browser-upload.txt"
head -c 4321 /dev/zero | tr '\0' 'z' >"$UPLOAD"

OUT="$WORK/browser.out"
rc=0
timeout 180 python3 "$CONF_DIR/peers/demo_browser.py" "http://127.0.0.1:$P" HTTP/1.1 "$UPLOAD" >"$OUT" 2>&1 || rc=$?
cat "$OUT"
N_PASS=$((N_PASS + $(grep -c '^PASS ' "$OUT" || true)))
N_FAIL=$((N_FAIL + $(grep -c '^FAIL ' "$OUT" || true)))
if [ "$rc" != 0 ] && ! grep -q '^FAIL ' "$OUT"; then
  fail browser-driver "demo_browser.py exited $rc"
fi

alive_check demo demo-alive
lwsws_stop demo
expect_eq demo-sigterm-exit-0 "$STOP_RC" 0

summary
