"""`golflint verify` end to end on CPU (--gpus 0): toy submissions that reproduce, mis-claim, reach
for the network, hang, crash, or get interrupted. Runs use the bubblewrap sandbox where it works here
(else these tests skip, and test_verify_units covers the refusal); nothing asserts on wall-clock luck."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("sentencepiece")

from click.testing import CliRunner  # noqa: E402

from golflint.cli import main  # noqa: E402
from verify_helpers import (FIXTURES, TOY_ENV, bwrap_problem, run_reference,  # noqa: E402
                            survivors, synth_data, write_toy_submission)

NO_BWRAP = bwrap_problem()
pytestmark = pytest.mark.skipif(NO_BWRAP is not None, reason=f"bubblewrap cannot run here: {NO_BWRAP}")

# The toy run's sizes reach the submission through --env, as a reviewer's overrides would.
RUN_ENV = [arg for name, value in TOY_ENV.items() for arg in ("--env", f"{name}={value}")]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return synth_data(tmp_path_factory.mktemp("verify-data"))


@pytest.fixture(scope="module")
def toy_submission(tmp_path_factory, data):
    """reference/train_gpt.py as a submission whose claims come from a bare run of it (seed 1)."""
    root = tmp_path_factory.mktemp("toy") / "records" / "track_non_record_16mb" / "toy_reference"
    bare = run_reference(tmp_path_factory.mktemp("bare"), *data, SEED="1")
    assert bare.returncode == 0, bare.stderr[-2000:]
    return write_toy_submission(root, {"1": bare.stdout}, "toy reference")


def verify(sub: Path, data, tmp_path: Path, *args: str):
    report = tmp_path / "report.md"
    result = CliRunner().invoke(main, ["verify", str(sub), "--gpus", "0", "--data-path", str(data[0]),
                                       "--tokenizer-path", str(data[1]), "--work-dir", str(tmp_path / "work"),
                                       "--report", str(report), "--format", "json", *args])
    payload = json.loads(result.stdout) if result.stdout.strip().startswith("{") else None
    return result, payload, report


def checks(payload, index: int = 0) -> dict[str, dict]:
    return {c["name"]: c for c in payload["runs"][index]["checks"]}


def fixture_copy(name: str, tmp_path: Path) -> Path:
    dest = tmp_path / "records" / "track_non_record_16mb" / name
    shutil.copytree(FIXTURES / name, dest)
    return dest


@pytest.mark.e2e
def test_toy_reference_reproduces_its_own_claims(toy_submission, data, tmp_path):
    result, payload, report = verify(toy_submission, data, tmp_path, "--force", *RUN_ENV, "--calibration", "on",
                                     "--calibration-steps", "4", *(a for n, v in TOY_ENV.items()
                                                                   for a in ("--calibration-env", f"{n}={v}")))
    assert result.exit_code == 0, result.output
    assert payload["outcome"] == "verified" and payload["exit_code"] == 0
    assert payload["preflight"]["verdict"] in ("pass", "overridden")
    run = payload["runs"][0]
    assert run["seed"] == "1" and run["network_attempts"] == []
    got = checks(payload)
    for name in ("run", "network", "score", "bytes", "size cap", "bpb accounting"):
        assert got[name]["verdict"] == "pass", got[name]
    claims = json.loads((toy_submission / "submission.json").read_text())
    assert run["val_bpb"] == pytest.approx(claims["val_bpb"], abs=1e-8)
    assert run["total_bytes"] == claims["bytes_total"]
    # Calibration ran on the CPU: timing is "not comparable", with the factor shown, never pass/fail.
    calibration = payload["calibration"]
    assert calibration["ran"] and calibration["factor"] > 0 and not calibration["comparable"]
    assert got["train time"]["verdict"] == "not comparable"
    assert f"x{calibration['factor']:.2f}" in got["train time"]["detail"]
    text = report.read_text()
    assert text.startswith("# golflint verify: verified") and "| score | " in text


@pytest.mark.e2e
def test_an_off_claim_fails_and_the_shipped_artifact_is_not_measured(toy_submission, data, tmp_path):
    sub = tmp_path / "records" / "track_non_record_16mb" / "off_claim"
    shutil.copytree(toy_submission, sub)
    claims = json.loads((sub / "submission.json").read_text())
    claims["seed_results"]["1"]["val_bpb"] = claims["val_bpb"] - 0.05
    (sub / "submission.json").write_text(json.dumps(claims), encoding="utf-8")
    (sub / "final_model.int8.ptz").write_bytes(b"\0" * 10)
    result, payload, _ = verify(sub, data, tmp_path, "--force", *RUN_ENV)
    assert result.exit_code == 1, result.output
    got = checks(payload)
    assert got["score"]["verdict"] == "fail" and "-0.05" not in got["score"]["detail"]
    assert got["score"]["claimed"] == f"{claims['val_bpb'] - 0.05:.5f}"
    assert got["bytes"]["verdict"] == "pass"      # the fresh artifact, not the 10 shipped bytes
    assert (sub / "final_model.int8.ptz").stat().st_size == 10


@pytest.mark.parametrize("sandbox", ["bwrap", "none"])
def test_network_attempts_are_refused_and_flagged(data, tmp_path, sandbox):
    sub = fixture_copy("net_probe", tmp_path)
    result, payload, _ = verify(sub, data, tmp_path, "--force", "--sandbox", sandbox)
    assert result.exit_code == 1, result.output
    run = payload["runs"][0]
    targets = {(a["call"], a["target"]) for a in run["network_attempts"]}
    assert targets == {("getaddrinfo", "example.com"), ("getaddrinfo", "93.184.216.34")}
    assert all(a["where"] == "train_gpt.py:7" for a in run["network_attempts"])
    assert checks(payload)["network"]["verdict"] == "fail"
    log = Path(run["log_path"]).read_text()
    assert "connected to" not in log and "disabled by golflint verify" in log
    if sandbox == "none":
        assert payload["sandbox"].startswith("NONE") and any("WITHOUT a sandbox" in n for n in payload["notes"])
    else:
        assert payload["sandbox"].startswith("bubblewrap")


def test_a_run_past_the_timeout_is_killed_with_its_children_and_daemons(data, tmp_path):
    sub = fixture_copy("sleeper", tmp_path)
    result, payload, _ = verify(sub, data, tmp_path, "--force", "--timeout", "15")
    assert result.exit_code == 1, result.output
    assert checks(payload)["run"]["verdict"] == "timeout"
    assert payload["runs"][0]["verdict"] == "timeout"
    copy = tmp_path / "work" / "default_seed"
    assert (copy / "pids.txt").exists(), Path(payload["runs"][0]["log_path"]).read_text()
    # The child, the setsid daemon and the double-forked one all carry the copy's path.
    assert survivors(str(copy)) == []
    # A timed-out run's guard never reported its exit: the network verdict cannot be "pass".
    assert checks(payload)["network"]["verdict"] == "unknown"


def test_a_crash_is_reported_with_its_log_tail(data, tmp_path):
    sub = fixture_copy("crasher", tmp_path)
    result, payload, report = verify(sub, data, tmp_path, "--force")
    assert result.exit_code == 1
    run = payload["runs"][0]
    assert run["verdict"] == "crashed" and run["returncode"] == 1
    assert "RuntimeError: shapes (64, 512)" in run["log_tail"]
    assert "RuntimeError: shapes (64, 512)" in report.read_text()


def test_ctrl_c_kills_the_run_and_writes_a_partial_report(data, tmp_path):
    # A shell's background job without job control starts with SIGINT ignored, and Python then
    # never turns it into KeyboardInterrupt: give this process Python's own handler for the test.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _ctrl_c_kills_the_run(data, tmp_path)
    finally:
        signal.signal(signal.SIGINT, previous)


def _ctrl_c_kills_the_run(data, tmp_path):
    sub = fixture_copy("sleeper", tmp_path)
    pid_file = tmp_path / "work" / "seed_5" / "pids.txt"

    def interrupt_once_running():
        # Interrupt only once the run is up (however long a loaded machine takes to get there); the
        # bound only keeps a broken run from hanging the suite, and then the test fails on its own.
        deadline = time.monotonic() + 600
        while not pid_file.exists():
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_once_running, daemon=True).start()
    result, payload, report = verify(sub, data, tmp_path, "--force", "--seeds", "5,6")
    assert result.exit_code == 2, result.output
    assert payload["interrupted"] and payload["outcome"] == "could not run"
    assert [r["seed"] for r in payload["runs"]] == ["5"]
    assert checks(payload)["run"]["verdict"] == "interrupted"
    assert survivors(str(pid_file.parent)) == []
    assert "interrupted" in report.read_text()


def test_preflight_errors_stop_verify_unless_forced(data, tmp_path):
    sub = tmp_path / "records" / "track_non_record_16mb" / "bare"
    sub.mkdir(parents=True)
    (sub / "train_gpt.py").write_text("print('hello')\n")
    result, payload, _ = verify(sub, data, tmp_path)
    assert result.exit_code == 1
    assert payload["preflight"]["verdict"] == "fail" and "--force" in payload["preflight"]["detail"]
    assert payload["runs"] == [] and not (tmp_path / "work").exists()


def test_missing_gpus_and_data_cannot_run(data, tmp_path):
    import torch

    sub = fixture_copy("crasher", tmp_path)
    if not torch.cuda.is_available():
        result, payload, _ = verify(sub, data, tmp_path, "--gpus", "1")
        assert result.exit_code == 2 and "usable CUDA GPU" in payload["problem"]
        assert payload["outcome"] == "could not run"
    result = CliRunner().invoke(main, ["verify", str(sub), "--gpus", "0", "--data-path", str(tmp_path),
                                       "--tokenizer-path", str(data[1]), "--format", "json"])
    assert result.exit_code == 2 and "no fineweb_train_*.bin shards" in json.loads(result.stdout)["problem"]
