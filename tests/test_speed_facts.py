"""The shared per-unit walks that replaced per-rule whole-tree scans answer what the scans did."""

from __future__ import annotations

import ast
from pathlib import Path

from golflint.code.units import CodeUnit, same_tree, walk_tree
from golflint.logs.source import Definitions

REFERENCE = Path(__file__).parent.parent / "reference" / "train_gpt.py"
SINGLETONS = (ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)


def _reference_unit() -> CodeUnit:
    return CodeUnit.parse_python("train_gpt.py", REFERENCE.read_text(encoding="utf-8"))


def test_walk_order_is_ast_walk_without_singletons():
    unit = _reference_unit()
    expected = [id(n) for n in ast.walk(unit.tree) if not isinstance(n, SINGLETONS)]
    assert [id(n) for n in unit.walk_order] == expected


# Every node type whose identifier, string, number or constant fields the walks skip
# (code/units.py `_SCALAR_FIELDS`), with a node wherever the grammar allows one beside them.
EVERY_SCALAR_FIELD = """
import os.path as osp, sys
from . import sibling
from ..pkg.mod import name as alias_name, other
x = f(a.b.c, key=g(1), **kw)

@decorator(arg=1)
def outer(p: int = h(2), *args: str, q=3, **kwargs) -> dict[str, int]:
    global G
    count = 0

    def inner():
        nonlocal count
        count += 1
        return [y async for y in z if y] if False else f"{count!r:>{width}} {'s'}"
    try:
        pass
    except (ValueError, KeyError) as err:
        raise RuntimeError(str(err)) from err
    return lambda v=4: v


async def coro(t):
    return [e async for e in t]


class Model(Base, metaclass=Meta):
    weights: list[float] = [1.0, 2e-3, -1]

    def forward(self, inputs):
        return self.layer(inputs)[..., 1:]
"""


def test_walk_order_is_ast_walk_without_singletons_for_every_skipped_field():
    unit = CodeUnit.parse_python("t.py", EVERY_SCALAR_FIELD)
    expected = [id(n) for n in ast.walk(unit.tree) if not isinstance(n, SINGLETONS)]
    assert [id(n) for n in unit.walk_order] == expected
    from golflint.code.units import _SCALAR_FIELDS
    seen = {type(n) for n in unit.walk_order}
    assert set(_SCALAR_FIELDS) <= seen   # the snippet has every such type
    for node in unit.walk_order:   # a skipped field never holds a node
        for name in _SCALAR_FIELDS.get(type(node), ()):
            value = getattr(node, name, None)
            assert not isinstance(value, ast.AST)
            assert not (type(value) is list and any(isinstance(v, ast.AST) for v in value))


def test_parents_match_iter_child_nodes():
    unit = _reference_unit()
    expected = {id(child): parent for parent in ast.walk(unit.tree)
                for child in ast.iter_child_nodes(parent) if not isinstance(child, SINGLETONS)}
    assert {k: id(v) for k, v in unit.parents.items()} == {k: id(v) for k, v in expected.items()}
    assert id(unit.tree) not in unit.parents


def test_unparsable_unit_walks_nothing():
    unit = CodeUnit.parse_python("t.py", "def f(:\n")
    assert unit.walk_order == [] and unit.parents == {} and unit.index == {}


def test_walk_tree_of_a_bare_tree():
    tree = ast.parse("x = f(a + b)\n")
    order, parents = walk_tree(tree)
    assert [type(n).__name__ for n in order] == ["Module", "Assign", "Name", "Call", "Name", "BinOp", "Name", "Name"]
    call = order[3]
    assert parents[id(call.args[0])] is call


SAME_TREE_CASES = [
    ("def f(a):\n    return a + 1\n", "def f(a):  # note\n    return (a\n            + 1)\n"),
    ("def f(a):\n    return a + 1\n", "def f(a):\n    return a + 1.0\n"),
    ("x = 1\n", "x = True\n"),
    ("x = 'a'\n", "x = u'a'\n"),
    ("f(a, b)\n", "f(a)\n"),
    ("f(a, b)\n", "f(b, a)\n"),
    ("a.b = c\n", "a.b == c\n"),
    ("del x\n", "x\n"),
    ("def f():\n    pass\n", "async def f():\n    pass\n"),
    ("x[1:2]\n", "x[1:2:]\n"),
    ("class A(B):\n    y: int = 0\n", "class A(B):\n    y: int = 0\n\n"),
]


def test_same_tree_agrees_with_ast_dump():
    """The tree comparison GL413 uses answers what comparing the trees' dumps answers."""
    for left, right in SAME_TREE_CASES:
        a, b = ast.parse(left), ast.parse(right)
        expected = ast.dump(a) == ast.dump(b)
        assert same_tree(a, b) is expected, (left, right)
    unit = _reference_unit()
    again = ast.parse(REFERENCE.read_text(encoding="utf-8").replace("\n\n\n", "\n\n"))
    assert same_tree(unit.tree, again)
    assert not same_tree(unit.tree, ast.parse(REFERENCE.read_text(encoding="utf-8") + "\nx = 1\n"))


def test_setting_defaults_from_indexed_calls_match_a_fresh_walk():
    """Definitions given a unit's indexed calls reads the same defaults as from the bare tree."""
    source = ("import os\n"
              "class H:\n    lr = float(os.environ.get('LR', '0.1'))\n"
              "def f():\n    return os.getenv('LR', '0.2'), os.environ.get('WD', '0.0')\n")
    unit = CodeUnit.parse_python("t.py", source)
    fresh = Definitions(unit.tree, source)
    indexed = Definitions(unit.tree, source, unit.nodes(ast.Call))
    assert fresh.env == indexed.env == {"LR": "'0.1'", "WD": "'0.0'"}


def test_scope_nodes_of_types_keep_scope_order():
    from golflint.facts.index import index_of

    source = ("def f(t):\n"
              "    a = t[1:] + g(t[:-1])\n"
              "    def inner():\n        return h(t[0])\n"
              "    return k(a)[0]\n")
    unit = CodeUnit.parse_python("t.py", source)
    scope = index_of(unit).scope_for(unit.nodes(ast.FunctionDef)[0])
    for kinds in ((ast.Call,), (ast.Subscript,), (ast.Call, ast.Subscript), (ast.Subscript, ast.Call)):
        expected = [id(n) for n in scope.nodes if isinstance(n, kinds)]
        assert [id(n) for n in scope.of(*kinds)] == expected
    # the nested function's calls belong to its own scope
    assert sorted(n.func.id for n in scope.of(ast.Call)) == ["g", "k"]
    assert scope.of(ast.While) == []


def test_logged_settings_for_wanted_names_match_the_full_scan():
    """The run-command choice reads only the names the commands set: the same values, in order,
    as the full scan of every `key: value` kept for those names."""
    from golflint.runconfig.resolve import _logged_settings

    text = ("step:1 LR:0.1 lr = 0.2 warmup_steps:20 lr_min:0.0 xlr:9 Lr: 0.3, TTT_ENABLED=1\n"
            "ttt_enabled: True; seed:3 \u212a:5 k=6 weird-name:1 (LR=0.4)\n")
    wanted = {"lr", "ttt_enabled", "k", "weird-name", "absent"}
    full = _logged_settings([text, text])
    expected = {k: v for k, v in full.items() if k in wanted}
    assert _logged_settings([text, text], wanted) == expected
    assert expected["lr"] == ["0.1", "0.2", "0.3", "0.4)"] * 2
    assert _logged_settings([text], set()) == {}


def test_cone_children_are_iter_child_nodes_with_inert_leaves_marked():
    """GL104's cone pushes each node's children as `ast.iter_child_nodes` lists them, in that order
    (its budget is spent in that order), with contexts and operators as the inert placeholder."""
    from golflint.facts.targets import _INERT, _push_children

    unit = _reference_unit()
    frame = object()
    for node in ast.walk(unit.tree):
        pushed: list = []
        _push_children(pushed, frame, node)
        expected = [(frame, _INERT if isinstance(c, SINGLETONS) else c) for c in ast.iter_child_nodes(node)]
        assert [(f, id(c)) for f, c in pushed] == [(f, id(c)) for f, c in expected]


CALLS_BY_NAME = """
import os
import numpy as np
from subprocess import run as sh

a = os.environ.get("A", "1")
b = np.load("x.npy")
c = os.getenv("C")
sh(["ls"])
d = os.environ.get("D")
e = (lambda: 1)()
f = np.load(os.getenv("F", "f.npy"))
"""


def test_calls_named_is_the_filtered_scan_in_node_order():
    unit = CodeUnit.parse_python("train_gpt.py", CALLS_BY_NAME)
    calls = unit.nodes(ast.Call)
    for names in (("os.environ.get", "os.getenv"), ("numpy.load",), ("subprocess.run", "os.getenv"), ("",), ()):
        expected = [c for c in calls if (unit.imports.call_name(c) or "") in names]
        assert unit.calls_named(names) == expected
    assert set(unit.call_names) == {unit.imports.call_name(c) or "" for c in calls}
    # the reference trainer: every name the index holds gives the scan's calls, in its order
    ref = _reference_unit()
    for name in ref.call_names:
        assert ref.calls_named([name]) == [c for c in ref.nodes(ast.Call) if (ref.imports.call_name(c) or "") == name]



def test_calls_where_is_the_filtered_scan_in_node_order():
    unit = CodeUnit.parse_python("train_gpt.py", CALLS_BY_NAME)
    calls = unit.nodes(ast.Call)
    for keep in (lambda name: name.startswith("os."), lambda name: name.endswith(".load"), lambda name: False):
        assert unit.calls_where(keep) == [c for c in calls if keep(unit.imports.call_name(c) or "")]

def test_may_call_exec_finds_the_word_the_pattern_finds():
    import re

    from golflint.code.loader import _may_call_exec

    word = re.compile(r"\bexec\b")
    texts = ["", "exec", "exec(", "x = 1", "executor()", "myexec()", "exec_", "_exec", "a.exec(b)",
             "execexec", "exexec", "# exec\n", "s = 'exec'", "exec\n", "re-exec", "exec2", "2exec",
             "print(1); exec(code)", "flexecute exec", "\u00e9exec", "ｅｘｅｃ(code)"]
    for text in texts:
        expected = bool(word.search(text)) or not text.isascii()
        assert _may_call_exec(text) is expected, text


def _same_definitions(a: Definitions, b: Definitions) -> None:
    assert list(a.nodes) == list(b.nodes)
    assert all(same_tree(a.nodes[n], b.nodes[n]) for n in a.nodes)
    assert a.texts == b.texts
    assert a.env == b.env and list(a.env) == list(b.env)


CHUNKED = '''import os
LR = float(os.environ.get("LR", "0.1"))


@decorator
def first(x):
    return x + int(os.getenv("STEPS", "20"))


class Config:
    wd = os.environ.get("WD", "0.0")

    def nested(self):
        return os.environ.get("LR", "0.5")   # deeper than the module's LR: the module's wins


def doc():
    """A docstring with a cut-looking line:
def not_a_definition():
    pass
"""
    return 1
'''


def test_logged_sources_read_in_chunks_as_the_whole_text_reads():
    from golflint.code.parse import parse_source
    from golflint.logs.source import LoggedSources, _chunk_starts

    shipped = CHUNKED.replace('"20"', '"30"')
    variants = [CHUNKED, shipped, CHUNKED + "\n\ndef extra():\n    return os.environ.get('X', 1)\n",
                CHUNKED.replace('@decorator\n', '@decorator(\n    arg=1)\n'),      # a decorator over lines
                "x = 1\r\ndef f():\r\n    return 2\r\n",                          # not cut: "\r"
                CHUNKED.replace("    return 1\n", "    return f'{1}'\n")]
    uncut = CHUNKED.split("\n\n\ndef doc")[0] + "\n"   # every chunk parses alone
    variants += [uncut, uncut.replace('"0.0"', '"0.1"'), uncut + "\n\nasync def go():\n    pass\n",
                 # met deeper in an earlier chunk: the later, shallower default is the module's
                 uncut + "\n\ndef later():\n    pass\n\n\nQ = os.environ.get('WD', 'shallow')\n"]
    shipped_unit, uncut_unit = (CodeUnit.parse_python("t.py", text) for text in (shipped, uncut))
    uncut_tree = uncut_unit.tree
    readings = LoggedSources([shipped_unit, uncut_unit])
    for text in variants:
        _same_definitions(readings.definitions(text, "log.txt"), Definitions(parse_source(text), text))
    # the chunks of a shipped text are taken from its tree, not parsed again
    [config] = [n for n in uncut_tree.body if isinstance(n, ast.ClassDef)]
    assert readings.definitions(variants[-1], "log.txt").env["WD"] == "'shallow'"
    assert readings._chunks[uncut[uncut.index("class Config"):]].defs == [("Config", config, uncut[
        uncut.index("class Config"):].rstrip("\n"))]
    assert _chunk_starts("x = 1\r\n") is None
    assert len(_chunk_starts(CHUNKED)) == 5   # the header, first, Config, doc, and the string's line
    # the cut inside the docstring: that chunk does not parse alone, the text is read whole
    assert readings.definitions(CHUNKED, "log.txt").env == {"LR": "'0.1'", "STEPS": "'20'", "WD": "'0.0'"}
    broken = "def f(:\n    pass\n" * 3
    for reader in (lambda t: readings.definitions(t, "log.txt"), lambda t: Definitions(parse_source(t), t)):
        try:
            reader(broken)
            raise AssertionError("read")
        except SyntaxError:
            pass


def test_logged_sources_of_the_records_read_in_chunks_as_whole():
    """Every source the accepted records' logs carry, and every shipped script read as a log: the
    chunked reading gives what reading the whole text gives."""
    import pytest

    from golflint.code.parse import parse_source
    from golflint.config import default_settings
    from golflint.discovery import discover
    from golflint.logs.source import LoggedSources, logged_source
    from golflint.submission import Submission

    records = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "parameter-golf" / "records"
    if not records.is_dir():
        pytest.skip("the accepted records are absent (../shared/corpus)")
    settings = default_settings()
    compared = 0
    for job in discover([records], settings):
        sub = Submission(job.root, job.track, settings)
        units = sub.python_units
        readings = LoggedSources(units)
        texts = {logged_source(sub.text(rel) or "") for rel in sub.log_files} | {u.source for u in units}
        for text in sorted(t for t in texts if t):
            try:
                whole = Definitions(parse_source(text), text)
            except (SyntaxError, ValueError, RecursionError):
                continue
            _same_definitions(readings.definitions(text, "log"), whole)
            compared += 1
    assert compared > 100


def test_scope_closure_is_the_walk_of_each_expression_and_its_reaching_definitions():
    """`Scope.closure` walks inline: the nodes, in the order the `walk`-based fixpoint gives them,
    for every expression statement and assignment value of the reference trainer."""
    from golflint.facts.index import _pos, index_of, walk

    def by_walk(scope, expr):
        out, stack, seen = [], [expr], {id(expr)}
        while stack:
            for node in walk(stack.pop()):
                out.append(node)
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    for value in scope.reaching(node.id, _pos(node)):
                        if id(value) not in seen:
                            seen.add(id(value))
                            stack.append(value)
        return out

    idx = index_of(_reference_unit())
    checked = 0
    for scope in idx.scopes:
        for stmt in scope.nodes:
            value = getattr(stmt, "value", None)
            if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.Expr, ast.Return)) and value is not None:
                assert [id(n) for n in scope.closure(value)] == [id(n) for n in by_walk(scope, value)]
                checked += 1
    assert checked > 200


def test_target_closure_is_the_walk_based_fixpoint():
    """facts/targets.py `_closure` walks inline: the nodes, in the order of the generator over
    `walk` it replaced, for every assignment value and return value of the reference trainer, with
    the default limit and a small one."""
    from golflint.facts import targets
    from golflint.facts.index import index_of, walk

    def by_walk(scope, expr, limit=4000, bindings=None):
        appended = scope.derived("appended", targets._appended)
        unpacked = scope.derived("unpacked", targets._unpack_positions)
        out, seen, stack, count = [], set(), [expr], 0
        while stack and count < limit:
            for node in walk(stack.pop()):
                count += 1
                if id(node) in seen:
                    continue
                seen.add(id(node))
                out.append(node)
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    targets._follow(scope, node, stack, appended, unpacked, bindings)
        return out

    idx = index_of(_reference_unit())
    checked = 0
    for scope in idx.scopes:
        for stmt in scope.nodes:
            value = getattr(stmt, "value", None)
            if isinstance(stmt, (ast.Assign, ast.Return)) and value is not None:
                for limit in (4000, 7):
                    assert [id(n) for n in targets._closure(scope, value, limit)] == \
                        [id(n) for n in by_walk(scope, value, limit)]
                checked += 1
    assert checked > 150


def test_calls_by_written_name_are_the_filtered_scan_of_each_scope():
    from golflint.facts.index import index_of
    from golflint.rules.eval_integrity.prediction import LOGS, LOSSES, _calls_by_written_name, _calls_written, _func_name

    idx = index_of(_reference_unit())
    for scope in idx.scopes:
        calls = scope.of(ast.Call)
        assert set(_calls_by_written_name(scope)) == {_func_name(n) for n in calls}
        for names in ((*LOSSES, *LOGS), tuple(LOGS), ("range", "zeros"), ()):
            assert _calls_written(scope, names) == [n for n in calls if _func_name(n) in names]
