"""verify's parts without a training run: the bubblewrap sandbox and its network record, the process
runner, names as data (seeds, paths), the BPB accounting's sensitivity, calibration arithmetic and
seed selection."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from golflint.config import default_settings
from golflint.verify import sandbox as sandbox_module
from golflint.verify.model import Check, SeedRun, Verdict, VerifyResult
from golflint.verify.pipeline import Verifier, VerifyOptions, inside, latest_step, launch_argv, seed_number
from golflint.verify.process import run_logged
from golflint.verify.sandbox import (GUARD_SOURCE, Limits, SandboxUnavailable, bwrap_arguments, bwrap_problem,
                                     make_sandbox)

NO_BWRAP = bwrap_problem()
needs_bwrap = pytest.mark.skipif(NO_BWRAP is not None, reason=f"bubblewrap cannot run here: {NO_BWRAP}")

PROBE = """
import socket, _socket
for call in (lambda: socket.create_connection(("example.org", 443), timeout=2),
             lambda: socket.gethostbyname("pypi.org"),
             lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("8.8.8.8", 53)),
             lambda: _socket.socket().connect(("1.1.1.1", 80))):
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


def run_in(sandbox, folder: Path, code: str, env: dict | None = None, name: str = "probe"):
    """Run `code` as folder/probe.py in the sandbox; (completed process, network record)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "probe.py").write_text(code)
    listener = sandbox.listener(name)
    try:
        argv = sandbox.command([sys.executable, "probe.py"], writable=folder, readable=[], gpus=0)
        proc = subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=300,
                              env=sandbox.environment(env or {}, listener.fifo), preexec_fn=sandbox.limits.apply)
    finally:
        record = listener.close()
    return proc, record


@pytest.mark.parametrize("mode", ["bwrap", "none"])
def test_guard_refuses_remote_access_records_it_and_keeps_loopback(tmp_path, mode):
    if mode == "bwrap" and NO_BWRAP:
        pytest.skip(f"bubblewrap cannot run here: {NO_BWRAP}")
    sandbox = make_sandbox(tmp_path / "sb", mode)
    proc, record = run_in(sandbox, tmp_path / "copy", PROBE)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:4] == ["refused gaierror", "refused gaierror", "refused OSError",
                                           "refused OSError"]
    assert "reached" not in proc.stdout and "loopback ok" in proc.stdout
    calls = [(a["call"], a["target"], a["where"]) for a in record.attempts]
    assert calls == [("getaddrinfo", "example.org", "probe.py:3"), ("gethostbyname", "pypi.org", "probe.py:4"),
                     ("sendto", "8.8.8.8:53", "probe.py:5"), ("connect", "1.1.1.1:80", "probe.py:6")]
    assert record.problem() is None


@needs_bwrap
def test_a_cut_record_is_unknown_never_clean(tmp_path):
    sandbox = make_sandbox(tmp_path / "sb", "bwrap")
    # Closes the guard's channel, then exits without running exit handlers.
    code = ("import os\nfor fd in os.listdir('/proc/self/fd'):\n"
            "    try:\n        target = os.readlink('/proc/self/fd/' + fd)\n    except OSError:\n        continue\n"
            "    if target.endswith('.fifo'):\n        os.close(int(fd))\n"
            "import socket\ntry:\n    socket.create_connection(('example.org', 80), timeout=1)\nexcept OSError:\n    pass\n"
            "os._exit(0)\n")
    proc, record = run_in(sandbox, tmp_path / "copy", code)
    assert proc.returncode == 0, proc.stderr
    assert record.attempts == [] and record.started and "did not report their exit" in record.problem()
    check = Verifier._network_check(record, contained=True)
    assert check.verdict is Verdict.UNKNOWN and check.verdict.failing


@needs_bwrap
def test_the_record_cannot_be_read_or_forged_clean_and_the_guard_cannot_be_edited(tmp_path):
    sandbox = make_sandbox(tmp_path / "sb", "bwrap")
    code = ("import os, sys\nfifo = os.environ['GOLFLINT_NET_FIFO']\n"
            "try:\n    open(fifo, 'rb'); print('read the record')\nexcept OSError as e:\n    print('no read', e.errno)\n"
            "guard = [p for p in sys.path if os.path.exists(os.path.join(p, 'sitecustomize.py'))][0]\n"
            "try:\n    open(os.path.join(guard, 'sitecustomize.py'), 'a').write('#')\n    print('edited guard')\n"
            "except OSError as e:\n    print('guard read-only', e.errno)\n"
            "os.write(os.open(fifo, os.O_WRONLY), b'not json\\n')\n")
    proc, record = run_in(sandbox, tmp_path / "copy", code)
    lines = proc.stdout.splitlines()
    assert lines[0] == "no read 13", proc.stdout + proc.stderr
    assert lines[1] in ("guard read-only 13", "guard read-only 30"), proc.stdout + proc.stderr
    assert (tmp_path / "sb" / "sitecustomize.py").read_text() == GUARD_SOURCE
    assert record.malformed == 1 and "tampered" in record.problem()
    assert Verifier._network_check(record, contained=True).verdict is Verdict.UNKNOWN


def test_no_report_from_the_guard_is_unknown():
    from golflint.verify.sandbox import NetworkRecord

    record = NetworkRecord()
    assert "no Python process" in record.problem()
    assert Verifier._network_check(record, contained=True).verdict is Verdict.UNKNOWN
    record.attempts.append({"call": "connect", "target": "1.1.1.1:80", "pid": 3, "where": None})
    assert Verifier._network_check(record, contained=True).verdict is Verdict.FAIL


def test_guard_chains_to_the_sitecustomize_it_shadows(tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "sitecustomize.py").write_text("import builtins\nbuiltins.CHAINED = True\n")
    sandbox = make_sandbox(tmp_path / "sb", "none")
    proc, _ = run_in(sandbox, tmp_path / "copy", "import builtins\nprint(getattr(builtins, 'CHAINED', False))\n",
                     env={"PYTHONPATH": str(other)})
    assert proc.stdout.strip() == "True", proc.stderr


def test_without_bubblewrap_verify_refuses_with_the_install_command(tmp_path, monkeypatch):
    bwrap_problem.cache_clear()
    monkeypatch.setattr(sandbox_module.shutil, "which", lambda name: None)
    try:
        with pytest.raises(SandboxUnavailable) as caught:
            make_sandbox(tmp_path / "sb", "bwrap")
    finally:
        bwrap_problem.cache_clear()
    message = str(caught.value)
    assert "not installed" in message and "apt-get install -y bubblewrap" in message and "--sandbox none" in message


def test_sandbox_arguments_bind_gpus_only_when_asked(tmp_path, monkeypatch):
    nodes = [Path("/dev/nvidia0"), Path("/dev/nvidia1"), Path("/dev/nvidiactl"), Path("/dev/nvidia-uvm"),
             Path("/dev/nvidia-uvm-tools"), Path("/dev/nvidia-modeset")]
    monkeypatch.setattr(sandbox_module, "gpu_device_nodes", lambda: nodes)
    copy = tmp_path / "copy"
    copy.mkdir()
    with_gpus = bwrap_arguments(writable=copy, readable=[tmp_path / "data"], gpus=2)
    for node in nodes:
        i = with_gpus.index(str(node))
        assert with_gpus[i - 1:i + 2] == ["--dev-bind", str(node), str(node)]
    without = bwrap_arguments(writable=copy, readable=[], gpus=0)
    assert not any(a.startswith("/dev/nvidia") for a in without)
    for flag in ("--unshare-all", "--die-with-parent", "--new-session"):
        assert flag in without
    assert without[-6:] == ["--bind", str(copy), str(copy), "--chdir", str(copy), "--remount-ro", "/"][-6:] or \
        without[-7:] == ["--bind", str(copy), str(copy), "--chdir", str(copy), "--remount-ro", "/"]
    # Binds come after the private /tmp, so inputs under /tmp stay visible.
    assert without.index("/tmp") < without.index("--bind")
    assert "/root" not in without and "/home" not in without


def test_limits_are_set_from_the_settings(tmp_path):
    settings = default_settings()
    cpu = Verifier(VerifyOptions(submission=tmp_path, settings=settings, gpus=0))._limits()
    assert cpu.address_space_bytes == settings.get("verify.max_address_space_bytes") > 0
    assert cpu.file_bytes == settings.get("verify.max_file_bytes") and cpu.processes == settings.get("verify.max_processes")
    gpu = Verifier(VerifyOptions(submission=tmp_path, settings=settings, gpus=8))
    assert gpu._limits().address_space_bytes == 0 and "address-space" in gpu.result.notes[0]


def test_file_size_limit_holds_in_the_run(tmp_path):
    sandbox = make_sandbox(tmp_path / "sb", "bwrap" if NO_BWRAP is None else "none", Limits(file_bytes=1 << 20))
    code = ("import signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "try:\n    open('big', 'wb').write(b'x' * (4 << 20)); print('wrote')\nexcept OSError as e:\n    print('limited', e.errno)\n")
    proc, _ = run_in(sandbox, tmp_path / "copy", code)
    assert proc.stdout.strip() == "limited 27", proc.stdout + proc.stderr
    assert (tmp_path / "copy" / "big").stat().st_size <= 1 << 20


def test_seeds_are_integers_and_names_stay_inside(tmp_path):
    assert [seed_number(v) for v in (1, "42", " -3 ", "1/../x", "seed1", 1.0, True, None, "9" * 30, 2**70)] == \
        [1, 42, -3, None, None, None, None, None, None, None]
    work = tmp_path / "work"
    work.mkdir()
    assert inside(work, "seed_1") == work / "seed_1"
    for bad in ("seed_1/../../x", "..", "", "a/b", "x\0y"):
        with pytest.raises(ValueError):
            inside(work, bad)
    (work / "link").symlink_to(tmp_path)
    with pytest.raises(ValueError):
        inside(work, "link")


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


def test_seeds_come_from_the_claims_each_once(tmp_path):
    verifier = Verifier(VerifyOptions(submission=tmp_path, settings=default_settings()))

    def chosen(claims, logs=()):
        verifier.claims, verifier._claimed_log_seeds = claims, list(logs)
        return verifier._choose_seeds(), verifier._seeds()

    assert chosen({"seed_results": {"seed42": {}, "7": {}}}) == (None, [42, 7])
    assert chosen({"seeds": [1, 2, 3], "seed_results": {"9": {}}}) == (None, [1, 2, 3])
    assert chosen({}) == (None, [None])
    assert chosen({}, logs=[1, 1, 1, 1]) == (None, [1])
    assert "seed 1 x4" in verifier.result.notes[-1] and "runs once" in verifier.result.notes[-1]
    problem, _ = chosen({"seeds": [1, "1/../../../../tmp/VICTIM"]})
    assert "'1/../../../../tmp/VICTIM' is not an integer seed" in problem
    verifier.o.seeds = [5, 5]
    assert chosen({}) == (None, [5])


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
    # Generous: the kill takes at most two grace periods, even on a loaded machine.
    assert outcome.timed_out and outcome.returncode is None and time.monotonic() - start < 120
