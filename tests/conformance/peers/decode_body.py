#!/usr/bin/env python3
"""Decode a response body saved to a file and print the SHA-256 of the result.

usage: decode_body.py CODING FILE      (CODING: gzip, br, zstd or identity)
Uses independent decoders: Python's gzip module, PyPI `brotli` (Google's reference decoder) and PyPI
`zstandard` (Facebook's libzstd binding). Exits 1 with a message when the body does not decode.
"""
import gzip
import hashlib
import sys


def decode(coding, data):
    if coding == "identity":
        return data
    if coding == "gzip":
        return gzip.decompress(data)
    if coding == "br":
        import brotli
        return brotli.decompress(data)
    if coding == "zstd":
        import zstandard
        # A streamed frame carries no content size: decode through a reader, not decompress().
        return zstandard.ZstdDecompressor().stream_reader(data).read()
    raise SystemExit("unknown coding %r" % coding)


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    coding, path = sys.argv[1], sys.argv[2]
    with open(path, "rb") as f:
        data = f.read()
    try:
        plain = decode(coding, data)
    except Exception as e:  # any decoder error is the finding
        print("does not decode as %s: %s" % (coding, e), file=sys.stderr)
        sys.exit(1)
    print(hashlib.sha256(plain).hexdigest())


if __name__ == "__main__":
    main()
