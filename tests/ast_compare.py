"""Compare two Python trees the way the rules see them (used by tests/test_parse.py).

Positions are compared for every node outside f-strings, and for the f-string itself; not for the
pieces inside an f-string: CPython's own releases disagree there (3.11's ast misplaces fields of
multi-line f-strings, 3.12.1 adds an empty Constant to a format spec), and rules report on the
statement or call around them. Node types and values are compared everywhere.
"""

from __future__ import annotations

import ast
import json
import sys


def shape(tree: ast.AST) -> list:
    out: list = []

    def visit(node: ast.AST, precise: bool) -> None:
        row: list = [type(node).__name__]
        if precise and hasattr(node, "lineno"):
            row += [node.lineno, node.col_offset, node.end_lineno, node.end_col_offset]
        for name, value in ast.iter_fields(node):
            if isinstance(value, ast.AST):
                row.append(name)
                out.append(row)
                row = [type(node).__name__ + "." + name]
                visit(value, precise and name != "format_spec")
            elif name == "type_params" and not value:
                continue  # 3.12 added the field (PEP 695); empty, it says nothing
            elif isinstance(value, list):
                items = value
                if isinstance(node, ast.JoinedStr):
                    items = [v for v in value if not (isinstance(v, ast.Constant) and v.value == "")]
                row.append((name, len(items)))
                for item in items:
                    if isinstance(item, ast.AST):
                        inner_precise = precise and not isinstance(node, ast.JoinedStr)
                        visit(item, inner_precise)
                    else:
                        row.append(repr(item))
            elif name != "ctx":
                row.append((name, repr(value)))
        out.append(row)

    visit(tree, True)
    return out


if __name__ == "__main__":  # run by another interpreter (3.12+): print the shape of a file's tree
    with open(sys.argv[1], encoding="utf-8") as handle:
        print(json.dumps(shape(ast.parse(handle.read()))))
