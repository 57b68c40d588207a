#!/usr/bin/env bash
# tests/conformance/jose-interop.sh — JOSE interop with Python jwcrypto: every JWS algorithm and every JWE
# alg/enc pair both ways (we produce and jwcrypto consumes, and the reverse), with keys generated on both
# sides, through the minimal-crypto-{jwk,jws,jwe} examples built in release.
# env LWS_CRYPTO_BIN (default <repo>/target/release, built here when the binaries are missing).
# Prints PASS/FAIL lines and "N passed, M failed"; exits non-zero if anything failed.
set -euo pipefail
# shellcheck source=tests/conformance/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

BIN="${LWS_CRYPTO_BIN:-$REPO/target/release}"
VENV="${LWS_PEERS_HOME:-$HOME/.cache/lws-peers}/venv"

if ! [ -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import jwcrypto' >/dev/null 2>&1; then
  log "installing jwcrypto"
  bash "$CONF_DIR/install.sh" jwcrypto >&2 || die "jwcrypto install failed"
fi
if ! [ -x "$BIN/minimal-crypto-jwe" ] || ! [ -x "$BIN/minimal-crypto-jws" ] || ! [ -x "$BIN/minimal-crypto-jwk" ]; then
  log "building the minimal-crypto examples (release)"
  (cd "$REPO" && cargo build --release -p lws-examples --bin minimal-crypto-jwk --bin minimal-crypto-jws \
    --bin minimal-crypto-jwe) >&2 || die "cargo build failed"
fi

# The driver prints the PASS/FAIL lines and the summary; its exit status is ours (the EXIT trap cleans $WORK).
if "$VENV/bin/python" "$CONF_DIR/peers/jose_interop.py" "$BIN" "$WORK"; then
  exit 0
fi
exit 1
