"""golflint check: static checks of submission folders."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..discovery import Skipped, discover
from ..engine import instantiate_rules
from ..errors import GolflintError
from ..exiting import mark_clean
from ..findings import Severity
from ..report.progress import RunProgress
from ..report.safe import visible
from ..report.write import FORMATS, write_report
from ..runner import Job, RunOptions, check_folders, default_jobs
from .options import config_options, settings_outside_submissions
from .output import output_options


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip().upper() for item in values for v in item.split(",") if v.strip()]


def _parse_env(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        if "=" not in item:
            raise click.BadParameter(f"{item!r} is not VAR=VALUE", param_hint="--env")
        name, value = item.split("=", 1)
        out[name.strip()] = value
    return out


@click.command("check", epilog="""\b
Exit codes:
  0  no finding at or above the failing severity (error; warning with --strict)
  1  at least one such finding
  2  usage or configuration error, or a rule crashed (GL999)
""")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format: rich text for people; concise (path:line:col: CODE message); "
                   "json, sarif (2.1.0) or github annotations.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to this file instead of standard output.")
@click.option("--track", help="Treat every submission as this track (record, non-record) instead of "
                              "telling it from the parent folder name.")
@click.option("--select", multiple=True, help="Only run rules whose id starts with these (GL1,GL301).")
@click.option("--ignore", multiple=True, help="Skip rules whose id starts with these.")
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even with failing findings (2 still possible).")
@click.option("--no-suppress", is_flag=True,
              help="Ignore `# golflint: ignore[...]` comments (for reviewers).")
@click.option("--show-suppressed", is_flag=True, help="List suppressed findings in the text report.")
@click.option("--against", type=float, metavar="VAL_LOSS",
              help="val_loss of the record to beat (default: significance.record_val_loss).")
@click.option("--env", "env", multiple=True, metavar="VAR=VALUE",
              help="Check under this run configuration (overrides README/run.sh settings).")
@click.option("--debug", is_flag=True, help="Re-raise rule crashes with their traceback (runs serially).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), metavar="N",
              help="Check up to N folders at once in worker processes (default: every core; "
                   "1: serially, in this process). Output is the same either way.")
@click.option("--no-cache", is_flag=True,
              help="Neither read nor write the result cache; check every folder afresh.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Result cache folder (default: $GOLFLINT_CACHE_DIR, else $XDG_CACHE_HOME/golflint, "
                   "else ~/.cache/golflint). See `golflint cache`.")
@output_options
@config_options
def command(paths, fmt, output, track, select, ignore, strict, exit_zero, no_suppress,
            show_suppressed, against, env, debug, jobs, no_cache, cache_dir, rules_file, isolated, **shown):
    """Check submission folders: structure, submission.json, bytes, logs, claims and code.

    PATHS may be submission folders, a records/ tree, a whole fork of the challenge repo, or files
    inside submission folders (as pre-commit passes them). Submission code is never executed.
    """
    if shown["statistics"] and fmt in ("sarif", "github"):
        raise click.UsageError("--statistics works with --format text, concise or json")
    skipped: list[Skipped] = []

    def find(candidate_settings):
        skipped.clear()  # only the last discovery's skips are reported
        return discover(paths, candidate_settings, track=track, skipped=skipped)

    # A submission's own pyproject.toml is never configuration (docs/hostile-input.md).
    settings, targets = settings_outside_submissions(rules_file, isolated, find, lambda t: t.root)
    overrides: dict = {}
    if select or ignore:
        general: dict = {}
        if select:
            general["select"] = _split(select)
        if ignore:
            general["ignore"] = _split(ignore)
        overrides["general"] = general
    if against is not None:
        overrides["significance"] = {"record_val_loss": against, "record_source": "--against"}
    if overrides:
        settings = settings.with_overrides(overrides)
    env_overrides = _parse_env(env)
    fail_on = Severity.WARNING if strict else Severity.parse(settings.get("general.fail_on", "error"))

    if shown["show_files"]:
        from ..report.files import show_files

        show_files(targets, skipped, output)
        return
    for passed in skipped:  # never skipped silently; stderr keeps stdout's format clean
        if passed.kind == "not-a-submission":
            click.echo(f"note: {visible(str(passed.path))}: not checked: {passed.reason}", err=True)
    if not targets:
        raise GolflintError("no submission folder found (a folder under records/<track>/, or one "
                            "holding submission.json or train_gpt.py)")
    rules = instantiate_rules(settings)
    if not rules:
        raise GolflintError("no rule selected; check --select/--ignore and [general] in your rules")
    cache = None
    if not no_cache:
        from ..cache import ResultCache, default_cache_dir

        cache = ResultCache(cache_dir or default_cache_dir(), settings, [r.id for r in rules],
                            suppress=not no_suppress, env_overrides=env_overrides)
    if debug:
        os.environ["GOLFLINT_STRICT_FACTS"] = "1"  # a rule reading an undeclared fact raises (facts/declared.py)
    options = RunOptions(settings, env_overrides, suppress=not no_suppress, debug=debug)
    with RunProgress(len(targets), enabled=not shown["quiet"]) as progress:
        results = check_folders([Job(t.root, t.track) for t in targets], options,
                                jobs=jobs or default_jobs(), cache=cache, on_done=progress.advance)

    out_stream = open(output, "w", encoding="utf-8") if output else None
    try:
        write_report(results, fmt, out_stream, fail_on=fail_on, show_suppressed=show_suppressed,
                     quiet=shown["quiet"], statistics=shown["statistics"], timings=shown["timings"])
    finally:
        if out_stream:
            out_stream.close()
    mark_clean()  # all written; the pool, the split's child and the cache's files are done with

    if any(r.internal_errors for r in results):
        sys.exit(2)
    if not exit_zero and not all(r.ok(fail_on) for r in results):
        sys.exit(1)
