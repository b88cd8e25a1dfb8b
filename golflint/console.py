"""The console script (`golflint`, and `python -m golflint`) starts here.

It sets the garbage collector's thresholds before anything heavy is imported. Importing the command
line (click, the rules, the analyses) allocates some hundred thousand objects that live as long as
the process; with Python's default thresholds the collector examined them about forty times
over, about 11 ms of a half-second pre-commit run (docs/performance.md). With a larger youngest
generation it does not run during the imports at all. `check` then sets its own thresholds while
folders are checked (runner.py `collector_tuned`).
"""

from __future__ import annotations

import gc

STARTUP_GC_THRESHOLDS = (50_000, 20, 100)


def run() -> None:
    gc.set_threshold(*STARTUP_GC_THRESHOLDS)
    from .cli import run as run_cli

    run_cli()
