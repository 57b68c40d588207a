"""The JOSE operations of lws-crypto's `jose` criterion bench, in Python jwcrypto: prints one JSON object
{"group/op": nanoseconds per operation}. usage: jwcrypto_bench.py [SECONDS_PER_OP]"""
import json
import sys
import time

from jwcrypto import jwe, jwk, jws, jwt

BUDGET = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0


def per_op(fn):
    fn()
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= BUDGET:
            return elapsed * 1e9 / n


def main():
    out = {}
    now = int(time.time())
    claims = {"iss": "lws", "aud": "bench", "sub": "user-1234", "iat": now, "nbf": now, "exp": now + 3600,
              "scope": "read write"}
    payload = json.dumps(claims).encode()
    for alg, key in [("ES256", jwk.JWK.generate(kty="EC", crv="P-256")),
                     ("RS256", jwk.JWK.generate(kty="RSA", size=2048)),
                     ("EdDSA", jwk.JWK.generate(kty="OKP", crv="Ed25519"))]:
        public = jwk.JWK.from_json(key.export_public())

        def sign():
            s = jws.JWS(payload)
            s.add_signature(key, alg=None, protected=json.dumps({"alg": alg}))
            return s.serialize(compact=True)

        token = sign()

        def verify():
            s = jws.JWS()
            s.allowed_algs = [alg]
            s.deserialize(token, key=public)
            return json.loads(s.payload)

        out["jws-%s/sign" % alg] = per_op(sign)
        out["jws-%s/verify" % alg] = per_op(verify)
        if alg == "ES256":
            def validate():
                t = jwt.JWT(jwt=token, key=public, algs=[alg],
                            check_claims={"iss": "lws", "aud": "bench", "exp": None})
                return t.claims
            out["jws-ES256/jwt-validate"] = per_op(validate)
    plaintext = b"\x42" * 1024
    for name, key in [("dir", jwk.JWK.generate(kty="oct", size=256)),
                      ("ECDH-ES", jwk.JWK.generate(kty="EC", crv="P-256")),
                      ("RSA-OAEP", jwk.JWK.generate(kty="RSA", size=2048))]:
        public = key if name == "dir" else jwk.JWK.from_json(key.export_public())
        header = json.dumps({"alg": name, "enc": "A256GCM"})

        def encrypt():
            e = jwe.JWE(plaintext, protected=header)
            e.add_recipient(public)
            return e.serialize(compact=True)

        token = encrypt()

        def decrypt():
            e = jwe.JWE()
            e.deserialize(token, key=key)
            return e.payload

        out["jwe-%s-A256GCM/encrypt" % name] = per_op(encrypt)
        out["jwe-%s-A256GCM/decrypt" % name] = per_op(decrypt)
    print(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
