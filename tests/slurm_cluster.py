"""A one-node SLURM cluster (munge + slurmctld + slurmd) in a temporary folder, for the fleet tests.

Needs Debian's slurm-wlm and munge packages (`.ci/run` installs them) and root, as slurmd runs jobs
as their user. `start()` returns None with the reason where that is not possible, so the tests skip
with a clear message instead of failing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

BINARIES = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "sinfo")


@dataclass
class Cluster:
    root: Path
    conf: Path
    env: dict[str, str]

    def run(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(list(argv), env=self.env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def queue_empty(self) -> bool:
        out = self.run("squeue", "--noheader", "--format=%i")
        return out.returncode == 0 and not out.stdout.strip()

    def wait_idle(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.queue_empty():
                return True
            time.sleep(1.0)
        return False

    def stop(self) -> None:
        self.run("scontrol", "shutdown", timeout=30)
        for pidfile in ("slurmd.pid", "slurmctld.pid", "munged.pid"):
            path = self.root / "run" / pidfile
            try:
                pid = int(path.read_text().strip())
            except (OSError, ValueError):
                continue
            for _ in range(50):
                try:
                    os.kill(pid, 15 if _ == 0 else 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def why_not() -> str | None:
    missing = [b for b in BINARIES if shutil.which(b) is None and not Path("/usr/sbin", b).exists()]
    if missing:
        return f"SLURM is not installed ({', '.join(missing)} missing): apt-get install slurm-wlm munge"
    if os.geteuid() != 0:
        return "the one-node SLURM cluster needs root (slurmd starts jobs as their user)"
    return None


def start(root: Path, timeout_s: float = 60) -> tuple[Cluster | None, str | None]:
    reason = why_not()
    if reason:
        return None, reason
    for sub in ("state", "spool", "log", "run", "munge"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "munge", 0o700)
    key = root / "munge.key"
    key.write_bytes(os.urandom(1024))
    os.chmod(key, 0o400)
    socket_path = root / "munge" / "munge.socket"
    host = socket.gethostname().split(".")[0]
    cpus = os.cpu_count() or 1
    conf = root / "slurm.conf"
    conf.write_text("\n".join([
        "ClusterName=golflinttest", f"SlurmctldHost={host}", "SlurmUser=root", "SlurmdUser=root",
        "AuthType=auth/munge", f"AuthInfo=socket={socket_path}", "CredType=cred/munge",
        f"StateSaveLocation={root / 'state'}", f"SlurmdSpoolDir={root / 'spool'}",
        f"SlurmctldPidFile={root / 'run' / 'slurmctld.pid'}", f"SlurmdPidFile={root / 'run' / 'slurmd.pid'}",
        f"SlurmctldLogFile={root / 'log' / 'slurmctld.log'}", f"SlurmdLogFile={root / 'log' / 'slurmd.log'}",
        f"SlurmctldPort={_free_port()}", f"SlurmdPort={_free_port()}",
        "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none", "SchedulerType=sched/backfill",
        "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core", "ReturnToService=2", "MpiDefault=none",
        "JobAcctGatherType=jobacct_gather/none", "AccountingStorageType=accounting_storage/none",
        "SlurmctldTimeout=30", "SlurmdTimeout=30", "MinJobAge=5",
        f"NodeName={host} CPUs={cpus} State=UNKNOWN",
        f"PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP", ""]), encoding="utf-8")
    env = {**os.environ, "SLURM_CONF": str(conf)}
    cluster = Cluster(root, conf, env)
    steps = [
        ["munged", f"--key-file={key}", f"--socket={socket_path}", f"--pid-file={root / 'run' / 'munged.pid'}",
         f"--log-file={root / 'munge' / 'munged.log'}", f"--seed-file={root / 'munge' / 'seed'}", "--force"],
        ["slurmctld", "-f", str(conf)],
        ["slurmd", "-f", str(conf)],
    ]
    for argv in steps:
        argv[0] = shutil.which(argv[0]) or str(Path("/usr/sbin") / argv[0])
        proc = cluster.run(*argv, timeout=60)
        if proc.returncode != 0:
            cluster.stop()
            return None, f"{Path(argv[0]).name} did not start: {(proc.stderr or proc.stdout).strip()[-500:]}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        info = cluster.run("sinfo", "--noheader", "--format=%t")
        if info.returncode == 0 and info.stdout.strip() in ("idle", "mix", "alloc"):
            return cluster, None
        time.sleep(0.5)
    logs = "".join((root / "log" / name).read_text(errors="replace")[-800:]
                   for name in ("slurmctld.log", "slurmd.log") if (root / "log" / name).exists())
    cluster.stop()
    return None, f"the one-node cluster did not come up within {timeout_s:.0f}s: {logs}"
