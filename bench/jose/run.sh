#!/usr/bin/env bash
# bench/jose/run.sh — lws-crypto's JOSE operations beside jsonwebtoken (same criterion run) and Python jwcrypto,
# printed as ratios (peer time / lws time: above 1 means lws-crypto is faster).
#   env CARGO_TARGET_DIR (default ./target), JWCRYPTO_PYTHON (default the conformance venv's python),
#   BENCH_SECONDS (criterion measurement time per benchmark, default 3).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
PY="${JWCRYPTO_PYTHON:-${LWS_PEERS_HOME:-$HOME/.cache/lws-peers}/venv/bin/python}"
"$PY" -c 'import jwcrypto' 2>/dev/null || bash tests/conformance/install.sh jwcrypto
SECS="${BENCH_SECONDS:-3}"

cargo bench -p lws-crypto --bench jose -- --measurement-time "$SECS" --warm-up-time 1 >&2
"$PY" bench/jose/jwcrypto_bench.py "$SECS" >"$TARGET/criterion/jwcrypto.json"

python3 - "$TARGET/criterion" <<'PY'
import json, os, sys
root = sys.argv[1]
py = json.load(open(os.path.join(root, "jwcrypto.json")))

def ns(group, bench):
    path = os.path.join(root, group, bench.replace("/", "_"), "new", "estimates.json")
    if not os.path.exists(path):
        path = os.path.join(root, group, *bench.split("/"), "new", "estimates.json")
    return json.load(open(path))["mean"]["point_estimate"]

rows = []
for group in ("jws-ES256", "jws-RS256", "jws-EdDSA"):
    for op in ("sign", "verify") + (("jwt-validate",) if group == "jws-ES256" else ()):
        ours = ns(group, op + "/lws")
        rows.append((group + "/" + op, ours, ns(group, op + "/jsonwebtoken"), py[group + "/" + op]))
for group in ("jwe-dir-A256GCM", "jwe-ECDH-ES-A256GCM", "jwe-RSA-OAEP-A256GCM"):
    for op in ("encrypt", "decrypt"):
        rows.append((group + "/" + op, ns(group, op + "/lws"), None, py[group + "/" + op]))
print("%-34s %12s %16s %12s %10s %10s" % ("operation", "lws µs", "jsonwebtoken µs", "jwcrypto µs", "x jwt-rs", "x jwcrypto"))
for name, ours, jwtrs, jwcr in rows:
    print("%-34s %12.2f %16s %12.2f %10s %10.1f" % (
        name, ours / 1e3, "-" if jwtrs is None else "%.2f" % (jwtrs / 1e3), jwcr / 1e3,
        "-" if jwtrs is None else "%.2f" % (jwtrs / ours), jwcr / ours))
PY
