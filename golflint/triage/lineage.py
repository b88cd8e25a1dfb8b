"""Lineage: for each submission, its nearest earlier submission measured on the code itself.

Candidates: every submission strictly earlier, except other folders of the same pull request.
Pull request numbers are given out in opening order, so among pull requests the number decides;
against accepted records, a pull request counts as opened at the latest date of any pull request
with a number up to its own (a PR stacked on an older branch carries old commits, and its oldest
commit says little about when it was opened). A whole-submission MinHash (all shingles of all decoded Python)
ranks them; the best CANDIDATES are then compared function by function: a function is shared when
its best match in the candidate reaches `threshold` identity (1.0 when the normalized token streams
are equal, else the MinHash estimate of the Jaccard similarity of their shingle sets). The ancestor
is the candidate whose shared functions cover the largest share of the submission's code (tokens);
ties go to the most recent one, so a chain of copies points at the previous link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import fingerprint

CANDIDATES = 6
SIZE_SLACK = 0.85   # token counts are a proxy for shingle-set sizes: leave room


@dataclass
class Entry:
    index: int                       # position in the caller's list
    order: tuple                     # (opened or added, pr or big, kind, folder)
    group: str                       # "pr:123" / "record:<folder>": entries of one group never match
    signature: np.ndarray | None     # whole-submission MinHash
    functions: list[dict]            # name, unit, start, end, tokens, digest, findings
    matrix: np.ndarray | None        # (functions, PERMUTATIONS) signatures
    digests: np.ndarray | None


def opened_estimates(subs: Sequence[dict[str, Any]]) -> dict[int, int]:
    """PR number -> the running maximum of PR dates in number order (monotone in the number)."""
    dates: dict[int, int] = {}
    for s in subs:
        if s.get("kind") == "pr" and s.get("pr") is not None:
            dates[s["pr"]] = max(dates.get(s["pr"], 0), s.get("date") or 0)
    out, latest = {}, 0
    for number in sorted(dates):
        latest = max(latest, dates[number])
        out[number] = latest
    return out


def make_entry(index: int, sub: dict[str, Any], signatures: dict[str, str],
               opened: dict[int, int] | None = None) -> Entry:
    analysis = sub.get("analysis") or {}
    functions = [f for f in analysis.get("functions") or [] if f.get("digest") in signatures]
    sig = analysis.get("signature")
    matrix = (np.stack([fingerprint.decode(signatures[f["digest"]]) for f in functions])
              if functions else None)
    digests = np.array([f["digest"] for f in functions]) if functions else None
    pr = sub.get("pr")
    group = f"pr:{pr}" if sub.get("kind") == "pr" else f"record:{sub.get('folder')}"
    when = (opened or {}).get(pr, sub.get("date") or 0) if sub.get("kind") == "pr" else (sub.get("date") or 0)
    order = (when, pr if pr is not None else 1 << 30, sub.get("kind") or "", sub.get("folder") or "")
    return Entry(index, order, group, fingerprint.decode(sig) if sig else None, functions, matrix,
                 digests)


def _compare(me: Entry, other: Entry, threshold: float) -> tuple[float, list[dict]]:
    """(share of my tokens in shared functions, the shared functions) against one candidate."""
    if me.matrix is None or other.matrix is None:
        return 0.0, []
    sims = (me.matrix[:, None, :] == other.matrix[None, :, :]).mean(axis=2)
    # Jaccard >= t needs the smaller shingle set to hold at least t of the larger one: functions of
    # very different lengths cannot be that similar, whatever the estimate says (short generic
    # functions otherwise match long ones by chance).
    mine_len = np.array([f["tokens"] for f in me.functions], dtype=float)
    their_len = np.array([f["tokens"] for f in other.functions], dtype=float)
    ratio = np.minimum.outer(mine_len, their_len) / np.maximum.outer(mine_len, their_len)
    sims[ratio < threshold * SIZE_SLACK] = 0.0
    sims[me.digests[:, None] == other.digests[None, :]] = 1.0
    best = sims.argmax(axis=1)
    total = sum(f["tokens"] for f in me.functions) or 1
    covered = 0
    shared = []
    for i, j in enumerate(best):
        identity = float(sims[i, j])
        if identity < threshold:
            continue
        mine, theirs = me.functions[i], other.functions[j]
        covered += mine["tokens"] * identity
        shared.append({
            "function": mine["name"], "unit": mine["unit"], "line": mine["start"],
            "ancestor_function": theirs["name"], "ancestor_unit": theirs["unit"],
            "ancestor_line": theirs["start"], "identity": round(identity, 3), "tokens": mine["tokens"],
            "ancestor_findings": _distinct(theirs.get("findings") or []),
        })
    shared.sort(key=lambda s: (-bool(s["ancestor_findings"]), -s["tokens"], s["function"]))
    return covered / total, shared


def _distinct(findings: list[dict]) -> list[dict]:
    """One entry per (rule, line): a rule may report twice on one line with different messages."""
    seen: set[tuple] = set()
    out = []
    for f in findings:
        key = (f.get("rule"), f.get("line"))
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def lineage(subs: Sequence[dict[str, Any]], signatures: dict[str, str], threshold: float = 0.8,
            max_shared: int = 25) -> list[dict[str, Any] | None]:
    """One lineage record (or None: no earlier submission shares code) per submission, in order."""
    opened = opened_estimates(subs)
    entries = [make_entry(i, s, signatures, opened) for i, s in enumerate(subs)]
    ordered = sorted(entries, key=lambda e: e.order)
    out: list[dict[str, Any] | None] = [None] * len(subs)
    sig_rows = [e for e in ordered if e.signature is not None]
    sig_matrix = np.stack([e.signature for e in sig_rows]) if sig_rows else None
    position = {e.index: k for k, e in enumerate(sig_rows)}
    for entry in ordered:
        if entry.signature is None or entry.matrix is None:
            continue
        k = position[entry.index]
        if k == 0:
            continue
        earlier = sig_rows[:k]
        whole = (sig_matrix[:k] == entry.signature).mean(axis=1)
        candidates = [j for j in np.argsort(-whole, kind="stable")
                      if earlier[j].group != entry.group and earlier[j].order < entry.order][:CANDIDATES]
        best: tuple[float, int, list[dict], float] | None = None
        for j in candidates:
            score, shared = _compare(entry, earlier[j], threshold)
            if not shared:
                continue
            # Ties (equal coverage) go to the later candidate: the nearest link of a chain.
            if best is None or (score, j) > (best[0], best[1]):
                best = (score, int(j), shared, float(whole[j]))
        if best is None:
            continue
        score, j, shared, whole_sim = best
        ancestor = subs[earlier[j].index]
        out[entry.index] = {
            "ancestor": {"kind": ancestor.get("kind"), "pr": ancestor.get("pr"),
                         "folder": ancestor.get("folder"), "commit": ancestor.get("commit"),
                         "id": ancestor.get("id")},
            "coverage": round(score, 3),
            "whole_similarity": round(whole_sim, 3),
            "shared_count": len(shared),
            "shared": shared[:max_shared],
        }
    return out


def describe(shared: dict, ancestor_name: str) -> str:
    """"eval_val() is 96% identical to PR #1313's, which has GL101 at line 870"."""
    pct = round(shared["identity"] * 100)
    text = f"{shared['function']}() is {pct}% identical to {ancestor_name}'s"
    if shared["function"] != shared["ancestor_function"]:
        text += f" {shared['ancestor_function']}()"
    findings = shared.get("ancestor_findings") or []
    if findings:
        rules = ", ".join(f"{f['rule']} at line {f['line']}" for f in findings[:3])
        text += f", which has {rules}"
    return text
