#!/usr/bin/env bash
# usage: bench/lwsws-sut.sh LWSWS PORT_H1 PORT_TLS WWW CERT KEY THREADS
#   Runs lwsws as the benchmark's server under test with two vhosts from a generated config: PORT_H1 serves
#   HTTP/1.1, h2c (prior knowledge) and the lws-echo WebSocket protocol in cleartext; PORT_TLS serves the same
#   over TLS (ALPN h2, http/1.1). Both mount WWW at /. Execs lwsws, so the harness measures its process.
set -euo pipefail
LWSWS="$1" P1="$2" PT="$3" WWW="$4" CERT="$5" KEY="$6" THREADS="${7:-1}"
DIR="$(mktemp -d "${TMPDIR:-/tmp}/lwsws-sut.XXXXXX")"
mkdir -p "$DIR/conf.d"
mount='"mounts": [{"mountpoint": "/", "origin": "file://'"$WWW"'", "default": "index.html"}],
       "ws-protocols": [{"lws-echo": {"status": "ok"}}]'
cat >"$DIR/conf" <<JSON
{ "global": { "server-string": "lws-rs", "count-threads": "$THREADS" },
  "vhosts": [
    { "name": "localhost", "port": "$P1", "interface": "127.0.0.1", $mount },
    { "name": "localhost", "port": "$PT", "interface": "127.0.0.1",
      "host-ssl-cert": "$CERT", "host-ssl-key": "$KEY", "alpn": "h2,http/1.1", $mount }
  ] }
JSON
exec "$LWSWS" -c "$DIR"
