"""GL001-GL009: required files, logs, unreadable files, submission.json (beyond the embedded examples)."""

from __future__ import annotations

import json
import os

import pytest

from golflint.claims import seed_claims
from golflint.jsonpos import JsonLines
from golflint_testing import run_rules

README = "# A run\n"
LOG = "final_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570\n"


def claims_json(**fields) -> str:
    base = {"author": "a", "name": "b", "val_bpb": 1.2244, "val_loss": 2.0727}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...}, indent=2) + "\n"


def complete(**files):
    out = {"README.md": README, "submission.json": claims_json(), "train_gpt.py": "print(1)\n",
           "train_seed1.log": LOG}
    out.update(files)
    return {k: v for k, v in out.items() if v is not ...}


def found(root, rule, **kw):
    return [f for f in run_rules(root, [rule], **kw).findings if f.rule == rule]


def line_of(root, finding):
    return (root / finding.file).read_text(encoding="utf-8").splitlines()[finding.line - 1]


# -- GL001 / GL002 --------------------------------------------------------------------------------
def test_empty_folder_names_every_required_file(make_sub):
    root = make_sub({})
    missing = found(root, "GL001")
    assert sorted(f.file for f in missing) == ["README.md", "submission.json", "train_gpt.py"]
    assert all(f.message.endswith("is missing") for f in missing)


def test_case_only_difference_suggests_a_rename(make_sub):
    root = make_sub(complete(**{"README.md": ..., "Readme.md": README}))
    [f] = found(root, "GL001")
    assert "found Readme.md" in f.message and f.hint == "rename Readme.md to README.md"


def test_required_files_come_from_settings(make_sub):
    root = make_sub(complete(**{"requirements.txt": ...}))
    overrides = {"submission": {"required_files": ["README.md", "requirements.txt"]}}
    assert [f.file for f in found(root, "GL001", settings_overrides=overrides)] == ["requirements.txt"]


def test_logs_in_subfolder_are_logs(make_sub):
    # Accepted records keep their logs in logs/ (2026-04-10_VarLenAttn: logs/train0.txt).
    root = make_sub(complete(**{"train_seed1.log": ..., "logs/train_seed1.log": LOG}))
    assert found(root, "GL002") == []


def test_min_logs_counts_each_log_pattern(make_sub):
    root = make_sub(complete(**{"train.txt": LOG, "log_seed2.txt": LOG}))
    assert found(root, "GL002", settings_overrides={"submission": {"min_logs": 3}}) == []
    [f] = found(root, "GL002", settings_overrides={"submission": {"min_logs": 4}})
    assert "3 train log(s)" in f.message and "at least 4 required" in f.message


# -- GL003 / GL004 --------------------------------------------------------------------------------
def test_symlink_out_of_the_folder_anywhere_is_reported(make_sub, tmp_path):
    outside = tmp_path / "elsewhere.bin"
    outside.write_bytes(b"weights")
    root = make_sub(complete(**{"extra/notes.txt": "x"}))
    os.symlink(outside, root / "extra" / "final_model.int8.ptz")
    os.symlink("../train_seed1.log", root / "extra" / "inside.log")
    [f] = found(root, "GL003")
    assert f.file == "extra/final_model.int8.ptz"
    assert "points outside the submission folder" in f.message


def test_symlink_loop_is_reported_not_followed(make_sub):
    root = make_sub(complete())
    os.symlink("loop_b", root / "loop_a")
    os.symlink("loop_a", root / "loop_b")
    assert sorted(f.file for f in found(root, "GL003")) == ["loop_a", "loop_b"]


def test_linked_log_is_reported_once_by_the_symlink_rule(make_sub, tmp_path):
    outside = tmp_path / "real.log"
    outside.write_text(LOG)
    root = make_sub(complete(**{"train_seed1.log": ...}))
    os.symlink(outside, root / "train_seed1.log")
    assert [f.file for f in found(root, "GL003")] == ["train_seed1.log"]
    assert found(root, "GL004") == []


def test_unreadable_files_say_what_is_wrong(make_sub):
    root = make_sub(complete(**{"README.md": b"\xff\xfe#\x00 \x00", "train_seed1.log": b"ok\n\xc3\x28 broken\n"}))
    by_file = {f.file: f.message for f in found(root, "GL004")}
    assert by_file == {"README.md": "README.md is binary (holds NUL bytes), not text"}  # logs: GL402/GL403


def test_too_large_log_is_reported_without_reading_it(make_sub):
    root = make_sub(complete())
    with open(root / "train_seed2.log", "wb") as fh:
        fh.truncate(2_000)
    [f] = found(root, "GL402", settings_overrides={"general": {"max_text_file_bytes": 1_000}})
    assert f.message.startswith("train_seed2.log is too large to read (2,000 bytes; limit 1,000)")


def test_folder_named_like_a_log_is_not_a_file(make_sub):
    root = make_sub(complete(**{"odd.log/readme.txt": "x"}))
    assert found(root, "GL004") == []  # a folder is not matched as a log file at all


# -- GL005 ------------------------------------------------------------------------------------------
def test_broken_json_points_at_the_error_line(make_sub):
    root = make_sub(complete(**{"submission.json": '{\n  "author": "a",\n  "val_bpb": 1.2\n  "name": "x"\n}\n'}))
    [f] = found(root, "GL005")
    assert f.line == 4 and "Expecting ',' delimiter" in f.message


def test_deeply_nested_json_is_a_finding_not_a_crash(make_sub):
    root = make_sub(complete(**{"submission.json": "[" * 100_000 + "]" * 100_000}))
    [f] = found(root, "GL005")
    assert "submission.json" in f.message


@pytest.mark.parametrize("text,kind", [("null", "null"), ('"x"', "str"), ("3", "int")])
def test_top_level_must_be_an_object(make_sub, text, kind):
    root = make_sub(complete(**{"submission.json": text}))
    [f] = found(root, "GL005")
    assert f.message == f"submission.json holds a JSON {kind}, not an object"


def test_missing_or_unreadable_json_is_left_to_other_rules(make_sub):
    assert found(make_sub(complete(**{"submission.json": ...})), "GL005") == []
    assert found(make_sub(complete(**{"submission.json": b"\x00\x01"})), "GL005") == []


# -- GL006 ------------------------------------------------------------------------------------------
def test_schema_messages_name_field_type_and_line(make_sub):
    text = claims_json(val_bpb="1.2244", bytes_total=15.5, seeds=[1, 2.5],
                       seed_results=[{"seed": 1, "val_bpb": 1.22, "steps": "13780"}, 7])
    root = make_sub(complete(**{"submission.json": text}))
    messages = {f.message: f for f in found(root, "GL006")}
    assert set(messages) == {
        '`val_bpb` must be a number, not a string ("1.2244")',
        "`bytes_total` must be an integer, not a number (15.5)",
        "`seeds[1]` must be an integer or a string, not a number (2.5)",
        '`seed_results[0].steps` must be an integer, not a string ("13780")',
        "`seed_results[1]` must be an object, not an integer (7)",
    }
    for message, f in messages.items():
        assert f.line is not None
    assert '"steps": "13780"' in line_of(root, messages['`seed_results[0].steps` must be an integer, not a string ("13780")'])


def test_required_fields_come_from_settings(make_sub):
    root = make_sub(complete(**{"submission.json": claims_json(author=...)}))
    overrides = {"submission": {"required_fields": ["author", "date", "val_bpb"]}}
    messages = sorted(f.message for f in found(root, "GL006", settings_overrides=overrides))
    assert messages == ["required field `author` is missing", "required field `date` is missing"]


def test_required_field_may_not_be_null(make_sub):
    root = make_sub(complete(**{"submission.json": claims_json(val_bpb=None)}))
    [f] = found(root, "GL006")
    assert f.message == "`val_bpb` must be a number, not null (null)"


def test_negative_byte_count_is_rejected(make_sub):
    root = make_sub(complete(**{"submission.json": claims_json(bytes_code=-1)}))
    [f] = found(root, "GL006")
    assert "bytes_code" in f.message and "minimum" in f.message


def test_old_style_record_passes(make_sub):
    # The fields of the earliest accepted records, nothing newer.
    text = json.dumps({"author": "x", "github_id": "x", "name": "Naive baseline", "blurb": "b",
                       "date": "2026-03-18T00:00:00Z", "val_loss": 2.0727, "val_bpb": 1.2244,
                       "bytes_total": 15863489, "bytes_code": 47642})
    root = make_sub(complete(**{"submission.json": text}))
    for rule in ("GL005", "GL006", "GL007", "GL008", "GL009"):
        assert found(root, rule) == [], rule


# -- GL007 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["2026-03-19", "2026-03-19T14:05:00", "2026-03-19T14:05:00.123Z",
                                   "2026-03-19 14:05+02:00", " 2026-03-19 "])
def test_iso_dates_parse(make_sub, value):
    assert found(make_sub(complete(**{"submission.json": claims_json(date=value)})), "GL007") == []


@pytest.mark.parametrize("value", ["", "2026/03/19", "19.03.2026", "yesterday", "2026-13-01"])
def test_other_dates_warn(make_sub, value):
    [f] = found(make_sub(complete(**{"submission.json": claims_json(date=value)})), "GL007")
    assert f.severity.value == "warning"


def test_date_of_wrong_type_is_the_schema_rules(make_sub):
    assert found(make_sub(complete(**{"submission.json": claims_json(date=20260319)})), "GL007") == []


# -- GL008 ------------------------------------------------------------------------------------------
SEEDS = {"42": {"val_bpb": 1.2230, "val_loss": 2.0710}, "1337": {"val_bpb": 1.2244, "val_loss": 2.0727},
         "2024": {"val_bpb": 1.2258, "val_loss": 2.0744}}


def test_headline_equal_to_best_seed_is_reported_with_the_mean(make_sub):
    root = make_sub(complete(**{"submission.json": claims_json(val_bpb=1.2230, seed_results=SEEDS)}))
    [f] = found(root, "GL008")
    assert f.message == ("headline val_bpb 1.22300 is not the mean of the 3 seed results (1.22440; "
                         "seeds 1.22300, 1.22440, 1.22580) (tolerance 0.0005)")
    assert '"val_bpb": 1.223' in line_of(root, f)


def test_rounded_headline_within_tolerance_passes(make_sub):
    root = make_sub(complete(**{"submission.json": claims_json(val_bpb=1.2246, val_loss=2.0725,
                                                               seed_results=SEEDS)}))
    assert found(root, "GL008") == []


def test_seed_missing_the_metric_skips_the_comparison(make_sub):
    seeds = {**SEEDS, "7": {"val_loss": 2.0727}}
    root = make_sub(complete(**{"submission.json": claims_json(val_bpb=1.0, seed_results=seeds)}))
    assert found(root, "GL008") == []


def test_std_mismatch_is_its_own_finding(make_sub):
    root = make_sub(complete(**{"submission.json": claims_json(val_bpb=1.2244, val_bpb_std=0.01,
                                                               seed_results=SEEDS)}))
    [f] = found(root, "GL008")
    assert f.message.startswith("val_bpb_std 0.010000 does not match the seeds' standard deviation (0.001400 sample")


def test_single_seed_std_is_not_judged(make_sub):
    root = make_sub(complete(**{"submission.json": claims_json(val_bpb=1.2244, val_bpb_std=0.5,
                                                               seed_results={"1": {"val_bpb": 1.2244}})}))
    assert found(root, "GL008") == []


def test_tolerances_come_from_settings(make_sub):
    root = make_sub(complete(**{"submission.json": claims_json(val_bpb=1.2246, seed_results=SEEDS)}))
    assert found(root, "GL008", settings_overrides={"submission": {"mean_tolerance": 0.0001}})


# -- GL009 ------------------------------------------------------------------------------------------
def test_low_headline_and_seeds_make_one_finding(make_sub):
    seeds = {"1": {"val_bpb": 0.41}, "2": {"val_bpb": 0.43}}
    root = make_sub(complete(**{"submission.json": claims_json(val_bpb=0.42, seed_results=seeds)}))
    [f] = found(root, "GL009")
    assert f.message.startswith("val_bpb 0.4200 (and seed 1 0.4100, seed 2 0.4300) is below the plausibility floor 0.7")


def test_low_seed_under_plausible_headline_is_reported_per_seed(make_sub):
    seeds = [{"seed": 1, "val_bpb": 1.1}, {"seed": 2, "val_bpb": 0.2}]
    root = make_sub(complete(**{"submission.json": claims_json(val_bpb=1.1, seed_results=seeds)}))
    [f] = found(root, "GL009")
    assert f.message.startswith("seed 2 val_bpb 0.2000 is below")
    assert '"val_bpb": 0.2' in line_of(root, f)


def test_nan_score_is_not_a_score(make_sub):
    root = make_sub(complete(**{"submission.json": '{"author": "a", "name": "b", "val_bpb": NaN}'}))
    [f] = found(root, "GL009")
    assert f.message == "val_bpb nan is not a score"


def test_exactly_at_floor_passes(make_sub):
    assert found(make_sub(complete(**{"submission.json": claims_json(val_bpb=0.70)})), "GL009") == []


# -- helpers ----------------------------------------------------------------------------------------
def test_json_lines_locates_nested_values():
    text = '{\n "a": 1,\n "b": {\n  "c": [\n   {"d": 2},\n   3\n  ]\n },\n "e": "x\\"}"\n}'
    lines = JsonLines(text)
    assert lines.line("a") == 2
    assert lines.line("b", "c", 0, "d") == 5
    assert lines.line("b", "c", 1) == 6
    assert lines.line("e") == 9
    assert lines.line("b", "missing") == 3      # nearest located ancestor
    assert lines.line("nothing") is None


def test_json_lines_never_raises_on_junk():
    assert JsonLines("{not json").lines == {}
    assert JsonLines("").line("a") is None


def test_seed_claims_reads_both_shapes_and_seed_prefixes():
    as_dict = seed_claims({"seed_results": {"seed42": {"val_bpb": 1}, "7": {}, "bad": 3}})
    assert [(s.seed, s.path) for s in as_dict] == [("42", ("seed_results", "seed42")), ("7", ("seed_results", "7"))]
    as_list = seed_claims({"seed_results": [{"seed": 42}, {"val_bpb": 1}, "junk"]})
    assert [(s.seed, s.label) for s in as_list] == [("42", "seed 42"), (None, "seed_results[1]")]


# -- GL006: the compiled yes/no check agrees with jsonschema ---------------------------------------
_VALUES = [None, True, False, 0, 1, -1, 2.0, 1.5, -0.5, 10**20, "", "x", "15863489", [], {}, [1, "a"],
           ["a", "b"], [1.5], [None], [{"seed": 1, "val_bpb": 1.2}], [{"seed": "x", "val_bpb": "1.2"}],
           {"1": {"val_bpb": 1.2, "artifact_bytes": 15863489}}, {"1": {"artifact_bytes": "15863489"}},
           {"1": 3}, {"1": None}, [[1]], [True]]


def _documents(count: int):
    import random

    from golflint.rules.structure import FIELD_SCHEMAS

    rng = random.Random(1234)
    fields = [*FIELD_SCHEMAS, "extra_field"]
    for _ in range(count):
        doc = {}
        for key in rng.sample(fields, rng.randint(0, len(fields))):
            doc[key] = rng.choice(_VALUES)
        yield doc


def test_fast_submission_schema_check_agrees_with_jsonschema():
    import jsonschema

    from golflint.rules.structure import _fast_validity, submission_schema

    compared = {True: 0, False: 0}
    for required in (("author", "name", "val_bpb"), (), ("bytes_total", "seeds", "not_a_known_field")):
        fast = _fast_validity(required)
        slow = jsonschema.Draft202012Validator(submission_schema(required))
        for doc in _documents(3000):
            try:
                fast(doc)
                fast_ok = True
            except Exception:  # noqa: BLE001
                fast_ok = False
            assert fast_ok == slow.is_valid(doc), (required, doc)
            compared[fast_ok] += 1
    assert compared[True] > 100 and compared[False] > 1000  # both answers were exercised


def test_valid_submission_json_is_checked_without_importing_jsonschema():
    import subprocess
    import sys

    code = ("import sys\nfrom golflint.rules.structure import _schema_errors\n"
            "assert _schema_errors({'author': 'a', 'name': 'n', 'val_bpb': 1.2, 'bytes_total': 15},"
            " ('author', 'name', 'val_bpb')) == []\n"
            "assert 'jsonschema' not in sys.modules\n"
            "assert _schema_errors({'author': 'a', 'name': 'n', 'val_bpb': '1.2'}, ('author', 'name', 'val_bpb'))\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_missing_fields_alone_are_told_as_jsonschema_tells_them():
    """When the schema's only complaint is missing required fields, GL006 names them without
    jsonschema: the same fields, in the same order, as jsonschema's errors give; whenever anything
    else is wrong, jsonschema is asked."""
    import jsonschema

    from golflint.rules.structure import _only_missing, submission_schema

    told = {True: 0, False: 0}
    for required in (("author", "name", "val_bpb"), ("name", "name", "bytes_total"), ("not_a_known_field",)):
        slow = jsonschema.Draft202012Validator(submission_schema(required))
        for doc in _documents(3000):
            errors = list(slow.iter_errors(doc))
            only_required = all(e.validator == "required" and not list(e.absolute_path) for e in errors)
            named = list(dict.fromkeys(k for e in errors if e.validator == "required"
                                       for k in e.validator_value if k not in doc))
            found = _only_missing(doc, required)
            if found is not None:
                assert errors and only_required and found == named, (required, doc)
            elif any(key not in doc for key in required):
                assert not only_required, (required, doc)
            told[found is not None] += 1
    assert told[True] > 100 and told[False] > 1000   # both answers were exercised


def test_a_submission_json_missing_only_a_field_does_not_import_jsonschema(make_sub):
    import subprocess
    import sys

    root = make_sub({"train_gpt.py": "print(1)\n", "README.md": "# r\n",
                     "submission.json": json.dumps({"author": "a", "val_bpb": 1.2})})
    code = ("import sys\nfrom golflint_testing import run_rules\n"
            f"result = run_rules({str(root)!r}, ['GL006'])\n"
            "print([f.message for f in result.findings if f.rule == 'GL006'], 'jsonschema' in sys.modules)\n")
    here = os.path.dirname(os.path.abspath(__file__))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(here), here, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert done.stdout.strip() == "['required field `name` is missing'] False", done.stderr
