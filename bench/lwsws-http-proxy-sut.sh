#!/usr/bin/env bash
# usage: bench/lwsws-http-proxy-sut.sh LWSWS PORT PORT_TLS ORIGIN_PORT CERT KEY [THREADS] [MAX_CONNS]
#   Runs lwsws as the HTTP reverse proxy under test (bench.py hproxy_* tests): two vhosts whose mount `/` has the
#   origin http://127.0.0.1:ORIGIN_PORT/ (the harness's nginx origin), so every request goes there over pooled
#   keep-alive HTTP/1.1 connections. PORT serves HTTP/1.1 and h2c (prior knowledge) in cleartext, PORT_TLS the
#   same over TLS (ALPN h2, http/1.1). One service thread by default; MAX_CONNS is the mount's
#   proxy-max-connections (origin connections per service thread, default 256). Execs lwsws, so the harness
#   measures its process.
set -euo pipefail
LWSWS="$1" P1="$2" PT="$3" ORIGIN="$4" CERT="$5" KEY="$6" THREADS="${7:-1}" MAXC="${8:-256}"
DIR="$(mktemp -d "${TMPDIR:-/tmp}/lwsws-http-proxy.XXXXXX")"
mkdir -p "$DIR/conf.d"
mount='"mounts": [{"mountpoint": "/", "origin": "http://127.0.0.1:'"$ORIGIN"'/",
                   "proxy-max-connections": "'"$MAXC"'"}]'
cat >"$DIR/conf" <<JSON
{ "global": { "server-string": "lws-rs", "count-threads": "$THREADS" },
  "vhosts": [
    { "name": "localhost", "port": "$P1", "interface": "127.0.0.1", $mount },
    { "name": "localhost", "port": "$PT", "interface": "127.0.0.1",
      "host-ssl-cert": "$CERT", "host-ssl-key": "$KEY", "alpn": "h2,http/1.1", $mount }
  ] }
JSON
exec "$LWSWS" -c "$DIR"
