"""Options shared by several commands (configuration layers)."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import Settings, load_settings


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
