#!/usr/bin/env bash
# usage: bench/run.sh [--threads2 | --proxy | --http-proxy | --compression | --scale] [bench.py args...]
#   Builds lwsws (release) from this repo, then runs the side-by-side harness (run-all.sh) with lwsws as the
#   server under test "lws-rs" next to the anchors.
#   default:    lwsws --threads 1 vs all anchors (each one thread), server pinned to CPU 0, load on CPU 1,
#               --tests h1_1k,h1_1m,h2_tls,h2c,ws_echo_32,ws_echo_16k,ws_connect,ws_idle (BENCH_TESTS
#               overrides). lwsws runs through lwsws-sut.sh: one cleartext port (h1, h2c, ws) and one TLS port;
#               a second lwsws (ports +2, +3) serves the permessage-deflate tests ws_pmd_idle,ws_pmd_echo, which
#               are not in the default list (--tests ws_pmd_idle,ws_pmd_echo) and start it only when selected.
#   --threads2: lwsws --threads 2 vs nginx with 2 worker processes (baseline nginx), servers not pinned
#               (allowed on CPUs 0,1), load generators still on CPU 1.
#   --proxy:    the raw TCP proxy tests proxy_idle,proxy_bulk,proxy_pingpong: lwsws with a raw-proxy vhost
#               (lwsws-proxy-sut.sh, port LWSRS_PORT+4) vs haproxy (mode tcp), socat, sslh-fork and sslh-select,
#               all forwarding to the harness's backend; ratios to haproxy. Same as the default mode with
#               --tests proxy_idle,proxy_bulk,proxy_pingpong --only lws-rs,haproxy,socat,sslh-fork,sslh-select.
#   --http-proxy: the HTTP reverse proxy tests hproxy_{h1,h2c,h2}_{1k,1m}: lwsws with a proxy mount
#               (lwsws-http-proxy-sut.sh, ports LWSRS_PORT+6 cleartext h1 + h2c, +7 TLS) vs nginx (proxy_pass,
#               upstream keepalive), h2o (proxy.reverse.url) and haproxy (mode http), each one worker/thread on
#               CPU 0, all proxying to one nginx origin that bench.py starts on CPU 1 with the load generators;
#               2 rounds by default, ratios to nginx.
#   --compression: the response compression tests gzip_100k,br_100k,zstd_100k (a 100 KiB HTML file, wrk -t1 -c16
#               with Accept-Encoding; requests per server CPU-second, compressed size checked and decoded) and
#               h1_idle,h1_idle_gz (2000 idle keep-alive HTTP/1.1 connections after one plain / gzip GET each: RSS
#               per connection): lwsws (lwsws-compress-sut.sh, port LWSRS_PORT+8, "compression-level": "6") vs
#               nginx (gzip + brotli filter module) and h2o (gzip + br), all at level 6, each its own process;
#               2 rounds by default, ratios to nginx.
#   --scale:    memory per idle connection and throughput as concurrency grows: idle_h1,idle_h2c,idle_h1tls,
#               idle_h2tls (--idle-conns, default 10,000, connections of each kind held idle after one request of
#               /1k.txt each, HTTP/1.1 or h2 over TCP or TLS: server RSS per connection; lwsws through
#               lwsws-idle-sut.sh, ports LWSRS_PORT+20 cleartext and +21 TLS, keep-alive and h2 idle timeouts 65 s;
#               nginx and h2o as own processes, ports 8086/8087/8446 and 8096/8456, restarted before each run) and
#               h1_1k_c10,h1_1k_c100,h1_1k_c1000,h1_1k_c10000 (wrk -t1 -cN on /1k.txt: req/s, p99, requests per
#               server CPU-second, each as a ratio to the same server at 100 connections) for lwsws, nginx, h2o and
#               hyper (h1_1k_c* only); 1 round, ratios to nginx, results labelled scale.
#   Extra args go to bench.py (later ones win), e.g. --rounds 1 --duration 2, or --tests h1_1k.
#   Env: LWSWS (use this binary, skip the cargo build), NO_INSTALL=1 / NO_BUILD=1 (see run-all.sh),
#        BENCH_OUT (results dir, default ./bench-results), LWSRS_PORT (default 7781).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"

mode=threads1
if [ "${1:-}" = "--threads2" ]; then
  mode=threads2
  shift
elif [ "${1:-}" = "--proxy" ]; then
  mode=proxy
  shift
elif [ "${1:-}" = "--http-proxy" ]; then
  mode=http-proxy
  shift
elif [ "${1:-}" = "--compression" ]; then
  mode=compression
  shift
elif [ "${1:-}" = "--scale" ]; then
  mode=scale
  shift
fi

if [ -z "${LWSWS:-}" ]; then
  echo "[bench/run.sh] cargo build --release -p lwsws" >&2
  (cd "$REPO" && cargo build --release -p lwsws)
  LWSWS="$REPO/target/release/lwsws"
fi
[ -x "$LWSWS" ] || { echo "[bench/run.sh] lwsws binary not found: $LWSWS" >&2; exit 1; }

PORT="${LWSRS_PORT:-7781}"
export BENCH_OUT="${BENCH_OUT:-$PWD/bench-results}"

# lwsws as a raw TCP proxy to the harness's backend (proxy_* tests; started only when one is selected)
PROXY_SUT="name=lws-rs;proxy=$((PORT + 4));cmd=$HERE/lwsws-proxy-sut.sh $LWSWS {port_proxy} {port_backend} 1 1"
# The same with splicing off (bulk data through read/write), to show what splice(2) buys.
PROXY_SUT_COPY="name=lws-rs-copy;proxy=$((PORT + 5));cmd=$HERE/lwsws-proxy-sut.sh $LWSWS {port_proxy} {port_backend} 1 0"
# lwsws as an HTTP reverse proxy to the harness's nginx origin (hproxy_* tests; started only when one is selected)
HPROXY_SUT="name=lws-rs;hp1=$((PORT + 6));hph2c=$((PORT + 6));hptls=$((PORT + 7));cmd=$HERE/lwsws-http-proxy-sut.sh $LWSWS {port_hp1} {port_hptls} {port_origin} {cert} {key} 1"
# lwsws with compression at level 6 on one cleartext vhost (gz role: gzip_100k, br_100k, zstd_100k, h1_idle*;
# started only when one is selected)
GZ_SUT="name=lws-rs;gz=$((PORT + 8));cmd=$HERE/lwsws-compress-sut.sh $LWSWS {port_gz} {www} 6 1"
GZ_TESTS=h1_idle,h1_idle_gz,gzip_100k,br_100k,zstd_100k
# lwsws for the idle connection tests (roles ih1, ih2c, itls: idle_h1, idle_h2c, idle_h1tls, idle_h2tls; started only
# when one is selected, restarted before each): lwsws-sut.sh's two vhosts with 65 s keep-alive and h2 idle timeouts
IDLE_SUT="name=lws-rs;ih1=$((PORT + 20));ih2c=$((PORT + 20));itls=$((PORT + 21));cmd=$HERE/lwsws-idle-sut.sh $LWSWS {port_ih1} {port_itls} {www} {cert} {key} 1"
MAIN_SUT="name=lws-rs;h1=$PORT;h2c=$PORT;tls=$((PORT + 1));ws=$PORT;ws_path=/echo;ws_proto=lws-echo;cmd=$HERE/lwsws-sut.sh $LWSWS {port_h1} {port_tls} {www} {cert} {key} 1"
SCALE_TESTS=idle_h1,idle_h2c,idle_h1tls,idle_h2tls,h1_1k_c10,h1_1k_c100,h1_1k_c1000,h1_1k_c10000
HPROXY_TESTS=hproxy_h1_1k,hproxy_h1_1m,hproxy_h2c_1k,hproxy_h2c_1m,hproxy_h2_1k,hproxy_h2_1m

if [ "$mode" = threads1 ]; then
  exec "$HERE/run-all.sh" \
    --sut "$MAIN_SUT" \
    --sut "name=lws-rs;wspmd=$((PORT + 2));ws_path=/echo;ws_proto=lws-echo;cmd=$HERE/lwsws-sut.sh $LWSWS {port_wspmd} $((PORT + 3)) {www} {cert} {key} 1" \
    --sut "$PROXY_SUT" --sut "$HPROXY_SUT" --sut "$GZ_SUT" --sut "$IDLE_SUT" \
    --tests "${BENCH_TESTS:-h1_1k,h1_1m,h2_tls,h2c,ws_echo_32,ws_echo_16k,ws_connect,ws_idle}" "$@"
elif [ "$mode" = proxy ]; then
  exec "$HERE/run-all.sh" --sut "$PROXY_SUT" --sut "$PROXY_SUT_COPY" \
    --tests proxy_idle,proxy_bulk,proxy_pingpong --only lws-rs,lws-rs-copy,haproxy,socat,sslh-fork,sslh-select \
    --label proxy "$@"
elif [ "$mode" = http-proxy ]; then
  exec "$HERE/run-all.sh" --sut "$HPROXY_SUT" --tests "$HPROXY_TESTS" --only lws-rs,nginx,h2o,haproxy \
    --rounds 2 --label http-proxy "$@"
elif [ "$mode" = compression ]; then
  exec "$HERE/run-all.sh" --sut "$GZ_SUT" --tests "$GZ_TESTS" --only lws-rs,nginx,h2o --rounds 2 \
    --label compression "$@"
elif [ "$mode" = scale ]; then
  exec "$HERE/run-all.sh" --sut "$MAIN_SUT" --sut "$IDLE_SUT" --tests "$SCALE_TESTS" --only lws-rs,nginx,h2o,hyper \
    --rounds 1 --baseline nginx --gz-baseline nginx --label scale "$@"
else
  export NGINX_WORKERS=2
  exec "$HERE/run-all.sh" \
    --sut "name=lws-rs;h1=$PORT;cmd=$LWSWS --port {port_h1} --interface 127.0.0.1 --docroot {www} --threads 2" \
    --only nginx,lws-rs --baseline nginx --server-cpu 0,1 --label threads2 \
    --tests h1_1k,h1_1m "$@"
fi
