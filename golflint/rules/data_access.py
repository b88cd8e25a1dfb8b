"""GL2xx: data and network access."""

from __future__ import annotations

from ..dataflow import DataflowRule
from ..findings import Severity
from .base import Invalid, Rule, Valid

# ---------------------------------------------------------------------------------------------
# GL202 (dataflow: golflint/dataflow/) -- owned by the analyzer work; GL201/GL203 live apart.

_GL202_PRE = """\
import numpy as np
import torch
from model import GPT
model = GPT()
TRAIN = "data/fineweb_train_000000.bin"
val = torch.from_numpy(np.fromfile("data/fineweb_val_000000.bin", dtype=np.uint16))
"""


class TrainDataReadInEval(DataflowRule):
    """Training data is read during evaluation.

    Reports reads of training shards that run inside a function that scores validation data (and
    trains on no training data), and training data read after the last training step whose
    contents flow into the validation score (an n-gram table built from training shards at
    evaluation time, for example). Reading training data after training for quantization
    calibration is not reported: it belongs to the training budget.

    **Why.** No access to training data during evaluation unless those bits are paid for inside
    the 16 MB artifact.

    **Example.**
    ```python
    def evaluate(model):
        prior = np.fromfile("fineweb_train_000000.bin", ...)   # read while scoring
    ```

    **Instead.** Store whatever evaluation needs in the artifact (and count its bytes).
    """

    id = "GL202"
    name = "train-data-read-in-eval"
    severity = Severity.ERROR
    message = "training data is read during evaluation"
    hint = "evaluate from the artifact alone; store (and count) any statistics evaluation needs"
    valid = (
        Valid(_GL202_PRE + """\
train = torch.from_numpy(np.fromfile(TRAIN, dtype=np.uint16))
for i in range(10):
    model(train[i : i + 1024], train[i + 1 : i + 1025]).backward()
with torch.no_grad():
    s = 0.0
    for i in range(0, val.numel() - 1024, 1024):
        s += model(val[i : i + 1024], val[i + 1 : i + 1025]).item()
"""),
        Valid(_GL202_PRE + """\
def evaluate(m):
    with torch.no_grad():
        s = 0.0
        for i in range(0, val.numel() - 1024, 1024):
            s += m(val[i : i + 1024], val[i + 1 : i + 1025]).item()
    return s
train = torch.from_numpy(np.fromfile(TRAIN, dtype=np.uint16))
for i in range(10):
    model(train[i : i + 1024], train[i + 1 : i + 1025]).backward()
    if i % 5 == 0:
        print(evaluate(model))
""", note="evaluation inside the training loop reads no training data"),
        Valid(_GL202_PRE + """\
train = torch.from_numpy(np.fromfile(TRAIN, dtype=np.uint16))
for i in range(10):
    model(train[i : i + 1024], train[i + 1 : i + 1025]).backward()
calib = torch.from_numpy(np.fromfile(TRAIN, dtype=np.uint16))[:8192]
with torch.no_grad():
    model(calib)
with torch.no_grad():
    s = 0.0
    for i in range(0, val.numel() - 1024, 1024):
        s += model(val[i : i + 1024], val[i + 1 : i + 1025]).item()
""", note="post-training calibration on training data"),
    )
    invalid = (
        Invalid(_GL202_PRE + """\
def evaluate(m):
    prior = torch.from_numpy(np.fromfile(TRAIN, dtype=np.uint16))
    with torch.no_grad():
        s = 0.0
        for i in range(0, val.numel() - 1024, 1024):
            s += m(val[i : i + 1024], val[i + 1 : i + 1025], prior).item()
    return s
print(evaluate(model))
""", lines=8, note="a training shard opened inside the evaluation function"),
        Invalid(_GL202_PRE + """\
def load(path):
    return torch.from_numpy(np.fromfile(path, dtype=np.uint16))

def evaluate(m):
    s = 0.0
    with torch.no_grad():
        for i in range(0, val.numel() - 1024, 1024):
            s += m(val[i : i + 1024], val[i + 1 : i + 1025]).item()
    extra = load(TRAIN)
    return s
print(evaluate(model))
""", lines=15, note="through a helper, after scoring"),
        Invalid(_GL202_PRE + """\
train = torch.from_numpy(np.fromfile(TRAIN, dtype=np.uint16))
for i in range(10):
    model(train[i : i + 1024], train[i + 1 : i + 1025]).backward()
table = torch.from_numpy(np.fromfile(TRAIN, dtype=np.uint16))
with torch.no_grad():
    s = 0.0
    for i in range(0, val.numel() - 1024, 1024):
        s += (model(val[i : i + 1024], val[i + 1 : i + 1025]) + table[val[i : i + 1024]]).item()
""", lines=10, note="training tokens read after training flow into the score"),
    )


RULES: list[type[Rule]] = [TrainDataReadInEval]
