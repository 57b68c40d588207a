#!/usr/bin/env bash
# tests/conformance/compression.sh — lwsws response compression against independent decoders and clients:
#   curl over HTTP/1.1, h2c prior knowledge and h2 over TLS asks for each coding (gzip, br, zstd) and the bodies
#   are decoded by Python's gzip, PyPI brotli and PyPI zstandard (peers/decode_body.py) and compared by sha256
#   with the files; `curl --compressed` decodes with its own libraries; q-values choose; Range, HEAD, images,
#   tiny files, a mount with "compression": "0", garbage Accept-Encoding and `no-transform` are sent as they are;
#   a fresh precompressed sibling (app.js.br, made by Python's brotli) is sent byte for byte and a stale one
#   (style.css.gz older than style.css) is not; a response proxied from an origin that does not compress (Python's
#   http.server) is compressed; twenty clients reading 1 KiB/s from compressed streams leave the server's memory
#   bounded; headless Chromium loads a page whose HTML, script and style arrive compressed (encoded size below
#   decoded size), runs the script and logs no error.
# Needs 'install.sh curl openssl python pycomp' (+ chromium for the browser check). Prints PASS/FAIL lines and
# "N passed, M failed"; exits non-zero if anything failed.
set -euo pipefail
# shellcheck source=tests/conformance/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

need_lwsws
need_cmd curl openssl python3 sha256sum
PEERS_HOME="${LWS_PEERS_HOME:-$HOME/.cache/lws-peers}"
VENV_PY="$PEERS_HOME/venv/bin/python"
"$VENV_PY" -c 'import brotli, zstandard' >/dev/null 2>&1 ||
  die "no Python brotli + zstandard in $PEERS_HOME/venv: run 'bash tests/conformance/install.sh pycomp' (as root)"
DECODE=("$VENV_PY" "$CONF_DIR/peers/decode_body.py")
CDP="$CONF_DIR/peers/chromium_cdp.py"
sha() { sha256sum "$1" | cut -d' ' -f1; }

# ---- the site ----------------------------------------------------------------------------------------------------------
WWW="$WORK/www"
mkdir -p "$WWW"
python3 - "$WWW" <<'PY'
import os, random, sys
www = sys.argv[1]
rnd = random.Random(7)
words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt".split()
text = lambda n: " ".join(rnd.choice(words) for _ in range(n))
open(os.path.join(www, "page.html"), "w").write(
    "<!DOCTYPE html><html><head><meta charset=utf-8><title>compressed</title>"
    "<link rel=stylesheet href=style.css><script src=app.js></script></head><body>"
    + "".join("<p>%s</p>\n" % text(40) for _ in range(400)) + "</body></html>\n")
open(os.path.join(www, "app.js"), "w").write(
    "window.appLoaded = true;\n" + "".join("var v%d = %r;\n" % (i, text(12)) for i in range(1500)))
open(os.path.join(www, "style.css"), "w").write(
    "".join(".c%d { color: #%06x; margin: %dpx; }\n" % (i, rnd.randrange(1 << 24), i % 17) for i in range(3000)))
open(os.path.join(www, "image.png"), "wb").write(bytes(rnd.randrange(256) for _ in range(20000)))
open(os.path.join(www, "tiny.txt"), "w").write("tiny\n")
# A text body that compresses only a little (base64 of random bytes): 8 MiB for the slow readers.
import base64
open(os.path.join(www, "slow.txt"), "wb").write(base64.encodebytes(os.urandom(6 * 1024 * 1024)))
PY
"$VENV_PY" - "$WWW" <<'PY'
import brotli, gzip, os, sys
www = sys.argv[1]
js = open(os.path.join(www, "app.js"), "rb").read()
open(os.path.join(www, "app.js.br"), "wb").write(brotli.compress(js, quality=11))
# A stale sibling: older than style.css, and not its content.
open(os.path.join(www, "style.css.gz"), "wb").write(gzip.compress(b"/* an old stylesheet */\n"))
os.utime(os.path.join(www, "style.css.gz"), (1_500_000_000, 1_500_000_000))
PY
make_test_cert

# ---- origin (no compression of its own) and lwsws ---------------------------------------------------------------------
OR=$(free_port)
peer_start origin python3 -m http.server "$OR" --bind 127.0.0.1 --directory "$WWW"
wait_for origin "answer on $OR" curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$OR/tiny.txt"

P=$(free_port)
PS=$(free_port)
mounts() {
  cat <<EOF
    "mounts": [
      { "mountpoint": "/", "origin": "file://$WWW", "default": "page.html" },
      { "mountpoint": "/off", "origin": "file://$WWW", "compression": "0" },
      { "mountpoint": "/fast", "origin": "file://$WWW", "compression-level": "1" },
      { "mountpoint": "/proxy", "origin": "http://127.0.0.1:$OR/" }
    ]
EOF
}
lwsws_conf site <<EOF
{ "vhosts": [
  { "name": "plain", "port": "$P", "interface": "127.0.0.1",
$(mounts) },
  { "name": "tls", "port": "$PS", "interface": "127.0.0.1",
    "host-ssl-cert": "$WORK/cert.pem", "host-ssl-key": "$WORK/key.pem",
$(mounts) }
] }
EOF
wait_http site "http://127.0.0.1:$P/tiny.txt"
wait_http site "https://127.0.0.1:$PS/tiny.txt" -k

WAYS=(h1 h2c h2s)
way_url() { case "$1" in h1 | h2c) echo "http://127.0.0.1:$P$2" ;; *) echo "https://127.0.0.1:$PS$2" ;; esac; }
way_args() {
  case "$1" in
    h1) WAY_ARGS=(--http1.1) ;;
    h2c) WAY_ARGS=(--http2-prior-knowledge) ;;
    h2s) WAY_ARGS=(-k --http2) ;;
  esac
}

# get NAME WAY PATH [CURL_ARGS...]: fetch (raw bytes, no decoding) into $WORK/NAME.{hdr,body,code}
get() {
  local name="$1" way="$2" path="$3"
  shift 3
  way_args "$way"
  fetch "$name" "$(way_url "$way" "$path")" "${WAY_ARGS[@]}" "$@"
}

# coded NAME WAY PATH CODING FILE [CURL_ARGS...]: asks for CODING; the response must carry it, vary on
# Accept-Encoding, and decode (independently) to FILE
coded() {
  local name="$1" way="$2" path="$3" coding="$4" file="$5" got ce vary
  shift 5
  get "$name" "$way" "$path" -H "Accept-Encoding: $coding" "$@"
  ce="$(header_of "$name" content-encoding)"
  vary="$(header_of "$name" vary)"
  got="$("${DECODE[@]}" "$coding" "$WORK/$name.body" 2>&1 || true)"
  if [ "$(code_of "$name") $ce" = "200 $coding" ] && [[ "$vary" == *accept-encoding* ]] &&
    [ "$got" = "$(sha "$file")" ]; then
    pass "$name ($coding: $(stat -c %s "$WORK/$name.body") of $(stat -c %s "$file") bytes)"
  else
    fail "$name" "status $(code_of "$name"), content-encoding '$ce', vary '$vary', decoded: $got"
  fi
}

# plain NAME WAY PATH FILE WHY [CURL_ARGS...]: must come back as it is (no content-encoding, the file's bytes)
plain() {
  local name="$1" way="$2" path="$3" file="$4" why="$5" ce
  shift 5
  get "$name" "$way" "$path" "$@"
  ce="$(header_of "$name" content-encoding)"
  if [ -z "$ce" ] && [ "$(sha "$WORK/$name.body")" = "$(sha "$file")" ]; then
    pass "$name ($why)"
  else
    fail "$name" "$why: status $(code_of "$name"), content-encoding '$ce', $(stat -c %s "$WORK/$name.body") bytes"
  fi
}

# ---- 1. each coding, each way in, for a file and a proxied response ---------------------------------------------------
for way in "${WAYS[@]}"; do
  for coding in gzip br zstd; do
    coded "file-$way-$coding" "$way" /page.html "$coding" "$WWW/page.html"
    coded "proxied-$way-$coding" "$way" /proxy/style.css "$coding" "$WWW/style.css"
  done
  coded "level1-$way-gzip" "$way" /fast/page.html gzip "$WWW/page.html"
done

# ---- 2. curl --compressed: curl's own decoders, its own Accept-Encoding ------------------------------------------------
for way in "${WAYS[@]}"; do
  way_args "$way"
  url="$(way_url "$way" /page.html)"
  got="$("${CURL[@]}" --compressed "${WAY_ARGS[@]}" -o "$WORK/cc-$way.body" -D "$WORK/cc-$way.hdr" \
    -w '%{http_code}' "$url" || true)"
  ce="$(header_of "cc-$way" content-encoding)"
  if [ "$got" = 200 ] && [ -n "$ce" ] && [ "$(sha "$WORK/cc-$way.body")" = "$(sha "$WWW/page.html")" ]; then
    pass "curl-compressed-$way (curl chose '$ce' and decoded it)"
  else fail "curl-compressed-$way" "status $got, content-encoding '$ce'"; fi
done

# ---- 3. negotiation by q-values, not substrings --------------------------------------------------------------------------
q() {
  local name="$1" accept="$2" want="$3"
  get "$name" h1 /page.html -H "Accept-Encoding: $accept"
  expect_eq "$name" "$(code_of "$name") $(header_of "$name" content-encoding)" "200 $want"
}
q q-prefers-weight "br;q=0.2, gzip;q=0.9, zstd;q=0.5" gzip
q q-server-order-on-ties "gzip, zstd, br" br
q q-zero-refuses "br;q=0, zstd;q=0, gzip" gzip
q q-wildcard "br;q=0, *;q=0.5" zstd
q q-x-gzip "x-gzip" gzip
q q-out-of-range-ignored "br;q=1.5, zstd;q=2, gzip;q=0.3" gzip
for accept in "identity" "deflate" "gzipx, xbr" ";;==,;q=" "gzip;q=0" "*;q=0"; do
  plain "identity-accept-${accept//[^a-z0-9]/_}" h1 /page.html "$WWW/page.html" "Accept-Encoding: $accept" \
    -H "Accept-Encoding: $accept"
done

# ---- 4. what is sent as it is ----------------------------------------------------------------------------------------------
for way in "${WAYS[@]}"; do
  plain "image-$way" "$way" /image.png "$WWW/image.png" "image/png" -H "Accept-Encoding: gzip, br"
  plain "tiny-$way" "$way" /tiny.txt "$WWW/tiny.txt" "5 bytes" -H "Accept-Encoding: gzip, br"
  plain "mount-off-$way" "$way" /off/page.html "$WWW/page.html" '"compression": "0"' -H "Accept-Encoding: gzip"
  get "range-$way" "$way" /page.html -H "Accept-Encoding: gzip" -H "Range: bytes=0-99"
  expect_eq "range-$way" "$(code_of "range-$way") $(header_of "range-$way" content-encoding) \
$(stat -c %s "$WORK/range-$way.body")" "206  100"
  get "head-$way" "$way" /page.html -I -H "Accept-Encoding: gzip"
  expect_eq "head-$way" "$(code_of "head-$way") $(header_of "head-$way" content-encoding)" "200 "
done

# ---- 5. precompressed siblings ------------------------------------------------------------------------------------------
for way in "${WAYS[@]}"; do
  get "sibling-$way" "$way" /app.js -H "Accept-Encoding: gzip, br"
  if [ "$(code_of "sibling-$way") $(header_of "sibling-$way" content-encoding)" = "200 br" ] &&
    [ "$(sha "$WORK/sibling-$way.body")" = "$(sha "$WWW/app.js.br")" ] &&
    [ "$(header_of "sibling-$way" content-type)" = "application/javascript" ]; then
    pass "sibling-$way (app.js.br sent byte for byte as application/javascript)"
  else
    fail "sibling-$way" "status $(code_of "sibling-$way"), content-encoding '$(header_of "sibling-$way" content-encoding)', \
type '$(header_of "sibling-$way" content-type)', body sha differs from app.js.br: \
$([ "$(sha "$WORK/sibling-$way.body")" = "$(sha "$WWW/app.js.br")" ] && echo no || echo yes)"
  fi
  coded "stale-sibling-$way" "$way" /style.css gzip "$WWW/style.css"
done

# ---- 6. slow readers: memory stays bounded ----------------------------------------------------------------------------------
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$(_pid_of site)/status"; }
before="$(rss_kib)"
slow=()
for i in $(seq 1 20); do
  curl -s --noproxy '*' --max-time 30 --limit-rate 1k -H "Accept-Encoding: gzip" -o /dev/null \
    "http://127.0.0.1:$P/slow.txt" &
  slow+=($!)
done
# Each reader has asked for 8 MiB of compressed text and takes 1 KiB/s: a server that compressed ahead of its
# readers would hold megabytes per reader. Wait until all twenty are being served (their connections are open).
wait_for site "serve twenty slow readers" bash -c "[ \"\$(ss -Htn state established '( sport = :$P )' | wc -l)\" -ge 20 ]"
for _ in 1 2 3 4 5 6 7 8 9 10; do
  # Sampled over a few seconds while the readers trickle, so a growing server would show.
  sleep 0.3
  now="$(rss_kib)"
  peak=$((now > ${peak:-0} ? now : ${peak:-0}))
done
kill "${slow[@]}" 2>/dev/null || true
wait "${slow[@]}" 2>/dev/null || true
growth=$((peak - before))
if [ "$growth" -lt $((40 * 1024)) ]; then
  pass "slow-readers-bounded (20 readers of 8 MiB at 1 KiB/s: RSS grew $((growth / 1024)) MiB)"
else fail slow-readers-bounded "RSS grew $((growth / 1024)) MiB for 20 slow readers"; fi
plain after-slow-readers h1 /tiny.txt "$WWW/tiny.txt" "the server keeps serving"

# ---- 7. Chromium: page, script and style arrive compressed and work --------------------------------------------------------
if command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  JS='(async () => {
    const sized = performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource"))
      .filter(e => /\.(html|js|css)$/.test(e.name))
      .map(e => e.name.split("/").pop() + ":" + (e.encodedBodySize > 0 && e.encodedBodySize < e.decodedBodySize));
    const color = getComputedStyle(document.body).margin !== "" ? "css" : "nocss";
    return [window.appLoaded === true ? "script-ran" : "no-script", color, document.querySelectorAll("p").length]
      .concat(sized.sort()).join(" ");
  })()'
  want="script-ran css 400 app.js:true page.html:true style.css:true"
  for way in h1 h2s; do
    url="$(way_url "$way" /page.html)"
    got="$(CHROMIUM_EXTRA="${CHROMIUM_EXTRA:-} --ignore-certificate-errors" timeout 120 python3 "$CDP" eval \
      "$url" 0.5 "$JS" 2>"$WORK/chromium-$way.err" || true)"
    expect_eq "chromium-$way-page-script-style-compressed" "$got" "$want"
  done
else
  echo "SKIP chromium-page-script-style-compressed: chromium not installed ('install.sh chromium')"
fi

alive_check site lwsws-still-running
summary
