"""What a code file costs as it is, packed into a self-extracting wrapper, and minified.

Every figure is the length of text we actually build, never a formula:
- lzma wrapper: `import lzma,base64\\nexec(lzma.decompress(base64.b85decode("...")))`, the payload
  being the source compressed with lzma.compress(preset=9 | PRESET_EXTREME) (xz container);
- zlib wrapper: the same with zlib.compress(level=9);
- minified: python-minifier with its defaults. It is maintained, works on the AST (so the output
  means what the input meant), and keeps the names that matter: module-level names are not renamed
  (rename_globals=False: other files and `getattr` can reach them) and class attribute annotations
  are kept (dataclasses need them). Docstrings and asserts are kept too.
- minified + lzma wrapper: the minified text packed as above; usually the smallest honest figure.
We never execute the code; the wrappers are only measured (tests decode them statically).
"""

from __future__ import annotations

import base64
import hashlib
import lzma
import warnings
import zlib
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class CodeSizes:
    path: str
    raw: int
    lzma_wrapper: int
    zlib_wrapper: int
    minified: int | None              # None when python-minifier cannot handle the file (see problem)
    minified_lzma_wrapper: int | None
    problem: str | None = None

    def as_json(self) -> dict:
        return asdict(self)


def lzma_payload(source: bytes) -> bytes:
    return lzma.compress(source, preset=9 | lzma.PRESET_EXTREME)


def wrapper_text(source: bytes, codec: str) -> str:
    """The self-extracting file that decodes to `source` (codec: "lzma" or "zlib")."""
    packed = lzma_payload(source) if codec == "lzma" else zlib.compress(source, 9)
    # The base85 alphabet holds no quote or backslash, so the payload is a plain string literal.
    payload = base64.b85encode(packed).decode("ascii")
    return f'import {codec},base64\nexec({codec}.decompress(base64.b85decode("{payload}")))'


def minify(source: str) -> str:
    import python_minifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarnings of the input are not ours to print
        return python_minifier.minify(source)


def code_sizes(path: str, data: bytes) -> CodeSizes:
    sizes = CodeSizes(path, len(data), len(wrapper_text(data, "lzma")), len(wrapper_text(data, "zlib")),
                      None, None)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        sizes.problem = f"not UTF-8 text (byte {exc.start}); not minified"
        return sizes
    try:
        small = minify(text).encode("utf-8")
    except Exception as exc:  # the minifier rejects what it cannot parse; any failure is a skip
        sizes.problem = f"python-minifier could not minify it: {type(exc).__name__}: {exc}"
        return sizes
    sizes.minified = len(small)
    sizes.minified_lzma_wrapper = len(wrapper_text(small, "lzma"))
    return sizes


# -- the code size a script counts for itself ---------------------------------------------------
# Many accepted scripts count their code as a self-extracting wrapper of their own (minified)
# source and log it: `Code size (compressed): 27610 bytes`, built by a function like
#     minified = pyminify(code, flags); packed = lzma.compress(minified)
#     wrapper = b'import lzma as L,...exec(L.decompress(B.b85decode("' + b85encode(packed) + b'")))\n'
# The recipe is read from the script's tree (never run) and rebuilt here on the shipped source.

_CODECS = ("lzma", "brotli", "zlib", "zstd", "zstandard")
_ENCODERS = {"b85encode": base64.b85encode, "b64encode": base64.b64encode, "a85encode": base64.a85encode}


@dataclass
class CodeRecipe:
    codec: str                        # lzma | brotli | zlib
    codec_options: dict               # quality=11, preset=9, level=9: literal keyword arguments
    encoder: str                      # b85encode | b64encode | a85encode
    minify_options: dict | None       # python-minifier keywords from the pyminify flags; None: no minify
    prefix: bytes
    suffix: bytes
    function: str
    line: int

    def describe(self) -> str:
        steps = (["pyminify"] if self.minify_options is not None else []) + [self.codec, self.encoder, "wrapper"]
        return f"{' + '.join(steps)} (as {self.function}() at line {self.line} builds it)"


def _call_tail(node) -> tuple[str | None, str]:
    """('lzma', 'compress') for lzma.compress(...) / L.compress(...) resolved by the caller."""
    import ast

    func = node.func
    if isinstance(func, ast.Attribute):
        base = func.value
        return (base.id if isinstance(base, ast.Name) else None), func.attr
    if isinstance(func, ast.Name):
        return None, func.id
    return None, ""


def _flatten_add(node) -> list:
    import ast

    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _flatten_add(node.left) + _flatten_add(node.right)
    return [node]


def find_code_recipe(tree, index: dict[type, list] | None = None) -> CodeRecipe | None:
    """The function of a script that builds a self-extracting wrapper of code, if one does.
    `index`: the tree's nodes by type in ast.walk's order (CodeUnit.index), when already built."""
    import ast
    import inspect

    if tree is None:
        return None
    if index is None:
        index = {}
        for node in ast.walk(tree):
            index.setdefault(type(node), []).append(node)
    aliases: dict[str, str] = {}
    for node in index.get(ast.Import, ()):
        for alias in node.names:
            aliases[alias.asname or alias.name.split(".")[0]] = alias.name.split(".")[0]
    # functions in ast.walk's order: the first recipe found is the one counted
    plain, coroutines = index.get(ast.FunctionDef, []), index.get(ast.AsyncFunctionDef, [])
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = plain or coroutines
    if plain and coroutines:  # both kinds: their order interleaved is only in the tree
        functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    compress_lines = [n.lineno for n in index.get(ast.Call, ()) if _call_tail(n)[1] == "compress"]
    best: CodeRecipe | None = None
    for func in functions:
        start = min([func.lineno, *(d.lineno for d in func.decorator_list)])
        end = func.end_lineno or func.lineno
        if not any(start <= line <= end for line in compress_lines):
            continue  # no codec call inside: not a recipe, and its subtree is not walked again
        codec = encoder = None
        codec_options: dict = {}
        flags: list[str] = []
        uses_minifier = False
        wrapper: tuple[bytes, bytes] | None = None
        for node in ast.walk(func):
            if isinstance(node, ast.Call):
                base, name = _call_tail(node)
                module = aliases.get(base or "", base)
                if name == "compress" and module in _CODECS and codec is None:
                    codec = "zstd" if module == "zstandard" else module
                    codec_options = {k.arg: k.value.value for k in node.keywords
                                     if k.arg and isinstance(k.value, ast.Constant)}
                    if node.args[1:] and isinstance(node.args[1], ast.Constant):
                        codec_options.setdefault("level" if module == "zlib" else "preset", node.args[1].value)
                elif name in _ENCODERS and encoder is None:
                    encoder = name
                elif name == "minify" and module == "python_minifier":
                    uses_minifier = True
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value == "pyminify":
                    uses_minifier = True
                elif node.value.startswith("--"):
                    flags.append(node.value)
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
                parts = _flatten_add(node)
                holes = [i for i, p in enumerate(parts)
                         if not (isinstance(p, ast.Constant) and isinstance(p.value, bytes))]
                if len(holes) == 1 and len(parts) > 1:
                    before = b"".join(p.value for p in parts[:holes[0]])
                    after = b"".join(p.value for p in parts[holes[0] + 1:])
                    if b"exec" in before + after and (wrapper is None or len(before + after) > len(b"".join(wrapper))):
                        wrapper = (before, after)
        if codec is None or encoder is None or wrapper is None:
            continue
        minify_options = None
        if uses_minifier:
            import python_minifier

            known = inspect.signature(python_minifier.minify).parameters
            minify_options = {}
            for flag in flags:
                name = flag[2:].replace("-", "_")
                if name.startswith("no_") and name[3:] in known:
                    minify_options[name[3:]] = False
                elif name in known and isinstance(known[name].default, bool):
                    minify_options[name] = True
        recipe = CodeRecipe(codec, codec_options, encoder, minify_options, wrapper[0], wrapper[1],
                            func.name, func.lineno)
        if best is None:
            best = recipe
    return best


# Minified sources by (sha256 of the source, options): python-minifier takes seconds on a 150 KB
# script, and copies of one script recur across folders (a fork's records, pull requests). Keyed by
# content, so it is kept across folders; bounded, so memory stays flat.
_MINIFIED: OrderedDict[tuple[str, str], bytes | str] = OrderedDict()
_MINIFIED_MAX = 16


def _minified(source: str, options: dict[str, Any]) -> bytes | str:
    """The minified source as bytes, or the reason python-minifier refused it (a str)."""
    key = (hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest(), repr(sorted(options.items())))
    if key in _MINIFIED:
        _MINIFIED.move_to_end(key)
        return _MINIFIED[key]
    import python_minifier

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result: bytes | str = python_minifier.minify(source, **options).encode("utf-8")
    except Exception as exc:  # noqa: BLE001 - the minifier rejects what it cannot parse; any failure is a skip
        result = f"python-minifier could not minify it ({type(exc).__name__})"
    _MINIFIED[key] = result
    while len(_MINIFIED) > _MINIFIED_MAX:
        _MINIFIED.popitem(last=False)
    return result


def stripped_source(source: str, tree, *, literal_statements: bool, nodes: list | None = None) -> str | None:
    """`source` without what python-minifier removes whatever its options: comments, blank lines,
    trailing spaces, indentation beyond one space per level, the line breaks and leading spaces of
    continuation lines; without docstrings and other literal statements when `literal_statements`
    (its remove_literal_statements) says so. None when the text cannot be tokenized.

    Only for an upper bound (budget/measure.py): the minifier removes all of this and more (and
    rewrites a string's quotes, never longer), so its output is shorter still; on the accepted records
    the wrapper of this text is 1,000-1,350 bytes (about 4%) above the minified one. The text need
    not run and is never run. String literals are kept as they
    are, so a multi-line string keeps its lines. Tokenizing a 150 KB script takes a few tenths of a
    second against seconds for the minifier. `nodes`: every node of `tree` (a unit's
    `walk_order`), when already listed.
    """
    import ast
    import io
    import tokenize

    dropped_rows: set[int] = set()
    if literal_statements and tree is not None:
        for node in ast.walk(tree) if nodes is None else nodes:
            for field in ("body", "orelse", "finalbody"):
                body = getattr(node, field, None)
                if not isinstance(body, list) or len(body) < 2:
                    continue  # a lone literal is replaced by something, not removed: keep it
                for i, stmt in enumerate(body):
                    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
                        continue
                    first, last = stmt.lineno, stmt.end_lineno or stmt.lineno
                    before = body[i - 1].end_lineno if i else None
                    after = body[i + 1].lineno if i + 1 < len(body) else None
                    if (before is None or before < first) and (after is None or after > last):
                        dropped_rows.update(range(first, last + 1))  # alone on its lines
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER)
    fstring_start = getattr(tokenize, "FSTRING_START", None)  # Python 3.12+: f-strings are tokens
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    out: list[str] = []
    depth = 0
    in_fstring = 0           # inside an f-string every character between tokens is kept
    line_start = True        # the next token begins a logical line
    last_end: tuple[int, int] | None = None
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            kind = tok.type
            if kind == tokenize.INDENT:
                depth += 1
            elif kind == tokenize.DEDENT:
                depth -= 1
            elif kind == tokenize.NEWLINE:
                if not line_start:
                    out.append("\n")
                line_start, last_end = True, None
            elif kind not in skip and tok.start[0] in dropped_rows:
                if not (kind in (tokenize.STRING, tokenize.NUMBER)
                        or tok.string in ("None", "True", "False", "...", "(", ")")):
                    return None  # not a literal: the tree's lines do not match the text; no bound
            elif kind not in skip:
                row, col = tok.start
                if line_start:
                    out.append(" " * depth)
                    line_start = False
                elif last_end is not None and (last_end[0] == row or in_fstring):
                    # the spaces between, as written (inside an f-string: its text)
                    out.append(source[offsets[last_end[0] - 1] + last_end[1]:offsets[row - 1] + col])
                elif last_end is not None:
                    out.append(" ")  # a continuation line: its break and indentation go
                out.append(tok.string)
                last_end = tok.end
                if kind == fstring_start:
                    in_fstring += 1
                elif kind == fstring_end:
                    in_fstring -= 1
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    return "".join(out)


def rebuild_wrapper_size(recipe: CodeRecipe, source: str) -> tuple[int | None, str | None]:
    """(bytes of the wrapper the recipe builds from `source`, None) or (None, why not)."""
    data = source.encode("utf-8")
    if recipe.minify_options is not None:
        minified = _minified(source, recipe.minify_options)
        if isinstance(minified, str):
            return None, minified
        data = minified
    options = {k: v for k, v in recipe.codec_options.items() if isinstance(v, int) and not isinstance(v, bool)}
    try:
        if recipe.codec == "lzma":
            packed = lzma.compress(data, **{k: v for k, v in options.items() if k == "preset"})
        elif recipe.codec == "zlib":
            packed = zlib.compress(data, options.get("level", -1))
        elif recipe.codec == "brotli":
            import brotli

            packed = brotli.compress(data, **{k: v for k, v in options.items() if k in ("quality", "lgwin", "mode")})
        else:
            import zstandard

            packed = zstandard.ZstdCompressor(level=options.get("level", 3)).compress(data)
    except Exception as exc:  # noqa: BLE001 - an option this codec's binding refuses: say so, count the file
        return None, f"{recipe.codec} refused the script's options ({type(exc).__name__})"
    encoded = _ENCODERS[recipe.encoder](packed)
    return len(recipe.prefix) + len(encoded) + len(recipe.suffix), None
