"""The result cache of `golflint check`: hits give the same report, anything changed or damaged
is a miss, never a wrong answer."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from golflint_testing import make_submission

from golflint.cache import ResultCache, default_cache_dir
from golflint.cli import main
from golflint.config import default_settings
from golflint.engine import check_submission, instantiate_rules
from golflint.submission import Submission

CODE = '''import os
import torch

def train(model, opt, loader):
    for x, y in loader:
        loss = model(x, y)
        loss.backward()
        opt.step()

if __name__ == "__main__":
    print(os.environ.get("SEED", "1"))
'''
FILES = {
    "README.md": "# Run\n\n```\ntorchrun --nproc_per_node=8 train_gpt.py\n```\n",
    "train_gpt.py": CODE,
    "train_seed1.log": "final_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570\n",
    "final_model.int8.ptz": b"\x01" * 1000,
    "submission.json": json.dumps({"author": "a", "name": "b", "date": "2026-01-01", "val_bpb": 1.2244,
                                   "val_loss": 2.0727, "bytes_code": len(CODE), "bytes_total": 1000 + len(CODE)}),
}


def report(root: Path, cache: Path, *extra: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["check", "--format", "json", "--cache-dir", str(cache), *extra, str(root)])
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.output)
    for sub in data["submissions"]:
        sub.pop("elapsed_ms", None)
    return result.exit_code, data


def entries(cache: Path) -> list[Path]:
    return sorted(cache.rglob("*.entry"))


def folder(tmp_path: Path, **changes) -> Path:
    return make_submission(tmp_path / "records" / "track_10min_16mb" / "sub", {**FILES, **changes})


def test_a_hit_gives_the_same_report(tmp_path):
    root, cache = folder(tmp_path), tmp_path / "cache"
    cold = report(root, cache)
    assert len(entries(cache)) == 1
    assert report(root, cache) == cold
    assert report(root, cache, "--no-cache") == cold


def test_a_hit_does_not_run_the_rules(tmp_path, monkeypatch):
    root, cache = folder(tmp_path), tmp_path / "cache"
    cold = report(root, cache)

    def boom(*args, **kwargs):
        raise AssertionError("a cached folder was checked again")

    monkeypatch.setattr("golflint.runner.check_submission", boom)
    assert report(root, cache) == cold


def test_editing_a_file_invalidates(tmp_path):
    root, cache = folder(tmp_path), tmp_path / "cache"
    report(root, cache)
    # Same size, different content: only the content hash can tell.
    text = (root / "train_gpt.py").read_text()
    (root / "train_gpt.py").write_text(text.replace('"1"', '"2"'))
    _, data = report(root, cache, "--jobs", "1")
    _, fresh = report(root, tmp_path / "other-cache")
    assert data == fresh
    # A log that changes its score changes the report: the cached one must not come back.
    (root / "train_seed1.log").write_text(FILES["train_seed1.log"].replace("1.22436570", "1.30000000"))
    _, data = report(root, cache)
    assert data == report(root, tmp_path / "third-cache")[1]
    assert data["submissions"][0]["details"] != fresh["submissions"][0]["details"]


def test_adding_a_file_invalidates(tmp_path):
    root, cache = folder(tmp_path), tmp_path / "cache"
    report(root, cache)
    (root / "helper.py").write_text("X = 1\n")
    (root / "train_gpt.py").write_text("import helper\n" + CODE)
    _, data = report(root, cache)
    assert data == report(root, tmp_path / "fresh")[1]


def test_a_settings_change_invalidates(tmp_path):
    root, cache = folder(tmp_path), tmp_path / "cache"
    _, before = report(root, cache)
    rules = tmp_path / "rules.toml"
    rules.write_text("[bytes]\ncap = 1000\n")
    code, after = report(root, cache, "--rules", str(rules))
    assert code == 1 and after != before
    assert any(f["rule"].startswith("GL3") for f in after["submissions"][0]["findings"])
    assert len(entries(cache)) == 2


def test_a_corrupt_entry_is_ignored_and_replaced(tmp_path):
    root, cache = folder(tmp_path), tmp_path / "cache"
    cold = report(root, cache)
    [entry] = entries(cache)
    raw = entry.read_bytes()
    header, _, body = raw.partition(b"\n")
    # A body that no longer matches the checksum in its header (a finding removed by hand).
    tampered = json.loads(body)
    tampered["result"]["findings"] = []
    entry.write_bytes(header + b"\n" + json.dumps(tampered).encode())
    assert report(root, cache) == cold
    for junk in (b"", b"not a cache entry", b"\x00\xff" * 50, header, raw[: len(raw) // 2]):
        entry.write_bytes(junk)
        assert report(root, cache) == cold
    # Rewritten with the good result (only the timing differs from the first run's entry).
    assert json.loads(entry.read_bytes().partition(b"\n")[2])["result"]["findings"] == \
        json.loads(body)["result"]["findings"]


def test_a_foreign_entry_is_ignored(tmp_path):
    """An entry written for another folder, copied over this one's key, is not served."""
    root, cache = folder(tmp_path), tmp_path / "cache"
    other = make_submission(tmp_path / "records" / "track_10min_16mb" / "other",
                            {**FILES, "train_gpt.py": "import socket\n" + CODE})
    cold = report(root, cache)
    report(other, cache)
    mine, theirs = entries(cache)
    if b'"socket' in mine.read_bytes():
        mine, theirs = theirs, mine
    mine.write_bytes(theirs.read_bytes())
    assert report(root, cache) == cold


def test_an_unwritable_cache_only_costs_time(tmp_path):
    root = folder(tmp_path)
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    assert report(root, blocker / "cache") == report(root, tmp_path / "cache")


def test_lookup_api_round_trips_a_result(tmp_path):
    root = folder(tmp_path)
    settings = default_settings()
    rules = instantiate_rules(settings)
    cache = ResultCache(tmp_path / "c", settings, [r.id for r in rules])
    sub = Submission(root, "record", settings)
    result = check_submission(sub, rules)
    assert cache.lookup(Submission(root, "record", settings)) is None
    cache.store(sub, result)
    hit = cache.lookup(Submission(root, "record", settings))
    assert hit is not None and cache.hits == 1
    assert hit.findings == result.findings and [f.data for f in hit.findings] == [f.data for f in result.findings]
    assert (hit.bytes, hit.scores, hit.details) == (result.bytes, result.scores, result.details)


def test_cache_dir_and_clean_commands(tmp_path, monkeypatch):
    monkeypatch.setenv("GOLFLINT_CACHE_DIR", str(tmp_path / "env-cache"))
    assert default_cache_dir() == tmp_path / "env-cache"
    runner = CliRunner()
    assert runner.invoke(main, ["cache", "dir"]).output.strip() == str(tmp_path / "env-cache")
    root = folder(tmp_path)
    assert runner.invoke(main, ["check", str(root)]).exit_code in (0, 1)
    assert len(entries(tmp_path / "env-cache")) == 1
    keep = tmp_path / "env-cache" / "notes.txt"
    keep.write_text("not ours")
    result = runner.invoke(main, ["cache", "clean"])
    assert result.exit_code == 0 and "removed 1 cached result" in result.output
    assert entries(tmp_path / "env-cache") == [] and keep.exists()


def test_default_location_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("GOLFLINT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "golflint"


def test_concurrent_writers_leave_a_valid_entry(tmp_path):
    """Writers racing on one entry: each writes a private temporary file and moves it into place,
    so a reader sees a whole entry (old or new), never a mix, and no temporary file is left."""
    from concurrent.futures import ThreadPoolExecutor

    root = folder(tmp_path)
    settings = default_settings()
    rules = instantiate_rules(settings)
    result = check_submission(Submission(root, "record", settings), rules)
    cache = ResultCache(tmp_path / "c", settings, [r.id for r in rules])

    def write_and_read(_):
        sub = Submission(root, "record", settings)
        for rel in sub.files:
            sub.read(rel)
        cache.store(sub, result)
        hit = cache.lookup(Submission(root, "record", settings))
        return hit is not None and hit.findings == result.findings

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(write_and_read, range(40)))
    assert [p.name for p in (tmp_path / "c").rglob("*") if p.is_file() and not p.name.endswith(".entry")] == []


def test_a_split_check_records_the_files_its_child_read(tmp_path):
    """One folder with two jobs is checked by two processes (engine.py); the logs are read by the
    forked child, and the cache entry must still depend on them."""
    root, cache = folder(tmp_path), tmp_path / "cache"
    report(root, cache, "--jobs", "2")
    [entry] = entries(cache)
    reads = json.loads(entry.read_bytes().partition(b"\n")[2])["reads"]
    assert {"train_seed1.log", "train_gpt.py", "submission.json"} <= set(reads)
    # Same size, another score: only the log's recorded hash can tell.
    (root / "train_seed1.log").write_text(FILES["train_seed1.log"].replace("1.22436570", "1.30000000"))
    _, data = report(root, cache, "--jobs", "2")
    assert data == report(root, tmp_path / "fresh", "--jobs", "1")[1]
