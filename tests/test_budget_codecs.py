"""Codecs, quantization, packing and code wrappers: exact bytes, checked against independent calls."""

from __future__ import annotations

import ast
import base64
import lzma
import math
import zlib

import brotli
import numpy as np
import pytest
import zstandard

from golflint.budget import QUANT_BITS, codecs
from golflint.budget.code import code_sizes, minify, wrapper_text
from golflint.budget.codecs import CODEC_NAMES, decompress, get_codec, sniff
from golflint.budget.quant import pack_codes, quantize_rows, quantized_record, record_size
from golflint.errors import GolflintError


def _int8_weights(n: int, seed: int = 0) -> bytes:
    x = np.random.default_rng(seed).standard_normal(n).astype(np.float32)
    return np.clip(np.rint(x / (np.abs(x).max() / 127)), -127, 127).astype(np.int8).tobytes()


REFERENCE = {
    "zlib-9": lambda b: zlib.compress(b, 9),
    "zstd-22": lambda b: zstandard.ZstdCompressor(level=22).compress(b),
    "lzma-9": lambda b: lzma.compress(b, preset=9),
    "brotli-11": lambda b: brotli.compress(b, quality=11),
}


@pytest.mark.parametrize("name", CODEC_NAMES)
def test_codec_bytes_equal_the_library_one_shot_call(name):
    data = _int8_weights(100_000)
    codec = get_codec(name)
    expected = REFERENCE[name](data)
    assert codec.compress(data) == expected
    assert codec.size(data) == len(expected)


@pytest.mark.parametrize("name", CODEC_NAMES)
def test_streamed_chunks_give_the_bytes_of_the_joined_blob(name, monkeypatch):
    # Chunks of uneven sizes, some larger than the feed size, as the whole-blob path sends them.
    monkeypatch.setattr(codecs, "_FEED", 4096)
    parts = [_int8_weights(n, seed) for seed, n in enumerate((10, 13_001, 7_001, 3, 4096))]
    assert get_codec(name).compress(parts) == REFERENCE[name](b"".join(parts))


def test_lzma_extreme_is_preset_9_extreme():
    data = _int8_weights(100_000)
    codec = get_codec("lzma-9", lzma_extreme=True)
    assert codec.label == "lzma-9e"
    assert codec.compress(data) == lzma.compress(data, preset=9 | lzma.PRESET_EXTREME)


def test_unknown_codec_is_a_clear_error():
    with pytest.raises(GolflintError, match="unknown codec 'gzip-6'"):
        get_codec("gzip-6")


@pytest.mark.parametrize("name", CODEC_NAMES)
def test_decompress_recognises_each_codec(name):
    data = _int8_weights(50_000)
    family, out = decompress(REFERENCE[name](data), 10**7)
    assert (family, out) == (name.split("-")[0], data)


def test_decompress_leaves_plain_bytes_alone():
    assert decompress(b"PK\x03\x04 not compressed at all", 10**6) is None
    assert sniff(b"\x80\x02pickle") is None


@pytest.mark.parametrize("name", ["zlib-9", "zstd-22", "lzma-9"])
def test_truncated_stream_is_an_error_not_a_blob(name):
    packed = REFERENCE[name](_int8_weights(200_000))
    with pytest.raises(GolflintError, match="ends early|broken"):
        decompress(packed[: len(packed) // 2], 10**7)


@pytest.mark.parametrize("name", CODEC_NAMES)
def test_decompression_bomb_stops_at_the_limit(name):
    bomb = REFERENCE[name](bytes(5_000_000))
    with pytest.raises(GolflintError, match="more than 1,000,000 bytes"):
        decompress(bomb, 1_000_000)


# -- quantization and packing ----------------------------------------------------------------------

def _unpack_independently(packed: bytes, bits: int, n: int) -> np.ndarray:
    """The documented layout read bit by bit: code i is bits i*b.. of a little-endian bit stream."""
    stream = int.from_bytes(packed, "little")
    mask = (1 << bits) - 1
    return np.array([((stream >> (i * bits)) & mask) - (1 << (bits - 1)) for i in range(n)])


@pytest.mark.parametrize("bits", [8, 6, 5, 4])
@pytest.mark.parametrize("n", [1, 7, 8, 9, 1001])
def test_packing_follows_the_documented_bit_layout(bits, n):
    qmax = (1 << (bits - 1)) - 1
    q = np.random.default_rng(n).integers(-qmax, qmax + 1, size=n).astype(np.int8)
    packed = pack_codes(q, bits)
    assert len(packed) == math.ceil(n * bits / 8)
    assert list(_unpack_independently(packed, bits, n)) == list(q)


def test_int4_puts_the_first_value_in_the_low_nibble():
    # codes: -7 + 8 = 1, 7 + 8 = 15 -> one byte 0xF1
    assert pack_codes(np.array([-7, 7], np.int8), 4) == b"\xf1"


def test_quantize_rows_uses_the_stored_fp16_scale():
    x = np.array([[0.5, -1.0, 0.25], [0.0, 0.0, 0.0], [3.0, 1e-3, -2.9]], np.float32)
    q, scales = quantize_rows(x, 6)
    assert scales.dtype == np.float16
    assert scales[0] == np.float16(1.0 / 31) and scales[1] == 0
    assert list(q[0]) == [16, -31, 8] and list(q[1]) == [0, 0, 0]
    assert np.abs(q).max() <= 31
    # Dequantized values are within half a step of the input.
    err = np.abs(q.astype(np.float32) * scales.astype(np.float32)[:, None] - x)
    assert (err <= scales.astype(np.float32)[:, None] / 2 + 1e-6).all()


@pytest.mark.parametrize("quant", list(QUANT_BITS))
def test_record_is_packed_codes_then_fp16_scales(quant):
    bits = QUANT_BITS[quant]
    values = np.random.default_rng(1).standard_normal((6, 10)).astype(np.float32)
    record = quantized_record(values, (6, 10), bits)
    assert len(record) == record_size(60, 6, bits) == math.ceil(60 * bits / 8) + 12
    q, scales = quantize_rows(values, bits)
    assert record[-12:] == scales.astype("<f2").tobytes()
    assert list(_unpack_independently(record[:-12], bits, 60)) == list(q.reshape(-1))


def test_one_dimensional_and_empty_tensors_are_one_row():
    assert len(quantized_record(np.ones(5, np.float32), (5,), 4)) == 3 + 2
    assert quantized_record(np.zeros(0, np.float32), (0,), 8) == b"\x00\x00"


# -- code ------------------------------------------------------------------------------------------

SOURCE = '''"""A toy trainer."""
from dataclasses import dataclass


@dataclass
class Hyperparameters:
    learning_rate: float = 0.01
    steps: int = 10


def train(hyperparameters: Hyperparameters) -> float:
    total_loss = 0.0
    for step_index in range(hyperparameters.steps):
        total_loss += hyperparameters.learning_rate * step_index
    return total_loss
'''


def _payload_of(wrapper: str) -> bytes:
    """Decode the wrapper statically (never exec it): the b85 literal inside it."""
    call = next(n for n in ast.walk(ast.parse(wrapper)) if isinstance(n, ast.Call)
                and getattr(n.func, "attr", None) == "b85decode")
    return base64.b85decode(call.args[0].value)


@pytest.mark.parametrize("codec", ["lzma", "zlib"])
def test_wrapper_decodes_to_the_source_and_is_counted_exactly(codec):
    data = SOURCE.encode() * 5
    text = wrapper_text(data, codec)
    assert text.startswith(f"import {codec},base64\nexec({codec}.decompress(base64.b85decode(")
    decoded = (lzma if codec == "lzma" else zlib).decompress(_payload_of(text))
    assert decoded == data
    sizes = code_sizes("train_gpt.py", data)
    assert getattr(sizes, f"{codec}_wrapper") == len(text.encode("utf-8"))


def test_minified_code_keeps_module_names_and_dataclass_fields():
    small = minify(SOURCE)
    tree = ast.parse(small)
    names = {n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    assert names == {"Hyperparameters", "train"}
    assert "learning_rate:" in small and "steps:" in small
    sizes = code_sizes("train_gpt.py", SOURCE.encode())
    assert sizes.minified == len(small.encode()) < sizes.raw
    assert sizes.minified_lzma_wrapper == len(wrapper_text(small.encode(), "lzma"))


def test_code_that_cannot_be_minified_still_gets_raw_and_wrapper_sizes():
    broken = code_sizes("train_gpt.py", b"def f(:\n  pass\n")
    assert broken.raw == 15 and broken.lzma_wrapper > 0 and broken.minified is None
    assert "python-minifier" in broken.problem
    binary = code_sizes("train_gpt.py", b"\xff\xfe\x00")
    assert binary.minified is None and "not UTF-8" in binary.problem
