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


class DefaultCommandGroup(click.Group):
    """`golflint verify SUB` runs verify; `golflint verify collect DIR` is a subcommand of its own."""

    def __init__(self, *args, default: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.default = default

    def parse_args(self, ctx, args):
        if not args or args[0] not in self.commands:
            args = [self.default, *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx, formatter):
        formatter.write_usage(ctx.command_path, "SUBMISSION... [OPTIONS]  |  collect RESULTS [OPTIONS]")


def slurm_options(func):
    options = [
        click.option("--submit", type=click.Choice(["slurm"]),
                     help="Queue the runs on a scheduler instead of running them here."),
        click.option("--results", type=click.Path(file_okay=False, path_type=Path), default="golflint-results",
                     show_default=True, help="With --submit: the shared folder the jobs write reports into."),
        click.option("--partition", help="With --submit slurm: the partition (sbatch --partition)."),
        click.option("--account", help="With --submit slurm: the account (sbatch --account)."),
        click.option("--slurm-time", type=click.FloatRange(min=60), metavar="SECONDS",
                     help="With --submit slurm: time limit per array task (default: the run timeout + "
                          "calibration + start-up, from the rulebook)."),
        click.option("--no-exclusive", is_flag=True,
                     help="With --submit slurm: share nodes (default: each task has its node to itself, "
                          "so timings are not disturbed)."),
        click.option("--sbatch-arg", "sbatch_args", multiple=True, metavar="ARG",
                     help="With --submit slurm: one more sbatch option, e.g. --sbatch-arg=--qos=high."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


# Options passed on to each queued `golflint verify` (paths made absolute: jobs run elsewhere).
_PASSED_ON = ("data_path", "tokenizer_path", "force", "timeout", "track", "env", "calibration",
              "calibration_env", "calibration_steps", "sandbox", "rules_file", "isolated")


def _passed_on_args(ctx: click.Context) -> list[str]:
    args: list[str] = []
    for param in ctx.command.params:
        if param.name not in _PASSED_ON or not isinstance(param, click.Option):
            continue
        source = ctx.get_parameter_source(param.name)
        value = ctx.params.get(param.name)
        if source in (click.core.ParameterSource.DEFAULT, None) and param.name not in ("data_path", "tokenizer_path"):
            continue
        flag = max(param.opts, key=len)
        if param.is_flag:
            if value:
                args.append(flag)
            continue
        for item in value if param.multiple else [value]:
            if item is None:
                continue
            args += [flag, str(Path(item).resolve()) if isinstance(item, Path) else str(item)]
    return args


def submit_to_slurm(ctx: click.Context, submissions: list[Path], gpus: int, seeds: str | None,
                    timeout: float | None, rules_file: Path | None, isolated: bool, results: Path,
                    partition: str | None, account: str | None, slurm_time: float | None, no_exclusive: bool,
                    sbatch_args: tuple[str, ...]) -> None:
    from ..fleet.slurm import SlurmOptions, parse_seeds, plan, submit, time_limit_seconds

    settings = settings_from(rules_file, isolated)
    run_timeout = timeout or float(settings.get("verify.run_timeout_seconds"))
    limit = slurm_time or time_limit_seconds(run_timeout, int(settings.get("verify.calibration_steps")))
    options = SlurmOptions(results=results, gpus=gpus, partition=partition, account=account,
                           time_limit_s=limit, exclusive=not no_exclusive, verify_args=_passed_on_args(ctx),
                           extra_sbatch=list(sbatch_args))
    jobs = submit(plan(submissions, options, parse_seeds(seeds)), options)
    for job in jobs:
        if job.state == "skipped":
            click.echo(f"skipped    {job.submission}: reports for {job.content_hash[:12]} exist in {job.folder}")
        else:
            click.echo(f"submitted  {job.submission}: job {job.job_id}, seeds "
                       f"{', '.join(s or 'default' for s in job.missing)} -> {job.folder}")
    click.echo(f"When the jobs are done: golflint verify collect {results}")


@click.command("run", epilog=EPILOG)
@click.argument("submissions", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
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
@slurm_options
@config_options
@click.pass_context
def run_command(ctx, submissions, gpus, data_path, tokenizer_path, seeds, force, timeout, track, env, calibration,
                calibration_env, calibration_steps, sandbox, work_dir, report_path, fmt, rules_file, isolated,
                submit, **slurm):
    """Reproduce SUBMISSION's claimed score, bytes and timing in sandboxed runs.

    With --submit slurm, queue one SLURM job per SUBMISSION instead (its seeds as a job array;
    reports under --results). `golflint verify collect RESULTS` merges reports into one table.

    \b
    1. preflight: golflint check (refuses on errors unless --force)
    2. calibration: the reference trainer's ms/step here vs 8xH100 SXM
    3. per seed: a fresh copy of the folder, torchrun (or python for --gpus 0), no network,
       a hard timeout, output to a log
    4. checks: score, bytes on disk, size cap, BPB byte accounting, network, train/eval time
    """
    if submit == "slurm":
        submit_to_slurm(ctx, list(submissions), gpus, seeds, timeout, rules_file, isolated, **slurm)
        return
    if len(submissions) > 1:
        raise click.UsageError("one SUBMISSION at a time (several only with --submit slurm)")
    submission = submissions[0]
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


@click.command("collect")
@click.argument("results", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "html", "json"]), default="text",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not stdout.")
def collect_command(results: Path, fmt: str, output: Path | None) -> None:
    """Every verify report under RESULTS (SLURM jobs' or saved --format json reports) as one table.

    \b
    Exit codes (the worst verdict):
      0  every submission verified
      1  at least one not verified
      2  none failed, but one could not run or has a report missing (still queued?)
    """
    from ..fleet.collect import collect, exit_code, table
    from ..report.table import render

    reports = collect(results)
    text = render(table(reports), fmt)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise GolflintError(f"cannot write {output}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
    sys.exit(exit_code(reports))


command = DefaultCommandGroup("verify", commands={"run": run_command, "collect": collect_command},
                              default="run", help=run_command.help, epilog=EPILOG,
                              short_help="Reproduce a submission's claims in sandboxed runs (or queue them).")
