"""Time `golflint check` over a generated tree of synthetic submissions, in-process.

Each submission: a ~150 KB train_gpt.py (generated, varied Python), three train logs in the
baseline's format, submission.json with three seeds, README.md. Prints per-submission milliseconds
(mean / median / max) and the total.

    python benchmarks/bench_check.py            # 40 submissions
    python benchmarks/bench_check.py -n 200 --select GL0,GL3
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from golflint.config import default_settings  # noqa: E402
from golflint.discovery import discover  # noqa: E402
from golflint.engine import check_submission, instantiate_rules  # noqa: E402
from golflint.submission import Submission  # noqa: E402

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
    lines += [f"stopping_early: wallclock_cap train_time:600021ms step:13794/20000",
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=40, help="number of submissions (default 40)")
    parser.add_argument("--select", default="GL", help="rule-id prefixes to run, comma-separated (default all)")
    args = parser.parse_args()

    settings = default_settings().with_overrides({"general": {"select": args.select.split(",")}})
    rules = instantiate_rules(settings)
    with tempfile.TemporaryDirectory(prefix="golflint-bench-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        make_tree(root, args.n)
        made = time.perf_counter() - start
        start = time.perf_counter()
        targets = discover([root], settings)
        per_sub: list[float] = []
        loading: list[float] = []
        findings = 0
        for target in targets:
            t0 = time.perf_counter()
            sub = Submission(target.root, target.track, settings)
            # Loading the code (parse, imports, packed layers, native siblings) is shared by every
            # code rule and the suppression pass; timed apart so the rules' own cost is visible.
            sub.code_units  # noqa: B018
            t1 = time.perf_counter()
            result = check_submission(sub, rules)
            per_sub.append((time.perf_counter() - t0) * 1000.0)
            loading.append((t1 - t0) * 1000.0)
            findings += len(result.active)
        total = time.perf_counter() - start
    code_kb = TARGET_CODE_BYTES / 1000
    print(f"golflint check: {len(targets)} synthetic submissions (~{code_kb:.0f} KB train_gpt.py + 3 logs each), "
          f"{len(rules)} rules ({args.select})")
    print(f"  tree generated in {made:.2f} s")
    print(f"  per submission: mean {statistics.fmean(per_sub):.1f} ms, median {statistics.median(per_sub):.1f} ms, "
          f"max {max(per_sub):.1f} ms")
    print(f"    of which loading code units: mean {statistics.fmean(loading):.1f} ms; "
          f"rules, suppressions and summaries: mean {statistics.fmean(per_sub) - statistics.fmean(loading):.1f} ms")
    print(f"  total (discovery + checks): {total:.2f} s; findings: {findings}")


if __name__ == "__main__":
    main()
