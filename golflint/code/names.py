"""Qualified names of calls and attributes, through import aliases.

`import lzma as L; L.decompress(x)` and `from lzma import decompress as d; d(x)` both resolve to
"lzma.decompress", so rules match on what is called, not on how the submission spelled it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field


@dataclass
class ImportMap:
    # local name -> dotted origin ("L" -> "lzma", "d" -> "lzma.decompress", "np" -> "numpy")
    aliases: dict[str, str] = field(default_factory=dict)
    # modules imported anywhere, with the line of (one of) their import statements
    modules: dict[str, int] = field(default_factory=dict)
    # id(node) -> (node, qualname): rules ask for the same nodes' names again and again; the node
    # is kept so that an id reused by a later (temporary) node is never mistaken for it
    _names: dict[int, tuple[ast.AST, str | None]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_tree(cls, tree: ast.AST | None) -> "ImportMap":
        if tree is None:
            return cls()
        return cls.from_nodes(n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)))

    @classmethod
    def from_nodes(cls, nodes) -> "ImportMap":
        out = cls()
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    out.modules.setdefault(alias.name, node.lineno)
                    if alias.asname:
                        out.aliases[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        out.aliases.setdefault(top, top)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                out.modules.setdefault(node.module, node.lineno)
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    out.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.ImportFrom) and node.level > 0:
                mod = node.module or ""
                out.modules.setdefault("." * node.level + mod, node.lineno)
        return out

    def qualname(self, node: ast.AST) -> str | None:
        """Dotted name of a Name/Attribute chain with its base resolved through imports."""
        known = self._names.get(id(node))
        if known is not None and known[0] is node:
            return known[1]
        out = self._qualname(node)
        self._names[id(node)] = (node, out)
        return out

    def _qualname(self, node: ast.AST) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Call):  # torch.load(...).to(...) -> "torch.load().to"
            inner = self.qualname(node.func)
            if inner is None:
                return None
            parts.append(inner + "()")
            return ".".join(reversed(parts))
        if not isinstance(node, ast.Name):
            return None
        base = self.aliases.get(node.id, node.id)
        parts.append(base)
        return ".".join(reversed(parts))

    def call_name(self, call: ast.Call) -> str | None:
        return self.qualname(call.func)


def dotted(node: ast.AST) -> str | None:
    """Dotted name of a Name/Attribute chain as written, without resolving imports."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def string_value(node: ast.AST) -> str | None:
    """The value of a str constant, or the literal parts of an f-string joined with '*'."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        out = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                out.append(part.value)
            else:
                out.append("*")
        return "".join(out)
    return None


def whole_word_at(text: str, start: int, end: int) -> bool:
    """Is `text[start:end]` a whole word: no word character (`str.isalnum()` or `_`, what a
    pattern's `\\w` matches) right before or right after it? (Asked at every hit of a search
    through megabytes of logs: one call, no helper per character.)"""
    if start:
        c = text[start - 1]
        if c == "_" or c.isalnum():
            return False
    if end < len(text):
        c = text[end]
        if c == "_" or c.isalnum():
            return False
    return True
