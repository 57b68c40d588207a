#!/usr/bin/env bash
# tests/conformance/raw.sh [--full] — lwsws raw vhosts, the libwebsockets listen-accept fallback and the lws-rs
# sniff rules, against real peers on loopback (OpenSSH, openssl s_server, curl, Chromium, nc, socat, Python):
#   1. fallback: a TLS vhost whose non-TLS fallback (allow-non-tls) is raw-proxy to our own sshd: ssh, an scp round
#      trip with sha256 compared, and meanwhile curl --http2 (and Chromium, when installed) get the page over h2 on
#      the same port;
#   2. sslh-style rules on one TLS port: ssh -> sshd, TLS with SNI other.test -> openssl s_server (told apart by its
#      certificate), plain HTTP -> an onward HTTP service, silence -> a server-speaks-first service, anything else
#      -> lws-raw-echo, and the vhost's own HTTPS for everything else TLS;
#   3. raw vhosts: lws-raw-echo with nc, socat and Python (echo, half-close both ways), raw-proxy with every onward
#      form (ipv4, ipv6, unix, tcp), big transfers with sha256, 2,000 concurrent proxied connections;
#   4. bad input: onward refused, silence and 1-byte writes on a fallback port, 3 bytes then half-close or silence
#      (reach the fallback), a line with an unknown method (libwebsockets: fallback), TLS to a cleartext port and
#      HTTP to a TLS port without fallback, redirect-http before the fallback on a TLS port, and a fallback port
#      under two rounds of connections that never speak (VmRSS before/during/after, <= 16 KiB per connection, no
#      climb in the second round, a normal request during each, all closed by the server after the sniff wait).
# --full: bigger sizes (scp 512 MiB, raw transfers 1 GiB, flood 8,000). Env overrides: RAW_SCP_MIB, RAW_XFER_MIB,
# RAW_CONC, RAW_FLOOD, SSHD (default /usr/sbin/sshd), CHROMIUM, LWSWS (default <repo>/target/release/lwsws).
# Needs 'install.sh ssh socat netcat curl openssl python' (+ chromium for the optional browser check); run as root in
# CI (sshd then logs in as root with a fresh key; as another user it logs in as that user).
# Prints PASS/FAIL lines (SKIP lines are not counted) and "N passed, M failed"; exits non-zero if anything failed.
set -euo pipefail
# shellcheck source=tests/conformance/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

FULL=0
for arg in "$@"; do
  case "$arg" in
    --full) FULL=1 ;;
    *) die "unknown argument '$arg' (usage: raw.sh [--full])" ;;
  esac
done
if [ "$FULL" = 1 ]; then
  SCP_MIB="${RAW_SCP_MIB:-512}" XFER_MIB="${RAW_XFER_MIB:-1024}" CONC="${RAW_CONC:-2000}" FLOOD="${RAW_FLOOD:-8000}"
else
  SCP_MIB="${RAW_SCP_MIB:-64}" XFER_MIB="${RAW_XFER_MIB:-64}" CONC="${RAW_CONC:-2000}" FLOOD="${RAW_FLOOD:-2000}"
fi
T_START=$(date +%s)

SSHD="${SSHD:-$(command -v sshd || echo /usr/sbin/sshd)}"
SFTP_SERVER=""
for f in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server /usr/libexec/sftp-server; do
  [ -x "$f" ] && { SFTP_SERVER="$f"; break; }
done
PEERS=(python3 "$CONF_DIR/peers/raw_peers.py")
CDP="$CONF_DIR/peers/chromium_cdp.py"

need_lwsws
need_cmd curl openssl python3 ssh scp ssh-keygen socat nc sha256sum timeout
[ -x "$SSHD" ] || die "sshd not found (SSHD=$SSHD): run 'bash tests/conformance/install.sh ssh' (as root)"
[ -n "$SFTP_SERVER" ] || die "no sftp-server (scp needs it): run 'bash tests/conformance/install.sh ssh' (as root)"

# Every connection costs an fd in the client and one or two in lwsws: use the hard limit (this process's children
# inherit it), and scale the load down if that is still too low.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE="$(ulimit -n)"
if [ "$NOFILE" != unlimited ]; then
  for v in CONC FLOOD; do
    lim=$(((NOFILE - 200) / 2))
    if [ "${!v}" -gt "$lim" ]; then
      log "fd limit $NOFILE: $v ${!v} -> $lim"
      eval "$v=$lim"
    fi
  done
fi

# ---- helpers ------------------------------------------------------------------------------------------------------
# peer_check NAME CLIENT ARGS...: one raw_peers.py client; its "OK detail" / "ERR detail" line is the check
peer_check() {
  local name="$1" line rc=0
  shift
  line="$(timeout -k 5 900 "${PEERS[@]}" "$@" 2>"$WORK/$name.peer.err" | tail -1)" || rc=$?
  case "$line" in
    "OK "*) pass "$name (${line#OK })" ;;
    "ERR "*) fail "$name" "${line#ERR }" ;;
    *) fail "$name" "raw_peers.py $1 exited $rc without a verdict: $(tail -3 "$WORK/$name.peer.err" | tr '\n' ' ')" ;;
  esac
}

# bg_peer_check NAME CLIENT ARGS...: the same in the background; collect with bg_collect NAME
bg_peer_check() {
  local name="$1"
  shift
  (timeout -k 5 900 "${PEERS[@]}" "$@" >"$WORK/$name.bg" 2>"$WORK/$name.peer.err" || true) &
  eval "BG_${name//[^A-Za-z0-9_]/_}=$!"
}
bg_collect() {
  local v="BG_${1//[^A-Za-z0-9_]/_}" line
  wait "${!v}" 2>/dev/null || true
  line="$(tail -1 "$WORK/$1.bg" 2>/dev/null || true)"
  case "$line" in
    "OK "*) pass "$1 (${line#OK })" ;;
    "ERR "*) fail "$1" "${line#ERR }" ;;
    *) fail "$1" "no verdict: $(tail -3 "$WORK/$1.peer.err" 2>/dev/null | tr '\n' ' ')" ;;
  esac
}

# h2_page NAME URL [CURL_ARGS...]: HTTP/2 200 with our docroot page
h2_page() {
  local name="$1" url="$2" got
  shift 2
  got="$("${CURL[@]}" -k --http2 -o "$WORK/$name.body" -w '%{http_version} %{http_code}' "$@" "$url" \
    2>"$WORK/$name.err" || true)"
  if [ "$got" = "2 200" ] && grep -q "$MARKER" "$WORK/$name.body"; then
    return 0
  fi
  H2_PAGE_WHY="http_version+status '$got' (want '2 200'), body: $(head -c 100 "$WORK/$name.body" | tr '\n' ' ') \
$(head -c 200 "$WORK/$name.err" | tr '\n' ' ')"
  return 1
}

# server_ok NAME URL [CURL_ARGS...]: lwsws NAME is alive and still answers URL with 200
server_ok() {
  local name="$1" url="$2" pid code
  shift 2
  pid="$(_pid_of "$name")"
  code="$(http_code "$url" "$@")"
  [ -n "$pid" ] && _alive "$pid" && [ "$code" = 200 ] && return 0
  SERVER_OK_WHY="lwsws $name $(_alive "$pid" && echo alive || echo 'not running'), $url -> $code"
  return 1
}

ssh_opts() {
  SSH_OPTS=(-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes
    -o IdentitiesOnly=yes -o LogLevel=ERROR -o ConnectTimeout=10 -o ServerAliveInterval=10 -i "$SSHDIR/id")
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# ---- common setup: certificates, docroot, sshd, onward services ------------------------------------------------
make_test_cert
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other.test" -addext "subjectAltName=DNS:other.test" \
  -keyout "$WORK/other-key.pem" -out "$WORK/other-cert.pem" >"$WORK/openssl-other.log" 2>&1 ||
  die "openssl could not make the other.test certificate"

MARKER="raw-conformance-docroot-$$"
WWW="$WORK/www"
mkdir -p "$WWW"
printf '<!DOCTYPE html>\n<html><head><title>raw-conformance</title></head><body>%s</body></html>\n' "$MARKER" \
  >"$WWW/index.html"
MOUNT="\"mounts\": [{ \"mountpoint\": \"/\", \"origin\": \"file://$WWW\", \"default\": \"index.html\" }]"

# sshd: own host key, own config, a fresh client key authorized for the current user, in the foreground (-D)
SSHDIR="$WORK/ssh"
mkdir -p "$SSHDIR"
chmod 700 "$SSHDIR"
ssh-keygen -q -t ed25519 -N '' -C raw-conformance-host -f "$SSHDIR/host_ed25519" || die "ssh-keygen (host key) failed"
ssh-keygen -q -t ed25519 -N '' -C raw-conformance-client -f "$SSHDIR/id" || die "ssh-keygen (client key) failed"
cp "$SSHDIR/id.pub" "$SSHDIR/authorized_keys"
# sshd started as root needs its privilege separation directory (tmpfs /run: gone after a reboot)
if [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then mkdir -p /run/sshd && chmod 755 /run/sshd; fi
P_SSH="$(free_port)"
cat >"$SSHDIR/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $P_SSH
HostKey $SSHDIR/host_ed25519
PidFile $SSHDIR/sshd.pid
AuthorizedKeysFile $SSHDIR/authorized_keys
UsePAM no
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers $(id -un)
MaxStartups 100:30:200
Subsystem sftp $SFTP_SERVER
LogLevel INFO
EOF
peer_start sshd "$SSHD" -D -e -f "$SSHDIR/sshd_config"
wait_tcp sshd "$P_SSH"
ssh_opts

# Python onward services (one asyncio process) and the second TLS service for SNI routing
P_ECHO="$(free_port)" P_ECHO6="" P_SINK="$(free_port)" P_HC="$(free_port)" P_BANNER="$(free_port)"
P_HTTP="$(free_port)"
HC_DIR="$WORK/hc"
UNIX_ECHO="$WORK/echo.sock"
mkdir -p "$HC_DIR"
V6=0
if python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
  V6=1
  P_ECHO6="$(python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0)); print(s.getsockname()[1])')"
fi
peer_start onward "${PEERS[@]}" serve --echo "$P_ECHO" ${P_ECHO6:+--echo6 "$P_ECHO6"} --echo-unix "$UNIX_ECHO" \
  --sink "$P_SINK" --hc "$P_HC" --hc-dir "$HC_DIR" --banner "$P_BANNER" --http "$P_HTTP"
wait_line onward ready

P_OTHER="$(free_port)"
peer_start other openssl s_server -accept "127.0.0.1:$P_OTHER" -cert "$WORK/other-cert.pem" \
  -key "$WORK/other-key.pem" -www -naccept 1000
wait_tcp other "$P_OTHER"

# ---- 1. OpenSSH through the fallback of a TLS vhost -------------------------------------------------------------
P_FB="$(free_port)"
lwsws_conf fb <<EOF
{ "vhosts": [{
  "name": "fallback-ssh", "port": "$P_FB", "interface": "127.0.0.1",
  "host-ssl-cert": "$WORK/cert.pem", "host-ssl-key": "$WORK/key.pem",
  "fallback-listen-accept": "1", "allow-non-tls": "1", "listen-accept-protocol": "raw-proxy",
  "ws-protocols": [{ "raw-proxy": { "onward": "ipv4:127.0.0.1:$P_SSH" } }],
  $MOUNT
}] }
EOF
wait_http fb "https://127.0.0.1:$P_FB/" -k
B_FB="https://127.0.0.1:$P_FB"

if h2_page fb-https-before "$B_FB/"; then pass fallback-port-serves-https-h2
else fail fallback-port-serves-https-h2 "$H2_PAGE_WHY"; fi

got="$(timeout 30 ssh "${SSH_OPTS[@]}" -p "$P_FB" 127.0.0.1 echo ok 2>"$WORK/ssh1.err" | tail -n 1 || true)"
if [ "$got" = ok ]; then pass "fallback-ssh-echo-ok (ssh -p $P_FB 127.0.0.1 echo ok -> ok)"
else fail fallback-ssh-echo-ok "got '$got': $(head -c 300 "$WORK/ssh1.err" | tr '\n' ' ')"; fi

# scp up and back down, rate-limited so that it lasts >= ~5 s each way while curl and Chromium use the port
SRC="$WORK/scp-src.bin"
head -c $((SCP_MIB << 20)) /dev/urandom >"$SRC"
LIMIT_KBIT=$((SCP_MIB * 1048576 * 8 / 1000 / 5))
(
  t0=$(date +%s%N)
  timeout 600 scp "${SSH_OPTS[@]}" -l "$LIMIT_KBIT" -P "$P_FB" "$SRC" "127.0.0.1:$WORK/scp-up.bin" &&
    timeout 600 scp "${SSH_OPTS[@]}" -l "$LIMIT_KBIT" -P "$P_FB" "127.0.0.1:$WORK/scp-up.bin" "$WORK/scp-down.bin"
  echo "$? $(( ($(date +%s%N) - t0) / 1000000 ))" >"$WORK/scp.rc"
) >"$WORK/scp.log" 2>&1 &
SCP_JOB=$!
LWSWS_PIDS+=("$SCP_JOB")
# the upload has started once sshd created the file
for ((i = 0; i < 100; i++)); do [ -e "$WORK/scp-up.bin" ] || [ -e "$WORK/scp.rc" ] && break; sleep 0.1; done

if h2_page fb-https-during "$B_FB/"; then
  if _alive "$SCP_JOB"; then pass "fallback-https-h2-during-scp (curl --http2 -> 2 200 while scp runs)"
  else fail fallback-https-h2-during-scp "curl got 2 200 but scp was no longer running: $(cat "$WORK/scp.rc" 2>/dev/null)"; fi
else fail fallback-https-h2-during-scp "$H2_PAGE_WHY"; fi

# a second ssh session at the same time
got="$(timeout 30 ssh "${SSH_OPTS[@]}" -p "$P_FB" 127.0.0.1 'echo second-session' 2>"$WORK/ssh2.err" | tail -n 1 || true)"
if [ "$got" = second-session ]; then pass fallback-second-ssh-during-scp
else fail fallback-second-ssh-during-scp "got '$got': $(head -c 300 "$WORK/ssh2.err" | tr '\n' ' ')"; fi

if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "${CHROMIUM:-}" ]; then
  got="$(CHROMIUM_EXTRA="${CHROMIUM_EXTRA:-} --ignore-certificate-errors" timeout 120 python3 "$CDP" eval "$B_FB/" 1 \
    'performance.getEntriesByType("navigation")[0].nextHopProtocol + " " + document.body.textContent.trim()' \
    2>"$WORK/chromium.err" || true)"
  during="$(_alive "$SCP_JOB" && echo 'while scp runs' || echo 'scp had finished')"
  if [ "$got" = "h2 $MARKER" ]; then pass "fallback-chromium-page-over-h2 ($during)"
  else fail fallback-chromium-page-over-h2 "got '$got' (want 'h2 $MARKER'): $(tail -3 "$WORK/chromium.err" | tr '\n' ' ')"; fi
else
  echo "SKIP fallback-chromium-page-over-h2: chromium not installed ('install.sh chromium')"
fi

wait "$SCP_JOB" 2>/dev/null || true
read -r scp_rc scp_ms <"$WORK/scp.rc" 2>/dev/null || { scp_rc=none; scp_ms=0; }
if [ "$scp_rc" = 0 ] && [ "$(sha "$SRC")" = "$(sha "$WORK/scp-up.bin")" ] &&
  [ "$(sha "$SRC")" = "$(sha "$WORK/scp-down.bin")" ]; then
  pass "fallback-scp-${SCP_MIB}MiB-round-trip-sha256 (up and down in $((scp_ms / 1000)).$(printf %03d $((scp_ms % 1000))) s, -l $LIMIT_KBIT Kbit/s)"
else
  fail "fallback-scp-${SCP_MIB}MiB-round-trip-sha256" "scp exit $scp_rc; sha256 src $(sha "$SRC" | head -c 12) \
up $( [ -e "$WORK/scp-up.bin" ] && sha "$WORK/scp-up.bin" | head -c 12) down $( [ -e "$WORK/scp-down.bin" ] && sha "$WORK/scp-down.bin" | head -c 12); \
$(tail -3 "$WORK/scp.log" | tr '\n' ' ')"
fi
rm -f "$WORK/scp-up.bin" "$WORK/scp-down.bin"
if server_ok fb "$B_FB/" -k; then pass fallback-server-alive; else fail fallback-server-alive "$SERVER_OK_WHY"; fi

# ---- 2. sslh-style rules on one TLS port -------------------------------------------------------------------------
P_MUX="$(free_port)"
lwsws_conf mux <<EOF
{ "vhosts": [{
  "name": "mux", "port": "$P_MUX", "interface": "127.0.0.1",
  "host-ssl-cert": "$WORK/cert.pem", "host-ssl-key": "$WORK/key.pem",
  "listen-accept-rules": [
    { "match": "ssh", "protocol": "raw-proxy", "options": { "onward": "ipv4:127.0.0.1:$P_SSH" } },
    { "match": "tls", "sni": "other.test", "protocol": "raw-proxy", "options": { "onward": "ipv4:127.0.0.1:$P_OTHER" } },
    { "match": "http", "protocol": "raw-proxy", "options": { "onward": "ipv4:127.0.0.1:$P_HTTP" } },
    { "match": "silent", "wait-ms": "1500", "protocol": "raw-proxy", "options": { "onward": "ipv4:127.0.0.1:$P_BANNER" } },
    { "match": "any", "protocol": "lws-raw-echo" }
  ],
  $MOUNT
}] }
EOF
wait_http mux "https://127.0.0.1:$P_MUX/" -k
B_MUX="https://127.0.0.1:$P_MUX"

got="$(timeout 30 ssh "${SSH_OPTS[@]}" -p "$P_MUX" 127.0.0.1 'echo ok' 2>"$WORK/ssh-mux.err" | tail -n 1 || true)"
if [ "$got" = ok ]; then pass "rules-ssh-to-sshd (ssh -p $P_MUX ... echo ok -> ok)"
else fail rules-ssh-to-sshd "got '$got': $(head -c 300 "$WORK/ssh-mux.err" | tr '\n' ' ')"; fi

head -c $((4 << 20)) /dev/urandom >"$WORK/mux-src.bin"
if timeout 120 scp "${SSH_OPTS[@]}" -P "$P_MUX" "$WORK/mux-src.bin" "127.0.0.1:$WORK/mux-up.bin" 2>"$WORK/scp-mux.err" &&
  [ "$(sha "$WORK/mux-src.bin")" = "$(sha "$WORK/mux-up.bin")" ]; then
  pass rules-scp-4MiB-sha256
else fail rules-scp-4MiB-sha256 "$(head -c 300 "$WORK/scp-mux.err" | tr '\n' ' ')"; fi

# SNI other.test goes to s_server: its certificate says so
timeout 20 openssl s_client -connect "127.0.0.1:$P_MUX" -servername other.test </dev/null >"$WORK/sclient-other.out" 2>&1 || true
subj="$(openssl x509 -noout -subject <"$WORK/sclient-other.out" 2>/dev/null || true)"
if [[ "$subj" == *"CN = other.test"* ]]; then pass "rules-tls-sni-other.test-to-s_server ($subj)"
else fail rules-tls-sni-other.test-to-s_server "certificate '$subj'; $(grep -m2 -i 'error\|errno' "$WORK/sclient-other.out" | tr '\n' ' ')"; fi
timeout 20 openssl s_client -connect "127.0.0.1:$P_MUX" -servername localhost </dev/null >"$WORK/sclient-own.out" 2>&1 || true
subj="$(openssl x509 -noout -subject <"$WORK/sclient-own.out" 2>/dev/null || true)"
if [[ "$subj" == *"CN = localhost"* ]]; then pass "rules-tls-other-sni-is-lwsws ($subj)"
else fail rules-tls-other-sni-is-lwsws "certificate '$subj'"; fi

fetch mux-other "https://other.test:$P_MUX/" -k --resolve "other.test:$P_MUX:127.0.0.1"
if [ "$(code_of mux-other)" = 200 ] && grep -q 's_server' "$WORK/mux-other.body"; then
  pass "rules-https-other.test-page-from-s_server"
else fail rules-https-other.test-page-from-s_server "status $(code_of mux-other), body $(head -c 100 "$WORK/mux-other.body" | tr '\n' ' ')"; fi

if h2_page mux-own "$B_MUX/"; then pass "rules-own-https-h2-default-sni (curl -k --http2 https://127.0.0.1:$P_MUX/ -> 2 200)"
else fail rules-own-https-h2-default-sni "$H2_PAGE_WHY"; fi
if h2_page mux-own-sni "https://localhost:$P_MUX/" --resolve "localhost:$P_MUX:127.0.0.1"; then pass rules-own-https-h2-sni-localhost
else fail rules-own-https-h2-sni-localhost "$H2_PAGE_WHY"; fi

fetch mux-http "http://127.0.0.1:$P_MUX/"
if [ "$(code_of mux-http)" = 200 ] && [ "$(cat "$WORK/mux-http.body")" = onward-http ]; then
  pass rules-plain-http-to-onward-http
else fail rules-plain-http-to-onward-http "status $(code_of mux-http), body $(head -c 100 "$WORK/mux-http.body" | tr '\n' ' ')"; fi

peer_check rules-silent-to-banner-after-wait-ms silent 127.0.0.1 "$P_MUX" --min 1.4 --max 4 --expect $'BANNER-OK\n'
got="$(printf 'neither-tls-nor-ssh-nor-http\n' | timeout 10 nc -N 127.0.0.1 "$P_MUX" || true)"
if [ "$got" = neither-tls-nor-ssh-nor-http ]; then pass "rules-any-to-lws-raw-echo (nc -N)"
else fail rules-any-to-lws-raw-echo "got '$got'"; fi
if server_ok mux "$B_MUX/" -k; then pass rules-server-alive; else fail rules-server-alive "$SERVER_OK_WHY"; fi

# ---- 3. raw vhosts: lws-raw-echo and raw-proxy ------------------------------------------------------------------
P_RECHO="$(free_port)" P_PECHO="$(free_port)" P_PSINK="$(free_port)" P_PHC="$(free_port)" P_PUNIX="$(free_port)"
P_PTCP="$(free_port)" P_PV6="$(free_port)" P_PREF="$(free_port)" P_DEAD="$(free_port)"
raw_vhost() { # NAME PORT PROTOCOL [ONWARD]
  if [ -n "${4:-}" ]; then
    printf '  { "name": "%s", "port": "%s", "interface": "127.0.0.1", "apply-listen-accept": "1",
    "listen-accept-role": "raw-proxy", "listen-accept-protocol": "raw-proxy",
    "ws-protocols": [{ "raw-proxy": { "onward": "%s" } }] }' "$1" "$2" "$4"
  else
    printf '  { "name": "%s", "port": "%s", "interface": "127.0.0.1", "apply-listen-accept": "1",
    "listen-accept-protocol": "%s" }' "$1" "$2" "$3"
  fi
}
raw_conf() {
  echo '{ "vhosts": ['
  raw_vhost raw-echo "$P_RECHO" lws-raw-echo
  echo ','
  raw_vhost proxy-echo "$P_PECHO" raw-proxy "ipv4:127.0.0.1:$P_ECHO"
  echo ','
  raw_vhost proxy-sink "$P_PSINK" raw-proxy "ipv4:127.0.0.1:$P_SINK"
  echo ','
  raw_vhost proxy-hc "$P_PHC" raw-proxy "ipv4:127.0.0.1:$P_HC"
  echo ','
  raw_vhost proxy-unix "$P_PUNIX" raw-proxy "unix:$UNIX_ECHO"
  echo ','
  raw_vhost proxy-tcp "$P_PTCP" raw-proxy "tcp:localhost:$P_ECHO"
  echo ','
  raw_vhost proxy-refused "$P_PREF" raw-proxy "ipv4:127.0.0.1:$P_DEAD"
  if [ "$V6" = 1 ]; then
    echo ','
    raw_vhost proxy-v6 "$P_PV6" raw-proxy "ipv6:[::1]:$P_ECHO6"
  fi
  echo '] }'
}
lwsws_conf raw < <(raw_conf)
wait_tcp raw "$P_RECHO"
wait_tcp raw "$P_PREF"

got="$(printf 'hello through nc\n' | timeout 10 nc -N 127.0.0.1 "$P_RECHO" || true)"
if [ "$got" = "hello through nc" ]; then pass "raw-echo-nc (nc -N: echo, then EOF after our half-close)"
else fail raw-echo-nc "got '$got'"; fi
got="$(printf 'hello through socat\n' | timeout 10 socat -t 5 - "TCP:127.0.0.1:$P_RECHO" || true)"
if [ "$got" = "hello through socat" ]; then pass raw-echo-socat
else fail raw-echo-socat "got '$got'"; fi
peer_check raw-echo-client-halfclose echo 127.0.0.1 "$P_RECHO" --msg "half-close from the client side"
peer_check "raw-echo-transfer-${XFER_MIB}MiB" transfer 127.0.0.1 "$P_RECHO" --size $((XFER_MIB << 20)) --mode echo

peer_check proxy-ipv4-echo-client-halfclose echo 127.0.0.1 "$P_PECHO" --msg "through raw-proxy ipv4"
peer_check proxy-server-halfclose server-halfclose 127.0.0.1 "$P_PHC" --hc-dir "$HC_DIR"
peer_check proxy-unix-echo echo 127.0.0.1 "$P_PUNIX" --msg "through raw-proxy unix:"
peer_check proxy-tcp-localhost-echo echo 127.0.0.1 "$P_PTCP" --msg "through raw-proxy tcp:localhost"
if [ "$V6" = 1 ]; then peer_check proxy-ipv6-echo echo 127.0.0.1 "$P_PV6" --msg "through raw-proxy ipv6:[::1]"
else echo "SKIP proxy-ipv6-echo: no ::1 on this machine"; fi
got="$(printf 'socat through the proxy\n' | timeout 10 socat -t 5 - "TCP:127.0.0.1:$P_PECHO" || true)"
if [ "$got" = "socat through the proxy" ]; then pass proxy-echo-socat
else fail proxy-echo-socat "got '$got'"; fi
peer_check "proxy-transfer-${XFER_MIB}MiB-to-sink" transfer 127.0.0.1 "$P_PSINK" --size $((XFER_MIB << 20)) --mode sink
peer_check "proxy-transfer-${XFER_MIB}MiB-echo" transfer 127.0.0.1 "$P_PECHO" --size $((XFER_MIB << 20)) --mode echo
peer_check "proxy-$CONC-concurrent" concurrent 127.0.0.1 "$P_PECHO" --n "$CONC" --pid "$(_pid_of raw)"

# ---- 4. bad input ---------------------------------------------------------------------------------------------
peer_check proxy-onward-refused-closed-promptly refused 127.0.0.1 "$P_PREF" --within 3
peer_check proxy-still-serving-after-refused echo 127.0.0.1 "$P_PECHO" --msg "still here"
alive_check raw raw-server-alive

P_BFB="$(free_port)" P_BPLAIN="$(free_port)" P_BTLS="$(free_port)" P_BREDIR="$(free_port)"
lwsws_conf bad <<EOF
{ "vhosts": [
  { "name": "fallback-echo", "port": "$P_BFB", "interface": "127.0.0.1",
    "fallback-listen-accept": "1", "listen-accept-protocol": "lws-raw-echo", $MOUNT },
  { "name": "plain-no-fallback", "port": "$P_BPLAIN", "interface": "127.0.0.1", $MOUNT },
  { "name": "tls-no-fallback", "port": "$P_BTLS", "interface": "127.0.0.1",
    "host-ssl-cert": "$WORK/cert.pem", "host-ssl-key": "$WORK/key.pem", $MOUNT },
  { "name": "tls-redirect-fallback", "port": "$P_BREDIR", "interface": "127.0.0.1",
    "host-ssl-cert": "$WORK/cert.pem", "host-ssl-key": "$WORK/key.pem", "redirect-http": "1",
    "fallback-listen-accept": "1", "allow-non-tls": "1", "listen-accept-protocol": "lws-raw-echo", $MOUNT }
] }
EOF
wait_http bad "http://127.0.0.1:$P_BFB/"
wait_http bad "http://127.0.0.1:$P_BPLAIN/"
wait_http bad "https://127.0.0.1:$P_BTLS/" -k
B_BFB="http://127.0.0.1:$P_BFB"
# The sniff wait on a plain port is the HTTP head timeout (10 s): these two run in the background meanwhile.
SNIFF_WAIT=10
bg_peer_check fallback-silent-closed-after-wait silent 127.0.0.1 "$P_BFB" --min $((SNIFF_WAIT - 1)) --max $((SNIFF_WAIT + 5))
bg_peer_check fallback-3-bytes-then-silence-to-echo silent 127.0.0.1 "$P_BFB" --send abc --expect abc --keep-open \
  --min $((SNIFF_WAIT - 1)) --max $((SNIFF_WAIT + 5))

fetch bad-get "$B_BFB/"
if [ "$(code_of bad-get)" = 200 ] && grep -q "$MARKER" "$WORK/bad-get.body"; then pass fallback-port-serves-http
else fail fallback-port-serves-http "status $(code_of bad-get)"; fi
peer_check fallback-1-byte-writes-http-200 drip 127.0.0.1 "$P_BFB" --delay 0.01
peer_check fallback-3-bytes-halfclose-to-echo echo 127.0.0.1 "$P_BFB" --msg abc
# libwebsockets falls back when the first token is not an HTTP method it knows (lws_parse -> LPR_DO_FALLBACK), so
# a text protocol whose first line is "WORD SP ..." reaches the fallback too
got="$(printf 'HELO raw.test\r\n' | timeout 10 nc -N 127.0.0.1 "$P_BFB" || true)"
if [ "$got" = $'HELO raw.test\r' ]; then pass "fallback-unknown-method-line-to-echo (HELO raw.test)"
else fail fallback-unknown-method-line-to-echo "'HELO raw.test' + CRLF then half-close: got '$(head -c 60 <<<"$got" | tr '\r\n' '  ')' \
(want the line echoed by the fallback, as libwebsockets does for an unknown method)"; fi
got="$(printf 'no-space-token\n' | timeout 10 nc -N 127.0.0.1 "$P_BFB" || true)"
if [ "$got" = no-space-token ]; then pass fallback-non-http-line-to-echo
else fail fallback-non-http-line-to-echo "got '$(head -c 60 <<<"$got" | tr '\r\n' '  ')'"; fi

peer_check plain-no-fallback-tls-clienthello tls-to-plain 127.0.0.1 "$P_BPLAIN" --within 5
if server_ok bad "http://127.0.0.1:$P_BPLAIN/"; then pass plain-no-fallback-still-serving
else fail plain-no-fallback-still-serving "$SERVER_OK_WHY"; fi
peer_check tls-no-fallback-plain-http http-to-tls 127.0.0.1 "$P_BTLS" --within 5
peer_check tls-no-fallback-junk-closed http-to-tls 127.0.0.1 "$P_BTLS" --within 5 --send 'hello?\n'
if server_ok bad "https://127.0.0.1:$P_BTLS/" -k; then pass tls-no-fallback-still-serving
else fail tls-no-fallback-still-serving "$SERVER_OK_WHY"; fi

# redirect-http keeps plain HTTP on a TLS port with a fallback; everything else that is not TLS falls back
fetch redir "http://127.0.0.1:$P_BREDIR/"
case "$(code_of redir) $(header_of redir location)" in
  30[1278]" https://"*) pass "tls-fallback-redirect-http-keeps-priority ($(code_of redir) -> $(header_of redir location))" ;;
  *) fail tls-fallback-redirect-http-keeps-priority "status $(code_of redir), location '$(header_of redir location)', \
body $(head -c 60 "$WORK/redir.body" | tr '\r\n' '  ')" ;;
esac
got="$(printf 'not-http-not-tls\n' | timeout 10 nc -N 127.0.0.1 "$P_BREDIR" || true)"
if [ "$got" = not-http-not-tls ]; then pass tls-fallback-redirect-other-bytes-to-echo
else fail tls-fallback-redirect-other-bytes-to-echo "got '$(head -c 60 <<<"$got" | tr '\r\n' '  ')'"; fi
if h2_page redir-https "https://127.0.0.1:$P_BREDIR/"; then pass tls-fallback-redirect-https-h2
else fail tls-fallback-redirect-https-h2 "$H2_PAGE_WHY"; fi

bg_collect fallback-silent-closed-after-wait
bg_collect fallback-3-bytes-then-silence-to-echo

# Flood: connections that never speak sit in the sniff until the wait ends; memory must stay bounded and the port
# must keep serving.
peer_check "fallback-flood-2x$FLOOD-silent-connections" flood 127.0.0.1 "$P_BFB" --n "$FLOOD" --pid "$(_pid_of bad)" \
  --wait "$SNIFF_WAIT" --max-kib-per-conn 16
if server_ok bad "$B_BFB/"; then pass fallback-still-serving-after-flood
else fail fallback-still-serving-after-flood "$SERVER_OK_WHY"; fi

# ---- shutdown -----------------------------------------------------------------------------------------------------
for s in fb mux raw bad; do
  lwsws_stop "$s"
  expect_eq "$s-sigterm-exit-0" "$STOP_RC" 0
done
log "run time $(($(date +%s) - T_START)) s"
summary
