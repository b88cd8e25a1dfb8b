"""Rich text for people: findings grouped by submission, then a summary table."""

from __future__ import annotations

from typing import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..engine import SubmissionResult
from ..findings import Severity

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _fmt_bytes(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"


def _fmt_score(x: float | None) -> str:
    return "?" if x is None else f"{x:.5f}"


def render(results: Sequence[SubmissionResult], console: Console, *, show_suppressed: bool = False,
           fail_on: Severity = Severity.ERROR) -> None:
    for r in results:
        verdict = "[bold green]ok[/]" if r.ok(fail_on) else "[bold red]fails[/]"
        console.print(f"[bold]{escape(r.path)}[/] [dim]({r.track})[/] {verdict}")
        shown = [f for f in r.findings if show_suppressed or not f.suppressed]
        if not shown:
            console.print("  [green]no findings[/]")
        for f in shown:
            head = Text("  ")
            head.append(f.location or r.path, style="bold")
            head.append(" ")
            head.append(f.rule, style=STYLE[f.severity])
            head.append(f" {f.name} ", style="dim")
            head.append(f"[{f.severity.value}]", style=STYLE[f.severity])
            if f.suppressed:
                head.append(f" (suppressed: {f.suppress_reason})", style="dim")
            console.print(head)
            console.print(Text("    " + f.message))
            snippet = f.data.get("snippet")
            if snippet:
                console.print(Text(f"    {f.line:>5} | {snippet.rstrip()}", style="dim"))
            if f.hint:
                console.print(Text("    help: ", style="green") + Text(f.hint))
        console.print()

    table = Table(title="golflint summary", show_lines=False)
    for col, justify in (("submission", "left"), ("track", "left"), ("code B", "right"),
                         ("model B", "right"), ("total B", "right"), ("headroom B", "right"),
                         ("val_bpb", "right"), ("seeds", "right"), ("errors", "right"),
                         ("warnings", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in results:
        b, s = r.bytes, r.scores
        headroom = b.get("headroom")
        head_txt = Text(_fmt_bytes(headroom), style="red" if (headroom is not None and headroom < 0) else "")
        seeds = s.get("seeds")
        table.add_row(
            escape(r.path), r.track, _fmt_bytes(b.get("code")), _fmt_bytes(b.get("model")),
            _fmt_bytes(b.get("total")), head_txt, _fmt_score(s.get("val_bpb")),
            str(len(seeds)) if isinstance(seeds, list) else "?",
            Text(str(r.count(Severity.ERROR)), style="red" if r.count(Severity.ERROR) else "green"),
            str(r.count(Severity.WARNING)),
        )
    console.print(table)
    errors = sum(r.count(Severity.ERROR) for r in results)
    warnings = sum(r.count(Severity.WARNING) for r in results)
    suppressed = sum(1 for r in results for f in r.findings if f.suppressed)
    line = f"{len(results)} submission(s): {errors} error(s), {warnings} warning(s)"
    if suppressed:
        line += f", {suppressed} suppressed"
    console.print(line)
