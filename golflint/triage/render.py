"""The triage reports: rows for report/table.py (terminal, markdown, HTML, JSON) from a final document."""

from __future__ import annotations

import html
import time
from typing import Any
from urllib.parse import quote

from ..report.table import Column, Link, Table, md_escape, to_html, to_markdown, to_text
from .lineage import describe

COLUMNS = (
    Column("pr", "PR", "link", numeric=True),
    Column("folder", "folder", "link"),
    Column("author", "author"),
    Column("date", "date", "date"),
    Column("bpb", "claimed BPB", "number", align="right", fmt="{:.4f}"),
    Column("bytes", "bytes", "number", align="right", fmt="{:,}"),
    Column("verdict", "verdict"),
    Column("findings", "top findings", "links"),
    Column("ancestor", "ancestor", "link"),
    Column("coverage", "copied %", "number", align="right", fmt="{:.0f}", markdown=False),
    Column("shared", "shared functions", "links", markdown=False, terminal=False),
    Column("rules", "all rules", markdown=False, terminal=False),
)
# Top findings: the most severe first, and among equals the evaluation-integrity and data-access
# families before the byte, log and metadata ones: what a reviewer must read first.
FAMILY_ORDER = {"1": 0, "2": 1, "3": 2, "4": 3, "0": 4, "9": 5}
SEVERITY_ORDER = {"error": 0, "warning": 1}
TOP_FINDINGS = 3
SHOWN_SHARED = 3    # in the page; the JSON lists up to 25
COMMENT_LIMIT = 60_000   # characters; GitHub allows 65,536 in an issue comment


def _blob(url: str, commit: str | None, path: str, line: int | None = None) -> str | None:
    if not commit:
        return None
    href = f"{url.rstrip('/')}/blob/{commit}/{quote(path)}"
    return f"{href}#L{line}" if line else href


def _tree(url: str, commit: str | None, path: str) -> str | None:
    return f"{url.rstrip('/')}/tree/{commit}/{quote(path)}" if commit else None


def _name(sub: dict) -> str:
    return f"PR #{sub['pr']}" if sub.get("kind") == "pr" and sub.get("pr") is not None else (
        f"record {sub['folder'].rsplit('/', 1)[-1]}" if sub.get("kind") == "record" else sub.get("ref", "?"))


def finding_links(sub: dict, url: str, limit: int = TOP_FINDINGS) -> list[Link]:
    out = []
    findings = sorted((f for f in (sub.get("analysis") or {}).get("findings") or []
                       if f.get("severity") in SEVERITY_ORDER),
                      key=lambda f: (SEVERITY_ORDER[f["severity"]],
                                     FAMILY_ORDER.get(f["rule"][2:3], 9), f["rule"]))
    for f in findings[:limit]:
        file = f.get("file")
        decoded = f.get("where") and f.get("where") != file
        # A line in decoded (packed) code is not a line of the stored file: link the file itself.
        line = None if decoded else f.get("line")
        href = _blob(url, sub.get("commit"), f"{sub['folder']}/{file}", line) if file else None
        place = f.get("where") or file or ""
        loc = f"{place}:{f['line']}" if f.get("line") else place
        out.append(Link(f"{f['rule']} {loc}".strip(), href, f"{f['severity']}: {f['message']}"))
    return out


def row(sub: dict, url: str) -> dict[str, Any]:
    a = sub.get("analysis") or {}
    counts = a.get("counts") or {}
    verdict = a.get("verdict") or "error"
    if verdict in ("fail", "warn"):
        verdict = f"{verdict} ({counts.get('error', 0)}E {counts.get('warning', 0)}W)"
    link = sub.get("lineage")
    ancestor = shared = coverage = None
    if link:
        anc = link["ancestor"]
        anc_name = _name(anc)
        anc_url = (f"{url.rstrip('/')}/pull/{anc['pr']}" if anc.get("kind") == "pr"
                   else _tree(url, anc.get("commit"), anc["folder"]))
        ancestor = Link(anc_name, anc_url, f"{anc['folder']} ({link['shared_count']} shared functions)")
        coverage = link["coverage"] * 100
        shared = [Link(describe(s, anc_name),
                       _blob(url, anc.get("commit"), f"{anc['folder']}/{s['ancestor_unit']}",
                             s["ancestor_line"]) if "(decoded" not in s["ancestor_unit"] else None)
                  for s in link["shared"][:SHOWN_SHARED]]
        more = link["shared_count"] - len(shared)
        if more > 0:
            rest = [s["function"] for s in link["shared"][SHOWN_SHARED:]]
            shared.append(Link(f"... and {more} more", None, ", ".join(rest)))
    pr = sub.get("pr")
    return {
        "pr": Link(f"#{pr}", f"{url.rstrip('/')}/pull/{pr}") if pr is not None else Link(sub["ref"]),
        "folder": Link(sub["folder"].split("/", 1)[-1], _tree(url, sub.get("commit"), sub["folder"])),
        "author": sub.get("author") or "",
        "date": time.strftime("%Y-%m-%d %H:%M", time.gmtime(sub["date"])) if sub.get("date") else "",
        "bpb": a.get("claimed_bpb"),
        "bytes": a.get("bytes"),
        "verdict": verdict,
        "findings": finding_links(sub, url) or ([Link(a["error"])] if a.get("error") else []),
        "ancestor": ancestor,
        "coverage": coverage,
        "shared": shared,
        "rules": " ".join(sorted({f["rule"] for f in a.get("findings") or []
                                  if f.get("severity") in SEVERITY_ORDER})),
    }


def table(doc: dict) -> Table:
    url = doc["repository"]["url"]
    subs = [s for s in doc["submissions"] if s["kind"] == "pr"]
    st = doc["stats"]
    notes = [(f"{st['submissions']} submission folders in {st['refs_with_submissions']} of {st['refs']} "
              f"refs; {st['records']} accepted records indexed for lineage; "
              f"main {doc['repository']['main'][:12]}")]
    if doc["shards"]["missing"]:
        notes.append(f"incomplete: shards {doc['shards']['missing']} of {doc['shards']['count']} are missing")
    return Table(COLUMNS, [row(s, url) for s in subs], title="golflint triage", notes=notes)


def html_page(doc: dict) -> str:
    st = doc["stats"]
    verdicts = ", ".join(f"{html.escape(k)}: {v}" for k, v in st["verdicts"].items())
    header = (f'<div class="notes">verdicts: {verdicts}. Lines link to the pull request\'s commit; '
              "copied % is the share of the submission's code in functions shared with its ancestor.</div>")
    return to_html(table(doc), header_html=header)


def markdown_summary(doc: dict, limit: int = 40) -> str:
    """Fit for an issue comment: counts, then failing and copied submissions first."""
    st = doc["stats"]
    url = doc["repository"]["url"]
    lines = ["## golflint triage", "",
             f"{st['submissions']} submission folders in {st['refs_with_submissions']} pull request refs "
             f"({st['refs']} refs scanned); verdicts: "
             + ", ".join(f"**{k}** {v}" for k, v in st["verdicts"].items()), ""]
    subs = [s for s in doc["submissions"] if s["kind"] == "pr"]
    rank = {"error": 0, "fail": 1, "warn": 2, "pass": 3, "deleted": 4}
    subs.sort(key=lambda s: (rank.get((s.get("analysis") or {}).get("verdict"), 0), -(s.get("pr") or 0)))
    t = Table(COLUMNS, [row(s, url) for s in subs])
    lines.append(to_markdown(t, limit=limit))
    carried = []
    for s in subs:
        for x in (s.get("lineage") or {}).get("shared") or []:
            if x["ancestor_findings"]:
                carried.append((_carried_rank(x), -(s.get("pr") or 0), s, x))
    carried.sort(key=lambda c: c[:2])
    if carried:
        lines += ["", "### Shared code that carries a finding in its ancestor",
                  "(errors of the evaluation-integrity and data-access families first)", ""]
        for _, _, s, x in carried[: 2 * limit]:
            anc = _name(s["lineage"]["ancestor"])
            lines.append(f"- PR \\#{s['pr']} {md_escape(s['folder'].rsplit('/', 1)[-1])}: "
                         f"{md_escape(describe(x, anc))}")
    text = "\n".join(lines) + "\n"
    if len(text) > COMMENT_LIMIT:  # GitHub refuses longer comments: cut at a line, and say so
        cut = text.rfind("\n", 0, COMMENT_LIMIT - 200)
        text = text[:cut] + "\n\n... cut to fit a GitHub comment; the HTML and JSON reports hold everything.\n"
    return text


def _carried_rank(shared: dict) -> tuple:
    """Most telling first: an error of GL1xx/GL2xx in the ancestor's copy beats a metadata warning."""
    best = min((SEVERITY_ORDER.get(f.get("severity"), 2), FAMILY_ORDER.get(str(f.get("rule"))[2:3], 9))
               for f in shared["ancestor_findings"])
    return (*best, -shared["tokens"])


def terminal(doc: dict) -> str:
    return to_text(table(doc))
