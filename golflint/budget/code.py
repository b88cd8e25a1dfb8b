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
import lzma
import warnings
import zlib
from dataclasses import asdict, dataclass


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
