"""CI workflows (`golflint init ci`), SLURM job arrays (`verify --submit slurm`) and `verify collect`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from golflint.cli import main
from golflint.fleet import collect as fleet_collect
from golflint.fleet.slurm import SlurmOptions, claimed_seeds, content_hash, job_script, plan
from golflint.fleet.workflows import CiOptions, workflows

REPO = Path(__file__).resolve().parent.parent


def check_jsonschema() -> str | None:
    found = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which("check-jsonschema")
    return found


# -- GitHub Actions workflows -------------------------------------------------------------------------
def test_init_ci_writes_workflows_that_validate_against_githubs_schema(tmp_path):
    (tmp_path / "records").mkdir()
    result = CliRunner().invoke(main, ["init", "ci", "--dest", str(tmp_path), "--runner-labels",
                                       "self-hosted,linux,h100x8", "--gpus", "8"])
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / ".github" / "workflows").glob("*.yml"))
    assert [f.name for f in files] == ["golflint-check.yml", "golflint-verify.yml"]
    tool = check_jsonschema()
    if tool is None:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]' brings it)")
    proc = subprocess.run([tool, "--builtin-schema", "vendor.github-workflows", *map(str, files)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    check = files[0].read_text()
    verify = files[1].read_text()
    # check: every pull request touching records/, SARIF to code scanning, annotations, fails on errors
    assert "pull_request:" in check and '"records/**"' in check
    assert "--format sarif" in check and "github/codeql-action/upload-sarif" in check
    assert "--format github" in check and "security-events: write" in check
    # verify: on the label or by hand, on the self-hosted runner, report as summary and artifact
    assert 'runs-on: ["self-hosted", "linux", "h100x8"]' in verify
    assert "types: [labeled]" in verify and "workflow_dispatch:" in verify
    assert "--gpus 8" in verify and "GITHUB_STEP_SUMMARY" in verify and "actions/upload-artifact" in verify
    # PR-controlled text reaches shell only through environment variables, never ${{ }} inside `run:`
    for text in (check, verify):
        for block in text.split("run: ")[1:]:
            body = block.split("\n      - ")[0]
            assert "${{" not in body, body


def test_init_ci_keeps_a_forks_own_edits_unless_forced(tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["init", "ci", "--dest", str(tmp_path)]).exit_code == 0
    again = runner.invoke(main, ["init", "ci", "--dest", str(tmp_path)])
    assert again.exit_code == 0 and again.output.count("unchanged") == 2
    edited = tmp_path / ".github" / "workflows" / "golflint-check.yml"
    edited.write_text(edited.read_text() + "# ours\n")
    kept = runner.invoke(main, ["init", "ci", "--dest", str(tmp_path)])
    assert kept.exit_code == 0 and "exists" in kept.output and edited.read_text().endswith("# ours\n")
    forced = runner.invoke(main, ["init", "ci", "--dest", str(tmp_path), "--force"])
    assert forced.exit_code == 0 and not edited.read_text().endswith("# ours\n")


@pytest.mark.parametrize("labels", ["self-hosted,bad label", "x'y", ","])
def test_init_ci_refuses_labels_that_are_not_plain(tmp_path, labels):
    result = CliRunner().invoke(main, ["init", "ci", "--dest", str(tmp_path), "--runner-labels", labels])
    assert result.exit_code == 2 and "error:" in result.output
    assert not (tmp_path / ".github").exists()


def test_workflow_runner_labels_and_gpus_are_configurable():
    text = workflows(CiOptions(runner_labels=("gpu-pool",), gpus=4))
    verify = next(v for k, v in text.items() if k.name == "golflint-verify.yml")
    assert 'runs-on: ["gpu-pool"]' in verify and "--gpus 4" in verify


# -- SLURM job scripts ----------------------------------------------------------------------------------
def _submission(root: Path, name: str, seeds) -> Path:
    sub = root / name
    sub.mkdir(parents=True)
    (sub / "train_gpt.py").write_text("print('hello')\n")
    (sub / "submission.json").write_text(json.dumps({"seeds": seeds}))
    return sub


def test_job_script_is_an_array_over_the_seeds_with_gpus_exclusive_node_and_time(tmp_path):
    sub = _submission(tmp_path, "run_a", [1337, 42, "7", "1/../x", True, 42])
    assert claimed_seeds(sub) == ["1337", "42", "7"]      # malformed seeds are verify's preflight's to report
    options = SlurmOptions(results=tmp_path / "res", gpus=8, partition="h100", account="golf", time_limit_s=3000,
                           verify_args=["--data-path", "/data/x y"])
    (job,) = plan([sub], options)
    script = job_script(job, options)
    assert "#SBATCH --array=0-2" in script and "#SBATCH --gres=gpu:8" in script
    assert "#SBATCH --exclusive" in script and "#SBATCH --time=0-00:50:00" in script
    assert "#SBATCH --partition=h100" in script and "#SBATCH --account=golf" in script
    assert "SEEDS=(1337 42 7)" in script and "'/data/x y'" in script
    assert job.folder.name == f"run_a-{content_hash(sub)[:12]}"
    cpu = job_script(job, SlurmOptions(results=tmp_path / "res", gpus=0, exclusive=False))
    assert "--gres" not in cpu and "--exclusive" not in cpu


def test_content_hash_follows_content_not_time(tmp_path):
    sub = _submission(tmp_path, "run_b", [1])
    first = content_hash(sub)
    (sub / "train_gpt.py").touch()
    assert content_hash(sub) == first
    (sub / "train_gpt.py").write_text("print('changed')\n")
    assert content_hash(sub) != first


def test_a_submission_whose_reports_exist_is_skipped_and_missing_seeds_are_resubmitted(tmp_path):
    sub = _submission(tmp_path, "run_c", [1, 2])
    options = SlurmOptions(results=tmp_path / "res", gpus=0)
    (job,) = plan([sub], options)
    assert job.state == "planned" and job.missing == ["1", "2"]
    job.folder.mkdir(parents=True)
    (job.folder / "seed_1.json").write_text("{}")
    (job,) = plan([sub], options)
    assert job.missing == ["2"]
    (job.folder / "seed_2.json").write_text("{}")
    (job,) = plan([sub], options)
    assert job.state == "skipped"


# -- collect ---------------------------------------------------------------------------------------------
def _report(outcome: str, seed: str, bpb: float, failing: tuple[str, ...] = ()) -> dict:
    checks = [{"name": "score", "verdict": "fail" if "score" in failing else "pass", "claimed": "1.20000",
               "reproduced": f"{bpb:.5f}", "detail": ""}]
    return {"version": 1, "submission": "x", "outcome": outcome, "exit_code": 0, "problem": None,
            "preflight": {"name": "preflight", "verdict": "pass"},
            "runs": [{"seed": seed, "val_bpb": bpb, "total_bytes": 123, "train_time_ms": 1.0,
                      "verdict": "fail" if failing else "pass", "checks": checks}]}


def _results(tmp_path: Path, name: str, seeds: list[str], reports: dict[str, dict | str]) -> Path:
    folder = tmp_path / "res" / f"{name}-0123456789ab"
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text(json.dumps({"version": 1, "submission": f"/subs/{name}",
                                                  "content_hash": "0123456789ab" * 5, "seeds": seeds,
                                                  "job_id": "7"}))
    for seed, report in reports.items():
        text = report if isinstance(report, str) else json.dumps(report)
        (folder / f"seed_{seed}.json").write_text(text)
    return folder


def test_collect_merges_seeds_and_exits_by_the_worst_verdict(tmp_path):
    _results(tmp_path, "good", ["1", "2"], {"1": _report("verified", "1", 1.2), "2": _report("verified", "2", 1.21)})
    results = tmp_path / "res"
    runner = CliRunner()
    ok = runner.invoke(main, ["verify", "collect", str(results), "--format", "json"])
    assert ok.exit_code == 0, ok.output
    rows = json.loads(ok.output)["rows"]
    assert [r["verdict"] for r in rows] == ["verified"] and rows[0]["val_bpb"] == pytest.approx(1.205)
    _results(tmp_path, "queued", ["1"], {})
    pending = runner.invoke(main, ["verify", "collect", str(results), "--format", "json"])
    assert pending.exit_code == 2
    _results(tmp_path, "bad", ["1"], {"1": _report("not verified", "1", 1.3, ("score",))})
    _results(tmp_path, "forged", ["1"], {"1": '{"outcome": "verified"}'})
    worst = runner.invoke(main, ["verify", "collect", str(results), "--format", "json"])
    assert worst.exit_code == 1
    verdicts = {Path(r["submission"]).name: r["verdict"] for r in json.loads(worst.output)["rows"]}
    assert verdicts == {"bad": "not verified", "forged": "could not run", "good": "verified",
                        "queued": "missing report"}
    markdown = runner.invoke(main, ["verify", "collect", str(results), "--format", "markdown"]).output
    assert "| Submission |" in markdown and "not verified" in markdown
    html = runner.invoke(main, ["verify", "collect", str(results), "--format", "html"]).output
    assert html.lstrip().lower().startswith("<!doctype html") and "http" not in html.split("<script")[0].lower().replace("http-equiv", "")


def test_collect_reads_plain_saved_verify_reports(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(_report("verified", "1", 1.2)))
    (tmp_path / "unrelated.json").write_text(json.dumps({"hello": 1}))
    (tmp_path / "broken.json").write_text("{")
    reports = fleet_collect.collect(tmp_path)
    assert [r.outcome for r in reports] == ["verified"]
    assert fleet_collect.exit_code([]) == 2


def test_several_submissions_need_submit(tmp_path):
    a, b = _submission(tmp_path, "a", [1]), _submission(tmp_path, "b", [1])
    result = CliRunner().invoke(main, ["verify", str(a), str(b), "--gpus", "0"])
    assert result.exit_code == 2 and "--submit slurm" in result.output
