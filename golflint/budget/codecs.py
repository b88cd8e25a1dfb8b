"""Exact compressed sizes from the real codec libraries, at the settings submissions use.

Every size here is the length of bytes the library actually produced for the same call a training
script makes (`zlib.compress(b, 9)`, `zstandard.ZstdCompressor(level=22).compress(b)`,
`lzma.compress(b, preset=9)`, `brotli.compress(b, quality=11)`), never an estimate.

Streaming: zlib, lzma and brotli are fed chunk by chunk (so a blob made of many tensors is never
joined into one copy) and only output lengths are kept; for these three the streamed output is the
one-shot output byte for byte (tested). zstd is not streamed: with an unknown or pledged size its
streaming encoder picks other block boundaries than the one-shot call, so the bytes would differ
from what a script writes. All four release the GIL while compressing, so callers run them on a
thread pool (see table.py).
"""

from __future__ import annotations

import lzma
import zlib
from dataclasses import dataclass
from typing import Iterable, Sequence

import brotli
import zstandard

from ..bounded import TOO_BIG, TRUNCATED, DecodeProblem, drain
from ..errors import GolflintError

CODEC_NAMES = ("zlib-9", "zstd-22", "lzma-9", "brotli-11")

Chunks = bytes | Sequence[bytes]

# Output of a streaming encoder is collected in pieces of at most this size, so lengths can be
# summed without keeping a second copy of a large blob.
_FEED = 1 << 20


@dataclass(frozen=True)
class Codec:
    """One codec at one setting. `lzma_extreme` turns lzma-9 into preset 9|PRESET_EXTREME."""

    name: str
    lzma_extreme: bool = False

    @property
    def label(self) -> str:
        return "lzma-9e" if self.name == "lzma-9" and self.lzma_extreme else self.name

    @property
    def family(self) -> str:
        return self.name.split("-", 1)[0]

    def compress(self, data: Chunks) -> bytes:
        """The compressed bytes, as one-shot library calls produce them."""
        chunks = _as_chunks(data)
        if self.name == "zstd-22":
            blob = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            return zstandard.ZstdCompressor(level=22).compress(blob)
        return b"".join(self._stream(chunks))

    def size(self, data: Chunks) -> int:
        """len(self.compress(data)), without holding the whole output at once."""
        chunks = _as_chunks(data)
        if self.name == "zstd-22":
            return len(self.compress(chunks))
        return sum(len(piece) for piece in self._stream(chunks))

    def _stream(self, chunks: Sequence[bytes]) -> Iterable[bytes]:
        if self.name == "zlib-9":
            enc = zlib.compressobj(9)
            for chunk in _pieces(chunks):
                yield enc.compress(chunk)
            yield enc.flush()
        elif self.name == "lzma-9":
            preset = 9 | lzma.PRESET_EXTREME if self.lzma_extreme else 9
            enc = lzma.LZMACompressor(preset=preset)
            for chunk in _pieces(chunks):
                yield enc.compress(chunk)
            yield enc.flush()
        elif self.name == "brotli-11":
            enc = brotli.Compressor(quality=11)
            for chunk in _pieces(chunks):
                yield enc.process(chunk)
            yield enc.finish()
        else:  # pragma: no cover - get_codec validates names
            raise AssertionError(self.name)


def library_versions() -> dict[str, str]:
    """Versions of the codec libraries in use: zstd output in particular changes between releases."""
    return {"zlib": zlib.ZLIB_RUNTIME_VERSION,
            "zstd": ".".join(map(str, zstandard.ZSTD_VERSION)),
            "brotli": str(getattr(brotli, "version", getattr(brotli, "__version__", "unknown")))}


def get_codec(name: str, *, lzma_extreme: bool = False) -> Codec:
    if name not in CODEC_NAMES:
        raise GolflintError(f"unknown codec {name!r}; known codecs: {', '.join(CODEC_NAMES)}")
    return Codec(name, lzma_extreme=lzma_extreme)


def _as_chunks(data: Chunks) -> Sequence[bytes]:
    return [data] if isinstance(data, (bytes, bytearray, memoryview)) else data


def _pieces(chunks: Sequence[bytes]) -> Iterable[bytes]:
    for chunk in chunks:
        view = memoryview(chunk)
        for start in range(0, len(view), _FEED):
            yield view[start:start + _FEED]


# -- reading compressed model files ---------------------------------------------------------------

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_XZ_MAGIC = b"\xfd7zXZ\x00"


def sniff(data: bytes) -> str | None:
    """The codec family a file's first bytes announce: zlib, zstd, lzma (xz or .lzma), or None.

    Brotli streams have no magic number; `decompress` tries brotli last when nothing else matched.
    """
    if data.startswith(_ZSTD_MAGIC):
        return "zstd"
    if data.startswith(_XZ_MAGIC) or data.startswith(b"\x5d\x00\x00"):
        return "lzma"
    if len(data) >= 2 and data[0] & 0x0F == 8 and data[0] >> 4 <= 7 and (data[0] << 8 | data[1]) % 31 == 0:
        return "zlib"
    return None


def decompress(data: bytes, max_bytes: int) -> tuple[str, bytes] | None:
    """(codec family, decompressed bytes) for a zlib/zstd/lzma/brotli stream, or None if not one.

    Output is bounded by `max_bytes`: a decompression bomb raises GolflintError instead of being
    expanded. A stream whose header is right but which ends early or breaks raises GolflintError.
    """
    family = sniff(data)
    if family in ("zlib", "lzma"):
        make = zlib.decompressobj if family == "zlib" else lzma.LZMADecompressor
        try:
            return family, drain(make, data, max_bytes, zlib_style=family == "zlib")
        except DecodeProblem as problem:
            if problem.kind == TOO_BIG:
                raise GolflintError(_too_big(max_bytes)) from None
            if problem.kind == TRUNCATED:
                stream = "a zlib stream" if family == "zlib" else "an lzma/xz stream"
                raise GolflintError(f"is {stream} that ends early (truncated?)") from None
            if family == "zlib":
                return None  # two bytes that only looked like a zlib header: not compressed
            raise GolflintError(f"is a broken lzma/xz stream ({problem.detail})") from None
    if family == "zstd":
        zdec = zstandard.ZstdDecompressor().decompressobj()
        pieces: list[bytes] = []
        total = 0
        try:
            # 1 KiB input steps bound what one step can expand to (about 32 MiB of RLE blocks).
            for start in range(0, len(data), 1024):
                piece = zdec.decompress(data[start:start + 1024])
                total += len(piece)
                if total > max_bytes:
                    raise GolflintError(_too_big(max_bytes))
                pieces.append(piece)
                if zdec.eof:
                    break
        except zstandard.ZstdError as exc:
            raise GolflintError(f"is a broken zstd stream ({exc})") from None
        if not zdec.eof:
            raise GolflintError("is a zstd stream that ends early (truncated?)")
        return family, b"".join(pieces)
    return _brotli(data, max_bytes)


def _brotli(data: bytes, max_bytes: int) -> tuple[str, bytes] | None:
    dec = brotli.Decompressor()
    out: list[bytes] = []
    total = 0
    try:
        # Small input steps keep the output of one step bounded, so a bomb stops near the limit.
        for start in range(0, len(data), 4096):
            piece = dec.process(data[start:start + 4096])
            total += len(piece)
            if total > max_bytes:
                raise GolflintError(_too_big(max_bytes))
            out.append(piece)
        if not dec.is_finished():
            return None
    except brotli.error:
        return None
    return "brotli", b"".join(out)


def _too_big(max_bytes: int) -> str:
    return f"decompresses to more than {max_bytes:,} bytes (budget.max_model_bytes); not expanded"
