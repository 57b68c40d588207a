#!/usr/bin/env bash
# usage: bench/lwsws-proxy-sut.sh LWSWS PORT BACKEND_PORT [THREADS] [SPLICE]
#   Runs lwsws as the raw TCP proxy under test (bench.py proxy_* tests): one raw vhost on 127.0.0.1:PORT whose
#   every accepted connection goes to the raw-proxy protocol, forwarding to 127.0.0.1:BACKEND_PORT. The config is
#   libwebsockets' lwsws JSON (DIR/conf + DIR/conf.d/proxy), one service thread. Execs lwsws, so the harness
#   measures its process. SPLICE (default 1) is the raw-proxy pvo `splice`: 0 keeps bulk data on read/write.
set -euo pipefail
LWSWS="$1" PORT="$2" BACKEND="$3" THREADS="${4:-1}" SPLICE="${5:-1}"
DIR="$(mktemp -d "${TMPDIR:-/tmp}/lwsws-proxy.XXXXXX")"
mkdir -p "$DIR/conf.d"
cat >"$DIR/conf" <<JSON
{"global": {"count-threads": "$THREADS"}}
JSON
cat >"$DIR/conf.d/proxy" <<JSON
{"vhosts": [{"name": "proxy", "port": "$PORT", "interface": "127.0.0.1",
  "apply-listen-accept": "1", "listen-accept-role": "raw-proxy", "listen-accept-protocol": "raw-proxy",
  "ws-protocols": [{"raw-proxy": {"onward": "ipv4:127.0.0.1:$BACKEND", "splice": "$SPLICE"}}]}]}
JSON
exec "$LWSWS" -c "$DIR"
