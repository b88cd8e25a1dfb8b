"""Bounded decompression of untrusted bytes: never produce more than a limit, never trust a header.

Shared by packed-code decoding (code/packed.py) and model-file reading (budget/codecs.py), which
map the problems to their own findings and messages.
"""

from __future__ import annotations

import lzma
import zlib
from typing import Any, Callable

CORRUPT, TOO_BIG, TRUNCATED = "corrupt", "too-big", "truncated"


class DecodeProblem(Exception):
    def __init__(self, kind: str, detail: str = ""):
        super().__init__(detail or kind)
        self.kind = kind
        self.detail = detail


def drain(make: Callable[[], Any], data: bytes, limit: int, *, multi_stream: bool = False,
          zlib_style: bool = False) -> bytes:
    """Run an incremental decompressor from `make()` over `data`, producing at most `limit` bytes.

    Like the stdlib's one-shot functions, with `multi_stream` data after the first complete stream is
    decoded as further streams, and ignored when it is not a valid stream. zlib's decompressobj
    takes the bound positionally (`zlib_style`); lzma and bz2 take `max_length=`.
    """
    chunks: list[bytes] = []
    produced = 0
    rest = data
    first = True
    while True:
        dec = make()
        try:
            if zlib_style:
                chunk = dec.decompress(rest, limit - produced + 1)
            else:
                chunk = dec.decompress(rest, max_length=limit - produced + 1)
        except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError) as exc:
            if not first:
                return b"".join(chunks)
            raise DecodeProblem(CORRUPT, str(exc)) from None
        chunks.append(chunk)
        produced += len(chunk)
        if produced > limit:
            raise DecodeProblem(TOO_BIG)
        if not dec.eof:
            if not first:
                return b"".join(chunks)
            raise DecodeProblem(TRUNCATED)
        rest = dec.unused_data
        first = False
        if not (multi_stream and rest):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
