"""The interpreter's cheaper paths (issue 13) conclude what the general ones did: the names under
assignment targets are those `ast.walk` finds, and running with the shortcuts switched off (the
generic walk for `not x` / `a and b`, every method and function name put through the role
tests) gives the same events and verdicts on our fixtures and, when the corpus is present, on the
largest accepted record."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from golflint.config import default_settings
from golflint.dataflow import interp as interp_module
from golflint.dataflow.interp import Interpreter, _names_under
from golflint.dataflow.spec import Spec
from golflint.dataflow.verdicts import judge
from golflint.discovery import find_submissions
from golflint.submission import Submission

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "analyzer"


def _corpus_records() -> Path | None:
    for base in (REPO / ".." / "shared" / "corpus", Path(os.environ.get("GOLFLINT_CORPUS", "/nonexistent"))):
        records = base / "parameter-golf" / "records"
        if records.is_dir():
            return records
    return None


def _walked_names(targets) -> set[str]:
    return {x.id for t in targets for x in ast.walk(t) if isinstance(x, ast.Name)}


def _targets_of(tree: ast.AST):
    for n in ast.walk(tree):
        if isinstance(n, ast.Assign):
            yield n.targets
        elif isinstance(n, (ast.For, ast.AsyncFor, ast.comprehension)):
            yield (n.target,)


def test_names_under_targets_are_the_walked_names() -> None:
    tree = ast.parse(
        "x = 1\na, (b, *c) = f()\nself.w[i, j:k] = v\nd[g(h)].e = 2\n[p, q.r] = s\n"
        "for t, u[z] in items: pass\nys = [m for m, (n, *o) in pairs]\n")
    for targets in _targets_of(tree):
        assert _names_under(targets) == _walked_names(targets)
    records = _corpus_records()
    sources = list(FIXTURES.rglob("*.py")) + (sorted(records.rglob("*.py")) if records else [])
    checked = 0
    for path in sources:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except SyntaxError:
            continue
        for targets in _targets_of(tree):
            assert _names_under(targets) == _walked_names(targets), (path, ast.unparse(targets[0]))
            checked += 1
    assert checked > 100


class _EveryName:
    """Stands for the role names: every method name goes through the role tests."""

    def __contains__(self, name: object) -> bool:
        return True


def _canon(value: object) -> object:
    """A comparable form of an event's labels and details (sets in a fixed order)."""
    if isinstance(value, (set, frozenset)):
        return sorted((_canon(v) for v in value), key=repr)
    if isinstance(value, (tuple, list)):
        return [_canon(v) for v in value]
    if isinstance(value, dict):
        return sorted(((k, _canon(v)) for k, v in value.items()), key=repr)
    return repr(value)


def _trace(root: Path) -> list:
    settings = default_settings()
    outs = []
    for target in find_submissions([root], settings).targets:
        sub = Submission(target.root, target.track, settings, env_overrides={})
        interp = Interpreter(sub.python_units, Spec.from_settings(settings))
        interp.run(sub.python_units)
        events = [(e.kind, e.time, e.unit.label, e.line, len(e.regions), e.segment, e.nograd,
                   _canon(e.labels), _canon(e.detail)) for e in interp.events]
        verdicts = [(v.rule, v.unit.label, v.line, v.message, v.warning) for v in judge(interp.events, frozenset())]
        outs.append((target.root.name, interp.statements, repr(events), verdicts))
    return outs


def _cases(tmp_path: Path) -> Path:
    """Our analyzer fixtures laid out as record folders."""
    root = tmp_path / "records" / "track_10min_16mb"
    for case in sorted(FIXTURES.iterdir()):
        folder = root / case.stem
        folder.mkdir(parents=True, exist_ok=True)
        if case.is_dir():
            for p in case.iterdir():
                if p.suffix == ".py":
                    (folder / p.name).write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
        elif case.suffix == ".py":
            (folder / "train_gpt.py").write_text(case.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def _without_shortcuts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interp_module, "_HANDLERS", {})   # handler tables filled afresh
    monkeypatch.setattr(Interpreter, "_e_UnaryOp", None)  # the generic walk of `eval`
    monkeypatch.setattr(Interpreter, "_e_BoolOp", None)
    monkeypatch.setattr(interp_module, "_method_role_names", lambda spec: _EveryName())
    monkeypatch.setattr(interp_module, "_call_role_names", lambda spec: _EveryName())


def test_shortcuts_change_no_event_on_the_fixtures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _cases(tmp_path)
    fast = _trace(root)
    with monkeypatch.context() as m:
        _without_shortcuts(m)
        slow = _trace(root)
    assert len(fast) > 20
    assert any(events != "[]" for _, _, events, _ in fast)
    assert fast == slow


def test_shortcuts_change_no_event_on_a_record(monkeypatch: pytest.MonkeyPatch) -> None:
    records = _corpus_records()
    if records is None:
        pytest.skip("no corpus: neither ../shared/corpus nor GOLFLINT_CORPUS holds parameter-golf/records")
    # the largest accepted script: long, with many functions, loops and method calls
    script = max(records.rglob("train_gpt.py"), key=lambda p: p.stat().st_size)
    fast = _trace(script.parent)
    with monkeypatch.context() as m:
        _without_shortcuts(m)
        slow = _trace(script.parent)
    assert fast and fast == slow


def test_negations_and_boolean_operators_carry_their_operands_labels(tmp_path: Path) -> None:
    from golflint_testing import interpret

    from golflint.dataflow.model import regions_of

    interp = interpret(tmp_path, """
import numpy as np

def stream():
    return np.fromfile("./data/fineweb_val_000000.bin", dtype=np.uint16)

negated = -stream()
either = stream() or np.zeros(3)
neither = not (1 and stream())
plain = not 1
""")
    env = next(m for m in interp.modules.values() if m.unit.path == "train_gpt.py").env
    assert regions_of(env["negated"]) and regions_of(env["either"]) and regions_of(env["neither"])
    assert not env["plain"]


def _every_relevant_function(interp: Interpreter, idents: set[str], path_rx) -> set[int]:
    """The whole fixpoint `_relevant_by_words` stands for: every function whose text mentions a
    source (a seed), then every function mentioning a relevant function's name, run or not."""
    texts = {fid: interp._text_of(fid) for fid in interp.funcs}
    words = {fid: set(interp_module._WORD.findall(text)) for fid, text in texts.items()}
    relevant = {fid for fid, text in texts.items()
                if not words[fid].isdisjoint(idents) or (path_rx is not None and path_rx.search(text))}
    idents, queue = set(idents), list(relevant)
    while queue:
        name = getattr(interp.funcs[queue.pop()].node, "name", None)
        if not name or name in idents:
            continue
        idents.add(name)
        for fid in texts:
            if fid not in relevant and name in words[fid]:
                relevant.add(fid)
                queue.append(fid)
    return relevant


def test_relevant_functions_not_run_are_those_of_the_whole_fixpoint(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """`_relevant_by_words` follows name chains from the functions no root ran only: it must pick
    the functions not run that the fixpoint over every function picks, on our fixtures and, when
    the corpus is present, on every accepted record."""
    checked = []
    lazy = Interpreter._relevant_by_words

    def both(self, idents, path_rx):
        expected = {f for f in _every_relevant_function(self, idents, path_rx) if f not in self.executed_funcs}
        found = lazy(self, set(idents), path_rx)
        checked.append((len(self.funcs), len(expected)))
        assert found == expected
        return found

    monkeypatch.setattr(Interpreter, "_relevant_by_words", both)
    _trace(_cases(tmp_path))
    records = _corpus_records()
    if records is not None:
        _trace(records)
    assert sum(n for _, n in checked) > (700 if records is not None else 5)
