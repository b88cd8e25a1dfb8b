"""golflint triage: every pull request's submission folders checked, with lineage, in one report."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from ..errors import GolflintError
from .options import config_options, settings_from

REPORT_FORMATS = ("text", "markdown", "html", "json")


class _DefaultRun(click.Group):
    """`golflint triage REPO` runs; `golflint triage merge SHARD...` merges."""

    def parse_args(self, ctx, args):  # type: ignore[override]
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["run", *args]
        return super().parse_args(ctx, args)


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "golflint" / "triage"


def _write_reports(doc: dict, out: Path | None, fmt: str) -> None:
    from ..triage import render

    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "triage.json").write_text(json.dumps(doc, indent=None) + "\n", encoding="utf-8")
        (out / "triage.html").write_text(render.html_page(doc), encoding="utf-8")
        (out / "triage.md").write_text(render.markdown_summary(doc), encoding="utf-8")
        st = doc["stats"]
        click.echo(f"{st['submissions']} submission folders from {st['refs_with_submissions']} of "
                   f"{st['refs']} refs ({st['analyzed']} analyzed, {st['reused']} reused) -> "
                   f"{out}/triage.html, triage.md, triage.json", err=True)
        return
    if fmt == "json":
        sys.stdout.write(json.dumps(doc, indent=1) + "\n")
    elif fmt == "html":
        sys.stdout.write(render.html_page(doc))
    elif fmt == "markdown":
        sys.stdout.write(render.markdown_summary(doc))
    else:
        sys.stdout.write(render.terminal(doc))


class _Progress:
    """A rich progress bar on a terminal; silence elsewhere (CI logs, pipes)."""

    def __init__(self, enabled: bool):
        self.bar = None
        self.tasks: dict[str, int] = {}
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TimeRemainingColumn,
            )

            # On standard error: the report may be going to standard output.
            self.bar = Progress("[progress.description]{task.description}", BarColumn(),
                                MofNCompleteColumn(), TimeRemainingColumn(), transient=True,
                                console=Console(stderr=True))

    def __enter__(self):
        if self.bar:
            self.bar.start()
        return self

    def __exit__(self, *exc):
        if self.bar:
            self.bar.stop()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.bar:
            return
        if stage not in self.tasks:
            label = {"refs": "reading refs", "folders": "checking folders"}.get(stage, stage)
            self.tasks[stage] = self.bar.add_task(label, total=total)
        self.bar.update(self.tasks[stage], completed=done, total=total)


@click.group("triage", cls=_DefaultRun, epilog="""\b
golflint triage REPO [-o DIR]                 check every PR's submission folders, with lineage
golflint triage REPO --shard 2/8 -o DIR       one of 8 deterministic parts (a CI matrix job)
golflint triage merge DIR1 DIR2 ... -o DIR    combine shard outputs into the same reports
\b
Exit codes: 0 report written (whatever the verdicts), 2 usage, repository or internal error.
""")
def command() -> None:
    """Triage a challenge repository's pull requests: verdicts, claims, lineage, one report.

    Reads the repository's git objects only (a clone whose PR refs are fetched with
    `git fetch origin '+refs/pull/*/head:refs/pull/*/head'`, or a bare mirror): nothing is checked
    out and nothing is executed.
    """


@command.command("run")
@click.argument("repo", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--refs", "refs", multiple=True, metavar="PATTERN",
              help="Ref patterns to triage (git for-each-ref syntax); default refs/pull/*/head.")
@click.option("--main", "main", default="main", show_default=True, help="The main branch.")
@click.option("--shard", metavar="I/N", help="Only the I-th of N deterministic parts (by ref name).")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path),
              help="Write triage.html, triage.md and triage.json here (a shard writes its shard JSON).")
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="text", show_default=True,
              help="Report on standard output when no --out is given.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where analyses are kept by folder content (default ~/.cache/golflint/triage).")
@click.option("--no-cache", is_flag=True, help="Keep no analyses on disk (folders seen twice in one "
                                               "run are still analyzed once).")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Folders analyzed in parallel processes.")
@click.option("--limit", type=click.IntRange(1), help="Only the N refs with the highest PR numbers.")
@click.option("--repo-url", default="https://github.com/openai/parameter-golf", show_default=True,
              help="GitHub repository the report links to.")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=0.8, show_default=True,
              help="Identity at which a function counts as shared with an earlier submission.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
@config_options
def run(repo, refs, main, shard, out, fmt, cache_dir, no_cache, jobs, limit, repo_url, threshold,
        progress, rules_file, isolated):
    """Check the submission folders every pull request ref touches, and find each one's ancestor."""
    from ..triage import collect, document

    settings = settings_from(rules_file, isolated)
    try:
        shard_spec = collect.parse_shard(shard)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--shard") from None
    options = document.Options(
        refs=tuple(refs) or collect.DEFAULT_REFS, main=main, shard=shard_spec,
        cache_dir=None if no_cache else (cache_dir or _default_cache()), jobs=jobs, limit=limit,
        repo_url=repo_url, threshold=threshold)
    show = sys.stderr.isatty() if progress is None else progress
    with _Progress(show) as bar:
        doc = document.build_shard(repo, settings, options, progress=bar)
    if shard_spec[1] > 1:
        if out is None:
            sys.stdout.write(json.dumps(doc) + "\n")
            return
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"triage-shard-{shard_spec[0]}-of-{shard_spec[1]}.json"
        path.write_text(json.dumps(doc) + "\n", encoding="utf-8")
        click.echo(f"shard {shard_spec[0]}/{shard_spec[1]}: {doc['stats']['submissions']} folders "
                   f"from {doc['stats']['refs']} refs -> {path}", err=True)
        return
    _write_reports(document.merge([doc], threshold), out, fmt)


@command.command("merge")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path),
              help="Write triage.html, triage.md and triage.json here.")
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="text", show_default=True,
              help="Report on standard output when no --out is given.")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=0.8, show_default=True,
              help="Identity at which a function counts as shared with an earlier submission.")
def merge(inputs, out, fmt, threshold):
    """Combine shard outputs (their JSON files, or folders holding triage-shard-*.json)."""
    from ..triage import document

    files: list[Path] = []
    for path in inputs:
        files.extend(sorted(path.glob("triage-shard-*.json")) if path.is_dir() else [path])
    if not files:
        raise GolflintError("no triage-shard-*.json among the inputs")
    docs = []
    for path in files:
        try:
            docs.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise GolflintError(f"{path}: not readable as JSON ({exc})") from None
    _write_reports(document.merge(docs, threshold), out, fmt)
