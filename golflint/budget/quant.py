"""Per-row symmetric quantization to int8/int6/int5/int4 with fp16 scales, and the exact bytes.

Definition (docs/budget.md repeats it):
- Rows: a tensor of shape (d0, d1, ...) is d0 rows of d1*d2*... values; a 0-d or 1-d tensor is one row.
- Scale per row: s = fp16(max|x| / qmax), qmax = 2**(bits-1) - 1 (127, 31, 15, 7); the fp16 value
  is the one stored and the one used to quantize, so dequantization is q * s exactly.
- Values: q = clip(rint(x / s), -qmax, qmax) (round half to even); a row whose scale is 0 (all zeros,
  or so small that fp16 rounds it to 0) is all zeros.
- Packing: each q is stored as the unsigned code u = q + 2**(bits-1) (1 .. 2**bits - 1) in `bits`
  bits. The codes of the whole tensor, row-major, form one little-endian bit stream: code i occupies
  bits i*bits .. i*bits+bits-1, least significant bit first, and the last byte is zero-padded. For
  int8 this is one byte per value; for int4 two values per byte, the first in the low nibble; for
  int6 four values in three bytes; for int5 eight values in five bytes. Rows are not byte-aligned.
- Record: packed codes, then the row scales as little-endian fp16. Its length is
  ceil(numel * bits / 8) + 2 * rows.
"""

from __future__ import annotations

import math

import numpy as np

_FP16_MAX = float(np.finfo(np.float16).max)
_PACK_BLOCK = 1 << 20     # codes per packing step; a multiple of 8 so blocks join without shifts


def rows_of(shape: tuple[int, ...]) -> int:
    return shape[0] if len(shape) >= 2 else 1


def record_size(numel: int, rows: int, bits: int) -> int:
    """Bytes of one quantized tensor record: packed codes + fp16 scales."""
    return math.ceil(numel * bits / 8) + 2 * rows


def quantize_rows(values: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(q as int8 of values' shape, fp16 scales of shape (rows,)) for a 2-d float array."""
    qmax = (1 << (bits - 1)) - 1
    x = np.asarray(values, dtype=np.float32)
    absmax = np.abs(x).max(axis=1) if x.shape[1] else np.zeros(x.shape[0], np.float32)
    scales = np.minimum(absmax / qmax, _FP16_MAX).astype(np.float16)
    s = scales.astype(np.float32)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(s > 0, np.rint(x / np.where(s > 0, s, 1)), 0)
    return np.clip(q, -qmax, qmax).astype(np.int8), scales


def pack_codes(q: np.ndarray, bits: int) -> bytes:
    """Dense little-endian bit-packing of signed values (see the module docstring)."""
    codes = (q.reshape(-1).astype(np.int16) + (1 << (bits - 1))).astype(np.uint64)
    if bits == 8:
        return codes.astype(np.uint8).tobytes()
    n = codes.size
    out = bytearray()
    # Eight codes make exactly `bits` bytes: build each group as one little-endian 64-bit word.
    # Blocks of groups keep the uint64 temporaries small for large tensors.
    for start in range(0, n, _PACK_BLOCK):
        block = codes[start:start + _PACK_BLOCK]
        groups = -(-block.size // 8)
        padded = np.zeros(groups * 8, np.uint64)
        padded[:block.size] = block
        words = np.zeros(groups, np.uint64)
        for j, lane in enumerate(padded.reshape(groups, 8).T):
            words |= lane << np.uint64(j * bits)
        out += words.astype("<u8").view(np.uint8).reshape(groups, 8)[:, :bits].tobytes()
    return bytes(out[:math.ceil(n * bits / 8)])


def quantized_record(values: np.ndarray, shape: tuple[int, ...], bits: int) -> bytes:
    """The exact record bytes of a float tensor at `bits`: packed codes then fp16 scales."""
    rows = rows_of(shape)
    flat = np.asarray(values, dtype=np.float32).reshape(-1)
    matrix = flat.reshape(rows, flat.size // rows if rows else 0)
    q, scales = quantize_rows(matrix, bits)
    return pack_codes(q, bits) + scales.astype("<f2").tobytes()
