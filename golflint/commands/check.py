"""golflint check: static checks of submission folders."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from ..discovery import find_submissions
from ..engine import check_submission, instantiate_rules
from ..errors import GolflintError
from ..findings import Severity
from ..submission import Submission
from .options import config_options, settings_from

FORMATS = ("text", "json", "sarif", "github")


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
              help="Output format: rich text for people; json, sarif (2.1.0) or github annotations.")
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
@click.option("--debug", is_flag=True, help="Re-raise rule crashes with their traceback.")
@config_options
def command(paths, fmt, output, track, select, ignore, strict, exit_zero, no_suppress,
            show_suppressed, against, env, debug, rules_file, isolated):
    """Check submission folders: structure, submission.json, bytes, logs, claims and code.

    PATHS may be submission folders, a records/ tree, a whole fork of the challenge repo, or files
    inside submission folders (as pre-commit passes them). Submission code is never executed.
    """
    settings = settings_from(rules_file, isolated)
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

    discovery = find_submissions(paths, settings, track=track)
    for skipped in discovery.skipped:  # never skipped silently; stderr keeps stdout's format clean
        if skipped.kind == "not-a-submission":
            click.echo(f"note: {skipped.path}: not checked: {skipped.reason}", err=True)
    targets = discovery.targets
    if not targets:
        raise GolflintError("no submission folder found (a folder under records/<track>/, or one "
                            "holding submission.json or train_gpt.py)")
    rules = instantiate_rules(settings)
    if not rules:
        raise GolflintError("no rule selected; check --select/--ignore and [general] in your rules")
    results = []
    for target in targets:
        sub = Submission(target.root, target.track, settings, env_overrides=env_overrides)
        results.append(check_submission(sub, rules, suppress=not no_suppress, debug=debug))

    out_stream = open(output, "w", encoding="utf-8") if output else None
    try:
        if fmt == "text":
            console = Console(file=out_stream, width=120 if out_stream else None,
                              no_color=out_stream is not None)
            from ..report.text import render

            render(results, console, show_suppressed=show_suppressed, fail_on=fail_on)
        else:
            from ..report import machine

            if fmt == "json":
                text = machine.dumps(machine.to_json(results, fail_on))
            elif fmt == "sarif":
                text = machine.dumps(machine.to_sarif(results))
            else:
                text = machine.to_github(results)
            (out_stream or sys.stdout).write(text)
    finally:
        if out_stream:
            out_stream.close()

    if any(r.internal_errors for r in results):
        sys.exit(2)
    if not exit_zero and not all(r.ok(fail_on) for r in results):
        sys.exit(1)
