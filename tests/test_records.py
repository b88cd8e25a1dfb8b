"""golflint agrees with the organizers: every accepted submission passes `golflint check`.

The challenge's `records/` tree holds the submissions the organizers accepted; it is the ground
truth for how the rules are applied. This test checks the snapshot in
`../shared/corpus/parameter-golf/records` (or $GOLFLINT_CORPUS/parameter-golf/records) and asserts:
- no error finding from any rule (GL1xx and GL2xx included), except the justified exceptions below,
  each with the lines that show the organizers missed a real violation;
- every folder under records/<track>/ is either checked or reported as skipped with a reason that
  the test lists (none is dropped silently).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from golflint.cli import main
from golflint.config import default_settings
from golflint.discovery import find_submissions

# Rule-id prefixes this test leaves out of its zero-error check. Every family is in scope now,
# GL1xx (evaluation integrity) and GL2xx (data access) included: an accepted record with a false
# GL1xx/GL2xx error is fixed by modelling what the code does, never by an exception here.
OUT_OF_SCOPE: tuple[str, ...] = ()


def in_scope(rule: str) -> bool:
    return not (OUT_OF_SCOPE and rule.startswith(OUT_OF_SCOPE))


# (folder, rule): errors the organizers should have rejected, with the evidence. Keep it short.
JUSTIFIED_EXCEPTIONS: dict[tuple[str, str], str] = {
    # Over the cap on the record track, by the submission's own logs: train.log line 163
    # "Total submission size quantized+brotli: 16054963 bytes" (also train_seed1337.log line 163,
    # train_seed3141.log line 167: 16059704, train_seed42.log line 167: 16058494). The counted code
    # is train_gpt.py (74 bytes, line 1: exec(open(__file__.replace("train_gpt.py",
    # "train_gpt_decode.py")).read())) plus the 80,055-byte train_gpt_decode.py it runs, shipped
    # unpacked; its README's "Artifact" column and submission.json `bytes_total` 15,978,121 count the
    # model alone. Its README calls it "Not a record", yet it sits in track_10min_16mb.
    ("2026-04-06_SP8192_HessianSDClip_ProgressiveRecurrence", "GL301"):
        "code 80,129 + model 15,976,275 = 16,056,404 > 16,000,000 (train.log line 162-163)",
    ("2026-04-06_SP8192_HessianSDClip_ProgressiveRecurrence", "GL410"):
        "train.log line 163: Total submission size 16,054,963 bytes, over the cap",
    # Non-record, over the cap by its own log: train.log line 93 "Total submission size ...:
    # 16638468 bytes"; the challenge README (line 256) asks non-record submissions to "still satisfy
    # the 16MB artifact limit", and PRs #487 and #1463 were closed for exceeding it.
    ("2026-03-23_DGAttention_DavidGao", "GL301"):
        "code 80,773 + model 16,558,180 = 16,638,953 > 16,000,000 (train.log line 92)",
    ("2026-03-23_DGAttention_DavidGao", "GL410"):
        "train.log line 93: total submission size 16,638,468 bytes, over the cap",
    ("2026-04-06_SP8192_HessianSDClip_ProgressiveRecurrence", "GL303"):
        "bytes_total 15,978,121 (line 32) is the model alone; the real total is over the cap",
}

# Folders under records/<track>/ that are not submissions, with why (checked against discovery).
NOT_SUBMISSIONS: dict[str, str] = {
    # Added by commit e10984114 together with 2026-03-19_smeargate_orthoinit_muonwd (which holds
    # the same train.log beside its code and submission.json): a stray copy of one log.
    "2026-03-19_int6_STE QAT_ MLP_bigram _U_Net": "holds no code, README or submission metadata (train.log)",
}


def records_tree() -> Path:
    for base in (Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus",
                 Path(os.environ.get("GOLFLINT_CORPUS", "/nonexistent"))):
        records = base / "parameter-golf" / "records"
        if records.is_dir():
            return records.resolve()
    pytest.skip("the accepted records are absent: this test needs ../shared/corpus/parameter-golf/records "
                "next to the checkout, or GOLFLINT_CORPUS=<folder holding parameter-golf/records>")


@pytest.fixture(scope="module")
def report() -> dict:
    records = records_tree()
    result = CliRunner().invoke(main, ["check", str(records), "--format", "json", "--exit-zero"])
    assert result.exit_code == 0, result.output[-2000:]
    # stderr notes (skipped folders) come first in CliRunner's output; the JSON starts at "{".
    return json.loads(result.output[result.output.index("{\n"):])


def test_no_accepted_submission_gets_an_error(report):
    unexpected, used = [], set()
    for sub in report["submissions"]:
        folder = Path(sub["path"]).name
        for f in sub["findings"]:
            if f["severity"] != "error" or f["suppressed"] or not in_scope(f["rule"]):
                continue
            if (folder, f["rule"]) in JUSTIFIED_EXCEPTIONS:
                used.add((folder, f["rule"]))
                continue
            unexpected.append(f"{folder}: {f['rule']} {f['file']}:{f['line']} {f['message'][:160]}")
    assert unexpected == [], "\n".join(unexpected)
    # An exception that no longer fires is stale: remove it.
    assert used == set(JUSTIFIED_EXCEPTIONS)


def test_no_folder_is_skipped_silently(report):
    records = records_tree()
    checked = {Path(s["path"]).resolve() for s in report["submissions"]}
    found = find_submissions([records], default_settings())
    skipped = {s.path.resolve(): s.reason for s in found.skipped}
    for track in sorted(p for p in records.iterdir() if p.is_dir()):
        for folder in sorted(p for p in track.iterdir() if p.is_dir()):
            if folder.resolve() in checked:
                continue
            assert folder.name in NOT_SUBMISSIONS, f"{folder} was neither checked nor explained"
            assert skipped.get(folder.resolve()) == NOT_SUBMISSIONS[folder.name]
    assert len(checked) + len(NOT_SUBMISSIONS) == sum(
        1 for track in records.iterdir() if track.is_dir() for p in track.iterdir() if p.is_dir())


def test_significance_names_the_record_it_used(report):
    by_name = {Path(s["path"]).name: s for s in report["submissions"]}
    sub = by_name["2026-04-05_SP8192_GPTQ-Embeddings_SDClip_Loop45x2"]
    significance = sub["details"]["significance"] if "details" in sub else None
    if significance is None:
        pytest.skip("this report format carries no significance details")
    assert significance["metric"] == "val_bpb"
    assert "2026-04-04_SP4096_DepthRecurrence_ParallelResid_MuonEqR" in significance["record_source"]
    assert significance["significant"] is True


def test_a_claimed_mean_of_the_seeds_logged_totals_is_backed(report):
    # Three accepted records state bytes_total as the mean of their seeds' logged totals
    # (2026-04-22: 15,975,561, the mean of five "Total submission size" lines): not a mismatch.
    by_name = {Path(s["path"]).name: s for s in report["submissions"]}
    for folder in ("2026-04-01_Vocab4096_MLPMult4_WD085", "2026-04-05_SP8192_GPTQ-Embeddings_SDClip_Loop45x2",
                   "2026-04-22_SP8192_CaseOps_GatedAttn_QuantGate_Loop45_PhasedTTT_MLPClip12"):
        assert "GL303" not in {f["rule"] for f in by_name[folder]["findings"]}, folder
