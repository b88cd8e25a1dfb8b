"""How the dataflow interpreter passes arguments into the functions it runs."""

from __future__ import annotations

from pathlib import Path

from golflint_testing import interpret

from golflint.dataflow.model import VALPATH

STARRED = """
def second(a, b):
    return b

def forward_all(*args):
    return second(*args)

first = forward_all("fineweb_val_000000.bin", "x")
both = forward_all("x", "fineweb_val_000000.bin")
"""


def test_a_pack_passed_on_with_a_star_goes_back_position_by_position(tmp_path: Path) -> None:
    env = interpret(tmp_path, STARRED).modules[0].env
    assert VALPATH in env["both"]        # the pack's second position is `second`'s `b`
    assert VALPATH not in env["first"]   # its first is not
