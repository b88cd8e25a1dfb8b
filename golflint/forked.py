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


# Children that sent a whole reply but had not ended when it was read: a child's exit frees its
# copy of the parent's address space, a few milliseconds after a large check, which the parent need
# not wait for. `reap_children` collects them (the engine calls it once the check is done).
_UNREAPED: list[int] = []


def reap_children() -> None:
    """Wait for the children whose replies were read before they ended."""
    while _UNREAPED:
        pid = _UNREAPED.pop()
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)


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
                # the end of the reply now, not after the exit has freed this process's memory
                os.close(write_end)
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
        except BaseException:  # interrupted: no reply; the child ends with the pipe closed
            os.close(self._read_end)
            self._wait()
            raise
        os.close(self._read_end)
        try:
            kind, value = pickle.loads(b"".join(chunks))
        except Exception as exc:  # noqa: BLE001 - a truncated or garbled reply is no result
            status = self._wait()
            if status != 0:
                raise ForkFailed(f"the child process ended with status {status}") from None
            raise ForkFailed(f"unreadable reply from the child process: {exc}") from None
        if kind != "ok":
            self._wait()
            raise ForkFailed(str(value))
        # A whole reply: the child has nothing left to do but end. Not waited for here.
        pid, self._pid = self._pid, 0
        done, _ = os.waitpid(pid, os.WNOHANG)
        if not done:
            _UNREAPED.append(pid)
        return value

    def _wait(self) -> int:
        _, status = os.waitpid(self._pid, 0)
        self._pid = 0
        return status

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
