"""Limits the kernel does not apply for us, checked from outside while a run goes on.

RLIMIT_NPROC does not hold for root, and an address-space limit breaks CUDA, so verify counts the
run's processes and sums their resident memory about once a second, and stops the run (the whole
sandbox) when either is over its setting. Every process of a sandboxed run descends from the
sandbox's first process (orphans are reparented to the sandbox's own init), so the run is the
process tree under the process verify started.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
CHECK_EVERY_S = 1.0


def process_tree(root: int, proc: Path = Path("/proc")) -> list[int]:
    """`root` and every live process below it, from /proc's parent links."""
    children: dict[int, list[int]] = {}
    try:
        entries = [e.name for e in os.scandir(proc) if e.name.isdigit()]
    except OSError:
        return [root]
    for name in entries:
        try:
            stat = (proc / name / "stat").read_text()
        except OSError:
            continue
        # The command name sits in parentheses and may hold spaces or ")": split after the last one.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) < 2:
            continue
        children.setdefault(int(fields[1]), []).append(int(name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def resident_bytes(pids: list[int], proc: Path = Path("/proc")) -> int:
    total = 0
    for pid in pids:
        try:
            total += int((proc / str(pid) / "statm").read_text().split()[1]) * PAGE_BYTES
        except (OSError, IndexError, ValueError):
            continue
    return total


def memory_total_bytes() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


@dataclass
class ResourceWatch:
    """Called by the runner with the run's first pid; returns why to stop the run, or None."""
    max_processes: int = 0           # 0: not watched
    max_memory_bytes: int = 0
    _last: float = 0.0

    def __call__(self, root: int) -> str | None:
        now = time.monotonic()
        if now - self._last < CHECK_EVERY_S or not (self.max_processes or self.max_memory_bytes):
            return None
        self._last = now
        tree = process_tree(root)
        if self.max_processes and len(tree) > self.max_processes:
            return f"more than {self.max_processes} processes (verify.max_processes)"
        if self.max_memory_bytes:
            used = resident_bytes(tree)
            if used > self.max_memory_bytes:
                return (f"{used / 2**30:.1f} GiB resident, over {self.max_memory_bytes / 2**30:.1f} GiB "
                        "(verify.max_memory_bytes)")
        return None
