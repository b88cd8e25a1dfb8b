"""Per-tensor sizes and whole-artifact what-ifs, each compressed exactly once per codec.

What gets compressed:
- per tensor: its record at the chosen quantization (quant.py), or its stored bytes without one;
- the whole artifact: without a quantization, the model file's payload (the bytes inside its codec,
  e.g. the torch.save zip inside a .ptz) recompressed; with one, the golflint quantized blob:
  b"GLQ1", a little-endian uint32 header length, a compact JSON header naming every tensor
  (name, shape, dtype, bits or 0 when stored as is, record length), then the records in file order.

All compressions run on one thread pool: the codec libraries release the GIL, so tensors and codecs
proceed in parallel. The whole-artifact jobs, the longest, are started first.
"""

from __future__ import annotations

import json
import os
import struct
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Sequence

from . import QUANT_BITS
from .codecs import Codec
from .quant import quantized_record, record_size, rows_of
from .tensors import ModelFile, TensorEntry

BLOB_MAGIC = b"GLQ1"


@dataclass
class TensorRow:
    name: str
    shape: tuple[int, ...]
    dtype: str
    raw: int
    quantized: bool                     # False: not floating point, kept as stored in every column
    at: dict[str, int]                  # "int8".."int4" -> record bytes (raw bytes when not quantized)
    compressed: dict[str, int] = field(default_factory=dict)   # codec label -> exact bytes

    def as_json(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype, "raw": self.raw,
                "quantized": self.quantized, **self.at, "compressed": dict(self.compressed)}


@dataclass
class ModelBudget:
    model: ModelFile
    quant: str | None
    codecs: list[str]
    rows: list[TensorRow]               # largest first
    whole: dict[str, int]               # codec label -> exact bytes of the whole artifact
    whole_input_bytes: int              # bytes fed to the codecs for the whole artifact

    def totals(self) -> dict:
        out = {"count": len(self.rows), "raw": sum(r.raw for r in self.rows)}
        for q in QUANT_BITS:
            out[q] = sum(r.at[q] for r in self.rows)
        out["compressed"] = {c: sum(r.compressed[c] for r in self.rows) for c in self.codecs}
        return out


def tensor_record(entry: TensorEntry, quant: str | None) -> bytes:
    if quant is None or not entry.quantizable:
        return entry.data
    return quantized_record(entry.values, entry.shape, QUANT_BITS[quant])


def blob_chunks(model: ModelFile, quant: str, records: Sequence[bytes]) -> list[bytes]:
    """The golflint quantized blob as a list of chunks (header, then one record per tensor)."""
    bits = QUANT_BITS[quant]
    index = [[t.name, list(t.shape), t.dtype, bits if t.quantizable else 0, len(rec)]
             for t, rec in zip(model.tensors, records)]
    header = json.dumps({"format": "golflint-quant/1", "quant": quant, "tensors": index},
                        separators=(",", ":")).encode("utf-8")
    return [BLOB_MAGIC + struct.pack("<I", len(header)) + header, *records]


def job_count(model: ModelFile, codecs: Sequence[Codec]) -> int:
    """How many compressions analyze() runs: each tensor and the whole artifact, once per codec."""
    return len(codecs) * (len(model.tensors) + 1)


def analyze(model: ModelFile, codecs: Sequence[Codec], quant: str | None,
            workers: int | None = None, on_done: Callable[[str], None] | None = None) -> ModelBudget:
    """`on_done(label)` is called (from worker threads) as each compression finishes, for progress."""
    records = [tensor_record(t, quant) for t in model.tensors]
    whole_input: Sequence[bytes] = [model.payload] if quant is None else blob_chunks(model, quant, records)
    rows = [TensorRow(t.name, t.shape, t.dtype, len(t.data), t.quantizable,
                      {q: record_size(t.numel, rows_of(t.shape), b) if t.quantizable else len(t.data)
                       for q, b in QUANT_BITS.items()})
            for t in model.tensors]
    whole: dict[str, int] = {}
    order = sorted(range(len(records)), key=lambda i: -len(records[i]))
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        whole_jobs = {c.label: pool.submit(c.size, whole_input) for c in codecs}
        tensor_jobs = [(i, c.label, pool.submit(c.size, records[i])) for i in order for c in codecs]
        if on_done is not None:
            for label, job in whole_jobs.items():
                job.add_done_callback(lambda _, label=label: on_done(f"whole artifact, {label}"))
            for i, label, job in tensor_jobs:
                job.add_done_callback(lambda _, i=i, label=label: on_done(f"{model.tensors[i].name}, {label}"))
        for label, job in whole_jobs.items():
            whole[label] = job.result()
        for i, label, job in tensor_jobs:
            rows[i].compressed[label] = job.result()
    labels = [c.label for c in codecs]
    first = labels[0] if labels else None
    rows.sort(key=lambda r: (-(r.compressed[first] if first else 0), -r.raw, r.name))
    return ModelBudget(model, quant, labels, rows, whole, sum(len(c) for c in whole_input))
