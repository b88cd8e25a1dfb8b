"""Checks of native (C/C++/CUDA) units, reported under the GL1xx/GL2xx rule they belong to.

Each entry maps a rule id to a function `(unit, sub) -> iterable of (line, message)`. The engine
runs them on every native unit when that rule is selected, and reports with the rule's own name,
severity and hint, so GL104 means the same thing in Python and in a C++ cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

from ..native.checks import (check_gold_only_mixture, check_second_pass, check_target_keyed,
                             check_uncounted_native)

if TYPE_CHECKING:
    from ..submission import Submission
    from .units import CodeUnit

NativeCheck = Callable[["CodeUnit", "Submission"], Iterable[tuple[int | None, str]]]

NATIVE_CHECKS: dict[str, NativeCheck] = {
    "GL103": check_second_pass,
    "GL104": check_target_keyed,
    "GL105": check_gold_only_mixture,
    "GL203": check_uncounted_native,
}
