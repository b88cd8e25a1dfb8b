"""The severity policy: what is an error and what is a warning, shown by `golflint rules explain`.

Kept in one place so the rulebook (rules.toml comments), the docs (docs/judging.md) and the CLI say
the same thing.
"""

SEVERITY_POLICY = """\
**Severity policy.** An *error* is something the organizers reject a pull request for: a rule
violation, the artifact over the cap (either track), a record-track run over a time cap in a log
that backs the claims, a claim the logs contradict enough to change the verdict (a headline better
than its seeds by the significance margin, a byte claim under the cap hiding a total over it, a
record-track score found nowhere in its log as a final score). An inconsistency the organizers
accepted is a *warning* with the same evidence: a byte claim a few hundred bytes off with every
figure under the cap, a headline taken from a non-final score line of the log, a missing `name`
field, a headline 0.0006 off the seed mean, a claimed seed without its log, significance not shown
against the record before it. Calibrated on the accepted `records/` tree (tests/test_records.py);
see docs/judging.md."""
