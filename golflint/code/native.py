"""Native siblings (C/C++/CUDA) that the script builds or loads, as code units.

Found statically from the Python units: compiler commands run by subprocess/os.system (cc, gcc,
g++, clang, nvcc), shared libraries loaded with ctypes (their sources beside them), cffi
`set_source`/`verify`/`cdef` strings, `torch.utils.cpp_extension.load(sources=[...])` files and
`load_inline(cpp_sources=..., cuda_sources=...)` strings, and `#include "..."` headers of those.
Nothing is compiled. Inline sources keep the Python file's line numbers where the literal allows.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from .names import string_value
from .units import CodeUnit

if TYPE_CHECKING:
    from ..folder import Folder

SOURCE_SUFFIXES = {".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp",
                   ".hh": "cpp", ".cu": "cuda", ".cuh": "cuda"}
COMPILERS = {"cc", "gcc", "g++", "c++", "clang", "clang++", "nvcc", "icc", "icpx"}
SHELL_CALLS = {"subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
               "subprocess.Popen", "subprocess.getoutput", "subprocess.getstatusoutput", "os.system", "os.popen"}
LIBRARY_LOADERS = {"ctypes.CDLL", "ctypes.cdll.LoadLibrary", "ctypes.PyDLL", "ctypes.CDLL.LoadLibrary",
                   "numpy.ctypeslib.load_library", "torch.ops.load_library"}
EXTENSION_LOAD = "torch.utils.cpp_extension.load"
EXTENSION_INLINE = "torch.utils.cpp_extension.load_inline"
INLINE_ARGS = {"cpp_sources": "cpp", "cuda_sources": "cuda"}
_FOUND_BY_NAME = frozenset(SHELL_CALLS | LIBRARY_LOADERS | {EXTENSION_LOAD, EXTENSION_INLINE})
CFFI_METHODS = {"set_source": 1, "verify": 0, "cdef": 0}
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)

# How each native unit was found (kind: "compiled", "ctypes", "cpp_extension.load", "inline",
# "cffi", "included"), for the checks that follow data across the boundary and for GL203.
KIND_COMPILED, KIND_CTYPES, KIND_EXTENSION, KIND_INLINE, KIND_CFFI, KIND_INCLUDED = (
    "compiled", "ctypes", "cpp_extension.load", "inline", "cffi", "included")


@dataclass(frozen=True)
class Origin:
    kind: str
    python: CodeUnit | None     # the unit whose call builds/loads it (None for headers)
    line: int | None


ORIGINS: "weakref.WeakKeyDictionary[CodeUnit, Origin]" = weakref.WeakKeyDictionary()


def _bindings(unit: CodeUnit) -> dict[str, list[ast.expr]]:
    out: dict[str, list[ast.expr]] = {}
    for node in unit.nodes(ast.Assign):
        for t in node.targets:  # type: ignore[attr-defined]
            if isinstance(t, ast.Name):
                out.setdefault(t.id, []).append(node.value)  # type: ignore[attr-defined]
    return out


def _strings(node: ast.AST | None, unit: CodeUnit, bindings: dict[str, list[ast.expr]],
             depth: int = 0) -> list[tuple[str, ast.AST]]:
    """String values an argument can take statically, each with the node it came from."""
    if node is None or depth > 8:
        return []
    value = string_value(node)
    if value is not None:
        return [(value, node)]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [s for e in node.elts for s in _strings(e, unit, bindings, depth + 1)]
    if isinstance(node, ast.Name):
        bound = bindings.get(node.id, [])
        return _strings(bound[0], unit, bindings, depth + 1) if len(bound) == 1 else []
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):  # Path(...) / "x.c"
        return _strings(node.right, unit, bindings, depth + 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _strings(node.left, unit, bindings, depth + 1), _strings(node.right, unit, bindings, depth + 1)
        if len(left) == 1 and len(right) == 1:
            return [(left[0][0] + right[0][0], node)]
    if isinstance(node, ast.Call):
        name = unit.imports.call_name(node) or ""
        if name in ("os.path.join", "pathlib.Path", "str") and node.args:
            return _strings(node.args[-1], unit, bindings, depth + 1)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "join":  # " ".join([...])
            parts = _strings(node.args[0], unit, bindings, depth + 1) if node.args else []
            return [(" ".join(p for p, _ in parts), node)] if parts else []
    return []


def _folder_path(sub: "Folder", path: str) -> str | None:
    path = path.replace("*/", "")
    while path.startswith("./"):
        path = path[2:]
    if sub.exists(path):
        return path
    base = os.path.basename(path)
    return base if sub.exists(base) else None


def _language(rel: str) -> str | None:
    return SOURCE_SUFFIXES.get(os.path.splitext(rel)[1].lower())


def _file_unit(sub: "Folder", rel: str, reason: str) -> CodeUnit:
    fr = sub.read(rel)
    unit = CodeUnit(path=rel, source="", language=_language(rel) or "c", reason=reason,
                    counted=sub.is_counted_code(rel))
    if fr.data is None:
        unit.notes.append(f"{rel} {fr.problem or 'could not be read'}")
        return unit
    from ..bounded import run_budget

    refused = run_budget(sub).admit_source(len(fr.data), "it is", native=True)
    if refused is not None:  # parsing it would cost memory and time out of proportion (GL013)
        unit.notes.append(f"{rel} is not analyzed: {refused}")
        return unit
    try:
        unit.source = fr.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        unit.source = fr.data.decode("utf-8", errors="replace")
        unit.notes.append(f"{rel} is not UTF-8 text (invalid byte at offset {exc.start}); read with "
                          "replacement characters")
    return unit


def _inline_unit(owner: CodeUnit, node: ast.AST, source: str, language: str, what: str) -> CodeUnit:
    from_line = getattr(node, "lineno", 1)
    # A plain literal whose lines map one to one onto the file keeps the file's line numbers.
    maps = isinstance(node, ast.Constant) and (getattr(node, "end_lineno", from_line) - from_line
                                               == source.count("\n"))
    label = f"{owner.label} line {from_line} ({what})" if maps else \
        f"{owner.label} line {from_line} ({what}; lines counted from the string)"
    unit = CodeUnit(path=owner.path, source=("\n" * (from_line - 1) + source) if maps else source,
                    language=language, label=label, layer=owner.layer, parent=owner,
                    counted=owner.counted or owner.layer > 0,
                    reason=f"{what} in {owner.label} line {from_line}")
    return unit


def _compiled_files(sub: "Folder", unit: CodeUnit, call: ast.Call,
                    bindings: dict[str, list[ast.expr]]) -> Iterator[tuple[str, str]]:
    parts: list[str] = []
    for text, _ in _strings(call.args[0] if call.args else None, unit, bindings):
        try:
            parts.extend(shlex.split(text))
        except ValueError:
            parts.extend(text.split())
    tools = [os.path.basename(p) for p in parts if os.path.basename(p) in COMPILERS]
    if not tools:
        return
    for token in parts:
        if _language(token) is not None:
            rel = _folder_path(sub, token)
            if rel is not None:
                yield rel, tools[0]


def _library_sources(sub: "Folder", path: str) -> list[str]:
    stem = os.path.splitext(os.path.basename(path))[0]
    stems = {stem, stem[3:] if stem.startswith("lib") else stem}
    return [rel for rel in sub.files if _language(rel) is not None and not rel.endswith((".h", ".hpp", ".cuh"))
            and os.path.splitext(os.path.basename(rel))[0] in stems]


def _found_in(sub: "Folder", unit: CodeUnit) -> Iterator[tuple[CodeUnit, Origin]]:
    bindings = _bindings(unit)
    cffi = any(m == "cffi" or m.startswith("cffi.") for m in unit.imports.modules)
    # only the calls by these names can be anything here (with cffi imported, any method call)
    calls = unit.nodes(ast.Call) if cffi else unit.calls_where(
        lambda name: name in _FOUND_BY_NAME or name.endswith(".LoadLibrary"))
    for call in calls:
        name = unit.imports.call_name(call) or ""  # type: ignore[arg-type]
        where = f"{unit.label} line {call.lineno}"  # type: ignore[attr-defined]
        if name in SHELL_CALLS:
            for rel, tool in _compiled_files(sub, unit, call, bindings):  # type: ignore[arg-type]
                yield _file_unit(sub, rel, f"compiled by {where} ({tool})"), Origin(KIND_COMPILED, unit, call.lineno)
        elif name in LIBRARY_LOADERS or name.endswith(".LoadLibrary"):
            for path, _ in _strings(call.args[0] if call.args else None, unit, bindings):  # type: ignore[attr-defined]
                for rel in _library_sources(sub, path):
                    yield (_file_unit(sub, rel, f"source of {os.path.basename(path)}, loaded by {where}"),
                           Origin(KIND_CTYPES, unit, call.lineno))
        elif name == EXTENSION_LOAD:
            arg = next((k.value for k in call.keywords if k.arg == "sources"),  # type: ignore[attr-defined]
                       call.args[1] if len(call.args) > 1 else None)  # type: ignore[attr-defined]
            for path, _ in _strings(arg, unit, bindings):
                rel = _folder_path(sub, path)
                if rel is not None and _language(rel):
                    yield (_file_unit(sub, rel, f"built by cpp_extension.load in {where}"),
                           Origin(KIND_EXTENSION, unit, call.lineno))
        elif name == EXTENSION_INLINE:
            positional = dict(zip(("name", "cpp_sources", "cuda_sources"), call.args))  # type: ignore[attr-defined]
            for arg_name, language in INLINE_ARGS.items():
                arg = next((k.value for k in call.keywords if k.arg == arg_name), positional.get(arg_name))  # type: ignore[attr-defined]
                for source, node in _strings(arg, unit, bindings):
                    yield (_inline_unit(unit, node, source, language, f"load_inline {arg_name}"),
                           Origin(KIND_INLINE, unit, call.lineno))
        elif cffi and isinstance(call.func, ast.Attribute) and call.func.attr in CFFI_METHODS:  # type: ignore[attr-defined]
            position = CFFI_METHODS[call.func.attr]  # type: ignore[attr-defined]
            arg = call.args[position] if len(call.args) > position else None  # type: ignore[attr-defined]
            for source, node in _strings(arg, unit, bindings):
                yield (_inline_unit(unit, node, source, "c", f"cffi {call.func.attr}"),  # type: ignore[attr-defined]
                       Origin(KIND_CFFI, unit, call.lineno))


def find_native_units(sub: "Folder", python_units: list[CodeUnit]) -> list[CodeUnit]:
    out: list[CodeUnit] = []
    seen: set[str] = set()
    for unit in python_units:
        if not unit.is_python or unit.tree is None:
            continue
        for native, origin in _found_in(sub, unit):
            key = native.label if native.label != native.path else native.path
            if key in seen:
                continue
            seen.add(key)
            ORIGINS[native] = origin
            out.append(native)
    # Headers the found sources include from the folder.
    queue = list(out)
    while queue:
        native = queue.pop(0)
        folder = os.path.dirname(native.path) if native.label == native.path else ""
        for name in INCLUDE.findall(native.source):
            rel = _folder_path(sub, os.path.normpath(os.path.join(folder, name)))
            if rel is None or rel in seen:
                continue
            seen.add(rel)
            header = _file_unit(sub, rel, f"included by {native.label}")
            if native.language != "c" and header.language == "c":
                header.language = native.language
            ORIGINS[header] = Origin(KIND_INCLUDED, None, None)
            out.append(header)
            queue.append(header)
    return out


def native_sizes(sub: "Folder", code_units: list[CodeUnit]) -> dict[str, tuple[int | None, bool]]:
    """Bytes on disk of each native file the script builds or loads, and whether it is counted."""
    return {u.path: (sub.size(u.path), u.counted) for u in code_units
            if u.language != "python" and u.label == u.path}
