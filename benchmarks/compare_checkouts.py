"""Two golflint checkouts and ruff over the accepted records, in interleaved rounds: wall, CPU and
system time, and the ratios that matter, each taken within a round.

On a shared machine the same command's wall time moves by tens of percent from one minute to the
next, so two checkouts are compared round by round: each round runs ruff, checkout A and checkout
B back to back (a parallel cold check, `--no-cache`, as a user runs it), and the medians of the
per-round ratios are printed. Instruction counts (`count_instructions.py`) are steadier, but they
see only what runs in the process: time the kernel spends for it (page faults, mapping memory) is
missed, and that is where the frame-stack change of 0.9.4 saved most (docs/performance.md).

    python benchmarks/compare_checkouts.py --against ../base            # 7 rounds
    python benchmarks/compare_checkouts.py --against ../base --rounds 11

Needs the records (../shared/corpus, or $GOLFLINT_CORPUS); ruff is optional (without it no ratio to
ruff is printed). Exits 2 when the records are missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_check import records_tree

REPO = Path(__file__).resolve().parent.parent


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """(wall, CPU, system) seconds of one run of `argv`, its children included."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_stime


def golflint_run(checkout: Path, records: Path) -> tuple[list[str], Path, dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if k not in ("GOLFLINT_CACHE_DIR", "PYTHONDONTWRITEBYTECODE")}
    env["PYTHONPATH"] = str(checkout)
    argv = [sys.executable, "-m", "golflint", "check", "--no-cache", "--exit-zero", "-o", os.devnull, str(records)]
    return argv, checkout, env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, required=True, help="the other golflint checkout (A)")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    records = records_tree()
    if records is None:
        print("the accepted records are not here (../shared/corpus or $GOLFLINT_CORPUS)", file=sys.stderr)
        return 2
    base, this = args.against.resolve(), REPO
    if not (base / "golflint").is_dir():
        print(f"{base} is not a golflint checkout", file=sys.stderr)
        return 2
    runs = {"A": golflint_run(base, records), "B": golflint_run(this, records)}
    for argv, cwd, env in runs.values():   # compiled bytecode first, as an installed package has it
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(cwd / "golflint")], env=env, check=True)
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    ruff_argv = [ruff, "check", "--select", "ALL", "--no-cache", "--exit-zero", "--quiet", str(records)] \
        if Path(ruff).exists() else None
    print(f"A = {base}\nB = {this}\nrecords: {records}; {os.cpu_count()} cores; {args.rounds} rounds")
    ratios: dict[str, list[float]] = {"B/A wall": [], "B/A CPU": [], "A/ruff": [], "B/ruff": []}
    system: dict[str, list[float]] = {"A": [], "B": []}
    for i in range(args.rounds):
        line = f"round {i + 1}:"
        ruff_wall = None
        if ruff_argv:
            ruff_wall = timed(ruff_argv, REPO, dict(os.environ))[0]
            line += f"  ruff {ruff_wall:.2f} s"
        got = {}
        for name, (argv, cwd, env) in runs.items():
            got[name] = timed(argv, cwd, env)
            wall, cpu, sys_time = got[name]
            system[name].append(sys_time)
            line += f"  {name} {wall:.2f} s (CPU {cpu:.2f}, system {sys_time:.2f})"
            if ruff_wall:
                ratios[f"{name}/ruff"].append(wall / ruff_wall)
        ratios["B/A wall"].append(got["B"][0] / got["A"][0])
        ratios["B/A CPU"].append(got["B"][1] / got["A"][1])
        print(line, flush=True)
    print("medians of the per-round figures:")
    for label, values in ratios.items():
        if values:
            print(f"  {label:<9} {statistics.median(values):.3f}  ({min(values):.3f}-{max(values):.3f})")
    for name, values in system.items():
        print(f"  system time {name}: {statistics.median(values):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
