#!/usr/bin/env bash
# tests/conformance/install.sh [what...] — install the third-party tools the conformance scripts use.
#   As root on Debian 12. Idempotent: a tool that is already there is skipped; apt-get update runs at most once.
#   what: curl nghttp2 chromium python netcat cxx pyws pyh2 pycomp jwcrypto autobahn nginx h2o wrk openssl ssh socat
#     (default: all but wrk)
#   ssh = OpenSSH server + client (raw.sh runs its own sshd on a loopback port; the packaged service is stopped and
#     disabled); socat = socat (raw.sh's onward echo/TLS peers).
#   cxx = a C++ compiler: .ci/run builds the fuzz targets, and libfuzzer-sys compiles libFuzzer (C++).
#   pyws = Python 3 venv $LWS_PEERS_HOME/venv with PyPI `websockets` (ws-peers.sh, proxy.sh).
#   pyh2 = the same venv with PyPI `h2` (pulls hpack, hyperframe) (h2-peers.sh, proxy.sh); openssl makes its test cert.
#   pycomp = PyPI `brotli` and `zstandard` in the same venv (compression.sh decodes with them).
#   jwcrypto = PyPI `jwcrypto` in the same venv (jose-interop.sh).
#   autobahn = Python 2.7 env $LWS_PEERS_HOME/autobahn-py27 with Autobahn|Testsuite `wstest` (autobahn.sh, proxy.sh);
#     needs a CPython 2.7: $AUTOBAHN_PYTHON2, python2.7/python2 on PATH or ${PYENV_ROOT:-~/.pyenv}/versions/2.7*.
#   State lives in ${LWS_PEERS_HOME:-~/.cache/lws-peers}.
#   Adapted from the project's peers/install.sh (python-h2 and the lws C peers come with later scripts).
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
  need nghttp nghttp2-client
}
do_openssl() {
  need openssl openssl
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
do_nginx() {
  command -v nginx >/dev/null 2>&1 && { log "nginx: already installed"; return 0; }
  need nginx nginx
  # Debian starts the packaged service on port 80; the scripts run their own instances on loopback ports.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi
  [ -s /run/nginx.pid ] && kill "$(cat /run/nginx.pid)" >/dev/null 2>&1 || true
}
do_h2o() {
  command -v h2o >/dev/null 2>&1 && { log "h2o: already installed"; return 0; }
  need h2o h2o
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now h2o >/dev/null 2>&1 || true; fi
  [ -s /run/h2o.pid ] && kill "$(cat /run/h2o.pid)" >/dev/null 2>&1 || true
}
do_wrk() {
  need wrk wrk
}
do_ssh() {
  need ssh openssh-client
  if [ -x /usr/sbin/sshd ]; then
    log "sshd: already installed"
  else
    apt_install openssh-server
    [ -x /usr/sbin/sshd ] || die "/usr/sbin/sshd still missing after installing openssh-server"
    # Debian may start the packaged service on port 22; the scripts run their own sshd on loopback ports.
    if command -v systemctl >/dev/null 2>&1; then systemctl disable --now ssh >/dev/null 2>&1 || true; fi
    [ -s /run/sshd.pid ] && kill "$(cat /run/sshd.pid)" >/dev/null 2>&1 || true
  fi
  need sftp openssh-client
  # sshd started as root needs its privilege separation directory (on tmpfs: gone after a reboot, raw.sh
  # makes it again)
  [ "$(id -u)" != 0 ] || mkdir -p /run/sshd
}
do_socat() {
  need socat socat
}

# ---- Python peers (state in $PEERS_HOME) -------------------------------------------------------------------
PEERS_HOME="${LWS_PEERS_HOME:-$HOME/.cache/lws-peers}"
VENV="$PEERS_HOME/venv"            # Python 3 venv: websockets (+ virtualenv, used to make the py2.7 env)
AB_ENV="$PEERS_HOME/autobahn-py27" # Python 2.7 env: autobahntestsuite (wstest)

# Debian's python3 (python3-venv gives it ensurepip); stable across Debian 12 machines, unlike pyenv shims
py3() {
  if [ -x /usr/bin/python3 ]; then echo /usr/bin/python3; else command -v python3 || die "no python3"; fi
}

ensure_venv() {
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(py3)" = /usr/bin/python3 ]; then apt_install python3 python3-venv; fi
  mkdir -p "$PEERS_HOME"
  log "creating venv $VENV"
  rm -rf "$VENV"
  "$(py3)" -m venv "$VENV" || die "python3 -m venv $VENV failed"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 ||
    log "pip upgrade in $VENV failed (continuing with the bundled pip)"
}

pip3_install() {
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" || die "pip install $* failed"
}

do_pyws() {
  if [ -x "$VENV/bin/python" ] &&
    "$VENV/bin/python" -c 'import websockets, sys; sys.exit(0 if 12 <= int(websockets.__version__.split(".")[0]) < 16 else 1)' \
      >/dev/null 2>&1; then
    log "pyws: websockets $("$VENV/bin/python" -c 'import websockets; print(websockets.__version__)') already installed"
    return 0
  fi
  ensure_venv
  log "pyws: pip install websockets"
  pip3_install "websockets>=12,<16"
  "$VENV/bin/python" -c 'import websockets' || die "pyws: import websockets fails in $VENV"
}

do_pyh2() {
  if [ -x "$VENV/bin/python" ] &&
    "$VENV/bin/python" -c 'import h2, hpack, hyperframe, sys; sys.exit(0 if h2.__version__.split(".")[0] == "4" else 1)' \
      >/dev/null 2>&1; then
    log "pyh2: h2 $("$VENV/bin/python" -c 'import h2; print(h2.__version__)') already installed"
    return 0
  fi
  ensure_venv
  log "pyh2: pip install h2"
  pip3_install "h2>=4.1,<5" "hpack>=4,<5" "hyperframe>=6,<7"
  "$VENV/bin/python" -c 'import h2, hpack, hyperframe' || die "pyh2: import h2 fails in $VENV"
}

do_pycomp() {
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import brotli, zstandard' >/dev/null 2>&1; then
    log "pycomp: brotli and zstandard already installed"
    return 0
  fi
  ensure_venv
  log "pycomp: pip install brotli zstandard"
  pip3_install "brotli>=1.0,<2" "zstandard>=0.21,<1"
  "$VENV/bin/python" -c 'import brotli, zstandard' || die "pycomp: import brotli, zstandard fails in $VENV"
}

do_jwcrypto() {
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import jwcrypto' >/dev/null 2>&1; then
    log "jwcrypto: $("$VENV/bin/python" -c 'import jwcrypto.version as v; print(v.__version__)') already installed"
    return 0
  fi
  ensure_venv
  log "jwcrypto: pip install jwcrypto"
  pip3_install "jwcrypto>=1.5,<2"
  "$VENV/bin/python" -c 'import jwcrypto' || die "jwcrypto: import jwcrypto fails in $VENV"
}

find_python27() {
  local c
  for c in "${AUTOBAHN_PYTHON2:-}" "$(command -v python2.7 2>/dev/null || true)" \
    "$(command -v python2 2>/dev/null || true)" \
    "${PYENV_ROOT:-$HOME/.pyenv}"/versions/2.7*/bin/python2.7 /usr/local/bin/python2.7; do
    [ -n "$c" ] && [ -x "$c" ] || continue
    "$c" -c 'import sys; sys.exit(0 if sys.version_info[:2]==(2,7) else 1)' >/dev/null 2>&1 && {
      echo "$c"
      return 0
    }
  done
  return 1
}

do_autobahn() {
  # autobahntestsuite on PyPI (25.10.1, and 0.8.x before it) is Python-2.7-only code (print statements, implicit
  # relative imports, Twisted 19.10 / autobahn 0.10.9 pins). On Python 3.11 `pip install` "succeeds" (its
  # requirements.txt is missing from the sdist, so no deps) but `wstest` dies with ModuleNotFoundError: No module
  # named '_version'. Debian 12 ships no python2, so we need a CPython 2.7 from elsewhere (pyenv's 2.7.18 on this
  # project's machines), then make a py2.7 env with virtualenv<20.22 (the last line able to create py2
  # environments) and install the pinned dependency set.
  if [ -x "$AB_ENV/bin/wstest" ] && "$AB_ENV/bin/wstest" -a >/dev/null 2>&1; then
    log "autobahn: wstest already installed ($AB_ENV/bin/wstest)"
    return 0
  fi
  local py2
  py2="$(find_python27)" || die "autobahn: no CPython 2.7 found (tried \$AUTOBAHN_PYTHON2, python2.7, python2, \
\${PYENV_ROOT:-~/.pyenv}/versions/2.7*). Debian 12 has no python2 package and PyPI's autobahntestsuite does not \
run on Python 3. Set AUTOBAHN_PYTHON2=/path/to/python2.7."
  log "autobahn: using $py2"
  apt_install build-essential libffi-dev libssl-dev
  ensure_venv
  pip3_install "virtualenv<20.22"
  rm -rf "$AB_ENV"
  "$VENV/bin/python" -m virtualenv -q -p "$py2" "$AB_ENV" || die "autobahn: virtualenv -p $py2 failed"
  log "autobahn: pip install autobahntestsuite + py2.7 pins (~30 s)"
  "$AB_ENV/bin/pip" install -q --disable-pip-version-check --no-python-version-warning \
    setuptools==44.0.0 txaio==2.1.0 incremental==16.10.1 pyOpenSSL==19.1.0 cryptography==3.3.2 \
    Twisted==19.10.0 zope.interface==4.6.0 jinja2==2.11.3 markupsafe==1.1.1 Werkzeug==1.0.1 klein==17.10.0 \
    service_identity==18.1.0 unittest2==1.1.0 six==1.16.0 "autobahn[accelerate,twisted]==0.10.9" \
    autobahntestsuite==25.10.1 >"$PEERS_HOME/autobahn-pip.log" 2>&1 ||
    { tail -20 "$PEERS_HOME/autobahn-pip.log" >&2; die "autobahn: pip install failed (log: $PEERS_HOME/autobahn-pip.log)"; }
  "$AB_ENV/bin/wstest" -a >/dev/null 2>&1 || die "autobahn: wstest -a does not run"
  log "autobahn: $("$AB_ENV/bin/wstest" -a 2>&1 | tr '\n' ' ')"
}

DEFAULT=(curl nghttp2 openssl chromium python netcat cxx pyws pyh2 pycomp jwcrypto autobahn nginx h2o ssh socat)
[ $# -eq 0 ] && set -- "${DEFAULT[@]}"
for w in "$@"; do
  case "$w" in
    curl | nghttp2 | openssl | chromium | python | netcat | cxx | pyws | pyh2 | pycomp | jwcrypto | autobahn | nginx | h2o | ssh | socat | wrk) "do_$w" ;;
    all) for a in "${DEFAULT[@]}" wrk; do "do_$a"; done ;;
    *) die "unknown tool '$w' (known: ${DEFAULT[*]} wrk all)" ;;
  esac
done
log "done: $*"
