"""Rich text for people: findings grouped by submission, then a summary table.

Each submission gets a header, its bytes and scores on two lines, then its findings with indented
messages. On a terminal, messages wrap to its width with their indentation kept; piped or written to
a file nothing wraps (report/console.py). The closing table names submissions by their shortest
distinguishing path; where it would not fit the terminal, each row becomes a name line and a values
line instead, so names are never broken into pieces.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any, Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..engine import SubmissionResult
from ..findings import Finding, Severity
from .safe import visible

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _fmt_bytes(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"


def _fmt_score(x: float | None) -> str:
    return "?" if x is None else f"{x:.5f}"


def short_names(paths: Sequence[str]) -> list[str]:
    """The fewest trailing path components that tell the submissions apart."""
    parts = [PurePath(p).parts or (p,) for p in paths]
    depth = 1
    while True:
        names = ["/".join(p[-depth:]) for p in parts]
        if len(set(names)) == len(names) or all(depth >= len(p) for p in parts):
            return names
        depth += 1


def _bytes_lines(b: dict[str, Any]) -> list[Text]:
    code, model, total, limit = b.get("code"), b.get("model"), b.get("total"), b.get("limit")
    first = Text("  bytes   ", style="dim")
    if total is None:
        first.append(f"total unknown (cap {_fmt_bytes(limit)})")
    else:
        at_most = "at most " if b.get("code_at_most") else ""
        first.append(f"{at_most}{_fmt_bytes(total)} of {_fmt_bytes(limit)}: ")
        headroom = b.get("headroom")
        if headroom is not None and headroom < 0:
            first.append(f"{-headroom:,} over", style="bold red")
        elif headroom is not None:
            first.append(f"{'at least ' if at_most else ''}{headroom:,} to spare", style="green")
    code_at_most = "at most " if b.get("code_at_most") else ""
    parts = Text(" " * 10 + f"code {code_at_most}{_fmt_bytes(code)} + model {_fmt_bytes(model)}")
    if b.get("model_source"):
        parts.append(f" ({visible(b['model_source'])})", style="dim")
    return [first, parts]


def _scores_line(s: dict[str, Any]) -> Text:
    line = Text("  score   ", style="dim")
    seeds = s.get("seeds")
    line.append(f"val_bpb {_fmt_score(s.get('val_bpb'))}, val_loss {_fmt_score(s.get('val_loss'))}")
    if isinstance(seeds, list) and seeds:
        line.append(f", {len(seeds)} seed(s): {', '.join(visible(x) for x in seeds)}")
    return line


def _wrapped(console: Console, width: int, text: Text, indent: int = 0) -> list[Text]:
    """`text` wrapped to the console width, every line indented by `indent` spaces (rich's Padding
    pads lines with spaces). A line that fits (always, when nothing wraps) is not run through
    rich's wrapping, which is most of the cost of a report with hundreds of findings. `width`:
    the console's, read once per report (rich measures the terminal at every read)."""
    width = max(20, width - indent)
    if "\n" in text.plain or text.cell_len > width:
        lines = list(text.wrap(console, width))
    else:
        lines = [text]
    out = []
    for line in lines:
        line.rstrip()
        out.append(Text(" " * indent) + line if indent else line)
    return out


def _finding(f: Finding, console: Console, width: int) -> Text:
    head = Text("  ")
    head.append(visible(f.location) or "folder", style="bold")
    head.append("  ")
    head.append(f"{f.rule} {f.severity.value}", style=STYLE[f.severity])
    head.append(f"  {f.name}", style="dim")
    if f.suppressed:
        head.append(f" (suppressed: {visible(f.suppress_reason)})", style="dim")
    lines = _wrapped(console, width, head)
    lines += _wrapped(console, width, Text(visible(f.message)), 4)
    snippet = f.data.get("snippet")
    if snippet:
        line = Text(f"    {f.line:>5} | {visible(str(snippet).rstrip())}", style="dim")
        line.truncate(width, overflow="ellipsis")
        lines.append(line)
    if f.hint:
        lines += _wrapped(console, width, Text("help: ", style="green") + Text(visible(f.hint)), 4)
    return Text("\n").join(lines)


SUMMARY_COLUMNS = ("total B", "spare B", "val_bpb", "seeds", "err", "warn")


def _summary_rows(results: Sequence[SubmissionResult], fail_on: Severity) -> list[tuple[Text, list[Text]]]:
    rows = []
    for name, r in zip(short_names([r.path for r in results]), results):
        b, s = r.bytes, r.scores
        headroom = b.get("headroom")
        seeds = s.get("seeds")
        errors, warnings = r.count(Severity.ERROR), r.count(Severity.WARNING)
        rows.append((Text(visible(name), style="green" if r.ok(fail_on) else "red"), [
            Text(_fmt_bytes(b.get("total"))),
            Text(_fmt_bytes(headroom), style="red" if (headroom is not None and headroom < 0) else ""),
            Text(_fmt_score(s.get("val_bpb"))),
            Text(str(len(seeds)) if isinstance(seeds, list) else "?"),
            Text(str(errors), style="red" if errors else "green"),
            Text(str(warnings), style="yellow" if warnings else ""),
        ]))
    return rows


def _summary(results: Sequence[SubmissionResult], console: Console, fail_on: Severity) -> None:
    rows = _summary_rows(results, fail_on)
    widths = [max([len("submission")] + [len(name) for name, _ in rows])]
    for i, col in enumerate(SUMMARY_COLUMNS):
        widths.append(max([len(col)] + [len(values[i]) for _, values in rows]))
    # Each column is padded by one space on either side (pad_edge=False drops the outer two).
    if sum(widths) + 2 * len(widths) - 2 <= console.width:
        table = Table(title="golflint summary", box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("submission", no_wrap=True)
        # "spare B" is the headroom under the cap; negative means over it.
        for col in SUMMARY_COLUMNS:
            table.add_column(col, justify="right", no_wrap=True)
        for name, values in rows:
            table.add_row(name, *values)
        console.print(table)
        return
    # Too narrow for the table: the name on its own line, its figures below it, labelled.
    console.print(Text("golflint summary", style="italic"))
    for name, values in rows:
        console.print(name, overflow="fold")
        line = Text("  ")
        for col, value in zip(SUMMARY_COLUMNS, values):
            line.append(f"{col} ", style="dim")
            line.append_text(value)
            line.append("  ")
        line.rstrip()
        console.print(line)


def render(results: Sequence[SubmissionResult], console: Console, *, show_suppressed: bool = False,
           fail_on: Severity = Severity.ERROR, quiet: bool = False) -> None:
    """The report. `quiet`: only submissions with findings, and only their findings (no summary)."""
    width = console.width
    for r in results:
        shown = [f for f in r.findings if show_suppressed or not f.suppressed]
        if quiet and not shown:
            continue
        header = Text()
        header.append("ok    " if r.ok(fail_on) else "FAILS ", style="bold green" if r.ok(fail_on) else "bold red")
        header.append(f"{r.track}  ", style="dim")
        header.append(visible(r.path), style="bold")
        # Few prints per submission: rich's fixed cost per call was most of a long report's time,
        # and the report is written after the last folder is checked. Lines printed together wrap
        # one by one, as they would printed apart.
        head = [header]
        if not quiet:
            head += [*_bytes_lines(r.bytes), _scores_line(r.scores)]
        if not shown:
            head.append(Text("  no findings", style="green"))
        console.print(Text("\n").join(head))
        if shown:
            # already wrapped to the width (`_wrapped`): soft_wrap keeps rich from wrapping again
            console.print(Text("\n").join([_finding(f, console, width) for f in shown]), soft_wrap=True)
        console.print()
    if quiet:
        return

    _summary(results, console, fail_on)
    errors = sum(r.count(Severity.ERROR) for r in results)
    warnings = sum(r.count(Severity.WARNING) for r in results)
    failing = sum(1 for r in results if not r.ok(fail_on))
    suppressed = sum(1 for r in results for f in r.findings if f.suppressed)
    line = (f"{len(results)} submission(s), {failing} failing: {errors} error(s), {warnings} warning(s)")
    if suppressed:
        line += f", {suppressed} suppressed"
    console.print(line)
