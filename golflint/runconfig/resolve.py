"""Resolve the configuration a submission actually runs.

Sources, weakest first: defaults in the code (`os.environ.get("X", "0")`, `os.getenv`, argparse
`default=`), `os.environ.setdefault` in the wrapper or at the top of the script, the run command
(README code blocks: `VAR=... torchrun ... train_gpt.py`, `export VAR=...`; `*.sh` files in the
folder), `os.environ["X"] = ...` assignments at the top of the script, and a reviewer's `--env`.
Several run commands give several variants; the train logs choose one when they echo settings.
Nothing is executed: commands are tokenized with shlex, code is read from the syntax tree.
"""

from __future__ import annotations

import ast
import re
import shlex
from typing import TYPE_CHECKING, Collection, Iterable, Iterator

from ..code.names import whole_word_at
from ..facts.index import walk
from .model import RunCommand, RunConfig, Setting, Variant

if TYPE_CHECKING:
    from ..code.units import CodeUnit
    from ..folder import Folder

ENTRY = "train_gpt.py"
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`([^`\n]+)`")
ENV_GETTERS = ("os.environ.get", "os.getenv", "os.environ.setdefault")
# A hyperparameter echoed in a train log: `  ppm_enabled: True`, `ppm_subset_tokens=3000000`.
# A line that is one `name: value` / `name = value` echo, for one of the names given, over lines
# joined by "\n" (one scan in C instead of a match per line; the spaces matched are never a line
# break; the name is a whole word).
_ECHO = r"^[^\S\n]*((?:{names})(?![A-Za-z0-9_]))[^\S\n]*[:=][^\S\n]*([^\s,;]+)[^\S\n]*$"
_ECHO_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# More names than this (a script written to make the alternation huge) are matched as any
# identifier, and the caller keeps the echoes of its names.
_ECHO_MAX_NAMES = 500
# The echo of any identifier: the name an echo line starts with is its whole first word, so
# `echoes` keeps the matches whose word is one of its names, where a pattern with the names'
# alternation (compiled per folder: about 3 ms each in Python's regex compiler) found the same.
_ECHO_ANY = re.compile(_ECHO.format(names=_ECHO_NAME.pattern), re.M)


def echo_pattern(names: Iterable[str]) -> re.Pattern | None:
    """The echo of any of `names` (those that can be echoed: ASCII identifiers), or None. With
    very many names, the echo of any identifier (the caller filters)."""
    names = sorted(n for n in names if _ECHO_NAME.fullmatch(n))
    if len(names) > _ECHO_MAX_NAMES:
        return _ECHO_ANY
    return re.compile(_ECHO.format(names="|".join(names)), re.M) if names else None


def echoes(lines: list[str], names: Collection[str]) -> Iterator[tuple[int, re.Match]]:
    """(line number, match) of each line that is an echo of one of `names`: what
    `echo_pattern(names).finditer` finds in the lines joined by "\\n". An echo starts, after
    spaces, with one of the names, so the pattern is tried only at such lines: over the records'
    364 logs, 0.28 s against 0.44 s for the pattern tried at every line start of the joined text."""
    echoable = tuple(n for n in names if _ECHO_NAME.fullmatch(n))
    if not echoable:
        return
    # with very many names, the echo of any identifier (the caller filters: see echo_pattern)
    starts = echoable if len(echoable) <= _ECHO_MAX_NAMES else None
    wanted = frozenset(echoable)
    for number, line in enumerate(lines, 1):
        if starts is None or line.lstrip().startswith(starts):
            found = _ECHO_ANY.match(line)
            if found is not None and (starts is None or found.group(1) in wanted):
                yield number, found


# -- shell commands -------------------------------------------------------------------------------
def _logical_lines(lines: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Join backslash continuations; yield (first line number, text)."""
    buf, start = "", None
    for number, text in lines:
        if start is None:
            start = number
        if text.rstrip().endswith("\\"):
            buf += text.rstrip()[:-1] + " "
            continue
        yield start, buf + text
        buf, start = "", None
    if start is not None and buf:
        yield start, buf


# Text without quotes, escapes or comments: shlex (whitespace_split, posix) yields its runs of
# characters other than shlex's whitespace, as these find them. Most lines of a README or run
# script are such text; shlex reads a character at a time in Python.
_PLAIN_SHELL = re.compile(r"[^'\"\\#]*")
_SHELL_WORD = re.compile(r"[^ \t\r\n]+")


def _tokens(text: str) -> list[str] | None:
    if _PLAIN_SHELL.fullmatch(text):
        return _SHELL_WORD.findall(text)
    try:
        return shlex.split(text, comments=True, posix=True)
    except ValueError:  # unbalanced quotes: not a command we can read
        return None


def _runs_script(token: str, script: str) -> bool:
    return token == script or token.endswith("/" + script)


def _commands_in(lines: list[tuple[int, str]], origin: str, script: str,
                 exported: dict[str, Setting], shell_files: dict[str, list[RunCommand]]
                 ) -> Iterator[RunCommand]:
    """Run commands in shell text; `exported` carries `export VAR=...` across calls (one README)."""
    for number, text in _logical_lines(lines):
        for part in re.split(r"&&|;|\|\|", text):
            tokens = _tokens(part)
            if not tokens:
                continue
            where = f"{origin} line {number}"
            if tokens[0] in ("export", "declare", "set") and len(tokens) > 1:
                for tok in tokens[1:]:
                    name, eq, value = tok.partition("=")
                    if eq and ENV_NAME.match(name):
                        exported[name] = Setting(name, value, where)
                continue
            env: dict[str, Setting] = {}
            i = 0
            while i < len(tokens):
                name, eq, value = tokens[i].partition("=")
                if eq and ENV_NAME.match(name):
                    env[name] = Setting(name, value, where)
                    i += 1
                elif tokens[i] == "env":
                    i += 1
                else:
                    break
            rest = tokens[i:]
            called_sh = next((t for t in rest if t.endswith(".sh") and t.lstrip("./") in shell_files), None)
            if called_sh is not None:
                for inner in shell_files[called_sh.lstrip("./")]:
                    yield RunCommand(inner.text, inner.source, {**exported, **env, **inner.env}, inner.args)
                continue
            at = next((k for k, t in enumerate(rest) if _runs_script(t, script)), None)
            if at is None:
                continue
            args: dict[str, Setting] = {}
            after = rest[at + 1:]
            k = 0
            while k < len(after):
                tok = after[k]
                if tok.startswith("--"):
                    name, eq, value = tok.partition("=")
                    if not eq:
                        following = after[k + 1] if k + 1 < len(after) else None
                        if following is not None and not following.startswith("--"):
                            value, k = following, k + 1
                        else:
                            value = "1"  # a bare flag (store_true)
                    args[name] = Setting(name, value, where)
                k += 1
            yield RunCommand(" ".join(tokens), where, {**exported, **env}, args)


def _readme_lines(text: str) -> list[tuple[int, str]]:
    """Lines inside fenced code blocks, and inline code spans that run a script."""
    out: list[tuple[int, str]] = []
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if m:
            fence = None if fence == m.group(1) else (fence or m.group(1))
            continue
        if fence:
            out.append((number, line))
        else:
            for span in INLINE_CODE.findall(line):
                if ".py" in span or span.startswith("export "):
                    out.append((number, span))
    return out


def _shell_commands(sub: "Folder", script: str) -> dict[str, list[RunCommand]]:
    out: dict[str, list[RunCommand]] = {}
    patterns = list(sub.settings.get("submission.command_files", ["*.sh", "commands*.txt"]) or ["*.sh"])
    for rel in sub.glob(patterns):
        text = sub.text(rel)
        if text is None:
            continue
        lines = list(enumerate(text.splitlines(), 1))
        out[rel] = list(_commands_in(lines, rel, script, {}, {}))
    return out


# -- settings in the code -------------------------------------------------------------------------
def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool)):
        return str(node.value) if not isinstance(node.value, bool) else ("1" if node.value else "0")
    return None


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module statements, including those under `if __name__ == "__main__":` and try blocks."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If) and "__main__" in ast.unparse(stmt.test):
            yield from _top_level(stmt.body)
        elif isinstance(stmt, ast.Try):
            yield from _top_level(stmt.body)


def _code_settings(unit: "CodeUnit") -> tuple[dict[str, Setting], dict[str, Setting], dict[str, Setting]]:
    """(defaults, setdefault, forced) environment settings of one unit."""
    defaults: dict[str, Setting] = {}
    soft: dict[str, Setting] = {}
    forced: dict[str, Setting] = {}
    imports = unit.imports
    for call in unit.calls_named(("os.environ.get", "os.getenv")):
        if call.args:  # type: ignore[attr-defined]
            var = _literal(call.args[0])  # type: ignore[attr-defined]
            if var and ENV_NAME.match(var) and var not in defaults:
                default = call.args[1] if len(call.args) > 1 else next(
                    (k.value for k in call.keywords if k.arg == "default"), None)
                value = _literal(default) if default is not None else None
                if default is None or value is not None:
                    defaults[var] = Setting(var, value, f"default in {unit.label} line {call.lineno}")
    for stmt in _top_level(unit.tree.body if unit.tree else []):
        where = f"{unit.label} line {stmt.lineno}"
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            call = stmt.value
            name = imports.call_name(call)
            if name == "os.environ.setdefault" and len(call.args) == 2:
                var, value = _literal(call.args[0]), _literal(call.args[1])
                if var and value is not None:
                    soft.setdefault(var, Setting(var, value, f"os.environ.setdefault in {where}"))
            elif name == "os.environ.update":
                pairs = [(k.arg, k.value) for k in call.keywords if k.arg]
                if call.args and isinstance(call.args[0], ast.Dict):
                    pairs += [(_literal(k), v) for k, v in zip(call.args[0].keys, call.args[0].values)]
                for var, node in pairs:
                    value = _literal(node)
                    if var and value is not None:
                        forced[var] = Setting(var, value, f"os.environ.update in {where}")
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Subscript):
            target = stmt.targets[0]
            if imports.qualname(target.value) == "os.environ":
                var, value = _literal(target.slice), _literal(stmt.value)
                if var and value is not None:
                    forced[var] = Setting(var, value, f"os.environ[...] = in {where}")
    return defaults, soft, forced


def _setting_attributes(unit: CodeUnit) -> dict[str, str]:
    """`ppm_enabled = bool(int(os.environ.get("PPM_ENABLED", "0")))` in a class or module body:
    attribute name -> the one environment variable it is read from."""
    out: dict[str, str] = {}
    imports = unit.imports
    bodies = [unit.tree.body if unit.tree else []]
    bodies += [n.body for n in unit.nodes(ast.ClassDef)]  # type: ignore[attr-defined]
    for body in bodies:
        for stmt in body:
            if not (isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None):
                continue
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if len(targets) != 1 or not isinstance(targets[0], ast.Name):
                continue
            names = {_literal(c.args[0]) for c in walk(stmt.value) if isinstance(c, ast.Call) and c.args
                     and imports.call_name(c) in ENV_GETTERS}
            if len(names) == 1 and None not in names:
                out.setdefault(targets[0].id, names.pop())  # type: ignore[arg-type]
    return out


def _echoed_settings(sub: Submission) -> dict[str, Setting]:
    """Settings the train logs echo (`ppm_enabled: True` for a hyperparameter read from
    PPM_ENABLED): what the logged run used, when no run command in the folder says. Only values
    every log that echoes the attribute agrees on."""
    attrs: dict[str, str] = {}
    for unit in sub.python_units:
        for attr, var in _setting_attributes(unit).items():
            attrs.setdefault(attr, var)
    if not any(_ECHO_NAME.fullmatch(name) for name in attrs):
        return {}  # nothing to look for: the logs are not read
    seen: dict[str, tuple[str, str]] = {}
    conflict: set[str] = set()
    for rel in sub.log_files:
        for number, m in echoes((sub.text(rel) or "").splitlines()[:2000], attrs.keys()):
            if m.group(1) not in attrs:
                continue  # (only when matching any identifier: see echo_pattern)
            var, value = attrs[m.group(1)], m.group(2).strip().strip("'\"")
            value = {"True": "1", "False": "0"}.get(value, value)
            if var in seen and not _same_value(seen[var][0], value):
                conflict.add(var)
            seen.setdefault(var, (value, f"{rel} line {number}"))
    return {var: Setting(var, value, f"the train log ({where})") for var, (value, where) in seen.items()
            if var not in conflict}


# -- choosing the command the logs came from --------------------------------------------------------
# Every `NAME: value` / `NAME=value` a log prints, at every word start (a lookahead, so
# `A=B=C` yields both A and B): one scan per log instead of one per setting and run command.
_LOGGED_SETTING = re.compile(r"\b(?=(\w+)\s*[:=]\s*([^\s,;]+))")


def _logged_settings(log_texts: list[str], wanted: set[str] | None = None) -> dict[str, list[str]]:
    """{lower-case name: every value printed for it, in order} over all the logs; only the names
    in `wanted` (lower case) when given (a log prints thousands of `key: value` pairs)."""
    pattern = _LOGGED_SETTING
    found_by_search = False
    if wanted is not None:
        # only whole words (`\w+`) can be printed names; the case-blind alternation finds every
        # word whose lower case is wanted (and a few more, dropped below), without a match object
        # for every other `key: value` of the logs
        wanted = {n for n in wanted if re.fullmatch(r"\w+", n)}
        if not wanted:
            return {}
        names = "|".join(re.escape(n) for n in sorted(wanted, key=lambda n: (-len(n), n)))
        pattern = re.compile(r"\b(?=(" + names + r")(?!\w)\s*[:=]\s*([^\s,;]+))", re.IGNORECASE)
        found_by_search = all(n.isascii() for n in wanted)
    out: dict[str, list[str]] = {}
    for text in log_texts:
        if found_by_search and "\u0130" not in text:
            hits = _wanted_settings(text, wanted)
        else:
            hits = ((m.group(1).lower(), m.group(2)) for m in pattern.finditer(text))
        for name, value in hits:
            if wanted is None or name in wanted:
                out.setdefault(name, []).append(value)
    return out


# An ASCII name is found by searching the lowered text: every character lowers to one character
# but U+0130 (a text holding it is read with the pattern), so positions stay those of the text. A
# case-blind match the search misses (U+0131, U+017F against `i`, `s`) lowers to a name that is not
# wanted; the Kelvin sign lowers to `k` and is found by both.
_SETTING_VALUE = re.compile(r"\s*[:=]\s*([^\s,;]+)")


def _wanted_settings(text: str, wanted: set[str]) -> list[tuple[str, str]]:
    """(name, value) of every `name: value` / `name=value` of `text` whose name, case-blind, is
    one of the ASCII names in `wanted`, in text order: what `_logged_settings`' case-blind pattern
    finds, by searching the lowered text for each name (the pattern tried its alternation at every
    word boundary of megabytes of logs: six times slower on the records). A name counts where it
    is a whole word: no word character (`str.isalnum()` or `_`, what the pattern's word class
    matches) on either side."""
    low = text.lower()
    hits = []
    for name in wanted:
        size = len(name)
        i = low.find(name)
        while i >= 0:
            j = i + size
            if whole_word_at(text, i, j):
                m = _SETTING_VALUE.match(text, j)
                if m is not None:
                    hits.append((i, name, m.group(1)))
            i = low.find(name, i + 1)
    hits.sort()
    return [(name, value) for _, name, value in hits]


def _log_agreement(command: RunCommand, logged: dict[str, list[str]]) -> int:
    score = 0
    for setting in command.env.values():
        if setting.value is None:
            continue
        for value in logged.get(setting.name.lower(), ()):
            seen = value.strip("'\"")
            score += 1 if _same_value(seen, setting.value) else -1
    return score


def _same_value(a: str, b: str) -> bool:
    truthy = {"1", "true", "yes", "on"}
    falsy = {"0", "false", "no", "off", "none", ""}
    a, b = a.lower(), b.lower()
    if a == b:
        return True
    if (a in truthy and b in truthy) or (a in falsy and b in falsy):
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def resolve_run_config(sub: "Folder", python_units: "list[CodeUnit]") -> RunConfig:
    """`python_units`: the parsed Python code units of the folder (their in-code defaults)."""
    cfg = RunConfig()
    defaults: dict[str, Setting] = {}
    soft: dict[str, Setting] = {}
    forced: dict[str, Setting] = {}
    for unit in python_units:
        d, s, f = _code_settings(unit)
        for var, setting in d.items():
            defaults.setdefault(var, setting)
        for var, setting in s.items():
            soft.setdefault(var, setting)
        forced.update(f)
    cfg.defaults = defaults
    # What the logged run echoes beats the in-code defaults; a run command or the code's own
    # assignments still win (they are read below).
    echoed = _echoed_settings(sub)
    for var, setting in echoed.items():
        if var in defaults and not _same_value(defaults[var].value or "", setting.value or ""):
            soft[var] = setting

    # The script the run commands start: the folder's entry script by role (layout.py), which is
    # not always named train_gpt.py.
    entry = getattr(sub, "entry_script", None) or ENTRY
    shell = _shell_commands(sub, entry)
    commands: list[RunCommand] = []
    readme = sub.text("README.md") if sub.exists("README.md") else None
    called_from_readme: set[str] = set()
    if readme:
        lines = _readme_lines(readme)
        commands.extend(_commands_in(lines, "README.md", entry, {}, shell))
        for _, text in lines:
            called_from_readme.update(rel for rel in shell if rel in text)
    for rel, cmds in shell.items():
        if rel not in called_from_readme:
            commands.extend(cmds)
    cfg.has_command = bool(commands)
    cfg.commands = [c.text for c in commands]

    def build(label: str, command: RunCommand | None) -> Variant:
        settings = dict(defaults)
        for var, setting in soft.items():
            if command is None or var not in command.env:
                settings[var] = setting
        if command is not None:
            settings.update(command.env)
        settings.update(forced)
        for var, value in sub.env_overrides.items():
            settings[var] = Setting(var, value, "--env")
        return Variant(label, settings, dict(command.args) if command else {}, command)

    if commands:
        seen: set[tuple] = set()
        for command in commands:
            key = tuple(sorted((k, v.value) for k, v in command.env.items())) + \
                tuple(sorted((k, v.value) for k, v in command.args.items()))
            if key in seen:
                continue
            seen.add(key)
            cfg.variants.append(build(command.source, command))
    else:
        cfg.variants.append(build("no run command", None))
        cfg.notes.append("no run command found in README.md or *.sh; the in-code defaults are assumed")

    if len(cfg.variants) > 1:
        texts = [t for t in (sub.text(rel) for rel in sub.log_files) if t]
        wanted = {s.name.lower() for v in cfg.variants if v.command
                  for s in v.command.env.values() if s.value is not None}
        logged = _logged_settings(texts, wanted)
        scores = {v.label: _log_agreement(v.command, logged) for v in cfg.variants if v.command}
        best = max(scores.values(), default=0)
        winners = [label for label, score in scores.items() if score == best]
        if best > 0 and len(winners) == 1:
            cfg.chosen = winners[0]
            cfg.notes.append(f"{len(cfg.variants)} run commands; the train logs match {cfg.chosen}")
        else:
            cfg.notes.append(f"{len(cfg.variants)} run commands and the logs do not tell which one "
                             "produced them; each is checked")
    main = next((v for v in cfg.variants if v.label == cfg.chosen), cfg.variants[0])
    cfg.settings = main.settings
    return cfg
