"""Suppression comments: parsing, statement coverage, strings that only look like comments."""

from __future__ import annotations

from golflint.code.suppress import parse_suppressions
from golflint.code.units import CodeUnit


def _sups(src: str):
    return parse_suppressions(CodeUnit.parse_python("train_gpt.py", src))


def test_comment_on_line_is_parsed_with_codes_and_reason():
    (s,) = _sups("import socket  # golflint: ignore[GL201, gl202] data prep only\n")
    assert s.codes == ("GL201", "GL202") and s.reason == "data prep only" and s.line == 1


def test_comment_on_first_line_covers_the_whole_statement():
    src = "x = call(  # golflint: ignore[GL201] reason\n    a,\n    b,\n)\ny = 2\n"
    (s,) = _sups(src)
    assert {1, 2, 3, 4} <= s.covers and 5 not in s.covers


def test_hash_inside_a_string_is_not_a_comment():
    src = 's = "# golflint: ignore[GL201] not a comment"\nt = 1  # golflint: ignore[GL202] real\n'
    sups = _sups(src)
    assert [(s.line, s.codes) for s in sups] == [(2, ("GL202",))]


def test_multiline_string_does_not_hide_a_later_comment():
    src = 'doc = """\n# golflint: ignore[GL201] inside a docstring\n"""\nx = 1  # golflint: ignore[GL203] ok\n'
    assert [s.line for s in _sups(src)] == [4]


def test_unparsable_code_still_finds_comments():
    src = "def f(:\n    x = 1  # golflint: ignore[GL201] reason\n"
    assert [s.line for s in _sups(src)] == [2]


def test_missing_reason_is_kept_with_empty_reason():
    (s,) = _sups("x = 1  # golflint: ignore[GL201]\n")
    assert s.reason == ""
