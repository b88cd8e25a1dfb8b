"""The budget document (JSON schema golflint.budget/1, see docs/budget.md) and its text rendering."""

from __future__ import annotations

from typing import Any, Sequence

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import QUANT_BITS
from .code import CodeSizes
from .codecs import library_versions
from .tensor_table import ModelBudget

SCHEMA = "golflint.budget/1"


def _fits(total: int | None, cap: int) -> bool | None:
    return None if total is None else total <= cap


def build_document(*, target: str, kind: str, cap: int, code_bytes: int | None,
                   code_files: Sequence[CodeSizes], model: dict[str, Any] | None,
                   analysis: ModelBudget | None, quant: str | None, codecs: Sequence[str],
                   top: int | None) -> dict[str, Any]:
    model_bytes = model["bytes"] if model else None
    total = None if code_bytes is None or model_bytes is None else code_bytes + model_bytes
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
        what_total = None if code_bytes is None else code_bytes + size
        doc["what_if"].append({
            "codec": label, "quant": quant, "model_bytes": size, "total": what_total,
            "headroom": None if what_total is None else cap - what_total,
            "fits": _fits(what_total, cap),
        })
    return doc


def _b(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"


def _verdict(fits: bool | None) -> str:
    return {True: "[green]fits[/]", False: "[bold red]over the cap[/]", None: "[dim]unknown[/]"}[fits]


def render_text(doc: dict[str, Any], console: Console) -> None:
    console.print(f"[bold]golflint budget[/] {escape(doc['target'])} [dim]({doc['kind']})[/]")
    model = doc["model"]
    code_names = ", ".join(c["path"] for c in doc["code"]["files"]) or "no counted code file"
    console.print(f"  code      {_b(doc['code']['bytes']):>14} B  [dim]{escape(code_names)}[/]")
    if model:
        where = model["source"] or model["path"]
        how = ", ".join(x for x in (model["format"], model["codec"]) if x)
        console.print(f"  model     {_b(model['bytes']):>14} B  [dim]{escape(str(where))}"
                      f"{f' ({how})' if how else ''}[/]")
    else:
        console.print("  model                  ? B  [dim]no model file or logged size found[/]")
    console.print(f"  total     {_b(doc['total']):>14} B  of {doc['cap']:,}  headroom "
                  f"{_b(doc['headroom'])} B  {_verdict(doc['fits'])}")
    _code_table(doc, console)
    if doc["tensor_totals"] is not None:
        _tensor_table(doc, console)
        _what_if_table(doc, console)


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)


def _code_table(doc: dict[str, Any], console: Console) -> None:
    files = doc["code"]["files"]
    if not files:
        return
    table = _table("code bytes (exact)")
    table.add_column("file", overflow="fold")
    for col in ("raw", "lzma wrapper", "zlib wrapper", "minified", "minified+lzma"):
        table.add_column(col, justify="right", no_wrap=True)
    for c in files:
        table.add_row(escape(c["path"]), _b(c["raw"]), _b(c["lzma_wrapper"]), _b(c["zlib_wrapper"]),
                      _b(c["minified"]), _b(c["minified_lzma_wrapper"]))
    console.print(table)
    for c in files:
        if c["problem"]:
            console.print(f"  [yellow]{escape(c['path'])}[/]: {escape(c['problem'])}")


def _tensor_table(doc: dict[str, Any], console: Console) -> None:
    quant = doc["quant"]
    what = f"{quant} records" if quant else "bytes as stored"
    table = _table(f"tensors, largest first (codec columns: exact compressed {what}, each tensor alone)")
    table.add_column("tensor", overflow="fold")
    for col in ("shape", "dtype"):
        table.add_column(col, no_wrap=True)
    for col in ("raw", *QUANT_BITS, *doc["codecs"]):
        table.add_column(col, justify="right", no_wrap=True)
    for r in doc["tensors"]:
        marks = [_b(r[q]) if r["quantized"] else f"[dim]{_b(r[q])}[/]" for q in QUANT_BITS]
        table.add_row(escape(r["name"]), "×".join(map(str, r["shape"])) or "scalar", r["dtype"],
                      _b(r["raw"]), *marks, *(_b(r["compressed"][c]) for c in doc["codecs"]))
    totals = doc["tensor_totals"]
    hidden = totals["count"] - doc["tensors_shown"]
    table.add_section()
    table.add_row("[bold]total[/]" + (f" [dim]({hidden} not shown)[/]" if hidden else ""),
                  f"{totals['count']} tensors", "", _b(totals["raw"]),
                  *(_b(totals[q]) for q in QUANT_BITS), *(_b(totals["compressed"][c]) for c in doc["codecs"]))
    console.print(table)
    if any(not r["quantized"] for r in doc["tensors"]):
        console.print("  [dim]dim: not floating point, kept as stored at every width[/]")


def _what_if_table(doc: dict[str, Any], console: Console) -> None:
    quant = doc["quant"]
    what = (f"the golflint {quant} blob (docs/budget.md)" if quant
            else "the model file's contents recompressed")
    table = _table(f"what-if: whole artifact = {what}")
    for col in ("codec", "model B", "total B", "headroom B", "verdict"):
        table.add_column(col, justify="left" if col in ("codec", "verdict") else "right", no_wrap=True)
    for w in doc["what_if"]:
        table.add_row(w["codec"] + (f" + {quant}" if quant else ""), _b(w["model_bytes"]),
                      _b(w["total"]), _b(w["headroom"]), _verdict(w["fits"]))
    console.print(table)
    libs = ", ".join(f"{k} {v}" for k, v in doc["libraries"].items())
    console.print(f"  [dim]codec libraries: {libs} (zstd bytes can change between libzstd releases)[/]")
