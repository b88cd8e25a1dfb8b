"""GL3xx: bytes against the cap, byte claims, packed code sizes.

Logs are given as TrainLog objects (what the log parser produces), so these tests pin the rules'
judgement independently of the parser; tests/test_cli.py covers the whole path on real log text.
"""

from __future__ import annotations

import json

import pytest

from golflint.code.units import CodeUnit
from golflint.config import default_settings
from golflint.engine import check_submission, instantiate_rules
from golflint.logs.model import TrainLog
from golflint.submission import Submission

CODE = "print('train')\n" * 10          # 150 bytes
README = "# run\n"


def folder(make_sub, claims=None, model: int | None = None, code: str = CODE, **extra):
    files = {"README.md": README, "train_gpt.py": code, "train_seed1.log": "x\n",
             "submission.json": json.dumps({"author": "a", "name": "b", "val_bpb": 1.2, **(claims or {})},
                                           indent=2)}
    if model is not None:
        files["final_model.int8.ptz"] = b"\x01" * model
    files.update(extra)
    return make_sub(files)


def log(path="train_seed1.log", seed=1, total=None, model=None, code=None) -> TrainLog:
    return TrainLog(path=path, seed=seed, total_bytes=total, total_bytes_line=90 if total else None,
                    model_bytes=model, model_bytes_line=88 if model else None,
                    code_bytes=code, code_bytes_line=89 if code else None)


def check(root, ids, logs=None, cap=None, track="record"):
    settings = default_settings()
    if cap is not None:
        settings = settings.with_overrides({"bytes": {"cap": cap}})
    sub = Submission(root, track, settings)
    if logs is not None:
        sub.__dict__["logs"] = logs     # stands in for the parsed train logs
    result = check_submission(sub, instantiate_rules(settings, only=ids), debug=True)
    return result


def findings(result, rule):
    return [f for f in result.findings if f.rule == rule]


# -- GL301 ------------------------------------------------------------------------------------------
def test_over_cap_reports_total_parts_and_overage(make_sub):
    root = folder(make_sub, model=900)
    result = check(root, ["GL301"], cap=1000)
    [f] = findings(result, "GL301")
    assert "total 1,050 bytes (code 150 + model 900 from final_model.int8.ptz)" in f.message
    assert "over the cap 1,000 by 50 bytes" in f.message
    assert f.file == "final_model.int8.ptz"
    assert f.data["headroom"] == -50
    assert result.bytes["headroom"] == -50


def test_exactly_at_cap_passes(make_sub):
    root = folder(make_sub, model=850)
    assert findings(check(root, ["GL301"], cap=1000), "GL301") == []


def test_over_cap_from_logged_model_size(make_sub):
    root = folder(make_sub)
    result = check(root, ["GL301"], logs=[log(model=15_999_900)])
    [f] = findings(result, "GL301")
    assert "from train_seed1.log line 88" in f.message
    assert "by 50 bytes" in f.message
    assert f.file is None  # the source is a log line, not a file of its own


def test_default_cap_is_decimal_sixteen_million(make_sub):
    # 16 MiB would allow 16,777,216: a model of 16,000,000 bytes must already be over.
    root = folder(make_sub)
    assert findings(check(root, ["GL301"], logs=[log(model=16_000_000)]), "GL301")
    assert not findings(check(root, ["GL301"], logs=[log(model=16_000_000 - len(CODE))]), "GL301")


def test_code_alone_over_cap_without_model(make_sub):
    root = folder(make_sub, code="#" * 2000)
    [f] = findings(check(root, ["GL301"], logs=[], cap=1000), "GL301")
    assert "code alone is 2,000 bytes" in f.message


def test_no_code_file_is_left_to_structure_rules(make_sub):
    root = make_sub({"README.md": README, "final_model.int8.ptz": b"x" * 5000})
    assert findings(check(root, ["GL301"], cap=1000), "GL301") == []


# -- GL302 ------------------------------------------------------------------------------------------
def test_model_size_unknown_is_a_warning(make_sub):
    root = folder(make_sub)
    [f] = findings(check(root, ["GL302"], logs=[log()]), "GL302")
    assert f.severity.value == "warning"
    assert "train_seed1.log" in f.message


def test_model_size_from_log_is_enough(make_sub):
    root = folder(make_sub)
    assert findings(check(root, ["GL302"], logs=[log(model=15_000_000)]), "GL302") == []


# -- GL303 ------------------------------------------------------------------------------------------
def test_claims_matching_disk_pass(make_sub):
    root = folder(make_sub, {"bytes_code": 150, "bytes_total": 750}, model=600)
    assert findings(check(root, ["GL303"], logs=[]), "GL303") == []


def test_bytes_code_mismatch_names_disk_size_and_line(make_sub):
    root = folder(make_sub, {"bytes_code": 149}, model=600)
    [f] = findings(check(root, ["GL303"], logs=[]), "GL303")
    assert f.file == "submission.json" and f.line == 5
    assert "bytes_code claims 149 but the counted code on disk is 150 bytes (train_gpt.py 150)" in f.message


def test_bytes_code_matching_an_old_log_says_code_changed(make_sub):
    root = folder(make_sub, {"bytes_code": 140})
    [f] = findings(check(root, ["GL303"], logs=[log(code=140, model=500)]), "GL303")
    assert "matches the code size logged in train_seed1.log" in f.message
    assert "changed after that run" in f.message


def test_bytes_total_may_match_any_seeds_logged_total(make_sub):
    # Multi-seed records often report the largest seed's total; that is backed by a log.
    root = folder(make_sub, {"bytes_total": 15_800_300})
    logs = [log(seed=1, total=15_800_150, model=15_800_000),
            log("train_seed2.log", seed=2, total=15_800_300, model=15_800_150)]
    assert findings(check(root, ["GL303"], logs=logs), "GL303") == []


SEED_TOTALS = [15_979_182, 15_971_129, 15_977_203, 15_979_114, 15_971_178]   # mean 15,975,561.2


def _seed_logs(totals):
    return [log(f"train_seed{i}.log", seed=i, total=t, model=t - 150) for i, t in enumerate(totals, 1)]


@pytest.mark.parametrize("claimed", [15_975_561, 15_975_562])
def test_bytes_total_may_be_the_mean_of_the_logged_totals(make_sub, claimed):
    # A five-seed record stating its seeds' mean (rounded either way), as 2026-04-22 does.
    root = folder(make_sub, {"bytes_total": claimed})
    assert findings(check(root, ["GL303"], logs=_seed_logs(SEED_TOTALS)), "GL303") == []


def test_a_mean_that_hides_a_seed_over_the_cap_is_an_error(make_sub):
    totals = [15_990_000, 16_010_000]
    root = folder(make_sub, {"bytes_total": 16_000_000})
    [f] = findings(check(root, ["GL303"], logs=_seed_logs(totals)), "GL303")
    assert f.severity.value == "error" and "16,010,000" in f.message


@pytest.mark.parametrize("claimed, settings", [
    (15_975_560, {}),                                            # two bytes under the mean
    (15_975_561, {"bytes": {"total_claim_may_be_mean": False}}),  # the policy switched off
])
def test_bytes_total_near_the_mean_or_with_the_policy_off_is_reported(make_sub, claimed, settings):
    root = folder(make_sub, {"bytes_total": claimed})
    sub = Submission(root, "record", default_settings().with_overrides(settings))
    sub.__dict__["logs"] = _seed_logs(SEED_TOTALS)
    result = check_submission(sub, instantiate_rules(sub.settings, only=["GL303"]), debug=True)
    [f] = findings(result, "GL303")
    assert f.severity.value == "warning" and f"bytes_total claims {claimed:,}" in f.message


def test_one_logged_total_is_no_mean(make_sub):
    root = folder(make_sub, {"bytes_total": 15_979_181})
    assert len(findings(check(root, ["GL303"], logs=_seed_logs([15_979_182])), "GL303")) == 1


def test_bytes_total_matching_nothing_lists_every_source(make_sub):
    root = folder(make_sub, {"bytes_total": 15_999_000})
    logs = [log(seed=1, total=16_000_150, model=16_000_000)]
    [f] = findings(check(root, ["GL303"], logs=logs), "GL303")
    assert "bytes_total claims 15,999,000" in f.message
    assert f.message.endswith("no measurement or log agrees: 16,000,150 (measured: code on disk 150 + model "
                              "16,000,000 from train_seed1.log line 88; logged in train_seed1.log line 90)")


@pytest.mark.parametrize("shape", ["dict", "list"])
def test_per_seed_artifact_bytes_checked_against_that_seeds_log(make_sub, shape):
    entries = {"1": {"artifact_bytes": 15_000_150}, "2": {"artifact_bytes": 15_000_999}}
    seed_results = entries if shape == "dict" else [{"seed": int(k), **v} for k, v in entries.items()]
    root = folder(make_sub, {"seed_results": seed_results})
    logs = [log(seed=1, total=15_000_150, model=15_000_000),
            log("train_seed2.log", seed=2, total=15_000_200, model=15_000_050)]
    [f] = findings(check(root, ["GL303"], logs=logs), "GL303")
    assert f.message.startswith("seed 2 artifact_bytes claims 15,000,999 but its log says 15,000,200 "
                                "(total logged in train_seed2.log line 90)")
    assert f.line is not None and '"artifact_bytes": 15000999' in (root / "submission.json").read_text().splitlines()[f.line - 1]


def test_per_seed_artifact_bytes_may_be_model_only(make_sub):
    root = folder(make_sub, {"seed_results": {"1": {"artifact_bytes": 15_000_000}}})
    assert findings(check(root, ["GL303"], logs=[log(seed=1, total=15_000_150, model=15_000_000)]), "GL303") == []


def test_seed_without_log_is_not_this_rules_business(make_sub):
    root = folder(make_sub, {"seed_results": {"7": {"artifact_bytes": 1}}})
    assert findings(check(root, ["GL303"], logs=[log(seed=1, total=15_000_150)]), "GL303") == []


def test_non_integer_claims_are_left_to_the_schema_rule(make_sub):
    root = folder(make_sub, {"bytes_code": "150x", "bytes_total": 12.5}, model=600)
    assert findings(check(root, ["GL303"], logs=[]), "GL303") == []


def test_bytes_code_claiming_decoded_size_is_explained(make_sub, monkeypatch):
    root = folder(make_sub, {"bytes_code": 5000})
    decoded = CodeUnit.parse_python("train_gpt.py", "x = 1\n" * 833 + "y\n", layer=1,
                                    label="train_gpt.py (decoded, layer 1)")
    assert len(decoded.source.encode()) == 5000
    monkeypatch.setattr("golflint.code.packed.expand", lambda sub, unit: [decoded] if unit.layer == 0 else [])
    [f] = findings(check(root, ["GL303"], logs=[]), "GL303")
    assert "decoded size of the packed code, but the stored bytes count" in f.message


# -- GL304 ------------------------------------------------------------------------------------------
def _layers(*sizes: int):
    units = []
    for i, size in enumerate(sizes, 1):
        units.append(CodeUnit.parse_python("train_gpt.py", "#" * (size - 1) + "\n", layer=i,
                                           label=f"train_gpt.py (decoded, layer {i})"))
    for parent, child in zip(units, units[1:]):
        child.parent = parent
    return units


def test_packed_code_reports_stored_and_decoded_sizes(make_sub, monkeypatch):
    root = folder(make_sub)
    layers = _layers(3000, 70000)
    monkeypatch.setattr("golflint.code.packed.expand",
                        lambda sub, unit: layers if unit.layer == 0 and unit.path == "train_gpt.py" else [])
    [f] = findings(check(root, ["GL304"], logs=[]), "GL304")
    assert f.severity.value == "info"
    assert f.file == "train_gpt.py"
    assert f.message == ("train_gpt.py is self-extracting: 150 bytes stored on disk (counted); "
                         "decoded layer 1 3,000 bytes, layer 2 70,000 bytes")
    assert f.data["stored"] == 150 and f.data["decoded"] == [3000, 70000]


def test_plain_code_has_no_packed_finding(make_sub):
    root = folder(make_sub)
    assert findings(check(root, ["GL304"], logs=[]), "GL304") == []


def test_packed_findings_do_not_fail_the_run(make_sub, monkeypatch):
    root = folder(make_sub)
    layers = _layers(5000)
    monkeypatch.setattr("golflint.code.packed.expand", lambda sub, unit: layers if unit.layer == 0 else [])
    result = check(root, ["GL304"], logs=[])
    assert findings(result, "GL304") and result.ok()
