"""How often loop bodies run (issue 13): twice each, except a loop met inside another loop's later
iteration, which runs once (`analysis.nested_later_iterations`); findings that need a loop's later
iteration are still made where that loop is nested."""

from __future__ import annotations

from pathlib import Path

from golflint_testing import interpret, run_rules

from golflint.config import default_settings
from golflint.dataflow.interp import Interpreter
from golflint.dataflow.spec import Spec

NESTED = """
hits = []
for a in range(2):
    for b in range(2):
        for c in range(2):
            hits.append(c)
"""

ACROSS_A_CALL = """
def inner():
    for c in range(2):
        hits.append(c)

hits = []
for a in range(2):
    inner()
"""


def _interpret(tmp_path: Path, source: str, nested: int | None = None) -> Interpreter:
    """The interpreter after `source`, with the default bound or `nested`."""
    return interpret(tmp_path, source) if nested is None else \
        interpret(tmp_path, source, nested_later_iterations=nested)


def test_the_default_runs_a_later_iteration_only_outside_another(tmp_path: Path) -> None:
    assert Spec.from_settings(default_settings()).nested_later_iterations == 1
    # Statements: `hits = []`, the outer `for`, then per outer iteration the middle `for`, per
    # middle iteration the inner `for`, per inner iteration the append.
    full = _interpret(tmp_path / "a", NESTED, nested=64).statements
    assert full == 1 + 1 + 2 * (1 + 2 * (1 + 2))
    # Bound 1: in the outer loop's first iteration the middle loop runs both iterations, and in its
    # first the inner loop runs both (1 + 2), in its later one once (1 + 1); in the outer loop's
    # later iteration the middle loop and the inner loop run once each.
    bounded = _interpret(tmp_path / "b", NESTED).statements
    assert bounded == 1 + 1 + (1 + (1 + 2) + (1 + 1)) + (1 + (1 + 1))


def test_a_function_called_in_a_later_iteration_runs_its_loops_once(tmp_path: Path) -> None:
    # the def, `hits = []`, the `for`; per outer iteration the call and, in the callee, its `for`
    # and the appends: two in the outer loop's first iteration, one in its later one
    full = _interpret(tmp_path / "a", ACROSS_A_CALL, nested=64).statements
    assert full == 3 + 2 * (1 + 1 + 2)
    bounded = _interpret(tmp_path / "b", ACROSS_A_CALL).statements
    assert bounded == 3 + (1 + 1 + 2) + (1 + 1 + 1)


MULTI_EPOCH_TTT = """
import numpy as np
import torch
import torch.nn.functional as F


def evaluate(model, opt, epochs):
    val = np.fromfile("./data/fineweb_val_000000.bin", dtype=np.uint16)
    tokens = torch.from_numpy(val.astype(np.int64))
    total = 0.0
    for step in range(100):
        for epoch in range(epochs):
            for i in range(0, len(tokens) - 1025, 1024):
                x = tokens[i:i + 1024]
                y = tokens[i + 1:i + 1025]
                with torch.no_grad():
                    total += F.cross_entropy(model(x), y).item()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
    return total
"""


def test_a_pass_over_the_same_tokens_is_still_found_under_two_enclosing_loops(tmp_path: Path) -> None:
    # the epoch loop's later iteration rescores what its first trained on; the step loop runs
    # around it: the epochs still run twice in the step loop's first iteration
    folder = tmp_path / "records" / "track_10min_16mb" / "case"
    folder.mkdir(parents=True)
    (folder / "train_gpt.py").write_text(MULTI_EPOCH_TTT)

    def found(nested: int) -> list[tuple[str, int]]:
        result = run_rules(folder, ["GL101", "GL103"],
                           settings_overrides={"analysis.nested_later_iterations": nested})
        return sorted((f.rule, f.line) for f in result.findings)

    assert ("GL103", 17) in found(1)
    assert found(1) == found(64)


CARRIED = """
import numpy as np
vt = np.fromfile("./data/fineweb_val_000000.bin", dtype=np.uint16)
hits = []
for a in range(2):
    prev = None
    for i in range(3):
        hits.append(prev)
        prev = {value}
"""

TRAINED = """
import numpy as np
import torch
import torch.nn.functional as F
vt = torch.from_numpy(np.fromfile("./data/fineweb_val_000000.bin", dtype=np.uint16).astype(np.int64))
model = build()
opt = make_opt(model)
for a in range(2):
    for i in range(3):
        loss = F.cross_entropy(model({x}), {y})
        loss.backward()
"""


def test_a_loop_in_a_later_iteration_runs_again_when_it_carries_validation_tokens(tmp_path: Path) -> None:
    # statements: 3 before the outer loop, its `for`; per outer iteration `prev = None` and the
    # inner `for`; per inner iteration the append and the assignment
    plain = _interpret(tmp_path / "a", CARRIED.format(value="i")).statements
    assert plain == 4 + (2 + 2 * 2) + (2 + 2)    # the inner loop once in the outer's later iteration
    # the first iteration leaves validation tokens in `prev`, read by the next one (`prev_x`, the
    # window a TTT loop trains on after scoring it): the later iteration runs
    carried = _interpret(tmp_path / "b", CARRIED.format(value="vt[i:i + 8]")).statements
    assert carried == 4 + (2 + 2 * 2) + (2 + 2 * 2)


def test_a_loop_in_a_later_iteration_runs_again_when_it_trains_on_validation_data(tmp_path: Path) -> None:
    # statements: 6 before the outer loop, its `for`; per outer iteration the inner `for`; per
    # inner iteration the loss and the backward pass
    on_train = _interpret(tmp_path / "a", TRAINED.format(x="torch.zeros(8)", y="torch.zeros(8)")).statements
    assert on_train == 7 + (1 + 2 * 2) + (1 + 2)
    on_val = _interpret(tmp_path / "b", TRAINED.format(x="vt[i:i + 8]", y="vt[i + 1:i + 9]")).statements
    assert on_val == 7 + (1 + 2 * 2) + (1 + 2 * 2)
