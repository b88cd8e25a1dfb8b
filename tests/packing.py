"""Build self-extracting scripts for tests, in the shapes submissions use (stdlib codecs only)."""

from __future__ import annotations

import base64
import bz2
import gzip
import lzma
import struct
import zlib

RAW_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]


def pack(code: str, style: str = "lzma-b85") -> str:
    """`code` wrapped as a self-extracting script; each style is one real-world variant."""
    data = code.encode("utf-8")
    if style == "lzma-b85":
        blob = base64.b85encode(lzma.compress(data)).decode()
        return f"import lzma, base64\nexec(lzma.decompress(base64.b85decode({blob!r})))\n"
    if style == "alias-from-import":
        blob = base64.b85encode(lzma.compress(data, format=lzma.FORMAT_ALONE)).decode()
        return ("import lzma as L\nfrom base64 import b85decode as d\n"
                f"exec(L.decompress(d({blob!r})).decode())\n")
    if style == "lzma-raw-filters":
        blob = base64.b64encode(lzma.compress(data, format=lzma.FORMAT_RAW, filters=RAW_FILTERS)).decode()
        return ("import lzma, base64\n"
                "FILTERS = [{'id': lzma.FILTER_LZMA2, 'preset': 9 | lzma.PRESET_EXTREME}]\n"
                f"exec(lzma.decompress(base64.b64decode({blob!r}), format=lzma.FORMAT_RAW, filters=FILTERS))\n")
    if style == "lzma-decompressor-object":
        blob = base64.b64encode(lzma.compress(data, format=lzma.FORMAT_RAW, filters=RAW_FILTERS)).decode()
        return ("import lzma, base64\n"
                f"exec(lzma.LZMADecompressor(lzma.FORMAT_RAW, None, [{{'id': lzma.FILTER_LZMA2}}])"
                f".decompress(base64.b64decode({blob!r})))\n")
    if style == "zlib-b64-variable":
        blob = base64.b64encode(zlib.compress(data, 9)).decode()
        return f"import zlib, base64\nPAYLOAD = {blob!r}\nexec(zlib.decompress(base64.b64decode(PAYLOAD)).decode('utf-8'))\n"
    if style == "zlib-raw-a85":
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        blob = base64.a85encode(c.compress(data) + c.flush()).decode()
        return f"import zlib, base64\nexec(zlib.decompress(base64.a85decode({blob!r}), -15))\n"
    if style == "gzip-hex":
        return f"import gzip\nexec(gzip.decompress(bytes.fromhex({gzip.compress(data).hex()!r})))\n"
    if style == "bz2-b32-compile":
        blob = base64.b32encode(bz2.compress(data)).decode()
        return (f"import bz2, base64\nexec(compile(bz2.decompress(base64.b32decode({blob!r})), "
                "'train_gpt.py', 'exec'))\n")
    if style == "dunder-import":
        blob = base64.b85encode(zlib.compress(data)).decode()
        return f"exec(__import__('zlib').decompress(__import__('base64').b85decode({blob!r})))\n"
    if style == "codecs-hex-zlib":
        return f"import codecs\nexec(codecs.decode(codecs.decode({zlib.compress(data).hex()!r}, 'hex'), 'zlib'))\n"
    if style == "binascii-xz-split":
        blob = base64.b64encode(lzma.compress(data, format=lzma.FORMAT_XZ)).decode()
        half = len(blob) // 2
        return (f"import binascii, lzma\nA = {blob[:half]!r}\nB = {blob[half:]!r}\n"
                "exec(lzma.decompress(binascii.a2b_base64(A + B)))\n")
    raise ValueError(style)


STYLES = ("lzma-b85", "alias-from-import", "lzma-raw-filters", "lzma-decompressor-object",
          "zlib-b64-variable", "zlib-raw-a85", "gzip-hex", "bz2-b32-compile", "dunder-import",
          "codecs-hex-zlib", "binascii-xz-split")


def packed_bytes(payload: bytes, codec: str = "zlib") -> str:
    """A wrapper that execs whatever `payload` decompresses to (for malformed payloads)."""
    blob = base64.b64encode(payload).decode()
    return f"import {codec}, base64\nexec({codec}.decompress(base64.b64decode({blob!r})))\n"


def zlib_bomb(mebibytes: int = 1024) -> bytes:
    """A valid zlib stream of `mebibytes` MiB of zeros, built in milliseconds: after a sync flush
    the deflate blocks for 1 MiB of zeros repeat byte for byte, so the middle is one block repeated.
    The Adler-32 of n zero bytes is (n mod 65521) << 16 | 1."""
    zeros = bytes(1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(zeros) + c.flush(zlib.Z_SYNC_FLUSH)
    block = c.compress(zeros) + c.flush(zlib.Z_SYNC_FLUSH)
    last = c.compress(zeros) + c.flush()
    n = mebibytes << 20
    return b"\x78\xda" + first + block * (mebibytes - 2) + last + struct.pack(">I", ((n % 65521) << 16) | 1)
