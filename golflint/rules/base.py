"""The rule base class and the embedded examples every rule carries.

A rule is a class with an id (`GL` + 3 digits, hundreds digit = family), a kebab-case name that
describes the bad pattern, a default severity, a one-sentence message, a fix hint, a docstring laid
out as What / Why / Example / Instead (rendered by `golflint rules explain`), and VALID / INVALID
examples that the test suite runs automatically (tests/test_embedded_examples.py).

`check(sub)` receives the whole Submission (files, submission.json, logs, code units, run
configuration) and yields Findings made with `self.report(...)`. Rules never execute submission code.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Iterator, Mapping

from ..facts.declared import Fact
from ..findings import Finding, Severity

if TYPE_CHECKING:
    from ..submission import Submission

RULE_ID = re.compile(r"^GL\d{3}$")
RULE_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

FAMILIES = {
    "0": "structure and metadata",
    "1": "evaluation integrity",
    "2": "data and network access",
    "3": "artifact bytes",
    "4": "logs, claims and time",
    "9": "meta",
}


@dataclass(frozen=True)
class Example:
    """One embedded case. `code` is shorthand for files={"train_gpt.py": code}.

    `files` may hold str (written as UTF-8) or bytes. `lines`, on an invalid example, pins the
    lines (in `file`, default train_gpt.py) where the rule must report. `track` and `env` let an
    example run as a given track or run configuration. `settings` overrides rulebook keys.
    """

    code: str | None = None
    files: Mapping[str, str | bytes] | None = None
    lines: tuple[int, ...] = ()
    file: str | None = None
    track: str = "record"
    env: Mapping[str, str] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""
    # Symlinks to create in the folder: {"link name": "target as written in the link"}.
    symlinks: Mapping[str, str] = field(default_factory=dict)

    def materialize(self) -> dict[str, str | bytes]:
        out: dict[str, str | bytes] = {}
        if self.files:
            out.update(self.files)
        if self.code is not None:
            out["train_gpt.py"] = textwrap.dedent(self.code).lstrip("\n")
        return out


def Valid(code: str | None = None, **kw: Any) -> Example:  # noqa: N802 - reads like Fixit's
    return Example(code=code, **kw)


def Invalid(code: str | None = None, **kw: Any) -> Example:  # noqa: N802
    if "lines" in kw and isinstance(kw["lines"], int):
        kw["lines"] = (kw["lines"],)
    return Example(code=code, **kw)


class _Examples:
    """A rule's embedded examples, built on first read (the tests, `golflint rules GLxxx`, the
    docs), not when the rule's module is imported: building them (folders, JSON, compressed
    files) was a fifth of the rules' import time, paid by every check."""

    def __init__(self, build: Callable[[], Iterable[Example]]) -> None:
        self._build = build
        self._built: tuple[Example, ...] | None = None

    def __get__(self, obj: object, owner: type | None = None) -> tuple[Example, ...]:
        if self._built is None:
            self._built = tuple(self._build())
        return self._built

    def extended(self, build: Callable[[], Iterable[Example]]) -> _Examples:
        """These examples, then more (a rule's examples given in two places)."""
        return _Examples(lambda: (*self.__get__(None), *build()))


def examples(build: Callable[[], Iterable[Example]]) -> Any:
    """`valid = examples(lambda: (Valid(...), ...))`: the examples, built when first read."""
    return _Examples(build)


class Rule:
    id: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity] = Severity.ERROR
    message: ClassVar[str]
    hint: ClassVar[str] = ""
    valid: ClassVar[tuple[Example, ...]] = ()
    invalid: ClassVar[tuple[Example, ...]] = ()
    # The facts `check` reads beyond the folder itself (facts/declared.py), checked at every read.
    facts: ClassVar[frozenset[Fact]] = frozenset()

    def __init__(self, severity: Severity | None = None, options: Mapping[str, Any] | None = None):
        self.effective_severity = severity or self.severity
        self.options: dict[str, Any] = dict(options or {})

    # -- to be written by each rule -------------------------------------------------------------
    def check(self, sub: "Submission") -> Iterable[Finding]:
        raise NotImplementedError

    # -- helpers --------------------------------------------------------------------------------
    def report(
        self,
        message: str | None = None,
        *,
        file: str | None = None,
        line: int | None = None,
        col: int | None = None,
        severity: Severity | None = None,
        hint: str | None = None,
        where: str | None = None,
        **data: Any,
    ) -> Finding:
        return Finding(
            rule=self.id,
            name=self.name,
            severity=severity or self.effective_severity,
            message=message or self.message,
            file=file,
            line=line,
            col=col,
            hint=self.hint if hint is None else hint,
            where=where,
            data=data,
        )

    def report_at(self, unit: Any, line: int | None, message: str | None = None, **kw: Any) -> Finding:
        """A finding in a code unit (plain file, decoded layer or native sibling)."""
        where = unit.label if getattr(unit, "label", None) != unit.path else None
        return self.report(message, file=unit.path, line=line, where=where, **kw)

    @classmethod
    def family(cls) -> str:
        return FAMILIES.get(cls.id[2], "other")

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def validate_definition(cls) -> list[str]:
        """Problems with the rule's own definition (run by the test suite for every rule)."""
        problems = []
        if not RULE_ID.match(getattr(cls, "id", "")):
            problems.append(f"{cls.__name__}: id {getattr(cls, 'id', None)!r} is not GL + 3 digits")
        if not RULE_NAME.match(getattr(cls, "name", "")):
            problems.append(f"{cls.__name__}: name {getattr(cls, 'name', None)!r} is not kebab-case")
        if not getattr(cls, "message", ""):
            problems.append(f"{cls.__name__}: no message")
        if not cls.hint:
            problems.append(f"{cls.__name__}: no fix hint")
        if not cls.doc():
            problems.append(f"{cls.__name__}: no docstring")
        return problems


def iter_findings(rule: Rule, sub: "Submission") -> Iterator[Finding]:
    yield from rule.check(sub)
