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

# Each module defines `command` (a click command or group). Modules that are not present are skipped,
# so a command lands by adding its module and its name here.
COMMAND_MODULES = ("check", "rules", "config", "budget", "unpack", "data", "verify", "cache")

EPILOG = """\b
Exit codes:
  0  no failing findings (verify: verified)
  1  failing findings (verify: not verified)
  2  usage, configuration or internal error (verify: could not run)
"""


class GolflintGroup(click.Group):
    def main(self, *args, **kwargs):  # type: ignore[override]
        try:
            return super().main(*args, **kwargs)
        except GolflintError as exc:
            click.echo(f"error: {exc}", err=True)
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


def _register() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"golflint.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"golflint.commands.{name}":
                continue
            raise
        main.add_command(module.command)


_register()
