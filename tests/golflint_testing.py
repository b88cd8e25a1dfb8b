"""Helpers shared by the tests: build submission folders, run rules on them, snapshot files."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from golflint.config import default_settings
from golflint.engine import check_submission, instantiate_rules
from golflint.rules import all_rules
from golflint.rules.base import Example
from golflint.submission import Submission


def make_submission(root: Path, files: Mapping[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def interpret(tmp_path: Path, source: str, **spec_changes):
    """The dataflow interpreter after running `source` as a one-script record's train_gpt.py;
    `spec_changes` replace fields of the vocabulary (`nested_later_iterations=64`)."""
    import dataclasses

    from golflint.dataflow.interp import Interpreter
    from golflint.dataflow.spec import Spec
    from golflint.discovery import find_submissions

    folder = tmp_path / "records" / "track_10min_16mb" / "case"
    folder.mkdir(parents=True)
    (folder / "train_gpt.py").write_text(source)
    settings = default_settings()
    target = find_submissions([tmp_path], settings).targets[0]
    sub = Submission(target.root, target.track, settings, env_overrides={})
    interp = Interpreter(sub.python_units, dataclasses.replace(Spec.from_settings(settings), **spec_changes))
    interp.run(sub.python_units)
    return interp


def run_rules(root: Path, rule_ids: Iterable[str] | None = None, *, track: str = "record",
              env: Mapping[str, str] | None = None, settings_overrides: Mapping | None = None,
              suppress: bool = True):
    settings = default_settings()
    if settings_overrides:
        settings = settings.with_overrides(dict(settings_overrides))
    rules = instantiate_rules(settings, only=rule_ids)
    sub = Submission(root, track, settings, env_overrides=env)
    return check_submission(sub, rules, suppress=suppress, debug=True)


def run_example(tmp_path: Path, rule_id: str, example: Example):
    root = make_submission(tmp_path / "records" / "track_10min_16mb" / "example", example.materialize())
    for link, target in example.symlinks.items():
        (root / link).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, root / link)
    rule = all_rules()[rule_id]
    only = None if getattr(rule, "needs_all_rules", False) else [rule_id]
    result = run_rules(root, only, track=example.track, env=example.env,
                       settings_overrides=example.settings)
    return [f for f in result.findings if f.rule == rule_id and not f.suppressed]


def snapshot(root: Path) -> dict[str, str]:
    """Content hash of every file under root, to prove a command changed nothing."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            if p.is_symlink():
                out[str(p.relative_to(root))] = "link:" + os.readlink(p)
            else:
                out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# -- annotated fixtures -------------------------------------------------------------------------
# In a fixture's code, a comment names what a rule must (or must not) report on a line:
#   `# expect: GL104`            the rule reports on this line (trailing comment) or on the next
#                                code line (a comment on its own line); `GL201[warning]` also pins
#                                the severity
#   `# ok: GL104`                the rule does not report there (a hard negative)
#   `# todo-expect: GL104 why`   a known miss: the rule should report there but does not yet
ANNOTATION = re.compile(r"#\s*(?P<kind>expect|ok|todo-expect)\s*:\s*(?P<body>.*)$")
ANNOTATED_RULE = re.compile(r"(GL\d{3})(?:\[(error|warning|info)\])?")


@dataclass(frozen=True)
class Annotation:
    kind: str              # expect / ok / todo-expect
    rule: str
    severity: str | None
    file: str
    line: int              # the line the annotation is about
    reason: str = ""


@dataclass
class AnnotationCheck:
    problems: list[str] = field(default_factory=list)
    todo_missed: list[Annotation] = field(default_factory=list)   # known misses, still missed
    todo_found: list[Annotation] = field(default_factory=list)    # known misses the rule now finds


def read_annotations(file: str, source: str) -> list[Annotation]:
    out: list[Annotation] = []
    lines = source.splitlines()
    pending: list[tuple[str, str]] = []   # annotations from comment-only lines, waiting for code
    for number, text in enumerate(lines, 1):
        stripped = text.strip()
        m = ANNOTATION.search(text)
        if stripped.startswith("#"):
            if m:
                pending.append((m.group("kind"), m.group("body")))
            continue
        if not stripped:
            continue
        if m:
            pending.append((m.group("kind"), m.group("body")))
        for kind, body in pending:
            out.extend(_annotations(kind, body, file, number))
        pending = []
    return out


def _annotations(kind: str, body: str, file: str, line: int) -> list[Annotation]:
    rules = list(ANNOTATED_RULE.finditer(body))
    reason = body[rules[-1].end():].strip(" ,:-") if rules else ""
    return [Annotation(kind, m.group(1), m.group(2), file, line, reason) for m in rules]


def check_annotations(files: Mapping[str, str], findings: Iterable, rules: Iterable[str]) -> AnnotationCheck:
    """Compare findings of `rules` with the annotations in `files` (path -> source).

    Every finding of those rules must be expected (or a known miss that is now found); every
    `expect` must be met, with its severity when one is given; no finding may sit on an `ok` line.
    """
    rules = set(rules)
    annotations = [a for path, src in files.items() for a in read_annotations(path, src)
                   if a.rule in rules]
    relevant = [f for f in findings if f.rule in rules and not f.suppressed]
    out = AnnotationCheck()
    matched: set[int] = set()

    def hits(a: Annotation) -> list:
        return [f for f in relevant if f.rule == a.rule and (f.file or "") == a.file and f.line == a.line
                and (a.severity is None or f.severity.value == a.severity)]

    for a in annotations:
        found = hits(a)
        if a.kind == "expect":
            if not found:
                out.problems.append(f"{a.file}:{a.line}: expected {a.rule}"
                                    f"{'[' + a.severity + ']' if a.severity else ''}, not reported")
            matched.update(id(f) for f in found)
        elif a.kind == "ok":
            for f in found:
                out.problems.append(f"{a.file}:{a.line}: {a.rule} fired on an `ok` line: {f.message}")
                matched.add(id(f))
        elif found:
            out.todo_found.append(a)
            matched.update(id(f) for f in found)
        else:
            out.todo_missed.append(a)
    for f in relevant:
        if id(f) not in matched:
            out.problems.append(f"{f.file}:{f.line}: unexpected {f.rule} [{f.severity.value}]: {f.message}")
    return out
