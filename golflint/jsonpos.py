"""Line numbers of the values in a JSON document, so findings can point into submission.json.

`json.loads` keeps no positions. This scanner walks text that `json.loads` has already accepted
and records the line on which each value starts, keyed by its path: ("seed_results", "42",
"val_bpb") or ("seed_results", 0, "val_bpb"). It never raises: on anything unexpected it stops and
returns what it has, and a finding then simply goes without a line.
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import re
from typing import Any

Path = tuple[Any, ...]

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LITERALS = ("true", "false", "null", "NaN", "Infinity", "-Infinity")
# Deeper values are not located: submission.json fields of interest are at most three levels down.
MAX_DEPTH = 64


class _Stop(Exception):
    pass


class JsonLines:
    def __init__(self, text: str):
        self._text = text
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.lines: dict[Path, int] = {}
        try:
            self._value(self._skip(0), (), 0)
        except (_Stop, ValueError, IndexError):
            pass

    def line(self, *path: Any) -> int | None:
        """Line of the value at `path`, else of its nearest located ancestor, else None."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return None

    def _line_of(self, pos: int) -> int:
        return bisect.bisect_right(self._line_starts, pos)

    def _skip(self, pos: int) -> int:
        return _WS.match(self._text, pos).end()  # type: ignore[union-attr]

    def _value(self, pos: int, path: Path, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise _Stop
        if path:
            self.lines[path] = self._line_of(pos)  # a repeated key: json.loads keeps the last
        ch = self._text[pos]
        if ch == "{":
            return self._object(pos + 1, path, depth)
        if ch == "[":
            return self._array(pos + 1, path, depth)
        if ch == '"':
            return json.decoder.scanstring(self._text, pos + 1)[1]
        m = _NUMBER.match(self._text, pos)
        if m:
            return m.end()
        for lit in _LITERALS:
            if self._text.startswith(lit, pos):
                return pos + len(lit)
        raise _Stop

    def _object(self, pos: int, path: Path, depth: int) -> int:
        pos = self._skip(pos)
        if self._text[pos] == "}":
            return pos + 1
        while True:
            if self._text[pos] != '"':
                raise _Stop
            key, pos = json.decoder.scanstring(self._text, pos + 1)
            pos = self._skip(pos)
            if self._text[pos] != ":":
                raise _Stop
            pos = self._value(self._skip(pos + 1), (*path, key), depth + 1)
            pos = self._skip(pos)
            if self._text[pos] == "}":
                return pos + 1
            if self._text[pos] != ",":
                raise _Stop
            pos = self._skip(pos + 1)

    def _array(self, pos: int, path: Path, depth: int) -> int:
        pos = self._skip(pos)
        if self._text[pos] == "]":
            return pos + 1
        index = 0
        while True:
            pos = self._value(pos, (*path, index), depth + 1)
            index += 1
            pos = self._skip(pos)
            if self._text[pos] == "]":
                return pos + 1
            if self._text[pos] != ",":
                raise _Stop
            pos = self._skip(pos + 1)


# -- bounded loading --------------------------------------------------------------------------------
class JsonRefused(ValueError):
    """A document json.loads would accept but golflint will not read: a number out of range or a
    list/object past the item limit. `message` is a sentence for a finding; `line` may be None."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


def _line_of_token(text: str, token: str) -> int | None:
    at = text.find(token)
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def _short(token: str) -> str:
    return token if len(token) <= 24 else f"{token[:10]}...{token[-6:]} ({len(token):,} characters)"


def load_bounded(text: str, name: str, *, max_items: int, max_number_chars: int) -> Any:
    """`json.loads` with bounds, for untrusted documents (submission.json).

    Numbers longer than `max_number_chars` characters (a 5,000-digit integer), numbers that overflow
    a float (`1e999`), the non-JSON constants Infinity/-Infinity (NaN is kept), and any list or object holding more than
    `max_items` entries raise JsonRefused instead of becoming values that crash or stall a check.
    json.JSONDecodeError and RecursionError pass through for the caller's own messages.
    """

    def number(token: str, convert: Any) -> Any:
        if len(token) > max_number_chars:
            raise JsonRefused(f"{name} holds a number {_short(token)} longer than {max_number_chars} "
                              "characters (submission.max_number_chars)", _line_of_token(text, token))
        value = convert(token)
        if isinstance(value, float) and value in (float("inf"), float("-inf")):
            raise JsonRefused(f"{name} holds the number {_short(token)}, which is out of range "
                              "(it overflows to infinity)", _line_of_token(text, token))
        return value

    def constant(token: str) -> Any:
        # NaN stays a value (the claim rules say "val_bpb nan is not a score"); an infinity has no
        # use in a claim and breaks integer conversions, so it is refused like `1e999`.
        if token == "NaN":
            return float("nan")
        raise JsonRefused(f"{name} holds `{token}`, which is out of range", _line_of_token(text, token))

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        if len(items) > max_items:
            raise JsonRefused(f"{name} holds an object with {len(items):,} keys; golflint reads at most "
                              f"{max_items:,} per object (submission.max_json_items)")
        return dict(items)

    data = json.loads(text, parse_int=lambda t: number(t, int), parse_float=lambda t: number(t, float),
                      parse_constant=constant, object_pairs_hook=pairs)
    # Lists have no hook: count them afterwards, without recursion.
    stack = [(data, ())]
    while stack:
        value, path = stack.pop()
        children = value.items() if isinstance(value, dict) else enumerate(value) \
            if isinstance(value, list) else ()
        if isinstance(value, list) and len(value) > max_items:
            where = ".".join(str(p) for p in path) or "the top level"
            raise JsonRefused(f"{name}: `{where}` holds {len(value):,} entries; golflint reads at most "
                              f"{max_items:,} per list (submission.max_json_items)")
        for key, child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, (*path, key)))
    return data
