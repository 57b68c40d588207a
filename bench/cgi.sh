#!/usr/bin/env bash
# usage: bench/cgi.sh [N]
#   The fork-exec cost of a CGI request: lwsws (a cgi:// mount) beside lighttpd's mod_cgi (Debian package
#   `lighttpd`) on the same tiny /bin/sh script, one run each, N requests (default 5000) from h2load --h1 with 8
#   connections. Reports per server: requests that got 200, wall time, requests/s, and the CPU time of the server
#   plus its reaped children (utime+stime+cutime+cstime from /proc/PID/stat) per request, then the ratio
#   lws-rs / lighttpd. Servers run on CPU 0, the load on CPU 1 (when taskset exists), one thread/process each.
#   Env: LWSWS (default <repo>/target/release/lwsws, built when missing), LIGHTTPD (default lighttpd on PATH),
#   PORT (default 7791: lwsws on PORT, lighttpd on PORT+1).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
N="${1:-5000}"
PORT="${PORT:-7791}"
LWSWS="${LWSWS:-$REPO/target/release/lwsws}"
LIGHTTPD="${LIGHTTPD:-$(command -v lighttpd || echo /usr/sbin/lighttpd)}"
command -v h2load >/dev/null || { echo "h2load not found (apt-get install nghttp2-client)" >&2; exit 1; }
[ -x "$LIGHTTPD" ] || { echo "lighttpd not found (apt-get install lighttpd)" >&2; exit 1; }
if [ ! -x "$LWSWS" ]; then (cd "$REPO" && cargo build --release -p lwsws); fi
PIN0=() PIN1=()
if command -v taskset >/dev/null; then PIN0=(taskset -c 0) PIN1=(taskset -c 1); fi

W="$(mktemp -d "${TMPDIR:-/tmp}/lws-bench-cgi.XXXXXX")"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/cgi-bin" "$W/lwsws/conf.d"
cat >"$W/cgi-bin/hello.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\nhello from %s\n' "$SCRIPT_NAME"
SH
chmod 755 "$W/cgi-bin/hello.sh"

echo '{ "global": { "server-string": "lwsws", "count-threads": "1" } }' >"$W/lwsws/conf"
cat >"$W/lwsws/conf.d/site" <<EOF
{ "vhosts": [{ "name": "localhost", "port": "$PORT", "interface": "127.0.0.1", "cgi-max-processes": "64",
  "mounts": [{ "mountpoint": "/cgi-bin", "origin": "cgi://$W/cgi-bin" }] }] }
EOF
cat >"$W/lighttpd.conf" <<EOF
server.modules = ( "mod_cgi" )
server.document-root = "$W"
server.bind = "127.0.0.1"
server.port = $((PORT + 1))
server.errorlog = "$W/lighttpd.err"
server.max-worker = 0
cgi.assign = ( ".sh" => "" )
EOF

wait_port() {
  local i
  for ((i = 0; i < 100; i++)); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/cgi-bin/hello.sh" && return 0
    sleep 0.1
  done
  echo "nothing answers on port $1" >&2
  exit 1
}

# cpu_ticks PID: utime + stime + cutime + cstime (the server and every child it has reaped)
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$1/stat"; }

# run NAME PORT PID: N requests; prints "NAME ok wall_s req_s cpu_ms_per_req"
run() {
  local name="$1" port="$2" pid="$3" c0 c1 t0 t1 out ok hz
  hz="$(getconf CLK_TCK)"
  c0="$(cpu_ticks "$pid")"
  t0="$(date +%s%N)"
  out="$("${PIN1[@]}" h2load --h1 -n "$N" -c 8 -t 1 "http://127.0.0.1:$port/cgi-bin/hello.sh" 2>&1)"
  t1="$(date +%s%N)"
  c1="$(cpu_ticks "$pid")"
  ok="$(sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p' <<<"$out")"
  awk -v n="$name" -v ok="${ok:-0}" -v ns=$((t1 - t0)) -v c=$((c1 - c0)) -v hz="$hz" -v req="$N" 'BEGIN {
    s = ns / 1e9; printf "%s %d %.2f %.0f %.3f\n", n, ok, s, req / s, c * 1000 / hz / req }'
}

"${PIN0[@]}" "$LWSWS" -c "$W/lwsws" >"$W/lwsws.log" 2>&1 &
LWS_PID=$!
PIDS+=("$LWS_PID")
"${PIN0[@]}" "$LIGHTTPD" -D -f "$W/lighttpd.conf" >"$W/lighttpd.log" 2>&1 &
LTD_PID=$!
PIDS+=("$LTD_PID")
wait_port "$PORT"
wait_port $((PORT + 1))
for p in "$PORT" $((PORT + 1)); do
  body="$(curl -s --max-time 5 "http://127.0.0.1:$p/cgi-bin/hello.sh")"
  [ "$body" = "hello from /cgi-bin/hello.sh" ] || { echo "port $p did not run the script: '$body'" >&2; exit 1; }
done

A="$(run lws-rs "$PORT" "$LWS_PID")"
B="$(run lighttpd $((PORT + 1)) "$LTD_PID")"
printf '%-10s %8s %8s %8s %14s\n' server "200s" "wall s" "req/s" "CPU ms/req"
for line in "$A" "$B"; do
  read -r name ok wall rps cpu <<<"$line"
  printf '%-10s %8s %8s %8s %14s\n' "$name" "$ok/$N" "$wall" "$rps" "$cpu"
done
awk -v a="$(cut -d' ' -f5 <<<"$A")" -v b="$(cut -d' ' -f5 <<<"$B")" \
  'BEGIN { if (b > 0) printf "CPU per request, lws-rs / lighttpd: %.2f\n", a / b }'
