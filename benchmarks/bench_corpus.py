"""Recall and false positives of `golflint check` on the public labelled corpus (benchmarks/corpus/manifest.toml).

Each case names a pull request of github:openai/parameter-golf, the commit and submission folder, the
organizers' (or the thread's) verdict and the rule ids that should fire. The folder is extracted at that
commit straight from git objects (`git ls-tree` + `git cat-file`, nothing is executed) into a temporary
directory, checked with `python -m golflint check --format json` (this checkout's golflint), and scored:

- recall: an invalid case is caught only when an ERROR of one of its expected rule ids fires
  (an id like GL2xx stands for any rule of that family);
- wrong reason: an invalid case not caught, but some other GL1xx/GL2xx error fires;
- false positive: a GL1xx/GL2xx error on an accepted record or a fixed case.

    PYTHONPATH=$PWD python benchmarks/bench_corpus.py                    # every case
    python benchmarks/bench_corpus.py --family slot-fit-on-targets --case pr1229,rec-2026-03-17_LoRA_TTT
    python benchmarks/bench_corpus.py --repo ~/src/parameter-golf --json corpus.json
    python benchmarks/bench_corpus.py --golflint-root ../other-checkout        # measure another branch

The repository is --repo, else $GOLFLINT_PG_REPO, else the local mirror path below. Any clone works
(bare or not) if it has the pull request heads: `git fetch origin '+refs/pull/*/head:refs/pull/*/head'`.
Without it the benchmark prints why and exits 0 (skipped).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = Path(__file__).resolve().parent / "corpus" / "manifest.toml"
DEFAULT_REPO = "/work/.mirror/openai+parameter-golf/repo"
INTEGRITY_PREFIXES = ("GL1", "GL2")  # the families a false positive is counted in
BATCH = 8  # folders per golflint process: fewer imports, and one crash costs little


@dataclass
class Case:
    id: str
    pr: int
    sha: str
    folder: str
    verdict: str
    family: str
    expected: list[str]
    link: str
    source: str
    note: str

    @property
    def positive(self) -> bool:
        return self.verdict == "invalid"


@dataclass
class Outcome:
    case: Case
    status: str  # caught | wrong-reason | missed | clean | false-positive | skipped | error
    errors: list[str] = field(default_factory=list)  # rule ids of active error findings
    detail: str = ""
    elapsed_ms: float | None = None


def load_manifest(path: Path = MANIFEST) -> tuple[dict[str, Any], list[Case]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    keys = Case.__dataclass_fields__.keys()
    cases = [Case(**{k: c[k] for k in keys}) for c in data.get("case", [])]
    return data, cases


def find_repo(arg: str | None) -> tuple[Path | None, str]:
    """The clone to read from, or None with the reason."""
    raw = arg or os.environ.get("GOLFLINT_PG_REPO") or DEFAULT_REPO
    path = Path(raw).expanduser()
    if not path.exists():
        return None, f"repository {path} not found (set --repo or GOLFLINT_PG_REPO to a clone of openai/parameter-golf)"
    probe = subprocess.run(["git", "-C", str(path), "rev-parse", "--git-dir"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return None, f"{path} is not a git repository: {probe.stderr.strip()}"
    return path, ""


def has_commit(repo: Path, sha: str) -> bool:
    probe = subprocess.run(["git", "-C", str(repo), "cat-file", "-e", f"{sha}^{{commit}}"], capture_output=True, check=False)
    return probe.returncode == 0


def _inside(root: Path, path: Path) -> bool:
    return os.path.commonpath([root, os.path.normpath(path)]) == str(root)


def extract(repo: Path, case: Case, dest: Path) -> tuple[Path, list[str]]:
    """Write case.folder at case.sha under dest (keeping records/<track>/<name>) from git objects only.

    Reads the tree with `git ls-tree` and the blobs with one `git cat-file --batch`; nothing is checked
    out and nothing runs. Returns the folder and the paths whose blobs the clone lacks (partial or
    shallow clones and mirrors may omit large model files): those files are left out, and golflint then
    sees a folder without them (the model size becomes unknown, for example)."""
    git = ["git", "--literal-pathspecs", "-C", str(repo)]
    listing = subprocess.run([*git, "ls-tree", "-r", "-z", case.sha, "--", case.folder + "/"], capture_output=True, check=False)
    if listing.returncode != 0:
        raise RuntimeError(listing.stderr.decode("utf-8", "replace").strip() or "git ls-tree failed")
    entries = []  # (mode, oid, path)
    for record in listing.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, oid = meta.decode().split()
        if kind == "blob":
            entries.append((mode, oid, raw_path.decode("utf-8", "surrogateescape")))
    if not entries:
        raise RuntimeError(f"{case.folder} has no files at {case.sha[:12]}")
    batch = subprocess.run([*git, "cat-file", "--batch"], input="".join(f"{oid}\n" for _, oid, _ in entries).encode(),
                           capture_output=True, check=False)
    if batch.returncode != 0:
        raise RuntimeError(batch.stderr.decode("utf-8", "replace").strip() or "git cat-file failed")
    root = dest.resolve()
    out, pos, missing, links = batch.stdout, 0, [], []
    for mode, oid, rel in entries:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) == 2 and header[1] == b"missing":
            missing.append(rel)
            continue
        size = int(header[2])
        data, pos = out[pos:pos + size], pos + size + 1  # the content is followed by a newline
        target = root / rel
        if not _inside(root, target):  # a path git should never hold; refuse rather than write outside
            raise RuntimeError(f"refusing path {rel!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == "120000":
            links.append((target, data.decode("utf-8", "surrogateescape")))
        else:
            target.write_bytes(data)
    for target, pointee in links:  # last, so no file is ever written through a link
        if not target.exists():
            target.symlink_to(pointee)  # golflint judges links itself (GL003); we never follow them here
    folder = dest / case.folder
    if not folder.is_dir():
        raise RuntimeError(f"{case.folder} is not a folder at {case.sha[:12]}")
    return folder, missing


def run_golflint(folders: list[Path], timeout: float, root: Path = ROOT) -> dict[str, dict[str, Any]] | None:
    """golflint check on the folders in one process, with the golflint package found under root (this
    checkout by default); results by resolved path, or None if no report came back."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        report = Path(out.name)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    cmd = [sys.executable, "-m", "golflint", "check", "--format", "json", "--isolated", "-o", str(report),
           *map(str, folders)]
    try:
        subprocess.run(cmd, cwd=root, env=env, capture_output=True, timeout=timeout, check=False)
        data = json.loads(report.read_text(encoding="utf-8"))
    except (subprocess.TimeoutExpired, json.JSONDecodeError, OSError):
        return None
    finally:
        report.unlink(missing_ok=True)
    return {str(Path(s["path"]).resolve()): s for s in data.get("submissions", [])}


def error_rules(result: dict[str, Any]) -> list[str]:
    return sorted({f["rule"] for f in result.get("findings", [])
                   if f.get("severity") == "error" and not f.get("suppressed")})


def matches(rule: str, expected: str) -> bool:
    """An expected id is exact (GL104) or a whole family of rules (GL2xx: any GL2 rule)."""
    if expected.endswith("xx"):
        return rule.startswith(expected[:-2])
    return rule == expected


def judge(case: Case, errors: list[str]) -> str:
    integrity = [r for r in errors if r.startswith(INTEGRITY_PREFIXES)]
    if case.positive:
        if any(matches(r, e) for r in errors for e in case.expected):
            return "caught"
        return "wrong-reason" if integrity else "missed"
    return "false-positive" if integrity else "clean"


def evaluate(repo: Path, cases: list[Case], timeout: float, progress: bool, root: Path = ROOT) -> list[Outcome]:
    outcomes: dict[str, Outcome] = {}
    with tempfile.TemporaryDirectory(prefix="golflint-corpus-") as tmp:
        ready: list[tuple[Case, Path]] = []
        absent: dict[str, list[str]] = {}
        for case in cases:
            if not has_commit(repo, case.sha):
                outcomes[case.id] = Outcome(case, "skipped", detail=f"commit {case.sha[:12]} not in the clone")
                continue
            try:
                folder, absent[case.id] = extract(repo, case, Path(tmp) / case.id)
                ready.append((case, folder))
            except (RuntimeError, OSError, ValueError) as exc:
                outcomes[case.id] = Outcome(case, "error", detail=f"extract: {exc}")
        for start in range(0, len(ready), BATCH):
            batch = ready[start:start + BATCH]
            results = run_golflint([folder for _, folder in batch], timeout * len(batch), root)
            if results is None and len(batch) > 1:  # one folder broke the batch: run them one by one
                results = {}
                for _, folder in batch:
                    results.update(run_golflint([folder], timeout, root) or {})
            for case, folder in batch:
                result = (results or {}).get(str(folder.resolve()))
                if result is None:
                    outcomes[case.id] = Outcome(case, "error", detail="golflint gave no report (crash or timeout)")
                    continue
                errors = error_rules(result)
                note = f"{len(absent[case.id])} file(s) absent from the clone" if absent[case.id] else ""
                outcomes[case.id] = Outcome(case, judge(case, errors), errors, detail=note,
                                            elapsed_ms=result.get("elapsed_ms"))
            if progress:
                print(f"  checked {min(start + BATCH, len(ready))}/{len(ready)}", file=sys.stderr)
    return [outcomes[c.id] for c in cases]


def pct(num: int, den: int) -> str:
    return f"{100.0 * num / den:5.1f}%" if den else "   - "


def summarize(outcomes: list[Outcome], families: dict[str, Any]) -> dict[str, Any]:
    scored = [o for o in outcomes if o.status not in ("skipped", "error")]
    positives = [o for o in scored if o.case.positive]
    negatives = [o for o in scored if not o.case.positive]
    per_family = {}
    for fam in sorted({o.case.family for o in positives}):
        rows = [o for o in positives if o.case.family == fam]
        caught = sum(o.status == "caught" for o in rows)
        per_family[fam] = {"rules": families.get(fam, {}).get("rules", []), "cases": len(rows), "caught": caught,
                           "wrong_reason": sum(o.status == "wrong-reason" for o in rows),
                           "recall": caught / len(rows) if rows else None}
    caught = sum(o.status == "caught" for o in positives)
    return {
        "invalid_cases": len(positives),
        "caught": caught,
        "recall": caught / len(positives) if positives else None,
        "wrong_reason": sum(o.status == "wrong-reason" for o in positives),
        "negative_cases": len(negatives),
        "false_positives": sum(o.status == "false-positive" for o in negatives),
        "skipped": sum(o.status == "skipped" for o in outcomes),
        "errors": sum(o.status == "error" for o in outcomes),
        "families": per_family,
    }


def print_report(outcomes: list[Outcome], summary: dict[str, Any]) -> None:
    print("per case (errors: GL1xx/GL2xx error findings, plus the expected ids if they fired)")
    print(f"{'case':<46} {'verdict':<9} {'family':<31} {'expected':<22} {'result':<15} errors")
    for o in outcomes:
        shown = [r for r in o.errors
                 if r.startswith(INTEGRITY_PREFIXES) or any(matches(r, e) for e in o.case.expected)]
        tail = " ".join(shown) or "-"
        if o.detail:
            tail += f"  ({o.detail})"
        print(f"{o.case.id[:46]:<46} {o.case.verdict:<9} {o.case.family[:31]:<31} "
              f"{','.join(o.case.expected)[:22] or '-':<22} {o.status:<15} {tail}")
    print()
    print("recall per family (a catch = an error of an expected rule id)")
    print(f"{'family':<32} {'rules':<34} {'caught':>7} {'recall':>7} {'wrong reason':>13}")
    for fam, row in summary["families"].items():
        print(f"{fam:<32} {','.join(row['rules']):<34} {row['caught']:>3}/{row['cases']:<3} "
              f"{pct(row['caught'], row['cases']):>7} {row['wrong_reason']:>13}")
    s = summary
    print()
    print(f"overall recall:   {s['caught']}/{s['invalid_cases']} = {pct(s['caught'], s['invalid_cases']).strip()}")
    print(f"wrong reason:     {s['wrong_reason']} (not caught by an expected rule, but another GL1xx/GL2xx error)")
    print(f"false positives:  {s['false_positives']}/{s['negative_cases']} accepted or fixed cases with a GL1xx/GL2xx error")
    if s["skipped"] or s["errors"]:
        print(f"not scored:       {s['skipped']} skipped (commit missing), {s['errors']} errors")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", help="clone of openai/parameter-golf with refs/pull/*/head "
                        f"(default: $GOLFLINT_PG_REPO or {DEFAULT_REPO})")
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument("--family", action="append", default=[], help="only these families (repeat or comma-separate)")
    parser.add_argument("--case", action="append", default=[], help="only these case ids (repeat or comma-separate)")
    parser.add_argument("--verdict", action="append", default=[], help="only these verdicts: invalid, accepted, fixed")
    parser.add_argument("--json", type=Path, help="also write the summary and every case's outcome here")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per folder before golflint is stopped")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--golflint-root", type=Path, default=ROOT,
                        help="checkout whose golflint package is measured (default: this one), to compare branches")
    opts = parser.parse_args(argv)

    data, cases = load_manifest(opts.manifest)
    split = lambda values: {v for arg in values for v in arg.split(",") if v}
    families, ids, verdicts = split(opts.family), split(opts.case), split(opts.verdict)
    unknown = (families - set(data.get("families", {})) - {"accepted"}) | (ids - {c.id for c in cases})
    if unknown:
        print(f"error: unknown family or case: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    cases = [c for c in cases if (not families or c.family in families) and (not ids or c.id in ids)
             and (not verdicts or c.verdict in verdicts)]
    repo, why = find_repo(opts.repo)
    if repo is None:
        print(f"skipped: {why}")
        return 0
    started = time.perf_counter()
    root = opts.golflint_root.resolve()
    if not (root / "golflint" / "__init__.py").is_file():
        print(f"error: no golflint package under {root}", file=sys.stderr)
        return 2
    outcomes = evaluate(repo, cases, opts.timeout, progress=not opts.quiet, root=root)
    summary = summarize(outcomes, data.get("families", {}))
    print_report(outcomes, summary)
    print(f"time:             {time.perf_counter() - started:.0f} s for {len(cases)} cases")
    if opts.json:
        payload = {"summary": summary, "cases": [
            {"id": o.case.id, "pr": o.case.pr, "verdict": o.case.verdict, "family": o.case.family,
             "expected": o.case.expected, "status": o.status, "errors": o.errors, "detail": o.detail,
             "elapsed_ms": o.elapsed_ms} for o in outcomes]}
        opts.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # piped into head: stop quietly
        sys.exit(0)
