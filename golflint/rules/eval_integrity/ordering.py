"""GL1xx rules (ordering): what is trained on, calibrated on or selected with before it is scored.

All five rules read one shared dataflow analysis (golflint/dataflow/): validation data is tracked
from the files it is read from, through slicing and calls, to training updates, scores,
calibration and selections; the order of those events inside loops decides the verdict.
"""

from __future__ import annotations

import re

from ...dataflow import DataflowRule
from ...facts.declared import Fact
from ...facts.semantics import Semantics as Spec
from ...findings import Severity
from ..base import Invalid, Rule, Valid, examples

# Shared preamble of the embedded examples: a model we cannot see into, validation and training
# tokens read from shard files.
_PRE = """\
import numpy as np
import torch
from model import GPT
model = GPT()
val = torch.from_numpy(np.fromfile("data/fineweb_val_000000.bin", dtype=np.uint16))
train = torch.from_numpy(np.fromfile("data/fineweb_train_000000.bin", dtype=np.uint16))
opt = torch.optim.SGD(model.parameters(), lr=1e-3)
"""
_PRE_LINES = _PRE.count("\n")


def ex(body: str) -> str:
    """An example: the shared preamble, then `body` (its line 1 is file line _PRE_LINES + 1)."""
    import textwrap

    return _PRE + textwrap.dedent(body).lstrip("\n")


def at(n: int) -> int:
    """File line of line `n` of an example body."""
    return _PRE_LINES + n


class ValTrainedBeforeScored(DataflowRule):
    """Validation tokens reach a training update before they are scored.

    Test-time training (or any cache or adaptive state) may only learn from validation tokens
    that were already scored. This rule follows validation data from the shard files it is read
    from to training sinks (`loss.backward()`, `torch.autograd.grad`, in-place parameter writes,
    writes into a table keyed by token contents) and reports a sink when the same tokens are
    scored afterwards without having been scored before the update. It covers pre-eval and
    pre-quant TTT (also when the fine-tuned weights reach the scored model through
    `load_state_dict`, a saved model file or a compiled wrapper) and SLOT-style fits of a delta or
    logit bias on a window's own targets (an optimizer's step, an L-BFGS closure or
    `torch.autograd.grad`), masks that keep only the scored positions included.

    **Why.** Condition 3 of the rules (score before update): "pre-eval" or "pre-quant" TTT that
    fine-tunes on the validation set and then scores it measures memorization, not compression.

    **Example.**
    ```python
    for chunk in chunks:
        model(chunk).backward(); opt.step()          # trains on the chunk...
        with torch.no_grad():
            total += model(chunk).item()             # ...then scores it
    ```

    **Instead.** Score each chunk first (under `torch.inference_mode()`, adding its loss to the
    reported total), then train on it, then move to the next chunk.
    """

    id = "GL101"
    name = "val-trained-before-scored"
    severity = Severity.ERROR
    message = "validation tokens reach a training update before they are scored"
    hint = "score each validation chunk (no_grad, add to the total) before training on it"
    valid = examples(lambda: (
        Valid(ex("""
            total = 0.0
            for i in range(0, val.numel() - 1024, 1024):
                chunk = val[i : i + 1025]
                with torch.inference_mode():
                    total += model(chunk[:-1], chunk[1:]).item()
                model(chunk[:-1], chunk[1:]).backward()
                opt.step()
            """), note="legal score-first chunked TTT"),
        Valid(ex("""
            for step in range(100):
                batch = train[step * 1024 : step * 1024 + 1025]
                model(batch[:-1], batch[1:]).backward()
                opt.step()
            with torch.no_grad():
                score = model(val[:-1], val[1:]).item()
            """), note="train on training data, then evaluate"),
        Valid(ex("""
            total = 0.0
            pos = 0
            while pos < val.numel() - 1:
                piece = val[pos : pos + 4097]
                with torch.no_grad():
                    nll = model(piece[:-1], piece[1:])
                total += nll.sum().item()
                for j in range(0, 4096, 512):
                    mb = piece[j : j + 513]
                    model(mb[:-1], mb[1:]).backward()
                    opt.step()
                pos += 4096
            """), note="score a chunk, then train on mini-batches of it (while loop)"),
        Valid(ex("""
            losses = []
            for i in range(0, val.numel() - 1024, 1024):
                x = val[i : i + 1025]
                loss = model(x[:-1], x[1:])
                losses.append(loss.item())
                loss.backward()
                opt.step()
            """), note="one forward with grad: its loss is computed before the update"),
        Valid(ex("""
            import copy
            class Net(torch.nn.Module):
                def forward(self, x, y):
                    return torch.nn.functional.cross_entropy(self.head(x), y)
            net = Net()
            def ttt(m):
                sgd = torch.optim.SGD(m.parameters(), lr=1e-3)
                total = 0.0
                for i in range(0, val.numel() - 1024, 1024):
                    c = val[i : i + 1025]
                    with torch.no_grad():
                        total += m(c[:-1], c[1:]).item()
                    m(c[:-1], c[1:]).backward()
                    sgd.step()
                return total
            print(ttt(copy.deepcopy(net)), ttt(copy.deepcopy(net)))
            """), note="two score-first TTT passes, each on its own copy of the model"),
    ))
    invalid = examples(lambda: (
        Invalid(ex("""
            for epoch in range(3):
                for i in range(0, val.numel() - 1024, 1024):
                    seg = val[i : i + 1025]
                    model(seg[:-1], seg[1:]).backward()
                    opt.step()
            with torch.no_grad():
                final = 0.0
                for i in range(0, val.numel() - 1024, 1024):
                    seg = val[i : i + 1025]
                    final += model(seg[:-1], seg[1:]).item()
            """), lines=at(4), note="pre-eval TTT over several epochs"),
        Invalid(ex("""
            total = 0.0
            for i in range(0, val.numel() - 1024, 1024):
                chunk = val[i : i + 1025]
                model(chunk[:-1], chunk[1:]).backward()
                opt.step()
                with torch.inference_mode():
                    total += model(chunk[:-1], chunk[1:]).item()
            """), lines=at(4), note="train-then-score on the same chunk"),
        Invalid(ex("""
            def adapt(m, tokens):
                loss = m(tokens[:-1], tokens[1:])
                grads = torch.autograd.grad(loss, list(m.parameters()))
                return grads

            def evaluate(m, tokens):
                out = []
                with torch.no_grad():
                    for i in range(0, tokens.numel() - 1024, 1024):
                        out.append(m(tokens[i : i + 1024], tokens[i + 1 : i + 1025]))
                return torch.stack(out).mean()

            adapt(model, val)
            print(evaluate(model, val))
            """), lines=at(3), note="gradient on the whole validation set, through helper functions"),
        Invalid(ex("""
            class Net(torch.nn.Module):
                def forward(self, x, y):
                    return torch.nn.functional.cross_entropy(self.head(x), y)
            tuned = Net()
            tuned.load_state_dict(model.state_dict())
            adam = torch.optim.AdamW(tuned.parameters(), lr=5e-4)
            for epoch in range(4):
                for i in range(0, val.numel() - 1024, 1024):
                    c = val[i : i + 1025]
                    tuned(c[:-1], c[1:]).backward()
                    adam.step()
            torch.save(tuned.state_dict(), "final_model.pt")
            scorer = Net()
            scorer.load_state_dict(torch.load("final_model.pt"))
            final = 0.0
            with torch.no_grad():
                for i in range(0, val.numel() - 1024, 1024):
                    c = val[i : i + 1025]
                    final += scorer(c[:-1], c[1:]).item()
            """), lines=at(10), note="pre-quant TTT on a fresh module, saved, loaded into the scored one"),
        Invalid(ex("""
            total = 0.0
            for i in range(0, val.numel() - 1024, 1024):
                c = val[i : i + 1025]
                with torch.no_grad():
                    h = model.hidden(c[None, :-1])
                delta = torch.zeros(1, 1, h.shape[-1], requires_grad=True)
                lbfgs = torch.optim.LBFGS([delta], max_iter=5)
                def closure():
                    lbfgs.zero_grad()
                    loss = torch.nn.functional.cross_entropy(model.head(h + delta)[0], c[1:])
                    loss.backward()
                    return loss
                lbfgs.step(closure)
                with torch.no_grad():
                    total += torch.nn.functional.cross_entropy(model.head(h + delta)[0], c[1:]).item()
            """), lines=at(11), note="SLOT: L-BFGS fits a delta on the window's targets in its closure"),
    ))


class ValDataInTraining(DataflowRule):
    """Validation data is used in the training phase.

    Reports training updates fed by validation data that the script never scores first: a training
    file pattern that also matches the validation shards (`fineweb_*.bin`), validation tokens
    concatenated into training batches, or a model trained on validation data only. The README
    and shell scripts count too: a line that links or copies a validation shard in as a training
    shard (`ln -s .../fineweb_val_000000.bin .../fineweb_train_000000.bin`), and a setting, in a
    run command or a configuration listing, that points the variable the code reads its training
    files from at validation shards (`TRAIN_FILES=fineweb_val_*.bin`). Shard names and patterns are
    settings (`analysis.val_patterns`, `analysis.val_shard_examples`).

    **Why.** "No training on validation data": the score must measure tokens the model never
    learned from.

    **Example.**
    ```python
    files = sorted(glob.glob("data/fineweb_*.bin"))   # also matches fineweb_val_*
    ```

    **Instead.** Read training batches only from the training shards (`fineweb_train_*.bin`).
    """

    id = "GL102"
    name = "val-data-in-training"
    facts = frozenset({Fact.CODE, Fact.DATAFLOW, Fact.INDEX, Fact.RUN_CONFIG})
    severity = Severity.ERROR
    message = "validation data is used in the training phase"
    hint = "read training batches only from the training shards"
    valid = examples(lambda: (
        Valid(ex("""
            for step in range(100):
                batch = train[step * 1024 : step * 1024 + 1025]
                model(batch[:-1], batch[1:]).backward()
                opt.step()
            """)),
        Valid("""
            import glob
            import numpy as np
            from model import GPT
            model = GPT()
            for path in sorted(glob.glob("data/fineweb_train_*.bin")):
                tokens = np.fromfile(path, dtype=np.uint16)
                model(tokens).backward()
            """, note="a training-only pattern"),
        Valid(ex("""
            for step in range(10):
                model(train[:-1], train[1:]).backward()
                opt.step()
            with torch.no_grad():
                print(model(val[:-1], val[1:]).item())
            """), note="validation only evaluated"),
    ))
    invalid = examples(lambda: (
        Invalid("""
            import glob
            import numpy as np
            from model import GPT
            model = GPT()
            for path in sorted(glob.glob("data/fineweb_*.bin")):
                tokens = np.fromfile(path, dtype=np.uint16)
                model(tokens).backward()
            """, lines=7, note="the training glob matches the validation shards too"),
        Invalid(ex("""
            for step in range(100):
                batch = torch.cat([train[step * 1024 : step * 1024 + 1025], val[:1025]])
                model(batch[:-1], batch[1:]).backward()
                opt.step()
            """), lines=at(3), note="validation tokens mixed into the batch"),
        Invalid("""
            import numpy as np
            import torch
            from model import GPT
            model = GPT()
            tokens = torch.from_numpy(np.fromfile("data/fineweb_val_000000.bin", dtype=np.uint16))
            opt = torch.optim.Adam(model.parameters())
            for step in range(1000):
                i = step * 1024
                loss = model(tokens[i : i + 1024], tokens[i + 1 : i + 1025])
                loss.backward()
                opt.step()
            """, lines=10, note="trained on validation data only"),
        Invalid(files={
            "train_gpt.py": "import os\nTRAIN_FILES = os.environ.get('TRAIN_FILES', 'data/fineweb_train_*.bin')\n",
            "README.md": "# Run\n\n```\nTRAIN_FILES=data/fineweb_val_*.bin torchrun train_gpt.py\n```\n",
        }, file="README.md", lines=4, note="the run command points the training files at validation shards"),
        Invalid(files={
            "train_gpt.py": "import os\nDATA = os.environ.get('DATA_PATH', 'data/sp1024')\n",
            "README.md": "# Data\n\n```\nln -s /data/sp1024/fineweb_val_000000.bin /data/valonly/fineweb_train_000000.bin\n```\n",
        }, file="README.md", lines=4, note="a validation shard linked in as a training shard"),
    ))

    def check(self, sub):
        yield from super().check(sub)
        defaults = _path_defaults(sub)
        yield from self._run_commands(sub, defaults)
        yield from self._shell_lines(sub, defaults)

    def _run_commands(self, sub, defaults: dict):
        """A run command that sets a variable the code reads as its training path to validation shards."""
        spec = Spec.from_settings(sub.settings)
        cfg = sub.run_config
        seen = set()
        for variant in cfg.variants:
            for name, setting in variant.settings.items():
                default = defaults.get(name)
                if setting.value is None or default is None or default.value is None \
                        or setting.source.startswith("default") or (name, setting.source) in seen:
                    continue
                val, train, _ = spec.classify_path(setting.value)
                d_val, d_train, _ = spec.classify_path(default.value)
                if val and not train and d_train and not d_val:
                    seen.add((name, setting.source))
                    file, _, line = setting.source.partition(" line ")
                    yield self.report(f"the run command sets {name}={setting.value}, a validation shard pattern, "
                                      f"where the code reads its training files ({default.source})",
                                      file=file or None, line=int(line) if line.isdigit() else None)

    def _shell_lines(self, sub, defaults: dict):
        """README or shell lines that link or copy a validation shard in as a training shard."""
        spec = Spec.from_settings(sub.settings)
        for rel in sorted(p for p in sub.files if p.endswith((".md", ".sh")) and "/" not in p):
            text = sub.text(rel) or ""
            for number, line in enumerate(text.splitlines(), 1):
                for name, value in _ASSIGN.findall(line):
                    # a configuration listing (`TRAIN_FILES=fineweb_val_*.bin`) outside a run command
                    default = defaults.get(name)
                    if default is None or default.value is None:
                        continue
                    val, train, _ = spec.classify_path(value.strip("'\""))
                    d_val, d_train, _ = spec.classify_path(default.value)
                    if val and not train and d_train and not d_val:
                        yield self.report(f"`{name}={value}` points the training files ({default.source}) at "
                                          "validation shards", file=rel, line=number)
                m = _LINK.search(line)
                if not m:
                    continue
                src, dst = m.group("src"), m.group("dst")
                s_val, s_train, _ = spec.classify_path(src)
                d_val, d_train, _ = spec.classify_path(dst.rsplit("/", 1)[-1])
                if s_val and not s_train and d_train and not d_val:
                    yield self.report(f"`{line.strip()[:80]}` puts a validation shard where training reads "
                                      "its shards", file=rel, line=number)


def _path_defaults(sub) -> dict:
    """Variable -> its in-code default (a Setting), also when the default is a path expression
    (`os.environ.get("TRAIN_FILES", os.path.join(root, "fineweb_train_*.bin"))`)."""
    import ast

    from ...facts.index import index_of
    from ...runconfig.model import Setting

    out = dict(sub.run_config.defaults)
    for unit in sub.python_units:
        if unit.tree is None:
            continue
        idx = index_of(unit)
        for call in unit.calls_named(("os.environ.get", "os.getenv")):
            if len(call.args) < 2:
                continue
            name = call.args[0].value if isinstance(call.args[0], ast.Constant) else None
            if not isinstance(name, str) or (name in out and out[name].value is not None):
                continue
            text = idx.resolve_string(call.args[1], idx.scope_containing(call))
            if text:
                out[name] = Setting(name, text, f"default in {unit.label} line {call.lineno}")
    return out


_ASSIGN = re.compile(r"(?<![\w$])([A-Z][A-Z0-9_]*)=(\S+)")
_LINK = re.compile(r"\b(?:ln\s+-\w*s\w*|cp|mv|rsync)\s+(?:-\S+\s+)*(?P<src>\S+)\s+(?P<dst>\S+)")


class ValTokensRescored(DataflowRule):
    """Validation tokens are scored more than once and a later or best score counts.

    Reports a score of tokens that were already scored and then trained on or cached (a second
    pass after adaptation), the best of several scorings of the same tokens (min over passes), and
    a score that reads a table of counts of validation tokens that includes the scored tokens
    themselves (statistics of the whole stream built in a first pass and used by the scoring pass).

    **Why.** Condition 4 (single left-to-right pass): each token is scored exactly once; rescoring
    with a model or cache that has seen the tokens, or best-of-k over passes, reports a number
    that no causal predictor achieves.

    **Example.**
    ```python
    for epoch in range(2):                 # the second epoch rescores adapted-on tokens
        for chunk in chunks:
            total += score(chunk); train(chunk)
    ```

    **Instead.** Make a single scoring pass and report it; do not keep a best over passes.
    """

    id = "GL103"
    name = "val-tokens-rescored"
    facts = frozenset({Fact.DATAFLOW, Fact.NATIVE})
    severity = Severity.ERROR
    message = "validation tokens are scored more than once, with a later or best score reported"
    hint = "make one scoring pass over the validation tokens and report that pass"
    valid = examples(lambda: (
        Valid(ex("""
            total = 0.0
            for i in range(0, val.numel() - 1024, 1024):
                chunk = val[i : i + 1025]
                with torch.inference_mode():
                    total += model(chunk[:-1], chunk[1:]).item()
                model(chunk[:-1], chunk[1:]).backward()
                opt.step()
            """), note="one pass, score before update"),
        Valid(ex("""
            def evaluate(m):
                with torch.no_grad():
                    s = 0.0
                    for i in range(0, val.numel() - 1024, 1024):
                        s += m(val[i : i + 1024], val[i + 1 : i + 1025]).item()
                return s
            for step in range(3000):
                if step % 1000 == 0:
                    print("val", evaluate(model))
                model(train[:-1], train[1:]).backward()
                opt.step()
            print("final", evaluate(model))
            """), note="periodic evaluation while training on training data"),
        Valid(ex("""
            def evaluate(m):
                with torch.no_grad():
                    s = 0.0
                    for i in range(0, val.numel() - 1024, 1024):
                        s += m(val[i : i + 1024], val[i + 1 : i + 1025]).item()
                return s
            print(max(evaluate(model), 1e-9))
            """), note="a clamp is not a best-of"),
        Valid(ex("""
            bigram = torch.zeros(1024, 1024)
            total = 0.0
            with torch.no_grad():
                for i in range(0, val.numel() - 1024, 1024):
                    chunk = val[i : i + 1025]
                    total += model(chunk[:-1], bigram[chunk[:-1]]).item()
                    bigram[chunk[:-1], chunk[1:]] += 1
            """), note="counts updated after each chunk is scored (one pass, score first)"),
    ))
    invalid = examples(lambda: (
        Invalid(ex("""
            for epoch in range(2):
                total = 0.0
                for i in range(0, val.numel() - 1024, 1024):
                    chunk = val[i : i + 1025]
                    with torch.inference_mode():
                        total += model(chunk[:-1], chunk[1:]).item()
                    model(chunk[:-1], chunk[1:]).backward()
                    opt.step()
            print(total)
            """), lines=at(6), note="epochs around score-then-train: epoch 2 rescores"),
        Invalid(ex("""
            def evaluate(m):
                with torch.no_grad():
                    s = 0.0
                    for i in range(0, val.numel() - 1024, 1024):
                        s += m(val[i : i + 1024], val[i + 1 : i + 1025]).item()
                return s
            first = evaluate(model)
            second = evaluate(model)
            print(min(first, second))
            """), lines=at(9), note="best of two passes"),
        Invalid(ex("""
            counts = torch.zeros(1024, 1024)
            with torch.no_grad():
                total = 0.0
                for i in range(0, val.numel() - 1024, 1024):
                    total += model(val[i : i + 1024], val[i + 1 : i + 1025]).item()
                counts.index_add_(0, val[:-1], torch.ones(val.numel() - 1))
                again = 0.0
                for i in range(0, val.numel() - 1024, 1024):
                    again += model(val[i : i + 1024], counts[val[i : i + 1024]]).item()
            print(again)
            """), lines=at(9), note="a second pass after the cache is complete"),
        Invalid(ex("""
            bigram = torch.zeros(1024, 1024)
            for i in range(0, val.numel() - 1024, 1024):
                chunk = val[i : i + 1025]
                bigram[chunk[:-1], chunk[1:]] += 1
            total = 0.0
            with torch.no_grad():
                for i in range(0, val.numel() - 1024, 1024):
                    chunk = val[i : i + 1025]
                    total += model(chunk[:-1], bigram[chunk[:-1]]).item()
            """), lines=at(9), note="counts of the whole stream built first, read by the scoring pass"),
    ))


class SelectionOnValScore(DataflowRule):
    """A seed, checkpoint or hyper-parameter is chosen by validation score inside the script.

    Reports comparisons of validation scores that act (keep a state, a seed, stop training) and
    `min`/`max`/`sorted` with a key computed from validation scores.

    **Why.** Selecting runs on the validation score is out of spirit: the reported number is then
    an optimistic pick, not a fixed procedure's result.

    **Example.**
    ```python
    if val_bpb < best_bpb:
        best_state = copy.deepcopy(model.state_dict())
    ```

    **Instead.** Fix seeds and hyper-parameters in advance and report the last checkpoint.
    """

    id = "GL106"
    name = "selection-on-val-score"
    severity = Severity.WARNING
    message = "a seed, checkpoint or hyper-parameter is selected by validation score"
    hint = "fix seeds and settings in advance and report the final checkpoint's score"
    valid = examples(lambda: (
        Valid(ex("""
            with torch.no_grad():
                s = 0.0
                for i in range(0, val.numel() - 1024, 1024):
                    s += model(val[i : i + 1024], val[i + 1 : i + 1025]).item()
            if s < 2.0:
                print(f"good run: {s}")
            """), note="only logging"),
        Valid(ex("""
            best = 10.0
            for step in range(10):
                loss = model(train[:-1], train[1:])
                if loss.item() < best:
                    best = loss.item()
                    torch.save(model.state_dict(), "best.pt")
                loss.backward()
            """), note="selection on training loss"),
        Valid(ex("""
            with torch.no_grad():
                s = 0.0
                for i in range(0, val.numel() - 1024, 1024):
                    s += model(val[i : i + 1024], val[i + 1 : i + 1025]).item()
            print("val_loss", s)
            """), note="no choice made"),
    ))
    invalid = examples(lambda: (
        Invalid(ex("""
            best, best_seed = 1e9, None
            for seed in (1, 2, 3):
                torch.manual_seed(seed)
                with torch.no_grad():
                    s = 0.0
                    for i in range(0, val.numel() - 1024, 1024):
                        s += model(val[i : i + 1024], val[i + 1 : i + 1025]).item()
                if s < best:
                    best, best_seed = s, seed
            """), lines=at(8), note="seed chosen by validation score"),
        Invalid(ex("""
            import copy
            best = 1e9
            for step in range(3000):
                if step % 500 == 0:
                    with torch.no_grad():
                        s = 0.0
                        for i in range(0, val.numel() - 1024, 1024):
                            s += model(val[i : i + 1024], val[i + 1 : i + 1025]).item()
                    if s < best:
                        best = s
                        snapshot = copy.deepcopy(model.state_dict())
                model(train[:-1], train[1:]).backward()
                opt.step()
            """), lines=at(9), note="checkpoint kept by validation score"),
        Invalid(ex("""
            results = []
            for lr in (1e-3, 3e-3):
                with torch.no_grad():
                    s = 0.0
                    for i in range(0, val.numel() - 1024, 1024):
                        s += model(val[i : i + 1024], val[i + 1 : i + 1025]).item()
                results.append((lr, s))
            chosen = min(results, key=lambda r: r[1])
            """), lines=at(8), note="hyper-parameter chosen by validation score"),
    ))


_CALIBRATION_HOOK = """
        H = {}
        def make_hook(name):
            def hook(module, inputs, output):
                x = inputs[0].flatten(0, -2).float()
                H[name] = H.get(name, 0) + x.T @ x
            return hook
        """


class CalibrationOnValData(DataflowRule):
    """Quantization calibration runs on validation data.

    Reports forward passes over validation data while calibration hooks are registered (a forward
    hook whose body accumulates activation statistics with a matmul-family op, GPTQ-style), and
    activation Gram matrices (`X.T @ X`) computed from validation data.

    **Why.** Calibration fits the quantized weights to the data it sees: on the validation set it
    is training on validation data. Post-training calibration must use training data, inside the
    training time budget.

    **Example.**
    ```python
    handles = [m.register_forward_hook(accumulate_hessian) for m in linears]
    for x in val_batches: model(x)
    ```

    **Instead.** Calibrate on training tokens.
    """

    id = "GL107"
    name = "calibration-on-val-data"
    severity = Severity.ERROR
    message = "quantization calibration uses validation data"
    hint = "calibrate on training tokens (within the training time budget)"
    valid = examples(lambda: (
        Valid(ex(_CALIBRATION_HOOK + """
        handles = [m.register_forward_hook(make_hook(n)) for n, m in model.named_modules()]
        with torch.no_grad():
            for i in range(0, 65536, 1024):
                model(train[i : i + 1024])
        for h in handles:
            h.remove()
        """), note="GPTQ calibration on training data"),
        Valid(ex("""
            stats = []
            handle = model.register_forward_hook(lambda m, i, o: stats.append(o.abs().mean()))
            with torch.no_grad():
                model(val[:1024])
            handle.remove()
            """), note="a logging hook on validation data is not calibration"),
        Valid(ex(_CALIBRATION_HOOK + """
        handles = [m.register_forward_hook(make_hook(n)) for n, m in model.named_modules()]
        with torch.no_grad():
            model(train[:4096])
        for h in handles:
            h.remove()
        with torch.no_grad():
            print(model(val[:-1], val[1:]).item())
        """), note="hooks removed before evaluation"),
    ))
    invalid = examples(lambda: (
        Invalid(ex(_CALIBRATION_HOOK + """
        handles = [m.register_forward_hook(make_hook(n)) for n, m in model.named_modules()]
        with torch.no_grad():
            for i in range(0, 65536, 1024):
                model(val[i : i + 1024])
        for h in handles:
            h.remove()
        """), lines=at(11), note="GPTQ calibration on validation data"),
        Invalid(ex("""
            def calibrate(m, tokens, hook):
                hs = [layer.register_forward_hook(hook) for layer in m.children()]
                with torch.no_grad():
                    m(tokens)
                for h in hs:
                    h.remove()

            def gram(module, inputs, output):
                return torch.matmul(inputs[0].T, inputs[0])

            calibrate(model, val[:8192], gram)
            """), lines=at(4), note="through a helper"),
        Invalid(ex("""
            acts = model.embed(val[:4096]).float()
            hessian = acts.T @ acts
            """), lines=at(2), note="Gram matrix of validation activations"),
    ))


RULES: list[type[Rule]] = [
    ValTrainedBeforeScored, ValDataInTraining, ValTokensRescored, SelectionOnValScore, CalibrationOnValData,
]
