"""Run the selected rules over one submission and assemble its result.

Each rule runs in isolation: a rule that crashes becomes an internal-error finding (GL999, exit 2)
and the others still report. Suppression comments are applied after all rules ran, so unused ones
(GL900) can be told apart from used ones; then the run configuration may lower the severity of code
findings whose branch the submitted configuration never runs.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Sequence

from .code.suppress import Suppression, parse_suppressions
from .config import Settings
from .facts.declared import Fact, reading
from .findings import Finding, Severity
from .memo import forget_folder_memos
from .rules import all_rules
from .rules.base import Rule
from .rules.meta import InternalError, SuppressionWithoutReason, UnusedSuppression
from .submission import Submission


@dataclass
class SubmissionResult:
    path: str
    track: str
    findings: list[Finding]
    bytes: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, Any] = field(default_factory=dict)
    elapsed_ms: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if not f.suppressed]

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.active if f.severity == severity)

    @property
    def internal_errors(self) -> list[Finding]:
        return [f for f in self.active if f.rule == InternalError.id]

    def ok(self, fail_on: Severity = Severity.ERROR) -> bool:
        return not any(f.severity.rank >= fail_on.rank for f in self.active)


def instantiate_rules(settings: Settings, only: Iterable[str] | None = None) -> list[Rule]:
    selected = set(only) if only is not None else None
    rules = []
    for rule_id, cls in all_rules().items():
        if selected is not None:
            if not any(rule_id.startswith(s) for s in selected):
                continue
        elif not settings.rule_enabled(rule_id):
            continue
        rules.append(cls(settings.rule_severity(rule_id, cls.severity), settings.rule_options(rule_id)))
    return rules


def _run_rule(rule: Rule, sub: Submission, debug: bool) -> list[Finding]:
    try:
        with reading(rule.id, rule.facts):
            return list(rule.check(sub))
    except RecursionError:
        # Code nested beyond even the raised limit (bounded.deep_call): the verdict is unknown, so
        # the rule says so under its own id rather than dropping its finding as a crash.
        if debug:
            raise
        return [rule.report(f"{rule.id} ({rule.name}) could not analyze this submission's code: it "
                            "nests too deeply to follow, so this check's verdict is unknown")]
    except Exception as exc:  # isolate: one broken rule must not hide the others' findings
        if debug:
            raise
        tb = traceback.extract_tb(exc.__traceback__)
        where = f"{tb[-1].filename}:{tb[-1].lineno}" if tb else "?"
        return [InternalError().report(
            f"rule {rule.id} ({rule.name}) crashed: {type(exc).__name__}: {exc} (at {where}); "
            "its verdict on this submission is unknown",
        )]


def _run_native_checks(sub: Submission, rules: Sequence[Rule], debug: bool) -> list[Finding]:
    units = sub.native_units
    if not units:
        return []  # most folders: the checks' modules (tree-sitter's among them, ~10 ms) stay unloaded
    from .code.native_checks import NATIVE_CHECKS

    by_id = {r.id: r for r in rules}
    wanted = [(by_id[rid], fn) for rid, fn in NATIVE_CHECKS.items() if rid in by_id]
    out: list[Finding] = []
    for rule, fn in wanted:
        for unit in units:
            try:
                with reading(rule.id, rule.facts):  # a rule's C/C++ half reads what the rule declares
                    found = list(fn(unit, sub))
                for line, message in found:
                    out.append(rule.report_at(unit, line, message))
            except Exception as exc:
                if debug:
                    raise
                out.append(InternalError().report(
                    f"native check of {rule.id} crashed on {unit.label}: {type(exc).__name__}: {exc}"))
    return out


def apply_suppressions(sub: Submission, findings: list[Finding], rules: Sequence[Rule],
                       enabled: bool = True) -> list[Finding]:
    suppressions: list[Suppression] = []
    for unit in sub.code_units:
        if unit.source:
            suppressions.extend(parse_suppressions(unit))
    if not suppressions:
        return findings
    out: list[Finding] = []
    for finding in findings:
        match = None
        if enabled and finding.line is not None:
            for sup in suppressions:
                if (sup.reason and sup.unit.path == finding.file
                        and (finding.where or finding.file) == sup.unit.label
                        and finding.line in sup.covers and sup.matches(finding.rule)):
                    match = sup
                    break
        if match is not None:
            match.used.add(finding.rule)
            out.append(finding.with_(suppressed=True, suppress_reason=match.reason))
        else:
            out.append(finding)
    ran = {r.id for r in rules}
    for sup in suppressions:
        where = sup.unit.label if sup.unit.label != sup.unit.path else None
        if not sup.reason:
            out.append(SuppressionWithoutReason().report(
                f"`golflint: ignore[{', '.join(sup.codes)}]` gives no reason, so it suppresses nothing",
                file=sup.unit.path, line=sup.line, where=where))
            continue
        if not enabled:
            continue
        if UnusedSuppression.id not in ran:
            continue
        # Only codes whose rules ran this time can be judged unused.
        unused = [c for c in sup.codes if not any(u.startswith(c) for u in sup.used)
                  and any(r.startswith(c) for r in ran)]
        if unused:
            out.append(UnusedSuppression().report(
                f"suppression of {', '.join(unused)} suppresses nothing on this line",
                file=sup.unit.path, line=sup.line, where=where))
    return out


def _summaries(sub: Submission) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        m = sub.measurement
        bytes_ = {"code": m.code_bytes, "model": m.model_bytes, "total": m.total, "limit": m.cap,
                  "headroom": m.headroom, "model_source": m.model_source}
        if m.is_bound:
            bytes_["code_at_most"] = True  # an upper bound that fits: see Measurement.code_basis
        bytes_.update(getattr(m, "extra", {}) or {})
    except Exception as exc:  # pragma: no cover - measurement is defensive; keep the run alive
        bytes_ = {"code": None, "model": None, "total": None, "limit": None, "error": str(exc)}
    claims = sub.claims
    seeds = claims.get("seeds")
    if not isinstance(seeds, list):
        seed_results = claims.get("seed_results")
        if isinstance(seed_results, dict):
            seeds = list(seed_results)
        elif isinstance(seed_results, list):
            seeds = [r.get("seed") for r in seed_results if isinstance(r, dict)]
        else:
            seeds = [log.seed for log in sub.logs if log.seed is not None] or None

    def num(key: str) -> float | None:
        v = claims.get(key)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    scores = {"val_bpb": num("val_bpb"), "val_loss": num("val_loss"), "seeds": seeds}
    return bytes_, scores


def _log_details(sub: Submission) -> dict[str, Any]:
    """Per-log scores and the significance test, for the JSON report's `details`."""
    try:
        from .logs.evidence import log_details

        return log_details(sub)
    except Exception as exc:  # pragma: no cover - the parser never raises; keep the run alive anyway
        return {"logs_error": f"{type(exc).__name__}: {exc}"}


def _with_snippets(sub: Submission, findings: list[Finding]) -> list[Finding]:
    """Attach the source line a code finding points at, for the text report."""
    if not any(f.line is not None for f in findings):
        return findings
    units = {}
    try:
        units = {u.label: u for u in sub.code_units}
    except Exception:  # the loader's own failures are reported by GL000; keep reporting
        return findings
    out = []
    for f in findings:
        unit = units.get(f.where or f.file or "")
        if unit is not None and f.line is not None and "snippet" not in f.data:
            text = unit.line_text(f.line)
            if text:
                f = f.with_(data={**f.data, "snippet": text[:200]})
        out.append(f)
    return out


# One folder's check split over two processes is four shares of work, claimed in this order by
# whichever process is free: the dataflow rules (usually the longest), the byte rules with the byte
# summary (python-minifier or brotli can take a second there), the log rules with the log details,
# and the other rules with the native checks. A static half each left one process idle while the
# other minified a long script.
_DATAFLOW, _BYTES, _LOGS, _REST = range(4)
_GROUPS = (_DATAFLOW, _BYTES, _LOGS, _REST)


def _group_of(rule: Rule) -> int:
    if Fact.DATAFLOW in rule.facts:
        return _DATAFLOW
    if Fact.BYTES in rule.facts:
        return _BYTES
    if Fact.LOGS in rule.facts:
        return _LOGS
    return _REST


@dataclass
class _Share:
    """What one process computed of a submission's check: findings by the rule's position in the
    rule list, and the native checks, summaries and log details where its groups include them."""

    per_rule: dict[int, list[Finding]] = field(default_factory=dict)
    native: list[Finding] | None = None
    summaries: tuple[dict[str, Any], dict[str, Any]] | None = None
    details: dict[str, Any] | None = None
    groups: set[int] = field(default_factory=set)
    # files read by a forked child that the parent had not read (the result cache records them)
    reads: dict[str, Any] | None = None

    def take(self, other: _Share) -> None:
        """Add `other`'s groups (computed by the other process) to this share."""
        self.per_rule.update(other.per_rule)
        self.groups |= other.groups
        for name in ("native", "summaries", "details"):
            if getattr(self, name) is None:
                setattr(self, name, getattr(other, name))


def _compute_all(sub: Submission, rules: Sequence[Rule], debug: bool) -> _Share:
    """Every rule in order, then the native checks, summaries and details: the unsplit check.
    (Not `_compute` over every group: the rules would run grouped, and the folder's read budget
    would be spent in another order than rule order.)"""
    share = _Share({i: _run_rule(rule, sub, debug) for i, rule in enumerate(rules)}, groups=set(_GROUPS))
    share.native = _run_native_checks(sub, rules, debug)
    share.summaries = _summaries(sub)
    share.details = _log_details(sub)
    return share


def _compute(sub: Submission, rules: Sequence[Rule], debug: bool, groups: Iterable[int]) -> _Share:
    """The given groups of work (`groups` may be a claim queue, read as each group is done)."""
    share = _Share()
    for group in groups:
        share.groups.add(group)
        for i, rule in enumerate(rules):
            if _group_of(rule) == group:
                share.per_rule[i] = _run_rule(rule, sub, debug)
        if group == _BYTES:
            share.summaries = _summaries(sub)
        elif group == _LOGS:
            share.details = _log_details(sub)
        elif group == _REST:
            share.native = _run_native_checks(sub, rules, debug)
    return share


class _Claims:
    """The groups of work as bytes in a pipe that both processes read from: `os.read` of one byte
    is atomic, so each group is claimed by exactly one of them, and the pipe's end (no writer is
    left) tells both that nothing is left to claim."""

    def __init__(self, groups: Sequence[int]) -> None:
        self._read_end, write_end = os.pipe()
        try:
            os.write(write_end, bytes(groups))
        finally:
            os.close(write_end)

    def __iter__(self) -> Iterator[int]:
        while True:
            claimed = os.read(self._read_end, 1)
            if not claimed:
                return
            yield claimed[0]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._read_end)


def _shared_facts(sub: Submission) -> None:
    """Build, before the fork, the facts both processes read: the phase model (with every unit's
    index) and the run configuration. Either side would build them anyway before its first rule
    could use them, so the wall time is the same, and the CPU time of building them twice is saved.
    A fact that fails to build is left unbuilt: the rule that reads it reports the failure, as
    without the split."""
    from .facts.phases import phases_of

    for build in (lambda: phases_of(sub), lambda: sub.run_config):
        try:
            build()
        except Exception:  # noqa: BLE001 - reported by the rule that reads it
            pass


def _computed(sub: Submission, rules: Sequence[Rule], debug: bool, split: bool) -> _Share:
    """Every rule's findings, the native checks, summaries and details: here, or with `split`
    (and a platform that forks) in two processes, each claiming groups of work until none is left."""
    from .forked import ForkedCall, ForkFailed, can_fork

    split = split and can_fork()
    if split:
        try:
            sub.code_units  # parsed once, before the fork: both processes start from the same trees
        except Exception:  # noqa: BLE001 - the loader's failures are GL000's to report: check unsplit
            split = False
    if not split:
        return _compute_all(sub, rules, debug)
    _shared_facts(sub)
    read_before = set(sub.reads)
    try:
        claims = _Claims(_GROUPS)
    except OSError:  # no pipe to spare: check unsplit
        return _compute_all(sub, rules, debug)

    def child_share() -> _Share:
        share = _compute(sub, rules, debug, claims)
        share.reads = {rel: fr for rel, fr in sub.reads.items() if rel not in read_before}
        return share

    # The parsed code is shared with the child page by page until either side writes a page. The
    # garbage collector writes to every object it examines, so a collection in either process
    # would copy the whole heap: what exists at the fork is left out of collections until both
    # processes are done.
    gc.freeze()
    try:
        child = ForkedCall(child_share)
    except OSError:  # no process to spare (a process limit, memory): check unsplit
        gc.unfreeze()
        claims.close()
        return _compute_all(sub, rules, debug)
    theirs: _Share | None = None
    try:
        try:
            mine = _compute(sub, rules, debug, claims)
        except BaseException:
            child.cancel()
            raise
        finally:
            claims.close()
        with contextlib.suppress(ForkFailed):
            theirs = child.result()
    finally:
        gc.unfreeze()
    if theirs is None:  # the child gave no result: whatever it had claimed is done here
        theirs = _compute(sub, rules, debug, [g for g in _GROUPS if g not in mine.groups])
    sub.adopt_reads(theirs.reads or {})
    mine.take(theirs)
    return mine


def check_submission(sub: Submission, rules: Sequence[Rule], *, suppress: bool = True,
                     debug: bool = False, split: bool = False) -> SubmissionResult:
    """One submission's result. `split`: use a second process for half the rules (runner.py
    asks for it when one folder would otherwise leave the other cores idle); same result."""
    start = time.perf_counter()
    share = _computed(sub, rules, debug, split and not debug)
    try:
        return _result(sub, rules, share, start, suppress=suppress, debug=debug)
    finally:
        if split:
            # a forked child that sent its share is collected here, not waited for when it sent it
            from .forked import reap_children

            reap_children()


def _result(sub: Submission, rules: Sequence[Rule], share: _Share, start: float, *, suppress: bool,
            debug: bool) -> SubmissionResult:
    """The submission's result from the computed share: gated, suppressed, with snippets, sorted."""
    from .runconfig.gating import apply_gating

    findings: list[Finding] = [f for i in range(len(rules)) for f in share.per_rule[i]]
    findings.extend(share.native or [])
    try:
        findings = apply_gating(sub, findings)
    except Exception as exc:
        if debug:
            raise
        findings.append(InternalError().report(f"run-configuration gating crashed: {exc}"))
    findings = apply_suppressions(sub, findings, rules, enabled=suppress)
    findings = _with_snippets(sub, findings)
    bytes_, scores = share.summaries  # type: ignore[misc] - a whole check's share has them
    findings.sort(key=Finding.sort_key)
    result = SubmissionResult(
        path=sub.display, track=sub.track, findings=findings, bytes=bytes_, scores=scores,
        elapsed_ms=(time.perf_counter() - start) * 1000.0, details=share.details or {},
    )
    # The analyses' per-unit memos would otherwise keep this folder's code alive (memo.py).
    forget_folder_memos()
    return result
