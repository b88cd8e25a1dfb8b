"""verify's report: rich text for the terminal, Markdown for --report, JSON for machines."""

from __future__ import annotations

import json

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .model import Outcome, Verdict, VerifyResult

VERDICT_STYLE = {
    Verdict.PASS: "green", Verdict.FAIL: "bold red", Verdict.CRASHED: "bold red", Verdict.TIMEOUT: "bold red",
    Verdict.INTERRUPTED: "yellow", Verdict.NOT_COMPARABLE: "yellow", Verdict.NO_CLAIM: "cyan",
    Verdict.SKIPPED: "dim", Verdict.OVERRIDDEN: "yellow", Verdict.UNKNOWN: "bold yellow",
}
OUTCOME_STYLE = {Outcome.VERIFIED: "bold green", Outcome.NOT_VERIFIED: "bold red", Outcome.COULD_NOT_RUN: "bold yellow"}


def to_json(result: VerifyResult) -> str:
    return json.dumps(result.to_json(), indent=2, sort_keys=False) + "\n"


def render_text(result: VerifyResult, console: Console) -> None:
    outcome = result.outcome
    console.print(Text.assemble(("golflint verify ", "bold"), result.submission, "  ",
                                (outcome.value.upper(), OUTCOME_STYLE[outcome])))
    if result.problem:
        console.print(Text("could not run: ", style="bold yellow") + Text(result.problem))
    if result.preflight:
        console.print(Text.assemble("preflight    ", (result.preflight.verdict.value, VERDICT_STYLE[result.preflight.verdict]),
                                    f"  {result.preflight.detail}"))
    if result.sandbox:
        console.print(f"sandbox      {result.sandbox}")
    if result.calibration:
        console.print(f"calibration  {result.calibration.note}")
    if result.workdir:
        console.print(f"work folder  {result.workdir}")
    for run in result.runs:
        table = Table(title=f"{run.label}: {run.verdict.value}", title_justify="left", box=box.SIMPLE_HEAD,
                      show_edge=False, pad_edge=False)
        table.add_column("check")
        table.add_column("claimed", justify="right")
        table.add_column("reproduced", justify="right")
        table.add_column("verdict")
        for check in run.checks:
            table.add_row(check.name, check.claimed, check.reproduced, Text(check.verdict.value, VERDICT_STYLE[check.verdict]))
        console.print()
        console.print(table)
        for check in run.checks:
            if check.detail and (check.verdict is not Verdict.PASS or check.name in ("score", "bpb accounting")):
                console.print(Text(f"  {check.name}: ", style="bold") + Text(check.detail))
        console.print(f"  log: {run.log_path}")
        if run.log_tail:
            console.print("  log tail:")
            for line in run.log_tail.splitlines():
                console.print(Text("    " + line, style="dim"))
    for note in result.notes:
        console.print(Text("note: ", style="yellow") + Text(note))
    console.print(Text.assemble("\nresult: ", (outcome.value, OUTCOME_STYLE[outcome]), f" (exit {outcome.exit_code})"))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(result: VerifyResult) -> str:
    outcome = result.outcome
    lines = [f"# golflint verify: {outcome.value}", "", f"- submission: `{result.submission}`",
             f"- GPUs: {result.gpus}", f"- exit code: {outcome.exit_code}"]
    if result.problem:
        lines.append(f"- could not run: {_cell(result.problem)}")
    if result.preflight:
        lines.append(f"- preflight: **{result.preflight.verdict.value}**: {_cell(result.preflight.detail)}")
    if result.sandbox:
        lines.append(f"- sandbox: {result.sandbox}")
    if result.calibration:
        lines.append(f"- calibration: {_cell(result.calibration.note)}")
    if result.workdir:
        lines.append(f"- work folder: `{result.workdir}`")
    for note in result.notes:
        lines.append(f"- note: {_cell(note)}")
    for run in result.runs:
        lines += ["", f"## {run.label}: {run.verdict.value}", "",
                  "| check | claimed | reproduced | verdict | detail |", "|---|---:|---:|---|---|"]
        for check in run.checks:
            lines.append(f"| {check.name} | {_cell(check.claimed)} | {_cell(check.reproduced)} | "
                         f"**{check.verdict.value}** | {_cell(check.detail)} |")
        if run.network_attempts:
            lines += ["", "Network attempts:", ""]
            lines += [f"- `{a.get('call')} {a.get('target')}` at {a.get('where') or '?'} (pid {a.get('pid')})"
                      for a in run.network_attempts[:20]]
        lines += ["", f"Log: `{run.log_path}`"]
        if run.log_tail:
            lines += ["", "```", run.log_tail, "```"]
    return "\n".join(lines) + "\n"
