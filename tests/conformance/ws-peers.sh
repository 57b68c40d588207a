#!/usr/bin/env bash
# tests/conformance/ws-peers.sh — WebSocket interop with Python `websockets` (venv from 'install.sh pyws'):
#   as a client against `lwsws --docroot DIR` (lws-echo): text/binary echo, 1 MiB messages, with and without
#   permessage-deflate (negotiation checked in the response), subprotocol lws-echo; against the demo site:
#   dumb-increment-protocol counts/reset/closeme -> 1001 "seeya", lws-mirror-protocol reaches a second client,
#   lws-status JSON has "conns"; raw sockets: unmasked client frame -> close 1002, Sec-WebSocket-Version: 8 -> 426.
#   Reverse direction: ${LWS_WS_CLIENT_ECHO:-<repo>/target/release/minimal-ws-client-echo} (-p PORT -a AGENT,
#   Autobahn client protocol) against a Python websockets server; SKIP when that binary is missing.
# Env: LWSWS, LWS_WS_CLIENT_ECHO, LWS_PEERS_HOME. Prints PASS/FAIL lines and "N passed, M failed"; exits non-zero
# if anything failed.
set -euo pipefail
# shellcheck source=tests/conformance/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

PEERS_HOME="${LWS_PEERS_HOME:-$HOME/.cache/lws-peers}"
PY="$PEERS_HOME/venv/bin/python"
CLIENT="${LWS_WS_CLIENT_ECHO:-$REPO/target/release/minimal-ws-client-echo}"
DRIVER="$CONF_DIR/peers/ws_peers.py"

need_lwsws
need_cmd curl python3
[ -x "$PY" ] && "$PY" -c 'import websockets' 2>/dev/null ||
  die "python websockets venv not found at $PEERS_HOME/venv: run 'bash tests/conformance/install.sh pyws' (as root)"

# run_driver NAME ARGS...: the driver's PASS/FAIL lines are ours
run_driver() {
  local name="$1" out rc=0
  shift
  out="$WORK/$name.out"
  timeout -k 5 300 "$PY" "$DRIVER" "$@" >"$out" 2>&1 </dev/null || rc=$?
  cat "$out"
  N_PASS=$((N_PASS + $(grep -c '^PASS ' "$out" || true)))
  N_FAIL=$((N_FAIL + $(grep -c '^FAIL ' "$out" || true)))
  if [ "$rc" != 0 ] && ! grep -q '^FAIL ' "$out"; then
    fail "$name-driver" "ws_peers.py exited $rc"
  fi
}

WWW="$WORK/www"
mkdir -p "$WWW"
printf '<!DOCTYPE html>\n<html><head><title>ws-peers</title></head><body>ws-peers docroot</body></html>\n' \
  >"$WWW/index.html"
PE="$(free_port)"
lwsws_start echo --docroot "$WWW" --interface 127.0.0.1 --port "$PE"
PD="$(free_port)"
lwsws_start demo --interface 127.0.0.1 --port "$PD"
wait_http echo "http://127.0.0.1:$PE/"
wait_http demo "http://127.0.0.1:$PD/"

run_driver server server "$PE" "$PD"

alive_check echo echo-server-alive
alive_check demo demo-server-alive
lwsws_stop echo
expect_eq echo-sigterm-exit-0 "$STOP_RC" 0
lwsws_stop demo
expect_eq demo-sigterm-exit-0 "$STOP_RC" 0

if [ -x "$CLIENT" ]; then
  run_driver client client "$CLIENT"
else
  echo "SKIP client-vs-python-websockets: no client binary at $CLIENT (build minimal-ws-client-echo or set LWS_WS_CLIENT_ECHO)"
fi

summary
