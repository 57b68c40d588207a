#!/usr/bin/env bash
# tests/conformance/h2-peers.sh — HTTP/2 conformance of lwsws (demo site) over h2c and TLS (ALPN h2):
#   peers/h2_checks.py (python hpack/hyperframe, raw frames: RFC 9113 / RFC 7541 MUSTs, floods, RFC 8441), then
#   curl (--http2-prior-knowledge, --http2 over TLS, Upgrade: h2c), nghttp -nv / -nva, and h2load -n N -c 100 -m 10
#   over TLS and h2c (0 failed, 0 errored, N 2xx).
# Env: LWSWS (default <repo>/target/release/lwsws), H2_LOAD_N (default 100000), LWS_PEERS_HOME, H2_CHECKS_ONLY
# (comma list of h2_checks.py check names/prefixes). Needs 'install.sh curl nghttp2 openssl pyh2'.
# Prints PASS/FAIL lines and "N passed, M failed"; exits non-zero if anything failed.
set -euo pipefail
# shellcheck source=tests/conformance/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

PEERS_HOME="${LWS_PEERS_HOME:-$HOME/.cache/lws-peers}"
PY="$PEERS_HOME/venv/bin/python"
DRIVER="$CONF_DIR/peers/h2_checks.py"
N="${H2_LOAD_N:-100000}"

need_lwsws
need_cmd curl nghttp h2load openssl python3
[ -x "$PY" ] && "$PY" -c 'import h2, hpack, hyperframe' 2>/dev/null ||
  die "python h2 venv not found at $PEERS_HOME/venv: run 'bash tests/conformance/install.sh pyh2' (as root)"

# self-signed certificate for 127.0.0.1/localhost
make_test_cert

PC="$(free_port)"
lwsws_start h2c --interface 127.0.0.1 --port "$PC"
PT="$(free_port)"
lwsws_start tls --interface 127.0.0.1 --port "$PT" --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"
wait_http h2c "http://127.0.0.1:$PC/"
wait_http tls "https://127.0.0.1:$PT/" -k
BC="http://127.0.0.1:$PC"
BT="https://127.0.0.1:$PT"

# ---- 1. frame-level checks ----------------------------------------------------------------------------------------
# run_driver NAME ARGS...: the driver's PASS/FAIL lines are ours (its own summary line is not counted)
run_driver() {
  local name="$1" out rc=0
  shift
  out="$WORK/$name.out"
  timeout -k 5 900 "$PY" "$DRIVER" "$@" ${H2_CHECKS_ONLY:+--only "$H2_CHECKS_ONLY"} >"$out" 2>&1 </dev/null || rc=$?
  grep -v '^[0-9]* passed, [0-9]* failed$' "$out" || true
  N_PASS=$((N_PASS + $(grep -c '^PASS ' "$out" || true)))
  N_FAIL=$((N_FAIL + $(grep -c '^FAIL ' "$out" || true)))
  if [ "$rc" != 0 ] && ! grep -q '^FAIL ' "$out"; then
    fail "$name-driver" "h2_checks.py exited $rc: $(tail -3 "$out" | tr '\n' ' ')"
  fi
}
run_driver h2c-checks 127.0.0.1 "$PC" --server-pid "$(_pid_of h2c)"
run_driver tls-checks 127.0.0.1 "$PT" --tls --server-pid "$(_pid_of tls)"
alive_check h2c h2c-alive-after-checks
alive_check tls tls-alive-after-checks

# ---- 2. curl ---------------------------------------------------------------------------------------------------------
ROOT_LEN="$("${CURL[@]}" -o /dev/null -w '%{size_download}' --http1.1 "$BC/")"

# curl_h2 NAME URL [CURL_ARGS...]: HTTP/2 200 with the full demo page
curl_h2() {
  local name="$1" url="$2" got
  shift 2
  got="$("${CURL[@]}" -o "$WORK/$name.body" -w '%{http_version} %{http_code}' "$@" "$url" 2>"$WORK/$name.err" || true)"
  if [ "$got" = "2 200" ] && [ "$(stat -c %s "$WORK/$name.body" 2>/dev/null || echo 0)" = "$ROOT_LEN" ]; then
    pass "$name"
  else
    fail "$name" "http_version+status '$got', $(stat -c %s "$WORK/$name.body" 2>/dev/null || echo 0) bytes \
(want '2 200', $ROOT_LEN bytes) $(head -c 200 "$WORK/$name.err" | tr '\n' ' ')"
  fi
}
curl_h2 curl-h2c-prior-knowledge "$BC/" --http2-prior-knowledge
curl_h2 curl-h2-tls-alpn "$BT/" --http2 -k
curl_h2 curl-h2c-upgrade "$BC/" --http2

# multipart upload through curl's h2 stack (its own flow control and framing)
UP="$WORK/upload-sample.txt"
head -c 50000 /dev/zero | tr '\0' 'u' >"$UP"
for v in h2c tls; do
  if [ "$v" = h2c ]; then args=(--http2-prior-knowledge "$BC/formtest"); else args=(--http2 -k "$BT/formtest"); fi
  got="$("${CURL[@]}" -o "$WORK/mp-$v.body" -w '%{http_version} %{http_code}' -F text=x -F "file=@$UP" \
    -F upload=Upload "${args[@]}" || true)"
  if [ "$got" = "2 200" ] && grep -q 'upload-sample\.txt' "$WORK/mp-$v.body" && grep -q '50000' "$WORK/mp-$v.body"; then
    pass "curl-$v-post-multipart"
  else fail "curl-$v-post-multipart" "'$got'; body: $(head -c 200 "$WORK/mp-$v.body" | tr '\n' ' ')"; fi
done

# ---- 3. nghttp ---------------------------------------------------------------------------------------------------
# nghttp_check NAME ARGS...: exit 0, a :status 200 response, no RST_STREAM/GOAWAY error from the server
nghttp_check() {
  local name="$1" out rc=0 bad
  shift
  out="$WORK/$name.nghttp"
  timeout 60 nghttp "$@" >"$out" 2>&1 || rc=$?
  # a received RST_STREAM or GOAWAY with an error code (nghttp prints the code on the line after the frame)
  bad="$(awk '/recv (RST_STREAM|GOAWAY) frame/ { f = 1; next } f && /error_code=/ && !/error_code=NO_ERROR/ { print } { f = 0 }' "$out")"
  if [ "$rc" = 0 ] && grep -q ':status: 200' "$out" && [ -z "$bad" ]; then
    pass "$name ($(grep -c ':status: 200' "$out") x 200)"
  else
    fail "$name" "exit $rc; ${bad:+server sent $bad; }$(grep -m3 'status:\|GOAWAY\|RST_STREAM\|rror' "$out" | tr '\n' ' ')"
  fi
}
nghttp_check nghttp-h2c-prior-knowledge -nv "$BC/"
nghttp_check nghttp-h2c-upgrade -nvu "$BC/"
nghttp_check nghttp-tls -nv "$BT/"
nghttp_check nghttp-tls-all-assets -nva "$BT/"
nghttp_check nghttp-h2c-all-assets -nva "$BC/"

# ---- 4. h2load -------------------------------------------------------------------------------------------------
h2load_expect "h2load-tls-n$N-c100-m10" "$N" -c 100 -m 10 "$BT/"
h2load_expect "h2load-h2c-n$N-c100-m10" "$N" -c 100 -m 10 "$BC/"
# More than 2^20 streams on one connection (stream identifiers keep growing; closed streams cost nothing).
MANY="${H2_MANY_STREAMS:-1100000}"
h2load_expect "h2load-h2c-one-connection-$MANY-streams" "$MANY" -c 1 -m 100 "$BC/"

alive_check h2c h2c-alive-at-end
alive_check tls tls-alive-at-end
lwsws_stop h2c
expect_eq h2c-sigterm-exit-0 "$STOP_RC" 0
lwsws_stop tls
expect_eq tls-sigterm-exit-0 "$STOP_RC" 0

summary
