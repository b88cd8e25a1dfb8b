"""Resolve the run configuration. Placeholder until the run-configuration work lands:
only reviewer overrides (--env) are known."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model import RunConfig, Setting

if TYPE_CHECKING:
    from ..submission import Submission


def resolve_run_config(sub: "Submission") -> RunConfig:
    cfg = RunConfig()
    for name, value in sub.env_overrides.items():
        cfg.settings[name] = Setting(name, value, "--env")
    return cfg
