"""Values a run printed through one known format string.

The format is an f-string of the submission's code, given as its literal parts (strings) and its
formatted values (None), in order. A log line counts only when it carries every literal part, in
order, so a number is read only from lines that format string printed. Matching is a left-to-right
scan with `str.find` (no regular expression to backtrack on hostile logs); a value that itself
contains the next literal part is split early, which can only make it unreadable, never a zero.
"""

from __future__ import annotations

# Literal characters a format must carry before its lines are trusted to come from it alone.
MIN_FORMAT_LITERAL = 10


def identifiable(parts: list[str | None]) -> bool:
    return sum(len(p.strip()) for p in parts if p is not None) >= MIN_FORMAT_LITERAL


def _values(line: str, parts: list[str | None]) -> list[str] | None:
    line = line.rstrip()
    pos = 0
    values: list[str] = []
    open_value = False          # a formatted value started and waits for the next literal part
    for i, part in enumerate(parts):
        if part is None:
            if open_value:
                return None     # two adjacent values cannot be told apart
            open_value = True
            continue
        literal = part.rstrip() if i == len(parts) - 1 else part
        if not literal:
            continue
        found = line.find(literal, pos)
        if found < 0:
            return None
        if open_value:
            values.append(line[pos:found])
            open_value = False
        elif values or i > 0:
            if found != pos:
                return None     # literal parts that follow each other must be adjacent
        pos = found + len(literal)
    if open_value:
        values.append(line[pos:])
    elif pos != len(line):
        return None
    return values


def printed_values(text: str, parts: list[str | None], index: int) -> list[str]:
    """The `index`-th formatted value (0-based) of every line of `text` printed by the format."""
    out = []
    first = next((p.strip() for p in parts if p is not None and p.strip()), "")
    for line in text.splitlines():
        if first and first not in line:
            continue
        values = _values(line, parts)
        if values is not None and index < len(values):
            out.append(values[index].strip())
    return out


def printed_line(text: str, parts: list[str | None]) -> str | None:
    """The first line of `text` printed by the format."""
    for line in text.splitlines():
        if _values(line, parts) is not None:
            return line.strip()
    return None
