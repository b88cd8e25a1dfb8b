"""`golflint verify --submit slurm` on a real one-node SLURM cluster, then `verify collect`.

Three CPU toy submissions (two that reproduce their claims, one whose claim is off) are queued from a
shell that exits at once; the jobs run on their own; `verify collect` must give the verdicts that
running the three verifies directly gives. Skips with the reason where SLURM cannot run here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("sentencepiece")

from click.testing import CliRunner  # noqa: E402

import slurm_cluster  # noqa: E402
from golflint.cli import main  # noqa: E402
from verify_helpers import TOY_ENV, run_reference, synth_data, write_toy_submission  # noqa: E402

pytestmark = pytest.mark.e2e
RUN_ENV = [arg for name, value in TOY_ENV.items() for arg in ("--env", f"{name}={value}")]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    # A short folder name: munge's and slurm's socket paths have a length limit.
    root = Path(tempfile.gettempdir()) / f"gl-slurm-{os.getpid()}"
    shutil.rmtree(root, ignore_errors=True)
    found, reason = slurm_cluster.start(root)
    if found is None:
        pytest.skip(f"no one-node SLURM cluster: {reason}")
    yield found
    found.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return synth_data(tmp_path_factory.mktemp("fleet-data"))


@pytest.fixture(scope="module")
def submissions(tmp_path_factory, data):
    """Two toy reference submissions that reproduce (seed 1; seeds 1 and 2) and one whose claim is 0.05 off."""
    root = tmp_path_factory.mktemp("fleet-subs") / "records" / "track_non_record_16mb"
    bare = {seed: run_reference(tmp_path_factory.mktemp(f"bare{seed}"), *data, SEED=seed) for seed in ("1", "2")}
    for proc in bare.values():
        assert proc.returncode == 0, proc.stderr[-2000:]

    def make(name: str, seeds: list[str], shift: float = 0.0) -> Path:
        return write_toy_submission(root / name, {s: bare[s].stdout for s in seeds}, name, shift)

    return [make("toy_one_seed", ["1"]), make("toy_two_seeds", ["1", "2"]), make("toy_off_claim", ["1"], -0.05)]


def verify_args(data) -> list[str]:
    return ["--gpus", "0", "--data-path", str(data[0]), "--tokenizer-path", str(data[1]), "--force", *RUN_ENV]


def test_slurm_jobs_collect_to_the_verdicts_of_direct_runs(cluster, submissions, data, tmp_path):
    results = tmp_path / "results"
    # Submitted from a shell that exits right away: the jobs must not depend on it.
    argv = [sys.executable, "-m", "golflint", "verify", *map(str, submissions), "--submit", "slurm",
            "--results", str(results), "--no-exclusive", "--slurm-time", "900", *verify_args(data)]
    env = {**cluster.env, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[1]),
                                                                     os.environ.get("PYTHONPATH")]))}
    submitted = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    assert submitted.stdout.count("submitted") == 3
    scripts = sorted(results.glob("*/job.sbatch"))
    assert len(scripts) == 3 and all("#SBATCH --array=" in s.read_text() for s in scripts)

    assert cluster.wait_idle(timeout_s=900), cluster.run("squeue").stdout
    collected = CliRunner().invoke(main, ["verify", "collect", str(results), "--format", "json"])
    rows = {Path(r["submission"]).name: r for r in json.loads(collected.output)["rows"]}
    logs = "".join(p.read_text(errors="replace")[-1500:] for p in results.glob("*/slurm-*.out"))
    assert set(rows) == {"toy_one_seed", "toy_two_seeds", "toy_off_claim"}, logs
    assert collected.exit_code == 1, collected.output

    # The same three, run directly.
    direct = {}
    for sub in submissions:
        run = CliRunner().invoke(main, ["verify", str(sub), *verify_args(data), "--format", "json",
                                        "--work-dir", str(tmp_path / f"direct_{sub.name}")])
        direct[sub.name] = json.loads(run.stdout)["outcome"]
    assert {name: row["verdict"] for name, row in rows.items()} == direct, logs
    assert direct == {"toy_one_seed": "verified", "toy_two_seeds": "verified", "toy_off_claim": "not verified"}
    assert "seed 1" in rows["toy_off_claim"]["failing"] and "score" in rows["toy_off_claim"]["failing"]
    assert rows["toy_two_seeds"]["seeds"] == "1=verified, 2=verified"

    # A re-run skips what has reports for the same content.
    again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stdout.count("skipped") == 3, again.stdout + again.stderr
