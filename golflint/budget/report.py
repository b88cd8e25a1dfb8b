"""The budget document (JSON schema golflint.budget/1, see docs/budget.md) and its text rendering."""

from __future__ import annotations

from typing import Any, Sequence

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..report.safe import visible
from . import QUANT_BITS
from .code import CodeSizes
from .codecs import library_versions
from .tensor_table import ModelBudget

SCHEMA = "golflint.budget/1"


def _fits(total: int | None, cap: int) -> bool | None:
    return None if total is None else total <= cap


VERDICT = {True: "fits", False: "over the cap", None: "unknown"}


def build_document(*, target: str, kind: str, cap: int, code_bytes: int | None,
                   code_files: Sequence[CodeSizes], model: dict[str, Any] | None,
                   analysis: ModelBudget | None, quant: str | None, codecs: Sequence[str],
                   top: int | None) -> dict[str, Any]:
    """The budget. One verdict: the header's total is the first what-if row's whenever the file is not
    an artifact as it stands (an uncompressed state dict), and a model given without code is judged
    on its own bytes, code counted as 0; `assumptions` says so in words."""
    assumptions: list[str] = []
    model_bytes = model["bytes"] if model else None
    if model and analysis is not None and _not_an_artifact(model) and analysis.codecs:
        first = analysis.codecs[0]
        model_bytes = analysis.whole[first]
        assumptions.append(
            f"{model['path']} is an uncompressed {model['format']} file, not an artifact as it stands: the model "
            f"is counted as {first}{f' + {quant}' if quant else ''} of its contents ({model_bytes:,} B), "
            f"the first what-if row")
    counted_code = code_bytes
    if code_bytes is None and model_bytes is not None:
        counted_code = 0
        assumptions.append("no code given: code counted as 0 bytes, so the code must fit in the headroom")
    total = None if counted_code is None or model_bytes is None else counted_code + model_bytes
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "target": target,
        "kind": kind,
        "cap": cap,
        "code": {"bytes": code_bytes, "files": [c.as_json() for c in code_files]},
        "model": model,
        "total": total,
        "headroom": None if total is None else cap - total,
        "fits": _fits(total, cap),
        "verdict": VERDICT[_fits(total, cap)],
        "assumptions": assumptions,
        "quant": quant,
        "codecs": list(codecs),
        "tensors": [],
        "tensors_shown": 0,
        "tensor_totals": None,
        "what_if": [],
        "libraries": library_versions(),
    }
    if analysis is None:
        return doc
    rows = analysis.rows if not top else analysis.rows[:top]
    doc["tensors"] = [r.as_json() for r in rows]
    doc["tensors_shown"] = len(rows)
    doc["tensor_totals"] = analysis.totals()
    for label in analysis.codecs:
        size = analysis.whole[label]
        what_total = None if counted_code is None else counted_code + size
        doc["what_if"].append({
            "codec": label, "quant": quant, "model_bytes": size, "total": what_total,
            "headroom": None if what_total is None else cap - what_total,
            "fits": _fits(what_total, cap),
        })
    return doc


def _not_an_artifact(model: dict[str, Any]) -> bool:
    """A state dict saved without compression (final_model.pt) is what a trainer starts from, not what
    a submission ships; compressed files and raw blobs are taken as the artifact they are."""
    return model.get("codec") is None and model.get("format") in ("torch", "npz", "npy")


def _b(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"


def _verdict(fits: bool | None) -> str:
    return {True: "[green]fits[/]", False: "[bold red]over the cap[/]", None: "[dim]unknown[/]"}[fits]


# The blob format and definitions, at the documentation of this release (a pip install has no docs/).
DOCS_URL = "https://github.com/golflint/golflint/blob/v{version}/docs/budget.md"
# Piped or redirected, tables are laid out for this width (a terminal uses its own).
PIPED_TABLE_WIDTH = 100


def docs_url() -> str:
    from .. import __version__

    return DOCS_URL.format(version=__version__)


def render_text(doc: dict[str, Any], console: Console, table_width: int | None = None) -> None:
    """The budget for people. Tables keep to `table_width` (default: the console's width) by leaving
    out their least important columns, and say which; --format json always has them all."""
    width = table_width or console.width
    console.print(f"[bold]golflint budget[/] {_s(doc['target'])} [dim]({doc['kind']})[/]")
    model = doc["model"]
    code_names = ", ".join(c["path"] for c in doc["code"]["files"]) or "no counted code file"
    code_bytes = doc["code"]["bytes"]
    console.print(f"  code      {_b(code_bytes):>14} B  [dim]{_s(code_names)}[/]")
    if model:
        where = model["source"] or model["path"]
        how = ", ".join(x for x in (model["format"], model["codec"]) if x)
        console.print(f"  model     {_b(model['bytes']):>14} B  [dim]{_s(where)}"
                      f"{f' ({_s(how)})' if how else ''}[/]")
    else:
        console.print("  model                  ? B  [dim]no model file or logged size found[/]")
    console.print(f"  total     {_b(doc['total']):>14} B  of {doc['cap']:,}  headroom "
                  f"{_b(doc['headroom'])} B  {_verdict(doc['fits'])}")
    for note in doc.get("assumptions", []):
        console.print(f"  [yellow]assumed:[/] {_s(note)}")
    _code_table(doc, console, width)
    if doc["tensor_totals"] is not None:
        _tensor_table(doc, console, width)
        _what_if_table(doc, console, width)


def _s(text: Any) -> str:
    """Untrusted text (paths, tensor names from the file) for rich markup: escaped twice over."""
    return escape(visible(text))


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)


def _fitted(title: str, columns: list[tuple[str, list[str], int, str]], rows_extra: list[list[str]],
            width: int, console: Console) -> None:
    """Print a table of `columns` (header, cells, priority, justify): columns of the highest priority
    number go first until the table fits `width`; the first column (names) may fold as a last resort."""
    def natural(i: int) -> int:
        header, cells, _, _ = columns[i]
        texts = [header, *cells, *(extra[i] for extra in rows_extra)]
        return max(len(_plain(t)) for t in texts) + 2   # padded by one space each side

    kept = list(range(len(columns)))
    dropped: list[str] = []
    # The box draws an edge on either side and a separator between columns, one character each.
    while sum(natural(i) for i in kept) + len(kept) + 1 > width:
        candidates = [i for i in kept[1:] if columns[i][2] > 0]
        if not candidates:
            break
        victim = max(candidates, key=lambda i: (columns[i][2], i))
        kept.remove(victim)
        dropped.append(columns[victim][0])
    table = _table(title)
    for n, i in enumerate(kept):
        header, _, _, justify = columns[i]
        if n == 0:
            table.add_column(header, overflow="fold")
        else:
            table.add_column(header, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    n_rows = len(columns[0][1])
    for r in range(n_rows):
        table.add_row(*(columns[i][1][r] for i in kept))
    if rows_extra:
        table.add_section()
        for extra in rows_extra:
            table.add_row(*(extra[i] for i in kept))
    console.print(table, width=width)
    if dropped:
        console.print(f"  [dim]columns left out to fit {width} columns: {', '.join(dropped)} "
                      f"(a wider terminal or --format json has them)[/]")


def _plain(cell: str) -> str:
    from rich.text import Text

    return Text.from_markup(cell).plain


def _code_table(doc: dict[str, Any], console: Console, width: int) -> None:
    files = doc["code"]["files"]
    if not files:
        return
    cols = [("file", [_s(c["path"]) for c in files], 0, "left"),
            ("raw", [_b(c["raw"]) for c in files], 0, "right"),
            ("lzma wrapper", [_b(c["lzma_wrapper"]) for c in files], 2, "right"),
            ("zlib wrapper", [_b(c["zlib_wrapper"]) for c in files], 4, "right"),
            ("minified", [_b(c["minified"]) for c in files], 3, "right"),
            ("minified+lzma", [_b(c["minified_lzma_wrapper"]) for c in files], 1, "right")]
    _fitted("code bytes (exact)", cols, [], width, console)
    for c in files:
        if c["problem"]:
            console.print(f"  [yellow]{_s(c['path'])}[/]: {_s(c['problem'])}")


def _tensor_table(doc: dict[str, Any], console: Console, width: int) -> None:
    quant = doc["quant"]
    what = f"{quant} records" if quant else "bytes as stored"
    rows = doc["tensors"]
    totals = doc["tensor_totals"]
    hidden = totals["count"] - doc["tensors_shown"]
    # Priorities: 0 never left out; higher numbers leave first. The chosen --quant width and the codec
    # columns are the point of the table; the other widths are context.
    cols: list[tuple[str, list[str], int, str]] = [
        ("tensor", [_s(r["name"]) for r in rows], 0, "left"),
        ("shape", ["×".join(map(str, r["shape"])) or "scalar" for r in rows], 3, "left"),
        ("dtype", [r["dtype"] for r in rows], 4, "left"),
        ("raw", [_b(r["raw"]) for r in rows], 2, "right"),
    ]
    extra = ["[bold]total[/]" + (f" [dim]({hidden} not shown)[/]" if hidden else ""),
             f"{totals['count']} tensors", "", _b(totals["raw"])]
    for q in QUANT_BITS:
        cells = [_b(r[q]) if r["quantized"] else f"[dim]{_b(r[q])}[/]" for r in rows]
        cols.append((q, cells, 0 if q == quant else 5 + list(QUANT_BITS).index(q), "right"))
        extra.append(_b(totals[q]))
    for c in doc["codecs"]:
        cols.append((c, [_b(r["compressed"][c]) for r in rows], 0, "right"))
        extra.append(_b(totals["compressed"][c]))
    if not rows:
        return
    _fitted(f"tensors, largest first (codec columns: exact compressed {what}, each tensor alone)",
            cols, [extra], width, console)
    if any(not r["quantized"] for r in rows):
        console.print("  [dim]dim: not floating point, kept as stored at every width[/]")


def _what_if_table(doc: dict[str, Any], console: Console, width: int) -> None:
    quant = doc["quant"]
    what = f"the golflint {quant} blob" if quant else "contents recompressed"
    rows = doc["what_if"]
    cols = [("codec", [w["codec"] + (f" + {quant}" if quant else "") for w in rows], 0, "left"),
            ("model B", [_b(w["model_bytes"]) for w in rows], 0, "right"),
            ("total B", [_b(w["total"]) for w in rows], 0, "right"),
            ("headroom B", [_b(w["headroom"]) for w in rows], 1, "right"),
            ("verdict", [_verdict(w["fits"]) for w in rows], 0, "left")]
    _fitted(f"what-if: whole model = {what}", cols, [], width, console)
    if quant:
        console.print(f"  [dim]blob format: {docs_url()}#what-if[/]")
    libs = ", ".join(f"{k} {v}" for k, v in doc["libraries"].items())
    console.print(f"  [dim]codec libraries: {libs} (zstd bytes can change between libzstd releases)[/]")
