"""Read the tensors of a model file: a torch state dict, an .npz/.npy, or a raw quantized blob.

A model file may be wrapped in a zlib/zstd/lzma/brotli stream (the artifact a script writes, e.g.
`final_model.int8.ptz`); it is expanded first, bounded by `max_bytes`.

Safety: torch files are read with `torch.load(weights_only=True)`, which only rebuilds tensors and
plain containers and refuses any other pickled object; numpy files with `allow_pickle=False`. A file
that is neither is taken as a raw blob of bytes (one entry), never unpickled.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GolflintError
from .codecs import decompress


@dataclass
class TensorEntry:
    name: str
    shape: tuple[int, ...]
    dtype: str
    data: bytes                      # the tensor's bytes as stored (native element size)
    values: np.ndarray | None        # float32 copy for quantization; None for non-float tensors

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def quantizable(self) -> bool:
        return self.values is not None


@dataclass
class ModelFile:
    path: str
    file_bytes: int                  # size on disk: what the artifact costs as it is
    codec: str | None                # outer compression found (zlib/zstd/lzma/brotli) or None
    payload: bytes                   # the bytes inside the codec (the file itself when uncompressed)
    format: str                      # torch | npz | npy | raw
    tensors: list[TensorEntry] = field(default_factory=list)


def read_model(path: Path, data: bytes, max_bytes: int) -> ModelFile:
    """Tensors of a model file whose bytes are `data` (`path` is for messages and raw-blob names)."""
    display = str(path)
    try:
        expanded = decompress(data, max_bytes)
    except GolflintError as exc:
        raise GolflintError(f"{display} {exc}") from None
    codec, payload = expanded if expanded else (None, data)
    fmt, tensors = _parse(display, payload, Path(path).name)
    return ModelFile(display, len(data), codec, payload, fmt, tensors)


def _parse(display: str, payload: bytes, filename: str) -> tuple[str, list[TensorEntry]]:
    if payload.startswith(b"PK\x03\x04"):
        names = _zip_names(payload)
        if names is not None and names and all(n.endswith(".npy") for n in names):
            return "npz", _from_npz(display, payload)
        return "torch", _from_torch(display, payload)
    if payload.startswith(b"\x80") and len(payload) > 2 and payload[1] <= 5:
        # A pickle (the legacy torch.save format starts with a pickled magic number).
        return "torch", _from_torch(display, payload)
    if payload.startswith(b"\x93NUMPY"):
        return "npy", [_from_array(filename, _load_npy(display, payload))]
    return "raw", [TensorEntry(filename, (len(payload),), "uint8", payload, None)]


def _zip_names(payload: bytes) -> list[str] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as zf:
            return zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


# -- torch ----------------------------------------------------------------------------------------

def _from_torch(display: str, payload: bytes) -> list[TensorEntry]:
    try:
        import torch
    except ImportError:
        raise GolflintError(f"{display} is a torch file; reading it needs the torch extra: "
                            "pip install 'golflint[torch]'") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's advice on pickle protocols is not for our users
            obj = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for bad files; all are the user's input
        raise GolflintError(_torch_problem(display, exc)) from None
    tensors: list[TensorEntry] = []
    _collect(obj, "", tensors, torch)
    if not isinstance(obj, dict) or not tensors:
        kind = type(obj).__name__
        raise GolflintError(f"{display} is not a state dict: it holds a {kind} "
                            f"{'with no tensors' if not tensors else 'instead of a dict of tensors'}")
    return tensors


def _torch_problem(display: str, exc: Exception) -> str:
    text = str(exc)
    if type(exc).__name__ == "UnpicklingError" or "weights_only" in text:
        # torch names the refused global or opcode in one line of a long explanation.
        reason = next((line.strip() for line in text.splitlines()
                       if "GLOBAL" in line or "Unsupported" in line), "")
        detail = f" ({reason.rstrip('.')})" if reason else ""
        return (f"{display} holds pickled Python objects other than tensors{detail}; golflint reads "
                "torch files with weights_only=True and never unpickles arbitrary objects")
    first = text.strip().splitlines()[0].split(". ")[0] if text.strip() else type(exc).__name__
    return f"{display} cannot be read as a torch file (truncated or corrupt?): {first}"


def _collect(obj: Any, prefix: str, out: list[TensorEntry], torch: Any) -> None:
    if isinstance(obj, torch.Tensor):
        out.append(_from_torch_tensor(prefix or "tensor", obj, torch))
    elif isinstance(obj, dict):
        for key, value in obj.items():
            _collect(value, f"{prefix}.{key}" if prefix else str(key), out, torch)
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            _collect(value, f"{prefix}.{i}" if prefix else str(i), out, torch)


def _from_torch_tensor(name: str, t: Any, torch: Any) -> TensorEntry:
    t = t.detach().contiguous()
    dtype = str(t.dtype).removeprefix("torch.")
    flat = t.reshape(-1)
    if t.is_quantized or t.is_complex() or t.is_sparse:
        raise GolflintError(f"tensor {name} has an unsupported layout or dtype ({dtype})")
    data = flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""
    values = flat.to(torch.float32).numpy() if t.is_floating_point() else None
    return TensorEntry(name, tuple(t.shape), dtype, data, values)


# -- numpy ----------------------------------------------------------------------------------------

def _from_npz(display: str, payload: bytes) -> list[TensorEntry]:
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
            return [_from_array(name, npz[name]) for name in npz.files]
    except ValueError as exc:
        raise GolflintError(f"{display}: an array in the .npz needs pickle ({exc}); golflint never "
                            "unpickles arbitrary objects") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise GolflintError(f"{display} cannot be read as .npz (truncated or corrupt?): {exc}") from None


def _load_npy(display: str, payload: bytes) -> np.ndarray:
    try:
        return np.load(io.BytesIO(payload), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise GolflintError(f"{display} cannot be read as .npy: {exc}") from None


def _from_array(name: str, arr: np.ndarray) -> TensorEntry:
    arr = np.ascontiguousarray(arr)
    values = arr.astype(np.float32).reshape(-1) if arr.dtype.kind == "f" else None
    return TensorEntry(name, tuple(arr.shape), str(arr.dtype), arr.tobytes(), values)


def read_model_path(path: Path, max_bytes: int) -> ModelFile:
    """read_model for a file named on the command line (not inside a submission folder)."""
    from ..files import read_file

    # Bounded and regular files only: a FIFO or /dev/urandom (even behind a symlink) is refused unread.
    fr = read_file(Path(path).parent, Path(path).name, max_bytes, follow_out=True)
    if fr.problem is not None or fr.data is None:
        raise GolflintError(f"{path} {fr.problem or 'cannot be read'}"
                            + (" (budget.max_model_bytes)" if fr.size else ""))
    return read_model(path, fr.data, max_bytes)
