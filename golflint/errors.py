"""Exceptions that the CLI turns into a clear message and exit code 2."""


class GolflintError(Exception):
    """A usage, configuration or environment problem: reported as `error: ...`, exit 2."""


class ConfigError(GolflintError):
    """A rules.toml or [tool.golflint] table that cannot be used."""
