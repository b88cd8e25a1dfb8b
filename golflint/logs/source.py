"""The source code a train log carries, compared with the code a submission ships.

The baseline and most records write their own source at the top of each log (`log0(code)`),
followed by a line of 100 `=`. Comparing that source with the shipped (decoded) code tells whether
the logs came from the code in the folder. Comparison is on the syntax tree, so comments and
formatting never count as differences.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

SEPARATOR = "=" * 100


@dataclass
class SourceDiff:
    functions: list[str] = field(default_factory=list)      # top-level defs/classes that differ
    only_in_log: list[str] = field(default_factory=list)
    only_shipped: list[str] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)       # "NAME: log 0.04, shipped 0.05"

    @property
    def size(self) -> int:
        return len(self.functions) + len(self.only_in_log) + len(self.only_shipped) + len(self.settings)

    @property
    def empty(self) -> bool:
        return not (self.functions or self.only_in_log or self.only_shipped or self.settings)


def logged_source(text: str) -> str | None:
    """The Python source a log starts with (before its first 100-`=` line), if it parses as such."""
    head, sep, _ = text.partition("\n" + SEPARATOR + "\n")
    if not sep or len(head) < 100:  # a header, not a script
        return None
    return head + "\n"


def _definitions(tree: ast.Module) -> dict[str, str]:
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out[node.name] = ast.dump(node, include_attributes=False)
    return out


def _env_defaults(tree: ast.Module) -> dict[str, str]:
    """`os.environ.get("NAME", default)` / `os.getenv(...)` defaults, by setting name."""
    out = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and len(node.args) >= 2 and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)):
            continue
        func = ast.unparse(node.func)
        if func.endswith(("environ.get", "getenv")):
            out.setdefault(node.args[0].value, ast.unparse(node.args[1]))
    return out


def compare(logged: ast.Module, shipped: ast.Module) -> SourceDiff:
    diff = SourceDiff()
    mine, theirs = _definitions(logged), _definitions(shipped)
    diff.functions = sorted(n for n in mine.keys() & theirs.keys() if mine[n] != theirs[n])
    diff.only_in_log = sorted(mine.keys() - theirs.keys())
    diff.only_shipped = sorted(theirs.keys() - mine.keys())
    log_env, ship_env = _env_defaults(logged), _env_defaults(shipped)
    diff.settings = [f"{n}: log {log_env[n]}, shipped {ship_env[n]}"
                     for n in sorted(log_env.keys() & ship_env.keys()) if log_env[n] != ship_env[n]]
    return diff
