from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# A rule reading a fact it did not declare fails every test that runs it (golflint/facts/declared.py);
# set here, so the CLI subprocesses the tests start inherit it too.
os.environ["GOLFLINT_STRICT_FACTS"] = "1"

from golflint_testing import make_submission  # noqa: E402


@pytest.fixture(autouse=True)
def _private_result_cache(tmp_path_factory, monkeypatch):
    """Each test gets an empty result cache of its own: no test sees what another one (or an
    earlier run) stored, and nothing is written to the user's cache folder."""
    monkeypatch.setenv("GOLFLINT_CACHE_DIR", str(tmp_path_factory.mktemp("golflint-cache")))


@pytest.fixture
def make_sub(tmp_path):
    """make_sub({"train_gpt.py": "...", ...}, track="record") -> Path of a fresh submission folder."""
    counter = {"n": 0}

    def _make(files, parent="records/track_10min_16mb"):
        counter["n"] += 1
        return make_submission(tmp_path / f"s{counter['n']}" / parent / "sub", files)

    return _make
