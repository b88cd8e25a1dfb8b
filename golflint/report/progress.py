"""A progress bar for long runs: on stderr, only on a terminal, only once a run has taken a second.

Short runs and piped output stay exactly as they were (nothing is written); `--quiet` turns it off.
The bar is transient: it disappears when the run ends, leaving only the report.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from .console import make_console, stream_is_tty
from .safe import visible

if TYPE_CHECKING:
    from rich.progress import Progress

DELAY_S = 1.0


class RunProgress:
    """Use as a context manager; call `advance(label)` as each submission finishes."""

    def __init__(self, total: int, *, enabled: bool = True, what: str = "checking",
                 delay_s: float | None = None) -> None:
        import sys

        self.total = total
        self.enabled = enabled and total > 1 and stream_is_tty(sys.stderr)
        self.what = what
        self.delay_s = DELAY_S if delay_s is None else delay_s
        self._done = 0
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._task = None
        self._timer: threading.Timer | None = None

    def __enter__(self) -> "RunProgress":
        if self.enabled:
            self._timer = threading.Timer(self.delay_s, self._show)
            self._timer.daemon = True
            self._timer.start()
        return self

    def _show(self) -> None:
        with self._lock:
            if self._progress is not None or self._timer is None:
                return
            # imported only when a bar is shown (a terminal, a run over a second): pre-commit and
            # piped runs never pay for rich.progress
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn(), TextColumn("{task.fields[label]}"),
                                      console=make_console(stderr=True), transient=True)
            self._task = self._progress.add_task(self.what, total=self.total, completed=self._done, label="")
            self._progress.start()

    def advance(self, label: str = "") -> None:
        with self._lock:
            self._done += 1
            if self._progress is not None:
                self._progress.update(self._task, completed=self._done, label=visible(label)[:60])

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._progress is not None:
                self._progress.stop()
                self._progress = None
