"""The `torch` extra (torch, numpy, sentencepiece): imported only by commands that need it."""

from __future__ import annotations

import importlib.util

from ..errors import GolflintError

TORCH_EXTRA = ("torch", "numpy", "sentencepiece")


def missing_modules(names: tuple[str, ...] = TORCH_EXTRA) -> list[str]:
    return [name for name in names if importlib.util.find_spec(name) is None]


def require(names: tuple[str, ...] = TORCH_EXTRA, purpose: str = "this command") -> None:
    missing = missing_modules(names)
    if missing:
        raise GolflintError(f"{purpose} needs {', '.join(missing)}: install golflint[torch] "
                            "(pip install 'golflint[torch]')")
