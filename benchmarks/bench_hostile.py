"""Peak memory and wall time of `golflint check` on hostile submissions (issue 10's cases).

Each case is generated in a temporary folder and checked by `python -m golflint check --format json`
in its own process; the peak resident set size comes from the kernel's accounting of that process
(os.wait4), so nothing is sampled. The goal: every case under 1 GB, exit 1 or 2, no traceback.

    python benchmarks/bench_hostile.py                  # every case
    python benchmarks/bench_hostile.py bz2_bombs big_script
    python benchmarks/bench_hostile.py --tree /some/fork   # any tree you have, as one more case
"""

from __future__ import annotations

import argparse
import bz2
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from collections.abc import Callable

REPO = Path(__file__).resolve().parent.parent
GOAL_BYTES = 1_000_000_000

GOOD = {
    "README.md": "# Run\n\n```\ntorchrun --standalone --nproc_per_node=8 train_gpt.py\n```\n",
    "train_gpt.py": "print('train')\n",
    "train_seed1.log": "final_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570\n",
    "final_model.int8.ptz": b"\x01" * 1000,
    "submission.json": json.dumps({"author": "a", "name": "b", "val_bpb": 1.2244}),
}


def _write(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in {**GOOD, **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def bz2_bombs(root: Path) -> Path:
    bomb = bz2.compress(b"#" * 40_000_000)
    code = "import codecs\n" + "".join(f"exec(codecs.decode({bomb!r}, 'bz2_codec'))\n" for _ in range(6))
    mods = {f"m{i}.py": code for i in range(4)}
    return _write(root, {"train_gpt.py": "".join(f"import m{i}\n" for i in range(4)) + code, **mods})


def big_script(root: Path) -> Path:
    return _write(root, {"train_gpt.py": "x = 1\n" * 8_000_000})   # 48 MB


def million_seeds(root: Path) -> Path:
    claims = {"author": "a", "name": "b", "val_bpb": 1.2, "seeds": list(range(1_000_000))}
    return _write(root, {"submission.json": json.dumps(claims)})


def deep_lambdas(root: Path) -> Path:
    return _write(root, {"train_gpt.py": "f = " + "lambda: " * 2000 + "0\nimport urllib.request\n"
                                         "urllib.request.urlopen('https://example.org')\n"})


def big_logs(root: Path) -> Path:
    line = "step:100/20000 train_loss:2.3456 train_time:12345ms step_avg:43.21ms\n"
    logs = {f"train_seed{i}.log": line * (45_000_000 // len(line)) for i in range(1, 9)}
    return _write(root, logs)


def many_files(root: Path) -> Path:
    _write(root, {})
    for i in range(200):
        sub = root / "junk" / f"d{i}"
        sub.mkdir(parents=True)
        for j in range(100):
            (sub / f"f{j}").touch()
    return root


def big_native(root: Path) -> Path:
    code = "import subprocess\nsubprocess.run(['gcc', '-shared', '-o', 'libx.so', 'a.c', 'b.c'])\n"
    body = "".join(f"int f{i}(int x) {{ return x * {i} + (x >> 2); }}\n" for i in range(19_000))
    return _write(root, {"train_gpt.py": code, "a.c": body, "b.c": body.replace("int f", "int g")})


CASES: dict[str, Callable[[Path], Path]] = {f.__name__: f for f in (
    bz2_bombs, big_script, million_seeds, deep_lambdas, big_logs, many_files, big_native)}


def run(path: Path) -> tuple[int, float, int, bool]:
    """(exit code, seconds, peak RSS bytes, traceback seen) of one check."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", "golflint", "check", "--format", "json",
                                 "-o", os.devnull, str(path)], stdout=subprocess.DEVNULL, stderr=err,
                                env=env, cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        traceback = b"Traceback" in err.read()
    return proc.returncode, time.perf_counter() - start, usage.ru_maxrss * 1024, traceback


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", choices=[[], *CASES], help="cases to run (default: all)")
    parser.add_argument("--tree", type=Path, help="also check this existing tree")
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    names = args.cases or list(CASES)
    if args.build:  # in a child process, so this process's own memory never inflates a child's peak
        for name in names:
            CASES[name](args.build / "records" / "track_10min_16mb" / name)
        return
    print(f"{'case':<16} {'exit':>4} {'seconds':>8} {'peak RSS MB':>12}  traceback")
    worst = 0
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, __file__, "--build", tmp, *names], check=True)
        targets = [(name, Path(tmp) / "records" / "track_10min_16mb" / name) for name in names]
        if args.tree:
            targets.append((str(args.tree), args.tree))
        for name, path in targets:
            code, seconds, peak, traceback = run(path)
            worst = max(worst, peak)
            print(f"{name:<16} {code:>4} {seconds:>8.1f} {peak / 1e6:>12.0f}  {'YES' if traceback else 'no'}")
    print(f"worst peak RSS: {worst / 1e6:.0f} MB (goal < {GOAL_BYTES / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
