"""How the command-line process ends.

Python's normal exit frees every object the process still holds, one by one: after a check of a
long script that is tens of thousands of syntax-tree nodes and analysis records, about 50 ms of a
half-second pre-commit run. A command that has written all its output and holds nothing that needs
cleaning up (no temporary folder, child process or open file of its own) marks itself clean; the
console entry point then flushes standard output and error and ends the process at once, with the
command's exit code (as mypy does). Commands that are not marked clean exit the normal way.
"""

from __future__ import annotations

import os
import sys
from typing import Callable

_clean = False


def mark_clean() -> None:
    """Called by a command once its output is written and nothing it started is left running."""
    global _clean
    _clean = True


def run_then_exit(main: Callable[[], object]) -> None:
    """Run a click entry point (standalone, it ends in SystemExit) and, when the command marked
    itself clean, end the process at once with its exit code; otherwise return or raise as usual."""
    try:
        main()
    except SystemExit as exc:
        if not _clean or not (exc.code is None or isinstance(exc.code, int)):
            raise
        code = exc.code or 0
    else:
        if not _clean:
            return
        code = 0
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`golflint check ... | head`): nothing to add
            pass
    os._exit(code)
