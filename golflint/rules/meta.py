"""GL9xx: findings about golflint itself (suppressions, internal errors). Emitted by the engine."""

from __future__ import annotations

from typing import Iterable

from ..findings import Finding, Severity
from .base import Invalid, Rule, Valid, examples


class _EngineRule(Rule):
    """Rules whose findings the engine produces while applying suppressions or isolating crashes."""

    # The embedded examples of these rules need every rule to run (a suppression is unused only
    # if the rule it names ran and did not fire on that line).
    needs_all_rules = True

    def check(self, sub) -> Iterable[Finding]:
        return ()


class UnusedSuppression(_EngineRule):
    """A `# golflint: ignore[GLxxx] reason` comment that suppressed nothing.

    **Why.** A stale suppression hides the next real violation on that line, and tells a reviewer
    that something was waived when nothing was.

    **Instead.** Delete the comment, or move it to the line that carries the finding.
    """

    id = "GL900"
    name = "unused-suppression"
    severity = Severity.WARNING
    message = "suppression comment suppresses nothing"
    hint = "remove the comment, or put it on the line (or first line of the statement) with the finding"
    valid = examples(lambda: (
        Valid("import os\nx = 1\n"),
        Valid("import socket\n"
              "def download():\n"
              "    socket.create_connection(('example.org', 80))  # golflint: ignore[GL201] data-prep only\n"),
        Valid("x = 1  # golflint: ignore[GL777] rule that does not exist is not judged\n"),
    ))
    invalid = examples(lambda: (
        Invalid("x = 1  # golflint: ignore[GL999] left over from an old version\n", lines=1),
        Invalid("import os\nprint(os.getcwd())  # golflint: ignore[GL900, GL999] stale\n", lines=2),
        Invalid("def f():\n    return 2  # golflint: ignore[GL9] nothing here\n", lines=2),
    ))


class SuppressionWithoutReason(_EngineRule):
    """A suppression comment that gives no reason after the codes.

    **Why.** Compliance waivers need a justification a reviewer can check; a bare code list reads
    as "make the tool quiet". Such a comment suppresses nothing.

    **Example.** `import socket  # golflint: ignore[GL201]`

    **Instead.** `import socket  # golflint: ignore[GL201] only the data-prep command downloads`
    """

    id = "GL901"
    name = "suppression-without-reason"
    severity = Severity.WARNING
    message = "suppression comment gives no reason, so it suppresses nothing"
    hint = "write the reason after the codes: `# golflint: ignore[GL201] why this is fine`"
    valid = examples(lambda: (
        Valid("x = 1  # golflint: ignore[GL201] a reason\n"),
        Valid("x = 1  # a normal comment\n"),
        Valid("# golflint ignores nothing here\nx = 1\n"),
    ))
    invalid = examples(lambda: (
        Invalid("x = 1  # golflint: ignore[GL201]\n", lines=1),
        Invalid("x = 1\ny = 2  # golflint: ignore[GL101, GL104]\n", lines=2),
        Invalid("def f():\n    pass  # golflint: ignore[GL1]   \n", lines=2),
    ))


class InternalError(_EngineRule):
    """A rule crashed on this submission; its verdict is unknown.

    **Why.** golflint isolates each rule so one bug cannot hide the other rules' findings, but a
    crashed rule means the submission was not fully checked: the run exits 2.

    **Instead.** Report the message (it names the rule and the place) to the golflint developers;
    run with `--debug` to get the traceback.
    """

    id = "GL999"
    name = "internal-error"
    severity = Severity.ERROR
    message = "a golflint rule crashed on this submission"
    hint = "report this to the golflint developers; `--debug` shows the traceback"
    needs_all_rules = False


RULES = [UnusedSuppression, SuppressionWithoutReason, InternalError]
