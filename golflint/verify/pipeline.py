"""golflint verify, step by step: environment, preflight, calibration, reproduction per seed, checks.

Nothing here trusts the submission: each run happens in a fresh copy of its folder (without any
artifact it shipped) inside a bubblewrap sandbox (sandbox.py), without network, under a hard timeout;
scores come from its log, bytes from the files on disk, and the byte count behind its BPB is
recomputed from the tokenizer and shards. Names from the submission (seeds above all) are data:
a seed must be an integer before anything is named after it, and every path verify writes is built
under its work folder and checked to stay there.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from ..claims import number, seed_claims
from ..config import Settings
from ..findings import Severity
from .model import Calibration, Check, SeedRun, Verdict, VerifyResult
from .process import ProcessOutcome, run_logged
from .sandbox import Limits, NetworkRecord, Sandbox, SandboxUnavailable, is_special_file, make_sandbox
from .watch import ResourceWatch, memory_total_bytes

LOG_TAIL_LINES = 25
STEP_LINE = re.compile(r"^step:(\d+)/(\d+) train_loss:\S+ train_time:([\d.]+)ms", re.M)
LAST_STEP = re.compile(rb"step:(\d+)/(\d+)")
SEQ_LEN_VARS = ("TRAIN_SEQ_LEN", "EVAL_SEQ_LEN", "VAL_SEQ_LEN")
SEED_TEXT = re.compile(r"[+-]?[0-9]{1,19}")
SEED_LIMIT = 2**63
# What a script prints when the machine lacks what it needs: "could not run" (exit 2), not a crash.
CANNOT_RUN = re.compile(r"CUDA is required|Torch not compiled with CUDA enabled|Found no NVIDIA driver|"
                        r"No CUDA GPUs are available|CUDA driver initialization failed|"
                        r"no CUDA-capable device is detected")


def seed_number(value: object) -> int | None:
    """The seed as an integer, or None when it is not one (a name, a path, a float, a bool)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -SEED_LIMIT < value < SEED_LIMIT else None
    if isinstance(value, str) and SEED_TEXT.fullmatch(value.strip()):
        number_ = int(value.strip())
        return number_ if -SEED_LIMIT < number_ < SEED_LIMIT else None
    return None


def inside(workdir: Path, name: str) -> Path:
    """workdir / name, refused unless it stays inside workdir (no separators, no '..', no symlink out)."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"refusing to use {name!r} as a file name under {workdir}")
    path = workdir / name
    if not path.resolve().is_relative_to(workdir.resolve()):
        raise ValueError(f"refusing {path}: it resolves outside {workdir}")
    return path


def copy_submission(source: Path, dest: Path, skip_top: list[str]) -> list[str]:
    """Copy the folder for a run: files, folders and symlinks (as links); FIFOs, sockets and devices
    are left out (and named) rather than opened; top-level names matching `skip_top` stay behind."""
    left_out: list[str] = []

    def walk(src: Path, dst: Path, top: bool) -> None:
        dst.mkdir()
        with os.scandir(src) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if top and any(fnmatch.fnmatch(entry.name, p) for p in skip_top):
                    continue
                path = Path(entry.path)
                if entry.is_symlink():
                    os.symlink(os.readlink(path), dst / entry.name)
                elif entry.is_dir(follow_symlinks=False):
                    walk(path, dst / entry.name, False)
                elif entry.is_file(follow_symlinks=False):
                    shutil.copy2(path, dst / entry.name, follow_symlinks=False)
                elif is_special_file(path):
                    left_out.append(str(path.relative_to(source)))

    walk(source, dest, True)
    return left_out


class ProgressSink(Protocol):
    def phase(self, label: str, timeout_s: float) -> None: ...
    def tick(self, elapsed_s: float, step: int | None, total: int | None) -> None: ...
    def done(self, label: str, verdict: str) -> None: ...


class QuietProgress:
    def phase(self, label: str, timeout_s: float) -> None:
        pass

    def tick(self, elapsed_s: float, step: int | None, total: int | None) -> None:
        pass

    def done(self, label: str, verdict: str) -> None:
        pass


@dataclass
class VerifyOptions:
    submission: Path
    settings: Settings
    gpus: int = 0
    data_path: Path = Path("./data/datasets/fineweb10B_sp1024")
    tokenizer_path: Path = Path("./data/tokenizers/fineweb_1024_bpe.model")
    seeds: list[int] | None = None
    force: bool = False
    timeout_s: float | None = None
    track: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    calibration: str = "auto"                    # auto: on with GPUs, off on CPU; on; off
    calibration_env: dict[str, str] = field(default_factory=dict)
    calibration_steps: int | None = None
    sandbox: str = "bwrap"                       # bwrap; none (trusted code only)
    workdir: Path | None = None


def launch_argv(gpus: int, script: str) -> list[str]:
    if gpus <= 0:
        return [sys.executable, script]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={gpus}", script]


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16_384))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def latest_step(path: Path) -> tuple[int | None, int | None]:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4096))
            found = LAST_STEP.findall(f.read())
    except OSError:
        return None, None
    if not found:
        return None, None
    step, total = found[-1]
    return int(step), int(total)


def _artifact_finder(folder: Path, patterns: list[str]) -> Callable[[], Path | None]:
    def find() -> Path | None:
        try:
            hits = [p for p in folder.iterdir() if p.is_file() and not p.is_symlink()
                    and any(fnmatch.fnmatch(p.name, pat) for pat in patterns)]
        except OSError:
            return None
        return max(hits, key=lambda p: p.stat().st_size) if hits else None
    return find


def _fmt_s(seconds: float | None) -> str:
    return "?" if seconds is None else f"{seconds:.1f}s"


def _fmt_bytes(n: int | float | None) -> str:
    return "?" if n is None else f"{int(n):,}"


class Verifier:
    def __init__(self, options: VerifyOptions, progress: ProgressSink | None = None):
        self.o = options
        self.settings = options.settings
        self.progress = progress or QuietProgress()
        self.result = VerifyResult(submission=str(options.submission), gpus=options.gpus)
        self.sandbox: Sandbox | None = None
        self.validation = None
        self.track = "record"
        self.code_bytes: int | None = None
        self.claims: dict = {}
        self._claimed_log_seeds: list[object] = []
        self._run_seeds: list[int | None] = []

    # -- top level ------------------------------------------------------------------------------
    def run(self) -> VerifyResult:
        try:
            self._run()
        except KeyboardInterrupt:
            self.result.interrupted = True
            self.result.notes.append("interrupted (Ctrl-C): runs were stopped; this report is partial")
        return self.result

    def _run(self) -> None:
        problem = self._check_environment()
        if problem:
            self.result.problem = problem
            return
        self._preflight()
        if self.result.preflight is not None and self.result.preflight.verdict.failing:
            return
        problem = self._count_validation_bytes()
        if problem:
            self.result.problem = problem
            return
        workdir = (self.o.workdir or Path(tempfile.mkdtemp(prefix="golflint-verify-"))).resolve()
        if workdir.is_relative_to(self.o.submission):
            self.result.problem = f"--work-dir {workdir} is inside the submission; choose a folder outside it"
            return
        workdir.mkdir(parents=True, exist_ok=True)
        self.result.workdir = str(workdir)
        try:
            self.sandbox = make_sandbox(workdir / "sandbox", self.o.sandbox, self._limits())
        except SandboxUnavailable as exc:
            self.result.problem = str(exc)
            return
        self.result.sandbox = self.sandbox.description
        if not self.sandbox.contained:
            self.result.notes.append("--sandbox none: the submission ran WITHOUT a sandbox, with verify's own "
                                     "rights over files, processes and the network; use it for trusted code only")
        self.result.calibration = self._calibrate(workdir)
        if self.result.problem or self.result.interrupted:
            return
        if self.o.gpus not in (0, 8):
            self.result.notes.append(
                f"{self.o.gpus} GPU(s), not 8: a script that stops at its wallclock cap trains fewer steps "
                "than on 8xH100, so its score may differ from the claim for that reason alone")
        for seed in self._run_seeds:
            run = self._reproduce(seed, workdir)
            self.result.runs.append(run)
            self.progress.done(run.label, run.verdict.value)
            if run.checks and run.checks[0].verdict is Verdict.INTERRUPTED:
                self.result.interrupted = True
                self.result.notes.append("interrupted (Ctrl-C): the remaining seeds were not run")
                return

    # -- 1. environment -------------------------------------------------------------------------
    def _check_environment(self) -> str | None:
        from .deps import missing_modules

        missing = missing_modules()
        if missing:
            return f"verify needs {', '.join(missing)}: install golflint[torch]"
        if self.o.sandbox == "bwrap":
            from . import sandbox as sandbox_module

            problem = sandbox_module.bwrap_problem()
            if problem is not None:
                return sandbox_module.refusal(problem)       # before anything is written
        root = self.o.submission
        if not root.is_dir():
            return f"{root}: not a folder"
        if not (root / "train_gpt.py").is_file():
            return f"{root}: no train_gpt.py to run"
        data = self.o.data_path
        for split in ("train", "val"):
            if not list(data.glob(f"fineweb_{split}_*.bin")):
                return (f"--data-path {data}: no fineweb_{split}_*.bin shards (download the challenge data, or "
                        "make a synthetic set with `golflint data synth`)")
        if not self.o.tokenizer_path.is_file():
            return f"--tokenizer-path {self.o.tokenizer_path}: no such file"
        if self.o.gpus > 0:
            import torch

            visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
            if visible < self.o.gpus:
                return (f"--gpus {self.o.gpus}: this machine has {visible} usable CUDA GPU(s); "
                        "use --gpus 0 to run on the CPU")
        return None

    # -- 2. preflight ---------------------------------------------------------------------------
    def _preflight(self) -> None:
        from ..discovery import discover
        from ..engine import check_submission, instantiate_rules
        from ..submission import Submission

        target = discover([self.o.submission], self.settings, track=self.o.track)[0]
        self.track = target.track
        sub = Submission(target.root, target.track, self.settings, env_overrides=self.o.env)
        checked = check_submission(sub, instantiate_rules(self.settings))
        self.code_bytes = sub.exact_measurement.code_bytes
        self.claims = sub.claims
        self._claimed_log_seeds = [log.seed for log in sub.logs if log.seed is not None]
        seed_problem = self._choose_seeds()
        if seed_problem:
            # Never overridable: a seed names files and folders, so only integers are run.
            self.result.preflight = Check("preflight", Verdict.FAIL, detail=seed_problem + "; not run")
            return
        errors = [f for f in checked.active if f.severity is Severity.ERROR]
        if not errors:
            self.result.preflight = Check("preflight", Verdict.PASS, detail="golflint check: no errors")
            return
        listed = "; ".join(f"{f.rule} {f.message}" for f in errors[:5])
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        verdict = Verdict.OVERRIDDEN if self.o.force else Verdict.FAIL
        suffix = "; run anyway (--force)" if self.o.force else "; not run (use --force to run anyway)"
        self.result.preflight = Check("preflight", verdict, detail=f"golflint check: {len(errors)} error(s): "
                                                                   f"{listed}{more}{suffix}")

    # -- BPB accounting, once for all runs ------------------------------------------------------
    def _count_validation_bytes(self) -> str | None:
        from .accounting import count_validation_bytes
        from .shards import ShardError

        seq_lens = []
        for name in SEQ_LEN_VARS:
            value = self.o.env.get(name, "")
            if value.isdigit() and int(value) > 0:
                seq_lens.append(int(value))
        try:
            self.validation = count_validation_bytes(self.o.data_path, self.o.tokenizer_path,
                                                     seq_lens=tuple(seq_lens))
        except (ShardError, ValueError, OSError, RuntimeError) as exc:
            return f"cannot count the validation bytes: {exc}"
        return None

    # -- 3. calibration -------------------------------------------------------------------------
    def _calibration_enabled(self) -> bool:
        if self.o.calibration == "auto":
            return self.o.gpus > 0
        return self.o.calibration == "on"

    def _calibrate(self, workdir: Path) -> Calibration:
        if not self._calibration_enabled():
            why = "a CPU run (--gpus 0)" if self.o.gpus == 0 else "--calibration off"
            return Calibration(ran=False, note=f"not run for {why}")
        from .reference import reference_trainer_path

        steps = int(self.o.calibration_steps or self.settings.get("verify.calibration_steps"))
        folder = workdir / "calibration"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(reference_trainer_path(), folder / "train_gpt.py")
        env = {"DATA_PATH": str(self.o.data_path.absolute()),
               "TOKENIZER_PATH": str(self.o.tokenizer_path.absolute()), "RUN_ID": "calibration",
               "ITERATIONS": str(steps), "VAL_LOSS_EVERY": "0", "TRAIN_LOG_EVERY": "1",
               "MAX_WALLCLOCK_SECONDS": "0", "VAL_MAX_TOKENS": "65536", **self.o.calibration_env}
        log_path = workdir / "calibration.log"
        timeout = self._timeout()
        self.progress.phase("calibration (reference trainer)", timeout)
        outcome, _ = self._sandboxed_run("calibration", folder, env, log_path, timeout)
        self.progress.done("calibration", "done" if outcome.returncode == 0 else "failed")
        if outcome.interrupted:
            raise KeyboardInterrupt
        if outcome.returncode != 0:
            what = "timed out" if outcome.timed_out else f"exited with {outcome.returncode}"
            self.result.problem = (f"the calibration run of the reference trainer {what}; its log ({log_path}) "
                                   f"ends with:\n{log_tail(log_path)}")
            return Calibration(ran=True, note="calibration failed", log_path=str(log_path))
        times = [(int(m.group(1)), float(m.group(3)))
                 for m in STEP_LINE.finditer(log_path.read_text(encoding="utf-8", errors="replace"))]
        if len(times) < 2:
            self.result.problem = f"the calibration log {log_path} has fewer than two timed steps"
            return Calibration(ran=True, note="calibration failed", log_path=str(log_path))
        # Skip the first quarter: the first steps after warmup still pay for allocator growth.
        first = times[len(times) // 4]
        last = times[-1]
        if last[0] == first[0]:
            first = times[0]
        ms_per_step = (last[1] - first[1]) / (last[0] - first[0])
        tokens = int(env.get("TRAIN_BATCH_TOKENS", self.settings.get("verify.reference_tokens_per_step")))
        ref_ms = float(self.settings.get("verify.reference_ms_per_step"))
        ref_tokens = int(self.settings.get("verify.reference_tokens_per_step"))
        devices = max(self.o.gpus, 1)
        # The reference figure is 8 GPUs sharing a step; fewer devices each do 8/devices times the work.
        expected = ref_ms * tokens / ref_tokens * 8 / devices
        factor = ms_per_step / expected
        tolerance = float(self.settings.get("verify.hardware_tolerance"))
        comparable = abs(factor - 1.0) <= tolerance and self.o.gpus > 0
        note = (f"reference trainer: {ms_per_step:.2f} ms/step at {tokens:,} tokens/step on {self._hardware()}; "
                f"8xH100 SXM equivalent {expected:.2f} ms/step; factor x{factor:.2f}")
        if self.o.calibration_env:
            note += f" (calibration env overrides: {' '.join(f'{k}={v}' for k, v in self.o.calibration_env.items())})"
        return Calibration(ran=True, ms_per_step=ms_per_step, expected_ms_per_step=expected, tokens_per_step=tokens,
                           factor=factor, comparable=comparable, note=note, log_path=str(log_path))

    def _hardware(self) -> str:
        return "CPU" if self.o.gpus == 0 else f"{self.o.gpus} GPU(s)"

    # -- 4. reproduction ------------------------------------------------------------------------
    def _seed_source(self) -> tuple[str, list[object]]:
        if self.o.seeds:
            return "--seeds", list(self.o.seeds)
        claimed = self.claims.get("seeds")
        if isinstance(claimed, list) and claimed:
            return "submission.json seeds", list(claimed)
        from_results = [c.seed for c in seed_claims(self.claims) if c.seed is not None]
        if from_results:
            return "submission.json seed_results", list(from_results)
        return "the logs", list(self._claimed_log_seeds)

    def _choose_seeds(self) -> str | None:
        """Sets the seeds to run (integers, each once); a problem when one is not an integer."""
        source, raw = self._seed_source()
        bad = [value for value in raw if seed_number(value) is None]
        if bad:
            shown = ", ".join(repr(v)[:60] for v in bad[:3]) + (f" (+{len(bad) - 3} more)" if len(bad) > 3 else "")
            return f"{source}: {shown} is not an integer seed; verify runs integer seeds only"
        seeds: list[int | None] = []
        repeated: dict[int, int] = {}
        for value in raw:
            n = seed_number(value)
            if n in seeds:
                repeated[n] = repeated.get(n, 1) + 1
            else:
                seeds.append(n)
        limit = int(self.settings.get("verify.max_seeds"))
        if len(seeds) > limit:
            return (f"{source}: {len(seeds)} different seeds; verify runs at most {limit} (verify.max_seeds); "
                    "choose some with --seeds")
        if repeated:
            listed = ", ".join(f"seed {n} x{count}" for n, count in list(repeated.items())[:5])
            self.result.notes.append(f"{source} name the same seed more than once ({listed}); each seed runs once")
        self._run_seeds = seeds or [None]
        return None

    def _seeds(self) -> list[int | None]:
        return self._run_seeds

    def _watch(self) -> ResourceWatch:
        memory = int(self.settings.get("verify.max_memory_bytes")) or memory_total_bytes() * 3 // 4
        return ResourceWatch(max_processes=int(self.settings.get("verify.max_processes")), max_memory_bytes=memory)

    def _limits(self) -> Limits:
        address = int(self.settings.get("verify.max_address_space_bytes"))
        if self.o.gpus > 0 and address:
            # CUDA reserves far more virtual memory than it uses; an address-space cap breaks it.
            self.result.notes.append("the address-space limit is not applied to GPU runs (CUDA reserves more "
                                     "virtual memory than it uses)")
            address = 0
        return Limits(address_space_bytes=address, file_bytes=int(self.settings.get("verify.max_file_bytes")),
                      processes=int(self.settings.get("verify.max_processes")),
                      tmpfs_bytes=int(self.settings.get("verify.max_tmpfs_bytes")))

    def _timeout(self) -> float:
        return float(self.o.timeout_s or self.settings.get("verify.run_timeout_seconds"))

    def _poller(self, log_path: Path) -> Callable[[float], None]:
        def poll(elapsed: float) -> None:
            step, total = latest_step(log_path)
            self.progress.tick(elapsed, step, total)
        return poll

    def _sandboxed_run(self, name: str, folder: Path, env: dict[str, str], log_path: Path, timeout: float,
                       artifact: Callable[[], Path | None] | None = None) -> tuple[ProcessOutcome, NetworkRecord]:
        """One run of train_gpt.py in `folder` (the only place it may write), observed from outside."""
        assert self.sandbox is not None
        listener = self.sandbox.listener(name)
        try:
            argv = self.sandbox.command(launch_argv(self.o.gpus, "train_gpt.py"), writable=folder,
                                        readable=[self.o.data_path, self.o.tokenizer_path], gpus=self.o.gpus)
            outcome = run_logged(argv, cwd=folder, env=self.sandbox.environment(env, listener.fifo),
                                 log_path=log_path, timeout_s=timeout, artifact=artifact,
                                 on_poll=self._poller(log_path), preexec=self.sandbox.limits.apply,
                                 watch=self._watch())
        finally:
            record = listener.close()
        return outcome, record

    def _reproduce(self, seed: int | None, workdir: Path) -> SeedRun:
        name = f"seed_{seed}" if seed is not None else "default_seed"
        folder = inside(workdir, name)
        log_path = inside(workdir, f"{name}.log")
        run = SeedRun(seed=None if seed is None else str(seed), workdir=str(folder), log_path=str(log_path),
                      code_bytes=self.code_bytes)
        patterns = list(self.settings.get("bytes.artifact_patterns"))
        if folder.is_symlink() or folder.is_file():
            folder.unlink()
        elif folder.exists():
            shutil.rmtree(folder)
        # The shipped artifact stays behind: the bytes measured are the ones this run writes.
        left_out = copy_submission(self.o.submission, folder, patterns)
        if left_out:
            self.result.notes.append(f"{run.label}: not copied (not regular files): {', '.join(left_out[:5])}")
        env = {"DATA_PATH": str(self.o.data_path.absolute()), "TOKENIZER_PATH": str(self.o.tokenizer_path.absolute()),
               "RUN_ID": f"verify_{name}", **self.o.env}
        if seed is not None:
            env["SEED"] = str(seed)
        timeout = self._timeout()
        self.progress.phase(f"{run.label}: train_gpt.py", timeout)
        outcome, record = self._sandboxed_run(name, folder, env, log_path, timeout, _artifact_finder(folder, patterns))
        run.returncode, run.wall_s, run.artifact_s = outcome.returncode, outcome.wall_s, outcome.artifact_s
        run.network_attempts = record.attempts
        run.checks.append(self._run_check(outcome, log_path, timeout))
        if run.checks[0].verdict is not Verdict.PASS:
            run.log_tail = log_tail(log_path)
            if run.checks[0].verdict is Verdict.CRASHED and CANNOT_RUN.search(run.log_tail):
                self.result.problem = (f"{run.label}: the script needs what this machine lacks (its log ends "
                                       f"with: {CANNOT_RUN.search(run.log_tail).group(0)}); run it where that exists "
                                       "(e.g. --gpus N on a CUDA machine)")
        run.checks.append(self._network_check(record, self.sandbox is not None and self.sandbox.contained))
        if run.checks[0].verdict is not Verdict.PASS:
            return run
        self._measure(run, folder, log_path, patterns)
        return run

    def _run_check(self, outcome: ProcessOutcome, log_path: Path, timeout: float) -> Check:
        if outcome.launch_error:
            return Check("run", Verdict.CRASHED, detail=outcome.launch_error)
        if outcome.interrupted:
            return Check("run", Verdict.INTERRUPTED, reproduced=_fmt_s(outcome.wall_s),
                         detail="stopped by Ctrl-C; the process group was killed")
        if outcome.stopped_for:
            return Check("run", Verdict.CRASHED, reproduced="stopped",
                         detail=f"stopped by verify after {_fmt_s(outcome.wall_s)}: {outcome.stopped_for}; every "
                                "process of the run was killed")
        if outcome.timed_out:
            return Check("run", Verdict.TIMEOUT, reproduced=_fmt_s(outcome.wall_s),
                         detail=f"still running after the {timeout:.0f}s hard timeout; the process group was killed")
        if outcome.returncode != 0:
            return Check("run", Verdict.CRASHED, reproduced=f"exit {outcome.returncode}",
                         detail=f"exited with status {outcome.returncode} after {_fmt_s(outcome.wall_s)}; "
                                f"log: {log_path}")
        return Check("run", Verdict.PASS, reproduced=f"exit 0 in {_fmt_s(outcome.wall_s)}")

    @staticmethod
    def _network_check(record: NetworkRecord, contained: bool) -> Check:
        attempts = record.attempts
        if not attempts:
            problem = record.problem()
            if problem is not None:
                return Check("network", Verdict.UNKNOWN, reproduced="record incomplete",
                             detail=f"cannot tell whether the run tried the network: {problem}")
            enforced = ("the sandbox has no network route" if contained
                        else "NOT enforced: --sandbox none, only refused in Python")
            return Check("network", Verdict.PASS, reproduced="0 attempts",
                         detail=f"no attempt by the run's Python processes ({enforced})")
        shown = ", ".join(f"{a.get('call')} {a.get('target')}" + (f" ({a['where']})" if a.get("where") else "")
                          for a in attempts[:3])
        more = f" (+{len(attempts) - 3} more)" if len(attempts) > 3 else ""
        return Check("network", Verdict.FAIL, reproduced=f"{len(attempts)} attempt(s)",
                     detail=f"the run tried to reach the network: {shown}{more}")

    # -- 5. measurement -------------------------------------------------------------------------
    def _seed_claim(self, seed: str | None) -> dict:
        for claim in seed_claims(self.claims):
            if claim.seed is not None and claim.seed == seed:
                return claim.fields
        return {}

    def _measure(self, run: SeedRun, folder: Path, log_path: Path, patterns: list[str]) -> None:
        from ..logs.parse import parse_log

        text = log_path.read_text(encoding="utf-8", errors="replace")
        log = parse_log(str(log_path), text)
        final = log.final
        claim = self._seed_claim(run.seed)
        single = len(self._seeds()) == 1

        artifact = _artifact_finder(folder, patterns)()
        run.artifact_bytes = artifact.stat().st_size if artifact is not None else None
        run.train_time_ms = log.train_time_ms

        # score
        claimed_bpb = number(claim.get("val_bpb"))
        source = f"seed {run.seed}"
        if claimed_bpb is None and (single or not seed_claims(self.claims)):
            claimed_bpb, source = number(self.claims.get("val_bpb")), "headline"
        if final is None:
            run.checks.append(Check("score", Verdict.FAIL, claimed=self._fmt_bpb(claimed_bpb),
                                    detail="the log has no final val_loss/val_bpb line"))
        else:
            run.val_loss, run.val_bpb = final.val_loss, final.val_bpb
            tolerance = float(self.settings.get("verify.bpb_tolerance"))
            if claimed_bpb is None:
                run.checks.append(Check("score", Verdict.NO_CLAIM, reproduced=f"{final.val_bpb:.5f}",
                                        detail="submission.json claims no val_bpb for this run"))
            else:
                diff = final.val_bpb - claimed_bpb
                verdict = Verdict.PASS if abs(diff) <= tolerance else Verdict.FAIL
                run.checks.append(Check("score", verdict, claimed=f"{claimed_bpb:.5f}", reproduced=f"{final.val_bpb:.5f}",
                                        detail=f"val_bpb {diff:+.5f} vs the {source} claim (tolerance "
                                               f"{tolerance}); val_loss {final.val_loss:.5f} ({final.label})"))
            run.checks.append(self._accounting_check(final.val_loss, final.val_bpb))

        # bytes
        if run.artifact_bytes is None:
            run.checks.append(Check("bytes", Verdict.FAIL, detail=f"no artifact written (looked for {', '.join(patterns)})"))
        elif run.code_bytes is None:
            run.checks.append(Check("bytes", Verdict.FAIL, detail="no counted code file to measure"))
        else:
            total = run.total_bytes
            assert total is not None
            claimed_total = number(claim.get("artifact_bytes"))
            byte_source = f"seed {run.seed} artifact_bytes"
            headline = claimed_total is None
            if headline:
                claimed_total, byte_source = number(self.claims.get("bytes_total")), "headline bytes_total"
            tolerance_b = int(self.settings.get("verify.bytes_tolerance"))
            measured = f"{artifact.name} {run.artifact_bytes:,} + code {run.code_bytes:,}"
            if claimed_total is None:
                run.checks.append(Check("bytes", Verdict.NO_CLAIM, reproduced=_fmt_bytes(total), detail=measured))
            else:
                # Without per-seed claims the headline of a multi-seed submission is an upper bound.
                bound_only = headline and not single
                ok = total <= claimed_total + tolerance_b if bound_only else abs(total - claimed_total) <= tolerance_b
                relation = "at most" if bound_only else "equal to"
                run.checks.append(Check("bytes", Verdict.PASS if ok else Verdict.FAIL, claimed=_fmt_bytes(claimed_total),
                                        reproduced=_fmt_bytes(total),
                                        detail=f"{measured}; must be {relation} the {byte_source}"
                                               f"{f' (tolerance {tolerance_b})' if tolerance_b else ''}"))
            cap = int(self.settings.get("bytes.cap"))
            run.checks.append(Check("size cap", Verdict.PASS if total <= cap else Verdict.FAIL,
                                    claimed=f"<= {cap:,}", reproduced=_fmt_bytes(total)))
            if log.total_bytes is not None and log.total_bytes != total:
                run.checks.append(Check("logged bytes", Verdict.FAIL, claimed=_fmt_bytes(log.total_bytes),
                                        reproduced=_fmt_bytes(total),
                                        detail="the script's printed total differs from the files it wrote"))

        # timing
        run.checks.extend(self._timing_checks(run, log, claim))

    @staticmethod
    def _fmt_bpb(value: float | None) -> str:
        return "" if value is None else f"{value:.5f}"

    def _accounting_check(self, val_loss: float, val_bpb: float) -> Check:
        from .accounting import implied_ratio

        ratio = implied_ratio(val_loss, val_bpb)
        if ratio is None or self.validation is None:
            return Check("bpb accounting", Verdict.FAIL, detail="the score implies no tokens/bytes ratio")
        cut, difference = self.validation.best_match(ratio)
        tolerance = float(self.settings.get("verify.byte_ratio_tolerance"))
        verdict = Verdict.PASS if difference <= tolerance else Verdict.FAIL
        detail = (f"tokens/bytes implied by the score {ratio:.6f}; recomputed from the tokenizer and "
                  f"validation shards {cut.ratio:.6f} ({cut.cut}: {cut.tokens:,} tokens, {cut.bytes:,} bytes); "
                  f"relative difference {difference:.1e} (tolerance {tolerance:g})")
        if verdict is Verdict.FAIL:
            detail += "; the script counts validation bytes (or tokens) differently from the tokenizer"
        return Check("bpb accounting", verdict, claimed=f"{cut.ratio:.6f}", reproduced=f"{ratio:.6f}", detail=detail)

    def _timing_checks(self, run: SeedRun, log, claim: dict) -> list[Check]:
        track = self.settings.track(self.track)
        calibration = self.result.calibration
        if log.train_time_ms is not None:
            train_s, train_source = log.train_time_ms / 1000.0, "train_time in the log"
        else:
            train_s, train_source = run.artifact_s, "launch to artifact written, measured outside"
        eval_s = None
        if run.wall_s is not None and run.artifact_s is not None:
            eval_s = max(0.0, run.wall_s - run.artifact_s)
        out = []
        for name, seconds, limit, source in (
                ("train time", train_s, float(track.get("train_seconds", 600.0)), train_source),
                ("eval time", eval_s, float(track.get("eval_seconds", 600.0)), "artifact written to exit, measured outside")):
            claimed = f"<= {limit:.0f}s"
            if seconds is None:
                out.append(Check(name, Verdict.SKIPPED, claimed=claimed, detail="no artifact was written, so no split"))
            elif calibration is None or not calibration.comparable:
                if calibration is not None and calibration.factor is not None:
                    speed = "slower" if calibration.factor > 1 else "faster"
                    why = f"not comparable on this hardware (x{calibration.factor:.2f} {speed} than 8xH100 SXM)"
                else:
                    why = "not comparable on this hardware (no calibration: " + (
                        calibration.note if calibration else "none") + ")"
                out.append(Check(name, Verdict.NOT_COMPARABLE, claimed=claimed, reproduced=_fmt_s(seconds),
                                 detail=f"{why}; {source}"))
            else:
                verdict = Verdict.PASS if seconds <= limit else Verdict.FAIL
                out.append(Check(name, verdict, claimed=claimed, reproduced=_fmt_s(seconds),
                                 detail=f"{source}; hardware factor x{calibration.factor:.2f}"))
        claimed_step = number(claim.get("step_avg_ms"))
        if claimed_step is not None and log.step_avg_ms is not None:
            out[0].detail += f"; step_avg {log.step_avg_ms:.2f}ms (claimed {claimed_step:.2f}ms)"
        return out


def verify(options: VerifyOptions, progress: ProgressSink | None = None) -> VerifyResult:
    return Verifier(options, progress).run()
