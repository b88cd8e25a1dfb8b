"""Collect the code units of a submission: the entry script, the sibling modules it imports,
the layers decoded from packed code, and native siblings it builds or loads.

Nothing here executes submission code: imports are read from the syntax tree, packed payloads are
decoded with bounded decompressors (code/packed.py), native files are parsed, never compiled.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..bounded import run_budget
from ..layout import exec_siblings
from .names import whole_word_at
from .units import CodeUnit

if TYPE_CHECKING:
    from ..folder import Folder

ENTRY = "train_gpt.py"
EXECUTED_BY = "exec'd by"


def _counted(sub: "Folder", rel: str) -> bool:
    return sub.is_counted_code(rel)


def _sibling_module(sub: "Folder", module: str) -> str | None:
    """The folder-relative path of a module that would be imported from the submission folder."""
    base = module.lstrip(".").replace(".", "/")
    if not base:
        return None
    for candidate in (f"{base}.py", f"{base}/__init__.py"):
        if sub.exists(candidate):
            return candidate
    return None


def _imported_siblings(sub: "Folder", unit: CodeUnit) -> list[tuple[str, int]]:
    if unit.tree is None:
        return []
    found: list[tuple[str, int]] = []
    for node in unit.nodes(ast.Import, ast.ImportFrom):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.module:
                names = [node.module]
                # `from . import helper` / `from pkg import sub`: the names may be modules too
                names += [f"{node.module}.{a.name}" for a in node.names]
            else:
                names = [a.name for a in node.names]
        for name in names:
            rel = _sibling_module(sub, name)
            if rel is not None:
                found.append((rel, node.lineno))
    # importlib.import_module("helper") with a literal name
    for node in unit.calls_named(("importlib.import_module", "__import__")):
        if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):  # type: ignore[attr-defined]
            rel = _sibling_module(sub, node.args[0].value)
            if rel is not None:
                found.append((rel, node.lineno))
    return found


def load_python_file(sub: "Folder", rel: str, reason: str) -> CodeUnit | None:
    fr = sub.read(rel)
    problem = fr.text_problem()
    if problem is not None:
        unit = CodeUnit(path=rel, source="", reason=reason, counted=_counted(sub, rel))
        unit.syntax_error = f"{rel} {problem}"
        return unit
    refused = run_budget(sub).admit_source(len(fr.data or b""), "it is")
    if refused is not None:  # parsing it would cost memory and time out of proportion: GL000
        unit = CodeUnit(path=rel, source="", reason=reason, counted=_counted(sub, rel))
        unit.syntax_error = f"{rel} is not analyzed: {refused}"
        return unit
    return CodeUnit.parse_python(rel, fr.text() or "", reason=reason, counted=_counted(sub, rel))


def _may_call_exec(source: str) -> bool:
    """Whether the name `exec` can occur in this code: as a word, or spelled in other Unicode
    letters that NFKC normalization (which identifiers go through) turns into it. In ASCII text
    the word is found by searching for the substring and looking at the characters around each
    hit: the word pattern (`\\bexec\\b`) tried its boundary at every position of the text, and
    64 of the accepted records' 83 scripts never spell `exec` at all."""
    if not source.isascii():
        return True
    i = source.find("exec")
    while i >= 0:
        if whole_word_at(source, i, i + 4):
            return True
        i = source.find("exec", i + 4)
    return False


def load_code_units(sub: "Folder") -> list[CodeUnit]:
    from . import native, packed

    units: list[CodeUnit] = []
    seen: set[str] = set()
    queue: list[tuple[str, str]] = []
    entry = sub.entry_script  # train_gpt.py, or what the run command starts (golflint/layout.py)
    if entry is not None and entry.endswith(".py"):
        queue.append((entry, "entry"))
    # Other counted code files (a user may count more than train_gpt.py).
    for rel in sub.files:
        if rel.endswith(".py") and rel != entry and _counted(sub, rel):
            queue.append((rel, "counted code file"))
    while queue:
        rel, reason = queue.pop(0)
        if rel in seen:
            continue
        seen.add(rel)
        unit = load_python_file(sub, rel, reason)
        if unit is None:
            continue
        units.append(unit)
        layers = packed.expand(sub, unit)
        units.extend(layers)
        if reason.startswith(EXECUTED_BY):
            unit.counted = True  # code the counted script runs is counted code (layout.py)
        for source_unit in (unit, *layers):
            for sibling, line in _imported_siblings(sub, source_unit):
                queue.append((sibling, f"imported by {source_unit.label} line {line}"))
            if not _may_call_exec(source_unit.source):
                continue  # a full walk of a 150 KB tree, for a call that is not there
            for line, sibling in exec_siblings(sub.files, source_unit.tree, source_unit.nodes(ast.Call)).items():
                queue.append((sibling, f"{EXECUTED_BY} {source_unit.label} line {line}"))
    units.extend(native.find_native_units(sub, units))
    return units
