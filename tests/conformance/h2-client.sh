#!/usr/bin/env bash
# tests/conformance/h2-client.sh — our HTTP client (the minimal-http-client examples) against nginx and h2o
# (Debian packages started here on loopback) and against lwsws: HTTP/2 over TLS by ALPN and h2c by prior
# knowledge, a 1 MiB body byte for byte, 20 requests multiplexed on one connection, POSTs, and --h1.
# Env LWSWS, LWS_HTTP_CLIENT, LWS_HTTP_CLIENT_MULTI (default <repo>/target/release/...).
# Prints PASS/FAIL lines and "N passed, M failed"; exits non-zero if anything failed.
set -euo pipefail
# shellcheck source=tests/conformance/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

need_lwsws
need_cmd openssl python3
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
H2O="$(command -v h2o || echo /usr/bin/h2o)"
[ -x "$NGINX" ] || die "nginx not found: run 'bash tests/conformance/install.sh nginx' (as root)"
[ -x "$H2O" ] || die "h2o not found: run 'bash tests/conformance/install.sh h2o' (as root)"
CLIENT="${LWS_HTTP_CLIENT:-$REPO/target/release/minimal-http-client}"
MULTI="${LWS_HTTP_CLIENT_MULTI:-$REPO/target/release/minimal-http-client-multi}"
for b in "$CLIENT" "$MULTI"; do
  [ -x "$b" ] || die "$b not found: cargo build --release -p lws-examples --bin $(basename "$b")"
done

make_test_cert
WWW="$WORK/www"
mkdir -p "$WWW"
# nginx workers run unprivileged: the docroot (and the scratch dir above it) must be world-readable.
chmod 755 "$WORK" "$WWW"
printf '<!DOCTYPE html>\n<html><head><title>peer</title></head><body>peer index</body></html>\n' >"$WWW/index.html"
head -c 1048576 /dev/urandom >"$WWW/1m.bin"
chmod 644 "$WWW"/*

# ---- peers -----------------------------------------------------------------------------------------------
NG_TLS="$(free_port)" NG_H2C="$(free_port)"
mkdir -p "$WORK/nginx/logs" "$WORK/nginx/tmp"
cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
error_log $WORK/nginx/logs/error.log warn;
pid $WORK/nginx/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/tmp/body; proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fcgi; uwsgi_temp_path $WORK/nginx/tmp/uwsgi; scgi_temp_path $WORK/nginx/tmp/scgi;
  types { text/html html; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$NG_TLS ssl http2;
    listen 127.0.0.1:$NG_H2C http2;
    ssl_certificate $WORK/cert.pem; ssl_certificate_key $WORK/key.pem;
    root $WWW;
    location = /upload { return 200 "ok\n"; }
  }
}
CONF
"$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -e "$WORK/nginx/logs/error.log" >"$WORK/nginx.log" 2>&1 &
NGINX_PID=$!

H2O_TLS="$(free_port)" H2O_H2C="$(free_port)"
cat >"$WORK/h2o.conf" <<CONF
num-threads: 1
error-log: $WORK/h2o-error.log
listen:
  host: 127.0.0.1
  port: $H2O_H2C
listen:
  host: 127.0.0.1
  port: $H2O_TLS
  ssl:
    certificate-file: $WORK/cert.pem
    key-file: $WORK/key.pem
    ocsp-update-interval: 0
hosts:
  default:
    paths:
      /:
        file.dir: $WWW
CONF
"$H2O" -c "$WORK/h2o.conf" >"$WORK/h2o.log" 2>&1 &
H2O_PID=$!

LW_H2C="$(free_port)" LW_TLS="$(free_port)"
lwsws_start lw-h2c --interface 127.0.0.1 --port "$LW_H2C" --docroot "$WWW"
lwsws_start lw-tls --interface 127.0.0.1 --port "$LW_TLS" --docroot "$WWW" --tls-cert "$WORK/cert.pem" \
  --tls-key "$WORK/key.pem"

stop_peers() {
  kill "$NGINX_PID" "$H2O_PID" >/dev/null 2>&1 || true
  wait "$NGINX_PID" "$H2O_PID" 2>/dev/null || true
}
trap 'stop_peers; _conf_cleanup' EXIT

wait_http nginx "https://127.0.0.1:$NG_TLS/" -k
wait_http h2o "https://127.0.0.1:$H2O_TLS/" -k
wait_http lwsws-h2c "http://127.0.0.1:$LW_H2C/"
wait_http lwsws-tls "https://127.0.0.1:$LW_TLS/" -k

# ---- checks ----------------------------------------------------------------------------------------------
# get NAME URL WANT_VERSION FILE [CLIENT_ARGS...]: status 200 with that version, body equal to FILE
get() {
  local name="$1" url="$2" want="$3" file="$4"
  shift 4
  local out="$WORK/${name//\//-}.body" err="$WORK/${name//\//-}.err"
  if ! timeout 60 "$CLIENT" -k "$@" "$url" >"$out" 2>"$err"; then
    fail "$name" "client failed: $(tail -2 "$err" | tr '\n' ' ')"
  elif [ "$(head -1 "$err")" != "$want 200" ]; then
    fail "$name" "first line '$(head -1 "$err")', want '$want 200'"
  elif ! cmp -s "$out" "$file"; then
    fail "$name" "body differs ($(stat -c %s "$out") bytes, want $(stat -c %s "$file"))"
  else
    pass "$name"
  fi
}

# multi NAME URL COUNT WANT_VERSION [CLIENT_ARGS...]: COUNT requests on one connection, all 2xx, all WANT_VERSION
multi() {
  local name="$1" url="$2" count="$3" want="$4"
  shift 4
  local out="$WORK/${name//\//-}.multi"
  if ! timeout 60 "$MULTI" -k -p -n "$count" "$@" "$url" >"$out" 2>&1; then
    fail "$name" "$(tail -3 "$out" | tr '\n' ' ')"
  elif ! grep -q "^$count/$count requests succeeded" "$out"; then
    fail "$name" "$(tail -1 "$out")"
  elif [ "$(grep -c "($want)" "$out")" != "$count" ]; then
    fail "$name" "not all over $want: $(grep -v "($want)" "$out" | head -2 | tr '\n' ' ')"
  else
    pass "$name"
  fi
}

for peer in nginx h2o lwsws; do
  case "$peer" in
    nginx) tls="$NG_TLS" h2c="$NG_H2C" post=/upload ;;
    h2o) tls="$H2O_TLS" h2c="$H2O_H2C" post= ;;
    lwsws) tls="$LW_TLS" h2c="$LW_H2C" post= ;;
  esac
  get "$peer/tls-h2-index" "https://127.0.0.1:$tls/index.html" HTTP/2 "$WWW/index.html"
  get "$peer/tls-h2-1mib" "https://127.0.0.1:$tls/1m.bin" HTTP/2 "$WWW/1m.bin"
  get "$peer/h2c-index" "http://127.0.0.1:$h2c/index.html" HTTP/2 "$WWW/index.html" --h2c
  get "$peer/h2c-1mib" "http://127.0.0.1:$h2c/1m.bin" HTTP/2 "$WWW/1m.bin" --h2c
  get "$peer/tls-h1-index" "https://127.0.0.1:$tls/index.html" HTTP/1.1 "$WWW/index.html" --h1
  multi "$peer/tls-multiplexed-20" "https://127.0.0.1:$tls/index.html" 20 HTTP/2
  multi "$peer/h2c-multiplexed-20" "http://127.0.0.1:$h2c/1m.bin" 20 HTTP/2 --h2c
  if [ -n "$post" ]; then
    multi "$peer/tls-post-5" "https://127.0.0.1:$tls$post" 5 HTTP/2 --post
  fi
done

alive_check lw-tls lwsws-tls-alive
lwsws_stop lw-tls
lwsws_stop lw-h2c
summary
