"""Self-extracting ("packed") code: decode exec(lzma.decompress(b85decode(...))) statically.

Placeholder until the packed-code work lands: no layers are decoded yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .units import CodeUnit

if TYPE_CHECKING:
    from ..submission import Submission


def expand(sub: "Submission", unit: CodeUnit) -> list[CodeUnit]:
    """The decoded layers of `unit`, outermost first (empty when it is not packed)."""
    return []
