"""Consoles that follow terminal conventions.

- Colour: `NO_COLOR` (any non-empty value) turns colour off and `FORCE_COLOR` turns it on even when
  piped; rich reads both, so nothing here may pass an explicit `no_color=False`.
- Width: on a terminal, rich wraps to its width (`COLUMNS` overrides). Anywhere else (a pipe, a file,
  CI) output never wraps: one logical line stays one line, whatever `COLUMNS` says, so grep and diff
  see the same text at every width.
"""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

# Wide enough that no line golflint writes is wrapped; rich only pads tables to their own width.
UNWRAPPED_WIDTH = 10_000


def stream_is_tty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False


def make_console(file: IO[str] | None = None, *, stderr: bool = False) -> Console:
    """A console on `file` (a report file: plain, no colour), else on stdout or stderr."""
    # imported here: a machine-readable report (json, sarif, github, concise) never loads rich
    from rich.console import Console

    if file is not None:
        return Console(file=file, width=UNWRAPPED_WIDTH, no_color=True, force_terminal=False,
                       highlight=False)
    stream = sys.stderr if stderr else sys.stdout
    if stream_is_tty(stream):
        return Console(file=stream, highlight=False)
    return Console(file=stream, width=UNWRAPPED_WIDTH, highlight=False)
