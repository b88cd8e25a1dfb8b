"""Run part of one submission's check in a forked child process, next to the rest in this one.

A single folder (the pre-commit hook's usual case) would otherwise use one core however many the
machine has. `ForkedCall(fn)` forks after the folder's code is parsed, so the child starts with
the parsed trees and every fact built so far, runs `fn()` and sends its result back pickled over a
pipe; the parent does its own share meanwhile and collects the child's with `result()`.

The child only computes: it never prints, writes files or touches the result cache, and it leaves
with `os._exit`, so no buffered output, atexit hook or finalizer of the parent runs twice. Anything
that goes wrong on the child's side (it crashed, was killed, sent something unreadable) makes
`result()` raise `ForkFailed`, and the caller runs the work itself: the split changes how long a
check takes, never what it finds.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import warnings
from typing import Any, Callable


class ForkFailed(Exception):
    """The child gave no usable result; the caller should run its work itself."""


def can_fork() -> bool:
    # fork is what makes this cheap (the child inherits the parsed code); macOS offers it but its
    # system libraries are not fork-safe, so only Linux and the BSDs split.
    return hasattr(os, "fork") and (sys.platform.startswith("linux") or "bsd" in sys.platform)


class ForkedCall:
    def __init__(self, fn: Callable[[], Any]) -> None:
        """Raises OSError when no pipe or process can be made (the caller runs `fn` itself)."""
        read_end, write_end = os.pipe()
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns that forking a multi-threaded process may deadlock the child.
                # Ours runs only our own code, which takes no lock another thread could hold at the
                # fork (the import lock is taken around fork by CPython itself).
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            raise
        if pid == 0:  # the child: compute, send, leave; never return into the caller's code
            status = 1
            try:
                os.close(read_end)
                signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C: the parent reports it, once
                try:
                    payload = pickle.dumps(("ok", fn()), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException as exc:  # noqa: BLE001 - reported as a failure, handled by the parent
                    payload = pickle.dumps(("failed", f"{type(exc).__name__}: {exc}"))
                view = memoryview(payload)
                while view:
                    view = view[os.write(write_end, view):]
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        self._pid = pid
        self._read_end = read_end

    def result(self) -> Any:
        """The child's value; ForkFailed when it gave none."""
        chunks = []
        try:
            while True:
                chunk = os.read(self._read_end, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(self._read_end)
            _, status = os.waitpid(self._pid, 0)
            self._pid = 0
        if status != 0:
            raise ForkFailed(f"the child process ended with status {status}")
        try:
            kind, value = pickle.loads(b"".join(chunks))
        except Exception as exc:  # noqa: BLE001 - a truncated or garbled reply is no result
            raise ForkFailed(f"unreadable reply from the child process: {exc}") from None
        if kind != "ok":
            raise ForkFailed(str(value))
        return value

    def cancel(self) -> None:
        """Stop a child whose result is no longer wanted (the parent's own share raised)."""
        if not self._pid:
            return
        with contextlib.suppress(OSError):
            os.kill(self._pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.close(self._read_end)
        with contextlib.suppress(OSError):
            os.waitpid(self._pid, 0)
        self._pid = 0
