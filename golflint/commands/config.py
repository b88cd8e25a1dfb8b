"""golflint config show: the merged settings and where each layer came from."""

from __future__ import annotations

import json

import click

from .options import config_options, settings_from


@click.group("config")
def command():
    """Inspect the merged configuration."""


@command.command("show")
@config_options
def show(rules_file, isolated):
    """Print the merged settings (shipped rules.toml, [tool.golflint], --rules) as JSON."""
    settings = settings_from(rules_file, isolated)
    click.echo(json.dumps({"sources": settings.sources, "settings": settings.data}, indent=2))
