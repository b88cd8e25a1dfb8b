from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from golflint_testing import make_submission  # noqa: E402


@pytest.fixture
def make_sub(tmp_path):
    """make_sub({"train_gpt.py": "...", ...}, track="record") -> Path of a fresh submission folder."""
    counter = {"n": 0}

    def _make(files, parent="records/track_10min_16mb"):
        counter["n"] += 1
        return make_submission(tmp_path / f"s{counter['n']}" / parent / "sub", files)

    return _make
