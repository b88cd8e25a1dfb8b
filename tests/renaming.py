"""Rename every user-chosen identifier of a Python source with one consistent mapping.

The analyzers must judge behaviour, not names: a submission whose variables, functions, classes,
parameters, import aliases and own attributes are all renamed (`val_tokens` -> `n7`,
`eval_val` -> `n12`) must get exactly the same findings. What is NOT renamed, because it is not the
user's choice or because renaming it would change what the program does:
- library API (attributes of imported modules, methods of library objects: `.backward()`,
  `.numel()`, `torch.no_grad`), builtins, keywords, dunders, names imported without an alias;
- names that also occur inside a string literal of the file (`register_buffer("table", ...)`
  then `self.table`, `getattr(args, "lr")`), and keyword arguments of calls into library code;
- methods a user class overrides from a library base (`forward`, `__call__`), which library code
  calls by name.
Line numbers and columns of statements are preserved (only identifiers change), so findings can be
compared by (rule, file, line, severity).
"""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import re
import tokenize

# Methods library code calls by name on user subclasses (nn.Module, Dataset, Optimizer, ...).
LIBRARY_HOOKS = frozenset({
    "forward", "step", "zero_grad", "reset_parameters", "extra_repr", "state_dict", "load_state_dict",
    "parameters", "named_parameters", "buffers", "train", "eval", "to", "cuda", "cpu", "apply",
    "register_buffer", "register_parameter", "modules", "children", "named_modules", "weight", "bias",
    "param_groups", "state", "defaults", "training",
})
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _string_words(tree: ast.AST) -> set[str]:
    words: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            words.update(_IDENT.findall(node.value))
    return words


def user_names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(names bound by the user's code, attribute names the user's code defines)."""
    names: set[str] = set()
    attrs: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            attrs.add(node.attr)
        elif isinstance(node, ast.alias) and node.asname:
            names.add(node.asname)
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        for stmt in cls.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                attrs.add(stmt.name)
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]):
                    if isinstance(t, ast.Name):
                        attrs.add(t.id)
    return names, attrs


def protected(tree: ast.AST) -> set[str]:
    out = set(dir(builtins)) | set(keyword.kwlist) | LIBRARY_HOOKS | {"self", "cls"} | _string_words(tree)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if not alias.asname:
                    out.add(alias.name.split(".")[0])
    return out


class Renaming(dict):
    """name -> new name, plus the attribute names the user's own code defines (`attrs`): only those
    are renamed where they follow a dot (`self.files`), never a library's (`os.path`)."""

    attrs: set[str]


def _library_attrs(tree: ast.AST) -> set[str]:
    """Attribute names read from an imported module (`os.path`, `np.int64`)."""
    aliases = {(a.asname or a.name).split(".")[0] for n in ast.walk(tree)
               if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            root = node.value
            while isinstance(root, ast.Attribute):
                out.add(root.attr)
                root = root.value
            if isinstance(root, ast.Name) and root.id in aliases:
                out.add(node.attr)
    return out


def mapping_for(sources: dict[str, str]) -> Renaming:
    """One mapping for all files of a submission (sibling modules share names)."""
    trees = {}
    for path, text in sources.items():
        try:
            trees[path] = ast.parse(text)
        except SyntaxError:
            continue
    names: set[str] = set()
    attrs: set[str] = set()
    keep: set[str] = set()
    for tree in trees.values():
        n, a = user_names(tree)
        names |= n
        attrs |= a
        keep |= protected(tree) | _library_attrs(tree)
    # module names of sibling files are file names: keep them
    keep |= {p.rsplit("/", 1)[-1].removesuffix(".py") for p in sources}
    keep |= {n for n in names | attrs if n.startswith("__") and n.endswith("__")}
    chosen = sorted((names | attrs) - keep)
    out = Renaming({name: f"n{i}_" for i, name in enumerate(chosen)})
    out.attrs = attrs - keep
    return out


def rename(source: str, mapping: Renaming) -> str:
    """Rewrite identifiers token by token (positions of lines are kept; columns may shift)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    user_functions = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    # Where each renamable identifier occurs, by (line, col): Names, attribute tails, defs, args,
    # aliases and keywords of calls into the user's own functions.
    spots: dict[tuple[int, int], str] = {}

    def mark(line: int, col: int, old: str) -> None:
        if old in mapping:
            spots[(line, col)] = old

    lines = source.splitlines(keepends=True)

    def find(line: int, start_col: int, word: str) -> int | None:
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        for m in re.finditer(rf"\b{re.escape(word)}\b", text):
            if m.start() >= start_col:
                return m.start()
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            mark(node.lineno, node.col_offset, node.id)
        elif isinstance(node, ast.arg):
            mark(node.lineno, node.col_offset, node.arg)
        elif isinstance(node, ast.Attribute):
            line = node.end_lineno or node.lineno
            col = find(line, 0 if line != node.lineno else node.col_offset, node.attr)
            # the attribute name is the last occurrence before end_col_offset on the end line
            text = lines[line - 1] if 0 < line <= len(lines) else ""
            hits = [m.start() for m in re.finditer(rf"\b{re.escape(node.attr)}\b", text)
                    if m.end() <= (node.end_col_offset or len(text))]
            if node.attr in mapping.attrs:
                if hits:
                    mark(line, hits[-1], node.attr)
                elif col is not None:
                    mark(line, col, node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            col = find(node.lineno, node.col_offset, node.name)
            if col is not None:
                mark(node.lineno, col, node.name)
        elif isinstance(node, ast.alias) and node.asname:
            line = getattr(node, "lineno", None)
            text = lines[line - 1] if line and 0 < line <= len(lines) else ""
            m = re.compile(rf"\bas\s+({re.escape(node.asname)})\b").search(text, node.col_offset)
            if m:
                mark(line, m.start(1), node.asname)
        elif isinstance(node, ast.Call):
            func = node.func
            callee = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if callee in user_functions or callee in mapping:
                for kw in node.keywords:
                    if kw.arg and getattr(kw, "lineno", None):
                        mark(kw.lineno, kw.col_offset, kw.arg)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                col = find(node.lineno, node.col_offset, name)
                if col is not None:
                    mark(node.lineno, col, name)
    out = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return source
    for tok in tokens:
        if tok.type == tokenize.NAME and spots.get(tok.start) == tok.string:
            tok = tok._replace(string=mapping[tok.string])
        out.append(tok)
    return _untokenize(source, out)


def _untokenize(source: str, tokens: list[tokenize.TokenInfo]) -> str:
    """Rebuild the source with the new token strings, keeping every line where it was."""
    lines = source.splitlines(keepends=True)
    edits: dict[int, list[tuple[int, int, str]]] = {}
    for tok in tokens:
        if tok.type == tokenize.NAME and tok.start[0] == tok.end[0]:
            original = lines[tok.start[0] - 1][tok.start[1]:tok.end[1]]
            if original != tok.string:
                edits.setdefault(tok.start[0], []).append((tok.start[1], tok.end[1], tok.string))
    for number, changes in edits.items():
        text = lines[number - 1]
        for start, end, new in sorted(changes, reverse=True):
            text = text[:start] + new + text[end:]
        lines[number - 1] = text
    return "".join(lines)
