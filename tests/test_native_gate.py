"""GL104 in C: a hint emitted only when the scored token passes a test, whose Python gate the
claimed runs kept shut (by values: a threshold above any probability) -> a warning that says so;
the same code with the gate open in the logs, or with a route around the gate, stays an error."""

from __future__ import annotations

import json
import re

import pytest

from golflint.findings import Severity
from golflint.logs.counts import printed_values
from golflint_testing import run_rules

# Our own small n-gram hinter: the hint for position i is emitted only when the token AT i (the one
# being scored) is not flagged `fresh`, the shape of a within-word expert keyed on the answer.
HINTER_C = """\
typedef struct { unsigned best; unsigned hits; unsigned seen; } Row;

int hinter_step(const unsigned short *ids, const unsigned char *fresh_lut, Row *rows,
                unsigned short *hint, float *conf, unsigned char *live, long n) {
    unsigned h = 0;
    for (long i = 1; i < n; ++i) {
        const unsigned short cur = ids[i];
        const unsigned char fresh = fresh_lut[cur];
        h = h * 31 + ids[i - 1];
        if (!fresh) {
            live[i] = 1;
            hint[i] = rows[h & 4095].best;
            conf[i] = (float)rows[h & 4095].hits / (float)rows[h & 4095].seen;
        } else {
            live[i] = 0;
            hint[i] = 0;
            conf[i] = 0.0f;
        }
        rows[h & 4095].seen += 1;
    }
    return 0;
}
"""

HINTS_PY = """\
import ctypes
import os

import numpy as np

_lib = ctypes.CDLL(os.path.join(os.path.dirname(__file__), "libhinter.so"))


class Hinter:
    def __init__(self, lut):
        self.lib = _lib
        self.lut = np.ascontiguousarray(lut, dtype=np.uint8)
        self.rows = np.zeros(4096 * 3, dtype=np.uint32)

    def run(self, ids):
        n = int(ids.size)
        hint = np.zeros(n, dtype=np.uint16)
        conf = np.zeros(n, dtype=np.float32)
        live = np.zeros(n, dtype=np.uint8)
        rc = self.lib.hinter_step(
            ids.ctypes.data_as(ctypes.c_void_p),
            self.lut.ctypes.data_as(ctypes.c_void_p),
            self.rows.ctypes.data_as(ctypes.c_void_p),
            hint.ctypes.data_as(ctypes.c_void_p),
            conf.ctypes.data_as(ctypes.c_void_p),
            live.ctypes.data_as(ctypes.c_void_p),
            ctypes.c_long(n),
        )
        if rc != 0:
            raise RuntimeError(f"hinter failed with code {rc}")
        return hint, conf, live.astype(bool)


def tilt_hints(ids, lut, tau, strength, log=print):
    hint, conf, live = Hinter(lut).run(ids)
    opened = live & (conf >= np.float32(tau))
    bonus = np.where(opened, np.float32(strength), np.float32(0.0))
    chosen = np.full(ids.size, -1, dtype=np.int64)
    chosen[opened] = hint[opened]
    log(f"hint tilt: positions={ids.size} opened={int(opened.sum())} mean_bonus={float(bonus.mean()):.4f}")
    return chosen, bonus
"""

# A route around the mask: the raw hints leave the function whatever the mask says.
LEAKY_PY = HINTS_PY.replace("    return chosen, bonus\n", "    return chosen, bonus, hint.astype(np.int64)\n")

TRAIN_PY = """\
import os

import numpy as np

from hints import tilt_hints

HINT_TAU = float(os.environ.get("HINT_TAU", "{tau}"))
HINT_STRENGTH = float(os.environ.get("HINT_STRENGTH", "{strength}"))


def evaluate(ids, lut, logits):
    chosen, bonus{extra} = tilt_hints(ids, lut, HINT_TAU, HINT_STRENGTH)
    hit = (chosen == ids).astype(np.float32)
    return float((logits - bonus * hit).mean())


if __name__ == "__main__":
    ids = np.fromfile(os.environ.get("VAL", "val.bin"), dtype=np.uint16)
    print(evaluate(ids, np.zeros(1024, dtype=np.uint8), np.zeros(ids.size, dtype=np.float32)))
"""


def _log(opened: int, seed: int) -> str:
    return (f"seed:{seed}\nhint tilt: positions=40000 opened={opened} mean_bonus=0.0000\n"
            "final_eval val_loss:2.50000000 val_bpb:1.10000000\n")


def _submission(make_sub, *, tau="99.0", strength="0.0", opened=(0, 0), hints=HINTS_PY, extra="",
                names: dict[str, str] | None = None, claims: dict | None = None):
    files = {"train_gpt.py": TRAIN_PY.format(tau=tau, strength=strength, extra=extra),
             "hints.py": hints, "hinter.c": HINTER_C,
             "README.md": "Run: `python train_gpt.py`\n",
             "submission.json": json.dumps({"name": "hinted", "val_bpb": 1.1, **(claims or {})})}
    for seed, count in zip((1, 2), opened):
        files[f"train_seed{seed}.log"] = _log(count, seed)
    if names:
        for key, content in list(files.items()):
            if key.endswith((".py", ".log")):   # a renamed format string prints renamed lines
                for old, new in names.items():
                    content = re.sub(rf"\b{old}\b", new, content)
                files[key] = content
    return make_sub(files)


def _with_c(make_sub, c_code: str):
    root = _submission(make_sub)
    (root / "hinter.c").write_text(c_code, encoding="utf-8")
    return root


def _gl104(root):
    found = [f for f in run_rules(root, ["GL104"]).findings if f.rule == "GL104" and f.file == "hinter.c"]
    assert len(found) == 1, found
    return found[0]


def test_gate_kept_shut_by_values_in_every_log_is_a_warning_that_says_so(make_sub):
    f = _gl104(_submission(make_sub))
    assert f.severity == Severity.WARNING
    assert "the gate never opened in the claimed runs" in f.message
    assert "`opened` (hints.py line 36)" in f.message and "train_seed1.log, train_seed2.log" in f.message
    assert f.data["closed_gate"] == {"mask": "opened", "file": "hints.py", "line": 36,
                                     "logs": ["train_seed1.log", "train_seed2.log"]}


def test_the_same_code_with_the_gate_open_in_the_logs_stays_an_error(make_sub):
    f = _gl104(_submission(make_sub, tau="0.45", strength="0.75", opened=(5120, 4987)))
    assert f.severity == Severity.ERROR and "never opened" not in f.message


def test_one_claimed_run_with_the_gate_open_keeps_the_error(make_sub):
    assert _gl104(_submission(make_sub, opened=(0, 3))).severity == Severity.ERROR


def test_without_logs_nothing_shows_the_gate_shut(make_sub):
    assert _gl104(_submission(make_sub, opened=())).severity == Severity.ERROR


def test_claimed_seeds_are_judged_by_their_own_logs(make_sub):
    assert _gl104(_submission(make_sub, claims={"seeds": [1, 2]})).severity == Severity.WARNING
    # seed 3 is claimed but has no log: nothing shows what its run did
    assert _gl104(_submission(make_sub, claims={"seeds": [1, 2, 3]})).severity == Severity.ERROR


def test_a_route_around_the_mask_keeps_the_error(make_sub):
    f = _gl104(_submission(make_sub, hints=LEAKY_PY, extra=", raw"))
    assert f.severity == Severity.ERROR
    # the raw hints kept by another object, whatever the assignment holds
    kept = HINTS_PY.replace("    return chosen, bonus\n", "    _ = STORE.append(hint)\n    return chosen, bonus\n") \
        .replace("class Hinter:", "STORE = []\n\n\nclass Hinter:")
    assert _gl104(_submission(make_sub, hints=kept)).severity == Severity.ERROR


def test_the_policy_is_a_rulebook_setting(make_sub):
    root = _submission(make_sub)
    found = [f for f in run_rules(root, ["GL104"], settings_overrides={"logs": {"closed_gate_rules": []}}).findings
             if f.rule == "GL104" and f.file == "hinter.c"]
    assert [f.severity for f in found] == [Severity.ERROR]


@pytest.mark.parametrize("opened", [(0, 0), (12, 9)])
def test_renamed_python_gives_the_same_verdict(make_sub, opened):
    names = {"Hinter": "K1", "run": "m1", "tilt_hints": "f1", "hint": "a1", "conf": "a2", "live": "a3",
             "opened": "a4", "bonus": "a5", "chosen": "a6", "tau": "a7", "strength": "a8", "evaluate": "f2"}
    f = _gl104(_submission(make_sub, opened=opened, names=names))
    assert f.severity == (Severity.WARNING if opened == (0, 0) else Severity.ERROR)


PARTS = ["hint tilt: positions=", None, " opened=", None, " mean_bonus=", None]


def test_printed_values_read_only_lines_of_that_format():
    text = ("12:00:01 hint tilt: positions=400 opened=0 mean_bonus=0.0000\n"
            "hint tilt: positions=400 opened=7 mean_bonus=0.1000\n"
            "hint tilt: positions=400 closed=5\n"            # another format: not read
            "opened=9 hint tilt: positions=\n")              # the parts out of order: not read
    assert printed_values(text, PARTS, 1) == ["0", "7"]
    assert printed_values(text, PARTS, 0) == ["400", "400"]


def test_printed_values_on_a_hostile_line_is_a_plain_scan():
    line = "hint tilt: positions=" + " opened=" * 20000 + "\n"
    assert printed_values(line * 50, PARTS, 1) == []


# The hint arrays must be the gated branch's only way out: a branch that also changes what runs next,
# what the function returns or state behind a parameter keeps the error, whatever the logs print.
LEAVING_BRANCHES = {
    "a jump taken on the answer": HINTER_C.replace("            live[i] = 1;\n",
                                                   "            live[i] = 1;\n            if (i + 1 == n) continue;\n"),
    "state behind a parameter": HINTER_C.replace("            live[i] = 1;\n",
                                                 "            live[i] = 1;\n            rows[h & 4095].hits += 1;\n"),
    "a returned value": HINTER_C.replace("    unsigned h = 0;\n", "    unsigned h = 0;\n    int opened = 0;\n")
                                .replace("            live[i] = 1;\n", "            live[i] = 1;\n            opened = 1;\n")
                                .replace("    return 0;\n", "    return opened;\n"),
}


@pytest.mark.parametrize("name", list(LEAVING_BRANCHES))
def test_a_branch_with_another_way_out_keeps_the_error(make_sub, name):
    code = LEAVING_BRANCHES[name]
    assert code != HINTER_C
    assert _gl104(_with_c(make_sub, code)).severity == Severity.ERROR
