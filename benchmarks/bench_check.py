"""`golflint check` against `ruff check --select ALL --no-cache`, side by side in one run.

Over the same tree (the accepted records in ../shared/corpus, or $GOLFLINT_CORPUS, when present;
else generated submissions), each command run as a fresh process:

- ruff cold (it uses every core itself);
- golflint cold, serial (--jobs 1) and parallel (default: every core), without the cache; the cold
  ratio judged is the median over --repeat rounds of ruff and golflint (parallel) run back to back,
  golflint with default settings on an empty cache (a cold run fills it); the same without the
  cache (--no-cache) is printed beside it;
- golflint warm: a run that fills a fresh cache, then one that reads it;
- the largest folder alone, cold (split over two processes, and with --jobs 1), and the slowest
  folder of the serial run alone, each the median of --repeat alternating runs;
- peak memory (largest single process), and whether it is flat: the same folders once and as four
  copies of themselves;
- a generated stress script: ~350 KB, hundreds of functions with nested training and
  score-then-adapt loops (the shape of the slowest pull request seen).

Installs nothing. Figures on a shared machine are noisy: read the ratios, which are measured side
by side, and the CPU seconds next to the wall seconds.

    python benchmarks/bench_check.py                 # the records, or 40 generated folders
    python benchmarks/bench_check.py --tree DIR      # any tree
    python benchmarks/bench_check.py --generated -n 20
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

TARGET_CODE_BYTES = 150_000

HEADER = '''"""Synthetic training script {name}: generated for golflint's benchmark."""
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = int(os.environ.get("SEED", "{seed}"))
MAX_WALLCLOCK_SECONDS = float(os.environ.get("MAX_WALLCLOCK_SECONDS", "600"))
'''

BLOCK = '''

class Block{i}(nn.Module):
    """Residual block variant {i}: attention width {dim}, MLP ratio {ratio}."""

    def __init__(self, dim: int = {dim}) -> None:
        super().__init__()
        self.norm = nn.RMSNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.proj = nn.Linear(dim, dim, bias=False)
        self.up = nn.Linear(dim, {ratio} * dim, bias=False)
        self.down = nn.Linear({ratio} * dim, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.norm(x)).view(b, t, 3, {heads}, d // {heads}).unbind(2)
        y = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
        h = self.up(x)
        for _ in range({loops}):
            h = F.relu(h).square() * {scale}
        return x + self.down(h)


def schedule_{i}(step: int, total: int, warmup: int = {warmup}) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def quantize_{i}(w: torch.Tensor, bits: int = {bits}) -> tuple[torch.Tensor, torch.Tensor]:
    levels = 2 ** (bits - 1) - 1
    scale = w.abs().amax(dim=-1, keepdim=True).clamp(min=1e-8) / levels
    return (w / scale).round().clamp(-levels, levels).to(torch.int8), scale.half()
'''

FOOTER = '''

@torch.no_grad()
def evaluate(model: nn.Module, tokens: torch.Tensor, seq_len: int = 1024) -> float:
    total, count = 0.0, 0
    for start in range(0, tokens.numel() - seq_len - 1, seq_len):
        chunk = tokens[start: start + seq_len + 1]
        logits = model(chunk[:-1][None])
        total += F.cross_entropy(logits[0].float(), chunk[1:], reduction="sum").item()
        count += seq_len
    return total / count


def main() -> None:
    torch.manual_seed(SEED)
    start = time.perf_counter()
    while time.perf_counter() - start < MAX_WALLCLOCK_SECONDS:
        break
    print("final_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570")


if __name__ == "__main__":
    main()
'''


def make_code(name: str, seed: int, rng: random.Random) -> str:
    parts = [HEADER.format(name=name, seed=seed)]
    size = len(parts[0])
    i = 0
    while size < TARGET_CODE_BYTES - len(FOOTER):
        block = BLOCK.format(i=i, dim=rng.choice([256, 384, 512, 768]), ratio=rng.choice([2, 3, 4]),
                             heads=rng.choice([4, 8]), loops=rng.randint(1, 3), scale=round(rng.random(), 3),
                             warmup=rng.randint(10, 50), bits=rng.choice([5, 6, 8]))
        parts.append(block)
        size += len(block)
        i += 1
    parts.append(FOOTER)
    return "".join(parts)


def make_log(seed: int, code_bytes: int, model_bytes: int, loss: float, rng: random.Random) -> str:
    lines = [f"seed:{seed}", "model_params:17059912"]
    for step in range(0, 13800, 200):
        lines.append(f"step:{step}/20000 train_loss:{2 + 5 * math.exp(-step / 700) + rng.random() * 0.02:.4f} "
                     f"train_time:{step * 43.5:.0f}ms step_avg:43.50ms")
    lines += ["stopping_early: wallclock_cap train_time:600021ms step:13794/20000",
              f"Serialized model int8+zlib: {model_bytes} bytes",
              f"Code size: {code_bytes} bytes",
              f"Total submission size int8+zlib: {model_bytes + code_bytes} bytes",
              f"final_int8_zlib_roundtrip_exact val_loss:{loss:.8f} val_bpb:{loss * 0.590711:.8f}",
              "total_eval_time:41.2s"]
    return "\n".join(lines) + "\n"


def make_tree(root: Path, n: int) -> None:
    rng = random.Random(20260101)
    for k in range(n):
        folder = root / "records" / "track_10min_16mb" / f"2026-01-{k:04d}_Synthetic"
        folder.mkdir(parents=True)
        code = make_code(folder.name, k, rng)
        (folder / "train_gpt.py").write_text(code, encoding="utf-8")
        code_bytes = len(code.encode("utf-8"))
        seeds = {}
        for seed in (1, 2, 3):
            loss = 2.06 + rng.uniform(-0.001, 0.001)
            model_bytes = rng.randint(15_700_000, 15_800_000)
            (folder / f"train_seed{seed}.log").write_text(make_log(seed, code_bytes, model_bytes, loss, rng))
            seeds[str(seed)] = {"val_loss": round(loss, 8), "val_bpb": round(loss * 0.590711, 8),
                                "artifact_bytes": model_bytes + code_bytes}
        claims = {"author": "bench", "name": folder.name, "date": "2026-01-01",
                  "val_loss": round(statistics.fmean(s["val_loss"] for s in seeds.values()), 8),
                  "val_bpb": round(statistics.fmean(s["val_bpb"] for s in seeds.values()), 8),
                  "bytes_code": code_bytes, "seed_results": seeds}
        (folder / "submission.json").write_text(json.dumps(claims, indent=2))
        (folder / "README.md").write_text(f"# {folder.name}\n\nSynthetic submission for the benchmark.\n")


def records_tree() -> Path | None:
    candidates = [REPO / ".." / "shared" / "corpus"]
    if os.environ.get("GOLFLINT_CORPUS"):
        candidates.append(Path(os.environ["GOLFLINT_CORPUS"]))
    for corpus in candidates:
        records = corpus / "parameter-golf" / "records"
        if records.is_dir():
            return records.resolve()
    return None


# -- the stress case -------------------------------------------------------------------------------
STRESS_HEAD = """import glob
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = os.environ.get("DATA_DIR", "./data/datasets/fineweb10B_sp1024")
TRAIN_FILES = os.path.join(DATA, "fineweb_train_*.bin")
VAL_FILES = os.path.join(DATA, "fineweb_val_*.bin")
SEQ = int(os.environ.get("SEQ", "1024"))


def shard(path):
    header = np.fromfile(path, dtype="<i4", count=256)
    body = np.memmap(path, dtype="<u2", mode="r", offset=1024, shape=(int(header[2]),))
    return torch.from_numpy(np.asarray(body, dtype=np.int64))


def load(pattern):
    return torch.cat([shard(p) for p in sorted(glob.glob(pattern))])


class Net(nn.Module):
    def __init__(self, vocab=1024, dim=256):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.out = nn.Linear(dim, vocab)

    def forward(self, x, y=None):
        logits = self.out(self.emb(x))
        if y is None:
            return logits
        return F.cross_entropy(logits.flatten(0, 1).float(), y.flatten())
"""

STRESS_STAGE = """

def stage_{i}(model, opt, tokens, val, width={w}):
    total = 0.0
    for epoch in range({e}):
        for step in range(width):
            start = (step * SEQ + epoch) % (tokens.numel() - SEQ - 1)
            chunk = tokens[start:start + SEQ + 1]
            loss = model(chunk[:-1][None], chunk[1:][None])
            loss.backward()
            opt.step()
            opt.zero_grad()
            if step % {m} == 0:
                total += loss.item() * {k}
    n = (val.numel() - 1) // SEQ
    nats = 0.0
    for s in range(n):
        piece = val[s * SEQ:(s + 1) * SEQ + 1]
        x, y = piece[:-1][None], piece[1:][None]
        with torch.no_grad():
            nats += model(x, y).item()
        for inner in range({e}):
            adapt = model(x, y)
            adapt.backward()
            opt.step()
            opt.zero_grad()
        if s % {m} == {k} % {m}:
            total = total * 0.5 + nats / (s + 1)
    return total + nats / max(n, 1)
"""


def stress_script(target_bytes: int = 350_000) -> tuple[str, int]:
    """A long script of many functions with nested loops: (source, number of functions)."""
    parts, size, i = [STRESS_HEAD], len(STRESS_HEAD), 0
    while size < target_bytes:
        stage = STRESS_STAGE.format(i=i, w=8 + i % 7, e=1 + i % 3, m=2 + i % 5, k=i % 11)
        parts.append(stage)
        size += len(stage)
        i += 1
    calls = "\n".join(f"    score += stage_{j}(model, opt, tokens, val)" for j in range(i))
    parts.append(f"""

def main():
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    tokens = load(TRAIN_FILES)
    val = load(VAL_FILES)
    score = 0.0
{calls}
    print(f"val_bpb:{{score / {i}:.6f}}")


if __name__ == "__main__":
    main()
""")
    return "".join(parts), i


# -- measuring a command in a fresh process --------------------------------------------------------
def _child(argv: list[str]) -> None:
    """Run argv, then print its wall time, CPU time and the peak RSS of its largest process."""
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kb = usage.ru_maxrss * (1 if sys.platform != "darwin" else 1 / 1024)
    print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": peak_kb / 1024,
                      "rc": proc.returncode, "stderr": proc.stderr.decode(errors="replace")[-2000:]}))


def measure(argv: list[str], env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", "--", *argv], env=env,
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    if result["rc"] not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({result['rc']}):\n{result['stderr']}")
    return result


def measure_alternating(variants: dict[str, list[str]], env: dict[str, str], repeat: int) -> dict[str, dict]:
    """Each variant run `repeat` times, alternating, so a slow minute of a shared machine hits
    all of them alike; each gets its median run (by wall time) and the range of its walls."""
    runs: dict[str, list[dict]] = {label: [] for label in variants}
    for _ in range(repeat):
        for label, argv in variants.items():
            runs[label].append(measure(argv, env))
    out = {}
    for label, results in runs.items():
        results.sort(key=lambda r: r["wall"])
        out[label] = {**results[len(results) // 2], "walls": [r["wall"] for r in results]}
    return out


def fmt_range(r: dict) -> str:
    walls = r["walls"]
    return f"{fmt(r)} (median of {len(walls)}; {walls[0]:.2f}-{walls[-1]:.2f} s)"


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*.py") if p.is_file())


def fmt(r: dict) -> str:
    return f"{r['wall']:6.2f} s wall {r['cpu']:6.2f} s CPU {r['peak_mb']:6.0f} MB"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, help="check this tree instead of the records")
    parser.add_argument("--generated", action="store_true", help="use generated folders even if the records exist")
    parser.add_argument("-n", type=int, default=40, help="generated folders (default 40)")
    parser.add_argument("--stress-kb", type=int, default=350, help="size of the stress script (default 350)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs of each one-folder measurement, alternating; the median is reported (default 5)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="golflint-bench-check-"))
    try:
        tree = args.tree.resolve() if args.tree else (None if args.generated else records_tree())
        if tree is None:
            tree = tmp / "tree"
            make_tree(tree, args.n)
            what = f"{args.n} generated folders"
        else:
            what = str(tree)
        sys.path.insert(0, str(REPO))
        from golflint.config import default_settings
        from golflint.discovery import discover

        folders = [t.root for t in discover([tree], default_settings())]
        py_files = [p for f in folders for p in f.rglob("*.py")]
        mb = sum(p.stat().st_size for p in py_files) / 1e6
        print(f"tree: {what}: {len(folders)} folders, {len(py_files)} Python files, {mb:.1f} MB of Python; "
              f"{os.cpu_count()} cores")

        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        env.pop("GOLFLINT_CACHE_DIR", None)
        # Compiled bytecode as an installed package has it (pip writes it): without it every run
        # recompiles golflint's modules first. Kept out of the checkout, and written by a warm-up.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        subprocess.run([sys.executable, "-m", "golflint", "check", "--help"], env=env,
                       capture_output=True, check=True)
        golflint = [sys.executable, "-m", "golflint", "check", "--exit-zero", "--format", "json", "--timings"]
        cache = tmp / "cache"

        ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
        ruff_cold = None
        ruff_argv = [ruff, "check", "--select", "ALL", "--no-cache", "--exit-zero", "--quiet", *map(str, folders)]
        if Path(ruff).exists():
            ruff_cold = measure(ruff_argv, env)
            print(f"ruff check --select ALL --no-cache      {fmt(ruff_cold)}")
        else:
            print("ruff not found: no ratios")
        serial_json = tmp / "serial.json"
        runs = {
            "golflint cold, serial (--jobs 1)": [*golflint, "--no-cache", "--jobs", "1", "-o", str(serial_json)],
            "golflint cold, parallel": [*golflint, "--no-cache", "-o", os.devnull],
            "golflint filling a fresh cache": [*golflint, "--cache-dir", str(cache), "-o", os.devnull],
            "golflint warm (cache), parallel": [*golflint, "--cache-dir", str(cache), "-o", os.devnull],
        }
        results = {}
        for label, argv in runs.items():
            results[label] = measure([*argv, *map(str, folders)], env)
            ratio = f"  {results[label]['wall'] / ruff_cold['wall']:5.1f}x ruff" if ruff_cold else ""
            print(f"{label:<40}{fmt(results[label])}{ratio}")

        report = json.loads(serial_json.read_text())
        times = sorted(((s["elapsed_ms"] / 1000, s["path"]) for s in report["submissions"]), reverse=True)
        largest = max(folders, key=folder_bytes)
        slowest_folder = Path(times[0][1])
        alone_runs = measure_alternating({
            "largest": [*golflint, "--no-cache", "-o", os.devnull, str(largest)],
            "largest, --jobs 1": [*golflint, "--no-cache", "--jobs", "1", "-o", os.devnull, str(largest)],
            "slowest": [*golflint, "--no-cache", "-o", os.devnull, str(slowest_folder)],
        }, env, args.repeat)
        alone, alone_serial = alone_runs["largest"], alone_runs["largest, --jobs 1"]
        inside = next((t for t, p in times if Path(p).resolve() == largest.resolve()), float("nan"))
        print(f"largest folder alone, cold ({folder_bytes(largest) / 1e3:.0f} KB of Python, {largest.name}): "
              f"{fmt_range(alone)} (analysis {inside:.2f} s)")
        print(f"  the same with --jobs 1 (no split into two processes): {fmt_range(alone_serial)}")
        print(f"slowest folder (serial run): {times[0][0]:.2f} s ({slowest_folder.name}); "
              f"median {statistics.median(t for t, _ in times):.2f} s")
        print(f"  alone, as pre-commit runs it (split): {fmt_range(alone_runs['slowest'])}")

        # Flat in the number of folders: the same folders checked once, then as four copies of
        # themselves (identical content, four times the folders). A memory that grows with the run
        # shows as a higher peak for the copies; different folders would only compare their sizes.
        print("peak memory (largest process), cold, serial: a quarter of the folders once, then four copies of it:")
        quarter = folders[:max(1, len(folders) // 4)]
        copies = []
        for k in range(4):
            for folder in quarter:
                target = tmp / "copies" / str(k) / folder.parent.parent.name / folder.parent.name / folder.name
                shutil.copytree(folder, target, symlinks=True)
                copies.append(target)
        once = measure([*golflint, "--no-cache", "--jobs", "1", "-o", os.devnull, *map(str, quarter)], env)
        four = measure([*golflint, "--no-cache", "--jobs", "1", "-o", os.devnull, *map(str, copies)], env)
        print(f"  {len(quarter):4d} folders: {once['peak_mb']:6.0f} MB")
        print(f"  {len(copies):4d} folders (4 copies): {four['peak_mb']:6.0f} MB")
        full = results["golflint cold, serial (--jobs 1)"]["peak_mb"]
        print(f"  {len(folders):4d} folders (all): {full:6.0f} MB")
        peaks = [once["peak_mb"], four["peak_mb"], full]

        stress_dir = tmp / "stress" / "records" / "track_10min_16mb" / "stress"
        stress_dir.mkdir(parents=True)
        source, functions = stress_script(args.stress_kb * 1000)
        (stress_dir / "train_gpt.py").write_text(source, encoding="utf-8")
        stress_runs = measure_alternating({
            "split": [*golflint, "--no-cache", "-o", os.devnull, str(stress_dir)],
            "serial": [*golflint, "--no-cache", "--jobs", "1", "-o", os.devnull, str(stress_dir)],
        }, env, args.repeat)
        stress, stress_serial = stress_runs["split"], stress_runs["serial"]
        print(f"stress script ({len(source) / 1e3:.0f} KB, {functions} functions with nested loops): "
              f"{fmt_range(stress)}")
        print(f"  the same with --jobs 1 (no split into two processes): {fmt_range(stress_serial)}")

        cold_pairs = []
        fresh_pairs = []
        if ruff_cold:
            # ruff's own time moves with the machine's load as much as golflint's (1.3-2.0 s in one
            # day's runs): the cold ratio is also taken from rounds run back to back, each round's
            # ratios under the same load, and the median of those ratios is the one judged. Each
            # round runs golflint twice: without the cache (--no-cache), and with default settings
            # on an empty cache (the cache on, so a cold run also fills it: the judged one)
            for i in range(args.repeat):
                r = measure(ruff_argv, env)
                g = measure([*runs["golflint cold, parallel"], *map(str, folders)], env)
                f = measure([*golflint, "--cache-dir", str(tmp / f"fresh-cache-{i}"), "-o", os.devnull,
                             *map(str, folders)], env)
                cold_pairs.append((g["wall"] / r["wall"], r["wall"], g["wall"]))
                fresh_pairs.append((f["wall"] / r["wall"], r["wall"], f["wall"]))
            for what, pairs in (("golflint --no-cache", cold_pairs),
                                ("golflint, default settings, empty cache", fresh_pairs)):
                pairs.sort()
                median = pairs[len(pairs) // 2]
                print(f"cold ratio, ruff and {what} run back to back, {len(pairs)} rounds: "
                      f"median {median[0]:.1f}x ({median[2]:.2f} s against {median[1]:.2f} s; "
                      f"{pairs[0][0]:.1f}x-{pairs[-1][0]:.1f}x)")
            median_pair = fresh_pairs[len(fresh_pairs) // 2]

        print("targets (wall seconds on this machine, now):")
        if ruff_cold:
            cold = median_pair[0]
            warm = results["golflint warm (cache), parallel"]["wall"] / ruff_cold["wall"]
            print(f"  cold <= 5x ruff (median round, default settings): {cold:5.1f}x  {verdict(cold <= 5)}")
            print(f"  warm <= 1x ruff cold:          {warm:5.2f}x  {verdict(warm <= 1)}")
        print(f"  largest folder < 0.5 s cold:   {alone['wall']:5.2f} s {verdict(alone['wall'] < 0.5)}")
        print(f"  peak memory < 400 MB:          {max(peaks):5.0f} MB {verdict(max(peaks) < 400)}")
        flat = four["peak_mb"] <= 1.1 * once["peak_mb"] + 10
        print(f"  memory flat in folders:        {once['peak_mb']:.0f} -> {four['peak_mb']:.0f} MB for 4x the folders "
              f"{verdict(flat)}")
        slowest = max(times[0][0], stress["wall"], alone_runs["slowest"]["wall"])
        print(f"  no folder > 3 s:               {slowest:5.2f} s {verdict(slowest <= 3)}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child" and sys.argv[2] == "--":
        _child(sys.argv[3:])
    else:
        main()
