#!/usr/bin/env bash
# tests/conformance/sse.sh — Server-Sent Events and HTTP/2 long poll against real clients, with the examples
# minimal-http-server-sse and minimal-http-server-h2-long-poll (release builds; .ci/run builds them):
# - headless Chromium's EventSource on the sse example's page receives the counter events; the server ends each
#   stream after 3 events, Chromium reconnects by itself with Last-Event-ID and the server continues after it (the
#   ids the page gets run on from 0 across the reconnects);
# - curl reads the raw stream over HTTP/1.1 (chunked) and HTTP/2 prior knowledge (h2c): head, fields, one event per
#   id, Last-Event-ID honoured, the stream ended by the server;
# - two curl clients of the sse-ring example, one over HTTP/1.1 and one over h2c, follow the same ring: the same ids
#   in order, and a Last-Event-ID inside the ring resumes right after it;
# - curl and Chromium over HTTPS with ALPN h2 hold a long-poll stream of the h2-long-poll example open past the
#   connection's 5 s HTTP/2 idle timeout and get the answer that comes after it.
# Env LWS_SSE_SERVER, LWS_SSE_RING, LWS_H2_LONG_POLL (default <repo>/target/release/...), CHROMIUM, CHROMIUM_EXTRA.
# Prints PASS/FAIL lines and "N passed, M failed"; exits non-zero if anything failed.
set -euo pipefail
# shellcheck source=tests/conformance/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

SSE_SERVER="${LWS_SSE_SERVER:-$REPO/target/release/minimal-http-server-sse}"
RING="${LWS_SSE_RING:-$REPO/target/release/minimal-http-server-sse-ring}"
LONG_POLL="${LWS_H2_LONG_POLL:-$REPO/target/release/minimal-http-server-h2-long-poll}"
need_cmd curl python3
for b in "$SSE_SERVER" "$RING" "$LONG_POLL"; do
  [ -x "$b" ] || die "$b not found: cargo build --release -p lws-examples --bin $(basename "$b") (.ci/run does)"
done
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "${CHROMIUM:-}" ] ||
  die "chromium not found: run 'bash tests/conformance/install.sh chromium' (as root)"

# browser NAME URL PROTO WANT PER [CHROMIUM_EXTRA]: one sse_browser.py pass, lines prefixed with NAME
browser() {
  local name="$1" out="$WORK/browser-$1.out" rc=0
  CHROMIUM_EXTRA="${CHROMIUM_EXTRA:-} ${6:-}" timeout 120 python3 "$CONF_DIR/peers/sse_browser.py" "$2" "$3" "$4" "$5" \
    >"$out" 2>&1 || rc=$?
  sed -e "/^\(PASS\|FAIL\) /!d" -e "s/^PASS /PASS $name\//" -e "s/^FAIL /FAIL $name\//" "$out"
  N_PASS=$((N_PASS + $(grep -c '^PASS ' "$out" || true)))
  N_FAIL=$((N_FAIL + $(grep -c '^FAIL ' "$out" || true)))
  if [ "$rc" != 0 ]; then
    fail "$name/browser-driver" "sse_browser.py exited $rc: $(tail -3 "$out" | tr '\n' ' ')"
  fi
}

# stream NAME URL CURL_ARGS...: the raw stream (until the server ends it or 10 s pass) -> $WORK/NAME.body, head ->
# $WORK/NAME.hdr, HTTP version -> $WORK/NAME.ver
stream() {
  local name="$1" url="$2"
  shift 2
  curl -s -N --noproxy '*' --max-time 10 -D "$WORK/$name.hdr" -o "$WORK/$name.body" -w '%{http_version}' "$@" \
    "$url" >"$WORK/$name.ver" || true
  touch "$WORK/$name.hdr" "$WORK/$name.body" "$WORK/$name.ver"
}

# has NAME TEXT: the body of NAME holds TEXT (with \n escapes) literally
has() { python3 -c 'import sys; sys.exit(0 if sys.argv[2].encode().decode("unicode_escape").encode() in open(sys.argv[1], "rb").read() else 1)' "$WORK/$1.body" "$2"; }

# ---- the sse example: curl over HTTP/1.1 and h2c, then Chromium -------------------------------------------------
P="$(free_port)"
peer_start sse "$SSE_SERVER" --port "$P" --interval-ms 200 --end-after 3
wait_http sse "http://127.0.0.1:$P/"

stream h1 "http://127.0.0.1:$P/sse" --http1.1
expect_eq curl-h1-version "$(cat "$WORK/h1.ver")" 1.1
expect_eq curl-h1-content-type "$(header_of h1 content-type)" text/event-stream
expect_eq curl-h1-cache-control "$(header_of h1 cache-control)" no-cache
expect_eq curl-h1-chunked "$(header_of h1 transfer-encoding)" chunked
check curl-h1-first-event has h1 'retry: 500\nevent: counter\nid: 0\ndata: counter 0\n\n'
check curl-h1-third-event has h1 'event: counter\nid: 2\ndata: counter 2\n\n'
expect_eq curl-h1-ended-after-3 "$(grep -c '^id: ' "$WORK/h1.body" || true)" 3

stream h1-resume "http://127.0.0.1:$P/sse" --http1.1 -H 'Last-Event-ID: 41'
check curl-h1-last-event-id-continues has h1-resume 'id: 42\ndata: counter 42\n\n'
check curl-h1-last-event-id-to-44 has h1-resume 'id: 44\ndata: counter 44\n\n'

stream h2c "http://127.0.0.1:$P/sse" --http2-prior-knowledge -H 'Last-Event-ID: 6'
expect_eq curl-h2c-version "$(cat "$WORK/h2c.ver")" 2
expect_eq curl-h2c-content-type "$(header_of h2c content-type)" text/event-stream
check curl-h2c-events has h2c 'retry: 500\nevent: counter\nid: 7\ndata: counter 7\n\nevent: counter\nid: 8\n'
expect_eq curl-h2c-ended-after-3 "$(grep -c '^id: ' "$WORK/h2c.body" || true)" 3

browser sse "http://127.0.0.1:$P/" http/1.1 8 3
alive_check sse sse-server-alive

# ---- the sse-ring example: two clients follow one ring -----------------------------------------------------------
R="$(free_port)"
peer_start ring "$RING" --port "$R" --interval-ms 100 --slots 16
wait_http ring "http://127.0.0.1:$R/"
curl -s -N --noproxy '*' --max-time 2 -o "$WORK/ring-a.body" --http1.1 "http://127.0.0.1:$R/sse" || true &
A_PID=$!
curl -s -N --noproxy '*' --max-time 2 -o "$WORK/ring-b.body" --http2-prior-knowledge "http://127.0.0.1:$R/sse" || true
wait "$A_PID" || true
ids() { sed -n 's/^id: //p' "$WORK/$1.body" | tr '\n' ' '; }
consecutive() { python3 -c 'import sys; v=[int(x) for x in sys.argv[1].split()]; sys.exit(0 if len(v) >= 5 and v == list(range(v[0], v[0] + len(v))) else 1)' "$1"; }
check ring-h1-client-follows consecutive "$(ids ring-a)"
check ring-h2c-client-follows consecutive "$(ids ring-b)"
# Both joined within a moment of each other: their ids overlap in the same order.
check ring-clients-share-ids python3 -c 'import sys; a=sys.argv[1].split(); b=sys.argv[2].split(); c=[x for x in a if x in b]; sys.exit(0 if len(c) >= 5 and c == [x for x in b if x in a] else 1)' "$(ids ring-a)" "$(ids ring-b)"
LAST="$(ids ring-b | awk '{print $NF}')"
LAST="${LAST:-0}"
stream ring-resume "http://127.0.0.1:$R/sse" --max-time 1 -H "Last-Event-ID: $((LAST - 3))"
expect_eq ring-last-event-id-resumes "$(ids ring-resume | awk '{print $1}')" "$((LAST - 2))"
alive_check ring ring-server-alive

# ---- the h2 long-poll example over HTTPS ---------------------------------------------------------------------------
Q="$(free_port)"
peer_start long-poll "$LONG_POLL" --port "$Q" --interval-ms 6000
wait_http long-poll "https://127.0.0.1:$Q/" -k

# Answers come every 6 s, past the 5 s HTTP/2 idle timeout: the held stream must survive to get the first.
stream poll "https://127.0.0.1:$Q/poll" --http2 -k --max-time 8
expect_eq curl-long-poll-h2 "$(cat "$WORK/poll.ver")" 2
check curl-long-poll-answer-after-idle-timeout has poll 'data: answer 0 '

browser long-poll "https://127.0.0.1:$Q/" h2 1 0 --ignore-certificate-errors
alive_check long-poll long-poll-server-alive

summary
