"""Where the reference trainer lives, and its code loaded as a module (the canonical BPB evaluator)."""

from __future__ import annotations

import importlib.util
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from ..errors import GolflintError
from .deps import require

MODULE_NAME = "golflint_reference_train_gpt"


def reference_trainer_path() -> Path:
    """reference/train_gpt.py: inside the installed package (wheel) or at the top of a checkout."""
    package_dir = Path(__file__).resolve().parent.parent
    packaged = package_dir / "reference" / "train_gpt.py"
    if packaged.is_file():
        return packaged
    checkout = package_dir.parent / "reference" / "train_gpt.py"
    if checkout.is_file():
        return checkout
    raise GolflintError(f"the reference trainer is missing from this install (looked for {packaged} and "
                        f"{checkout}); reinstall golflint")


@lru_cache(maxsize=1)
def load_reference() -> ModuleType:
    """Import reference/train_gpt.py without running it (its training sits behind __main__)."""
    require(purpose="the reference trainer")
    path = reference_trainer_path()
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up in sys.modules while the class body is processed.
    sys.modules[MODULE_NAME] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(MODULE_NAME, None)
        raise
    return module
