"""golflint cache: where the result cache lives, and emptying it."""

from __future__ import annotations

from pathlib import Path

import click

from ..cache import clean, default_cache_dir

_DIR_OPTION = click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
                           help="The cache folder (default: as `golflint check` chooses it).")


@click.group("cache")
def command() -> None:
    """The result cache of `golflint check` (on by default; `check --no-cache` bypasses it)."""


@command.command("dir")
@_DIR_OPTION
def cache_dir(cache_dir: Path | None) -> None:
    """Print the cache folder."""
    click.echo(str(cache_dir or default_cache_dir()))


@command.command("clean")
@_DIR_OPTION
def cache_clean(cache_dir: Path | None) -> None:
    """Remove every cached result."""
    directory = cache_dir or default_cache_dir()
    removed = clean(directory)
    click.echo(f"removed {removed} cached result{'s' if removed != 1 else ''} from {directory}")
