"""GL0xx: structure and metadata: required files, readable code, submission.json."""

from __future__ import annotations

from typing import Iterable

from ..findings import Finding, Severity
from .base import Invalid, Rule, Valid


class UnparsableCode(Rule):
    """Code that runs but cannot be parsed: a syntax error, non-UTF-8 bytes, or an unreadable file.

    **Why.** golflint analyzes the code that runs; code it cannot parse is code nobody reviewed.
    A train_gpt.py that does not parse also cannot run from the submission folder.

    **Example.** `def train(:` or a train_gpt.py saved as Latin-1 with non-ASCII bytes.

    **Instead.** Make the file valid Python 3 saved as UTF-8, and check it runs from its folder.
    """

    id = "GL000"
    name = "unparsable-code"
    severity = Severity.ERROR
    message = "code cannot be parsed"
    hint = "save the file as UTF-8 and fix the syntax error; run `python -m py_compile train_gpt.py`"
    valid = (
        Valid("print('hello')\n"),
        Valid("def f(x):\n    return x + 1\n"),
        Valid(files={"train_gpt.py": "import helper\n", "helper.py": "X = 1\n"}),
    )
    invalid = (
        Invalid("def train(:\n    pass\n", lines=1),
        Invalid(files={"train_gpt.py": b"# caf\xe9\nprint(1)\n"}),
        Invalid(files={"train_gpt.py": "import helper\n", "helper.py": "x = = 1\n"}, file="helper.py",
                lines=1),
    )

    def check(self, sub) -> Iterable[Finding]:
        for unit in sub.code_units:
            if unit.is_python and unit.syntax_error is not None:
                yield self.report_at(unit, unit.syntax_error_line,
                                     f"{unit.label} cannot be parsed: {unit.syntax_error}")


RULES: list[type[Rule]] = [UnparsableCode]
