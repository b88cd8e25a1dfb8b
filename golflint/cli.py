"""The golflint command line. Thin: each command lives in golflint/commands/<name>.py.

Exit codes (every command): 0 success / no failing findings, 1 findings at or above the failing
severity (or: not verified), 2 usage, configuration or internal error (or: could not run).
"""

from __future__ import annotations

import importlib
import sys

import click

from . import __version__
from .errors import GolflintError
from .report.safe import visible

# Each module defines `command` (a click command or group). Modules that are not present are skipped,
# so a command lands by adding its module and its name here.
COMMAND_MODULES = ("check", "rules", "config", "budget", "unpack", "data", "verify", "triage", "init", "cache")

EPILOG = """\b
Exit codes:
  0  no failing findings (verify: verified)
  1  failing findings (verify: not verified)
  2  usage, configuration or internal error (verify: could not run)
"""


class GolflintGroup(click.Group):
    """Imports a command's module only when that command runs (or help lists them all): a
    pre-commit `golflint check` does not pay for importing `verify`, `budget` or `rules`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *(n for n in COMMAND_MODULES if _load(n) is not None)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in COMMAND_MODULES:
            command = _load(cmd_name)
        return command

    def main(self, *args, **kwargs):  # type: ignore[override]
        try:
            return super().main(*args, **kwargs)
        except GolflintError as exc:
            click.echo(f"error: {visible(exc)}", err=True)  # may name a path from a submission
            sys.exit(2)


@click.group(cls=GolflintGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="golflint")
def main() -> None:
    """golflint: check Parameter Golf submissions before they are opened, reviewed or merged.

    \b
    golflint check ./records/track_10min_16mb/my_run   static checks, bytes, logs, claims
    golflint rules                                     every rule, with ids and severities
    golflint rules explain GL101                       what one rule means and how to fix it
    """


def run() -> None:
    """`main`, then the fast exit of a command that marked itself clean (golflint/exiting.py). The
    console script reaches it through golflint/console.py; tests call `main` itself."""
    from .exiting import run_then_exit

    run_then_exit(main)


def _load(name: str) -> click.Command | None:
    """The command defined in golflint/commands/<name>.py, or None when that module is absent."""
    try:
        module = importlib.import_module(f"golflint.commands.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"golflint.commands.{name}":
            return None
        raise
    return module.command
