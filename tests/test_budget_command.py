"""golflint budget end to end: a toy model generated here, exact totals, JSON keys, bad input."""

from __future__ import annotations

import io
import json
import lzma
import math
import os
import pickle
import struct
import zlib

import brotli
import numpy as np
import pytest
import zstandard
from click.testing import CliRunner

torch = pytest.importorskip("torch")

from golflint.cli import main  # noqa: E402

REFERENCE = {
    "zlib-9": lambda b: zlib.compress(b, 9),
    "zstd-22": lambda b: zstandard.ZstdCompressor(level=22).compress(b),
    "lzma-9": lambda b: lzma.compress(b, preset=9),
    "brotli-11": lambda b: brotli.compress(b, quality=11),
}

CODE = "import torch\n\n\ndef main():\n    print('train')\n\n\nmain()\n"


def toy_state_dict() -> dict:
    gen = torch.Generator().manual_seed(0)
    return {
        "tok_emb.weight": torch.randn(64, 32, generator=gen),
        "blocks.0.mlp.fc.weight": torch.randn(96, 32, generator=gen) * 0.02,
        "blocks.0.norm.weight": torch.ones(32),
        "blocks.0.attn.proj.weight": torch.randn(32, 32, generator=gen).to(torch.bfloat16),
        "step": torch.tensor(7),
    }


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    return result, result.output + (result.stderr or "")


def budget_json(*args: str) -> dict:
    result, out = run("budget", *args, "--format", "json", "--isolated")
    assert result.exit_code == 0, out
    return json.loads(result.stdout)


@pytest.fixture
def model_pt(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(toy_state_dict(), path)
    return path


@pytest.fixture
def submission(make_sub):
    """A submission with the baseline's kind of artifact: torch.save of int8 tensors, zlib level 9."""
    sd = toy_state_dict()
    quantized = {k: (v.float() * 40).round().clamp(-127, 127).to(torch.int8) for k, v in sd.items()}
    buf = io.BytesIO()
    torch.save({"quantized": quantized, "format": "toy_int8"}, buf)
    return make_sub({"train_gpt.py": CODE, "README.md": "# toy\n",
                     "submission.json": json.dumps({"author": "a", "name": "toy", "val_bpb": 1.3}),
                     "final_model.int8.ptz": zlib.compress(buf.getvalue(), 9)}), buf.getvalue()


def _record(t: "torch.Tensor", bits: int) -> bytes:
    """The documented record, computed here independently of golflint.budget.quant."""
    x = t.detach().float().numpy()
    x = x.reshape(x.shape[0], -1) if x.ndim >= 2 else x.reshape(1, -1)
    qmax = 2 ** (bits - 1) - 1
    scales = (np.abs(x).max(axis=1) / qmax).astype(np.float16)
    s = scales.astype(np.float32)[:, None]
    q = np.clip(np.rint(x / np.where(s == 0, 1, s)) * (s != 0), -qmax, qmax).astype(np.int64)
    stream = 0
    for i, value in enumerate(q.reshape(-1)):
        stream |= (int(value) + 2 ** (bits - 1)) << (i * bits)
    packed = stream.to_bytes(math.ceil(q.size * bits / 8), "little")
    return packed + scales.astype("<f2").tobytes()


def _blob(sd: dict, quant: str) -> bytes:
    bits = int(quant[3:])
    records, index = [], []
    for name, t in sd.items():
        rec = _record(t, bits) if t.is_floating_point() else t.reshape(-1).view(torch.uint8).numpy().tobytes()
        records.append(rec)
        index.append([name, list(t.shape), str(t.dtype).removeprefix("torch."),
                      bits if t.is_floating_point() else 0, len(rec)])
    header = json.dumps({"format": "golflint-quant/1", "quant": quant, "tensors": index},
                        separators=(",", ":")).encode()
    return b"GLQ1" + struct.pack("<I", len(header)) + header + b"".join(records)


# -- per-tensor table ------------------------------------------------------------------------------

def test_tensor_table_of_a_toy_state_dict(model_pt):
    doc = budget_json(str(model_pt), "--codec", "all")
    sd = toy_state_dict()
    rows = {r["name"]: r for r in doc["tensors"]}
    assert set(rows) == set(sd) and doc["tensors_shown"] == 5
    fc = rows["blocks.0.mlp.fc.weight"]
    assert fc["shape"] == [96, 32] and fc["dtype"] == "float32" and fc["raw"] == 96 * 32 * 4
    assert (fc["int8"], fc["int6"], fc["int5"], fc["int4"]) == (3072 + 192, 2304 + 192, 1920 + 192, 1536 + 192)
    assert rows["blocks.0.attn.proj.weight"]["raw"] == 32 * 32 * 2
    assert rows["step"]["quantized"] is False and rows["step"]["int4"] == 8
    # Without --quant, each codec column is the tensor's stored bytes compressed alone.
    for name, t in sd.items():
        stored = t.reshape(-1).view(torch.uint8).numpy().tobytes()
        for codec, compress in REFERENCE.items():
            assert rows[name]["compressed"][codec] == len(compress(stored)), (name, codec)
    sizes = [r["compressed"]["zlib-9"] for r in doc["tensors"]]
    assert sizes == sorted(sizes, reverse=True)
    totals = doc["tensor_totals"]
    assert totals["count"] == 5 and totals["raw"] == sum(r["raw"] for r in doc["tensors"])
    assert totals["compressed"]["brotli-11"] == sum(r["compressed"]["brotli-11"] for r in doc["tensors"])


@pytest.mark.parametrize("quant", ["int8", "int6", "int5", "int4"])
def test_quantized_columns_compress_the_documented_records(model_pt, quant):
    doc = budget_json(str(model_pt), "--quant", quant, "--codec", "zstd-22")
    sd = toy_state_dict()
    for row in doc["tensors"]:
        t = sd[row["name"]]
        rec = _record(t, int(quant[3:])) if t.is_floating_point() else t.reshape(-1).view(torch.uint8).numpy().tobytes()
        assert row[quant] == len(rec)
        assert row["compressed"]["zstd-22"] == len(REFERENCE["zstd-22"](rec))
    assert doc["what_if"][0]["model_bytes"] == len(REFERENCE["zstd-22"](_blob(sd, quant)))


def test_top_limits_rows_but_not_totals(model_pt):
    doc = budget_json(str(model_pt), "--top", "2")
    assert doc["tensors_shown"] == 2 and len(doc["tensors"]) == 2
    assert doc["tensor_totals"]["count"] == 5


# -- totals ------------------------------------------------------------------------------------------

def test_submission_total_is_code_plus_artifact_file_and_matches_check(submission):
    root, payload = submission
    artifact = (root / "final_model.int8.ptz").stat().st_size
    code = len(CODE.encode())
    doc = budget_json(str(root))
    assert doc["kind"] == "submission" and doc["codecs"] == ["zlib-9"]
    assert doc["code"]["bytes"] == code and doc["model"]["bytes"] == artifact
    assert doc["model"]["codec"] == "zlib" and doc["model"]["format"] == "torch"
    assert doc["model"]["payload_bytes"] == len(payload)
    assert doc["total"] == code + artifact and doc["headroom"] == 16_000_000 - code - artifact
    assert doc["fits"] is True
    # Recompressing the payload with the codec it was written with gives the file back, exactly.
    assert doc["what_if"][0]["model_bytes"] == artifact
    result, out = run("check", str(root), "--format", "json", "--isolated", "--exit-zero")
    assert json.loads(result.stdout)["submissions"][0]["bytes"]["total"] == doc["total"], out


def test_what_if_reports_total_and_whether_it_fits(submission):
    root, payload = submission
    code = len(CODE.encode())
    doc = budget_json(str(root), "--codec", "lzma-9", "--codec", "brotli-11")
    by_codec = {w["codec"]: w for w in doc["what_if"]}
    for codec in ("lzma-9", "brotli-11"):
        size = len(REFERENCE[codec](payload))
        assert by_codec[codec] == {"codec": codec, "quant": None, "model_bytes": size,
                                   "total": code + size, "headroom": 16_000_000 - code - size, "fits": True}


def test_what_if_over_a_smaller_cap_does_not_fit(submission, tmp_path):
    root, _ = submission
    rules = tmp_path / "small.toml"
    rules.write_text("[bytes]\ncap = 1000\n")
    result, out = run("budget", str(root), "--quant", "int6", "--codec", "zstd-22", "--format", "json",
                      "--rules", str(rules), "--isolated")
    doc = json.loads(result.stdout)
    assert doc["cap"] == 1000 and doc["fits"] is False and doc["what_if"][0]["fits"] is False
    _, out = run("budget", str(root), "--quant", "int6", "--codec", "zstd-22", "--rules", str(rules))
    assert "over the cap" in out and "zstd-22 + int6" in out


def test_model_file_inside_a_submission_counts_that_submissions_code(submission, model_pt):
    root, _ = submission
    inside = root / "final_model.pt"
    inside.write_bytes(model_pt.read_bytes())
    doc = budget_json(str(inside), "--quant", "int6", "--codec", "zstd-22")
    assert doc["kind"] == "model" and doc["code"]["bytes"] == len(CODE.encode())
    assert doc["what_if"][0]["total"] == len(CODE.encode()) + doc["what_if"][0]["model_bytes"]


def test_code_file_alone(tmp_path):
    path = tmp_path / "train_gpt.py"
    path.write_text(CODE * 20)
    doc = budget_json(str(path))
    assert doc["kind"] == "code" and doc["model"] is None and doc["total"] is None
    (entry,) = doc["code"]["files"]
    assert entry["raw"] == len(CODE.encode()) * 20 and entry["lzma_wrapper"] < entry["raw"]


def test_npz_and_raw_blob(tmp_path):
    npz = tmp_path / "w.npz"
    np.savez(npz, a=np.arange(12, dtype=np.float32).reshape(3, 4), b=np.arange(5, dtype=np.int16))
    doc = budget_json(str(npz), "--quant", "int4")
    assert {r["name"]: r["int4"] for r in doc["tensors"]} == {"a": 6 + 6, "b": 10}
    raw = tmp_path / "final_model.bin"
    raw.write_bytes(bytes(range(256)) * 40)
    doc = budget_json(str(raw), "--codec", "zstd-22")
    (row,) = doc["tensors"]
    assert row["name"] == "final_model.bin" and row["raw"] == 10240 and row["quantized"] is False
    assert row["compressed"]["zstd-22"] == len(REFERENCE["zstd-22"](raw.read_bytes()))


# -- JSON stability ----------------------------------------------------------------------------------

TOP_KEYS = {"schema", "target", "kind", "cap", "code", "model", "total", "headroom", "fits", "verdict",
            "assumptions", "quant", "codecs", "tensors", "tensors_shown", "tensor_totals", "what_if",
            "libraries"}


def test_json_keys_are_stable(submission, tmp_path):
    root, _ = submission
    doc = budget_json(str(root), "--quant", "int5", "--codec", "zlib-9")
    assert doc["schema"] == "golflint.budget/1" and set(doc) == TOP_KEYS
    assert set(doc["code"]) == {"bytes", "files"}
    assert set(doc["code"]["files"][0]) == {"path", "raw", "lzma_wrapper", "zlib_wrapper", "minified",
                                            "minified_lzma_wrapper", "problem"}
    assert set(doc["model"]) == {"path", "bytes", "source", "codec", "format", "payload_bytes"}
    assert set(doc["tensors"][0]) == {"name", "shape", "dtype", "raw", "quantized", "int8", "int6", "int5",
                                      "int4", "compressed"}
    assert set(doc["tensor_totals"]) == {"count", "raw", "int8", "int6", "int5", "int4", "compressed"}
    assert set(doc["what_if"][0]) == {"codec", "quant", "model_bytes", "total", "headroom", "fits"}
    assert set(doc["libraries"]) == {"zlib", "zstd", "brotli"}
    code_only = tmp_path / "t.py"
    code_only.write_text(CODE)
    assert set(budget_json(str(code_only))) == TOP_KEYS


def test_text_output_renders_every_section(submission):
    root, _ = submission
    result, out = run("budget", str(root), "--quant", "int6", "--codec", "zstd-22", "--isolated")
    assert result.exit_code == 0, out
    for expected in ("code bytes (exact)", "minified", "quantized.tok_emb.weight", "what-if", "fits"):
        assert expected in out


# -- bad input -----------------------------------------------------------------------------------

class _Trap:
    marker = ""

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _assert_clean_error(args, *fragments):
    result, out = run("budget", *args, "--isolated")
    assert result.exit_code == 2, out
    assert "Traceback" not in out and "error:" in out
    for fragment in fragments:
        assert fragment in out, out


def test_pt_that_is_not_a_state_dict(tmp_path):
    path = tmp_path / "list.pt"
    torch.save([1, 2, 3], path)
    _assert_clean_error([str(path)], "is not a state dict")


def test_truncated_pt_and_truncated_artifact(tmp_path, model_pt):
    data = model_pt.read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(data[: len(data) // 2])
    _assert_clean_error([str(cut)], "truncated or corrupt")
    cut_ptz = tmp_path / "cut.ptz"
    cut_ptz.write_bytes(zlib.compress(data, 9)[:500])
    _assert_clean_error([str(cut_ptz)], "ends early")


@pytest.mark.parametrize("as_torch", [True, False])
def test_pickle_with_arbitrary_objects_is_refused_and_not_run(tmp_path, as_torch):
    marker = tmp_path / "ran.txt"
    trap = _Trap()
    trap.marker = str(marker)
    path = tmp_path / "evil.pt"
    if as_torch:
        torch.save({"w": torch.ones(2), "x": trap}, path)
    else:
        path.write_bytes(pickle.dumps({"x": trap}, protocol=2))
    _assert_clean_error([str(path)], "never unpickles arbitrary objects")
    assert not marker.exists()


def test_npz_with_object_arrays_is_refused(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, a=np.array([{"x": 1}], dtype=object))
    _assert_clean_error([str(path)], "never unpickles")


def test_decompression_bomb_is_refused(tmp_path):
    rules = tmp_path / "r.toml"
    rules.write_text("[budget]\nmax_model_bytes = 100000\n")
    bomb = tmp_path / "bomb.ptz"
    bomb.write_bytes(zlib.compress(bytes(10_000_000), 9))
    _assert_clean_error([str(bomb), "--rules", str(rules)], "not expanded")


def test_quant_without_a_model_is_a_usage_error(make_sub):
    root = make_sub({"train_gpt.py": CODE, "submission.json": "{}"})
    _assert_clean_error([str(root), "--quant", "int6"], "no model file")


def test_budget_never_modifies_the_submission(submission):
    from golflint_testing import snapshot

    root, _ = submission
    before = snapshot(root)
    budget_json(str(root), "--codec", "all", "--quant", "int4")
    assert snapshot(root) == before
    assert not any(name.endswith(".pyc") for name in os.listdir(root))
