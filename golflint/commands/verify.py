"""golflint verify: reproduce a submission's claims in a calibrated, network-free run."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from ..errors import GolflintError
from .check import _parse_env
from .options import config_options, settings_from

EPILOG = """\b
Exit codes:
  0  verified: every run reproduced the claims (timing may be "not comparable" off 8xH100)
  1  not verified: a check failed, a run crashed or timed out, or preflight found errors
  2  could not run: missing data, GPUs or torch, a failed calibration, or Ctrl-C
"""


class LiveProgress:
    """A progress bar per phase on a terminal; one line per phase otherwise."""

    def __init__(self, console: Console):
        self.console = console
        self.live = console.is_terminal
        self._progress = None
        self._task = None

    def phase(self, label: str, timeout_s: float) -> None:
        self._close()
        if not self.live:
            self.console.print(f"running {label} (timeout {timeout_s:.0f}s)...")
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[steps]}"),
                                  TimeElapsedColumn(), console=self.console, transient=True)
        self._progress.start()
        self._task = self._progress.add_task(label, total=None, steps="starting")

    def tick(self, elapsed_s: float, step: int | None, total: int | None) -> None:
        if self._progress is None or self._task is None:
            return
        if step is not None and total:
            self._progress.update(self._task, total=total, completed=step, steps=f"step {step}/{total}")
        else:
            self._progress.update(self._task, steps=f"{elapsed_s:.0f}s")

    def done(self, label: str, verdict: str) -> None:
        self._close()
        self.console.print(f"{label}: {verdict}")

    def _close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._task = None


def _seeds(value: str | None) -> list[int] | None:
    from ..verify.pipeline import seed_number

    if not value:
        return None
    seeds = []
    for text in (s.strip() for s in value.split(",") if s.strip()):
        seed = seed_number(text)
        if seed is None:
            raise click.BadParameter(f"{text!r} is not an integer seed", param_hint="--seeds")
        seeds.append(seed)
    return seeds


@click.command("verify", epilog=EPILOG)
@click.argument("submission", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--gpus", type=click.IntRange(0, 64), default=8, show_default=True,
              help="GPUs to run on (torchrun --nproc_per_node); 0 runs train_gpt.py with plain python on the CPU.")
@click.option("--data-path", type=click.Path(file_okay=False, path_type=Path), envvar="DATA_PATH",
              default="./data/datasets/fineweb10B_sp1024", show_default=True,
              help="Folder with fineweb_train_*.bin / fineweb_val_*.bin shards (or $DATA_PATH).")
@click.option("--tokenizer-path", type=click.Path(dir_okay=False, path_type=Path), envvar="TOKENIZER_PATH",
              default="./data/tokenizers/fineweb_1024_bpe.model", show_default=True,
              help="SentencePiece model of the data (or $TOKENIZER_PATH).")
@click.option("--seeds", help="Comma-separated seeds to run (default: the seeds the submission claims).")
@click.option("--force", is_flag=True, help="Run even when `golflint check` finds errors.")
@click.option("--timeout", type=click.FloatRange(min=1), metavar="SECONDS",
              help="Hard timeout per run (default: verify.run_timeout_seconds).")
@click.option("--track", help="Treat the submission as this track instead of telling it from the folder.")
@click.option("--env", "env", multiple=True, metavar="VAR=VALUE",
              help="Extra environment for the submission's runs (and for its preflight check).")
@click.option("--calibration", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True,
              help="Time the reference trainer first (auto: with GPUs only).")
@click.option("--calibration-env", multiple=True, metavar="VAR=VALUE",
              help="Environment overrides for the calibration run (e.g. smaller sizes for a smoke test).")
@click.option("--calibration-steps", type=click.IntRange(2, None),
              help="Timed steps of the calibration run (default: verify.calibration_steps).")
@click.option("--sandbox", type=click.Choice(["bwrap", "none"]), default="bwrap", show_default=True,
              help="bwrap: run in a bubblewrap sandbox (read-only system, no network, own PID namespace, "
                   "limits; refuses with exit 2 where bwrap cannot run). none: NO sandbox, for code you "
                   "trust only.")
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where run copies and logs go (default: a new temporary folder, kept).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report as Markdown to this file (written even after Ctrl-C).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@config_options
def command(submission, gpus, data_path, tokenizer_path, seeds, force, timeout, track, env, calibration,
            calibration_env, calibration_steps, sandbox, work_dir, report_path, fmt, rules_file, isolated):
    """Reproduce SUBMISSION's claimed score, bytes and timing in sandboxed runs.

    \b
    1. preflight: golflint check (refuses on errors unless --force)
    2. calibration: the reference trainer's ms/step here vs 8xH100 SXM
    3. per seed: a fresh copy of the folder, torchrun (or python for --gpus 0), no network,
       a hard timeout, output to a log
    4. checks: score, bytes on disk, size cap, BPB byte accounting, network, train/eval time
    """
    from ..verify.deps import require

    require(purpose="golflint verify")
    from ..verify.pipeline import VerifyOptions, verify
    from ..verify.render import render_text, to_json, to_markdown

    settings = settings_from(rules_file, isolated)
    if track is not None:
        settings.track(track)
    options = VerifyOptions(
        submission=submission.resolve(), settings=settings, gpus=gpus, data_path=data_path,
        tokenizer_path=tokenizer_path, seeds=_seeds(seeds), force=force, timeout_s=timeout, track=track,
        env=_parse_env(env), calibration=calibration, calibration_env=_parse_env(calibration_env),
        calibration_steps=calibration_steps, sandbox=sandbox, workdir=work_dir.resolve() if work_dir else None)
    progress_console = Console(stderr=True)
    if sandbox == "none":
        progress_console.print("[bold red]WARNING: --sandbox none: the submission runs WITHOUT a sandbox, with "
                               "your rights over files, processes and the network. Use it only for code you "
                               "trust.[/]")
    result = verify(options, LiveProgress(progress_console))
    if report_path is not None:
        try:
            report_path.write_text(to_markdown(result), encoding="utf-8")
        except OSError as exc:
            raise GolflintError(f"cannot write {report_path}: {exc.strerror or exc}") from None
    if fmt == "json":
        sys.stdout.write(to_json(result))
    else:
        render_text(result, Console())
    sys.exit(result.outcome.exit_code)
