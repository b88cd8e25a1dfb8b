"""GL1xx rules (scoring): what the reported score covers and how its bytes are counted.

GL109 partial evaluation, GL110 validation data in the artifact or the code, GL111 a BPB
denominator that does not come from the tokenizer. Validation data is what the shared dataflow
follows from the validation shard files (golflint/dataflow/), scoring loops and values come from
the shared facts (golflint/facts/): no verdict rests on a function or variable name.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator

from ...dataflow import analyze
from ...facts.declared import Fact
from ...facts.index import index_of, walk
from ...facts.phases import phases_of
from ...facts.values import FixedBound, clocked, loop_of, measured
from ...findings import Finding, Severity
from ..base import Invalid, Rule, Valid, examples

BYTE_TABLE_FILE = re.compile(r"byte", re.IGNORECASE)
FILE_LOADERS = {"numpy.load", "torch.load", "json.load", "numpy.fromfile", "numpy.loadtxt", "pickle.load"}
TOKEN_DTYPES = re.compile(r"(uint16|int16|int32|uint32)")
# A log line stating how many validation tokens the run evaluated: `val_tokens: 47851520`.
LOGGED_EVAL_TOKENS = re.compile(r"\b(?:val|eval)_tokens\s*[:=]\s*(\d[\d,]*)(?![\d.])")
MAX_LOG_LINES = 20_000


def _name(node: ast.AST) -> str:
    """The called API's last name (`sp.id_to_piece` -> `id_to_piece`): library vocabulary only."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _functions(unit) -> Iterator[ast.FunctionDef]:
    for fn in unit.nodes(ast.FunctionDef, ast.AsyncFunctionDef):
        yield fn  # type: ignore[misc]


# -- GL109 ---------------------------------------------------------------------------------------------
_VAL = """
import numpy as np
import torch
from model import GPT
model = GPT()
val = torch.from_numpy(np.fromfile("data/fineweb_val_000000.bin", dtype=np.uint16))
"""


def _ex(body: str) -> str:
    import textwrap

    return _VAL + textwrap.dedent(body).lstrip("\n")


_VAL_LINES = _VAL.count("\n") - 1  # the leading newline is stripped

_FULL_EVAL = _ex("""
    def evaluate(model, tokens, seq_len):
        usable = ((tokens.numel() - 1) // seq_len) * seq_len
        tokens = tokens[: usable + 1]
        total = 0.0
        with torch.no_grad():
            for start in range(0, usable, seq_len):
                x = tokens[start:start + seq_len]
                y = tokens[start + 1:start + seq_len + 1]
                total += model(x, y).item() * seq_len
        return total / usable
    print(evaluate(model, val, 1024))
    """)



# A smoke-test cap: off unless a run sets the switch (GL109 examples, both ways).
_SMOKE_CAP = """
    import os
    import numpy as np
    import torch
    def load_val(path, seq_len):
        tokens = torch.from_numpy(np.fromfile(path, dtype=np.uint16))
        usable = ((tokens.numel() - 1) // seq_len) * seq_len
        if os.environ.get("SMOKE_TEST") == "1":
            usable = min(usable, 1_000_000)
        return tokens[:usable + 1]
    val = load_val("data/fineweb_val_000000.bin", 1024)
    """


_CAPPED_LOAD = """
        import os
        import numpy as np
        import torch
        def load_val(pattern):
            tokens = torch.from_numpy(np.fromfile(pattern, dtype=np.uint16))
            cap = int(os.environ.get("VAL_LIMIT", "0"))
            if cap > 0:
                tokens = tokens[:min(tokens.numel(), cap + 1)]
            return tokens
        val = load_val("data/fineweb_val_000000.bin")
        """


class PartialEvaluation(Rule):
    """The reported score covers less than the whole validation set: validation tokens cut to a
    constant or configured count, a subset of the validation shards, a scoring loop stopped early
    on a step count or by a clock, or a stride larger than the window so tokens are skipped; or a
    train log that states the run evaluated fewer validation tokens than the split holds
    (`eval_tokens=1048576`).

    Validation data is what the dataflow follows from the validation shard files, whatever the
    variables are called; a scoring loop is a loop that accumulates a forward or a loss (the phase
    model). Cutting to a length measured from the data (the baseline trims to a multiple of the
    sequence length), an empty slice that starts an accumulator (`val[:0]`), and a loop that ends
    when its queue of batches ends are not partial. A cut behind a setting is judged under the run
    configuration (a warning when the submitted run leaves it off); a cap off by default is judged at
    the value a run command gives it. The size of the validation split is a rulebook fact
    (`analysis.min_validation_tokens`).

    **Why.** `val_bpb` is defined on the full fixed validation split; a score on a subset is a
    different, noisier number, and easy to cherry-pick.

    **Example.** `val_tokens = val_tokens[:2_000_000]` before the evaluation loop.

    **Instead.** Score every validation token (in chunks, if memory requires), once.
    """

    id = "GL109"
    name = "partial-evaluation"
    facts = frozenset({Fact.CODE, Fact.DATAFLOW, Fact.INDEX, Fact.PHASES, Fact.VALUES})
    severity = Severity.ERROR
    message = "the reported score covers only part of the validation set"
    hint = "evaluate every validation token; chunk the loop instead of truncating the data"
    valid = examples(lambda: (
        Valid(_FULL_EVAL),
        Valid("""
            import glob
            val_files = sorted(glob.glob("./data/fineweb_val_*.bin"))
            train_files = sorted(glob.glob("./data/fineweb_train_*.bin"))[:10]
            """, note="a subset of training shards is fine"),
        Valid(_ex("""
            def evaluate(model, tokens, seq_len, stride):
                total = 0.0
                with torch.no_grad():
                    for start in range(0, tokens.numel() - seq_len, stride):
                        total += model(tokens[start:start + seq_len]).item()
                return total
            print(evaluate(model, val, 1024, 64))
            """), note="a sliding window with a configurable stride"),
        Valid(_ex("""
            def evaluate(model, tokens):
                batches = list(tokens.split(4096))
                n = len(batches)
                total = 0.0
                i = 0
                with torch.no_grad():
                    while True:
                        if i >= n:
                            break
                        total += model(batches[i]).item()
                        i += 1
                return total
            print(evaluate(model, val))
            """), note="a queue that ends when the batches end"),
        Valid(_ex("""
            import time
            def evaluate(model, tokens, seq_len):
                total = 0.0
                with torch.no_grad():
                    for start in range(0, tokens.numel() - seq_len, seq_len):
                        total += model(tokens[start:start + seq_len]).item()
                return total
            opt = torch.optim.AdamW(model.parameters())
            t0 = time.perf_counter()
            step = 0
            while True:
                if step % 100 == 0:
                    print(evaluate(model, val, 1024))
                model(torch.zeros(1024, dtype=torch.long)).backward()
                opt.step()
                step += 1
                if time.perf_counter() - t0 > 600:
                    break
            print(evaluate(model, val, 1024))
            """), note="the training loop stops on the clock; each evaluation it calls scores the whole set"),
        Valid(_ex("""
            seen = val[:0]
            with torch.no_grad():
                for i in range(0, val.numel() - 1024, 1024):
                    seen = torch.cat([seen, val[i:i + 1024]])
            """), note="an empty slice starts an accumulator"),
        Valid(_ex("""
            import os
            def evaluate(model, tokens, seq_len):
                cap = int(os.environ.get("EVAL_TOKEN_CAP", "0"))
                if cap > 0:
                    tokens = tokens[:min(cap, tokens.numel())]
                losses = []
                with torch.no_grad():
                    for start in range(0, tokens.numel() - seq_len, seq_len):
                        window = tokens[start:start + seq_len + 1]
                        losses.append(model(window[:seq_len], window[1:seq_len + 1]))
                return torch.cat(losses).mean()
            print(evaluate(model, val, 1024))
            """), note="a cap that is off unless set (0), and a cut of one window inside the loop"),
        Valid("""
            import os
            import numpy as np
            import torch
            def load_val(pattern, token_limit=0):
                tokens = torch.from_numpy(np.fromfile(pattern, dtype=np.uint16))
                if token_limit > 0:
                    tokens = tokens[:min(tokens.numel(), token_limit + 1)]
                return tokens
            val = load_val("data/fineweb_val_000000.bin", int(os.environ.get("VAL_LIMIT", "0")))
            """, note="a cap at min(measured length, setting + 1) whose setting is off (0) by default"),
        Valid(_SMOKE_CAP, note="a smoke-test cap in a branch no run takes (the switch is unset)"),
    ))
    valid = valid.extended(lambda: (Valid(_CAPPED_LOAD, note="the same cap, which no run command sets"),
             Valid(_FULL_EVAL, files={"train_seed1.log": "seed:1\nval_tokens: 47851520\n"
                                      "final_int8_zlib_roundtrip_exact val_loss:2.0601 val_bpb:1.2169\n"},
                   note="the log states the whole validation set was evaluated")))
    invalid = examples(lambda: (
        Invalid(_SMOKE_CAP, files={"run.sh": "SMOKE_TEST=1 torchrun --nproc_per_node=8 train_gpt.py\n"}, lines=9,
            note="the same cap, in the branch the submitted run command switches on"),
        Invalid(_CAPPED_LOAD, files={"run.sh": "VAL_LIMIT=1048576 torchrun --nproc_per_node=8 train_gpt.py\n"},
                lines=8, note="a cap off by default, which the submitted run command sets to 1M tokens"),
        Invalid(_FULL_EVAL, files={"train_seed1.log": "seed:1\neval_tokens=1048576\n"
                                   "final_int8_zlib_roundtrip_exact val_loss:2.0601 val_bpb:1.2169\n"},
                file="train_seed1.log", lines=2, note="the run's own log says it evaluated a 1M-token slice"),
        Invalid("""
            import torch
            val_tokens = torch.load("data/fineweb_val_tokens.pt")
            val_tokens = val_tokens[:2_000_000]
            """, lines=3),
        Invalid("""
            import glob, os
            VAL_SHARDS = int(os.environ.get("VAL_SHARDS", "1"))
            val_files = sorted(glob.glob("./data/fineweb_val_*.bin"))[:VAL_SHARDS]
            """, lines=3),
        Invalid(_ex("""
            def evaluate(model, tokens, max_eval_steps=50):
                total = 0.0
                with torch.no_grad():
                    for step, batch in enumerate(tokens.split(4096)):
                        if step >= max_eval_steps:
                            break
                        total += model(batch).item()
                return total
            print(evaluate(model, val))
            """), lines=_VAL_LINES + 5),
        Invalid(_ex("""
            def evaluate(model, tokens):
                total = 0.0
                with torch.no_grad():
                    for start in range(0, tokens.numel() - 1024, 4096):
                        total += model(tokens[start:start + 1024]).item()
                return total
            print(evaluate(model, val))
            """), lines=_VAL_LINES + 4, note="a stride of 4096 over 1024-token windows skips three quarters"),
        Invalid(_ex("""
            import time
            def evaluate(model, tokens, budget_s=300.0):
                t0 = time.perf_counter()
                total = 0.0
                with torch.no_grad():
                    for batch in tokens.split(4096):
                        if time.perf_counter() - t0 > budget_s:
                            break
                        total += model(batch).item()
                return total
            print(evaluate(model, val))
            """), lines=_VAL_LINES + 7, note="scoring stopped by a clock"),
        Invalid(_ex("""
            import os
            def mixed_score(model, tokens, seq_len):
                keep = int(os.environ.get("MIX_TOKENS", "4000000"))
                nlls, targets = [], []
                with torch.no_grad():
                    for start in range(0, tokens.numel() - seq_len, seq_len):
                        y = tokens[start + 1:start + seq_len + 1]
                        nlls.append(model(tokens[start:start + seq_len], y))
                        targets.append(y)
                all_nll = torch.cat(nlls)[:keep]
                return all_nll.sum() / all_nll.numel()
            print(mixed_score(model, val, 1024))
            """), lines=_VAL_LINES + 10, note="the windows gathered after the loop, then cut to a configured count"),
        Invalid(_ex("""
            def mixed_score(model, tokens, seq_len, subset=8_000_000):
                n = tokens.numel()
                nll = torch.zeros(n)
                written = torch.zeros(n, dtype=torch.bool)
                with torch.no_grad():
                    for start in range(0, n - seq_len, seq_len):
                        nll[start:start + seq_len] = model(tokens[start:start + seq_len])
                        written[start:start + seq_len] = True
                picked = torch.nonzero(written[:subset]).flatten()
                return nll[picked].mean()
            print(mixed_score(model, val, 1024))
            """), lines=_VAL_LINES + 10, note="positions of a mask cut to a fixed count select what is scored"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        yield from self._logged_coverage(sub)
        # Cuts and skipping windows: the dataflow knows which values hold validation data.
        for verdict in analyze(sub).for_rule(self.id):
            warn = verdict.warning and self.effective_severity == Severity.ERROR
            yield self.report_at(verdict.unit, verdict.line, verdict.message,
                                 severity=Severity.WARNING if warn else None)
        # Early stops: the phase model knows which loops score.
        phases = phases_of(sub)
        for unit in sub.python_units:
            if unit.tree is None:
                continue
            idx = index_of(unit)
            for node in unit.nodes(ast.Break):
                found = self._early_break(phases, unit, idx, node)
                if found:
                    yield self.report_at(unit, found[0], found[1])

    def _logged_coverage(self, sub) -> Iterator[Finding]:
        """A train log that states how many validation tokens the run evaluated
        (`val_tokens: 40540160`, `eval_tokens=1048576`) and states fewer than the validation
        split holds (`analysis.min_validation_tokens`): the run says itself that its score
        covers a slice. One finding per log, at the first such line."""
        least = int(sub.settings.get("analysis.min_validation_tokens", 30_000_000))
        for rel in sub.log_files:
            text = sub.text(rel) or ""
            if "_tokens" not in text:
                continue  # the pattern needs it: most logs are skipped without a line split
            for number, line in enumerate(text.splitlines()[:MAX_LOG_LINES], 1):
                m = LOGGED_EVAL_TOKENS.search(line) if "_tokens" in line else None
                if m is None:
                    continue
                count = int(m.group(1).replace(",", ""))
                if 0 < count < least:
                    yield self.report(f"{rel} reports `{m.group(0).strip()}`: the run evaluated {count:,} "
                                      f"validation tokens, fewer than the validation set holds (at least "
                                      f"{least:,}), so its score covers only a slice", file=rel, line=number)
                    break

    @staticmethod
    def _early_break(phases, unit, idx, brk: ast.Break) -> tuple[int, str] | None:
        guard = idx.parents.get(id(brk))
        if not isinstance(guard, ast.If) or brk not in guard.body:
            return None
        loop = loop_of(idx, brk)
        if loop is None or not phases.scoring_loop(unit, loop) or _whole_passes_only(phases, unit, loop):
            return None
        test = guard.test
        if clocked(idx, test):
            return guard.lineno, (f"the scoring loop stops on a clock (`if {ast.unparse(test)[:50]}: break`): "
                                  "the score covers only the tokens scored before time ran out")
        if measured(idx, test):
            return None  # the loop ends when the data ends
        fixed = FixedBound(idx)
        for cmp in (n for n in walk(test) if isinstance(n, ast.Compare)):
            if not any(isinstance(op, (ast.Gt, ast.GtE, ast.Eq)) for op in cmp.ops):
                continue
            operands = [cmp.left, *cmp.comparators]
            if any(fixed(o)[0] for o in operands) and not all(fixed(o)[0] for o in operands):
                return guard.lineno, (f"the scoring loop stops early (`if {ast.unparse(test)[:50]}: break`): "
                                      "the score covers only the first batches of the validation set")
        return None


def _whole_passes_only(phases, unit, loop: ast.AST) -> bool:
    """Does the loop score only by calling a scoring function with the same arguments every time
    (a training loop that evaluates the whole validation set every N steps)? Then a stop ends
    training, not a scoring pass. A loop that scores its own pieces accumulates a forward itself or
    passes the scoring function something that changes per iteration."""
    assigned = {n.id for n in walk(loop) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    scoring_calls = [n for n in walk(loop) if isinstance(n, ast.Call)
                     and any(id(c) in phases.scoring for _, c in phases.resolve_call(unit, n))]
    if not scoring_calls:
        return False      # it accumulates a forward itself
    for call in scoring_calls:
        for arg in [*call.args, *(k.value for k in call.keywords)]:
            if any(isinstance(n, ast.Name) and n.id in assigned for n in walk(arg)):
                return False
    # and it trains (a step here or a call of a training function): the training loop
    return any(phases.is_training_step(unit, n) or (isinstance(n, ast.Call) and any(
        id(c) in phases.training for _, c in phases.resolve_call(unit, n))) for n in walk(loop))


# -- GL110 ---------------------------------------------------------------------------------------------
class ValidationDataInArtifact(Rule):
    """Validation tokens, or tables built from them, are written into the artifact (saved with the
    model, registered as buffers or parameters), or token data is embedded in the code as a literal.

    The same answers read back at evaluation are caught by what the code does with them: tokens
    read from a file the submission carries (not a validation shard), cut by position, compared
    with the scored targets, where the comparison changes the loss or the score (positions that
    match cost nothing). A mask against a fixed id, or a stored table looked up by token, is not that.

    Writing validation-derived data into the artifact is an error. A large literal decoded into an
    integer token array inside the code is a warning: golflint cannot tell where it came from, a
    reviewer must.

    **Why.** The rules forbid a "paid prefix": validation text compressed into the 16 MB so the
    model can look it up instead of predicting it. Any validation-derived table in the artifact
    leaks the answers.

    **Example.** `state["prefix"] = val_tokens[:500_000]` before `torch.save(state, "final_model.pt")`.

    **Instead.** Put only trained weights in the artifact; learn from training data only.
    """

    id = "GL110"
    name = "validation-data-in-artifact"
    facts = frozenset({Fact.CODE, Fact.DATAFLOW})
    severity = Severity.ERROR
    message = "validation data is written into the artifact or embedded in the code"
    hint = "keep validation tokens and anything computed from them out of the saved artifact and the code"
    valid = examples(lambda: (
        Valid(_ex("""
            def export(model, path):
                torch.save({"model": model.state_dict(), "step": 100}, path)
            export(model, "final_model.pt")
            """)),
        Valid(_ex("""
            train = torch.from_numpy(np.fromfile("data/fineweb_train_000000.bin", dtype=np.uint16))
            class Prior(torch.nn.Module):
                def __init__(self, tokens):
                    super().__init__()
                    self.register_buffer("unigram", torch.bincount(tokens, minlength=1024).float())
            prior = Prior(train)
            """), note="tables from training data are fine"),
        Valid(_ex("""
            class Lut(torch.nn.Module):
                def __init__(self, sp):
                    super().__init__()
                    table = torch.tensor([len(sp.id_to_piece(i)) for i in range(1024)])
                    self.register_buffer("piece_bytes", table, persistent=False)
            """), note="a tokenizer table, and not saved (persistent=False)"),
        Valid("""
            import numpy as np, base64
            LUT = np.frombuffer(base64.b85decode("VPRomVPRom"), dtype=np.float32)
            """, note="a short float table is not token data"),
        Valid(_ex("""
            piece_bytes = torch.from_numpy(np.load("piece_bytes.npy"))
            def evaluate(model, tokens, seq_len):
                total, n_bytes = 0.0, 0.0
                with torch.no_grad():
                    for start in range(0, tokens.numel() - seq_len, seq_len):
                        x = tokens[start:start + seq_len]
                        y = tokens[start + 1:start + seq_len + 1]
                        nll = torch.nn.functional.cross_entropy(model(x), y, reduction="none")
                        nll = nll * (y != 0).float()
                        total += nll.sum().item()
                        n_bytes += (piece_bytes[y] == 0).sum().item()
                return total / n_bytes
            print(evaluate(model, val, 1024))
            """), note="a mask against a fixed id, and a stored table looked up by token: no stored answers"),
        Valid(_ex("""
            def evaluate(model, tokens, seq_len):
                total = 0.0
                with torch.no_grad():
                    for start in range(0, tokens.numel() - seq_len, seq_len):
                        total += model(tokens[start:start + seq_len], tokens[start + 1:start + seq_len + 1]).item()
                return total
            score = evaluate(model, val, 1024)
            torch.save({"model": model.state_dict(), "val_loss": score}, "checkpoint.pt")
            """), note="a checkpoint that records the validation score: a number, not the tokens"),
        Valid(_ex("""
            import torch.nn.functional as F
            def claim_batch(path):
                with open(path, "r+b") as f:
                    index = int.from_bytes(f.read(4), "little")
                    f.seek(0)
                    f.write((index + 1).to_bytes(4, "little"))
                return index
            def evaluate(model, tokens, hints, seq_len):
                total = 0.0
                with torch.no_grad():
                    while True:
                        start = claim_batch("queue.bin") * seq_len
                        if start + seq_len + 1 > tokens.numel():
                            break
                        window = tokens[start:start + seq_len + 1]
                        x, y = window[:-1], window[1:]
                        nll = F.cross_entropy(model(x), y, reduction="none")
                        hit = (y == hints[start:start + seq_len]).float()
                        total += (nll - 0.5 * hit).sum().item()
                return total
            print(evaluate(model, val, torch.zeros_like(val), 1024))
            """), note="a batch counter read from a shared file (one integer), not stored tokens"),
    ))
    invalid = examples(lambda: (
        Invalid(_ex("""
            def export(model, tokens):
                state = model.state_dict()
                state["prefix"] = tokens[:500_000]
                torch.save(state, "final_model.pt")
            export(model, val)
            """), lines=_VAL_LINES + 4),
        Invalid(_ex("""
            def attach(model, tokens):
                model.register_buffer("bigram", torch.bincount(tokens[:-1] * 1024 + tokens[1:]))
            attach(model, val)
            """), lines=_VAL_LINES + 2),
        Invalid(_ex("""
            def export(model, tokens):
                torch.save({"model": model.state_dict(), "cache": tokens}, "final_model.pt")
            export(model, val)
            """), lines=_VAL_LINES + 2),
        Invalid(_ex("""
            counts = torch.zeros(1024, 1024)
            for i in range(val.numel() - 1):
                counts[val[i], val[i + 1]] += 1
            np.save("bigram_table.npy", counts.numpy())
            """), lines=_VAL_LINES + 4, note="a count table filled from validation tokens, saved as a side file"),
        Invalid(_ex("""
            import lzma
            def load_blob(path):
                raw = lzma.decompress(open(path, "rb").read())
                return torch.from_numpy(np.frombuffer(raw, dtype=np.uint16).astype(np.int64))
            def evaluate(model, tokens, stored, seq_len):
                total = 0.0
                with torch.no_grad():
                    for start in range(0, tokens.numel() - seq_len, seq_len):
                        x = tokens[start:start + seq_len]
                        y = tokens[start + 1:start + seq_len + 1]
                        nll = torch.nn.functional.cross_entropy(model(x), y, reduction="none")
                        known = stored[start:start + seq_len] == y
                        nll = nll * (~known).float()
                        total += nll.sum().item()
                return total
            print(evaluate(model, val, load_blob("extra_tokens.xz"), 1024))
            """), lines=_VAL_LINES + 12, note="stored tokens compared with the targets: matches cost nothing"),
        Invalid(_ex("""
            def mask_known(nll, y, stored, pos):
                nll[:] *= (stored[pos:pos + y.numel()] != y).float()
            def evaluate(model, tokens, stored, seq_len):
                total = 0.0
                with torch.no_grad():
                    for start in range(0, tokens.numel() - seq_len, seq_len):
                        x = tokens[start:start + seq_len]
                        y = tokens[start + 1:start + seq_len + 1]
                        nll = torch.nn.functional.cross_entropy(model(x), y, reduction="none")
                        mask_known(nll, y, stored, start)
                        total += nll.sum().item()
                return total
            blob = torch.load("side_tokens.pt")
            print(evaluate(model, val, blob, 1024))
            """), lines=_VAL_LINES + 2, note="the loss zeroed in place by a helper"),
        Invalid("import numpy as np, base64\nPREFIX = np.frombuffer(base64.b85decode('" + "VPRom" * 4000 + "'), "
                "dtype=np.uint16)\n", lines=2, note="token data embedded in the code: warning"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        # What ships: the dataflow follows validation tokens (and tables filled from them) into
        # saved files, registered buffers and parameters, whatever the variables are called.
        for verdict in analyze(sub).for_rule(self.id):
            yield self.report_at(verdict.unit, verdict.line, verdict.message)
        for unit in sub.python_units:
            for call in unit.calls_named(("numpy.frombuffer", "torch.frombuffer")):
                yield from self._literal_tokens(unit, call)  # type: ignore[arg-type]

    def _literal_tokens(self, unit, call: ast.Call) -> Iterator[Finding]:
        """A large literal decoded into an integer token array: possibly validation text."""
        name = unit.imports.call_name(call) or ""
        if name in ("numpy.frombuffer", "torch.frombuffer") and call.args:
            dtype = next((k.value for k in call.keywords if k.arg == "dtype"), None)
            literal = max((len(n.value) for n in ast.walk(call.args[0])
                           if isinstance(n, ast.Constant) and isinstance(n.value, (str, bytes))), default=0)
            if dtype is not None and TOKEN_DTYPES.search(ast.unparse(dtype)) and literal >= 16_384:
                yield self.report_at(unit, call.lineno, f"a {literal:,}-character literal is decoded into an "
                                     f"integer token array (`{ast.unparse(dtype)}`) in the code: if it holds "
                                     "validation text, that is a paid prefix", severity=Severity.WARNING)


# -- GL111 ---------------------------------------------------------------------------------------------
_BYTE_LUT = """
import numpy as np

def build_byte_lut(sp, vocab_size):
    base_bytes = np.zeros(vocab_size, dtype=np.int16)
    for i in range(vocab_size):
        if sp.is_control(i) or sp.is_unknown(i):
            continue
        if sp.is_byte(i):
            base_bytes[i] = 1
            continue
        piece = sp.id_to_piece(i)
        base_bytes[i] = len(piece.lstrip("\\u2581").encode("utf-8"))
    return base_bytes
"""


MAX_TOKENIZER_BYTES = 64 * 1024 * 1024
_BYTE_PIECE, _SPACE_MARKER = 6, "\u2581"


def _varint(data: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        if i >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def _fields(data: bytes):
    """(field number, wire type, value) of one protobuf message; length-delimited values as bytes."""
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 2:
            size, i = _varint(data, i)
            value, i = data[i:i + size], i + size
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire}")
        if i > len(data):
            raise ValueError("truncated field")
        yield number, wire, value


# Pieces by the sha256 of the model file: two rules read each shipped tokenizer, and one tokenizer
# file recurs across folders (a fork's records). Keyed by content, so kept across folders; bounded.
_PIECES: OrderedDict[str, list[tuple[str, int]] | None] = OrderedDict()
_PIECES_MAX = 8
_PIECES_MAX_BYTES = 4 * 1024 * 1024


def sentencepiece_pieces(data: bytes) -> list[tuple[str, int]] | None:
    """(piece, type) of a SentencePiece model file (ModelProto field 1: SentencePiece{1: piece,
    3: type}), read as data; None when the bytes are not such a model. Do not modify the list."""
    key = hashlib.sha256(data).hexdigest()
    if key in _PIECES:
        _PIECES.move_to_end(key)
        return _PIECES[key]
    pieces = _read_pieces(data)
    if len(data) > _PIECES_MAX_BYTES:
        return pieces  # memory stays flat: a huge tokenizer is read again instead
    _PIECES[key] = pieces
    while len(_PIECES) > _PIECES_MAX:
        _PIECES.popitem(last=False)
    return pieces


def _read_pieces(data: bytes) -> list[tuple[str, int]] | None:
    try:
        pieces = []
        for number, wire, value in _fields(data):
            if number != 1 or wire != 2:
                continue
            piece, kind = "", 1
            for n, w, v in _fields(value):
                if n == 1 and w == 2:
                    piece = v.decode("utf-8")
                elif n == 3 and w == 0:
                    kind = v
            pieces.append((piece, kind))
        return pieces or None
    except (ValueError, UnicodeDecodeError):
        return None


def _example_model(pieces: list[str]) -> bytes:
    """A SentencePiece model file for the embedded examples: these normal pieces plus 256 byte
    pieces (ModelProto field 1, each a SentencePiece with its piece and type)."""
    def field(number: int, payload: bytes) -> bytes:
        return bytes([number << 3 | 2, len(payload)]) + payload if len(payload) < 128 else b""

    body = b""
    for text, kind in [("<unk>", 2), *((p, 1) for p in pieces), *((f"<0x{b:02X}>", _BYTE_PIECE) for b in range(256))]:
        body += field(1, field(1, text.encode("utf-8")) + bytes([3 << 3, kind]))
    return body


def _sentinel_tokenizer() -> dict[str, bytes]:
    """A tokenizer model whose pieces include case sentinels (private-use characters)."""
    return {"tok.model": _example_model(["\u2581", "\u2581the", "ing", "\ue001", "\ue002"])}


_PIECE_BYTES = """
        import numpy as np
        import torch

        def piece_bytes(sp, vocab_size):
            table = np.zeros(vocab_size, dtype=np.int64)
            for i in range(vocab_size):
                if sp.is_control(i) or sp.is_unknown(i):
                    continue
                if sp.is_byte(i):
                    table[i] = 1
                    continue
                table[i] = len(sp.id_to_piece(i).lstrip("\\u2581").encode("utf-8"))
            return torch.tensor(table)
        """


class BpbDenominatorNotFromTokenizer(Rule):
    """The bits-per-byte denominator is not derived from the tokenizer and the scored tokens: bits
    per token turned into bits per byte by a fixed ratio (a constant or a setting between 1.5 and
    10 bytes per token, also times the token count; error), a byte table read from a side file
    (warning: `golflint verify` recomputes it), byte-fallback pieces (`<0x41>`)
    counted by the length of their text form instead of as one byte, a per-piece byte table
    stored in a data file (`np.load(meta)["base_bytes"]`: error, nothing ties it to the
    tokenizer), the leading-space marker
    counted as its 3 UTF-8 bytes, or the marker's space counted in the base table and flagged for
    the evaluation to add again (errors). Structure decides, never variable names.

    **Why.** BPB = bits per token × tokens per byte. A denominator that is guessed, tuned, or
    counted wrong moves the score without changing the model; tokenizer changes get the closest
    review for exactly this reason.

    **Example.** `val_bpb = val_loss / math.log(2) / 4.1` with 4.1 "bytes per token".

    **Instead.** Count each scored token's bytes from its SentencePiece piece, as the baseline does:
    byte pieces count 1, a leading "▁" counts one space unless the previous token is a boundary.
    """

    id = "GL111"
    name = "bpb-denominator-not-from-tokenizer"
    facts = frozenset({Fact.CODE, Fact.INDEX, Fact.VALUES})
    severity = Severity.ERROR
    message = "the BPB denominator is not derived from the tokenizer and the scored tokens"
    hint = "count bytes per scored token from the SentencePiece pieces (byte pieces = 1), as the baseline does"
    valid = examples(lambda: (
        Valid(_BYTE_LUT),
        Valid("""
            import math
            def bpb(loss_sum, token_count, byte_count):
                return (loss_sum / token_count) / math.log(2) * (token_count / byte_count)
            """),
        Valid("""
            import numpy as np
            weights = np.load("final_model_bytes_unused.npz")["w"] if False else None
            MAX_BYTES_PER_STEP = 10
            """, note="no bytes-per-token constant feeding a score"),
        Valid(_BYTE_LUT, files={"tok.model": _example_model(["\u2581", "\u2581the", "ing"])},
              note="a tokenizer with a standalone space piece"),
    ))
    valid = valid.extended(lambda: (Valid(_PIECE_BYTES + """
        def count_bytes(targets, table, sidecar=None):
            if sidecar is not None:
                total = sidecar.sum()
            else:
                total = table[targets].sum()
            return total
        import sentencepiece as spm
        sp = spm.SentencePieceProcessor(model_file="tok.model")
        val = np.fromfile("data/fineweb_val_000000.bin", dtype=np.uint16)
        print(count_bytes(val, piece_bytes(sp, 1024)))
        """, files=_sentinel_tokenizer(), note="case sentinels in the tokenizer; the piece table is only the "
                                              "fallback when no byte sidecar is loaded"),))
    invalid = examples(lambda: (
        Invalid(_PIECE_BYTES + """
            def count_bytes(targets, table):
                total = 0
                for t in targets:
                    total += table[t]
                return total
            import sentencepiece as spm
            sp = spm.SentencePieceProcessor(model_file="tok.model")
            val = np.fromfile("data/fineweb_val_000000.bin", dtype=np.uint16)
            print(count_bytes(val, piece_bytes(sp, 1024)))
            """, files=_sentinel_tokenizer(), lines=18,
                note="case sentinels in the tokenizer counted by their 3 UTF-8 bytes in the denominator"),
        Invalid("""
            import math
            BYTES_PER_TOKEN = 4.1
            def bpb(val_loss):
                return val_loss / math.log(2) / BYTES_PER_TOKEN
            """, lines=4),
        Invalid("""
            import math, os
            RATIO = float(os.environ.get("RATIO", "3.9"))
            def bpb(loss_sum, n_tokens):
                return loss_sum / math.log(2) / (n_tokens * RATIO)
            """, lines=4, note="a configured ratio times the token count"),
        Invalid("""
            import math
            def report(val_loss):
                val_bpb = val_loss / math.log(2) / 3.95
                print(f"val_bpb:{val_bpb:.4f}")
            """, lines=3),
        Invalid("""
            import numpy as np
            token_bytes = np.load("token_bytes.npy")
            """, lines=2, note="side table: warning"),
        Invalid("""
            import numpy as np
            def load_tables(path):
                with np.load(path) as meta:
                    return meta["piece_bytes"], meta["leading_space"]
            """, lines=4, note="a per-piece byte table stored in a metadata file"),
        Invalid(_BYTE_LUT, files={"tok.model": _example_model(["\u2581the", "\u2581a", "ing"])},
                note="byte fallback and no standalone space piece: unmerged spaces count 3 bytes"),
        Invalid("""
            import numpy as np
            def build_byte_lut(sp, vocab_size):
                lut = np.zeros(vocab_size, dtype=np.int16)
                for i in range(vocab_size):
                    lut[i] = len(sp.id_to_piece(i).encode("utf-8"))
                return lut
            """, lines=5, note="byte-fallback pieces counted as 6 bytes"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        for unit in sub.python_units:
            yield from self._constants(unit)
            yield from self._side_tables(unit)
            yield from self._byte_pieces(unit)
        yield from self._no_space_piece(sub)
        yield from self._sentinel_bytes(sub)

    def _sentinel_bytes(self, sub) -> Iterator[Finding]:
        """Case-operation sentinels (CaseOps): pieces made of private-use characters that a text
        transform inserts (capitalize the next word, ...). They are no bytes of the original text,
        so the BPB denominator must be the raw text's bytes (a per-token byte sidecar written when
        the text was transformed), never the pieces' UTF-8 length, where each sentinel counts 3.
        A per-piece byte table that counts them by their text may serve only as the fallback
        branch of an `if`/`else` (no sidecar); looked up unconditionally, it is the denominator."""
        sentinels = _sentinel_pieces(sub)
        if not sentinels:
            return
        shown = ", ".join(f"U+{ord(p[0]):04X}" for p in sentinels[:4]) + (", ..." if len(sentinels) > 4 else "")
        for unit in sub.python_units:
            if unit.tree is None:
                continue
            for site, fn in _piece_table_lookups(unit):
                yield self.report_at(
                    unit, site.lineno,
                    f"`{ast.unparse(index_of(unit).statement_of(site))[:60]}` counts each scored token's bytes from its "
                    f"piece text (table built by {fn}), and the tokenizer's case-operation sentinel pieces "
                    f"({shown}) are no text: each counts its 3 UTF-8 bytes; charge BPB against the raw text's "
                    "bytes (the byte sidecar), as the other evaluation path does")

    def _no_space_piece(self, sub) -> Iterator[Finding]:
        """A shipped tokenizer with byte fallback but no standalone `▁` piece, measured by a byte
        table that counts each byte piece as 1: a space it cannot merge becomes the 3 byte pieces
        of `▁`'s UTF-8 form, so it counts 3 bytes instead of 1."""
        counted = any(self._counts_byte_pieces(u) for u in sub.python_units)
        if not counted:
            return
        for rel in sub.glob(["*.model"], top_level_only=False):
            size = sub.size(rel)
            if size is None or size > MAX_TOKENIZER_BYTES:
                continue
            data = sub.read(rel).data
            pieces = sentencepiece_pieces(data) if isinstance(data, bytes) else None
            if not pieces:
                continue
            if any(kind == _BYTE_PIECE for _, kind in pieces) and not any(p == _SPACE_MARKER for p, _ in pieces):
                yield self.report(f"the tokenizer `{rel}` has byte fallback but no standalone `\u2581` piece, and "
                                  "the byte table counts each byte piece as 1: a space it cannot merge is "
                                  "encoded as the 3 byte pieces of `\u2581` and counts 3 bytes instead of 1",
                                  file=rel)

    @staticmethod
    def _counts_byte_pieces(unit) -> bool:
        """Does the code build a byte table from the tokenizer's pieces, byte pieces as 1?"""
        return unit.tree is not None and any(
            isinstance(c, ast.Call) and _name(c.func) in ("is_byte", "IsByte") for c in unit.nodes(ast.Call))

    def _constants(self, unit) -> Iterator[Finding]:
        """Bits (a loss divided by ln 2) turned into bits per byte by a fixed number: a division by
        a constant or a setting between 1.5 and 10 (bytes per token), or a multiplication by one
        between 0.1 and 0.67 (tokens per byte). Structure decides: what the operands are bound to."""
        if unit.tree is None:
            return
        idx = index_of(unit)
        fixed = FixedBound(idx)
        seen: set[int] = set()
        for node in unit.nodes(ast.BinOp):
            if not isinstance(node.op, (ast.Div, ast.Mult)):  # type: ignore[attr-defined]
                continue
            right = node.right  # type: ignore[attr-defined]
            # `/ 4.1`, or `/ (token_count * 4.1)`: one factor of the divisor is the fixed ratio
            factors = [right.left, right.right] if isinstance(node.op, ast.Div) and isinstance(right, ast.BinOp) \
                and isinstance(right.op, ast.Mult) else [right]  # type: ignore[attr-defined]
            ratio = None
            for factor in factors:
                ok, value = fixed(factor)
                if ok and value:
                    r = value if isinstance(node.op, ast.Div) else 1 / value  # type: ignore[attr-defined]
                    if 1.5 <= r <= 10.0:
                        ratio = r
            if ratio is None:
                continue
            scope = idx.scope_containing(node)
            if not any(self._ln2(idx, n) for n in scope.closure(node.left)):  # type: ignore[attr-defined]
                continue
            if node.lineno in seen:  # type: ignore[attr-defined]
                continue
            seen.add(node.lineno)  # type: ignore[attr-defined]
            yield self.report_at(unit, node.lineno,  # type: ignore[attr-defined]
                                 f"`{ast.unparse(node)[:60]}` turns bits per token into bits per byte with "
                                 f"the fixed ratio {ratio:g} bytes per token instead of counting the scored "
                                 "tokens' bytes")

    @staticmethod
    def _ln2(idx, node: ast.AST) -> bool:
        """`math.log(2)` / `np.log(2.0)` / `torch.log(...)` of 2 / the constant 0.6931..."""
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            return abs(node.value - 0.6931471805599453) < 1e-4
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = idx.imports.call_name(node) or ""
            return name.rsplit(".", 1)[-1] == "log" and node.args[0].value in (2, 2.0)
        return False

    def _side_tables(self, unit) -> Iterator[Finding]:
        for call in unit.calls_named(FILE_LOADERS):
            if not call.args:  # type: ignore[attr-defined]
                continue
            arg = call.args[0]  # type: ignore[attr-defined]
            if isinstance(arg, ast.Call) and _name(arg.func) == "open" and arg.args:
                arg = arg.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and BYTE_TABLE_FILE.search(arg.value) \
                    and "model" not in arg.value:
                yield self.report_at(unit, call.lineno, f"the byte counts come from a side file "  # type: ignore[attr-defined]
                                     f"(`{arg.value}`), not from the tokenizer: `golflint verify` must recompute "
                                     "them", severity=Severity.WARNING)
        # `with np.load(meta) as data: table = data["base_bytes"]`: a byte table stored in a file
        if unit.tree is None:
            return
        idx = index_of(unit)
        for node in unit.nodes(ast.Subscript):
            key = node.slice  # type: ignore[attr-defined]
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str) and BYTE_TABLE_FILE.search(key.value)):
                continue
            scope = idx.scope_containing(node)
            if any(isinstance(n, ast.Call) and (unit.imports.call_name(n) or "") in FILE_LOADERS
                   for n in scope.closure(node.value)):  # type: ignore[attr-defined]
                yield self.report_at(unit, node.lineno, f"the byte counts come from a file's `{key.value}` "  # type: ignore[attr-defined]
                                     "table, not from the tokenizer: the denominator is whatever the file says "
                                     "(a byte-fallback piece stored as 3 bytes counts 3)")

    def _byte_pieces(self, unit) -> Iterator[Finding]:
        # Walk only the functions that call id_to_piece (found from the shared index), not all of them.
        piece_lines = [c.lineno for c in unit.nodes(ast.Call) if _name(c.func) == "id_to_piece"]  # type: ignore[attr-defined]
        if not piece_lines or unit.tree is None:
            return
        idx = index_of(unit)
        for fn in _functions(unit):
            if not any(fn.lineno <= line <= (fn.end_lineno or fn.lineno) for line in piece_lines):
                continue
            calls = [n for n in ast.walk(fn) if isinstance(n, ast.Call)]
            if not any(_name(c.func) == "id_to_piece" for c in calls):
                continue
            yield from self._double_space(unit, fn)
            handles_bytes = any(_name(c.func) in ("is_byte", "IsByte") for c in calls) or "<0x" in ast.unparse(fn)
            handles_marker = any(isinstance(n, ast.Constant) and isinstance(n.value, str) and "\u2581" in n.value
                                 for n in ast.walk(fn))
            if handles_bytes and handles_marker:
                continue
            scope = idx.scope_for(fn)
            for c in calls:
                if _name(c.func) == "len" and c.args and self._piece_text(scope, c.args[0]):
                    if not handles_bytes:
                        why = ("so byte-fallback pieces (`<0x41>`) count 6 bytes instead of 1; check "
                               "`sp.is_byte(i)` first")
                    else:
                        why = ("including the leading-space marker `\u2581`, which then counts as its 3 UTF-8 "
                               "bytes instead of one space; strip it and count the space only after a "
                               "non-boundary token")
                    yield self.report_at(unit, c.lineno, f"{fn.name}() counts each piece by the length of its "
                                         f"text, {why}")
                    break

    @staticmethod
    def _piece_text(scope, node: ast.AST) -> bool:
        """Is `node` (through its definitions) the text of a piece (`sp.id_to_piece(i)`)?"""
        return any(isinstance(n, ast.Call) and _name(n.func) == "id_to_piece" for n in scope.closure(node))

    def _double_space(self, unit, fn: ast.AST) -> Iterator[Finding]:
        """For pieces that start with the marker, the base count already adds the space (`+ 1`) and
        a leading-space flag is set too: the evaluation adds the flag's byte a second time."""
        for node in ast.walk(fn):
            if not (isinstance(node, ast.If) and any(
                    isinstance(n, ast.Call) and _name(n.func) == "startswith" and any(
                        isinstance(a, ast.Constant) and a.value == "\u2581" for a in n.args)
                    for n in ast.walk(node.test))):
                continue
            flag = counted = None
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Subscript):
                    value = stmt.value
                    if isinstance(value, ast.Constant) and value.value in (True, 1):
                        flag = stmt
                    elif isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add) and any(
                            isinstance(n, ast.Call) and _name(n.func) == "len" for n in ast.walk(value)) and any(
                            isinstance(n, ast.Constant) and n.value == 1 for n in (value.left, value.right)):
                        counted = stmt
            if flag is not None and counted is not None:
                yield self.report_at(unit, counted.lineno,
                                     f"{getattr(fn, 'name', '?')}() counts the leading space of marker pieces in "
                                     f"the base bytes (`{ast.unparse(counted)[:50]}`) and also flags it "
                                     f"(`{ast.unparse(flag)[:40]}`), which the evaluation adds again: spaces "
                                     "count twice")


_PRIVATE_USE = (0xE000, 0xF8FF)


def _private_code(code: int) -> bool:
    return _PRIVATE_USE[0] <= code <= _PRIVATE_USE[1]


def _private_use(text: str) -> bool:
    return bool(text) and all(_private_code(ord(c)) for c in text)


def _sentinel_pieces(sub) -> list[str]:
    """Pieces of a shipped SentencePiece model made only of private-use characters: symbols a
    text transform inserted, standing for no bytes of the original text."""
    out: list[str] = []
    for rel in sub.glob(["*.model"], top_level_only=False):
        size = sub.size(rel)
        if size is None or size > MAX_TOKENIZER_BYTES:
            continue
        data = sub.read(rel).data
        pieces = sentencepiece_pieces(data) if isinstance(data, bytes) else None
        for piece, kind in pieces or ():
            if kind != _BYTE_PIECE and _private_use(piece) and piece not in out:
                out.append(piece)
    return out


def _counts_piece_text(fn: ast.AST) -> bool:
    """Does the function measure or encode the text of `id_to_piece` results, with no special
    case for private-use characters (a constant holding one, or a code point in their range)?"""
    calls = [n for n in ast.walk(fn) if isinstance(n, ast.Call)]
    if not any(_name(c.func) == "id_to_piece" for c in calls):
        return False
    if not any(_name(c.func) == "encode" for c in calls):
        return False
    for n in ast.walk(fn):
        if isinstance(n, ast.Constant):
            if isinstance(n.value, str) and any(_private_code(ord(c)) for c in n.value):
                return False
            if isinstance(n.value, int) and not isinstance(n.value, bool) \
                    and _private_code(n.value):
                return False
    return True


def _mentions(node: ast.AST, names: set[str], attrs: set[str]) -> bool:
    if not names and not attrs:
        return False  # nothing to look for: no walk (asked of every argument of every call)
    return any(isinstance(n, ast.Name) and n.id in names or isinstance(n, ast.Attribute) and n.attr in attrs
               for n in ast.walk(node))


def _piece_table_lookups(unit) -> Iterator[tuple[ast.Subscript, str]]:
    """Lookups of a piece-text byte table that are not the fallback branch of an if/else: the
    table is what the builders return, followed through assignments (variables, attributes) and
    into the parameters of the functions it is passed to (a few rounds)."""
    idx = index_of(unit)
    # a builder calls `id_to_piece`: only the functions around such a call are walked
    around: set[int] = set()
    for call in unit.nodes(ast.Call):
        if _name(call.func) == "id_to_piece":  # type: ignore[attr-defined]
            node = unit.parents.get(id(call))
            while node is not None:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    around.add(id(node))
                node = unit.parents.get(id(node))
    if not around:
        return
    functions = {fn.name: fn for fn in _functions(unit)}
    builders = {name for name, fn in functions.items() if id(fn) in around and _counts_piece_text(fn)}
    if not builders:
        return
    tables = {name: _byte_table_positions(functions[name]) for name in builders}
    attrs: set[str] = set()
    local: dict[str, set[str]] = {}        # function name ("" for module level) -> variable names
    for call in unit.nodes(ast.Call):
        positions = tables.get(_name(call.func))  # type: ignore[attr-defined]
        if not positions:
            continue
        stmt = idx.statement_of(call)
        if not isinstance(stmt, ast.Assign):
            continue
        owner = getattr(idx.enclosing_function(stmt), "name", "")
        for target in stmt.targets:
            if isinstance(target, ast.Tuple) and stmt.value is call:
                picked = [t for i, t in enumerate(target.elts) if i in positions]
            elif -1 in positions:
                picked = [target]
            else:
                continue
            for t in picked:
                if isinstance(t, ast.Attribute):
                    attrs.add(t.attr)
                elif isinstance(t, ast.Name):
                    local.setdefault(owner, set()).add(t.id)
    for _ in range(4):                     # into the parameters of callees
        grown = False
        for call in unit.nodes(ast.Call):
            callee = functions.get(_name(call.func))  # type: ignore[attr-defined]
            if callee is None or callee.name in builders:
                continue
            caller = getattr(idx.enclosing_function(call), "name", "")
            names = local.get(caller, set())
            params = [a.arg for a in (*callee.args.posonlyargs, *callee.args.args)]
            passed = [(params[i] if i < len(params) else None, a) for i, a in enumerate(call.args)]  # type: ignore[attr-defined]
            passed += [(k.arg, k.value) for k in call.keywords]  # type: ignore[attr-defined]
            for param, value in passed:
                built = isinstance(value, ast.Call) and -1 in tables.get(_name(value.func), set())
                if param and (built or _mentions(value, names, attrs)) \
                        and param not in local.setdefault(callee.name, set()):
                    local[callee.name].add(param)
                    grown = True
        if not grown:
            break
    seen: set[int] = set()
    for node in unit.nodes(ast.Subscript):
        if not isinstance(node.ctx, ast.Load):  # type: ignore[attr-defined]
            continue
        fn = idx.enclosing_function(node)
        owner = getattr(fn, "name", "")
        if owner in builders:
            continue
        value = node.value  # type: ignore[attr-defined]
        hit = isinstance(value, ast.Name) and value.id in local.get(owner, set()) or \
            isinstance(value, ast.Attribute) and value.attr in attrs
        if not hit or id(fn) in seen or _fallback(idx, node, fn) or not _counted(idx, node, fn):
            continue
        seen.add(id(fn))
        yield node, ", ".join(f"{b}()" for b in sorted(builders))


def _byte_table_positions(fn: ast.AST) -> set[int]:
    """Which of a builder's returned values hold piece byte counts: positions in a returned
    tuple, or {-1} when the single returned value does. A value holds them when an element of it
    is assigned something that encodes a piece (`table[i] = len(piece.encode())`)."""
    filled: set[str] = set()
    for n in ast.walk(fn):
        if isinstance(n, ast.Assign) and any(isinstance(c, ast.Call) and _name(c.func) == "encode"
                                             for c in ast.walk(n.value)):
            for t in n.targets:
                if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name):
                    filled.add(t.value.id)

    def holds(expr: ast.AST) -> bool:
        return any(isinstance(x, ast.Name) and x.id in filled for x in ast.walk(expr))

    out: set[int] = set()
    for n in ast.walk(fn):
        if isinstance(n, ast.Return) and n.value is not None:
            if isinstance(n.value, ast.Tuple):
                out |= {i for i, e in enumerate(n.value.elts) if holds(e)}
            elif holds(n.value):
                out.add(-1)
    return out


def _counted(idx, node: ast.AST, fn: ast.AST | None) -> bool:
    """Is what the lookup gives counted: measured (`len`), summed, added up, or returned? Also
    through a list it is appended to (`seq.extend(piece)`, then `len(seq)`)."""
    scope = idx.scope_for(fn) if fn is not None else idx.module
    if fn is None:
        return False
    grown: set[str] = set()
    for n in ast.walk(fn):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) \
                and n.func.attr in ("extend", "append", "update", "add") \
                and isinstance(n.func.value, ast.Name) \
                and any(node is x for a in n.args for x in scope.closure(a)):
            grown.add(n.func.value.id)

    def reaches(expr: ast.AST) -> bool:
        return any(node is x or isinstance(x, ast.Name) and x.id in grown for x in scope.closure(expr))

    for n in ast.walk(fn):
        if isinstance(n, ast.Call) and (_name(n.func) in ("len", "sum") and n.args or _name(n.func) == "sum"):
            exprs = list(n.args) or [n.func]
        elif isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add) \
                or isinstance(n, ast.Return) and n.value is not None:
            exprs = [n.value]
        else:
            continue
        if any(reaches(e) for e in exprs):
            return True
    return False


def _fallback(idx, node: ast.AST, fn: ast.AST | None) -> bool:
    """Is `node` inside one branch of an if/else (the other branch gives the bytes otherwise)?"""
    child, parent = node, idx.parents.get(id(node))
    while parent is not None and parent is not fn:
        if isinstance(parent, ast.If) and parent.orelse and child is not parent.test:
            return True
        child, parent = parent, idx.parents.get(id(parent))
    return False


RULES: list[type[Rule]] = [PartialEvaluation, ValidationDataInArtifact, BpbDenominatorNotFromTokenizer]
