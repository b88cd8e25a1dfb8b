"""budget as a terminal tool: one verdict, judged from the model alone when no code is given, tables
that fit, progress only on a terminal, docs links that resolve, and the reference trainer's .pt/.ptz."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

torch = pytest.importorskip("torch")

import golflint  # noqa: E402
from golflint.cli import main  # noqa: E402
from golflint.report import console as console_mod  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from test_budget_command import toy_state_dict  # noqa: E402


def budget(*args: str, env: dict | None = None):
    result = CliRunner().invoke(main, ["budget", *args, "--isolated"], env=env)
    assert result.exit_code == 0, result.output
    return result


def budget_json(*args: str) -> dict:
    return json.loads(budget(*args, "--format", "json").stdout)


@pytest.fixture
def model_pt(tmp_path):
    path = tmp_path / "final_model.pt"
    torch.save(toy_state_dict(), path)
    return path


@pytest.fixture
def artifact_ptz(tmp_path):
    import io
    import zlib

    buf = io.BytesIO()
    torch.save({k: (v.float() * 40).round().clamp(-127, 127).to(torch.int8) for k, v in toy_state_dict().items()},
               buf)
    path = tmp_path / "final_model.int8.ptz"
    path.write_bytes(zlib.compress(buf.getvalue(), 9))
    return path


def small_cap(tmp_path: Path, cap: int) -> str:
    rules = tmp_path / "cap.toml"
    rules.write_text(f"[bytes]\ncap = {cap}\n")
    return str(rules)


# -- verdicts --------------------------------------------------------------------------------------
def test_a_model_alone_gets_a_verdict_and_says_what_was_assumed(artifact_ptz):
    doc = budget_json(str(artifact_ptz))
    size = artifact_ptz.stat().st_size
    assert doc["code"]["bytes"] is None and doc["model"]["bytes"] == size
    assert doc["total"] == size and doc["fits"] is True and doc["verdict"] == "fits"
    assert any("code counted as 0 bytes" in a for a in doc["assumptions"])
    assert doc["what_if"][0]["fits"] is True and doc["what_if"][0]["total"] == doc["what_if"][0]["model_bytes"]
    out = budget(str(artifact_ptz)).stdout
    assert "assumed: no code given" in out and "unknown" not in out


def test_a_model_alone_over_the_cap_is_over(artifact_ptz, tmp_path):
    rules = small_cap(tmp_path, 100)
    doc = json.loads(budget(str(artifact_ptz), "--format", "json", "--rules", rules).stdout)
    assert doc["fits"] is False and doc["verdict"] == "over the cap"


def test_an_uncompressed_state_dict_is_judged_like_its_first_what_if_row(model_pt, tmp_path):
    doc = budget_json(str(model_pt))
    first = doc["what_if"][0]
    assert doc["model"]["bytes"] == model_pt.stat().st_size          # the file, as a fact
    assert doc["total"] == first["total"] and doc["fits"] == first["fits"]
    assert any("not an artifact as it stands" in a for a in doc["assumptions"])
    # A cap between the file size and its compressed size: the header used to say "over the cap"
    # while the table said "fits"; now both say the same.
    cap = (model_pt.stat().st_size + first["model_bytes"]) // 2
    assert first["model_bytes"] < cap < model_pt.stat().st_size
    out = budget(str(model_pt), "--rules", small_cap(tmp_path, cap)).stdout
    assert "over the cap" not in out and out.count("fits") >= 2
    quantized = budget_json(str(model_pt), "--quant", "int6", "--codec", "zstd-22")
    assert quantized["total"] == quantized["what_if"][0]["total"]


# -- tables and links -----------------------------------------------------------------------------
def test_piped_tables_keep_to_100_columns_and_lines_do_not_wrap(model_pt):
    out = budget(str(model_pt), "--codec", "all", env={"COLUMNS": "300"}).stdout
    # Text lines (paths, notes) are free to be long: piped output never wraps. Tables keep to 100.
    table_lines = [line for line in out.splitlines() if not line.startswith("  assumed:")
                   and "codec libraries" not in line and "columns left out" not in line
                   and str(model_pt) not in line]
    assert max(len(line) for line in table_lines) <= 100
    assert "columns left out to fit 100 columns" in out and "int4" in out.split("columns left out")[1]
    assert out == budget(str(model_pt), "--codec", "all", env={"COLUMNS": "40"}).stdout


def test_tables_fit_a_narrow_terminal(model_pt, monkeypatch):
    monkeypatch.setattr(console_mod, "stream_is_tty", lambda stream: True)
    out = budget(str(model_pt), "--codec", "all", env={"COLUMNS": "72"}).stdout
    assert max(len(line) for line in out.splitlines()) <= 72
    assert "tok_emb" in out and "zlib-9" in out and "brotli-11" in out  # codec columns are never left out


def test_docs_links_resolve_without_a_checkout(model_pt):
    out = budget(str(model_pt), "--quant", "int6").stdout
    urls = re.findall(r"https://\S+", out)
    assert urls and all(u.startswith(f"https://github.com/golflint/golflint/blob/v{golflint.__version__}/docs/")
                        for u in urls)
    assert "(docs/budget.md)" not in out


# -- progress ----------------------------------------------------------------------------------------
def test_every_compression_reports_progress(model_pt):
    from golflint.budget.codecs import get_codec
    from golflint.budget.tensor_table import analyze, job_count
    from golflint.budget.tensors import read_model

    model = read_model(model_pt, model_pt.read_bytes(), 10**8)
    codecs = [get_codec("zlib-9"), get_codec("lzma-9")]
    seen: list[str] = []
    analyze(model, codecs, "int6", 2, on_done=seen.append)
    assert len(seen) == job_count(model, codecs) == 2 * (len(model.tensors) + 1)
    assert "whole artifact, zlib-9" in seen


def test_no_progress_on_piped_stderr(model_pt, monkeypatch):
    import golflint.report.progress as progress_mod

    monkeypatch.setattr(progress_mod, "DELAY_S", 0.0)
    result = CliRunner().invoke(main, ["budget", str(model_pt), "--codec", "all", "--isolated"])
    assert result.exit_code == 0 and result.stderr == ""


# -- the reference trainer's files ------------------------------------------------------------------
@pytest.mark.e2e
def test_reference_trainer_writes_pt_and_ptz_that_budget_reads(tmp_path):
    from verify_helpers import synth_data

    data = synth_data(tmp_path / "synth")
    workdir = tmp_path / "run"
    proc = run_reference_with_args(workdir, *data, args=["--save-pt"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    pt, ptz = workdir / "final_model.pt", workdir / "final_model.int8.ptz"
    assert "Saved raw state dict: final_model.pt" in proc.stdout
    raw = budget_json(str(pt), "--quant", "int8", "--codec", "zlib-9")
    assert raw["model"]["format"] == "torch" and raw["tensor_totals"]["count"] > 5
    assert all(r["dtype"] in ("float32", "bfloat16") for r in raw["tensors"])
    art = budget_json(str(ptz))
    assert art["model"]["bytes"] == ptz.stat().st_size and art["model"]["codec"] == "zlib"
    logged = int(re.search(r"Serialized model int8\+zlib: (\d+) bytes", proc.stdout).group(1))
    assert art["model"]["bytes"] == logged and art["fits"] is True


def run_reference_with_args(workdir: Path, data: Path, tokenizer: Path, args: list[str]):
    import os
    import subprocess

    from verify_helpers import REFERENCE, TOY_ENV

    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **TOY_ENV, "DATA_PATH": str(data), "TOKENIZER_PATH": str(tokenizer), "SEED": "1",
           "RUN_ID": "test"}
    return subprocess.run([sys.executable, str(REFERENCE), *args], cwd=workdir, env=env, capture_output=True,
                          text=True, timeout=600)


def test_save_pt_argument_forms():
    from golflint.verify.reference import load_reference

    parse = load_reference().raw_state_dict_path
    assert parse([]) is None
    assert parse(["--save-pt"]) == "final_model.pt"
    assert parse(["--save-pt", "raw.pt"]) == "raw.pt"
    assert parse(["--save-pt=x.pt"]) == "x.pt"
    assert parse(["--save-pt", "--other"]) == "final_model.pt"
