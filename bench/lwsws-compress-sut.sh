#!/usr/bin/env bash
# usage: bench/lwsws-compress-sut.sh LWSWS PORT WWW [LEVEL] [THREADS]
#   Runs lwsws as the server under test of the compression tests (bench.py gzip_100k, br_100k, zstd_100k, h1_idle,
#   h1_idle_gz): one cleartext vhost on PORT (HTTP/1.1) mounting WWW at /, compression on (lwsws's default) with
#   "compression-level": LEVEL (default 6: gzip 6, brotli quality 6, zstd level 6, the level of the nginx and h2o
#   anchors; lwsws's own defaults are gzip 6, brotli 5, zstd 3), keep-alive idle timeout 65 s like the anchors'
#   (lwsws's default is 5 s, shorter than the idle memory tests take to open their connections). One service
#   thread by default. Execs lwsws, so the harness measures its process.
set -euo pipefail
LWSWS="$1" P="$2" WWW="$3" LEVEL="${4:-6}" THREADS="${5:-1}"
DIR="$(mktemp -d "${TMPDIR:-/tmp}/lwsws-compress.XXXXXX")"
mkdir -p "$DIR/conf.d"
cat >"$DIR/conf" <<JSON
{ "global": { "server-string": "lws-rs", "count-threads": "$THREADS" },
  "vhosts": [
    { "name": "localhost", "port": "$P", "interface": "127.0.0.1", "keepalive_timeout": "65",
      "compression": "1", "compression-level": "$LEVEL",
      "mounts": [{"mountpoint": "/", "origin": "file://$WWW", "default": "index.html"}] }
  ] }
JSON
exec "$LWSWS" -c "$DIR"
