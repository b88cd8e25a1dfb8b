"""golflint rules: list the rules; `rules explain ID` documents one."""

from __future__ import annotations

import json
import sys

import click
from rich.markdown import Markdown
from rich.table import Table

from ..report.console import make_console, stream_is_tty
from ..rules import all_rules, get_rule
from .options import config_options, settings_from


@click.group("rules", invoke_without_command=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="text (a table), json, or markdown (for documentation).")
@config_options
@click.pass_context
def command(ctx, fmt, rules_file, isolated):
    """List every rule: id, name, family, severity, whether enabled."""
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_from(rules_file, isolated)
    rows = []
    for rule_id, cls in all_rules().items():
        rows.append({
            "id": rule_id, "name": cls.name, "family": cls.family(),
            "severity": settings.rule_severity(rule_id, cls.severity).value,
            "enabled": settings.rule_enabled(rule_id), "message": cls.message,
        })
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if fmt == "markdown":
        click.echo("| id | name | family | severity | message |")
        click.echo("|---|---|---|---|---|")
        for row in rows:
            click.echo(f"| {row['id']} | `{row['name']}` | {row['family']} | {row['severity']} | {row['message']} |")
        return
    table = Table(title="golflint rules")
    for col in ("id", "name", "family", "severity", "enabled"):
        table.add_column(col, no_wrap=True)
    table.add_column("message")
    for row in rows:
        table.add_row(row["id"], row["name"], row["family"], row["severity"],
                      "yes" if row["enabled"] else "no", row["message"])
    make_console().print(table)


@command.command("explain")
@click.argument("rule_id")
def explain(rule_id):
    """Document one rule (by id, e.g. GL101, or by name): what, why, examples, fix."""
    cls = get_rule(rule_id)
    lines = [f"# {cls.id} {cls.name}", "",
             f"*Family:* {cls.family()} · *default severity:* {cls.severity.value}", "",
             f"**Message:** {cls.message}", "", f"**Fix:** {cls.hint}", "", cls.doc(), ""]

    def show(title, examples):
        if not examples:
            return
        lines.append(f"## {title}")
        for ex in examples[:3]:
            files = ex.materialize()
            for name, content in files.items():
                if isinstance(content, bytes):
                    content = f"<{len(content)} bytes>"
                if len(content) > 1500:
                    content = content[:1500] + "\n..."
                lang = "python" if name.endswith(".py") else ""
                lines.append(f"`{name}`" + (f" ({ex.note})" if ex.note else ""))
                lines.append(f"```{lang}\n{content.rstrip()}\n```")
        lines.append("")

    show("Flagged", cls.invalid)
    show("Not flagged", cls.valid)
    from ..policy import SEVERITY_POLICY

    lines += ["---", "", SEVERITY_POLICY, ""]
    if stream_is_tty(sys.stdout):
        make_console().print(Markdown("\n".join(lines)))
    else:  # piped: the Markdown source itself, unwrapped and unpadded
        click.echo("\n".join(lines))
