"""Code fingerprints for lineage: per-function normalized tokens, shingles and MinHash signatures.

Identifiers become one placeholder, strings and numbers one placeholder each, so a function copied
and renamed (or re-tuned) still matches; keywords, operators and the indentation structure stay.
Shingles are runs of SHINGLE consecutive tokens, hashed stably (not with Python's salted hash()),
and a MinHash signature of PERMUTATIONS values estimates the Jaccard similarity of two shingle sets:
the fraction of equal positions. Signatures are stored as base64 of little-endian uint32 values so
shard documents stay small and are merged without re-reading any code.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import keyword
import token
import tokenize
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

SHINGLE = 5
PERMUTATIONS = 128
_PRIME = np.uint64((1 << 61) - 1)
_rng = np.random.default_rng(20260317)  # fixed: signatures must agree across runs and machines
_A = _rng.integers(1, 1 << 32, size=PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, 1 << 32, size=PERMUTATIONS, dtype=np.uint64)
_SKIP = {token.NL, token.COMMENT, token.ENCODING, token.ENDMARKER, token.TYPE_COMMENT}


@dataclass
class FunctionPrint:
    name: str            # qualified within its unit: "eval_val", "GPT.forward"
    unit: str            # the code unit's label ("train_gpt.py (decoded, layer 1)")
    start: int           # first and last line in that unit
    end: int
    tokens: int          # normalized tokens
    digest: str          # hash of the normalized token stream: equal digests = identical code
    signature: str       # base64 MinHash signature

    def to_json(self) -> dict:
        return {"name": self.name, "unit": self.unit, "start": self.start, "end": self.end,
                "tokens": self.tokens, "digest": self.digest, "signature": self.signature}

    @classmethod
    def from_json(cls, data: dict) -> FunctionPrint:
        return cls(**{k: data[k] for k in ("name", "unit", "start", "end", "tokens", "digest",
                                           "signature")})


def _normalize(tok: tokenize.TokenInfo) -> str | None:
    if tok.type in _SKIP:
        return None
    if tok.type == token.NAME:
        return tok.string if keyword.iskeyword(tok.string) else "$"
    if tok.type == token.STRING or tok.type in _FSTRING_TYPES:
        return "S"
    if tok.type == token.NUMBER:
        return "N"
    if tok.type == token.INDENT:
        return "{"
    if tok.type == token.DEDENT:
        return "}"
    if tok.type == token.NEWLINE:
        return ";"
    return tok.string


_FSTRING_TYPES = {getattr(token, n) for n in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")
                  if hasattr(token, n)}


def normalized_tokens(source: str) -> list[tuple[int, str]]:
    """(line, normalized token) for the whole source; [] when it does not tokenize."""
    out: list[tuple[int, str]] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            norm = _normalize(tok)
            if norm is not None:
                out.append((tok.start[0], norm))
    except (tokenize.TokenError, IndentationError, SyntaxError, ValueError, RecursionError):
        return []
    return out


def _token_ids(tokens: Iterable[str]) -> np.ndarray:
    return np.fromiter((zlib.crc32(t.encode()) for t in tokens), dtype=np.uint64)


def shingles(tokens: list[str]) -> np.ndarray:
    """Distinct 32-bit hashes of every run of SHINGLE consecutive tokens."""
    if len(tokens) < SHINGLE:
        return np.zeros(0, dtype=np.uint64)
    ids = _token_ids(tokens)
    h = np.zeros(len(ids) - SHINGLE + 1, dtype=np.uint64)
    for j in range(SHINGLE):  # a polynomial rolling hash, wrapping modulo 2**64
        h = h * np.uint64(1_000_003) + ids[j: len(ids) - SHINGLE + 1 + j]
    return np.unique((h ^ (h >> np.uint64(32))) & np.uint64(0xFFFFFFFF))


def minhash(shingle_set: np.ndarray) -> np.ndarray:
    if shingle_set.size == 0:
        return np.full(PERMUTATIONS, 0xFFFFFFFF, dtype=np.uint32)
    out = np.empty(PERMUTATIONS, dtype=np.uint64)
    for start in range(0, shingle_set.size, 4096):  # bounded memory on very long code
        block = shingle_set[start: start + 4096]
        values = (np.outer(_A, block) + _B[:, None]) % _PRIME
        low = values.min(axis=1)
        out = low if start == 0 else np.minimum(out, low)
    return (out & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def encode(signature: np.ndarray) -> str:
    return base64.b64encode(signature.astype("<u4").tobytes()).decode("ascii")


def decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<u4")


def _functions(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    """Top-level functions and the methods of top-level classes (nested defs belong to their parent)."""
    out: list[tuple[str, ast.AST]] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.append((node.name, node))
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    out.append((f"{node.name}.{item.name}", item))
    return out


def unit_prints(label: str, source: str, tree: ast.Module | None,
                min_tokens: int) -> tuple[list[FunctionPrint], np.ndarray]:
    """The unit's function prints (functions of at least min_tokens tokens) and all its shingles."""
    tokens = normalized_tokens(source)
    if not tokens:
        return [], np.zeros(0, dtype=np.uint64)
    everything = shingles([t for _, t in tokens])
    prints: list[FunctionPrint] = []
    if tree is None:
        return prints, everything
    lines = np.fromiter((line for line, _ in tokens), dtype=np.int64)
    for name, node in _functions(tree):
        start = getattr(node, "lineno", 0)
        end = getattr(node, "end_lineno", None) or start
        lo, hi = np.searchsorted(lines, start, "left"), np.searchsorted(lines, end, "right")
        body = [t for _, t in tokens[lo:hi]]
        if len(body) < max(min_tokens, SHINGLE):
            continue
        digest = hashlib.sha1("\x1f".join(body).encode()).hexdigest()[:16]
        prints.append(FunctionPrint(name, label, start, end, len(body), digest,
                                    encode(minhash(shingles(body)))))
    return prints, everything


def similarity(a: FunctionPrint, b: FunctionPrint) -> float:
    if a.digest == b.digest:
        return 1.0
    return float(np.mean(decode(a.signature) == decode(b.signature)))
