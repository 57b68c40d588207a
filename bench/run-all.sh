#!/usr/bin/env bash
# Side-by-side benchmark: install tools, build the anchors + load client, run everything.
#
#   run-all.sh                      # all anchors, 3 rounds x 10 s, 10k idle conns
#   run-all.sh --rounds 5           # extra args go to bench.py
#   run-all.sh --sut "name=lws-rs;h1=7781;cmd=/path/lwsws --port {port_h1} --interface 127.0.0.1 --docroot {www}"
#   NO_INSTALL=1 NO_BUILD=1 run-all.sh --only lws-c,lws-rs
#   run-all.sh --tests proxy_idle,proxy_bulk,proxy_pingpong --only haproxy,socat,sslh-fork,sslh-select
#   run-all.sh --tests hproxy_h1_1k,hproxy_h2c_1k --only nginx,h2o,haproxy   # HTTP reverse proxies (nginx origin)
#
# Builds happen in a writable copy ($LWS_BENCH_HOME, default ~/.cache/lws-bench), so this folder may be read-only.
# Results: $BENCH_OUT (default ./bench-results)/<stamp>/{summary.md,raw.jsonl,meta.json}
# Needs 2+ CPUs (server pinned to CPU 0, load generators to CPU 1; see --server-cpu/--client-cpu).
set -euo pipefail
SRC="$(cd "$(dirname "$0")" && pwd)"
export BENCH_OUT="${BENCH_OUT:-$PWD/bench-results}"
BENCH="${LWS_BENCH_HOME:-$HOME/.cache/lws-bench}"
mkdir -p "$BENCH"
(cd "$SRC" && tar --exclude=target --exclude=results -cf - .) | (cd "$BENCH" && tar -xf -)
chmod -R u+w "$BENCH"
cd "$BENCH"

if [ -z "${NO_INSTALL:-}" ]; then
  need=()
  # libnginx-mod-http-brotli-filter: the nginx anchor's brotli in the compression tests; brotli and zstd: the
  # command-line decoders that check the servers' br and zstd responses
  for p in nginx h2o libwebsockets-dev libwebsockets-test-server nghttp2-client wrk pkg-config openssl util-linux \
           libnginx-mod-http-brotli-filter brotli zstd; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  # nginx, h2o, wrk and h2load (nghttp2-client) also run the HTTP reverse proxy tests (hproxy_*: nginx is their
  # origin and a proxy under test, h2o another), with haproxy below as the third proxy (mode http).
  # raw TCP proxies for the proxy_* tests; without recommends (sslh's would pull in apache2)
  pneed=()
  for p in haproxy socat sslh; do
    dpkg -s "$p" >/dev/null 2>&1 || pneed+=("$p")
  done
  if [ ${#need[@]} -gt 0 ] || [ ${#pneed[@]} -gt 0 ]; then
    apt-get update -qq
  fi
  if [ ${#need[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  fi
  if [ ${#pneed[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pneed[@]}"
  fi
fi

if [ -z "${NO_BUILD:-}" ]; then
  gcc -O2 -Wall -o c/lws-bench-server c/lws-bench-server.c $(pkg-config --cflags --libs libwebsockets)
  # bench.py runs the binaries from each crate's own target/ (so ignore a CARGO_TARGET_DIR from the caller)
  (cd peers-rs && CARGO_TARGET_DIR=target cargo build --release -q)
  (cd wsload && CARGO_TARGET_DIR=target cargo build --release -q)
  (cd proxyload && CARGO_TARGET_DIR=target cargo build --release -q)
fi

exec python3 "$BENCH/bench.py" "$@"
