"""Helpers shared by the tests: build submission folders, run rules on them, snapshot files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable, Mapping

from golflint.config import default_settings
from golflint.engine import check_submission, instantiate_rules
from golflint.rules import all_rules
from golflint.rules.base import Example
from golflint.submission import Submission


def make_submission(root: Path, files: Mapping[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def run_rules(root: Path, rule_ids: Iterable[str] | None = None, *, track: str = "record",
              env: Mapping[str, str] | None = None, settings_overrides: Mapping | None = None,
              suppress: bool = True):
    settings = default_settings()
    if settings_overrides:
        settings = settings.with_overrides(dict(settings_overrides))
    rules = instantiate_rules(settings, only=rule_ids)
    sub = Submission(root, track, settings, env_overrides=env)
    return check_submission(sub, rules, suppress=suppress, debug=True)


def run_example(tmp_path: Path, rule_id: str, example: Example):
    root = make_submission(tmp_path / "records" / "track_10min_16mb" / "example", example.materialize())
    for link, target in example.symlinks.items():
        (root / link).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, root / link)
    rule = all_rules()[rule_id]
    only = None if getattr(rule, "needs_all_rules", False) else [rule_id]
    result = run_rules(root, only, track=example.track, env=example.env,
                       settings_overrides=example.settings)
    return [f for f in result.findings if f.rule == rule_id and not f.suppressed]


def snapshot(root: Path) -> dict[str, str]:
    """Content hash of every file under root, to prove a command changed nothing."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            if p.is_symlink():
                out[str(p.relative_to(root))] = "link:" + os.readlink(p)
            else:
                out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out
