"""Which facts a rule reads: declared on the rule, checked at every read.

Like Fixit's metadata dependencies, every rule states the facts it needs (`Rule.facts`), and the
engine runs its `check` inside `reading(rule)`. Each provider of a fact (the parsed logs, the code
units, the run configuration, the byte measurement, the per-unit index, the phase model, the value
facts, the target-token facts, the dataflow analysis, the native syntax trees) calls `need(fact)`
first: under `GOLFLINT_STRICT_FACTS=1` (the test suite sets it; `--debug` too) a rule that reads a
fact it did not declare stops with `UndeclaredFact`, so every embedded example, fixture and record
the tests check proves the declarations; for users an undeclared read is let through, because a
rule's findings matter more than its bookkeeping. A provider
builds its fact inside `building()`, so what a fact is made of is the provider's business, not the
rule's. Outside any rule (commands, summaries, suppressions) every fact is open.

The folder itself (its listing, bounded reads, submission.json and README claims, settings) is
not a fact: every rule may read it.
"""

from __future__ import annotations

import enum
import functools
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar


class Fact(str, enum.Enum):
    LOGS = "logs"                # parsed train logs (logs/parse.py)
    CODE = "code"                # code units: parsed Python, decoded layers, native siblings
    RUN_CONFIG = "run_config"    # the settings a run uses: README/script commands, defaults
    BYTES = "bytes"              # counted code + model bytes (budget/measure.py)
    INDEX = "index"              # per-unit scopes, reaching definitions, parents (facts/index.py)
    PHASES = "phases"            # when code runs; scoring loops; call resolution (facts/phases.py)
    VALUES = "values"            # constants, measured lengths, clocks, the training timer
    TARGETS = "targets"          # which stream position a lookup's key reads (facts/targets.py)
    DATAFLOW = "dataflow"        # what flows where: the abstract interpretation's verdicts
    NATIVE = "native"            # C/C++ syntax trees and their roles (native/)


class UndeclaredFact(RuntimeError):
    def __init__(self, rule: str, fact: Fact) -> None:
        super().__init__(f"rule {rule} read the fact '{fact.value}' without declaring it in its `facts`")
        self.rule, self.fact = rule, fact


# (rule id, declared facts) while a rule's check runs; None outside rules and while a provider builds
_READING: ContextVar[tuple[str, frozenset[Fact]] | None] = ContextVar("golflint_reading", default=None)
# Set by tests/tools to collect instead of raise: {(rule id, fact)}
_RECORDED: set[tuple[str, Fact]] | None = None


@contextmanager
def reading(rule_id: str, facts: Iterable[Fact]) -> Iterator[None]:
    token = _READING.set((rule_id, frozenset(facts)))
    try:
        yield
    finally:
        _READING.reset(token)


@contextmanager
def building() -> Iterator[None]:
    """A provider builds its fact from whatever it needs."""
    token = _READING.set(None)
    try:
        yield
    finally:
        _READING.reset(token)


def strict() -> bool:
    return os.environ.get("GOLFLINT_STRICT_FACTS") == "1"


def need(fact: Fact) -> None:
    current = _READING.get()
    if current is None or fact in current[1]:
        return
    if _RECORDED is not None:
        _RECORDED.add((current[0], fact))
    elif strict():
        raise UndeclaredFact(current[0], fact)


@contextmanager
def recording() -> Iterator[set[tuple[str, Fact]]]:
    """Collect undeclared reads instead of failing (to audit declarations)."""
    global _RECORDED
    previous, _RECORDED = _RECORDED, set()
    try:
        yield _RECORDED
    finally:
        _RECORDED = previous


F = TypeVar("F", bound=Callable[..., Any])


def provides(fact: Fact) -> Callable[[F], F]:
    """Decorate a function that returns a fact (not a generator: its caller consumes it later)."""
    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            need(fact)
            with building():
                return fn(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return decorate


class fact_property:  # noqa: N801 - used like functools.cached_property
    """A cached property that is a fact: computed once per object, `need`ed at every read (so a
    rule cannot read a value another rule happened to build first)."""

    def __init__(self, fact: Fact) -> None:
        self.fact = fact
        self.fn: Callable[[Any], Any] | None = None
        self.slot = ""

    def __call__(self, fn: Callable[[Any], Any]) -> fact_property:
        self.fn = fn
        self.__doc__ = fn.__doc__
        return self

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_fact_{name}"

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        need(self.fact)
        try:
            return obj.__dict__[self.slot]
        except KeyError:
            pass
        assert self.fn is not None
        with building():
            value = self.fn(obj)
        obj.__dict__[self.slot] = value
        return value
