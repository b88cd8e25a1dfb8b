"""Self-extracting ("packed") code, decoded statically: never executed, always bounded.

A packed script runs `exec(lzma.decompress(base64.b85decode("...")))` or a variation of it. Here every
`exec`/`eval`/`compile` call is read as an expression: literals, module-level names bound once,
and a closed set of pure decoders (lzma/xz in every format, zlib, gzip, bz2, base64/85/a85/32/16,
hex, `bytes.decode`/`str.encode`, codecs) are evaluated; anything else makes the payload opaque,
and the reason (computed at run time, read from a file, fetched) is kept for the GL010 finding.

Decompressors are incremental with `max_length`, so a payload that expands to 1 GB is stopped at
`packed.max_decoded_bytes` without ever allocating more; nesting stops at `packed.max_layers`.
A decoded source that is itself packed becomes the next layer.
"""

from __future__ import annotations

import ast
import base64
import binascii
import bz2
import codecs
import lzma
import re
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..bounded import TOO_BIG, TRUNCATED, DecodeProblem, RunBudget, drain, run_budget
from .units import CodeUnit

if TYPE_CHECKING:
    from ..config import Settings
    from ..folder import Folder

DEFAULT_MAX_LAYERS = 8
DEFAULT_MAX_DECODED_BYTES = 64_000_000
DEFAULT_MAX_DECODED_PER_FILE = 64_000_000
DEFAULT_MAX_DECODED_PER_SUBMISSION = 128_000_000
DEFAULT_MAX_SOURCE_BYTES = 2_000_000
# Name lookups through module-level assignments stop here (a = b; b = c; ...).
MAX_NAME_DEPTH = 16

EXECUTORS = {"exec", "eval", "builtins.exec", "builtins.eval"}
COMPILERS = {"compile", "builtins.compile"}

# Problem kinds. OPAQUE kinds: code runs but its text is not in the submission as a literal (GL010).
# BROKEN kinds: the literal payload is there but does not decode to readable source (GL011).
COMPUTED, FILE, NETWORK, BYTECODE = "computed", "file", "network", "bytecode"
CORRUPT, BOMB, BINARY, NOT_UTF8, TOO_DEEP = "corrupt", "bomb", "binary", "not-utf8", "too-deep"
TOO_LARGE = "too-large"    # decodes, but to more source than golflint analyzes
OPAQUE_KINDS = (COMPUTED, FILE, NETWORK, BYTECODE)
BROKEN_KINDS = (CORRUPT, BOMB, BINARY, NOT_UTF8, TOO_DEEP, TOO_LARGE)

FILE_READERS = {"open", "io.open", "pathlib.Path", "builtins.open", "codecs.open"}
NETWORK_CALLS = ("urllib.request.urlopen", "urllib.urlopen", "requests.get", "requests.post",
                 "requests.request", "httpx.get", "http.client.HTTPConnection",
                 "http.client.HTTPSConnection", "urllib.request.Request")
BYTECODE_LOADERS = {"marshal.loads", "pickle.loads", "dill.loads", "cloudpickle.loads"}


class Opaque(Exception):
    """The expression cannot be evaluated without running the program."""

    def __init__(self, kind: str, what: str):
        super().__init__(what)
        self.kind = kind
        self.what = what


class Broken(Exception):
    """A literal payload that does not decode (corrupt, too large, too deep, not text)."""

    def __init__(self, kind: str, what: str):
        super().__init__(what)
        self.kind = kind
        self.what = what


@dataclass
class ExecSite:
    """One exec/eval/compile call in a unit, with what its argument decodes to."""

    line: int
    call: str                                   # "exec", "eval", "compile"
    decoders: list[str] = field(default_factory=list)   # applied first to last: b85decode, decompress
    payload_bytes: int = 0                      # size of the literal(s) the payload came from
    source: str | None = None                   # the decoded source, when it decodes
    problem_kind: str | None = None
    problem: str | None = None                  # a sentence, when it does not
    layer: CodeUnit | None = None


@dataclass
class _Value:
    value: Any
    decoders: list[str] = field(default_factory=list)
    literal_bytes: int = 0


@dataclass(frozen=True)
class Limits:
    max_layers: int = DEFAULT_MAX_LAYERS
    max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES          # one payload
    max_decoded_per_file: int = DEFAULT_MAX_DECODED_PER_FILE     # all payloads of one file, all layers
    max_source_bytes: int = DEFAULT_MAX_SOURCE_BYTES            # one decoded layer that gets parsed

    @classmethod
    def from_settings(cls, settings: "Settings | None") -> "Limits":
        if settings is None:
            return cls()
        return cls(int(settings.get("packed.max_layers", DEFAULT_MAX_LAYERS)),
                   int(settings.get("packed.max_decoded_bytes", DEFAULT_MAX_DECODED_BYTES)),
                   int(settings.get("packed.max_decoded_bytes_per_file", DEFAULT_MAX_DECODED_PER_FILE)),
                   int(settings.get("analysis.max_source_bytes", DEFAULT_MAX_SOURCE_BYTES)))


class _Limit(int):
    """A byte bound that remembers the setting it comes from, for the finding's message."""

    setting: str = "packed.max_decoded_bytes"

    @classmethod
    def of(cls, value: int, setting: str) -> "_Limit":
        out = cls(max(0, value))
        out.setting = setting
        return out


class DecodeBudget:
    """Decoded bytes one file (all its payloads and layers) may still produce, drawn also from the
    submission's run budget (bounded.RunBudget), so a bound holds per payload, file and run."""

    def __init__(self, limits: Limits, run: RunBudget | None = None):
        self.limits = limits
        self.file_left = limits.max_decoded_per_file
        self.run = run

    def limit(self) -> _Limit:
        options = [(self.limits.max_decoded_bytes, "packed.max_decoded_bytes"),
                   (self.file_left, "packed.max_decoded_bytes_per_file")]
        if self.run is not None:
            options.append((self.run.decoded_left, "packed.max_decoded_bytes_per_submission"))
        value, setting = min(options, key=lambda o: o[0])
        return _Limit.of(value, setting)

    def charge(self, value: Any) -> None:
        self.spend(len(value) if isinstance(value, (bytes, bytearray, str)) else 0)

    def spend(self, n: int) -> None:
        self.file_left -= n
        if self.run is not None:
            self.run.decoded_left -= n


# -- bounded decompression ------------------------------------------------------------------------
def _drain(make: Callable[[], Any], data: bytes, limit: int, codec: str, multi_stream: bool) -> bytes:
    """Bounded decompression (golflint/bounded.py), with problems as packed-code findings."""
    try:
        return drain(make, data, limit, multi_stream=multi_stream, zlib_style=codec == "zlib")
    except DecodeProblem as problem:
        if problem.kind == TOO_BIG:
            setting = getattr(limit, "setting", "packed.max_decoded_bytes")
            what = "bytes" if setting == "packed.max_decoded_bytes" else "bytes, what is left of " + (
                "this file's" if setting.endswith("per_file") else "this submission's") + " decoding budget"
            if limit == 0:
                raise Broken(BOMB, f"the {codec} payload was not decoded: {what[len('bytes, what is left of '):]} "
                                   f"({setting}) is spent") from None
            raise Broken(BOMB, f"the {codec} payload expands beyond {limit:,} {what} "
                               f"({setting}); decoding stopped there") from None
        if problem.kind == TRUNCATED:
            raise Broken(CORRUPT, f"the {codec} payload is truncated (the stream ends early)") from None
        raise Broken(CORRUPT, f"the {codec} payload is corrupt ({problem.detail})") from None


# Methods of str/bytes values a packed payload is commonly cleaned with before decoding.
STRING_METHODS = frozenset({"replace", "strip", "lstrip", "rstrip", "join"})


def _lzma(data: bytes, limit: int, fmt: int = lzma.FORMAT_AUTO, filters: Any = None) -> bytes:
    try:
        make = (lambda: lzma.LZMADecompressor(format=fmt, filters=filters)) if fmt == lzma.FORMAT_RAW \
            else (lambda: lzma.LZMADecompressor(format=fmt))
        make()
    except (lzma.LZMAError, ValueError, TypeError) as exc:
        raise Broken(CORRUPT, f"the lzma format/filters are invalid ({exc})") from None
    return _drain(make, data, limit, "lzma", multi_stream=fmt != lzma.FORMAT_RAW)


def _zlib(data: bytes, limit: int, wbits: int = zlib.MAX_WBITS) -> bytes:
    try:
        zlib.decompressobj(wbits)
    except (ValueError, TypeError) as exc:
        raise Broken(CORRUPT, f"invalid zlib wbits {wbits!r} ({exc})") from None
    return _drain(lambda: zlib.decompressobj(wbits), data, limit, "zlib", multi_stream=wbits >= 16)


def _bz2(data: bytes, limit: int) -> bytes:
    return _drain(bz2.BZ2Decompressor, data, limit, "bz2", multi_stream=True)


# -- the evaluator --------------------------------------------------------------------------------
def _as_bytes(v: Any, what: str) -> bytes:
    if isinstance(v, (bytes, bytearray)):
        return bytes(v)
    if isinstance(v, str):
        try:
            return v.encode("ascii")
        except UnicodeEncodeError:
            raise Broken(CORRUPT, f"{what} got non-ASCII text") from None
    raise Opaque(COMPUTED, f"{what} of a non-bytes value")


class _Evaluator:
    def __init__(self, unit: CodeUnit, limits: Limits, budget: DecodeBudget | None = None):
        self.unit = unit
        self.limits = limits
        self.budget = budget or DecodeBudget(limits)
        self._bindings: dict[str, list[ast.expr]] | None = None

    # Names bound exactly once by a plain assignment anywhere in the unit (a payload variable).
    @property
    def bindings(self) -> dict[str, list[ast.expr]]:
        if self._bindings is None:
            out: dict[str, list[ast.expr]] = {}
            for node in self.unit.nodes(ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                value = node.value
                for t in targets:
                    if isinstance(t, ast.Name):
                        # an augmented or annotated-without-value binding makes the name ambiguous
                        ok = value is not None and not isinstance(node, ast.AugAssign)
                        out.setdefault(t.id, []).append(value if ok else None)
                    elif isinstance(t, (ast.Tuple, ast.List)):
                        for elt in t.elts:
                            if isinstance(elt, ast.Name):
                                out.setdefault(elt.id, []).append(None)
            self._bindings = out
        return self._bindings

    def qualname(self, func: ast.AST) -> str | None:
        # __import__("lzma").decompress
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) \
                and isinstance(func.value.func, ast.Name) and func.value.func.id == "__import__" \
                and func.value.args and isinstance(func.value.args[0], ast.Constant) \
                and isinstance(func.value.args[0].value, str):
            return f"{func.value.args[0].value}.{func.attr}"
        return self.unit.imports.qualname(func)

    def eval(self, node: ast.AST, depth: int = 0) -> _Value:
        if depth > MAX_NAME_DEPTH:
            raise Opaque(COMPUTED, "a chain of names too long to follow")
        if isinstance(node, ast.Constant):
            v = node.value
            size = len(v) if isinstance(v, (str, bytes)) else 0
            return _Value(v, literal_bytes=size)
        if isinstance(node, ast.Name):
            bound = self.bindings.get(node.id, [])
            if len(bound) == 1 and bound[0] is not None:
                return self.eval(bound[0], depth + 1)
            raise Opaque(COMPUTED, f"`{node.id}`, a value computed at run time")
        if isinstance(node, ast.JoinedStr):
            raise Opaque(COMPUTED, "an f-string built at run time")
        if isinstance(node, ast.BinOp):
            left, right = self.eval(node.left, depth + 1), self.eval(node.right, depth + 1)
            return _Value(self._binop(node.op, left.value, right.value), left.decoders + right.decoders,
                          left.literal_bytes + right.literal_bytes)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            v = self.eval(node.operand, depth + 1)
            if isinstance(v.value, int):
                return _Value(-v.value)
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.eval(e, depth + 1) for e in node.elts]
            return _Value([i.value for i in items], literal_bytes=sum(i.literal_bytes for i in items))
        if isinstance(node, ast.Dict) and None not in node.keys:
            keys = [self.eval(k, depth + 1).value for k in node.keys]  # type: ignore[arg-type]
            vals = [self.eval(v, depth + 1).value for v in node.values]
            return _Value(dict(zip(keys, vals)))
        if isinstance(node, ast.Attribute):
            qn = self.qualname(node)
            if qn:
                mod, _, attr = qn.rpartition(".")
                if mod in ("lzma", "zlib") and attr.isupper() and isinstance(getattr(
                        {"lzma": lzma, "zlib": zlib}[mod], attr, None), int):
                    return _Value(getattr({"lzma": lzma, "zlib": zlib}[mod], attr))
            self._opaque_source(node)
            raise Opaque(COMPUTED, f"`{ast.unparse(node)[:60]}`, a value computed at run time")
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise Opaque(COMPUTED, f"`{ast.unparse(node)[:60]}`, a value computed at run time")

    @staticmethod
    def _binop(op: ast.operator, a: Any, b: Any) -> Any:
        if isinstance(op, ast.Add) and type(a) is type(b) and isinstance(a, (str, bytes)):
            return a + b
        if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool):
            if isinstance(op, ast.BitOr):
                return a | b
            if isinstance(op, ast.Add):
                return a + b
            if isinstance(op, ast.Sub):
                return a - b
        raise Opaque(COMPUTED, "an expression computed at run time")

    def _args(self, call: ast.Call, names: tuple[str, ...], depth: int) -> tuple[_Value, dict[str, Any]]:
        if not call.args or isinstance(call.args[0], ast.Starred):
            raise Opaque(COMPUTED, "a call with no literal argument")
        first = self.eval(call.args[0], depth + 1)
        extra: dict[str, Any] = {}
        for name, arg in zip(names, call.args[1:]):
            extra[name] = self.eval(arg, depth + 1).value
        for kw in call.keywords:
            if kw.arg is None:
                raise Opaque(COMPUTED, "keyword arguments unpacked at run time")
            extra[kw.arg] = self.eval(kw.value, depth + 1).value
        return first, extra

    def call(self, call: ast.Call, depth: int) -> _Value:
        try:
            return self._call(call, depth)
        except Broken as exc:
            # The decoder ran up to the bound before stopping: that was spent (once, not again by
            # each enclosing call the exception passes through).
            if exc.kind == BOMB and not getattr(exc, "spent", False):
                self.budget.spend(int(self.budget.limit()))
                exc.spent = True  # type: ignore[attr-defined]
            raise

    def _call(self, call: ast.Call, depth: int) -> _Value:
        limit = self.budget.limit()
        func = call.func
        qn = self.qualname(func) or ""
        # methods on a decoded value: .decode(), .encode(), .read() of a file or response
        if isinstance(func, ast.Attribute) and func.attr in ("decode", "encode") and not qn.startswith(
                ("base64.", "codecs.", "binascii.")) and qn not in DECODERS:
            inner = self.eval(func.value, depth + 1)
            enc = "utf-8"
            if call.args:
                enc = self.eval(call.args[0], depth + 1).value
            for kw in call.keywords:
                if kw.arg == "encoding":
                    enc = self.eval(kw.value, depth + 1).value
            return self._charged(self._text_codec(func.attr, inner, enc, limit))
        if isinstance(func, ast.Attribute) and func.attr in STRING_METHODS and not call.keywords:
            # `blob.replace(b"\n", b"")`, `"".join([...])`: simple operations on literals
            inner = self.eval(func.value, depth + 1)
            args = [self.eval(a, depth + 1) for a in call.args]
            v = inner.value
            if isinstance(v, (str, bytes)) and (
                    all(type(a.value) is type(v) for a in args) if func.attr != "join"
                    else len(args) == 1 and isinstance(args[0].value, list)
                    and all(type(x) is type(v) for x in args[0].value)):
                if func.attr == "join" and len(v) * len(args[0].value) + sum(map(len, args[0].value)) > limit \
                        or func.attr == "replace" and len(args) >= 2 \
                        and (len(v) // max(1, len(args[0].value)) + 1) * len(args[1].value) + len(v) > limit:
                    raise Broken(CORRUPT, f"`.{func.attr}()` would build more than {limit:,} bytes")
                out = getattr(v, func.attr)(*(a.value for a in args))
                return self._charged(_Value(out, inner.decoders + [a for x in args for a in x.decoders],
                                            inner.literal_bytes + sum(a.literal_bytes for a in args)))
        if isinstance(func, ast.Attribute) and func.attr in ("read", "read_text", "read_bytes", "text",
                                                              "content", "getvalue", "readlines"):
            self._opaque_source(func.value)
        if isinstance(func, ast.Attribute) and func.attr == "decompress" and isinstance(func.value, ast.Call):
            maker = self.qualname(func.value.func)
            if maker in STREAM_DECODERS:
                ctor = func.value
                fn, names = STREAM_DECODERS[maker]
                options = {n: self.eval(a, depth + 1).value for n, a in zip(names, ctor.args)}
                options.update({kw.arg: self.eval(kw.value, depth + 1).value for kw in ctor.keywords
                                if kw.arg in names})
                data = self.eval(call.args[0], depth + 1) if call.args else None
                if data is None:
                    raise Opaque(COMPUTED, "a call with no literal argument")
                try:
                    value = fn(data.value, limit, **options)
                except (ValueError, TypeError) as exc:
                    raise Broken(CORRUPT, f"`{maker}` fails on the payload ({exc})") from None
                self.budget.charge(value)
                return _Value(value, data.decoders + [f"{maker}().decompress"], data.literal_bytes)
        if qn in COMPILERS:
            src, _ = self._args(call, (), depth)
            return src
        if qn in DECODERS:
            first, extra = self._args(call, DECODERS[qn][1], depth)
            try:
                value = DECODERS[qn][0](first.value, limit, **extra)
            except (Broken, Opaque):
                raise
            except (binascii.Error, ValueError, TypeError, LookupError, UnicodeError) as exc:
                raise Broken(CORRUPT, f"`{qn}` fails on the payload ({exc})") from None
            self.budget.charge(value)
            return _Value(value, first.decoders + [qn], first.literal_bytes)
        if qn in BYTECODE_LOADERS:
            raise Opaque(BYTECODE, f"`{qn}` turns the payload into a code object or pickle, which has "
                                   "no source to read")
        if qn in ("str", "bytes", "bytearray") and len(call.args) >= 2:
            inner = self.eval(call.args[0], depth + 1)
            enc = self.eval(call.args[1], depth + 1).value
            return self._charged(self._text_codec("decode" if qn == "str" else "encode", inner, enc, limit))
        if qn in ("bytes", "bytearray", "str") and len(call.args) == 1:
            inner = self.eval(call.args[0], depth + 1)
            if (qn == "str") == isinstance(inner.value, str):
                return inner
        self._opaque_source(call)
        raise Opaque(COMPUTED, f"the result of `{(qn or ast.unparse(func))[:60]}(...)`, computed at run time")

    def _charged(self, value: _Value) -> _Value:
        self.budget.charge(value.value)
        return value

    def _opaque_source(self, node: ast.AST) -> None:
        """Raise the specific reason when `node` reads a file or the network."""
        for sub in ast.walk(node):
            if not isinstance(sub, ast.Call):
                continue
            qn = self.qualname(sub.func) or ""
            if qn in FILE_READERS or qn.endswith(("Path.read_text", "Path.read_bytes")):
                target = ""
                if sub.args and isinstance(sub.args[0], ast.Constant) and isinstance(sub.args[0].value, str):
                    target = f" `{sub.args[0].value}`"
                raise Opaque(FILE, f"the contents of the file{target}, read at run time")
            if qn.startswith(NETWORK_CALLS) or qn.split(".")[0] in ("requests", "httpx", "urllib3"):
                raise Opaque(NETWORK, f"data fetched over the network (`{qn}`)")

    @staticmethod
    def _text_codec(method: str, inner: _Value, enc: Any, limit: int) -> _Value:
        """`bytes.decode(enc)`, `str(b, enc)`, `str.encode(enc)`, `bytes(s, enc)`: like Python, these
        take text encodings only (`b.decode("zlib_codec")` fails when the script runs)."""
        v = inner.value
        name, kind = resolve_codec(enc)
        if kind != TEXT_CODEC:
            raise Broken(CORRUPT, f"`.{method}({enc!r})` fails when the script runs: {name} is not a "
                                  "text encoding (only codecs.decode takes it)")
        if method == "encode" and isinstance(v, str) and len(v) * MAX_TEXT_EXPANSION > limit:
            raise Broken(BOMB, f"`.encode({enc!r})` of {len(v):,} characters may exceed {limit:,} bytes "
                               f"({getattr(limit, 'setting', 'packed.max_decoded_bytes')}); not decoded")
        try:
            if method == "decode" and isinstance(v, (bytes, bytearray)):
                out: Any = codecs.decode(bytes(v), name)
            elif method == "encode" and isinstance(v, str):
                out = codecs.encode(v, name)
            else:
                raise Opaque(COMPUTED, f"`.{method}()` of a value computed at run time")
        except UnicodeDecodeError as exc:
            raise Broken(NOT_UTF8, f"the decoded payload is not {enc} text (invalid byte at offset "
                                   f"{exc.start})") from None
        except (LookupError, ValueError, TypeError) as exc:
            raise Broken(CORRUPT, f"`.{method}({enc!r})` fails on the payload ({exc})") from None
        return _Value(out, inner.decoders + [f".{method}"], inner.literal_bytes)


def _lzma_call(data: Any, limit: int, format: int = lzma.FORMAT_AUTO, memlimit: Any = None,
               filters: Any = None) -> bytes:
    return _lzma(_as_bytes(data, "lzma.decompress"), limit, format, filters)


def _zlib_call(data: Any, limit: int, wbits: int = zlib.MAX_WBITS, bufsize: Any = None) -> bytes:
    return _zlib(_as_bytes(data, "zlib.decompress"), limit, wbits)


def _gzip_call(data: Any, limit: int) -> bytes:
    return _zlib(_as_bytes(data, "gzip.decompress"), limit, 16 + zlib.MAX_WBITS)


def _bz2_call(data: Any, limit: int) -> bytes:
    return _bz2(_as_bytes(data, "bz2.decompress"), limit)


def _plain(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A decoder whose output is never larger than its input (base64 and friends)."""
    return lambda data, limit, **kw: fn(data, **kw)


# -- codecs: one allow-list ----------------------------------------------------------------------
# Every codec name a payload uses (`codecs.decode(x, "zlib_codec")`, `b.decode("utf-16")`,
# `str(b, "latin-1")`) is resolved here. Text encodings turn each byte into at most one character
# (and each character into at most MAX_TEXT_EXPANSION bytes), so they are bounded by their input.
# The stdlib's bytes-to-bytes codecs are decoded by the bounded functions listed; rot-13 maps
# text to text of the same length. Any other codec is not decoded at all.
TEXT_CODEC, BINARY_CODEC, SAME_SIZE_CODEC = "text", "binary", "same-size"
MAX_TEXT_EXPANSION = 10     # str.encode("unicode_escape") writes up to 10 bytes per character


def _uu(data: bytes, limit: int) -> bytes:
    return codecs.decode(data, "uu_codec")           # output is smaller than its input


def _quopri(data: bytes, limit: int) -> bytes:
    return codecs.decode(data, "quopri_codec")       # output is never larger than its input


# Keyed by the canonical names codecs.lookup gives ("zlib_codec" and "zlib" are both "zlib").
BINARY_CODECS: dict[str, Callable[[bytes, int], bytes]] = {
    "zlib": lambda data, limit: _zlib(data, limit),
    "bz2": lambda data, limit: _bz2(data, limit),
    "base64": lambda data, limit: base64.decodebytes(data),
    "hex": lambda data, limit: binascii.a2b_hex(data),
    "uu": _uu,
    "quopri": _quopri,
}
SAME_SIZE_CODECS = ("rot-13",)


def resolve_codec(encoding: Any) -> tuple[str, str]:
    """(canonical name, kind) of a codec a payload names, or raise Opaque/Broken."""
    if not isinstance(encoding, str):
        raise Opaque(COMPUTED, "a codec chosen at run time")
    try:
        info = codecs.lookup(encoding)
    except (LookupError, ValueError, TypeError):
        raise Broken(CORRUPT, f"the codec {encoding[:40]!r} does not exist") from None
    if info.name in BINARY_CODECS:
        return info.name, BINARY_CODEC
    if info.name in SAME_SIZE_CODECS:
        return info.name, SAME_SIZE_CODEC
    if getattr(info, "_is_text_encoding", True):
        return info.name, TEXT_CODEC
    raise Opaque(COMPUTED, f"data decoded with the codec {info.name!r}, which golflint does not decode")


def _codecs_decode(data: Any, limit: int, encoding: str = "utf-8", errors: str = "strict") -> Any:
    name, kind = resolve_codec(encoding)
    if kind == BINARY_CODEC:
        return BINARY_CODECS[name](_as_bytes(data, "codecs.decode"), limit)
    if kind == SAME_SIZE_CODEC and not isinstance(data, str):
        raise Broken(CORRUPT, f"`codecs.decode(..., {encoding!r})` fails on bytes (it takes text)")
    if kind == TEXT_CODEC and not isinstance(data, (bytes, bytearray)):
        raise Broken(CORRUPT, f"`codecs.decode(..., {encoding!r})` fails on text (it takes bytes)")
    return codecs.decode(data, name, errors)


DECODERS: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "lzma.decompress": (_lzma_call, ("format", "memlimit", "filters")),
    "zlib.decompress": (_zlib_call, ("wbits", "bufsize")),
    "gzip.decompress": (_gzip_call, ()),
    "bz2.decompress": (_bz2_call, ()),
    "base64.b85decode": (_plain(base64.b85decode), ()),
    "base64.b64decode": (_plain(base64.b64decode), ("altchars", "validate")),
    "base64.standard_b64decode": (_plain(base64.standard_b64decode), ()),
    "base64.urlsafe_b64decode": (_plain(base64.urlsafe_b64decode), ()),
    "base64.decodebytes": (_plain(lambda s: base64.decodebytes(_as_bytes(s, "base64.decodebytes"))), ()),
    "base64.a85decode": (_plain(base64.a85decode), ("foldspaces", "adobe", "ignorechars")),
    "base64.b32decode": (_plain(base64.b32decode), ("casefold", "map01")),
    "base64.b16decode": (_plain(base64.b16decode), ("casefold",)),
    "binascii.a2b_base64": (_plain(binascii.a2b_base64), ()),
    "binascii.a2b_hex": (_plain(binascii.a2b_hex), ()),
    "binascii.unhexlify": (_plain(binascii.unhexlify), ()),
    "bytes.fromhex": (_plain(bytes.fromhex), ()),
    "bytearray.fromhex": (_plain(bytes.fromhex), ()),
    "codecs.decode": (_codecs_decode, ("encoding", "errors")),
}
if hasattr(base64, "b32hexdecode"):
    DECODERS["base64.b32hexdecode"] = (_plain(base64.b32hexdecode), ("casefold",))
# `lzma.LZMADecompressor(format, memlimit, filters).decompress(data)` and friends: the
# constructor's arguments configure the decoder.
STREAM_DECODERS: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "lzma.LZMADecompressor": (_lzma_call, ("format", "memlimit", "filters")),
    "zlib.decompressobj": (_zlib_call, ("wbits",)),
    "bz2.BZ2Decompressor": (_bz2_call, ()),
}

_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def _to_source(value: Any) -> str:
    if isinstance(value, str):
        if "\x00" in value:
            raise Broken(BINARY, "the decoded payload is binary (it holds NUL bytes), not source code")
        return value
    if not isinstance(value, (bytes, bytearray)):
        raise Opaque(COMPUTED, "a value that is not source text")
    data = bytes(value)
    if b"\x00" in data:
        raise Broken(BINARY, "the decoded payload is binary (it holds NUL bytes), not source code")
    encoding = "utf-8"
    for line in data.split(b"\n", 2)[:2]:  # PEP 263: exec(bytes) honours a coding cookie
        m = _CODING.match(line)
        if m:
            encoding = m.group(1).decode("ascii")
            break
    try:
        return data.decode(encoding)
    except LookupError:
        raise Broken(NOT_UTF8, f"the decoded payload declares an unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as exc:
        raise Broken(NOT_UTF8, f"the decoded payload is not {encoding} text (invalid byte at offset "
                               f"{exc.start})") from None


# -- scanning units -------------------------------------------------------------------------------
# A unit's scanned sites live on the unit (CodeUnit.exec_sites): a module-level weak cache kept
# every packed folder alive, since a site refers to its decoded layer and the layer to its parent.


def _executed_argument(unit: CodeUnit, call: ast.Call) -> tuple[str, ast.expr] | None:
    qn = unit.imports.qualname(call.func) if not isinstance(call.func, ast.Name) \
        else unit.imports.aliases.get(call.func.id, call.func.id)
    if qn not in EXECUTORS or not call.args or isinstance(call.args[0], ast.Starred):
        return None
    return qn.rsplit(".", 1)[-1], call.args[0]


def scan(unit: CodeUnit, limits: Limits | None = None, budget: DecodeBudget | None = None
         ) -> list[ExecSite]:
    """The exec/eval sites of one Python unit, each decoded or explained (cached per unit)."""
    if unit.exec_sites is not None:
        return unit.exec_sites
    limits = limits or Limits()
    sites: list[ExecSite] = []
    if unit.tree is not None and ("exec" in unit.source or "eval" in unit.source):
        ev = _Evaluator(unit, limits, budget)
        for call in unit.calls_named(EXECUTORS):
            found = _executed_argument(unit, call)  # type: ignore[arg-type]
            if found is None:
                continue
            name, arg = found
            site = ExecSite(line=call.lineno, call=name)
            try:
                value = ev.eval(arg)
                site.decoders = value.decoders
                site.payload_bytes = value.literal_bytes
                source = _to_source(value.value)
                if len(source) > limits.max_source_bytes:
                    raise Broken(TOO_LARGE, f"it decodes to {len(source):,} characters of source; golflint "
                                            f"analyzes at most {limits.max_source_bytes:,} per layer "
                                            "(analysis.max_source_bytes)")
                site.source = source
            except (Opaque, Broken) as exc:
                site.problem_kind, site.problem = exc.kind, exc.what
            if _worth_keeping(site, arg):
                sites.append(site)
    unit.exec_sites = sites
    return sites


def _worth_keeping(site: ExecSite, arg: ast.expr) -> bool:
    """eval() of a setting (`eval(os.environ["LR"])`) or of a short literal expression is config
    parsing, not hidden code: eval counts only when a decoder, a file or the network is involved."""
    if site.call == "exec":
        return True
    if site.decoders:
        return True
    return site.problem_kind in (FILE, NETWORK, BYTECODE, *BROKEN_KINDS)


def _label(root: str, layer: int, line: int, siblings: int) -> str:
    if siblings <= 1:
        return f"{root} (decoded, layer {layer})"
    return f"{root} (decoded, layer {layer}, exec at line {line})"


def _expand(unit: CodeUnit, limits: Limits, out: list[CodeUnit], budget: DecodeBudget) -> None:
    sites = [s for s in scan(unit, limits, budget) if s.source is not None]
    for site in sites:
        if site.layer is not None:
            out.append(site.layer)
            _expand(site.layer, limits, out, budget)
            continue
        depth = unit.layer + 1
        if depth > limits.max_layers:
            site.problem_kind, site.problem = TOO_DEEP, (
                f"the payload nests more than {limits.max_layers} layers (packed.max_layers); "
                "decoding stopped there")
            site.source = None
            continue
        if budget.run is not None:
            refused = budget.run.admit_source(len(site.source or ""))
            if refused:
                site.problem_kind, site.problem, site.source = TOO_LARGE, refused, None
                continue
        chain = ", ".join(d.rsplit(".", 1)[-1] for d in site.decoders) or "a string literal"
        layer = CodeUnit.parse_python(
            unit.path, site.source or "", label=_label(unit.root_path, depth, site.line, len(sites)),
            layer=depth, parent=unit, counted=False,
            reason=f"decoded from {unit.label} line {site.line} ({site.call} of {chain})")
        site.layer = layer
        out.append(layer)
        _expand(layer, limits, out, budget)


def expand(sub: "Folder", unit: CodeUnit) -> list[CodeUnit]:
    """The decoded layers of `unit`, outermost first (empty when it is not packed)."""
    if not unit.is_python or unit.tree is None:
        return []
    out: list[CodeUnit] = []
    limits = Limits.from_settings(sub.settings)
    _expand(unit, limits, out, DecodeBudget(limits, run_budget(sub)))
    return out


def decode_file(source: str, path: str = "train_gpt.py", limits: Limits | None = None
                ) -> tuple[list[CodeUnit], list[tuple[CodeUnit, ExecSite]]]:
    """Decode a standalone script (for `golflint unpack`): its layers, and every site with a problem."""
    unit = CodeUnit.parse_python(path, source)
    limits = limits or Limits()
    layers: list[CodeUnit] = []
    if unit.tree is not None:
        _expand(unit, limits, layers, DecodeBudget(limits))
    problems = [(u, s) for u in (unit, *layers) for s in sites_of(u) if s.problem]
    return layers, problems


def sites_of(unit: CodeUnit) -> list[ExecSite]:
    """The scanned sites of a unit (after `expand`); empty for units never scanned."""
    return unit.exec_sites or []


@dataclass(frozen=True)
class PackedSizes:
    stored: int | None                 # bytes of the file on disk: what counts
    decoded: tuple[int, ...]           # UTF-8 bytes of each decoded layer, outermost first


def sizes(sub: "Folder", code_units: list[CodeUnit]) -> dict[str, PackedSizes]:
    """Stored and decoded sizes of every self-extracting file (for byte accounting)."""
    layers: dict[str, list[CodeUnit]] = {}
    for unit in code_units:
        if unit.is_python and unit.layer > 0:
            layers.setdefault(unit.root_path, []).append(unit)
    return {root: PackedSizes(sub.size(root), tuple(len(u.source.encode("utf-8"))
                                                    for u in sorted(units, key=lambda u: u.layer)))
            for root, units in layers.items()}
