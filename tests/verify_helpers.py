"""Shared by the reference/verify tests: a small synthetic dataset and toy trainer sizes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference" / "train_gpt.py"
FIXTURES = REPO / "tests" / "fixtures" / "verify"

# A model that trains a few steps on 2 CPU cores in about a second.
TOY_ENV = {
    "NUM_LAYERS": "2", "MODEL_DIM": "32", "NUM_HEADS": "2", "NUM_KV_HEADS": "1", "MLP_MULT": "2",
    "VOCAB_SIZE": "512", "TRAIN_SEQ_LEN": "64", "TRAIN_BATCH_TOKENS": "1024", "GRAD_ACCUM_STEPS": "2",
    "ITERATIONS": "6", "WARMUP_STEPS": "1", "WARMDOWN_ITERS": "3", "VAL_BATCH_SIZE": "4096",
    "VAL_LOSS_EVERY": "0", "TRAIN_LOG_EVERY": "1", "MAX_WALLCLOCK_SECONDS": "0", "OMP_NUM_THREADS": "1",
}


def synth_data(out: Path) -> tuple[Path, Path]:
    from golflint.verify.synth import synthesize

    result = synthesize(out, vocab_size=512, seed=7, train_tokens=60_000, val_tokens=8_192,
                        shard_tokens=40_000, tokenizer_docs=300)
    return result.data_path, result.tokenizer_path


def run_reference(workdir: Path, data: Path, tokenizer: Path, **overrides: str) -> subprocess.CompletedProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **TOY_ENV, "DATA_PATH": str(data), "TOKENIZER_PATH": str(tokenizer), "SEED": "1",
           "RUN_ID": "test", **overrides}
    return subprocess.run([sys.executable, str(REFERENCE)], cwd=workdir, env=env, capture_output=True,
                          text=True, timeout=120)


def survivors(marker: str) -> list[int]:
    """Live (non-zombie) processes whose command line contains `marker`, this one excluded."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def bwrap_problem() -> str | None:
    from golflint.verify.sandbox import bwrap_problem as problem

    return problem()


def write_toy_submission(sub: Path, bare_logs: dict[str, str], name: str, bpb_shift: float = 0.0) -> Path:
    """reference/train_gpt.py as a submission in SUB whose claims come from bare runs of it.

    `bare_logs`: seed -> the bare run's stdout (written as train_seed<S>.log); `bpb_shift` moves every
    claimed val_bpb (a claim the logs do not back)."""
    from golflint.logs.parse import parse_log

    sub.mkdir(parents=True)
    shutil.copy(REFERENCE, sub / "train_gpt.py")
    code = (sub / "train_gpt.py").stat().st_size
    results = {}
    for seed, out in bare_logs.items():
        (sub / f"train_seed{seed}.log").write_text(out, encoding="utf-8")
        final = parse_log(f"train_seed{seed}.log", out).final
        model = int(next(line.split()[3] for line in out.splitlines() if line.startswith("Serialized model")))
        results[seed] = {"val_loss": final.val_loss, "val_bpb": final.val_bpb + bpb_shift,
                         "artifact_bytes": code + model}
    (sub / "README.md").write_text(f"# {name}\n\nThe reference trainer at toy sizes.\n", encoding="utf-8")
    claims = {"author": "golflint tests", "name": name, "date": "2026-01-01",
              "val_loss": sum(r["val_loss"] for r in results.values()) / len(results),
              "val_bpb": sum(r["val_bpb"] for r in results.values()) / len(results),
              "bytes_total": max(r["artifact_bytes"] for r in results.values()), "bytes_code": code,
              "seeds": [int(s) for s in bare_logs], "seed_results": results}
    (sub / "submission.json").write_text(json.dumps(claims, indent=2), encoding="utf-8")
    return sub
