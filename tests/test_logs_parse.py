"""The train-log parser: every format real runs print, and junk that must not break it."""

from __future__ import annotations

import random

import pytest

from golflint.logs.parse import parse_log, seed_from_file_name

BASELINE = """\
seed:1337
step:0/20000 train_loss:6.9357 train_time:0ms step_avg:0.00ms
step:200/20000 train_loss:3.1021 train_time:8712ms step_avg:43.56ms
step:13780/20000 val_loss:2.0712 val_bpb:1.2267 train_time:599927ms step_avg:43.54ms
stopping_early: wallclock_cap train_time:600038ms step:13780/20000
peak memory allocated: 10184 MiB reserved: 10730 MiB
Serialized model: 67224983 bytes
Code size: 47642 bytes
Total submission size: 67272625 bytes
Serialized model int8+zlib: 15815847 bytes (payload:17178912 raw_torch:17224025 payload_ratio:3.91x)
Total submission size int8+zlib: 15863489 bytes
final_int8_zlib_roundtrip val_loss:2.0727 val_bpb:1.2244 eval_time:1436ms
final_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570
"""

NEWER = """\
SEED=7
step:4000/20000 val_loss:2.3011 val_bpb:1.0922 train_time:300001ms step_avg:75.00ms
stopping_early: wallclock_cap train_time:599950ms step:7999/20000
Serialized model quantized+brotli: 15851234 bytes
Total submission size quantized+pergroup: 15897259 bytes
quantized val_loss:2.33010000 val_bpb:1.06500000 eval_time:12000ms
quantized_ttt_phased val_loss:2.31944212 val_bpb:1.05989454 eval_time:508785ms
total_eval_time:508.8s
"""


def test_baseline_log_every_fact():
    log = parse_log("train.log", BASELINE)
    assert log.problem is None and log.missing == []
    final = log.final
    assert (final.label, final.val_loss, final.val_bpb, final.line, final.exact) == (
        "final_int8_zlib_roundtrip_exact", 2.07269931, 1.2243657, 13, True)
    assert (final.loss_decimals, final.bpb_decimals) == (8, 8)
    assert (log.seed, log.seed_line, log.seed_source) == (1337, 1, "line")
    assert (log.train_time_ms, log.train_time_line, log.stopped_early) == (600038.0, 5, True)
    assert (log.steps, log.max_steps, log.step_avg_ms) == (13780, 20000, 43.54)
    assert (log.eval_time_s, log.eval_time_line, log.eval_time_source) == (1.436, 12, "final_int8_zlib_roundtrip")
    # the last size line wins: the compressed model, not the raw checkpoint printed before it
    assert (log.model_bytes, log.model_bytes_line, log.model_format) == (15815847, 10, "int8+zlib")
    assert (log.total_bytes, log.total_bytes_line, log.total_format) == (15863489, 11, "int8+zlib")
    assert (log.code_bytes, log.code_bytes_line) == (47642, 8)
    assert (log.peak_memory_mib, log.peak_memory_line) == (10184.0, 6)
    assert log.line_count == 13


def test_scores_in_order_and_in_training_lines_marked():
    log = parse_log("train.log", BASELINE)
    assert [s.label for s in log.scores] == ["step:13780/20000", "final_int8_zlib_roundtrip",
                                             "final_int8_zlib_roundtrip_exact"]
    step = log.scores[0]
    assert step.step == 13780 and not step.exact and step.line == 4
    assert log.last_step_score is step
    assert log.scores[1].eval_time_ms == 1436.0 and not log.scores[1].exact


def test_newer_log_ttt_and_total_eval_time():
    log = parse_log("train_seed7.log", NEWER)
    assert (log.final.label, log.final.val_bpb, log.final.eval_time_ms) == ("quantized_ttt_phased", 1.05989454,
                                                                             508785.0)
    # total_eval_time, when printed, is the evaluation time (it covers every pass)
    assert (log.eval_time_s, log.eval_time_line, log.eval_time_source) == (508.8, 8, "total_eval_time")
    assert (log.model_bytes, log.model_format) == (15851234, "quantized+brotli")
    assert (log.total_bytes, log.total_format) == (15897259, "quantized+pergroup")
    assert (log.seed, log.file_seed) == (7, 7)
    assert log.train_time_ms == 599950.0


def test_final_is_last_exact_even_if_a_rounded_line_follows():
    text = ("final_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570\n"
            "final_int8_zlib_roundtrip val_loss:2.0727 val_bpb:1.2244 eval_time:1436ms\n")
    log = parse_log("x.log", text)
    assert log.final.line == 1
    assert log.eval_time_s == 1.436  # the final line has none; the last score line with one


def test_rounded_final_only_is_still_final_but_noted():
    log = parse_log("x.log", "final_int8_zlib_roundtrip val_loss:2.0727 val_bpb:1.2244 eval_time:1436ms\n")
    assert log.final.val_bpb == 1.2244 and not log.final.exact
    assert any("exact-precision" in m for m in log.missing)


def test_exact_precision_setting():
    text = "final val_loss:2.072699 val_bpb:1.224366\n"
    assert parse_log("x.log", text).final.exact
    assert not parse_log("x.log", text, exact_min_decimals=8).final.exact


def test_only_in_training_validation_gives_no_final():
    log = parse_log("x.log", "step:100/200 val_loss:2.5000 val_bpb:1.4000 train_time:5000ms\n")
    assert log.final is None and log.last_step_score.val_bpb == 1.4
    assert any("final score" in m for m in log.missing)


@pytest.mark.parametrize("line", [
    "final_int8_zlib_roundtrip_exact val_loss=2.07269931 val_bpb=1.22436570",
    "final_int8_zlib_roundtrip_exact val_loss: 2.07269931 val_bpb: 1.22436570",
    "[rank0] final_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570",
    "2026-03-01 12:00:01 final_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570",
    "[rank0] 2026-03-01T12:00:01 INFO: final_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570",
    "\x1b[1;32mfinal_int8_zlib_roundtrip_exact\x1b[0m val_loss:\x1b[33m2.07269931\x1b[0m val_bpb:1.22436570",
    "eval  3%|#         | 3/100\rfinal_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570",
    "final_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570\r 99%|#########| 99/100",
    "FINAL_INT8_ZLIB_ROUNDTRIP_EXACT VAL_LOSS:2.07269931 VAL_BPB:1.22436570",
])
def test_score_line_variants(line):
    log = parse_log("x.log", "warmup\n" + line + "\n")
    assert log.final is not None, line
    assert (log.final.val_loss, log.final.val_bpb, log.final.line) == (2.07269931, 1.2243657, 2)
    assert log.final.label.lower() == "final_int8_zlib_roundtrip_exact"
    assert log.final.step is None


def test_step_validation_with_prefix_is_in_training():
    log = parse_log("x.log", "[rank0] 2026-03-01 12:00:01 step:400/20000 val_loss:2.5123 val_bpb:1.4444\n")
    assert log.final is None and log.last_step_score.step == 400


def test_crlf_line_endings_and_line_numbers():
    log = parse_log("x.log", BASELINE.replace("\n", "\r\n").encode())
    assert log.final.line == 13 and log.final.val_bpb == 1.2243657
    assert log.seed == 1337 and log.train_time_ms == 600038.0 and log.total_bytes == 15863489


def test_tqdm_carriage_returns_keep_line_numbers():
    text = "a\n" + "".join(f"\r{i}%|" + "\u2588" * (i // 10) for i in range(0, 100, 5)) + "\nseed: 42\n"
    log = parse_log("x.log", text)
    assert (log.seed, log.seed_line) == (42, 3)


@pytest.mark.parametrize("text,seed", [
    ("seed:1337\n", 1337), ("seed: 42\n", 42), ("SEED=7 torchrun train_gpt.py\n", 7),
    ("Hyperparameters: lr=0.02 seed=5 warmup=20\n", 5),
])
def test_seed_lines(text, seed):
    assert parse_log("x.log", text).seed == seed


@pytest.mark.parametrize("text", ["data_seed:3\n", "torch.manual_seed(1337)\n", "seeds: [1, 2, 3]\n",
                                  "speed: 1.5x\n"])
def test_seed_look_alikes_are_not_seeds(text):
    assert parse_log("x.log", text).seed is None


@pytest.mark.parametrize("name,seed", [
    ("train_seed42.log", 42), ("seed1337.log", 1337), ("log_s7.txt", 7), ("train_seed_3.log", 3),
    ("records/x/train-SEED-9.log", 9), ("train.log", None), ("train_gpt_v2.log", None), ("results.txt", None),
])
def test_seed_from_file_name(name, seed):
    assert seed_from_file_name(name) == seed


def test_printed_seed_wins_over_file_name():
    log = parse_log("train_seed42.log", "seed:1\n")
    assert (log.seed, log.file_seed, log.seed_source) == (1, 42, "line")
    log = parse_log("train_seed42.log", "nothing here\n")
    assert (log.seed, log.seed_source, log.seed_line) == (42, "file name", None)


def test_first_seed_line_wins():
    assert parse_log("x.log", "seed:1\nseed:2\n").seed_line == 1


def test_training_time_without_stop_line_is_last_step_line():
    text = "step:1/10 train_time:100ms\nstep:2/10 train_time:250ms\nfinal val_loss:2.0 val_bpb:1.2\n"
    log = parse_log("x.log", text)
    assert (log.train_time_ms, log.train_time_line, log.stopped_early) == (250.0, 2, False)


def test_stop_line_wins_over_later_step_line():
    text = "stopping_early: wallclock_cap train_time:600038ms step:13780/20000\nstep:13780/20000 train_time:600100ms\n"
    log = parse_log("x.log", text)
    assert (log.train_time_ms, log.train_time_line) == (600038.0, 1)


def test_time_units():
    assert parse_log("x.log", "train_time:601.5s\n").train_time_ms == 601500.0
    assert parse_log("x.log", "train_time_ms=1200\n").train_time_ms == 1200.0
    # a bare number could be seconds or milliseconds: not guessed
    assert parse_log("x.log", "train_time:600\n").train_time_ms is None
    assert parse_log("x.log", "total_eval_time:120000ms\n").eval_time_s == 120.0


def test_size_lines_with_commas_and_case():
    log = parse_log("x.log", "Total Submission Size: 15,863,489 bytes\nserialized model zstd-22: 15,800,000 bytes\n")
    assert (log.total_bytes, log.model_bytes, log.model_format) == (15863489, 15800000, "zstd-22")


def test_nan_scores_are_parsed_but_never_exact():
    log = parse_log("x.log", "final_exact val_loss:nan val_bpb:nan\n")
    assert log.final is not None and not log.final.exact
    assert log.final.val_loss != log.final.val_loss


def test_eval_time_not_confused_with_total_eval_time():
    log = parse_log("x.log", "final val_loss:2.00000000 val_bpb:1.20000000 total_eval_time:30s\n")
    assert log.final.eval_time_ms is None and log.eval_time_s == 30.0


def test_empty_log():
    log = parse_log("x.log", "")
    assert log.final is None and log.line_count == 0 and log.problem is None
    assert "a score line (val_loss and val_bpb)" in log.missing


def test_unknown_format_names_everything_missing():
    log = parse_log("x.log", "epoch 1 loss 3.2\nepoch 2 loss 2.9\ndone\n")
    assert log.final is None
    joined = " | ".join(log.missing)
    for what in ("score line", "training time", "evaluation time", "submission size"):
        assert what in joined


def test_binary_bytes():
    log = parse_log("x.log", b"\x00\x01\x02PK\x03\x04" * 100)
    assert log.problem and "binary" in log.problem and log.scores == []


def test_read_problem_passes_through_with_file_name_seed():
    log = parse_log("train_seed3.log", None, problem="is too large to read")
    assert log.problem == "is too large to read" and log.seed == 3


def test_no_content_and_no_problem():
    assert parse_log("x.log", None).problem == "could not be read"


def test_not_utf8_text_is_parsed_with_replacement():
    data = BASELINE.encode() + b"loading 50% \xe9\xe9\n"
    log = parse_log("x.log", data)
    assert log.problem is None and log.final.val_bpb == 1.2243657
    assert log.decode_line == 14 and log.replaced_bytes == 2 and "not valid UTF-8" in log.decode_problem


@pytest.mark.parametrize("seed", range(20))
def test_random_junk_never_raises(seed):
    rng = random.Random(seed)
    alphabet = "val_loss:bpb=step/ seed:\r\n\x1b[0m0123456789.-eE naninf Total submission size Serialized model"
    text = "".join(rng.choice(alphabet) for _ in range(3000))
    parse_log("junk.log", text)
    parse_log("junk.log", bytes(rng.randrange(256) for _ in range(3000)))
    parse_log("junk.log", text.encode("utf-16"))


def test_huge_lines_and_many_lines():
    text = "x" * 2_000_000 + " val_loss:2.0 val_bpb:1.2\n" + "step:1/2 train_time:5ms\n" * 50_000
    text += "final_exact val_loss:2.07269931 val_bpb:1.22436570\n"
    log = parse_log("x.log", text)
    assert log.final.line == 50_002 and log.scores[0].line == 1
    assert log.train_time_ms == 5.0 and log.train_time_line == 50_001


def test_dense_validation_lines_keep_only_the_last_in_training_score():
    text = "".join(f"step:{i}/1000 val_loss:{3 - i / 1000:.4f} val_bpb:1.5000\n" for i in range(1, 1001))
    log = parse_log("x.log", text + "final_exact val_loss:2.07269931 val_bpb:1.22436570\n")
    assert [s.step for s in log.scores] == [1000, None]
    assert log.scores[0].line == 1000


def test_last_finds_the_last_matching_line_whatever_the_spelling():
    """`_Lines.last` against its definition: of the line segments holding any spelling of the
    needle, the last one the pattern matches (spellings a log never uses are dropped early)."""
    import re

    from golflint.logs.parse import _Lines, _segments, _spellings

    lines = ["step:1 val_bpb:2.0", "VAL_BPB 1.9", "noise", "Val_bpb: x", "val_bpb:1.8\rval_bpb:1.7 eta",
             "final_val_bpb 1.6", "val_bpbval_bpb", "other"]
    pattern = re.compile(r"val_bpb[: ]+(\d+\.\d+)", re.IGNORECASE)
    for n in range(len(lines) + 1):
        text = "\n".join(lines[:n])
        expected = None
        for number, line in enumerate(text.split("\n"), 1):
            if any(s in line for s in _spellings("val_bpb")):
                for segment in _segments(line):
                    m = pattern.search(segment)
                    if m:
                        expected = (number, m.group(0))
        found = _Lines(text).last("val_bpb", pattern)
        assert (found and (found[0], found[1].group(0))) == expected, n


# -- finding lines ----------------------------------------------------------------------------------
_PIECES = ["val_loss", "VAL_LOSS", "Val_loss", "Val_Loss", "vAl_loss", "VAL_loss", "val_lossval_loss",
           "step", "STEP", "Step", "sTeP", "stepstep", "step_avg", "Step_Avg", "peak memory", "Peak Memory",
           "PEAK MEMORY", "pea\u212a memory", "\u212aelvin", "seed", "SEED", "Seed", ":", "=", " ", "  ",
           "1.2345", "42", "\n", "\n", "\n", "\r", "\x1b[2K", "\u00b1", "\u2192", "x"]


def _random_log(rng: random.Random, odd: bool) -> str:
    pieces = _PIECES + (["\u0130"] if odd else [])
    return "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 400)))


@pytest.mark.parametrize("seed", range(40))
def test_lines_are_found_as_by_searching_each_spelling(seed):
    # The lowered copy must find exactly the lines that searching the log once per spelling finds,
    # with every casing logs use, casings they do not (vAl_loss), characters that lowercase to
    # ASCII letters (the Kelvin sign), repeated needles, and text whose lowercase is longer (U+0130).
    import re

    from golflint.logs.parse import _Lines

    rng = random.Random(seed)
    patterns = [re.compile(r"\d"), re.compile(r"[:=]\s*\d"), re.compile(r"\S")]
    for _ in range(25):
        text = _random_log(rng, odd=rng.random() < 0.2)
        lines = _Lines(text)
        if "\u0130" in text:
            assert lines.lowered is None       # positions would not agree: spelling by spelling
            continue
        for needle in ("val_loss", "step", "step_avg", "peak memory", "seed"):
            assert list(lines.forward(needle)) == list(lines._forward_by_spelling(needle))
            for pattern in patterns:
                found, expected = lines.last(needle, pattern), lines._last_by_spelling(needle, pattern)
                assert (found and (found[0], found[1].group(0), found[1].string)) == \
                    (expected and (expected[0], expected[1].group(0), expected[1].string))


def test_a_very_long_log_gets_no_lowered_copy_and_is_still_read(monkeypatch):
    # The copy would double a long log's memory: past the limit the log is searched by spelling.
    import golflint.logs.parse as parse

    text = "step:1/2 train_time:5ms\n" * 20 + "VAL_LOSS:2.0 val_bpb:1.2 eval_time:3ms\n"
    monkeypatch.setattr(parse, "_LOWERED_MAX_CHARS", len(text) - 1)
    assert parse._Lines(text).lowered is None
    log = parse_log("train.log", text)
    assert log.steps == 1 and log.train_time_ms == 5 and [s.line for s in log.scores] == [21]
    monkeypatch.setattr(parse, "_LOWERED_MAX_CHARS", len(text))
    assert parse._Lines(text).lowered is not None
    assert parse_log("train.log", text) == log
