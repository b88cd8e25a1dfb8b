"""`check`'s output options, kept together (format choice lives with the command)."""

from __future__ import annotations

import click


def output_options(func):
    """--statistics, --quiet, --show-files, --timings. They arrive as keyword arguments of the command."""
    func = click.option("--timings", is_flag=True,
                        help="Add each submission's elapsed_ms to the JSON report (off: byte-stable output).")(func)
    func = click.option("--show-files", is_flag=True,
                        help="List the folders that would be checked (with their track) and those "
                             "skipped (and why), then exit without checking.")(func)
    func = click.option("-q", "--quiet", is_flag=True,
                        help="Only findings: no summary, no clean submissions, no progress bar.")(func)
    func = click.option("--statistics", is_flag=True,
                        help="Count findings per rule instead of listing them (text, concise; "
                             "json adds summary.statistics).")(func)
    return func
