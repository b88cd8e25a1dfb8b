"""CodeUnit's shared node index must match ast.walk exactly: rules rely on its order."""

from __future__ import annotations

import ast
from pathlib import Path

from golflint.code.units import CodeUnit


def test_index_has_every_node_in_ast_walk_order():
    source = (Path(__file__).parent.parent / "reference" / "train_gpt.py").read_text(encoding="utf-8")
    unit = CodeUnit.parse_python("train_gpt.py", source)
    expected: dict[type, list[int]] = {}
    # expression contexts and operators are shared singletons: not indexed
    singletons = (ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)
    for node in ast.walk(unit.tree):
        if not isinstance(node, singletons):
            expected.setdefault(type(node), []).append(id(node))
    assert {t: [id(n) for n in nodes] for t, nodes in unit.index.items()} == expected


def test_nodes_of_several_types_come_sorted_by_position():
    unit = CodeUnit.parse_python("t.py", "import a\nx = 1\nfrom b import c\n")
    assert [type(n).__name__ for n in unit.nodes(ast.Import, ast.ImportFrom)] == ["Import", "ImportFrom"]


def test_unparsable_unit_has_an_empty_index():
    unit = CodeUnit.parse_python("t.py", "def f(:\n")
    assert unit.tree is None and unit.index == {} and unit.nodes(ast.Call) == []
