"""Where a submission keeps its parts: entry script, metadata file, train logs.

The organizers accepted folders that do not follow the template to the letter, and judged them as
what they are (see the accepted `records/` tree):
- the script the README's run command starts may be `train_gpt_cuda_ternary.py`, `train_mdlm.py` or
  a `run_*.sh` that starts one; that script is the entry and its bytes are the counted code;
- the metadata may be `submission_ternary.json`;
- logs may sit in a subfolder (`logs/train0.txt`, `logs_experiment/...`) or carry other names
  (`train_v0.txt`, `ternary_log_7.txt`).
So golflint finds each part by its role, in this order: the template's name first, then what the
submission's own run command names, then the only candidate.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from collections.abc import Iterable
from typing import Any, Protocol


class Folder(Protocol):
    """What layout reads of a folder (golflint.folder.Folder; a Protocol so layout imports nothing back)."""
    files: list[str]
    settings: Any

    def text(self, rel: str) -> str | None: ...

TEMPLATE_ENTRY = "train_gpt.py"
TEMPLATE_METADATA = "submission.json"
# `python3 train_x.py`, `torchrun --standalone --nproc_per_node=8 train_x.py`, `python -m torch...`
_SCRIPT = re.compile(r"([\w./-]*\.py)\b")
_LAUNCHER = re.compile(r"\b(?:python3?(?:\.\d+)?|torchrun|accelerate\s+launch|deepspeed)\b")


def _top_level(sub: Folder, pattern: str) -> list[str]:
    return sorted(rel for rel in sub.files if "/" not in rel and fnmatch.fnmatch(rel, pattern))


def run_command_scripts(sub: Folder) -> list[tuple[str, str]]:
    """Top-level Python scripts started by a run command in README.md or a top-level shell script,
    as (script, where), in the order they appear (README first)."""
    sources = [rel for rel in ("README.md",) if rel in sub.files] + _top_level(sub, "*.sh")
    found: list[tuple[str, str]] = []
    for rel in sources:
        text = sub.text(rel) or ""
        for number, line in enumerate(text.splitlines(), 1):
            if not _LAUNCHER.search(line):
                continue
            for match in _SCRIPT.finditer(line[_LAUNCHER.search(line).start():]):
                script = match.group(1).rsplit("/", 1)[-1]  # records/.../train_x.py -> train_x.py
                if script in sub.files:
                    found.append((script, f"{rel} line {number}"))
    return found


def entry_script(sub: Folder) -> tuple[str | None, str]:
    """(the script that runs the submission, why golflint thinks so); (None, why) when none."""
    if TEMPLATE_ENTRY in sub.files:
        return TEMPLATE_ENTRY, "the template's name"
    started = run_command_scripts(sub)
    if started:
        script, where = started[0]
        return script, f"the run command in {where}"
    scripts = _top_level(sub, "*.py")
    trainers = [rel for rel in scripts if rel.startswith("train")]
    for candidates, why in ((trainers, "the only train*.py"), (scripts, "the only .py file")):
        if len(candidates) == 1:
            return candidates[0], why
    return None, "no train_gpt.py, no run command naming a script, and no single script"


def metadata_file(sub: Folder) -> str:
    """submission.json, else the only top-level submission_*.json (`submission_ternary.json`)."""
    if TEMPLATE_METADATA in sub.files:
        return TEMPLATE_METADATA
    named = _top_level(sub, "submission*.json")
    return named[0] if len(named) == 1 else TEMPLATE_METADATA


def log_files(sub: Folder) -> list[str]:
    """Train logs: files matching `submission.log_patterns` anywhere in the folder, and the text
    files of a log folder (`submission.log_dirs`, e.g. `logs/`, `logs_experiment/`)."""
    patterns = list(sub.settings.get("submission.log_patterns"))
    dirs = list(sub.settings.get("submission.log_dirs", []))
    suffixes = tuple(sub.settings.get("submission.log_dir_suffixes", [".txt", ".log"]))
    out = []
    for rel in sub.files:
        parts = rel.split("/")
        name = parts[-1]
        if any(fnmatch.fnmatch(name, p) for p in patterns) or (len(parts) > 1 and name.endswith(suffixes)
              and any(fnmatch.fnmatch(folder, d) for folder in parts[:-1] for d in dirs)):
            out.append(rel)
    return out


def _file_path_expr(node: ast.AST) -> str | None:
    """The file name a path expression built from `__file__` or a literal names, if it is plain:
    "b.py", `__file__.replace("a.py", "b.py")`, `os.path.join(os.path.dirname(__file__), "b.py")`,
    `Path(__file__).with_name("b.py")`, `Path(__file__).parent / "b.py"`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        method = node.func.attr
        args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        source = ast.unparse(node.func.value)
        if method == "replace" and len(args) == 2 and "__file__" in source:
            return args[1]
        if method in ("with_name", "joinpath") and len(args) == 1 and "__file__" in source:
            return args[0]
        if method == "join" and args and "__file__" in ast.unparse(node):
            return args[-1]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        right = node.right
        if isinstance(right, ast.Constant) and isinstance(right.value, str) and "__file__" in ast.unparse(node.left):
            return right.value
    return None


def exec_siblings(files: list[str], tree: ast.AST | None, calls: Iterable[ast.AST] | None = None) -> dict[int, str]:
    """{line: sibling} for `exec(open(<path>).read())` (or `Path(<path>).read_text()`) whose path is
    a file of the submission: that file's code runs, so it is analyzed and counted as code.
    `calls`: the tree's Call nodes in walk order when already indexed (CodeUnit.nodes)."""
    out: dict[int, str] = {}
    if tree is None:
        return out
    present = set(files)
    for node in (ast.walk(tree) if calls is None else calls):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "exec"
                and node.args):
            continue
        arg = node.args[0]
        # exec(open(P).read()) / exec(Path(P).read_text()) / exec(compile(open(P).read(), ...))
        if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id == "compile" and arg.args:
            arg = arg.args[0]
        if not (isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute)
                and arg.func.attr in ("read", "read_text") and isinstance(arg.func.value, ast.Call)):
            continue
        opener = arg.func.value
        if not opener.args:
            continue
        name = _file_path_expr(opener.args[0])
        rel = (name or "").removeprefix("./")
        if rel in present and rel.endswith(".py"):
            out[node.lineno] = rel
    return out
