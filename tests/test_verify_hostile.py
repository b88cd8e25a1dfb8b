"""Hostile submissions under `golflint verify --gpus 0` (CPU, toy size, no torch in the scripts):
names that are paths, a script that writes, reads, kills, forks daemons, allocates and reaches for
the network. Asserted: the run's copy is the only thing written, no process survives, every network
attempt is in the report, the verifier lives on."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("sentencepiece")

from click.testing import CliRunner  # noqa: E402

from golflint.cli import main  # noqa: E402
from golflint.verify.sandbox import GUARD_SOURCE  # noqa: E402
from verify_helpers import bwrap_problem, survivors, synth_data  # noqa: E402

NO_BWRAP = bwrap_problem()
needs_bwrap = pytest.mark.skipif(NO_BWRAP is not None, reason=f"bubblewrap cannot run here: {NO_BWRAP}")
REPO = Path(__file__).resolve().parent.parent

QUICK = """import zlib
open("final_model.int8.ptz", "wb").write(zlib.compress(b"w" * 100, 9))
print("final_int8_zlib_roundtrip_exact val_loss:4.00000000 val_bpb:1.50000000")
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return synth_data(tmp_path_factory.mktemp("hostile-data"))


def submission(tmp_path: Path, name: str, code: str, claims: dict | None = None, logs: dict | None = None) -> Path:
    root = tmp_path / "subs" / "records" / "track_non_record_16mb" / name
    root.mkdir(parents=True)
    (root / "train_gpt.py").write_text(code, encoding="utf-8")
    (root / "README.md").write_text(f"# {name}\n\nA hostile test fixture.\n", encoding="utf-8")
    base = {"author": "golflint tests", "name": name, "date": "2026-01-01", "val_loss": 4.0, "val_bpb": 1.5,
            "bytes_total": 2000, "bytes_code": len(code.encode())}
    (root / "submission.json").write_text(json.dumps({**base, **(claims or {})}), encoding="utf-8")
    for log_name, text in (logs or {"train.log": "val_loss:4.0 val_bpb:1.5\n"}).items():
        (root / log_name).write_text(text, encoding="utf-8")
    return root


def run_verify(sub: Path, data, work: Path, *args: str):
    result = CliRunner().invoke(main, ["verify", str(sub), "--gpus", "0", "--data-path", str(data[0]),
                                       "--tokenizer-path", str(data[1]), "--work-dir", str(work),
                                       "--format", "json", "--timeout", "300", *args])
    payload = json.loads(result.stdout) if result.stdout.strip().startswith("{") else None
    return result, payload


def snapshot(root: Path, skip: Path | None = None) -> dict[str, str]:
    out = {}
    for path in sorted(root.rglob("*")):
        if skip is not None and path.is_relative_to(skip):
            continue
        if path.is_symlink():
            out[str(path)] = "link:" + os.readlink(path)
        elif path.is_file():
            out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[str(path)] = "dir"
    return out


# -- 1. names are data ---------------------------------------------------------------------------------
@pytest.mark.parametrize("force", [False, True])
def test_a_seed_that_is_a_path_is_refused_and_nothing_is_touched(tmp_path, data, force):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    sub = submission(tmp_path, "seed_path", QUICK,
                     claims={"seeds": [1, "1/../../victim", "1/../../../../tmp/VICTIM"]},
                     logs={"train.log": "no seed here\nval_loss:4.0 val_bpb:1.5\n"})
    before = snapshot(tmp_path)
    result, payload = run_verify(sub, data, tmp_path / "work", *(["--force"] if force else []))
    assert result.exit_code == 1, result.output
    assert payload["preflight"]["verdict"] == "fail"
    assert "'1/../../victim'" in payload["preflight"]["detail"]
    assert "is not an integer seed" in payload["preflight"]["detail"]
    assert payload["runs"] == []
    assert snapshot(tmp_path) == before and (victim / "keep.txt").read_text() == "precious"
    assert not (tmp_path / "work").exists()


def test_a_non_integer_seed_on_the_command_line_is_a_usage_error(tmp_path, data):
    sub = submission(tmp_path, "cli_seed", QUICK)
    result, _ = run_verify(sub, data, tmp_path / "work", "--seeds", "1,../x")
    assert result.exit_code == 2 and "is not an integer seed" in result.output


@needs_bwrap
def test_duplicate_seeds_run_once_and_are_reported(tmp_path, data):
    logs = {f"train_{i}.log": "seed:1\nval_loss:4.0 val_bpb:1.5\n" for i in range(4)}
    sub = submission(tmp_path, "dup_seeds", QUICK, logs=logs)
    result, payload = run_verify(sub, data, tmp_path / "work", "--force")
    assert [r["seed"] for r in payload["runs"]] == ["1"], result.output
    assert any("seed 1 x4" in note and "runs once" in note for note in payload["notes"])


@needs_bwrap
def test_a_script_that_needs_cuda_could_not_run(tmp_path, data):
    sub = submission(tmp_path, "needs_cuda", 'raise RuntimeError("CUDA is required")\n')
    result, payload = run_verify(sub, data, tmp_path / "work", "--force")
    assert result.exit_code == 2, result.output
    assert payload["outcome"] == "could not run" and "CUDA is required" in payload["problem"]


# -- 2-4. the sandbox holds ------------------------------------------------------------------------------
HOSTILE = """
import _socket, json, os, signal, socket, subprocess, sys, time

ORIGINAL, REPO, MARK, VERIFIER, GUARD_DIR_HINT = {original!r}, {repo!r}, {mark!r}, {verifier!r}, {work!r}
HOST_PORT = {port!r}
seen = {{}}


def attempt(name, action):
    try:
        action()
        seen[name] = "done"
    except BaseException as exc:
        seen[name] = type(exc).__name__


def write(path):
    with open(path, "w") as f:
        f.write("planted")


attempt("write_host_tmp", lambda: write(MARK))
attempt("write_root_home", lambda: write("/root/" + os.path.basename(MARK)))
attempt("write_original", lambda: write(os.path.join(ORIGINAL, "planted.txt")))
attempt("delete_original", lambda: os.remove(os.path.join(ORIGINAL, "README.md")))
attempt("write_work_dir", lambda: write(os.path.join(GUARD_DIR_HINT, "planted.txt")))
guard = [p for p in sys.path if os.path.isfile(os.path.join(p, "sitecustomize.py"))][0]
attempt("edit_guard", lambda: write(os.path.join(guard, "sitecustomize.py")))
attempt("read_shadow", lambda: open("/etc/shadow").read())
# A file of this repository (a venv inside the checkout, as in CI, is bound read-only, which makes
# the checkout's folder exist in the sandbox as an empty mount point; its files must not be there).
attempt("read_repo", lambda: open(os.path.join(REPO, "pyproject.toml")).read())
attempt("kill_verifier", lambda: os.kill(VERIFIER, signal.SIGKILL))
attempt("kill_init", lambda: os.kill(1, signal.SIGKILL))
attempt("allocate", lambda: bytearray(6 << 30))
attempt("connect", lambda: socket.create_connection(("example.com", 80), timeout=2))
attempt("raw_connect", lambda: _socket.socket().connect(("1.1.1.1", 80)))
attempt("host_loopback", lambda: socket.create_connection(("127.0.0.1", HOST_PORT), timeout=2))
attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("8.8.8.8", 53)))
# Not observable (not Python): it fails for want of a route, the docs say so.
attempt("curl", lambda: subprocess.run(["curl", "-sm", "3", "http://1.1.1.1"], capture_output=True))

marker = os.getcwd()
sleep = [sys.executable, "-c", "import time; time.sleep(3600)", marker]
subprocess.Popen(sleep, start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, sleep)
    os._exit(0)
time.sleep(0.5)

with open("hostile.json", "w") as f:
    json.dump(seen, f)
with open("final_model.int8.ptz", "wb") as f:
    f.write(b"x" * 100)
print("final_int8_zlib_roundtrip_exact val_loss:4.00000000 val_bpb:1.50000000", flush=True)
"""


@needs_bwrap
def test_a_hostile_script_writes_only_its_copy_leaves_no_process_and_every_attempt_is_reported(tmp_path, data):
    work = tmp_path / "work"
    mark = Path("/tmp") / f"golflint-victim-{os.getpid()}-{tmp_path.name}"
    original = tmp_path / "subs" / "records" / "track_non_record_16mb" / "hostile"
    host_service = socket.socket()          # a service on the host's loopback: out of the run's reach
    host_service.bind(("127.0.0.1", 0))
    host_service.listen(1)
    code = HOSTILE.format(original=str(original), repo=str(REPO), mark=str(mark), verifier=os.getpid(),
                          work=str(work), port=host_service.getsockname()[1])
    sub = submission(tmp_path, "hostile", code)
    rules = tmp_path / "limits.toml"
    rules.write_text("[verify]\nmax_address_space_bytes = 4_294_967_296\n", encoding="utf-8")
    before = snapshot(tmp_path, skip=work)
    try:
        result, payload = run_verify(sub, data, work, "--force", "--rules", str(rules))
    finally:
        host_service.close()
    assert payload is not None, result.output
    run = payload["runs"][0]
    copy = work / "default_seed"
    seen = json.loads((copy / "hostile.json").read_text())

    # Written: only the copy (and verify's own log and guard folder); the host and the original untouched.
    assert snapshot(tmp_path, skip=work) == before
    assert not mark.exists() and not Path("/root", mark.name).exists()
    assert sorted(p.name for p in work.iterdir()) == ["default_seed", "default_seed.log", "sandbox"]
    assert sorted(p.name for p in (work / "sandbox").iterdir()) == ["hosts", "sitecustomize.py"]
    assert (work / "sandbox" / "sitecustomize.py").read_text() == GUARD_SOURCE
    # Paths under /tmp (the host's mark, and here the work folder) land in the run's private /tmp,
    # gone with it: the listings above prove the host's copies untouched.
    assert seen["write_host_tmp"] == "done"
    for name in ("write_root_home", "write_original", "delete_original", "edit_guard", "read_shadow", "read_repo"):
        assert seen[name] in ("PermissionError", "OSError", "FileNotFoundError"), (name, seen[name])
    # Signals cannot reach outside the PID namespace; its init ignores a SIGKILL from inside.
    assert seen["kill_verifier"] == "ProcessLookupError"
    assert seen["allocate"] == "MemoryError"
    # The run's loopback is its own: the host's services are not on it.
    assert seen["host_loopback"] == "ConnectionRefusedError"

    # No process of the run survives it.
    assert survivors(str(copy)) == []

    # Every Python-level network attempt is in the report, and the verdict fails.
    targets = {(a["call"], a["target"]) for a in run["network_attempts"]}
    assert {("getaddrinfo", "example.com"), ("connect", "1.1.1.1:80"), ("sendto", "8.8.8.8:53")} <= targets
    network = {c["name"]: c for c in run["checks"]}["network"]
    assert network["verdict"] == "fail" and result.exit_code == 1
    assert payload["sandbox"].startswith("bubblewrap")


@needs_bwrap
def test_the_passing_run_of_a_quiet_script_says_network_pass(tmp_path, data):
    sub = submission(tmp_path, "quiet", QUICK)
    result, payload = run_verify(sub, data, tmp_path / "work", "--force")
    network = {c["name"]: c for c in payload["runs"][0]["checks"]}["network"]
    assert network["verdict"] == "pass" and "no network route" in network["detail"], result.output


@needs_bwrap
def test_a_script_that_cuts_its_network_record_is_never_a_pass(tmp_path, data):
    code = textwrap.dedent("""
        import os, socket
        for fd in os.listdir("/proc/self/fd"):
            try:
                if os.readlink("/proc/self/fd/" + fd).endswith(".fifo"):
                    os.close(int(fd))
            except OSError:
                pass
        try:
            socket.create_connection(("example.com", 80), timeout=1)
        except OSError:
            pass
    """) + QUICK + "os._exit(0)\n"
    sub = submission(tmp_path, "cutter", code)
    result, payload = run_verify(sub, data, tmp_path / "work", "--force")
    network = {c["name"]: c for c in payload["runs"][0]["checks"]}["network"]
    assert network["verdict"] == "unknown" and result.exit_code == 1, result.output


# -- the documented CPU example ----------------------------------------------------------------------------
EXAMPLE = REPO / "examples" / "cpu" / "records" / "track_non_record_16mb" / "2026-01-03_ToyCPU"


@needs_bwrap
def test_the_cpu_example_verifies_end_to_end_as_documented(tmp_path):
    """examples/cpu's README commands, unchanged: synthesize the data, then verify --gpus 0, no --force."""
    synth = CliRunner().invoke(main, ["data", "synth", "--out", str(tmp_path / "synth"), "--vocab-size", "512",
                                      "--seed", "7", "--train-tokens", "60000", "--val-tokens", "8192",
                                      "--shard-tokens", "40000"])
    assert synth.exit_code == 0, synth.output
    data = (tmp_path / "synth" / "datasets" / "synth_sp512", tmp_path / "synth" / "tokenizers" / "synth_512_bpe.model")
    before = snapshot(EXAMPLE)
    result, payload = run_verify(EXAMPLE, data, tmp_path / "work")
    assert result.exit_code == 0, result.output
    assert payload["outcome"] == "verified" and payload["preflight"]["verdict"] == "pass"
    checks = {c["name"]: c["verdict"] for c in payload["runs"][0]["checks"]}
    for name in ("run", "network", "score", "bytes", "size cap", "bpb accounting"):
        assert checks[name] == "pass", (name, payload["runs"][0])
    assert checks["train time"] == "not comparable"
    assert snapshot(EXAMPLE) == before


SPAWNER = """import os, subprocess, sys, time
marker = os.getcwd()
for _ in range(40):
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)", marker])
print("spawned", flush=True)
time.sleep(3600)
"""
HOG = """import time
hog = b"x" * (600 << 20)
print("allocated", flush=True)
time.sleep(3600)
"""


@needs_bwrap
@pytest.mark.parametrize("code, setting, reason", [
    (SPAWNER, "max_processes = 20", "more than 20 processes"),
    (HOG, "max_memory_bytes = 314_572_800", "(verify.max_memory_bytes)"),
])
def test_limits_the_kernel_leaves_to_us_stop_the_run(tmp_path, data, code, setting, reason):
    """As root RLIMIT_NPROC does not hold, and GPU runs get no address-space limit: verify watches the
    run's process count and resident memory from outside and stops the whole sandbox."""
    sub = submission(tmp_path, "greedy", code)
    rules = tmp_path / "limits.toml"
    rules.write_text(f"[verify]\n{setting}\n", encoding="utf-8")
    result, payload = run_verify(sub, data, tmp_path / "work", "--force", "--rules", str(rules))
    run = payload["runs"][0]
    check = {c["name"]: c for c in run["checks"]}["run"]
    assert result.exit_code == 1 and check["verdict"] == "crashed", result.output
    assert reason in check["detail"] and "stopped by verify" in check["detail"]
    assert survivors(str(tmp_path / "work" / "default_seed")) == []


def test_without_bubblewrap_verify_refuses_before_writing_anything(tmp_path, data, monkeypatch):
    from golflint.verify import sandbox as sandbox_module

    monkeypatch.setattr(sandbox_module, "bwrap_problem", lambda: "bubblewrap (bwrap) is not installed")
    sub = submission(tmp_path, "refused", QUICK)
    result, payload = run_verify(sub, data, tmp_path / "work", "--force")
    assert result.exit_code == 2 and payload["outcome"] == "could not run"
    assert "apt-get install -y bubblewrap" in payload["problem"] and "--sandbox none" in payload["problem"]
    assert payload["runs"] == [] and not (tmp_path / "work").exists()
