"""Write a check report in the chosen format to stdout or a file (the one place formats are chosen)."""

from __future__ import annotations

from typing import IO, Sequence

from ..engine import SubmissionResult
from ..findings import Severity

FORMATS = ("text", "json", "sarif", "github", "concise")


def write_report(results: Sequence[SubmissionResult], fmt: str, stream: IO[str] | None, *,
                 fail_on: Severity, show_suppressed: bool = False, quiet: bool = False,
                 statistics: bool = False, timings: bool = False) -> None:
    """`stream` None: standard output (a terminal gets colour and wrapping, a pipe neither)."""
    import sys

    from . import concise

    out = stream or sys.stdout
    if fmt in ("text", "concise") and statistics:
        out.write(concise.statistics_text(results))
        return
    if fmt == "concise":
        out.write(concise.to_concise(results))
        return
    if fmt == "text":
        from .console import make_console
        from .text import render

        render(results, make_console(stream), show_suppressed=show_suppressed, fail_on=fail_on, quiet=quiet)
        return
    from . import machine

    if fmt == "json":
        stats = concise.statistics(results) if statistics else None
        out.write(machine.dumps(machine.to_json(results, fail_on, timings=timings, statistics=stats)))
    elif fmt == "sarif":
        out.write(machine.dumps(machine.to_sarif(results)))
    else:
        out.write(machine.to_github(results))
