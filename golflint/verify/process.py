"""Run one command in its own process group: output to a log file, wallclock measured from outside,
the whole group killed at a hard timeout or on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

KILL_GRACE_SECONDS = 5.0
POLL_SECONDS = 0.1


@dataclass
class ProcessOutcome:
    returncode: int | None          # None: killed by us (timeout or interrupt)
    wall_s: float                   # launch to exit (or to the kill)
    timed_out: bool = False
    interrupted: bool = False
    artifact_s: float | None = None  # launch to the artifact's last write, when one was written
    launch_error: str | None = None


def kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM to the whole group, SIGKILL to whatever is left after a grace period."""
    for sig, wait in ((signal.SIGTERM, KILL_GRACE_SECONDS), (signal.SIGKILL, KILL_GRACE_SECONDS)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # Ranks that outlived the launcher (same group) get the last word too.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_logged(argv: list[str], *, cwd: Path, env: dict[str, str], log_path: Path, timeout_s: float,
               artifact: Callable[[], Path | None] | None = None,
               on_poll: Callable[[float], None] | None = None,
               preexec: Callable[[], None] | None = None) -> ProcessOutcome:
    """Run `argv`; KeyboardInterrupt kills the group and returns an outcome marked interrupted."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        launch_wall = time.time()
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True,
                                    preexec_fn=preexec)
        except (OSError, subprocess.SubprocessError) as exc:
            return ProcessOutcome(None, 0.0, launch_error=f"cannot start {argv[0]}: {getattr(exc, 'strerror', None) or exc}")
        outcome = ProcessOutcome(None, 0.0)
        try:
            while True:
                try:
                    outcome.returncode = proc.wait(timeout=POLL_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    pass
                elapsed = time.perf_counter() - start
                if on_poll is not None:
                    on_poll(elapsed)
                if elapsed > timeout_s:
                    outcome.timed_out = True
                    kill_group(proc)
                    break
        except KeyboardInterrupt:
            outcome.interrupted = True
            kill_group(proc)
        outcome.wall_s = time.perf_counter() - start
        if outcome.returncode is None and not (outcome.timed_out or outcome.interrupted):
            outcome.returncode = proc.returncode
        if artifact is not None:
            path = artifact()
            if path is not None:
                try:
                    outcome.artifact_s = max(0.0, path.stat().st_mtime - launch_wall)
                except OSError:
                    pass
        # A daemon child may still hold the group: never leave anything of the run behind.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return outcome
