"""golflint: static checks and sandboxed verification for Parameter Golf submissions."""

__version__ = "0.1.0"
