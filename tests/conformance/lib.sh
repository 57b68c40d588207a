# shellcheck shell=bash
# tests/conformance/lib.sh — shared helpers for the conformance scripts (source it; do not run it).
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   need_lwsws; need_cmd curl
#   P=$(free_port); lwsws_start demo --interface 127.0.0.1 --port "$P"; wait_http demo "http://127.0.0.1:$P/"
#   check "get-root" test "$(http_code "http://127.0.0.1:$P/")" = 200
#   pass NAME / fail NAME DETAIL
#   summary            # prints "N passed, M failed", returns 1 if M > 0
#
# Everything runs on loopback. Servers started with lwsws_start are stopped by the EXIT trap (only the PIDs we
# started). Scratch files live in $WORK (removed on exit; kept when KEEP_WORK=1).

CONF_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$CONF_DIR/../.." && pwd)"
LWSWS="${LWSWS:-$REPO/target/release/lwsws}"

N_PASS=0
N_FAIL=0
LWSWS_PIDS=()
WORK="$(mktemp -d "${TMPDIR:-/tmp}/lws-conformance.XXXXXX")"

_conf_cleanup() {
  local pid
  for pid in "${LWSWS_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${LWSWS_PIDS[@]}"; do
    _wait_gone "$pid" 50 || kill -KILL "$pid" 2>/dev/null || true
  done
  if [ "${KEEP_WORK:-0}" = 1 ]; then
    echo "scratch files kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap _conf_cleanup EXIT

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
# die MSG: setup error; reported as a FAIL line plus the summary so the output format stays the same
die() {
  printf '[%s] ERROR: %s\n' "$(basename "$0")" "$*" >&2
  fail setup "$*"
  summary || true
  exit 2
}

pass() {
  echo "PASS $1"
  N_PASS=$((N_PASS + 1))
}

# fail NAME DETAIL...
fail() {
  local name="$1"
  shift
  echo "FAIL $name: $*"
  N_FAIL=$((N_FAIL + 1))
}

# check NAME CMD...: PASS if CMD succeeds, else FAIL with the command as detail
check() {
  local name="$1"
  shift
  if "$@"; then pass "$name"; else fail "$name" "$*"; fi
}

# expect_eq NAME GOT WANT
expect_eq() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi
}

# summary: final line, non-zero when anything failed
summary() {
  echo "$N_PASS passed, $N_FAIL failed"
  [ "$N_FAIL" -eq 0 ]
}

need_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "'$c' not found: run 'bash tests/conformance/install.sh' (as root)"
  done
}

need_lwsws() {
  [ -x "$LWSWS" ] || die "lwsws binary not found at $LWSWS: build it with 'cargo build --release -p lwsws' \
(.ci/run does this once) or set LWSWS=/path/to/lwsws"
}

# free_port: a TCP port on 127.0.0.1 that was free a moment ago
free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# _alive PID: running (an exited child that was not reaped yet is a zombie: not alive)
_alive() {
  local st
  st="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  st="${st##*) }"
  [ "${st%% *}" != Z ]
}

_wait_gone() { # PID TRIES(x0.1s)
  local i
  for ((i = 0; i < $2; i++)); do
    _alive "$1" || return 0
    sleep 0.1
  done
  return 1
}

# lwsws_start NAME ARGS...: start lwsws in the background, output in $WORK/NAME.log; sets LAST_PID
lwsws_start() {
  local name="$1"
  shift
  "$LWSWS" "$@" >"$WORK/$name.log" 2>&1 </dev/null &
  LAST_PID=$!
  LWSWS_PIDS+=("$LAST_PID")
  eval "PID_${name//[^A-Za-z0-9_]/_}=$LAST_PID"
  log "started lwsws $* (pid $LAST_PID, log $WORK/$name.log)"
}

_pid_of() {
  local v="PID_${1//[^A-Za-z0-9_]/_}"
  echo "${!v:-}"
}

# wait_for NAME WHAT CMD...: poll CMD until it succeeds (100 x 0.1 s); dies with NAME's log if NAME exits first
# or CMD never succeeds ("NAME did not WHAT")
wait_for() {
  local name="$1" what="$2" pid i
  shift 2
  pid="$(_pid_of "$name")"
  for ((i = 0; i < 100; i++)); do
    if "$@"; then
      return 0
    fi
    if [ -n "$pid" ] && ! _alive "$pid"; then
      tail -20 "$WORK/$name.log" >&2 || true
      die "$name exited before it could $what"
    fi
    sleep 0.1
  done
  tail -20 "$WORK/$name.log" >&2 || true
  die "$name did not $what within 10 s"
}

# wait_http NAME URL [CURL_ARGS...]: poll until URL answers with any HTTP status; dies with the server log if
# the server exits or never answers
wait_http() {
  local name="$1" url="$2"
  shift 2
  wait_for "$name" "answer $url" curl -s -o /dev/null --max-time 1 "$@" "$url"
}

# wait_tcp NAME PORT: poll until 127.0.0.1:PORT accepts a connection
wait_tcp() {
  wait_for "$1" "listen on port $2" _accepts "$2"
}

_accepts() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_line NAME TEXT: poll until NAME's log has a line TEXT
wait_line() {
  wait_for "$1" "print '$2'" _has_line "$WORK/$1.log" "$2"
}

_has_line() { grep -qx "$2" "$1" 2>/dev/null; }

# wait_log_port NAME: wait (100 x 0.1 s) for "lwsws: serving http(s)://HOST:PORT/" in NAME's log; prints PORT
wait_log_port() {
  local name="$1" pid i port
  pid="$(_pid_of "$name")"
  for ((i = 0; i < 100; i++)); do
    port="$(sed -n 's#^lwsws: serving https\{0,1\}://[^ ]*:\([0-9][0-9]*\)/.*#\1#p' "$WORK/$name.log" | head -1)"
    if [ -n "$port" ]; then
      echo "$port"
      return 0
    fi
    if [ -n "$pid" ] && ! _alive "$pid"; then
      return 1
    fi
    sleep 0.1
  done
  return 1
}

# lwsws_stop NAME: SIGTERM, wait up to 10 s; sets STOP_RC to the exit status ("timeout" if it did not exit,
# "gone" if it had already exited and was reaped). Do not call it in $(...): wait needs this shell.
lwsws_stop() {
  local pid
  STOP_RC=0
  pid="$(_pid_of "$1")"
  [ -n "$pid" ] || { STOP_RC="no-pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  if ! _wait_gone "$pid" 100; then
    STOP_RC="timeout"
    return 0
  fi
  wait "$pid" 2>/dev/null || STOP_RC=$?
}

# alive_check NAME CHECKNAME: PASS if the server NAME is still running
alive_check() {
  local pid
  pid="$(_pid_of "$1")"
  if [ -n "$pid" ] && _alive "$pid"; then pass "$2"; else fail "$2" "lwsws ($1) is not running; log: $(tail -5 "$WORK/$1.log" 2>/dev/null | tr '\n' ' ')"; fi
}

# ---- curl wrappers (never follow redirects, never use a proxy) ----------------------------------------------
CURL=(curl -s --noproxy '*' --max-time 20)

# http_code URL [CURL_ARGS...] -> status code ("000" when no response)
http_code() {
  local url="$1"
  shift
  "${CURL[@]}" -o /dev/null -w '%{http_code}' "$@" "$url" || true
}

# fetch NAME URL [CURL_ARGS...]: body -> $WORK/NAME.body, headers -> $WORK/NAME.hdr, status -> $WORK/NAME.code
fetch() {
  local name="$1" url="$2"
  shift 2
  "${CURL[@]}" -D "$WORK/$name.hdr" -o "$WORK/$name.body" -w '%{http_code}' "$@" "$url" >"$WORK/$name.code" \
    || true
  [ -s "$WORK/$name.code" ] || echo 000 >"$WORK/$name.code"
  touch "$WORK/$name.hdr" "$WORK/$name.body"
}

code_of() { cat "$WORK/$1.code"; }

# header_of NAME HEADER -> value of the (last) header, lower-cased name match, CR stripped
header_of() {
  local want
  want="$(printf '%s' "$2" | tr 'A-Z' 'a-z')"
  awk -v h="$want" '{ sub(/\r$/, "") }
    { i = index($0, ":"); if (i > 1 && tolower(substr($0, 1, i - 1)) == h) { v = substr($0, i + 1); sub(/^[ \t]+/, "", v); last = v } }
    END { if (last != "") print last }' "$WORK/$1.hdr"
}

# make_test_cert: a self-signed certificate for localhost/127.0.0.1 as $WORK/cert.pem + $WORK/key.pem
make_test_cert() {
  [ -s "$WORK/cert.pem" ] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >"$WORK/openssl.log" 2>&1 ||
    die "openssl could not make a test certificate: $(tail -3 "$WORK/openssl.log" | tr '\n' ' ')"
}

# [H2LOAD_TIMEOUT=S] h2load_expect NAME N H2LOAD_ARGS...: N requests with h2load (-n N plus the arguments,
# killed after S s, default 600); all N must succeed with 2xx, none fail or error; without --h1 the protocol
# must be h2 or h2c, and the HPACK savings are reported.
h2load_expect() {
  local name="$1" n="$2" out req codes
  shift 2
  out="$WORK/$name.h2load"
  if ! timeout "${H2LOAD_TIMEOUT:-600}" h2load -n "$n" "$@" >"$out" 2>&1; then
    fail "$name" "h2load exited non-zero: $(tail -3 "$out" | tr '\n' ' ')"
    return
  fi
  if [[ " $* " != *" --h1 "* ]] && ! grep -q '^Application protocol: h2c\?$' "$out"; then
    fail "$name" "not HTTP/2: $(grep -m1 '^Application protocol' "$out" || echo 'no protocol line')"
    return
  fi
  req="$(grep -m1 '^requests:' "$out" || true)"
  codes="$(grep -m1 '^status codes:' "$out" || true)"
  if [[ "$req" =~ ^requests:\ ([0-9]+)\ total,\ ([0-9]+)\ started,\ ([0-9]+)\ done,\ ([0-9]+)\ succeeded,\ ([0-9]+)\ failed,\ ([0-9]+)\ errored ]] &&
    [ "${BASH_REMATCH[4]}" = "$n" ] && [ "${BASH_REMATCH[5]}" = 0 ] && [ "${BASH_REMATCH[6]}" = 0 ] &&
    [[ "$codes" =~ ^status\ codes:\ ([0-9]+)\ 2xx ]] && [ "${BASH_REMATCH[1]}" = "$n" ]; then
    local savings=
    [[ " $* " == *" --h1 "* ]] || savings="$(grep -o 'space savings [0-9.]*%' "$out" || true)"
    pass "$name ($(grep -m1 '^finished in' "$out" | sed 's/^finished in //')${savings:+; $savings})"
  else
    fail "$name" "${req:-no requests line}; ${codes:-no status line}"
  fi
}

# peer_start NAME CMD...: a helper server in the background (log $WORK/NAME.log); stopped by the EXIT trap like
# the lwsws processes (same PID list); its pid is in LAST_PID and PID_<NAME>
peer_start() {
  local name="$1"
  shift
  "$@" >"$WORK/$name.log" 2>&1 </dev/null &
  LAST_PID=$!
  LWSWS_PIDS+=("$LAST_PID")
  eval "PID_${name//[^A-Za-z0-9_]/_}=$LAST_PID"
  log "started $name: $* (pid $LAST_PID)"
}

# lwsws_conf NAME: the vhosts JSON on stdin becomes $WORK/NAME.d/conf.d/site (plus a global conf naming the
# calling script in its server string); starts lwsws -c
lwsws_conf() {
  local dir="$WORK/$1.d" script
  script="$(basename "$0" .sh)"
  mkdir -p "$dir/conf.d"
  printf '# %s.sh\n{ "global": { "server-string": "lwsws-%s-conformance" } }\n' "$script" "$script" >"$dir/conf"
  cat >"$dir/conf.d/site"
  lwsws_start "$1" -c "$dir"
}
