"""GL2xx: data and network access."""

from __future__ import annotations

from ..dataflow import DataflowRule
from ..facts.declared import Fact
from ..findings import Severity
from .base import Invalid, Rule, Valid, examples

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
    evaluation time, for example). Training data fed to quantization calibration (a forward with
    activation hooks, a Gram matrix) after the last training step is reported only when the
    training loop's timer runs to the track's full training time with nothing reserved for it (the
    ruling: "any calibration mechanisms have to be part of the 600s of training time"); a cap set
    below the limit, a cap minus a reserve setting, or an assertion that training plus calibration
    fit keeps it quiet.

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
    facts = frozenset({Fact.CODE, Fact.DATAFLOW, Fact.INDEX, Fact.VALUES})
    severity = Severity.ERROR
    message = "training data is read during evaluation"
    hint = "evaluate from the artifact alone; store (and count) any statistics evaluation needs"
    valid = examples(lambda: (
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
    ))
    invalid = examples(lambda: (
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
    ))


    def check(self, sub):
        yield from super().check(sub)
        # Calibration on training data after training: legal inside the 600 s ("any calibration
        # mechanisms have to be part of the 600s of training time"), so only when the training
        # loop's timer reserves no time for it.
        from ..dataflow import analyze
        from ..dataflow.verdicts import AFTER_TRAINING_CALIBRATION
        from ..facts.index import index_of as _index_of
        from ..facts.values import TrainingTimer

        candidates = analyze(sub).for_rule(AFTER_TRAINING_CALIBRATION)
        if not candidates:
            return
        seconds = float(sub.settings.get(f"tracks.{sub.track}.train_seconds", 600.0))
        timers = [(unit, line, reserved) for unit in sub.python_units if unit.tree is not None
                  for line, reserved in TrainingTimer(_index_of(unit), seconds).timers]
        if not timers or any(reserved for _, _, reserved in timers):
            return
        unit, line, _ = timers[0]
        where = f"line {line}" if unit is candidates[0].unit else f"{unit.label}:{line}"
        for verdict in candidates:
            yield self.report_at(verdict.unit, verdict.line,
                                 f"{verdict.message}, but the training timer ({where}) stops at the full "
                                 f"{seconds:g} s and reserves no time for it: calibration on training data "
                                 "must fit inside the training time")


RULES: list[type[Rule]] = [TrainDataReadInEval]


# =============================================================================================
# GL201 network access, GL203 uncounted code or data loaded at run time
# (one block; GL202 lives in its own block)
# =============================================================================================

import ast  # noqa: E402 - kept inside this rule block on purpose
import re  # noqa: E402
from typing import Iterable, Iterator  # noqa: E402

from ..facts.index import imported_root, index_of  # noqa: E402
from ..facts.phases import Phase, phases_of  # noqa: E402
from ..findings import Finding, Severity  # noqa: E402

NETWORK_CALLS = frozenset({
    "socket.socket", "socket.create_connection", "socket.getaddrinfo", "socket.gethostbyname",
    "urllib.request.urlopen", "urllib.request.urlretrieve", "urllib.request.build_opener",
    "urllib.urlopen", "urllib.urlretrieve", "urllib2.urlopen",
    "http.client.HTTPConnection", "http.client.HTTPSConnection",
    "torch.hub.load", "torch.hub.download_url_to_file", "torch.hub.load_state_dict_from_url",
    "torch.utils.model_zoo.load_url", "ftplib.FTP", "ftplib.FTP_TLS",
})
# Every call into these packages talks to a server.
NETWORK_PACKAGES = ("requests.", "httpx.", "aiohttp.", "huggingface_hub.", "kagglehub.", "gdown.",
                    "urllib3.")
SHELL_CALLS = frozenset({"subprocess.run", "subprocess.call", "subprocess.check_call",
                         "subprocess.check_output", "subprocess.Popen", "os.system", "os.popen"})
NETWORK_COMMAND = re.compile(
    r"(?:^|[\s/;&|(])(?:curl|wget|aria2c)\b|\bgit\s+(?:clone|fetch|pull|lfs\s+pull)\b"
    r"|\bpip3?\s+install\b|\bhuggingface-cli\s+download\b|\bhf\s+download\b")
# `datasets.load_dataset` builders that read local files instead of the Hub.
LOCAL_DATASET_BUILDERS = frozenset({"json", "csv", "parquet", "text", "arrow", "pandas", "sql",
                                    "generator", "imagefolder", "audiofolder", "webdataset"})


def _lowered(rule: Rule, error: bool) -> Severity:
    """Error where the rule says so, else at most a warning; a severity the user configured wins."""
    if rule.effective_severity != rule.severity:
        return rule.effective_severity
    return Severity.ERROR if error else Severity.WARNING


def _where(phases, unit, node) -> tuple[Phase, str]:
    phase = phases.phase(unit, node)
    fn = index_of(unit).enclosing_function(node)
    place = f"in `{fn.name}`" if fn is not None else "at module level"
    return phase, {
        Phase.EVAL: f"{place}, which runs during evaluation (after training ends or from the scoring code)",
        Phase.IMPORT: f"{place}, which runs on every run of the script (import time)",
        Phase.COMMAND: f"{place}, reached only from a separate command-line command",
        Phase.OTHER: f"{place}, which runs during training or set-up",
    }[phase]


def _shell_text(idx, scope, arg: ast.AST) -> str | None:
    if isinstance(arg, (ast.List, ast.Tuple)):
        parts = [idx.resolve_string(e, scope) for e in arg.elts]
        return " ".join(p or "*" for p in parts) if any(parts) else None
    return idx.resolve_string(arg, scope)


class NetworkAccess(Rule):
    """The script opens a network connection or downloads something while it runs.

    Calls into socket, urllib, http.client, requests, httpx, aiohttp, huggingface_hub, torch.hub,
    `datasets.load_dataset` of a Hub dataset, `from_pretrained` of a Hub id, and shell commands
    running curl, wget, `git clone` or `pip install`. An error where evaluation reaches the call
    (the scoring code, anything after training ends, or module-level code that runs on every run);
    a warning elsewhere, for example in a data-preparation command.

    **Why.** The artifact must be self-contained: evaluation may not fetch weights, tables or text
    from outside the 16 MB it is charged for (RULES.md, "Other rulings").

    **Example.** `tables = torch.hub.load_state_dict_from_url(URL)` inside the final evaluation.

    **Instead.** Put everything evaluation needs inside the counted artifact; keep downloads in a
    separate data-preparation command (`python train_gpt.py download`) that the run never calls.
    """

    id = "GL201"
    name = "network-access"
    facts = frozenset({Fact.CODE, Fact.INDEX, Fact.PHASES})
    severity = Severity.ERROR
    message = "the script accesses the network"
    hint = ("make the artifact self-contained; move downloads into a separate data-preparation "
            "command that the training and evaluation run never calls")
    valid = examples(lambda: (
        Valid("import socket\nprint(socket.gethostname())\n"),
        Valid("import subprocess\nsubprocess.run(['nvidia-smi'], check=False)\n"),
        Valid("from datasets import load_dataset\nds = load_dataset('json', data_files='local.jsonl')\n"),
        Valid("""
            import requests  # only imported, never called
            import os
            x = os.environ.get("URL", "")
            """),
    ))
    invalid = examples(lambda: (
        Invalid("""
            import torch
            import urllib.request

            def evaluate(model, tokens):
                urllib.request.urlretrieve("https://example.org/bias.pt", "bias.pt")
                total = 0.0
                with torch.no_grad():
                    for chunk in tokens:
                        total += model(chunk).item()
                return total
            """, lines=5, note="download inside the scoring function: error"),
        Invalid("""
            import sys
            import subprocess

            def download_data():
                subprocess.run(["wget", "-q", "https://example.org/shards.tar"], check=True)

            if __name__ == "__main__" and sys.argv[1:] == ["download"]:
                download_data()
            """, lines=5, note="data-preparation command: warning"),
        Invalid("""
            from huggingface_hub import hf_hub_download
            path = hf_hub_download(repo_id="someone/tables", filename="bigram.npy")
            """, lines=2, note="module level: runs on every run"),
        Invalid("import os\nos.system(f'pip install {os.environ.get(\"PKG\", \"x\")}')\n", lines=2),
    ))

    def check(self, sub) -> Iterable[Finding]:
        phases = phases_of(sub)
        for unit in sub.python_units:
            idx = index_of(unit)
            named = _call_ids(unit, _may_reach_network)
            for scope in idx.scopes:
                for node in scope.of(ast.Call):
                    if id(node) in named and imported_root(idx.imports, node):
                        what = self._network_call(sub, idx, scope, node)
                        if what is None:
                            continue
                        phase, where = _where(phases, unit, node)
                        error = phase in (Phase.EVAL, Phase.IMPORT)
                        yield self.report_at(
                            unit, node.lineno, f"{what} {where}",
                            severity=_lowered(self, error), phase=phase.value)

    def _network_call(self, sub, idx, scope, call: ast.Call) -> str | None:
        name = idx.imports.call_name(call) or ""
        if name in NETWORK_CALLS or name.startswith(NETWORK_PACKAGES):
            return f"`{name}` opens a network connection"
        if name == "datasets.load_dataset":
            source = idx.resolve_string(call.args[0], scope) if call.args else None
            if source in LOCAL_DATASET_BUILDERS or (source or "").startswith(("./", "/", "../")):
                return None
            if source is None and any(k.arg in ("data_files", "data_dir") for k in call.keywords):
                return None
            return f"`datasets.load_dataset({source or '...'!r})` downloads from the Hugging Face Hub"
        if name.startswith("transformers.") and name.endswith(".from_pretrained") and call.args:
            source = idx.resolve_string(call.args[0], scope)
            if source and "*" not in source and not source.startswith((".", "/")) \
                    and not sub.exists(source.rstrip("/") + "/config.json") and not sub.exists(source):
                return f"`{name}({source!r})` downloads from the Hugging Face Hub"
            return None
        if name in SHELL_CALLS and call.args:
            command = _shell_text(idx, scope, call.args[0])
            if command and NETWORK_COMMAND.search(command):
                return f"`{name}` runs `{command[:80]}` (a download)"
        return None


NATIVE_LOADERS = {
    # qualified call -> positional index (or keyword) of the path / sources argument
    "ctypes.CDLL": (0, "name"), "ctypes.PyDLL": (0, "name"), "ctypes.WinDLL": (0, "name"),
    "ctypes.cdll.LoadLibrary": (0, "name"), "torch.ops.load_library": (0, "path"),
    "torch.classes.load_library": (0, "path"), "torch.utils.cpp_extension.load": (1, "sources"),
    "importlib.util.spec_from_file_location": (1, "location"), "runpy.run_path": (0, "path_name"),
    "importlib.machinery.SourceFileLoader": (1, "path"),
    "importlib.machinery.ExtensionFileLoader": (1, "path"),
}
DATA_READERS = {
    "torch.load": (0, "f"), "torch.jit.load": (0, "f"), "numpy.load": (0, "file"),
    "numpy.fromfile": (0, "file"), "numpy.memmap": (0, "filename"),
    "safetensors.torch.load_file": (0, "filename"), "safetensors.numpy.load_file": (0, "filename"),
    "safetensors.safe_open": (0, "filename"), "joblib.load": (0, "filename"), "open": (0, "file"),
    "io.open": (0, "file"),
}
DATA_WRITERS = {
    "torch.save": (1, "f"), "numpy.save": (0, "file"), "numpy.savez": (0, "file"),
    "numpy.savez_compressed": (0, "file"), "safetensors.torch.save_file": (1, "filename"),
    "shutil.copy": (1, "dst"), "shutil.copyfile": (1, "dst"), "joblib.dump": (1, "filename"),
}
SYSTEM_PREFIXES = ("/usr/", "/lib", "/opt/", "/etc/", "/sys/", "/proc/", "/dev/")


def _arg(call: ast.Call, spec: tuple[int, str]) -> ast.AST | None:
    position, keyword = spec
    for k in call.keywords:
        if k.arg == keyword:
            return k.value
    return call.args[position] if len(call.args) > position else None


def _open_mode(idx, call: ast.Call) -> str:
    mode = call.args[1] if len(call.args) > 1 else next(
        (k.value for k in call.keywords if k.arg == "mode"), None)
    return idx.resolve_string(mode, idx.module) or "r" if mode is not None else "r"


def _may_reach_network(name: str) -> bool:
    """Can a call by this name be one `_network_call` reports?"""
    return name in NETWORK_CALLS or name.startswith(NETWORK_PACKAGES) or name == "datasets.load_dataset" \
        or name.startswith("transformers.") and name.endswith(".from_pretrained") or name in SHELL_CALLS


def _call_ids(unit, keep) -> set[int]:
    """The ids of the unit's calls whose resolved name `keep` accepts (the unit's call index)."""
    return {id(call) for call in unit.calls_where(keep)}


def _may_load(idx, call: ast.Call) -> bool:
    """A cheap filter: the builtin `open`, or a call through an imported name."""
    return isinstance(call.func, ast.Name) and call.func.id == "open" or imported_root(idx.imports, call)


def _basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _folder_relative(path: str) -> str:
    """`./x.so`, `*/x.so` (a join with the script's folder) -> `x.so`."""
    while path.startswith(("./", "*/")):
        path = path[2:]
    return path


class UncountedRuntimeFiles(Rule):
    """The script imports, loads or reads code or data files that are not counted in its bytes.

    Sibling modules it imports, shared libraries and C/C++/CUDA sources it loads or compiles
    (`ctypes.CDLL`, `torch.ops.load_library`, `cpp_extension.load`), and weight or array files
    (`.pt`, `.npy`, `.npz`, `.bin`, `.safetensors`, ... per `bytes.uncounted_data_suffixes`) read with
    `torch.load`, `np.load` or `open`, when they are not among `bytes.code_files` and the script did not
    write them itself. A warning; an error for weight or array files read during evaluation.
    Reading back the artifact the script saved earlier (the quantized round trip) is fine.

    **Why.** The 16,000,000-byte cap covers the code and the compressed model. A helper module, a
    compiled kernel or a table of precomputed weights loaded from disk is capability that is not paid
    for.

    **Example.** `bigram = np.load("bigram_table.npy")` in the evaluation, with the table committed
    beside the script.

    **Instead.** Put the code in train_gpt.py (or list the file in `bytes.code_files` so it is counted),
    and put tables inside the compressed artifact the script writes.
    """

    id = "GL203"
    name = "uncounted-runtime-files"
    facts = frozenset({Fact.CODE, Fact.INDEX, Fact.PHASES})
    severity = Severity.WARNING
    message = "the script loads code or data that is not counted in the submission bytes"
    hint = ("move the code into train_gpt.py and the data into the artifact the script writes, or "
            "count the file (bytes.code_files)")
    valid = examples(lambda: (
        Valid("""
            import torch
            torch.save({"w": torch.zeros(2)}, "final_model.pt")
            state = torch.load("final_model.pt")
            """, note="the round trip of the script's own artifact"),
        Valid(files={"train_gpt.py": "import helper\n", "helper.py": "X = 1\n"},
              settings={"bytes": {"code_files": ["train_gpt.py", "helper.py"]}}),
        Valid("""
            import numpy as np
            def load_shard(path):
                return np.fromfile(path, dtype=np.uint16, offset=1024)
            tokens = load_shard("./data/fineweb_val_000000.bin")
            """, note="validation shards are the data set, not uncounted bytes"),
        Valid("import ctypes\nlibc = ctypes.CDLL('libc.so.6')\n"),
    ))
    invalid = examples(lambda: (
        Invalid(files={"train_gpt.py": "import math\nfrom kernels import fused_mlp\n",
                       "kernels.py": "def fused_mlp(x):\n    return x\n"}, lines=2),
        Invalid("""
            import torch
            from torch.utils.cpp_extension import load
            ext = load(name="fastattn", sources=["csrc/attn.cpp", "csrc/attn.cu"])
            """, lines=3),
        Invalid("""
            import numpy as np
            import torch

            def evaluate(model, batches):
                table = torch.from_numpy(np.load("bigram_logits.npy"))
                loss = 0.0
                with torch.no_grad():
                    for x, y in batches:
                        loss += model(x, y, table).item()
                return loss
            """, lines=5, note="array read in the scoring function: error"),
        Invalid(files={"train_gpt.py": "import ctypes\nlib = ctypes.CDLL('./libngram.so')\n",
                       "libngram.so": b"\x7fELF"}, lines=2),
    ))

    def check(self, sub) -> Iterable[Finding]:
        from ..code.loader import _counted, _imported_siblings

        phases = phases_of(sub)
        for unit in sub.python_units:
            for rel, line in _imported_siblings(sub, unit):
                if not _counted(sub, rel):
                    yield self.report_at(
                        unit, line, f"imports `{rel}` from the submission folder, which is not "
                        "counted in the code bytes", severity=_lowered(self, False), kind="module")
            yield from self._loads(sub, unit, phases)

    def _loads(self, sub, unit, phases) -> Iterator[Finding]:
        from ..code.loader import _counted

        idx = index_of(unit)
        code_suffixes = tuple(sub.settings.get("bytes.uncounted_code_suffixes", []))
        data_suffixes = tuple(sub.settings.get("bytes.uncounted_data_suffixes", []))
        dataset_marks = tuple(sub.settings.get("analysis.val_patterns", [])) + \
            tuple(sub.settings.get("analysis.train_patterns", []))
        written = self._written_paths(idx)
        named = _call_ids(unit, lambda name: name in NATIVE_LOADERS or name in DATA_READERS)
        for scope in idx.scopes:
            for node in scope.of(ast.Call):
                if id(node) not in named or not _may_load(idx, node):
                    continue
                name = idx.imports.call_name(node) or ""
                if name in NATIVE_LOADERS:
                    arg = _arg(node, NATIVE_LOADERS[name])
                    paths = arg.elts if isinstance(arg, (ast.List, ast.Tuple)) else [arg]
                    for path in (idx.resolve_string(p, scope) for p in paths):
                        if path and path.endswith(code_suffixes + (".so",)) \
                                and self._local(sub, path) and not _counted(sub, _folder_relative(path)):
                            yield self.report_at(
                                unit, node.lineno, f"`{name}` loads `{path}`, code that is not counted "
                                "in the submission bytes", severity=_lowered(self, False), kind="native")
                            break
                    continue
                if name not in DATA_READERS:
                    continue
                if name in ("open", "io.open") and any(c in _open_mode(idx, node) for c in "wax+"):
                    continue
                arg = _arg(node, DATA_READERS[name])
                path = idx.resolve_string(arg, scope)
                if not path:
                    continue
                base = _basename(path)
                if "*" in base or "?" in base or any(m in base for m in dataset_marks):
                    continue
                if path.endswith(code_suffixes) and name in ("open", "io.open") and self._local(sub, path) \
                        and not _counted(sub, _folder_relative(path)):
                    yield self.report_at(unit, node.lineno, f"reads code from `{path}`, which is not "
                                         "counted in the submission bytes",
                                         severity=_lowered(self, False), kind="code-read")
                    continue
                if not path.endswith(data_suffixes) or base in written or \
                        ast.dump(strip_expr(arg)) in written:
                    continue
                phase, where = _where(phases, unit, node)
                size = sub.size(_folder_relative(path))
                stored = f" ({size:,} bytes committed beside the script)" if size is not None else ""
                yield self.report_at(
                    unit, node.lineno, f"`{name}` reads `{path}`{stored} {where}; the script never "
                    "writes it, so its bytes are not counted", severity=_lowered(self, phase is Phase.EVAL),
                    kind="data", phase=phase.value)

    @staticmethod
    def _local(sub, path: str) -> bool:
        if sub.exists(_folder_relative(path)) or sub.exists(_basename(path)):
            return True
        return "/" in path and not path.startswith(SYSTEM_PREFIXES)

    @staticmethod
    def _written_paths(idx) -> set[str]:
        """Base names (and, for unresolved paths, expression shapes) of files the script writes."""
        out: set[str] = set()
        for scope in idx.scopes:
            for node in scope.of(ast.Call):
                if not (_may_load(idx, node) or isinstance(
                        node.func, ast.Attribute) and node.func.attr in ("write_bytes", "write_text")):
                    continue
                name = idx.imports.call_name(node) or ""
                target = None
                if name in DATA_WRITERS:
                    target = _arg(node, DATA_WRITERS[name])
                elif name in ("open", "io.open") and any(c in _open_mode(idx, node) for c in "wax"):
                    target = _arg(node, DATA_READERS["open"])
                elif isinstance(node.func, ast.Attribute) and node.func.attr in ("write_bytes", "write_text"):
                    target = node.func.value
                if target is None:
                    continue
                path = idx.resolve_string(target, scope)
                if path:
                    out.add(_basename(path))
                out.add(ast.dump(strip_expr(target)))
        return out


def strip_expr(expr: ast.AST | None) -> ast.AST:
    """A path expression without `str(...)`/`Path(...)` wrappers, to compare write and read sites."""
    while isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and \
            expr.func.id in ("str", "Path") and len(expr.args) == 1:
        expr = expr.args[0]
    return expr if expr is not None else ast.Constant(None)


RULES.extend([NetworkAccess, UncountedRuntimeFiles])
