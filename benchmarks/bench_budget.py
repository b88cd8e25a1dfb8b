"""Time golflint's zstd-22 and lzma-9 against the command-line tools on a realistic 16 MB blob.

The blob is what an int8 artifact holds: gaussian weight matrices quantized per row to int8, each
followed by its fp16 row scales (golflint's int8 record layout), about 16,000,000 bytes in all.
Random bytes would be the wrong test: they do not compress, and codecs race through them.

    PYTHONPATH=$PWD /work/venv/bin/python benchmarks/bench_budget.py [--repeat 3] [--mb 16]

Needs `zstd` and `xz` on PATH (apt-get install -y zstd xz-utils). Prints the best-of-N wall and CPU
times of each (ours and the CLI run alternately), the ratios ours/CLI (goal: <= 1.2; on a shared
machine the CPU-time ratio is the fair one), and the byte counts, with the byte-exact comparisons:
- `zstd -22 --ultra` writes a 4-byte content checksum by default; `--no-check` drops it, and then the
  frame is comparable with zstandard's one-shot output: same bytes when the libzstd versions agree.
  They often do not (python-zstandard bundles its own libzstd); the script then also compresses with
  the system libzstd through ctypes, the library the CLI uses, to show the gap is the version.
- `xz -9` writes the same .xz container as Python's lzma.compress(preset=9) (CRC64 check, one
  block); with one thread (the default before xz 5.6) the bytes are identical when liblzma agrees.
  Multi-threaded xz (-T0, default from 5.6) stores block sizes in the header, a few bytes more.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from golflint.budget.codecs import get_codec  # noqa: E402
from golflint.budget.quant import quantized_record  # noqa: E402


def realistic_blob(total_bytes: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    cols = 512
    parts, size = [], 0
    while size < total_bytes:
        rows = min(1536, max(1, (total_bytes - size) // (cols + 2)))
        w = rng.standard_normal((rows, cols)).astype(np.float32) * 0.02
        rec = quantized_record(w, (rows, cols), 8)
        parts.append(rec)
        size += len(rec)
    return b"".join(parts)[:total_bytes]


def _cpu_seconds() -> float:
    """CPU time of this process plus its finished children: fair on a machine others are using."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def interleaved(repeat: int, ours, theirs):
    """Best-of-N (wall, cpu) seconds of two callables run alternately, and their last results."""
    times: list[list[tuple[float, float]]] = [[], []]
    results = [None, None]
    for _ in range(repeat):
        for slot, fn in enumerate((ours, theirs)):
            wall, cpu = time.perf_counter(), _cpu_seconds()
            results[slot] = fn()
            times[slot].append((time.perf_counter() - wall, _cpu_seconds() - cpu))
    best = [(min(w for w, _ in t), min(c for _, c in t)) for t in times]
    return best[0], best[1], results[0], results[1]


def cli_size(argv: list[str], src: Path) -> int:
    """The CLI compressing the file (so, like the library call, it knows the input size) to stdout."""
    return len(subprocess.run([*argv, str(src)], stdout=subprocess.PIPE, check=True).stdout)


def system_libzstd_size(blob: bytes) -> tuple[str, int] | None:
    """(version, one-shot ZSTD_compress size at level 22) with the system libzstd, if present."""
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("zstd") or "libzstd.so.1")
    except OSError:
        return None
    lib.ZSTD_versionString.restype = ctypes.c_char_p
    lib.ZSTD_compressBound.restype = ctypes.c_size_t
    lib.ZSTD_compressBound.argtypes = [ctypes.c_size_t]
    lib.ZSTD_compress.restype = ctypes.c_size_t
    lib.ZSTD_compress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t,
                                  ctypes.c_int]
    bound = lib.ZSTD_compressBound(len(blob))
    dst = ctypes.create_string_buffer(bound)
    return lib.ZSTD_versionString().decode(), lib.ZSTD_compress(dst, bound, blob, len(blob), 22)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--mb", type=float, default=16.0)
    args = ap.parse_args()
    missing = [t for t in ("zstd", "xz") if shutil.which(t) is None]
    if missing:
        sys.exit(f"missing {' and '.join(missing)}: apt-get install -y zstd xz-utils")

    blob = realistic_blob(int(args.mb * 1_000_000))
    versions = subprocess.run(["zstd", "--version"], capture_output=True, text=True).stdout.strip()
    xz_version = subprocess.run(["xz", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    print(f"blob: {len(blob):,} bytes (int8 per-row gaussian records); cpu: {os.cpu_count()}")
    print(f"python zstandard {zstandard.__version__} (libzstd {'.'.join(map(str, zstandard.ZSTD_VERSION))}); "
          f"{versions}; {xz_version}")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "blob.bin"
        src.write_bytes(blob)
        rows = []
        for label, ours, cli, exact_cli in (
            ("zstd-22", get_codec("zstd-22"), ["zstd", "-22", "--ultra", "-c"],
             ["zstd", "-22", "--ultra", "--no-check", "-c"]),
            ("lzma-9", get_codec("lzma-9"), ["xz", "-9", "-c"], ["xz", "-9", "-T1", "-c"]),
        ):
            t_ours, t_cli, n_ours, n_cli = interleaved(args.repeat, lambda c=ours: c.size(blob),
                                                      lambda argv=cli: cli_size(argv, src))
            n_exact = cli_size(exact_cli, src)
            rows.append((label, t_ours, t_cli, n_ours, n_cli, n_exact, " ".join(cli), " ".join(exact_cli)))
    print(f"{'codec':<8} {'wall ours/CLI s':>16} {'ratio':>6} {'cpu ours/CLI s':>16} {'ratio':>6} "
          f"{'ours B':>12} {'CLI B':>12}")
    for label, (w_ours, c_ours), (w_cli, c_cli), n_ours, n_cli, n_exact, cli, exact_cli in rows:
        same = "same bytes" if n_exact == n_ours else f"{n_exact - n_ours:+,} B"
        print(f"{label:<8} {w_ours:7.2f}/{w_cli:<8.2f} {w_ours / w_cli:6.2f} {c_ours:7.2f}/{c_cli:<8.2f} "
              f"{c_ours / c_cli:6.2f} {n_ours:12,} {n_cli:12,}")
        print(f"{'':<8} `{cli}` differs by {n_cli - n_ours:+,} B; `{exact_cli}`: {n_exact:,} B ({same})")
    (t_st, _), (t_mt, _), n_st, n_mt = interleaved(
        args.repeat, lambda: len(zstandard.ZstdCompressor(level=22).compress(blob)),
        lambda: len(zstandard.ZstdCompressor(level=22, threads=-1).compress(blob)))
    print(f"zstd-22 in zstandard, single-threaded vs threads=-1: {t_st:.2f} s vs {t_mt:.2f} s wall, "
          f"{'same bytes' if n_mt == n_st else 'different bytes'} ({n_mt:,} B)")
    system = system_libzstd_size(blob)
    if system:
        print(f"system libzstd {system[0]} one-shot ZSTD_compress level 22: {system[1]:,} B "
              f"({'equals' if system[1] == rows[0][5] else 'differs from'} the --no-check CLI output)")


if __name__ == "__main__":
    main()
