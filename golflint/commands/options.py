"""Options shared by several commands (configuration layers)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, TypeVar

import click

from ..config import Settings, excluding_submissions, load_settings

T = TypeVar("T")


def config_options(func):
    func = click.option("--isolated", is_flag=True,
                        help="Ignore [tool.golflint] in pyproject.toml files; use only the shipped "
                             "rulebook and --rules.")(func)
    func = click.option("--rules", "rules_file", type=click.Path(dir_okay=False, path_type=Path),
                        help="A rules.toml whose settings override the shipped rulebook.")(func)
    return func


def settings_from(rules_file: Path | None, isolated: bool) -> Settings:
    settings = load_settings(rules_file, discover_from=Path.cwd(), isolated=isolated)
    for warning in settings.warnings:
        click.echo(f"warning: {warning}", err=True)
    return settings


def settings_outside_submissions(rules_file: Path | None, isolated: bool,
                                 discover: Callable[[Settings], list[T]],
                                 root_of: Callable[[T], Path]) -> tuple[Settings, list[T]]:
    """Settings and submission folders for a command that checks untrusted folders.

    Policy: a submission's own pyproject.toml is never configuration. Folders are first found with
    the shipped rulebook and --rules alone; a pyproject.toml is then looked for upwards from the
    working directory, skipping every folder at or inside a submission found, so a submission's
    pyproject.toml is never even parsed. If the project configuration changes how folders are
    found, they are found again with it, and a pyproject.toml inside one of those is dropped too.
    """
    base = load_settings(rules_file, isolated=True)
    targets = discover(base)
    if isolated:
        settings = base
    else:
        settings = load_settings(rules_file, discover_from=Path.cwd(),
                                 exclude=[root_of(t) for t in targets])
        if any(settings.section(k) != base.section(k) for k in ("discovery", "tracks")):
            targets = discover(settings)
            settings, note = excluding_submissions(settings, [root_of(t) for t in targets])
            if note:
                click.echo(f"note: {note}", err=True)
                targets = discover(settings)
    for warning in settings.warnings:
        click.echo(f"warning: {warning}", err=True)
    return settings, targets
