"""golflint: static checks and sandboxed verification for Parameter Golf submissions."""

# The one place the version is written: pyproject.toml reads it (hatch dynamic version), releases are
# tagged v<version>, and the README's pre-commit `rev:` must match (tests/test_release.py).
__version__ = "0.9.4"
