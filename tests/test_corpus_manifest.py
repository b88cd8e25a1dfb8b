"""The public corpus manifest (benchmarks/corpus/manifest.toml) is well-formed, and, where a clone of
openai/parameter-golf is available (GOLFLINT_PG_REPO or the local mirror), every case's folder exists at
its commit."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "benchmarks" / "corpus" / "manifest.toml"
MIRROR = "/work/.mirror/openai+parameter-golf/repo"
FIELDS = {"id": str, "pr": int, "sha": str, "folder": str, "verdict": str, "family": str, "expected": list,
          "link": str, "source": str, "note": str}
VERDICTS = {"invalid", "accepted", "fixed"}
SOURCES = {"maintainer", "community-review", "author", "rulebook", "merged"}
RULE_ID = re.compile(r"GL\d{3}")
FAMILY_WILDCARD = re.compile(r"GL\dxx")  # any rule of that hundred
SHA = re.compile(r"[0-9a-f]{40}")
LINK = re.compile(r"https://github\.com/openai/parameter-golf/(pull|issues|tree)/\S+")


@pytest.fixture(scope="module")
def manifest() -> dict:
    return tomllib.loads(MANIFEST.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cases(manifest) -> list[dict]:
    return manifest["case"]


def is_known(rule: str, known: set[str]) -> bool:
    if FAMILY_WILDCARD.fullmatch(rule):
        return any(r.startswith(rule[:3]) for r in known)
    return bool(RULE_ID.fullmatch(rule)) and rule in known


def known_rule_ids() -> set[str]:
    from golflint.config import default_settings
    from golflint.engine import instantiate_rules

    return {rule.id for rule in instantiate_rules(default_settings())}


def test_every_case_has_the_fields_with_their_types(cases):
    for case in cases:
        for name, kind in FIELDS.items():
            assert isinstance(case.get(name), kind), f"{case.get('id')}: {name} missing or not {kind.__name__}"


def test_ids_are_unique(cases):
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_values_are_well_formed(cases):
    for case in cases:
        cid = case["id"]
        assert SHA.fullmatch(case["sha"]), f"{cid}: sha is not 40 hex digits"
        assert LINK.fullmatch(case["link"]), f"{cid}: link is not a URL into openai/parameter-golf"
        assert case["verdict"] in VERDICTS, cid
        assert case["source"] in SOURCES, cid
        assert case["folder"].startswith(("records/track_10min_16mb/", "records/track_non_record_16mb/")), cid
        assert case["folder"].count("/") == 2, f"{cid}: folder must be records/<track>/<name>"
        assert case["pr"] >= 0 and (case["pr"] > 0 or case["verdict"] == "accepted"), cid
        assert case["note"].strip(), cid


def test_families_are_known_and_expected_rules_exist(manifest, cases):
    families = manifest["families"]
    rules = known_rule_ids()
    for name, family in families.items():
        assert family["rules"] and all(is_known(r, rules) for r in family["rules"]), f"family {name}: unknown rule ids"
        assert family["description"].strip()
    for case in cases:
        cid = case["id"]
        if case["verdict"] == "accepted":
            assert case["family"] == "accepted" and case["expected"] == [], cid
            continue
        assert case["family"] in families, f"{cid}: unknown family {case['family']}"
        if case["verdict"] == "invalid":
            assert case["expected"], f"{cid}: an invalid case needs expected rule ids"
            assert all(is_known(r, rules) for r in case["expected"]), cid
        else:
            assert case["expected"] == [], f"{cid}: a fixed case expects no violation"


def test_corpus_is_large_enough_and_covers_the_families(manifest, cases):
    invalid = [c for c in cases if c["verdict"] == "invalid"]
    assert len(invalid) >= 40
    assert len({c["pr"] for c in invalid}) >= 40, "at least 40 distinct pull requests"
    assert sum(c["verdict"] == "accepted" for c in cases) >= 50
    used = {c["family"] for c in invalid}
    assert used == set(manifest["families"]), f"families without a case: {set(manifest['families']) - used}"


def test_fixed_cases_name_an_invalid_case(cases):
    ids = {c["id"]: c for c in cases}
    for case in cases:
        if case["verdict"] == "fixed" and "fixes" in case:
            assert ids[case["fixes"]]["verdict"] == "invalid", case["id"]


def _repo() -> Path | None:
    raw = os.environ.get("GOLFLINT_PG_REPO") or MIRROR
    path = Path(raw)
    if not path.exists():
        return None
    probe = subprocess.run(["git", "-C", str(path), "rev-parse", "--git-dir"], capture_output=True, check=False)
    return path if probe.returncode == 0 else None


def test_each_folder_exists_at_its_commit(cases):
    repo = _repo()
    if repo is None:
        pytest.skip("no clone of openai/parameter-golf (set GOLFLINT_PG_REPO)")
    # one batch call: "<sha>:<folder>" for every case; a missing object prints "<sha>:<folder> missing"
    query = "".join(f"{c['sha']}:{c['folder']}\n" for c in cases)
    out = subprocess.run(["git", "-C", str(repo), "cat-file", "--batch-check=%(objecttype)"],
                         input=query, capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(out) == len(cases)
    bad = [f"{c['id']}: {line}" for c, line in zip(cases, out) if line != "tree"]
    assert not bad, bad


# --- the benchmark's own mechanics, on a tiny repository we build here (no network, no mirror needed) ---

def _bench():
    import importlib.util
    import sys

    if "bench_corpus" in sys.modules:
        return sys.modules["bench_corpus"]
    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "benchmarks" / "bench_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_corpus"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=env).stdout


def test_extract_writes_the_folder_from_git_objects_and_reports_absent_blobs(tmp_path):
    bench = _bench()
    repo = tmp_path / "repo"
    folder = repo / "records" / "track_10min_16mb" / "2026-01-01_Demo [v2]"  # brackets: no pathspec magic
    folder.mkdir(parents=True)
    (folder / "train_gpt.py").write_text("print('never run')\n")
    (folder / "README.md").write_text("# demo\n")
    (folder / "logs").mkdir()
    (folder / "logs" / "train.log").write_text("step:1\n")
    (folder / "final_model.ptz").write_bytes(b"\x00model-bytes\xff")
    (folder / "link").symlink_to("README.md")
    (repo / "other.txt").write_text("outside the folder\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "demo")
    sha = _git(repo, "rev-parse", "HEAD").strip()
    model_oid = _git(repo, "rev-parse", f"HEAD:{folder.relative_to(repo)}/final_model.ptz").strip()
    (repo / ".git" / "objects" / model_oid[:2] / model_oid[2:]).unlink()  # as in a mirror without large files

    case = bench.Case(id="demo", pr=1, sha=sha, folder=str(folder.relative_to(repo)), verdict="invalid",
                      family="f", expected=["GL101"], link="https://example", source="author", note="n")
    out, missing = bench.extract(repo, case, tmp_path / "out")
    assert out == tmp_path / "out" / case.folder
    assert (out / "train_gpt.py").read_text() == "print('never run')\n"
    assert (out / "logs" / "train.log").read_text() == "step:1\n"
    assert (out / "link").is_symlink() and os.readlink(out / "link") == "README.md"
    assert not (out / "final_model.ptz").exists()
    assert missing == [f"{case.folder}/final_model.ptz"]
    assert not (tmp_path / "out" / "other.txt").exists()


def test_judge_counts_only_expected_errors_as_catches():
    bench = _bench()

    def case(verdict, expected):
        return bench.Case(id="c", pr=1, sha="0" * 40, folder="records/t/x", verdict=verdict, family="f",
                          expected=expected, link="https://example", source="author", note="n")

    assert bench.judge(case("invalid", ["GL101"]), ["GL101", "GL303"]) == "caught"
    assert bench.judge(case("invalid", ["GL101"]), ["GL103"]) == "wrong-reason"
    assert bench.judge(case("invalid", ["GL101"]), ["GL303"]) == "missed"
    assert bench.judge(case("invalid", ["GL2xx"]), ["GL202"]) == "caught"
    assert bench.judge(case("invalid", ["GL2xx"]), ["GL301"]) == "missed"
    assert bench.judge(case("accepted", []), ["GL303", "GL411"]) == "clean"
    assert bench.judge(case("accepted", []), ["GL109"]) == "false-positive"


def test_benchmark_skips_cleanly_without_a_clone(tmp_path, capsys):
    bench = _bench()
    assert bench.main(["--repo", str(tmp_path / "absent"), "--quiet"]) == 0
    assert capsys.readouterr().out.startswith("skipped: repository ")
