"""Text taken from a submission (file and folder names, JSON values, log lines, code) made safe to show.

A submission is untrusted: a file named `\\x1b[2J` or a submission.json value holding an escape sequence
must not clear the reviewer's screen, forge extra CI log lines (`::error`), hide text with bidi
overrides or spoof a line with a bare carriage return. Every renderer passes such text through
`visible()`, which writes each control or bidi-control character as a Python-style escape (`\\x1b`,
`\\u202e`), so the text stays readable and greppable and nothing in it acts on the terminal.
"""

from __future__ import annotations

import re

# C0 controls (tab kept), DEL, C1 controls, line/paragraph separators, bidi embeddings, overrides and
# isolates: everything that moves the cursor, changes the terminal's state or reorders what is shown.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f]")
_UNSAFE_KEEP_NEWLINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object, *, keep_newlines: bool = False) -> str:
    """`text` as a string in which no character acts on a terminal; None stays ''."""
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    return (_UNSAFE_KEEP_NEWLINES if keep_newlines else _UNSAFE).sub(_escape, s)


def is_visible(text: str) -> bool:
    return _UNSAFE.search(text) is None
