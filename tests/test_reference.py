"""reference/train_gpt.py on CPU at toy sizes, the shard format, `golflint data synth`, and the
byte tables that make BPB exact."""

from __future__ import annotations

import math
import re

import pytest

pytest.importorskip("torch")
pytest.importorskip("sentencepiece")

import numpy as np  # noqa: E402
import sentencepiece as spm  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from golflint.cli import main  # noqa: E402
from golflint.logs.parse import parse_log  # noqa: E402
from golflint.verify.accounting import count_validation_bytes, implied_ratio  # noqa: E402
from golflint.verify.reference import load_reference, reference_trainer_path  # noqa: E402
from golflint.verify.shards import MAGIC, ShardError, read_shard, read_split, write_shard  # noqa: E402
from verify_helpers import REFERENCE, TOY_ENV, run_reference, synth_data  # noqa: E402


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return synth_data(tmp_path_factory.mktemp("synth"))


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory, data):
    workdir = tmp_path_factory.mktemp("run")
    proc = run_reference(workdir, *data)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir, proc.stdout


# -- shards -----------------------------------------------------------------------------------------
def test_shard_round_trip_and_header(tmp_path):
    path = tmp_path / "fineweb_val_000000.bin"
    write_shard(path, [1, 2, 65535, 0])
    header = np.fromfile(path, dtype="<i4", count=256)
    assert (header[0], header[1], header[2]) == (MAGIC, 1, 4)
    assert path.stat().st_size == 256 * 4 + 4 * 2
    assert read_shard(path).tolist() == [1, 2, 65535, 0]
    assert load_reference().load_data_shard(str(path)).tolist() == [1, 2, 65535, 0]


@pytest.mark.parametrize("damage", ["magic", "short"])
def test_bad_shards_are_refused(tmp_path, damage):
    path = tmp_path / "fineweb_val_000000.bin"
    write_shard(path, list(range(10)))
    raw = bytearray(path.read_bytes())
    if damage == "magic":
        raw[0:4] = (123).to_bytes(4, "little")
    else:
        raw = raw[:-4]
    path.write_bytes(bytes(raw))
    with pytest.raises(ShardError):
        read_shard(path)
    with pytest.raises(ValueError):
        load_reference().load_data_shard(str(path))


def test_token_ids_beyond_uint16_are_refused(tmp_path):
    with pytest.raises(ShardError):
        write_shard(tmp_path / "x.bin", [70000])


# -- data synth -------------------------------------------------------------------------------------
def test_synth_cli_is_deterministic_by_seed(tmp_path):
    outs = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        result = CliRunner().invoke(main, ["data", "synth", "--out", str(tmp_path / name), "--vocab-size", "400",
                                           "--seed", str(seed), "--train-tokens", "5000", "--val-tokens", "3000",
                                           "--shard-tokens", "2000"])
        assert result.exit_code == 0, result.output
        assert "DATA_PATH=" in result.output and "TOKENIZER_PATH=" in result.output
        folder = tmp_path / name
        outs.append({p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()})
    assert outs[0] == outs[1]
    assert outs[0].keys() == outs[2].keys() and outs[0] != outs[2]
    names = sorted(outs[0])
    assert names == ["datasets/synth_sp400/fineweb_train_000000.bin", "datasets/synth_sp400/fineweb_train_000001.bin",
                     "datasets/synth_sp400/fineweb_train_000002.bin", "datasets/synth_sp400/fineweb_val_000000.bin",
                     "datasets/synth_sp400/fineweb_val_000001.bin", "tokenizers/synth_400_bpe.model"]


def test_synth_data_exercises_byte_fallback_and_documents(data):
    data_path, tokenizer = data
    sp = spm.SentencePieceProcessor(model_file=str(tokenizer))
    val = read_split(data_path, "val")
    assert sp.vocab_size() == 512 and int(val.max()) < 512
    assert val[0] == sp.bos_id() and (val == sp.bos_id()).sum() > 3
    assert any(sp.is_byte(int(t)) for t in val)
    assert not set(read_split(data_path, "train")[:2000].tolist()) <= {sp.bos_id()}


def test_synth_refuses_a_vocab_too_small(tmp_path):
    result = CliRunner().invoke(main, ["data", "synth", "--out", str(tmp_path), "--vocab-size", "100"])
    assert result.exit_code == 2


# -- byte tables ------------------------------------------------------------------------------------
def test_byte_tables_follow_the_piece_rules(data):
    _, tokenizer = data
    sp = spm.SentencePieceProcessor(model_file=str(tokenizer))
    ref = load_reference()
    tables = ref.piece_byte_tables(sp, 512)
    base, space, boundary = tables
    assert boundary[sp.bos_id()] and base[sp.bos_id()] == 0
    byte_id = sp.piece_to_id("<0xE6>")
    assert sp.is_byte(byte_id) and base[byte_id] == 1 and not space[byte_id]
    spaced = next(i for i in range(512) if sp.id_to_piece(i).startswith("\u2581") and len(sp.id_to_piece(i)) > 2)
    piece = sp.id_to_piece(spaced)
    assert space[spaced] and base[spaced] == len(piece[1:].encode())
    word = next(i for i in range(300, 512) if sp.id_to_piece(i).isalpha())
    # "▁x" after BOS decodes without its space; after an ordinary token the space is a byte.
    counts = ref.target_byte_counts(np.array([sp.bos_id(), word]), np.array([spaced, spaced]), tables)
    assert counts.tolist() == [base[spaced], base[spaced] + 1]


def test_validation_byte_count_matches_decoded_text(data):
    """Bytes per document equal the UTF-8 length of the decoded document: the definition of BPB."""
    data_path, tokenizer = data
    sp = spm.SentencePieceProcessor(model_file=str(tokenizer))
    val = read_split(data_path, "val").astype(np.int64)
    starts = np.flatnonzero(val == sp.bos_id()).tolist() + [len(val)]
    expected = sum(len(sp.decode(val[a + 1:b].tolist()).encode("utf-8")) for a, b in zip(starts, starts[1:]))
    counted = count_validation_bytes(data_path, tokenizer)
    whole = counted.counts[0]
    assert whole.cut == "whole stream" and whole.tokens == len(val) - 1
    assert whole.bytes == expected


# -- the trainer ------------------------------------------------------------------------------------
@pytest.mark.e2e
def test_toy_run_prints_baseline_log_lines_and_writes_the_artifact(toy_run):
    workdir, out = toy_run
    assert re.search(r"^step:6/6 val_loss:\d+\.\d{4} val_bpb:\d+\.\d{4} train_time:\d+ms step_avg:[\d.]+ms$", out, re.M)
    assert re.search(r"^step:3/6 train_loss:[\d.]+ train_time:\d+ms step_avg:[\d.]+ms$", out, re.M)
    model_bytes = int(re.search(r"^Serialized model int8\+zlib: (\d+) bytes$", out, re.M).group(1))
    code_bytes = int(re.search(r"^Code size: (\d+) bytes$", out, re.M).group(1))
    total = int(re.search(r"^Total submission size int8\+zlib: (\d+) bytes$", out, re.M).group(1))
    assert model_bytes == (workdir / "final_model.int8.ptz").stat().st_size
    assert code_bytes == REFERENCE.stat().st_size and total == model_bytes + code_bytes
    assert re.search(r"^final_int8_zlib_roundtrip val_loss:[\d.]+ val_bpb:[\d.]+ eval_time:\d+ms$", out, re.M)
    log = parse_log("train.log", out)
    assert log.final is not None and log.final.label == "final_int8_zlib_roundtrip_exact"
    assert 0 < log.final.val_bpb < 20 and math.isfinite(log.final.val_loss)


@pytest.mark.e2e
def test_toy_run_learns_and_its_score_uses_the_exact_byte_count(toy_run, data):
    _, out = toy_run
    losses = [float(x) for x in re.findall(r"train_loss:([\d.]+)", out)]
    assert losses[-1] < losses[0] - 0.3
    final = parse_log("train.log", out).final
    counted = count_validation_bytes(*data, seq_lens=(64,))
    cut, difference = counted.best_match(implied_ratio(final.val_loss, final.val_bpb))
    assert cut.cut == "seq_len 64" and difference < 1e-6


@pytest.mark.e2e
def test_same_seed_reproduces_the_run_exactly(tmp_path, toy_run, data):
    workdir, out = toy_run
    again = run_reference(tmp_path / "again", *data)
    assert again.returncode == 0, again.stderr[-2000:]
    assert parse_log("a", again.stdout).final == parse_log("b", out).final
    assert (tmp_path / "again" / "final_model.int8.ptz").read_bytes() == (workdir / "final_model.int8.ptz").read_bytes()


@pytest.mark.e2e
def test_wallclock_cap_stops_early(tmp_path, data):
    proc = run_reference(tmp_path, *data, ITERATIONS="100000", MAX_WALLCLOCK_SECONDS="0.5")
    assert proc.returncode == 0, proc.stderr[-2000:]
    stop = re.search(r"^stopping_early: wallclock_cap train_time:(\d+)ms step:(\d+)/100000$", proc.stdout, re.M)
    assert stop and int(stop.group(2)) < 100000
    assert "final_int8_zlib_roundtrip_exact" in proc.stdout


def test_bad_size_settings_fail_with_a_message(tmp_path, monkeypatch, data):
    ref = load_reference()
    monkeypatch.chdir(tmp_path)
    for name, value in {**TOY_ENV, "DATA_PATH": str(data[0]), "TOKENIZER_PATH": str(data[1])}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TRAIN_BATCH_TOKENS", "1000")
    with pytest.raises(ValueError, match="does not split into 1 ranks x 2 micro-batches"):
        ref.main()
    monkeypatch.setenv("NUM_LAYERS", "two")
    with pytest.raises(ValueError, match="NUM_LAYERS='two' is not a valid int"):
        ref.Hyperparameters.from_env()


def test_int8_round_trip_is_close_and_small_tensors_stay_float():
    import torch

    ref = load_reference()
    torch.manual_seed(0)
    state = {"big": torch.randn(300, 256), "small": torch.randn(8), "ints": torch.arange(4)}
    packed = ref.quantize_state_dict(state, keep_float_numel=65_536)
    assert set(packed["int8"]) == {"big"} and packed["int8"]["big"].dtype == torch.int8
    restored = ref.dequantize_state_dict(packed)
    assert restored["big"].dtype == torch.float32
    row_max = state["big"].abs().amax(dim=1, keepdim=True)
    assert ((restored["big"] - state["big"]).abs() <= row_max / 127 * 0.51 + 1e-3).all()
    assert torch.equal(restored["ints"], state["ints"])


def test_reference_is_found_from_the_package():
    assert reference_trainer_path() == REFERENCE.resolve()


@pytest.mark.e2e
def test_ddp_under_torchrun_in_the_sandbox(tmp_path, data):
    """The multi-GPU code path (DDP, Muon's all-reduce, sharded evaluation) on 2 CPU ranks over gloo,
    launched the way verify launches it: torchrun inside verify's sandbox (bubblewrap where it runs)."""
    import shutil
    import subprocess

    from golflint.verify.pipeline import launch_argv
    from golflint.verify.sandbox import bwrap_problem, make_sandbox

    sandbox = make_sandbox(tmp_path / "sandbox", "bwrap" if bwrap_problem() is None else "none")
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(REFERENCE, run / "train_gpt.py")
    env = {**TOY_ENV, "GRAD_ACCUM_STEPS": "1", "DATA_PATH": str(data[0]), "TOKENIZER_PATH": str(data[1]),
           "SEED": "1", "RUN_ID": "ddp"}
    listener = sandbox.listener("ddp")
    try:
        proc = subprocess.run(sandbox.command(launch_argv(2, "train_gpt.py"), writable=run, readable=list(data), gpus=0),
                              cwd=run, capture_output=True, text=True, env=sandbox.environment(env, listener.fifo),
                              timeout=600)
    finally:
        record = listener.close()
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "world_size:2 grad_accum_steps:1" in proc.stdout
    assert proc.stdout.count("final_int8_zlib_roundtrip_exact") == 1      # rank 0 alone prints
    final = parse_log("train.log", proc.stdout).final
    counted = count_validation_bytes(*data, seq_lens=(64,))
    assert counted.best_match(implied_ratio(final.val_loss, final.val_bpb))[1] < 1e-6
    # torchrun and both ranks reported to the guard, from start to exit, with no attempt.
    assert record.attempts == [] and record.problem() is None and len(record.started) >= 3
