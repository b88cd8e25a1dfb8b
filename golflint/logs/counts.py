"""Values a run printed through one known format string.

The format is an f-string of the submission's code, given as its literal parts and the index of the
value wanted: a log line must match the whole format (every literal part, in order) for its value
to count, so a number is read only from lines that format string printed.
"""

from __future__ import annotations

import re

# Literal characters a format must carry before its lines are trusted to come from it alone.
MIN_FORMAT_LITERAL = 10


def format_pattern(parts: list[str | None]) -> re.Pattern[str] | None:
    """A pattern for lines printed by a format whose literal parts are strings and whose
    formatted values are None; the values are its groups, in order. None when the format has too
    little literal text to identify its lines."""
    if sum(len(p.strip()) for p in parts if p is not None) < MIN_FORMAT_LITERAL:
        return None
    pieces = [re.escape(p) if p is not None else r"(.*?)" for p in parts]
    return re.compile("".join(pieces).strip() + r"\s*$", re.M)


def printed_values(text: str, pattern: re.Pattern[str], group: int) -> list[str]:
    """The `group`-th formatted value (0-based) of every line of `text` that `pattern` matches."""
    return [m.group(group + 1).strip() for m in pattern.finditer(text)]
