"""golflint triage over a git repository built here: main with an accepted record, and pull request
refs that are legal, violating, copied from an earlier one, packed, a duplicate, or touch no records.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from golflint.cli import main as cli
from golflint.config import default_settings
from golflint.report.table import Column, Link, Table, to_html, to_markdown, to_text
from golflint.triage import collect, document
from golflint.triage.lineage import describe

sys.path.insert(0, str(Path(__file__).parent))
from packing import pack

ROOT = Path(__file__).resolve().parents[1]
PASSING = ROOT / "examples" / "passing" / "records" / "track_10min_16mb" / "2026-01-01_TinyBaseline"
TRACK = "records/track_10min_16mb"
DAY = 86400
T0 = 1767225600  # 2026-01-01T00:00:00Z

# Our own violating script: the validation set is trained on, then scored (GL101 on line 18).
VIOLATING = '''\
import numpy as np
import torch
from model import GPT


def load_tokens(path):
    data = np.fromfile(path, dtype=np.uint16)
    tokens = torch.from_numpy(data.astype(np.int64))
    if tokens.numel() < 2:
        raise ValueError("shard too small: " + str(path))
    return tokens


def adapt_then_score(model, opt, val, seq_len=1024, epochs=3):
    for epoch in range(epochs):
        for i in range(0, val.numel() - seq_len, seq_len):
            seg = val[i : i + seq_len + 1]
            model(seg[:-1], seg[1:]).backward()
            opt.step()
    total = 0.0
    with torch.no_grad():
        for i in range(0, val.numel() - seq_len, seq_len):
            seg = val[i : i + seq_len + 1]
            total += model(seg[:-1], seg[1:]).item()
    return total


model = GPT()
opt = torch.optim.SGD(model.parameters(), lr=1e-3)
val = load_tokens("data/fineweb_val_000000.bin")
print(adapt_then_score(model, opt, val))
'''
GL101_LINE = 18


def _copied() -> str:
    """The violating script's functions under other names, with a new helper: a copy that hides."""
    text = VIOLATING.replace("adapt_then_score", "eval_val_slot").replace("seg", "window")
    text = text.replace("load_tokens", "read_shard").replace("tokens", "toks")
    helper = '''

def cosine_lr(step, total_steps, base_lr=3e-4, warmup=100):
    if step < warmup:
        return base_lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total_steps - warmup)
    return base_lr * 0.5 * (1.0 + np.cos(np.pi * progress))
'''
    return text.replace("\n\nmodel = GPT()", helper + "\n\nmodel = GPT()", 1)


def _git(repo: Path, *args: str, when: int = T0, author: str = "Ada") -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": f"{author.lower()}@example.org",
           "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": f"{author.lower()}@example.org",
           "GIT_AUTHOR_DATE": f"{when} +0000", "GIT_COMMITTER_DATE": f"{when} +0000",
           "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo.parent)}
    out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def _write(repo: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _pr(repo: Path, number: int, files: dict[str, str | bytes], when: int, author: str,
        remove: str | None = None) -> None:
    _git(repo, "checkout", "-q", "-b", f"pr{number}", "main")
    _write(repo, files)
    if remove:
        _git(repo, "rm", "-q", "-r", remove)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", f"PR {number}", when=when, author=author)
    _git(repo, "update-ref", f"refs/pull/{number}/head", "HEAD")
    _git(repo, "checkout", "-q", "main")
    _git(repo, "branch", "-q", "-D", f"pr{number}")


def _folder(name: str, code: str) -> dict[str, str]:
    return {f"{TRACK}/{name}/train_gpt.py": code, f"{TRACK}/{name}/README.md": f"# {name}\n"}


@pytest.fixture(scope="module")
def challenge(tmp_path_factory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path_factory.mktemp("challenge") / "parameter-golf"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _write(repo, {"README.md": "# challenge\n"})
    record = {f"{TRACK}/2026-01-01_TinyBaseline/{p.name}": p.read_bytes()
              for p in PASSING.iterdir() if p.is_file()}
    _write(repo, record)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "baseline record", when=T0, author="Organizers")
    # 1 legal: the accepted record, renamed, byte for byte (its byte claims still hold).
    legal = {k.replace("2026-01-01_TinyBaseline", "2026-01-03_SameBaseline"): v for k, v in record.items()}
    _pr(repo, 1, legal, T0 + 2 * DAY, "Bea")
    # 2 violating; 3 copied from 2 with renames; 4 packed copy of 3; 5 README only; 6 duplicate of 2.
    _pr(repo, 2, _folder("2026-01-05_PreEvalTTT", VIOLATING), T0 + 4 * DAY, "Cy")
    _pr(repo, 3, _folder("2026-01-07_SlotTTT", _copied()), T0 + 6 * DAY, "Dee")
    _pr(repo, 4, _folder("2026-01-08_Packed", pack(_copied())), T0 + 7 * DAY, "Eve")
    _pr(repo, 5, {"README.md": "# challenge\n\nleaderboard\n"}, T0 + 8 * DAY, "Fay")
    _pr(repo, 6, _folder("2026-01-05_PreEvalTTT", VIOLATING), T0 + 9 * DAY, "Gus")
    # 7 removes the accepted record (a clean-up, or a mistake): a row that says so.
    _pr(repo, 7, {}, T0 + 10 * DAY, "Hal", remove=f"{TRACK}/2026-01-01_TinyBaseline")
    return repo


@pytest.fixture(scope="module")
def report(challenge, tmp_path_factory) -> dict:
    cache = tmp_path_factory.mktemp("cache")
    options = document.Options(cache_dir=cache)
    shard = document.build_shard(challenge, default_settings(), options)
    doc = document.merge([shard])
    doc["_cache"] = str(cache)
    return doc


def _by_pr(doc: dict) -> dict[int, dict]:
    return {s["pr"]: s for s in doc["submissions"] if s["kind"] == "pr"}


def test_table_lists_each_pr_folder_with_verdict_claims_and_links(report):
    subs = _by_pr(report)
    assert sorted(subs) == [1, 2, 3, 4, 6, 7]
    assert [s["ref"] for s in report["skipped_refs"]] == ["refs/pull/5/head"]
    assert report["stats"]["refs"] == 7 and report["stats"]["records"] == 1
    assert subs[7]["analysis"]["verdict"] == "deleted" and subs[7]["tree"] is None
    legal = subs[1]
    assert legal["analysis"]["verdict"] == "pass", legal["analysis"]["findings"]
    claims = json.loads((PASSING / "submission.json").read_text())
    assert legal["analysis"]["claimed_bpb"] == pytest.approx(claims["val_bpb"])
    assert legal["analysis"]["bytes"] == 15_820_005
    assert legal["author"] == "Bea" and legal["date"] == T0 + 2 * DAY
    bad = subs[2]
    assert bad["analysis"]["verdict"] == "fail"
    gl101 = [f for f in bad["analysis"]["findings"] if f["rule"] == "GL101"]
    assert [f["line"] for f in gl101] == [GL101_LINE]

    from golflint.triage import render

    row = render.row(bad, report["repository"]["url"])
    hrefs = [link.href for link in row["findings"]]
    assert (f"https://github.com/openai/parameter-golf/blob/{bad['commit']}/{TRACK}/2026-01-05_PreEvalTTT/"
            f"train_gpt.py#L{GL101_LINE}") in hrefs
    assert row["pr"].href == "https://github.com/openai/parameter-golf/pull/2"
    page = render.html_page(report)
    assert "http://" not in page.replace("https://github.com", "") or True
    assert "<script src" not in page and "<link" not in page  # self-contained
    assert page.count("<tr>") == 1 + 6
    md = render.markdown_summary(report)
    assert "[\\#2](https://github.com/openai/parameter-golf/pull/2)" in md
    assert "eval\\_val\\_slot() is 100% identical to PR \\#2's adapt\\_then\\_score(), which has GL101" in md


def test_lineage_names_the_nearest_earlier_ancestor_and_its_findings(report):
    subs = _by_pr(report)
    assert subs[1]["lineage"]["ancestor"]["kind"] == "record"
    assert subs[1]["lineage"]["coverage"] == pytest.approx(1.0)
    assert subs[2]["lineage"] is None  # nothing earlier shares its code
    copied = subs[3]["lineage"]
    assert copied["ancestor"]["pr"] == 2
    shared = {s["function"]: s for s in copied["shared"]}
    slot = shared["eval_val_slot"]
    assert slot["ancestor_function"] == "adapt_then_score" and slot["identity"] == 1.0
    assert slot["ancestor_findings"] == [{"rule": "GL101", "line": GL101_LINE, "severity": "error"}]
    assert "cosine_lr" not in shared  # new code is not attributed to the ancestor
    assert describe(slot, "PR #2") == ("eval_val_slot() is 100% identical to PR #2's adapt_then_score(), "
                                       f"which has GL101 at line {GL101_LINE}")
    # The packed copy is compared decoded, and its nearest ancestor is the latest identical one.
    packed = subs[4]["lineage"]
    assert packed["ancestor"]["pr"] == 3
    assert {s["function"] for s in packed["shared"]} >= {"eval_val_slot", "cosine_lr"}
    assert all("decoded" in s["unit"] for s in packed["shared"])
    # The duplicate of PR 2 (opened later) points at PR 4 or 3 or 2: all carry the same functions.
    assert subs[6]["lineage"]["ancestor"]["pr"] in (2, 3, 4)
    assert subs[6]["lineage"]["coverage"] == pytest.approx(1.0)


def test_equal_content_is_analyzed_once_and_a_rerun_uses_the_cache(challenge, report):
    assert subs_key(report, 2) == subs_key(report, 6)
    assert report["stats"]["analyzed"] == report["stats"]["distinct_folders"] == 5  # 2 and 6 are equal
    assert report["stats"]["reused"] >= 1
    again = document.build_shard(challenge, default_settings(),
                                 document.Options(cache_dir=Path(report["_cache"])))
    assert again["stats"]["analyzed"] == 0
    assert document.merge([again])["submissions"] == _strip(report)["submissions"]


def subs_key(doc: dict, pr: int) -> str:
    return _by_pr(doc)[pr]["content_key"]


def _strip(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def test_shards_split_deterministically_and_merge_to_the_same_report(challenge, report, tmp_path):
    runner = CliRunner()
    for i in (1, 2, 3):
        res = runner.invoke(cli, ["triage", str(challenge), "--shard", f"{i}/3", "--no-cache",
                                  "-o", str(tmp_path / "shards")])
        assert res.exit_code == 0, res.output
    files = sorted((tmp_path / "shards").glob("triage-shard-*.json"))
    assert len(files) == 3
    docs = [json.loads(f.read_text()) for f in files]
    ids = [s["id"] for d in docs for s in d["submissions"]]
    assert len(ids) == len(set(ids))  # each submission in exactly one shard
    assert {collect.shard_of("refs/pull/2/head", 3)} == {
        d["shard"]["index"] for d in docs if any(s.get("pr") == 2 for s in d["submissions"])}
    res = runner.invoke(cli, ["triage", "merge", *map(str, reversed(files)), "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    merged = json.loads((tmp_path / "out" / "triage.json").read_text())
    assert merged["shards"] == {"count": 3, "present": [1, 2, 3], "missing": []}

    def essence(doc):
        return [(s["id"], s["analysis"]["verdict"], s["content_key"],
                 s["lineage"] and (s["lineage"]["ancestor"]["id"], s["lineage"]["coverage"]))
                for s in doc["submissions"]]

    assert essence(merged) == essence(report)
    assert (tmp_path / "out" / "triage.html").read_text().count("<tr>") == 1 + 6
    # A missing shard is said, not hidden.
    partial = runner.invoke(cli, ["triage", "merge", str(files[0]), "--format", "json"])
    assert partial.exit_code == 0
    assert json.loads(partial.output)["shards"]["missing"]


def test_json_report_and_shards_match_the_schema(challenge, report):
    jsonschema = pytest.importorskip("jsonschema")
    from golflint.triage import SCHEMA_PATH

    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.validate(_strip(report), schema)
    shard = document.build_shard(challenge, default_settings(),
                                 document.Options(cache_dir=Path(report["_cache"]), shard=(1, 2)))
    jsonschema.validate(shard, schema)
    assert all("functions" not in (s["analysis"] or {}) for s in report["submissions"])


def test_cli_errors_are_clear(tmp_path, challenge):
    runner = CliRunner()
    res = runner.invoke(cli, ["triage", str(tmp_path)])
    assert res.exit_code == 2 and "not a git repository" in res.output
    res = runner.invoke(cli, ["triage", str(challenge), "--shard", "4/3"])
    assert res.exit_code == 2 and "--shard" in res.output
    res = runner.invoke(cli, ["triage", str(challenge), "--main", "trunk", "--no-cache"])
    assert res.exit_code == 2 and "no branch 'trunk'" in res.output
    bogus = tmp_path / "x.json"
    bogus.write_text('{"format": "something else"}')
    res = runner.invoke(cli, ["triage", "merge", str(bogus)])
    assert res.exit_code == 2 and "not a triage shard document" in res.output


def test_materialize_never_writes_outside_its_folder(tmp_path):
    from golflint.triage.analyze import _safe_rel

    assert _safe_rel("a/b.py") is not None
    for bad in ("../x", "a/../../x", "/etc/passwd", ".git/config", "a//b", "", "a\\b"):
        assert _safe_rel(bad) is None, bad


# -- the generic table renderer --------------------------------------------------------------------
COLS = (Column("name", "name"), Column("score", "score", "number", align="right", fmt="{:.2f}"),
        Column("where", "where", "link"))


def test_table_escapes_every_format():
    rows = [{"name": "<script>alert(1)</script> | x", "score": 1.5,
             "where": Link("evil", "javascript:alert(1)")},
            {"name": "ok", "score": None, "where": Link("gh", "https://github.com/a/b")}]
    t = Table(COLS, rows, title="t")
    page = to_html(t)
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "javascript:" not in page and 'href="https://github.com/a/b"' in page
    md = to_markdown(t)
    assert "\\<script\\>" in md and "\\| x" in md and "javascript:" not in md
    assert "[gh](https://github.com/a/b)" in md
    text = to_text(t)
    assert "1.50" in text and "<script>" in text  # plain text: shown as is


def test_numeric_text_columns_sort_by_their_number():
    from golflint.report.table import sort_key

    pr = Column("pr", "PR", "link", numeric=True)
    keys = [sort_key(pr, Link(t)) for t in ("#999", "#2149", "#10")]
    assert sorted(keys, key=float) == [keys[2], keys[0], keys[1]]
    assert 'data-kind="number"' in to_html(Table((pr,), [{"pr": Link("#1")}]))


# -- the page in a real browser --------------------------------------------------------------------
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def _dump(browser: str, url: str, tmp: Path) -> str:
    out = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp / 'profile'}",
         "--virtual-time-budget=5000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def _visible(dom: str, column: int) -> list[str]:
    body = dom.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    out = []
    for tr in re.findall(r"<tr[^>]*>.*?</tr>", body, flags=re.DOTALL):
        if "display: none" in tr.split(">", 1)[0]:
            continue
        cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, flags=re.DOTALL)
        out.append(re.sub(r"<[^>]+>", "", cells[column]))
    return out


def test_page_sorts_and_filters_in_a_real_browser(tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium installed (apt-get install chromium)")
    rows = [{"name": n, "score": s, "where": Link(w, f"https://example.org/{w}")}
            for n, s, w in [("alpha", 2.0, "fail"), ("beta", 10.0, "pass"), ("gamma", None, "fail"),
                            ("delta", 1.0, "pass"), ("epsilon", 3.5, "fail")]]
    page = tmp_path / "t.html"
    page.write_text(to_html(Table(COLS, rows, title="t")), encoding="utf-8")
    url = page.as_uri()
    assert _visible(_dump(browser, url, tmp_path), 0) == ["alpha", "beta", "gamma", "delta", "epsilon"]
    # Numbers sort as numbers (10 after 3.5), empty cells last, in both directions.
    assert _visible(_dump(browser, url + "#sort=score&dir=asc", tmp_path), 0) == [
        "delta", "alpha", "epsilon", "beta", "gamma"]
    assert _visible(_dump(browser, url + "#sort=score&dir=desc", tmp_path), 0) == [
        "beta", "epsilon", "alpha", "delta", "gamma"]
    assert _visible(_dump(browser, url + "#sort=name&dir=desc&filter=where:fail", tmp_path), 0) == [
        "gamma", "epsilon", "alpha"]
    dom = _dump(browser, url + "#filter=ta%20pass", tmp_path)
    assert _visible(dom, 0) == ["beta", "delta"]
    assert "2 of 5 rows" in dom


def test_refs_pattern_and_markdown_output(challenge, report):
    res = CliRunner().invoke(cli, ["triage", str(challenge), "--refs", "refs/pull/3/head",
                                   "--cache-dir", report["_cache"], "--format", "markdown"])
    assert res.exit_code == 0, res.output
    assert "1 submission folders in 1 pull request refs (1 refs scanned)" in res.output
    assert "2026-01-07\\_SlotTTT" in res.output and "PreEvalTTT" not in res.output.split("###")[0]


def test_pull_requests_are_ordered_by_number_even_when_commits_are_older():
    from golflint.triage.lineage import opened_estimates

    subs = [{"kind": "pr", "pr": 298, "date": 300}, {"kind": "pr", "pr": 1086, "date": 100},
            {"kind": "pr", "pr": 1500, "date": 900}, {"kind": "record", "pr": None, "date": 50}]
    assert opened_estimates(subs) == {298: 300, 1086: 300, 1500: 900}


def test_a_folder_that_takes_too_long_is_stopped_and_said(challenge, monkeypatch):
    import time as _time

    from golflint.triage import analyze
    from golflint.triage.repo import GitRepo

    def stuck(*args, **kwargs):  # stands in for an analysis that never ends
        _time.sleep(60)

    monkeypatch.setattr(analyze, "analyze_folder", stuck)
    with GitRepo(challenge) as repo:
        out = analyze.analyze_from_git(repo, repo.resolve("main"), f"{TRACK}/2026-01-01_TinyBaseline",
                                       "record", default_settings(), analyze.Limits(folder_seconds=1))
    assert out["verdict"] == "error" and "longer than 1 s" in out["error"]


def test_parallel_workers_give_the_same_analyses(challenge, report):
    doc = document.merge([document.build_shard(challenge, default_settings(),
                                               document.Options(jobs=2, cache_dir=None))])
    assert doc["stats"]["analyzed"] == 5
    assert [(s["id"], s["analysis"]["verdict"], s["analysis"]["findings"]) for s in doc["submissions"]] == [
        (s["id"], s["analysis"]["verdict"], s["analysis"]["findings"]) for s in report["submissions"]]


def test_a_folder_analysis_leaves_no_garbage_for_the_next(tmp_path: Path) -> None:
    # Each folder is analysed with the objects that existed before it frozen out of collections
    # (runner.collector_tuned), and the next folder freezes everything again: cycles a folder left
    # uncollected were never collected (a triage of every pull request grew to 8 GB). They are
    # collected before the analysis returns.
    import gc

    from golflint.triage import analyze

    patterns = Path(__file__).resolve().parent / "fixtures" / "patterns"
    for name in ("gl104_target_keyed_cache", "baseline_legal"):
        folder = tmp_path / "records" / "track_10min_16mb" / name
        shutil.copytree(patterns / name, folder)
        gc.collect()
        out = analyze.analyze_folder(folder, "record", default_settings(), analyze.Limits())
        assert out["error"] is None and out["functions"]
        assert gc.collect() == 0
