"""The same check gives the same findings in every run.

Python randomizes string hashes per process (PYTHONHASHSEED), and a frozenset of labels iterates in
hash order. The abstract interpreter once visited the functions a call may reach in that order, so
which alternative ran first, and with it a verdict, changed between two runs of the same check
(GL101 in one run, GL102 in the next, on the script below). Seeds 0 and 1 gave different findings
before the order was fixed (golflint/dataflow/interp.py `_in_order`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from golflint.rules.eval_integrity.ordering import ex

REPO = Path(__file__).resolve().parent.parent

# One call may reach either of two functions: one scores the chunk, the other trains on it.
_EITHER = ex("""
    def score_chunk(m, chunk):
        with torch.inference_mode():
            return m(chunk[:-1], chunk[1:]).item()
    def adapt_chunk(m, chunk):
        m(chunk[:-1], chunk[1:]).backward()
        opt.step()
        return 0.0
    step = score_chunk if len(sys.argv) > 1 else adapt_chunk
    total = 0.0
    for i in range(0, val.numel() - 1024, 1024):
        chunk = val[i : i + 1025]
        total += step(model, chunk)
    print(total)
    """)


def _findings(folder: Path, seed: int) -> list:
    env = {**os.environ, "PYTHONHASHSEED": str(seed),
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-m", "golflint", "check", str(folder), "--no-cache", "--jobs", "1",
                           "--format", "json", "--exit-zero"], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    [submission] = json.loads(done.stdout)["submissions"]
    return [(f["rule"], f.get("file"), f.get("line"), f["message"]) for f in submission["findings"]]


def test_findings_do_not_depend_on_the_string_hash_seed(tmp_path):
    (tmp_path / "train_gpt.py").write_text(_EITHER, encoding="utf-8")
    runs = [_findings(tmp_path, seed) for seed in (0, 1, 2)]
    assert any(rule.startswith("GL10") for rule, *_ in runs[0])
    assert runs[0] == runs[1] == runs[2]
