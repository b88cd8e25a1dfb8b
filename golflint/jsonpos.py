"""Line numbers of the values in a JSON document, so findings can point into submission.json.

`json.loads` keeps no positions. This scanner walks text that `json.loads` has already accepted
and records the line on which each value starts, keyed by its path: ("seed_results", "42",
"val_bpb") or ("seed_results", 0, "val_bpb"). It never raises: on anything unexpected it stops and
returns what it has, and a finding then simply goes without a line.
"""

from __future__ import annotations

import bisect
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
