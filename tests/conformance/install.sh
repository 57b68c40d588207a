#!/usr/bin/env bash
# tests/conformance/install.sh [what...] — install the third-party tools the conformance scripts use.
#   As root on Debian 12. Idempotent: a tool that is already there is skipped; apt-get update runs at most once.
#   what: curl nghttp2 chromium python netcat cxx wrk   (default: all but wrk)
#   cxx = a C++ compiler: .ci/run builds the fuzz targets, and libfuzzer-sys compiles libFuzzer (C++).
#   Adapted from the project's peers/install.sh (Autobahn, python-h2 and the lws C peers come with later scripts).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

log() { printf '[install] %s\n' "$*" >&2; }
die() { printf '[install] ERROR: %s\n' "$*" >&2; exit 1; }

APT_UPDATED=0
APT_LOG="$(mktemp "${TMPDIR:-/tmp}/lws-install-apt.XXXXXX")"
trap 'rm -f "$APT_LOG"' EXIT

# apt_install PKG...: installs the packages that are not installed yet
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "need root to apt-get install ${missing[*]}"
  if [ "$APT_UPDATED" != 1 ]; then
    log "apt-get update"
    apt-get update -q >"$APT_LOG" 2>&1 || { tail -20 "$APT_LOG" >&2; die "apt-get update failed"; }
    APT_UPDATED=1
  fi
  log "apt-get install ${missing[*]}"
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"$APT_LOG" 2>&1; then
    tail -20 "$APT_LOG" >&2
    die "apt-get install ${missing[*]} failed"
  fi
}

# need CMD PKG...: install PKG... unless CMD is already on PATH
need() {
  local cmd="$1"
  shift
  if command -v "$cmd" >/dev/null 2>&1; then
    log "$cmd: already installed"
  else
    apt_install "$@"
    command -v "$cmd" >/dev/null 2>&1 || die "$cmd still missing after installing $*"
  fi
}

do_curl() {
  need curl curl ca-certificates
}
do_nghttp2() {
  need h2load nghttp2-client
}
do_chromium() {
  if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    log "chromium: already installed"
  else
    apt_install chromium fonts-liberation
  fi
}
do_python() {
  # python3 for the helpers (stdlib only); python3-venv for later peers that need pip packages
  need python3 python3
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    apt_install python3-venv
  else
    log "python3-venv: already usable"
  fi
}
do_netcat() {
  need nc netcat-openbsd
}
do_cxx() {
  need c++ g++
}
do_wrk() {
  need wrk wrk
}

DEFAULT=(curl nghttp2 chromium python netcat cxx)
[ $# -eq 0 ] && set -- "${DEFAULT[@]}"
for w in "$@"; do
  case "$w" in
    curl | nghttp2 | chromium | python | netcat | cxx | wrk) "do_$w" ;;
    all) for a in "${DEFAULT[@]}" wrk; do "do_$a"; done ;;
    *) die "unknown tool '$w' (known: ${DEFAULT[*]} wrk all)" ;;
  esac
done
log "done: $*"
