"""Hostile input for `golflint check` (issue 10, items 3 and 5): every case ends in a clear finding
or refusal with its documented exit code, never a traceback or a hang, within a memory bound.

Each case is built here, in tmp_path, and run through the real command line in a subprocess whose
address space is capped (RLIMIT_AS), so "completes under the cap" is proven rather than measured.
The timeout is generous on purpose: it catches hangs, it does not time anything (speed figures live
in benchmarks/bench_hostile.py).
"""

from __future__ import annotations

import bz2
import json
import os
import resource
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from golflint_testing import make_submission, snapshot

REPO = Path(__file__).resolve().parents[1]
# The address-space cap of every run: the goal is "under 1 GB of memory"; address space also counts
# thread stacks and allocator arenas that are reserved, not used, hence the margin.
ADDRESS_SPACE_CAP = 1536 * 1024 * 1024
TIMEOUT_S = 300

GOOD = {
    "README.md": "# Run\n\n```\ntorchrun --standalone --nproc_per_node=8 train_gpt.py\n```\n",
    "train_gpt.py": "print('train')\n",
    "train_seed1.log": "final_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570\n",
    "final_model.int8.ptz": b"\x01" * 1000,
    "submission.json": json.dumps({"author": "a", "name": "b", "val_bpb": 1.2244}),
}


def folder(tmp_path: Path, name: str = "sub", **changes) -> Path:
    """A submission under records/track_10min_16mb/; `a__b=` sets file a.b, `x=None` removes x."""
    files = dict(GOOD)
    for rel, content in changes.items():
        rel = rel.replace("__", ".")
        if content is None:
            files.pop(rel, None)
        else:
            files[rel] = content
    return make_submission(tmp_path / "records" / "track_10min_16mb" / name, files)


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_CAP, ADDRESS_SPACE_CAP))


class Run:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    @property
    def findings(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for sub in json.loads(self.stdout)["submissions"]:
            for f in sub["findings"]:
                out.setdefault(f["rule"], []).append(f)
        return out

    def messages(self, rule: str) -> str:
        return "\n".join(f["message"] for f in self.findings.get(rule, []))


def check(*args: str | Path, cwd: Path | None = None, watch: Path | None = None) -> Run:
    """`python -m golflint check --format json ARGS` under the memory cap; no traceback, ever."""
    before = snapshot(watch) if watch else None
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "golflint", "check", "--format", "json", *map(str, args)],
                          capture_output=True, text=True, timeout=TIMEOUT_S, cwd=cwd or REPO, env=env,
                          preexec_fn=_cap_memory, stdin=subprocess.DEVNULL)
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "MemoryError" not in proc.stderr, proc.stderr[-3000:]
    if watch:
        assert snapshot(watch) == before, "golflint changed files on disk"
    return Run(proc)


def no_crash(run: Run) -> None:
    assert "GL999" not in run.findings, run.messages("GL999")


# -- submission.json: numbers and sizes parsed with bounds --------------------------------------
def test_five_thousand_digit_integer_is_a_finding(tmp_path):
    root = folder(tmp_path, submission__json='{"author": "a", "name": "b", "val_bpb": 1.2,\n "steps": '
                                             + "9" * 5000 + "}")
    run = check(root, watch=tmp_path)
    assert run.code == 1
    [f] = run.findings["GL005"]
    assert "longer than 100 characters" in f["message"] and f["line"] == 2


@pytest.mark.parametrize("value", ["1e999", "-1e999", "Infinity", "-Infinity"])
def test_infinite_numbers_are_findings_not_crashes(tmp_path, value):
    root = folder(tmp_path, submission__json='{"author": "a", "name": "b", "val_bpb": 1.2, "bytes_total": '
                                             + value + "}")
    run = check(root)
    assert run.code == 1
    no_crash(run)
    assert "out of range" in run.messages("GL005")


def test_a_million_seeds_are_refused_not_iterated(tmp_path):
    claims = {"author": "a", "name": "b", "val_bpb": 1.2, "seeds": list(range(1_000_000))}
    root = folder(tmp_path, submission__json=json.dumps(claims))
    run = check(root)
    assert run.code == 1
    assert "`seeds` holds 1,000,000 entries" in run.messages("GL005")
    assert "submission.max_json_items" in run.messages("GL005")


def test_a_seed_naming_a_path_is_data(tmp_path):
    claims = {"author": "a", "name": "b", "val_bpb": 1.2, "seeds": [1, "1/../../../../tmp/VICTIM"]}
    root = folder(tmp_path, submission__json=json.dumps(claims))
    run = check(root, watch=tmp_path)
    assert run.code in (0, 1)   # GL405 is a warning now (docs/judging.md); verify refuses such a seed
    no_crash(run)
    assert "1/../../../../tmp/VICTIM" in run.messages("GL405")


# -- deep nesting: analyzed, or a finding; never a lost finding -----------------------------------
NETWORK_CALL = "import urllib.request\nurllib.request.urlopen('https://example.org/x')\n"


def test_six_hundred_nested_lambdas_keep_the_network_finding(tmp_path):
    root = folder(tmp_path, train_gpt__py="f = " + "lambda: " * 600 + "0\n" + NETWORK_CALL)
    run = check(root)
    assert run.code == 1
    no_crash(run)
    assert "urllib.request.urlopen" in run.messages("GL201")


def test_deep_expressions_are_analyzed(tmp_path):
    code = ("y = " + "-" * 2000 + "1\nz = 1" + " + 1" * 2000 + "\nw = " + "[" * 150 + "]" * 150 + "\n"
            + "f = " + "lambda: " * 2000 + "0\n" + NETWORK_CALL)
    run = check(folder(tmp_path, train_gpt__py=code))
    no_crash(run)
    assert "urllib.request.urlopen" in run.messages("GL201")


def test_nesting_beyond_the_parser_is_a_clear_finding(tmp_path):
    run = check(folder(tmp_path, train_gpt__py="f = " + "lambda: " * 20_000 + "0\n"))
    assert run.code == 1
    no_crash(run)
    assert "nests too deeply" in run.messages("GL000")


def test_a_rule_that_still_overflows_reports_under_its_own_id():
    from golflint.config import default_settings
    from golflint.engine import _run_rule
    from golflint.findings import Severity
    from golflint.rules.base import Rule

    class Deep(Rule):
        id, name, severity, message, hint = "GL201", "network-access", Severity.ERROR, "m", "h"

        def check(self, sub):
            raise RecursionError("maximum recursion depth exceeded")

    [f] = _run_rule(Deep(), object(), debug=False)  # type: ignore[arg-type]
    assert f.rule == "GL201" and f.severity == Severity.ERROR and "nests too deeply" in f.message
    assert default_settings()  # the settings module still loads (no global state was touched)


# -- special files: refused by stat, never opened -------------------------------------------------
def test_fifos_in_the_submission_are_refused_unopened(tmp_path):
    root = folder(tmp_path, README__md=None, final_model__int8__ptz=None)
    for name in ("README.md", "train_seed2.log", "final_model.int8.ptz", "helper.py"):
        os.mkfifo(root / name)
    (root / "train_gpt.py").write_text("import helper\n")
    run = check(root)  # any open() of a FIFO would block until TIMEOUT_S
    assert run.code == 1
    no_crash(run)
    assert "README.md is not a regular file" in run.messages("GL004")
    assert "final_model.int8.ptz is not a regular file" in run.messages("GL004")
    assert "train_seed2.log is not a regular file" in run.messages("GL402")


@pytest.mark.parametrize("target", ["fifo", "/dev/zero", "/dev/urandom", "folder"])
def test_rules_that_are_not_a_regular_file_are_refused(tmp_path, target):
    if target == "fifo":
        target = tmp_path / "rules.fifo"
        os.mkfifo(target)
    elif target == "folder":
        target = tmp_path
    run = check(folder(tmp_path), "--rules", target)
    assert run.code == 2
    err = run.stderr.lower()
    assert "error:" in err and ("not a regular file" in err or "is a directory" in err)


def test_a_huge_rules_file_is_refused_unread(tmp_path):
    rules = tmp_path / "rules.toml"
    with open(rules, "wb") as fh:
        fh.truncate(50_000_000)
    run = check(folder(tmp_path), "--rules", rules)
    assert run.code == 2 and "too large for a configuration file" in run.stderr


def test_model_symlinked_to_a_device_is_refused(tmp_path):
    root = folder(tmp_path, final_model__int8__ptz=None)
    os.symlink("/dev/urandom", root / "final_model.int8.ptz")
    os.symlink("/dev/zero", root / "train_seed9.log")
    run = check(root)
    assert run.code == 1
    no_crash(run)
    assert "final_model.int8.ptz" in run.messages("GL003")


# -- settings are validated with bounds -----------------------------------------------------------
@pytest.mark.parametrize("line, fragment", [
    ("[general]\nmax_text_file_bytes = 1e30\n", "out of range"),
    ("[general]\nmax_text_file_bytes = inf\n", "finite"),
    ("[general]\nmax_text_file_bytes = nan\n", "finite"),
    ("[general]\nmax_text_file_bytes = 1.5\n", "whole number"),
    ("[packed]\nmax_layers = 100000\n", "out of range"),
    ("[bytes]\ncap = -1\n", "out of range"),
])
def test_settings_out_of_bounds_are_usage_errors(tmp_path, line, fragment):
    rules = tmp_path / "rules.toml"
    rules.write_text(line)
    run = check(folder(tmp_path), "--rules", rules)
    assert run.code == 2
    assert fragment in run.stderr and "error:" in run.stderr


# -- decoding bounded per payload, per file and per submission ------------------------------------
BZ2_BOMB = bz2.compress(b"#" * 40_000_000)   # ~100 bytes that expand to 40 MB


def test_six_bombs_in_one_file_stay_within_the_file_budget(tmp_path):
    code = "import codecs\n" + "".join(f"exec(codecs.decode({BZ2_BOMB!r}, 'bz2_codec'))\n" for _ in range(6))
    run = check(folder(tmp_path, train_gpt__py=code))
    assert run.code == 1
    no_crash(run)
    found = run.findings["GL011"]
    assert len(found) == 6
    text = run.messages("GL011")
    assert "analysis.max_source_bytes" in text           # the first decodes, but is too large to analyze
    assert "packed.max_decoded_bytes_per_file" in text   # the rest draw on a spent file budget


def test_bombs_across_files_stay_within_the_submission_budget(tmp_path):
    helper = f"import codecs\nexec(codecs.decode({BZ2_BOMB!r}, 'bz2_codec'))\n"
    files = {f"mod{i}.py": helper for i in range(5)}
    code = "".join(f"import mod{i}\n" for i in range(5)) + helper
    run = check(folder(tmp_path, train_gpt__py=code, **{k.replace(".", "__"): v for k, v in files.items()}))
    no_crash(run)
    assert "packed.max_decoded_bytes_per_submission" in run.messages("GL011")


@pytest.mark.parametrize("expr", [
    "{zbomb!r}.decode('zlib_codec')",
    "str({bomb!r}, 'bz2_codec')",
    "bytes({bomb!r}.decode('latin-1'), 'bz2_codec')",
])
def test_binary_codecs_through_text_methods_fail_as_python_would(tmp_path, expr):
    code = "exec(" + expr.format(bomb=BZ2_BOMB, zbomb=zlib.compress(b"#" * 40_000_000, 9)) + ")\n"
    run = check(folder(tmp_path, train_gpt__py=code))
    no_crash(run)
    assert "is not a text encoding" in run.messages("GL011")


@pytest.mark.parametrize("codec, encode", [
    ("zlib_codec", lambda s: zlib.compress(s)),
    ("base64_codec", lambda s: __import__("base64").encodebytes(s)),
    ("hex_codec", lambda s: s.hex().encode()),
    ("uu_codec", lambda s: __import__("codecs").encode(s, "uu_codec")),
    ("quopri_codec", lambda s: __import__("codecs").encode(s, "quopri_codec")),
])
def test_allowed_binary_codecs_decode_to_the_hidden_code(tmp_path, codec, encode):
    payload = encode(NETWORK_CALL.encode())
    run = check(folder(tmp_path, train_gpt__py=f"import codecs\nexec(codecs.decode({payload!r}, {codec!r}))\n"))
    no_crash(run)
    assert "urllib.request.urlopen" in run.messages("GL201")


def test_a_codec_outside_the_allow_list_is_not_decoded(tmp_path):
    code = "import codecs\nexec(codecs.decode(b'x', 'no_such_codec_here'))\n"
    run = check(folder(tmp_path, train_gpt__py=code))
    no_crash(run)
    assert "does not exist" in run.messages("GL011")


# -- source size analyzed ---------------------------------------------------------------------------
def test_a_45_megabyte_script_is_a_finding_not_an_analysis(tmp_path):
    run = check(folder(tmp_path, train_gpt__py="x = 1\n" * 7_500_000))
    assert run.code == 1
    no_crash(run)
    assert "analysis.max_source_bytes" in run.messages("GL000")


def test_source_analyzed_is_bounded_per_submission(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text("[analysis]\nmax_source_bytes = 5000\nmax_total_source_bytes = 9000\n")
    module = "x = 1\n" * 700   # 4,200 bytes each
    root = folder(tmp_path, train_gpt__py="import a\nimport b\nimport c\n",
                  a__py=module, b__py=module, c__py=module)
    run = check(root, "--rules", rules)
    no_crash(run)
    assert "analysis.max_total_source_bytes" in run.messages("GL000")


# -- huge trees -------------------------------------------------------------------------------------
def test_a_folder_with_too_many_entries_is_listed_only_so_far(tmp_path):
    root = folder(tmp_path)
    junk = root / "junk"
    junk.mkdir()
    for i in range(300):
        (junk / f"f{i}").write_text("")
    rules = tmp_path / "rules.toml"
    rules.write_text("[discovery]\nmax_files = 100\n")
    run = check(root, "--rules", rules)
    assert run.code == 1
    assert "more than 100 files and folders" in run.messages("GL004")


# -- a submission's own pyproject.toml is never configuration --------------------------------------
SILENCE_ALL = '[tool.golflint.general]\nselect = ["GL9"]\n'


def test_pyproject_inside_the_submission_is_ignored_when_run_from_there(tmp_path):
    root = folder(tmp_path, README__md=None, pyproject__toml=SILENCE_ALL)
    run = check(".", cwd=root)
    assert run.code == 1
    assert "README.md is missing" in run.messages("GL001")


def test_pyproject_inside_the_submission_is_never_parsed(tmp_path):
    root = folder(tmp_path, README__md=None, pyproject__toml='[tool.golflint]\nbytes = 5\n')
    run = check(".", cwd=root)
    assert run.code == 1, run.stderr   # a type error in it would be exit 2
    assert "README.md is missing" in run.messages("GL001")


def test_pyproject_in_a_subfolder_of_the_submission_is_ignored(tmp_path):
    root = folder(tmp_path, README__md=None, **{"tools/pyproject__toml": SILENCE_ALL})
    run = check("..", cwd=root / "tools")
    assert "README.md is missing" in run.messages("GL001")


def test_project_pyproject_above_the_submissions_is_used(tmp_path):
    root = folder(tmp_path, README__md=None)
    (tmp_path / "pyproject.toml").write_text('[tool.golflint.general]\nignore = ["GL001"]\n')
    run = check(root.relative_to(tmp_path), cwd=tmp_path)
    assert "GL001" not in run.findings
    run = check(".", cwd=root)   # from inside the submission, the project's file is still above it
    assert "GL001" not in run.findings


def test_bytes_read_are_bounded_per_submission(tmp_path):
    line = "step:1/2 train_loss:2.0 train_time:1ms step_avg:1.00ms\n"
    logs = {f"train_seed{i}__log": line * 2000 + GOOD["train_seed1.log"] for i in range(1, 6)}
    root = folder(tmp_path, **logs)
    rules = tmp_path / "rules.toml"
    rules.write_text("[general]\nmax_total_read_bytes = 300000\n")   # each log is ~110 KB
    run = check(root, "--rules", rules)
    no_crash(run)
    assert "general.max_total_read_bytes" in run.messages("GL402")


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux /proc")
def test_a_pseudo_filesystem_is_checked_within_bounds(tmp_path):
    # /proc: folders that fail part-way through reading, symlinks everywhere, files that never end.
    rules = tmp_path / "rules.toml"
    rules.write_text("[discovery]\nmax_files = 2000\n")
    run = check("/proc", "--rules", rules)
    assert run.code == 1
    no_crash(run)
    assert "more than 2,000 files and folders" in run.messages("GL004")


def test_deep_call_returns_raises_and_falls_back():
    from golflint import bounded

    def depth(n: int) -> int:
        return 0 if n == 0 else 1 + depth(n - 1)

    limit = sys.getrecursionlimit()
    assert bounded.deep_call(depth, 5_000) == 5_000          # past the default limit of 1,000
    assert sys.getrecursionlimit() == limit                   # restored
    with pytest.raises(ZeroDivisionError):
        bounded.deep_call(lambda: 1 / 0)
    assert sys.getrecursionlimit() == limit


def test_deep_call_runs_in_place_when_no_large_stack_fits(monkeypatch):
    import threading

    from golflint import bounded

    def refuse(self):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    assert bounded.deep_call(lambda: threading.current_thread() is threading.main_thread())


def test_roomy_call_is_a_plain_call():
    from golflint import bounded

    assert bounded.roomy_call(lambda a, b=0: (a, b), 1, b=2) == (1, 2)
    with pytest.raises(ZeroDivisionError):
        bounded.roomy_call(lambda: 1 / 0)
    if sys.version_info >= (3, 11):
        assert bounded._call_in_roomy_frame.__code__.co_stacksize >= bounded.FRAME_ROOM_SLOTS


def _oscillate() -> None:
    # Recursion that goes up and down across the boundary of CPython's first frame-stack chunks.
    def f(n: int) -> int:
        return f(n - 1) if n else 0

    for depth in range(200):
        for _ in range(100):
            f(depth)


@pytest.mark.skipif(sys.version_info < (3, 11) or not hasattr(resource, "RUSAGE_THREAD"),
                    reason="frames live on a chunked stack from CPython 3.11; per-thread page faults need Linux")
def test_roomy_call_keeps_a_recursion_in_one_mapped_chunk():
    from golflint import bounded

    def faults(call) -> int:
        before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
        call()
        return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before

    plain = faults(_oscillate)
    if plain < 1_000:
        pytest.skip(f"this interpreter does not remap frame-stack chunks ({plain} page faults)")
    roomy = faults(lambda: bounded.roomy_call(_oscillate))
    assert roomy < plain / 10, (plain, roomy)


def test_a_huge_native_sibling_is_a_finding_not_a_parse(tmp_path):
    code = "import subprocess\nsubprocess.run(['gcc', '-shared', '-o', 'libx.so', 'big.c'])\n"
    big = "".join(f"int f{i}(int x) {{ return x * {i}; }}\n" for i in range(400_000))   # ~14 MB
    run = check(folder(tmp_path, train_gpt__py=code, big__c=big))
    no_crash(run)
    assert "analysis.max_native_source_bytes" in run.messages("GL013")
