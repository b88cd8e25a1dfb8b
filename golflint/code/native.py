"""Native siblings (C/C++/CUDA) that the script builds or loads.

Placeholder until the native-code work lands: none are found yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .units import CodeUnit

if TYPE_CHECKING:
    from ..submission import Submission


def find_native_units(sub: "Submission", python_units: list[CodeUnit]) -> list[CodeUnit]:
    return []
