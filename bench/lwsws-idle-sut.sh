#!/usr/bin/env bash
# usage: bench/lwsws-idle-sut.sh LWSWS PORT PORT_TLS WWW CERT KEY [THREADS]
#   Runs lwsws as the server under test of the idle connection tests (bench.py idle_h1, idle_h2c, idle_h1tls,
#   idle_h2tls): the two vhosts of lwsws-sut.sh (PORT: HTTP/1.1 and h2c with prior knowledge; PORT_TLS: the same
#   over TLS, ALPN h2 and http/1.1; WWW mounted at /) with the idle timeouts of the nginx and h2o anchors:
#   "keepalive_timeout": 65 (lwsws's default of 5 s is shorter than opening 10,000 connections takes) and
#   "h2-idle-timeout": 65 (default 30). Its own process, restarted by bench.py before every idle test. One service
#   thread by default. Execs lwsws, so the harness measures its process.
set -euo pipefail
LWSWS="$1" P1="$2" PT="$3" WWW="$4" CERT="$5" KEY="$6" THREADS="${7:-1}"
DIR="$(mktemp -d "${TMPDIR:-/tmp}/lwsws-idle.XXXXXX")"
mkdir -p "$DIR/conf.d"
common='"interface": "127.0.0.1", "keepalive_timeout": "65", "h2-idle-timeout": "65",
       "mounts": [{"mountpoint": "/", "origin": "file://'"$WWW"'", "default": "index.html"}]'
cat >"$DIR/conf" <<JSON
{ "global": { "server-string": "lws-rs", "count-threads": "$THREADS" },
  "vhosts": [
    { "name": "localhost", "port": "$P1", $common },
    { "name": "localhost", "port": "$PT", "host-ssl-cert": "$CERT", "host-ssl-key": "$KEY", "alpn": "h2,http/1.1",
      $common }
  ] }
JSON
exec "$LWSWS" -c "$DIR"
