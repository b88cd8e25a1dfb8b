"""Checking many folders keeps no folder's code in memory: what one folder's check builds (code
units, syntax trees, indexes, analyses) is freed when the next folder starts, so memory stays flat
in the number of folders (benchmarks/bench_check.py measures the megabytes)."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

from golflint.code.units import CodeUnit
from golflint.config import default_settings
from golflint.memo import forget_folder_memos
from golflint.runner import Job, RunOptions, check_folders
from packing import pack

REPO = Path(__file__).resolve().parents[1]
PATTERNS = REPO / "tests" / "fixtures" / "patterns"
NATIVE = '''import ctypes, subprocess
subprocess.run(["gcc", "-O2", "-shared", "-o", "libngram.so", "ngram.c"], check=True)
lib = ctypes.CDLL("./libngram.so")
'''
NGRAM_C = "int count(const int *t, int n) { int s = 0; for (int i = 0; i < n; i++) s += t[i]; return s; }\n"


def live_units() -> int:
    gc.collect()
    # type(), not isinstance(): isinstance asks some objects (torch's deprecated module proxies,
    # imported by other tests) for their __class__, which warns
    return sum(1 for o in gc.get_objects() if type(o) is CodeUnit)


def test_no_code_unit_outlives_its_folder(tmp_path):
    records = tmp_path / "records" / "track_10min_16mb"
    for name in ("gl104_target_keyed_cache", "gl105_gold_mixture", "baseline_legal"):
        shutil.copytree(PATTERNS / name, records / name)
    packed = records / "packed"
    packed.mkdir()
    (packed / "train_gpt.py").write_text(pack((PATTERNS / "baseline_legal" / "train_gpt.py").read_text()))
    native = records / "native"
    native.mkdir()
    (native / "train_gpt.py").write_text(NATIVE)
    (native / "ngram.c").write_text(NGRAM_C)
    folders = sorted(records.iterdir())
    # what earlier tests in this process analysed outside the engine is not this run's to free
    forget_folder_memos()
    before = live_units()
    results = check_folders([Job(f, "record") for f in folders], RunOptions(default_settings(), {}), jobs=1)
    assert len(results) == len(folders)
    assert live_units() == before
