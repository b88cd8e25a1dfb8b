"""GL1xx rules (scoring): what the reported score covers and how its bytes are counted.

GL109 partial evaluation, GL110 validation data in the artifact or the code, GL111 a BPB
denominator that does not come from the tokenizer. Validation data is recognized by name
(`val_tokens`, `self.val_ids`, ...), the way the baseline and its descendants spell it.
"""

from __future__ import annotations

import ast
import re
from typing import Iterable, Iterator

from ...dataflow import analyze
from ...facts.index import index_of, walk
from ...facts.phases import phases_of
from ...facts.values import FixedBound, clocked, loop_of, measured
from ...findings import Finding, Severity
from ..base import Invalid, Rule, Valid

VAL_NAME = re.compile(r"^(val|valid|validation|eval)_?(tokens?|toks|ids|data|set|seq|stream)$", re.I)
VAL_FILES = re.compile(r"^(val|valid|validation)_?(files|shards|paths)$", re.I)
LENGTH_CALLS = {"len", "numel", "size", "shape", "nelement", "count"}
EVAL_FUNCTION = re.compile(r"(eval|valid|score|bpb)", re.I)
STATE_NAME = re.compile(r"(state|sd|artifact|quant|obj|payload|export|ckpt|checkpoint)", re.I)
SAVE_CALLS = {"torch.save", "numpy.save", "numpy.savez", "numpy.savez_compressed", "pickle.dump"}
TABLE_CALLS = {"bincount", "unique", "histc", "Counter", "index_add_", "scatter_add_", "collections.Counter"}
BYTES_PER_TOKEN_NAME = re.compile(r"(bytes?_?per_?tok(en)?|tok(en)?s?_?per_?byte|avg_?bytes|mean_?bytes|\bbpt\b)",
                                  re.I)
BYTE_TABLE_FILE = re.compile(r"byte", re.I)
FILE_LOADERS = {"numpy.load", "torch.load", "json.load", "numpy.fromfile", "numpy.loadtxt", "pickle.load"}
LN2 = re.compile(r"(math\.log\(2\)|np\.log\(2\)|numpy\.log\(2\)|torch\.log\(|log\(2(\.0)?\)|0\.693\d*|\bln2\b|LN2)")
TOKEN_DTYPES = re.compile(r"(uint16|int16|int32|uint32)")


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_val(node: ast.AST) -> bool:
    return bool(VAL_NAME.match(_name(node)))


def _mentions_val(node: ast.AST) -> bool:
    return any(_is_val(n) for n in ast.walk(node) if isinstance(n, (ast.Name, ast.Attribute)))


def _length_derived(node: ast.AST) -> bool:
    """True when an expression measures something (`x.numel()`, `len(x)`, `x.shape[0]`)."""
    for n in ast.walk(node):
        if isinstance(n, ast.Call) and _name(n.func) in LENGTH_CALLS:
            return True
        if isinstance(n, ast.Attribute) and n.attr in LENGTH_CALLS:
            return True
    return False


def _assigned(unit, name: str) -> list[ast.AST]:
    """Values assigned to `name` (a variable or an attribute/class attribute of that name)."""
    out = []
    for node in unit.nodes(ast.Assign, ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if node.value is not None and any(_name(t) == name for t in targets):
            out.append(node.value)
    return out


def _fixed_bound(node: ast.AST, unit, depth: int = 0) -> bool:
    """True when a slice bound is a constant or a setting (not measured from the data). Unknown
    values (a parameter, a computed count) are not judged."""
    if depth > 6:
        return False
    if _length_derived(node):
        return False
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int) and not isinstance(node.value, bool)
    if isinstance(node, ast.Call):
        name = unit.imports.call_name(node) or ""
        if name in ("os.environ.get", "os.getenv"):
            return True
        if name in ("int", "float") and node.args:
            return _fixed_bound(node.args[0], unit, depth + 1)
        return False
    if isinstance(node, ast.Subscript) and unit.imports.qualname(node.value) == "os.environ":
        return True
    if isinstance(node, ast.BinOp):
        return _fixed_bound(node.left, unit, depth + 1) and _fixed_bound(node.right, unit, depth + 1)
    if isinstance(node, (ast.Name, ast.Attribute)):
        values = _assigned(unit, _name(node))
        return bool(values) and all(_fixed_bound(v, unit, depth + 1) for v in values)
    return False


def _functions(unit) -> Iterator[ast.FunctionDef]:
    for fn in unit.nodes(ast.FunctionDef, ast.AsyncFunctionDef):
        yield fn  # type: ignore[misc]


def _enclosing_functions(unit) -> dict[int, ast.AST]:
    """line -> innermost function containing it (for scoping checks to evaluation code)."""
    out: dict[int, ast.AST] = {}
    for fn in sorted(_functions(unit), key=lambda f: f.lineno):
        for line in range(fn.lineno, (fn.end_lineno or fn.lineno) + 1):
            out[line] = fn
    return out


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


class PartialEvaluation(Rule):
    """The reported score covers less than the whole validation set: validation tokens cut to a
    constant or configured count, a subset of the validation shards, a scoring loop stopped early
    on a step count or by a clock, or a stride larger than the window so tokens are skipped.

    Validation data is what the dataflow follows from the validation shard files, whatever the
    variables are called; a scoring loop is a loop that accumulates a forward or a loss (the phase
    model). Cutting to a length measured from the data (the baseline trims to a multiple of the
    sequence length), an empty slice that starts an accumulator (`val[:0]`), and a loop that ends
    when its queue of batches ends are not partial. A cut behind a setting is judged under the run
    configuration (a warning when the submitted run leaves it off). The size of the validation
    split is a rulebook fact (`analysis.min_validation_tokens`).

    **Why.** `val_bpb` is defined on the full fixed validation split; a score on a subset is a
    different, noisier number, and easy to cherry-pick.

    **Example.** `val_tokens = val_tokens[:2_000_000]` before the evaluation loop.

    **Instead.** Score every validation token (in chunks, if memory requires), once.
    """

    id = "GL109"
    name = "partial-evaluation"
    severity = Severity.ERROR
    message = "the reported score covers only part of the validation set"
    hint = "evaluate every validation token; chunk the loop instead of truncating the data"
    valid = (
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
            seen = val[:0]
            with torch.no_grad():
                for i in range(0, val.numel() - 1024, 1024):
                    seen = torch.cat([seen, val[i:i + 1024]])
            """), note="an empty slice starts an accumulator"),
    )
    invalid = (
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
    )

    def check(self, sub) -> Iterable[Finding]:
        # Cuts and skipping windows: the dataflow knows which values hold validation data.
        for verdict in analyze(sub).for_rule(self.id):
            yield self.report_at(verdict.unit, verdict.line, verdict.message)
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

    @staticmethod
    def _early_break(phases, unit, idx, brk: ast.Break) -> tuple[int, str] | None:
        guard = idx.parents.get(id(brk))
        if not isinstance(guard, ast.If) or brk not in guard.body:
            return None
        loop = loop_of(idx, brk)
        if loop is None or not phases.scoring_loop(unit, loop):
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


# -- GL110 ---------------------------------------------------------------------------------------------
class ValidationDataInArtifact(Rule):
    """Validation tokens, or tables built from them, are written into the artifact (saved with the
    model, registered as buffers or parameters), or token data is embedded in the code as a literal.

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
    severity = Severity.ERROR
    message = "validation data is written into the artifact or embedded in the code"
    hint = "keep validation tokens and anything computed from them out of the saved artifact and the code"
    valid = (
        Valid("""
            import torch
            def export(model, path):
                torch.save({"model": model.state_dict(), "step": 100}, path)
            """),
        Valid("""
            import torch
            class LM(torch.nn.Module):
                def __init__(self, train_tokens):
                    super().__init__()
                    self.register_buffer("unigram", torch.bincount(train_tokens, minlength=1024).float())
            """, note="tables from training data are fine"),
        Valid("""
            import numpy as np, base64
            LUT = np.frombuffer(base64.b85decode("VPRomVPRom"), dtype=np.float32)
            """, note="a short float table is not token data"),
    )
    invalid = (
        Invalid("""
            import torch
            def export(model, val_tokens):
                state = model.state_dict()
                state["prefix"] = val_tokens[:500_000]
                torch.save(state, "final_model.pt")
            """, lines=4),
        Invalid("""
            import torch
            def attach(model, val_tokens):
                model.register_buffer("val_bigram", torch.bincount(val_tokens[:-1] * 1024 + val_tokens[1:]))
            """, lines=3),
        Invalid("""
            import torch
            def export(model, val_tokens):
                torch.save({"model": model.state_dict(), "cache": val_tokens}, "final_model.pt")
            """, lines=3),
        Invalid("import numpy as np, base64\nPREFIX = np.frombuffer(base64.b85decode('" + "VPRom" * 4000 + "'), "
                "dtype=np.uint16)\n", lines=2, note="token data embedded in the code: warning"),
    )

    def check(self, sub) -> Iterable[Finding]:
        for unit in sub.python_units:
            tables = self._val_tables(unit)
            for node in unit.nodes(ast.Assign):
                target = node.targets[0] if node.targets else None  # type: ignore[attr-defined]
                if isinstance(target, ast.Subscript) and STATE_NAME.search(_name(target.value)) \
                        and self._val_valued(node.value, tables):  # type: ignore[attr-defined]
                    yield self.report_at(unit, node.lineno, f"validation data (`{ast.unparse(node.value)[:50]}`) "  # type: ignore[attr-defined]
                                         f"is stored in `{ast.unparse(target.value)[:30]}`, which goes into "
                                         "the artifact")
            for call in unit.nodes(ast.Call):
                yield from self._call(unit, call, tables)  # type: ignore[arg-type]

    @staticmethod
    def _val_tables(unit) -> set[str]:
        """Names bound to slices of validation tokens or to count tables built from them."""
        out: set[str] = set()
        for node in unit.nodes(ast.Assign):
            value = node.value  # type: ignore[attr-defined]
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]  # type: ignore[attr-defined]
            if (isinstance(value, ast.Subscript) and _is_val(value.value)) or (
                    isinstance(value, ast.Call) and _name(value.func) in TABLE_CALLS and _mentions_val(value)):
                out.update(n for n in names if not _is_val(ast.Name(n)))
        return out

    @staticmethod
    def _val_valued(node: ast.AST, tables: set[str]) -> bool:
        return _mentions_val(node) or any(isinstance(n, ast.Name) and n.id in tables for n in ast.walk(node))

    def _call(self, unit, call: ast.Call, tables: set[str]) -> Iterator[Finding]:
        name = unit.imports.call_name(call) or ""
        attr = _name(call.func)
        if attr == "register_buffer" and len(call.args) > 1 and self._val_valued(call.args[1], tables):
            yield self.report_at(unit, call.lineno, "a buffer built from validation data is registered on "
                                 "the model, so it is saved in the artifact")
        elif name in ("torch.nn.Parameter", "torch.nn.parameter.Parameter") and call.args \
                and self._val_valued(call.args[0], tables):
            yield self.report_at(unit, call.lineno, "a parameter is initialized from validation data")
        elif name in SAVE_CALLS and call.args:
            obj = call.args[0] if name != "torch.save" else call.args[0]
            if isinstance(obj, ast.Dict) and any(v is not None and self._val_valued(v, tables) for v in obj.values):
                yield self.report_at(unit, call.lineno, f"`{name}` writes validation data into the saved artifact")
        elif name in ("numpy.frombuffer", "torch.frombuffer") and call.args:
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


class BpbDenominatorNotFromTokenizer(Rule):
    """The bits-per-byte denominator is not derived from the tokenizer and the scored tokens: a
    hard-coded bytes-per-token constant (error), a byte table read from a side file (warning:
    `golflint verify` recomputes it), or byte-fallback pieces (`<0x41>`) counted by the length of
    their text form instead of as one byte (error).

    **Why.** BPB = bits per token × tokens per byte. A denominator that is guessed, tuned, or
    counted wrong moves the score without changing the model; tokenizer changes get the closest
    review for exactly this reason.

    **Example.** `val_bpb = val_loss / math.log(2) / 4.1` with 4.1 "bytes per token".

    **Instead.** Count each scored token's bytes from its SentencePiece piece, as the baseline does:
    byte pieces count 1, a leading "▁" counts one space unless the previous token is a boundary.
    """

    id = "GL111"
    name = "bpb-denominator-not-from-tokenizer"
    severity = Severity.ERROR
    message = "the BPB denominator is not derived from the tokenizer and the scored tokens"
    hint = "count bytes per scored token from the SentencePiece pieces (byte pieces = 1), as the baseline does"
    valid = (
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
    )
    invalid = (
        Invalid("""
            import math
            BYTES_PER_TOKEN = 4.1
            def bpb(val_loss):
                return val_loss / math.log(2) / BYTES_PER_TOKEN
            """, lines=2),
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
            def build_byte_lut(sp, vocab_size):
                lut = np.zeros(vocab_size, dtype=np.int16)
                for i in range(vocab_size):
                    lut[i] = len(sp.id_to_piece(i).encode("utf-8"))
                return lut
            """, lines=5, note="byte-fallback pieces counted as 6 bytes"),
    )

    def check(self, sub) -> Iterable[Finding]:
        for unit in sub.python_units:
            yield from self._constants(unit)
            yield from self._side_tables(unit)
            yield from self._byte_pieces(unit)

    def _constants(self, unit) -> Iterator[Finding]:
        used = {n.id for n in unit.nodes(ast.Name) if isinstance(n.ctx, ast.Load)}  # type: ignore[attr-defined]
        for node in unit.nodes(ast.Assign):
            value = node.value  # type: ignore[attr-defined]
            for target in node.targets:  # type: ignore[attr-defined]
                name = _name(target)
                if BYTES_PER_TOKEN_NAME.search(name) and name in used and self._number(value) is not None:
                    yield self.report_at(unit, node.lineno, f"`{name} = {ast.unparse(value)[:30]}` hard-codes "
                                         "the bytes per token instead of counting the scored tokens' bytes")
                elif "bpb" in name.lower() and LN2.search(ast.unparse(value)):
                    constant = self._denominator_constant(value)
                    if constant is not None:
                        yield self.report_at(unit, node.lineno, f"`{name}` divides by the constant {constant:g} "
                                             "as bytes per token instead of counting the scored tokens' bytes")

    @staticmethod
    def _number(node: ast.AST) -> float | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Call) and _name(node.func) == "float" and node.args:
            inner = node.args[0]
            if isinstance(inner, ast.Call) and len(inner.args) > 1:  # float(os.environ.get("BPT", "3.9"))
                inner = inner.args[1]
            if isinstance(inner, ast.Constant):
                try:
                    return float(inner.value)
                except (TypeError, ValueError):
                    return None
        return None

    @staticmethod
    def _denominator_constant(node: ast.AST) -> float | None:
        for n in ast.walk(node):
            if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Div, ast.Mult)) \
                    and isinstance(n.right, ast.Constant) and isinstance(n.right.value, float):
                value = n.right.value if isinstance(n.op, ast.Div) else 1 / n.right.value if n.right.value else 0
                if 1.5 <= value <= 10.0:
                    return n.right.value
        return None

    def _side_tables(self, unit) -> Iterator[Finding]:
        for call in unit.nodes(ast.Call):
            name = unit.imports.call_name(call) or ""  # type: ignore[arg-type]
            if name not in FILE_LOADERS or not call.args:  # type: ignore[attr-defined]
                continue
            arg = call.args[0]  # type: ignore[attr-defined]
            if isinstance(arg, ast.Call) and _name(arg.func) == "open" and arg.args:
                arg = arg.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and BYTE_TABLE_FILE.search(arg.value) \
                    and "model" not in arg.value:
                yield self.report_at(unit, call.lineno, f"the byte counts come from a side file "  # type: ignore[attr-defined]
                                     f"(`{arg.value}`), not from the tokenizer: `golflint verify` must recompute "
                                     "them", severity=Severity.WARNING)

    def _byte_pieces(self, unit) -> Iterator[Finding]:
        # Walk only the functions that call id_to_piece (found from the shared index), not all of them.
        piece_lines = [c.lineno for c in unit.nodes(ast.Call) if _name(c.func) == "id_to_piece"]  # type: ignore[attr-defined]
        if not piece_lines:
            return
        for fn in _functions(unit):
            if not any(fn.lineno <= line <= (fn.end_lineno or fn.lineno) for line in piece_lines):
                continue
            calls = [n for n in ast.walk(fn) if isinstance(n, ast.Call)]
            if not any(_name(c.func) == "id_to_piece" for c in calls):
                continue
            if any(_name(c.func) in ("is_byte", "IsByte") for c in calls) or "<0x" in ast.unparse(fn):
                continue
            for c in calls:
                if _name(c.func) == "len" and c.args and "id_to_piece" in ast.unparse(c.args[0]) \
                        or _name(c.func) == "len" and c.args and isinstance(c.args[0], (ast.Name, ast.Call)) \
                        and self._piece_name(c.args[0], fn):
                    yield self.report_at(unit, c.lineno, f"{fn.name}() counts each piece by the length of its "
                                         "text, so byte-fallback pieces (`<0x41>`) count 6 bytes instead of 1; "
                                         "check `sp.is_byte(i)` first")
                    break

    @staticmethod
    def _piece_name(node: ast.AST, fn: ast.AST) -> bool:
        base = node
        while isinstance(base, ast.Call) and isinstance(base.func, ast.Attribute):
            base = base.func.value
        if not isinstance(base, ast.Name):
            return False
        for n in ast.walk(fn):
            if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == base.id for t in n.targets) \
                    and "id_to_piece" in ast.unparse(n.value):
                return True
        return False


RULES: list[type[Rule]] = [PartialEvaluation, ValidationDataInArtifact, BpbDenominatorNotFromTokenizer]
