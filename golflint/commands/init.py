"""golflint init: set a fork of the challenge repository up for golflint (CI workflows)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import GolflintError


@click.group("init")
def command() -> None:
    """Write golflint's set-up files into a fork of the challenge repository."""


@command.command("ci")
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True,
              help="Root of the fork's checkout; workflows go to DEST/.github/workflows/.")
@click.option("--runner-labels", default="self-hosted,linux,gpu", show_default=True,
              help="Comma-separated labels of the self-hosted GPU runner that runs verify.")
@click.option("--gpus", type=click.IntRange(0, 64), default=8, show_default=True,
              help="GPUs per verify run (golflint verify --gpus).")
@click.option("--label", "verify_label", default="verify", show_default=True,
              help="Pull request label that starts a verify run.")
@click.option("--install", help="pip requirement that installs golflint in the workflows "
                                "(default: this version from its repository).")
@click.option("--python", "python", default="3.12", show_default=True, help="Python for the check job.")
@click.option("--timeout-minutes", type=click.IntRange(10, 4320), default=180, show_default=True,
              help="Time limit of the verify job.")
@click.option("--force", is_flag=True, help="Overwrite workflow files that differ from what would be written.")
def ci(dest: Path, runner_labels: str, gpus: int, verify_label: str, install: str | None, python: str,
       timeout_minutes: int, force: bool) -> None:
    """Write GitHub Actions workflows: check on every pull request, verify on a label.

    \b
    .github/workflows/golflint-check.yml   golflint check on the touched submissions: annotations,
                                           SARIF to code scanning, fails on errors (make it required)
    .github/workflows/golflint-verify.yml  golflint verify --gpus N on your self-hosted GPU runner
                                           when a pull request gets the label (or by hand)
    """
    from ..fleet.workflows import DEFAULT_INSTALL, CiOptions, write_workflows

    options = CiOptions(runner_labels=tuple(x.strip() for x in runner_labels.split(",") if x.strip()),
                        gpus=gpus, install=install or DEFAULT_INSTALL, python=python,
                        verify_label=verify_label, timeout_minutes=timeout_minutes)
    problems = options.validate()
    if problems:
        raise GolflintError("; ".join(problems))
    if not dest.is_dir():
        raise GolflintError(f"{dest}: no such folder")
    if not (dest / "records").is_dir():
        click.echo(f"warning: {dest} has no records/ folder; is it a checkout of the challenge repository?", err=True)
    kept = False
    for path, state in write_workflows(dest, options, force=force):
        click.echo(f"{state:9}  {path}")
        kept = kept or state == "exists"
    if kept:
        click.echo("A workflow file with other content was kept; --force overwrites it.", err=True)
    click.echo("Next: commit the workflows; in the branch protection rules, require the status "
               "\"golflint check\"; register a self-hosted runner with the labels "
               f"{', '.join(options.runner_labels)} (see golflint's docs/ci.md).")
