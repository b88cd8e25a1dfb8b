"""verify's parts without a training run: the network guard and namespace, the process runner, the
BPB accounting's sensitivity, calibration arithmetic and seed selection."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from golflint.config import default_settings
from golflint.verify.model import Check, SeedRun, Verdict, VerifyResult
from golflint.verify.pipeline import Verifier, VerifyOptions, latest_step, launch_argv
from golflint.verify.process import run_logged
from golflint.verify.sandbox import make_sandbox, namespace_problem

PROBE = """
import socket
attempts = []
for call in (lambda: socket.create_connection(("example.org", 443), timeout=2),
             lambda: socket.gethostbyname("pypi.org"),
             lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("8.8.8.8", 53))):
    try:
        call()
        print("reached")
    except OSError as exc:
        print("refused", type(exc).__name__)
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
socket.create_connection(("localhost", server.getsockname()[1]), timeout=2).close()
print("loopback ok")
"""


def run_in(sandbox, tmp_path: Path, code: str, env: dict | None = None) -> subprocess.CompletedProcess:
    script = tmp_path / "probe.py"
    script.write_text(code)
    return subprocess.run(sandbox.command([sys.executable, str(script)]), cwd=tmp_path, capture_output=True,
                          text=True, env=sandbox.environment({**os.environ, **(env or {})}), timeout=60)


@pytest.mark.parametrize("mode", ["guard", "auto"])
def test_guard_refuses_remote_access_records_it_and_keeps_loopback(tmp_path, mode):
    sandbox = make_sandbox(tmp_path / "sb", mode)
    proc = run_in(sandbox, tmp_path, PROBE)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:3] == ["refused gaierror", "refused gaierror", "refused OSError"]
    assert "reached" not in proc.stdout and "loopback ok" in proc.stdout
    calls = [(a["call"], a["target"], a["where"]) for a in sandbox.attempts()]
    assert calls == [("getaddrinfo", "example.org", "probe.py:4"), ("gethostbyname", "pypi.org", "probe.py:5"),
                     ("sendto", "8.8.8.8:53", "probe.py:6")]
    assert sandbox.namespace is (mode == "auto" and namespace_problem() is None)


@pytest.mark.skipif(namespace_problem() is not None, reason="no unprivileged network namespace here")
def test_namespace_blocks_code_that_bypasses_the_guard(tmp_path):
    sandbox = make_sandbox(tmp_path / "sb", "namespace")
    code = ("import _socket\ns = _socket.socket()\ns.settimeout(3)\n"
            "try:\n    s.connect(('1.1.1.1', 80)); print('reached')\nexcept OSError as e:\n    print('blocked', e.errno)\n")
    proc = run_in(sandbox, tmp_path, code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("blocked") and sandbox.attempts() == []


def test_guard_chains_to_the_sitecustomize_it_shadows(tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "sitecustomize.py").write_text("import builtins\nbuiltins.CHAINED = True\n")
    sandbox = make_sandbox(tmp_path / "sb", "guard")
    proc = run_in(sandbox, tmp_path, "import builtins\nprint(getattr(builtins, 'CHAINED', False))\n",
                  env={"PYTHONPATH": str(other)})
    assert proc.stdout.strip() == "True", proc.stderr


def test_run_logged_captures_output_and_times_the_artifact(tmp_path):
    code = ("import time, sys\nprint('step:1/2 hello', flush=True)\nprint('oops', file=sys.stderr)\n"
            "time.sleep(0.3)\nopen('final_model.int8.ptz','wb').write(b'x')\ntime.sleep(0.3)\n")
    log = tmp_path / "run.log"
    outcome = run_logged([sys.executable, "-c", code], cwd=tmp_path, env=dict(os.environ), log_path=log,
                         timeout_s=30, artifact=lambda: tmp_path / "final_model.int8.ptz")
    assert outcome.returncode == 0 and not outcome.timed_out
    assert "step:1/2 hello" in log.read_text() and "oops" in log.read_text()
    assert 0.2 < outcome.artifact_s < outcome.wall_s
    assert latest_step(log) == (1, 2)


def test_run_logged_reports_a_program_that_cannot_start(tmp_path):
    outcome = run_logged([str(tmp_path / "missing")], cwd=tmp_path, env={}, log_path=tmp_path / "x.log", timeout_s=5)
    assert outcome.returncode is None and "cannot start" in outcome.launch_error


def test_launch_commands():
    assert launch_argv(0, "train_gpt.py") == [sys.executable, "train_gpt.py"]
    assert launch_argv(8, "train_gpt.py")[1:] == ["-m", "torch.distributed.run", "--standalone",
                                                  "--nproc_per_node=8", "train_gpt.py"]


def test_seeds_come_from_the_claims(tmp_path):
    verifier = Verifier(VerifyOptions(submission=tmp_path, settings=default_settings()))
    verifier.claims = {"seed_results": {"seed42": {}, "7": {}}}
    assert verifier._seeds() == ["42", "7"]
    verifier.claims = {"seeds": [1, 2, 3], "seed_results": {"9": {}}}
    assert verifier._seeds() == ["1", "2", "3"]
    verifier.claims = {}
    assert verifier._seeds() == [None]
    verifier.o.seeds = ["5"]
    assert verifier._seeds() == ["5"]


def test_outcomes_and_exit_codes():
    result = VerifyResult("s", 0, runs=[SeedRun("1", checks=[Check("score", Verdict.PASS),
                                                              Check("train time", Verdict.NOT_COMPARABLE)])])
    assert result.outcome.value == "verified" and result.outcome.exit_code == 0
    result.runs[0].checks.append(Check("network", Verdict.FAIL))
    assert result.outcome.exit_code == 1
    result.interrupted = True
    assert result.outcome.exit_code == 2
    assert VerifyResult("s", 0).outcome.exit_code == 2      # nothing ran


def test_accounting_catches_a_script_that_ignores_the_boundary_rule(tmp_path):
    """Counting the space of a word that follows BOS (which decodes without it) inflates the bytes
    by one per document; the relative change must stay above the tolerance."""
    pytest.importorskip("torch")
    import numpy as np
    import sentencepiece as spm

    from golflint.verify.accounting import count_validation_bytes, implied_ratio
    from golflint.verify.reference import load_reference
    from golflint.verify.shards import read_split
    from verify_helpers import synth_data

    data_path, tokenizer = synth_data(tmp_path)
    counted = count_validation_bytes(data_path, tokenizer)
    whole = counted.counts[0]
    sp = spm.SentencePieceProcessor(model_file=str(tokenizer))
    base, space, _ = load_reference().piece_byte_tables(sp, 512)
    val = read_split(data_path, "val").astype(np.int64)
    careless_bytes = int((base[val[1:]] + space[val[1:]]).sum())
    assert careless_bytes > whole.bytes
    loss = 4.0
    careless_bpb = loss / math.log(2) * whole.tokens / careless_bytes
    verifier = Verifier(VerifyOptions(submission=tmp_path, settings=default_settings()))
    verifier.validation = counted
    assert verifier._accounting_check(loss, careless_bpb).verdict is Verdict.FAIL
    honest_bpb = loss / math.log(2) * whole.ratio
    check = verifier._accounting_check(round(loss, 8), round(honest_bpb, 8))
    assert check.verdict is Verdict.PASS and "whole stream" in check.detail
    assert implied_ratio(0.0, 1.0) is None


def test_timeout_kills_a_process_group(tmp_path):
    code = "import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\ntime.sleep(60)\n"
    start = time.monotonic()
    outcome = run_logged([sys.executable, "-c", code], cwd=tmp_path, env=dict(os.environ),
                         log_path=tmp_path / "x.log", timeout_s=1)
    assert outcome.timed_out and outcome.returncode is None and time.monotonic() - start < 20
