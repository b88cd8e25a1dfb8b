"""Verify on a SLURM cluster: one job per submission, its seeds as a job array.

Each array task runs `golflint verify SUB --seeds S` on its node (so verify's own bubblewrap sandbox,
calibration and timeout apply there), and writes `seed_S.json` and `seed_S.md` into the submission's
results folder, `<results>/<folder name>-<content hash>/`. Reports are written to a temporary name
and renamed when complete, so a report that exists is whole. A submission whose reports all exist for
the same content hash is skipped on a re-run; one with some missing has only those seeds resubmitted.

The results folder must be on a file system the nodes share (as SLURM's output files are).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..errors import GolflintError

META = "meta.json"
JOB_SCRIPT = "job.sbatch"
_NAME = re.compile(r"[^A-Za-z0-9._-]+")
MAX_HASHED_BYTES = 512 * 1024 * 1024   # a submission folder bigger than this is not hashed (nor verified)


@dataclass
class SlurmOptions:
    results: Path
    gpus: int = 8
    partition: str | None = None
    account: str | None = None
    time_limit_s: float = 3600.0
    exclusive: bool = True
    verify_args: list[str] = field(default_factory=list)   # passed through to each `golflint verify`
    golflint: list[str] = field(default_factory=lambda: [sys.executable, "-m", "golflint"])
    sbatch: str = "sbatch"
    extra_sbatch: list[str] = field(default_factory=list)


@dataclass
class JobPlan:
    submission: Path
    content_hash: str
    folder: Path                 # this submission's results folder
    seeds: list[str]             # "" stands for the script's own default seed
    missing: list[str]           # seeds whose report does not exist yet
    job_id: str | None = None
    state: str = "planned"       # planned | submitted | skipped (reports exist)

    @property
    def label(self) -> str:
        return self.folder.name


def content_hash(folder: Path) -> str:
    """sha256 over every regular file's relative path and bytes (symlinks by their target text)."""
    digest = hashlib.sha256()
    total = 0
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        try:
            info = path.lstat()
        except OSError:
            continue
        if stat.S_ISLNK(info.st_mode):
            digest.update(b"L" + rel.encode("utf-8", "surrogateescape") + b"\0" +
                          os.readlink(path).encode("utf-8", "surrogateescape") + b"\0")
        elif stat.S_ISREG(info.st_mode):
            total += info.st_size
            if total > MAX_HASHED_BYTES:
                raise GolflintError(f"{folder}: more than {MAX_HASHED_BYTES:,} bytes of files; not a submission")
            digest.update(b"F" + rel.encode("utf-8", "surrogateescape") + b"\0" + str(info.st_size).encode() + b"\0")
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
    return digest.hexdigest()


def claimed_seeds(submission: Path) -> list[str]:
    """The integer seeds submission.json claims; [""] (the script's default seed) when it claims none."""
    try:
        claims = json.loads((submission / "submission.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [""]
    seeds = claims.get("seeds") if isinstance(claims, dict) else None
    out: list[str] = []
    for seed in seeds if isinstance(seeds, list) else []:
        text = str(seed).strip()
        if isinstance(seed, bool) or not re.fullmatch(r"-?\d{1,12}", text):
            continue   # verify's preflight reports a malformed seed; a job is not the place
        if text not in out:
            out.append(text)
    return out or [""]


def parse_seeds(value: str | None) -> list[str] | None:
    if not value:
        return None
    seeds = []
    for part in value.split(","):
        part = part.strip()
        if not re.fullmatch(r"-?\d{1,12}", part):
            raise GolflintError(f"{part!r} is not an integer seed")
        if part not in seeds:
            seeds.append(part)
    return seeds


def report_name(seed: str, suffix: str) -> str:
    return f"seed_{seed or 'default'}.{suffix}"


def plan(submissions: list[Path], options: SlurmOptions, seeds: list[str] | None = None) -> list[JobPlan]:
    plans = []
    for sub in submissions:
        sub = sub.resolve()
        if not sub.is_dir():
            raise GolflintError(f"{sub}: not a folder")
        digest = content_hash(sub)
        name = _NAME.sub("_", sub.name).strip("._") or "submission"
        folder = options.results.resolve() / f"{name[:80]}-{digest[:12]}"
        run_seeds = seeds or claimed_seeds(sub)
        missing = [s for s in run_seeds if not (folder / report_name(s, "json")).is_file()]
        plans.append(JobPlan(sub, digest, folder, run_seeds, missing,
                             state="planned" if missing else "skipped"))
    return plans


def _slurm_time(seconds: float) -> str:
    minutes = max(1, int(-(-seconds // 60)))
    return f"{minutes // 1440}-{(minutes % 1440) // 60:02d}:{minutes % 60:02d}:00"


def job_script(job: JobPlan, options: SlurmOptions) -> str:
    """The batch script: an array over the missing seeds, each one `golflint verify --seeds S`."""
    lines = ["#!/bin/bash",
             f"#SBATCH --job-name=golflint-verify-{job.label[:60]}",
             f"#SBATCH --array=0-{len(job.missing) - 1}",
             f"#SBATCH --time={_slurm_time(options.time_limit_s)}",
             f"#SBATCH --output={job.folder}/slurm-%A_%a.out",
             "#SBATCH --nodes=1"]
    if options.gpus > 0:
        lines.append(f"#SBATCH --gres=gpu:{options.gpus}")
    if options.exclusive:
        lines.append("#SBATCH --exclusive")
    if options.partition:
        lines.append(f"#SBATCH --partition={options.partition}")
    if options.account:
        lines.append(f"#SBATCH --account={options.account}")
    lines += [f"#SBATCH {arg}" for arg in options.extra_sbatch]
    seeds = " ".join(shlex.quote(s) for s in job.missing)
    verify = shlex.join([*options.golflint, "verify", str(job.submission), "--gpus", str(options.gpus),
                         *options.verify_args])
    lines += [
        "# Written by `golflint verify --submit slurm`; one array task per seed.",
        "set -uo pipefail",
        f"cd {shlex.quote(str(job.folder))}",
        f"SEEDS=({seeds})",          # '' is the script's own default seed
        'SEED="${SEEDS[$SLURM_ARRAY_TASK_ID]}"',
        'NAME="seed_${SEED:-default}"',
        'SEED_ARGS=()',
        '[ -n "$SEED" ] && SEED_ARGS=(--seeds "$SEED")',
        f'{verify} "${{SEED_ARGS[@]}}" --work-dir "work_${{SEED:-default}}" \\',
        '    --report "$NAME.md.part" --format json > "$NAME.json.part"',
        "rc=$?",
        '[ -s "$NAME.md.part" ] && mv -f "$NAME.md.part" "$NAME.md"',
        '[ -s "$NAME.json.part" ] && mv -f "$NAME.json.part" "$NAME.json"',
        'echo "$rc" > "$NAME.rc"',
        "exit $rc",
        ""]
    return "\n".join(lines)


def submit(plans: list[JobPlan], options: SlurmOptions) -> list[JobPlan]:
    """Write each planned job's script and meta.json, then sbatch it; jobs outlive this process."""
    if any(p.state == "planned" for p in plans) and shutil.which(options.sbatch) is None:
        raise GolflintError(f"{options.sbatch} not found: SLURM's client commands must be on PATH "
                            "(Debian: apt-get install slurm-client)")
    for job in plans:
        if job.state != "planned":
            continue
        job.folder.mkdir(parents=True, exist_ok=True)
        script = job.folder / JOB_SCRIPT
        script.write_text(job_script(job, options), encoding="utf-8")
        proc = subprocess.run([options.sbatch, "--parsable", str(script)], capture_output=True, text=True,
                              timeout=120, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise GolflintError(f"sbatch refused {job.submission}: {proc.stderr.strip() or proc.stdout.strip()}")
        job.job_id = proc.stdout.strip().split(";")[0]
        job.state = "submitted"
        meta = {"version": 1, "submission": str(job.submission), "content_hash": job.content_hash,
                "seeds": job.seeds, "job_id": job.job_id, "gpus": options.gpus,
                "submitted_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        tmp = job.folder / (META + ".part")
        tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        tmp.replace(job.folder / META)
    return plans


def time_limit_seconds(run_timeout_s: float, calibration_steps: int, seeds_per_task: int = 1) -> float:
    """Wall time for one array task: its run's hard timeout, the calibration run, preflight and start-up.

    Calibration runs the reference trainer's warmup (compile) and `calibration_steps` steps: 15
    minutes covers it on any GPU the challenge's budget allows; preflight and start-up take minutes.
    """
    return seeds_per_task * run_timeout_s + 900.0 + 10.0 * calibration_steps + 300.0
