"""Python 3.12 grammar on any interpreter: golflint/code/parse.py.

The tree golflint builds must be the tree CPython 3.12 builds (same nodes, same positions outside
f-string internals), so every rule gives the same findings on 3.11 as on 3.12. Where a 3.12
interpreter exists it is asked directly; otherwise the shape it printed for our sample is stored in
tests/data/pep701_sample.shape312.json.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ast_compare import shape
from golflint_testing import make_submission, run_rules

from golflint.code.parse import parse_source
from golflint.code.units import CodeUnit

HERE = Path(__file__).parent
SAMPLE = HERE / "data" / "pep701_sample.py"
STORED_SHAPE = HERE / "data" / "pep701_sample.shape312.json"
PEP701_RECORDS = [
    "2026-04-03_MuonEqR_DepthRecurrence_WD090_AllInt6",
    "2026-04-06_SP8192_QK5_LegalTTT_1.0828",
    "2026-04-08_SP8192_ParallelResid_ScoreFirstTTT",
    "2026-04-09_A2_Muon097_3Seed",
    "2026-04-09_SP8192_3LayerRecur_ParResid_QK525_LegalTTT",
]


def python312() -> str | None:
    """A Python >= 3.12 interpreter (GOLFLINT_PYTHON312, python3.12 on PATH, or a pyenv install)."""
    candidates = [os.environ.get("GOLFLINT_PYTHON312"), shutil.which("python3.12"),
                  *sorted(glob.glob("/root/.pyenv/versions/3.1[2-9]*/bin/python3"))]
    for candidate in candidates:
        if not candidate:
            continue
        try:
            done = subprocess.run([candidate, "-c", "import sys; assert sys.version_info >= (3, 12)"],
                                  capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return candidate
    return None


def shape_under_312(interpreter: str, path: Path) -> list:
    done = subprocess.run([interpreter, str(HERE / "ast_compare.py"), str(path)],
                          capture_output=True, text=True, timeout=300, check=True)
    return json.loads(done.stdout)


def as_json(value) -> list:
    return json.loads(json.dumps(value))


def corpus_records() -> Path:
    for base in (Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus",
                 Path(os.environ.get("GOLFLINT_CORPUS", "/nonexistent"))):
        records = base / "parameter-golf" / "records"
        if records.is_dir():
            return records
    pytest.skip("the accepted records are absent: set GOLFLINT_CORPUS to a folder holding "
                "parameter-golf/records (see docs/corpus.md)")


def test_the_sample_is_code_this_interpreter_cannot_parse_alone():
    if sys.version_info >= (3, 12):
        pytest.skip("3.12+ reads PEP 701 itself; the fallback is for 3.10/3.11")
    import ast

    with pytest.raises(SyntaxError):
        ast.parse(SAMPLE.read_text(encoding="utf-8"))


def test_pep701_sample_gives_the_tree_of_python_312():
    mine = as_json(shape(parse_source(SAMPLE.read_text(encoding="utf-8"))))
    interpreter = python312()
    expected = (shape_under_312(interpreter, SAMPLE) if interpreter
                else json.loads(STORED_SHAPE.read_text(encoding="utf-8")))
    assert mine == expected


def test_the_stored_shape_is_what_python_312_prints():
    interpreter = python312()
    if interpreter is None:
        pytest.skip("no Python 3.12+ here; the stored shape is used instead")
    assert shape_under_312(interpreter, SAMPLE) == json.loads(STORED_SHAPE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", PEP701_RECORDS[:2])
def test_accepted_pep701_record_parses_as_under_312(name, tmp_path):
    records = corpus_records()
    interpreter = python312()
    if interpreter is None:
        pytest.skip("no Python 3.12+ interpreter here to compare with")
    result = run_rules(records / "track_10min_16mb" / name, ["GL000"])
    assert [f for f in result.findings if f.rule == "GL000"] == []
    from golflint.config import default_settings
    from golflint.submission import Submission

    sub = Submission(records / "track_10min_16mb" / name, "record", default_settings())
    decoded = [u for u in sub.code_units if u.is_python and u.layer == 1]
    assert decoded and decoded[0].tree is not None
    source = tmp_path / "decoded.py"
    source.write_text(decoded[0].source, encoding="utf-8")
    assert as_json(shape(decoded[0].tree)) == shape_under_312(interpreter, source)


def test_byte_order_mark_is_not_a_syntax_error(tmp_path):
    unit = CodeUnit.parse_python("train_gpt.py", "\ufeffimport os\nprint(os.sep)\n")
    assert unit.syntax_error is None and unit.tree is not None
    assert unit.tree.body[1].lineno == 2
    root = make_submission(tmp_path / "records" / "track_10min_16mb" / "bom",
                           {"train_gpt.py": "\ufeffimport os\nprint(os.sep)\n".encode("utf-8")})
    assert [f for f in run_rules(root, ["GL000"]).findings if f.rule == "GL000"] == []


@pytest.mark.parametrize("source", [
    'x = f"{"\n',                       # an unterminated field: no grammar accepts it
    "def (:\n    pass\n",
    'x = f"{d["k"]}" +\n',              # 3.12 f-string, but the statement itself is broken
])
def test_code_no_grammar_accepts_still_fails_to_parse(source, tmp_path):
    unit = CodeUnit.parse_python("train_gpt.py", source)
    assert unit.tree is None and unit.syntax_error
    root = make_submission(tmp_path / "records" / "track_10min_16mb" / "broken", {"train_gpt.py": source})
    assert [f.rule for f in run_rules(root, ["GL000"]).findings] == ["GL000"]


def test_placeholder_never_shadows_a_name_of_the_submission():
    source = '_p0 = 1\nx = f"{_p0} {dict(a=1)["a"]}"\n'
    tree = parse_source(source)
    names = {n.id for n in __import__("ast").walk(tree) if type(n).__name__ == "Name"}
    assert "_p0" in names and not any(n.startswith("__p") for n in names)


# The lexical scan (parse._string_groups) lets libcst read only the strings the running `ast`
# cannot; it must give exactly the tree of libcst reading the whole module, whatever the lexical
# corner. Each case is code 3.11 cannot parse alone, our own.
TRICKY = [
    'x = f"{d["k"]}"  # a comment with "quotes" and f"{no}"\ny = r"\\"" + f"{d["j"]}"\n',
    'x = (f"{d["a"]}"\n     "plain"  # between pieces\n     f"{d["b"]!r:>{w}}")\n',
    'x = f"{a!=b} {d["k"]:{w}.{p}f} {{literal}} {x if y else"z"}"\n',
    "x = f'''\n{d['k']}\n{ f\"{d[\"n\"]}\" }\n'''\n",
    'x = rf"\\d{d["k"]}\\{{" + F"{d["k"]=}"\n',
    'def f(d):\n    return f"{d["k"]}", "}" , "{"\n',
    'x = f"{d[\n    "k"]}"\n',
]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12+ reads PEP 701 itself")
@pytest.mark.parametrize("source", TRICKY)
def test_reading_only_the_offending_strings_gives_the_whole_module_tree(source):
    import ast

    from golflint.code import parse

    with pytest.raises(SyntaxError):
        ast.parse(source)
    fast = parse._read_offending_groups(source, parse._offending_groups(source))
    assert fast is not None, "the scan should be sure of this code"
    whole = parse._read_whole_module(source)
    assert ast.dump(parse._substitute_pieces(source, "t.py", *fast), include_attributes=True) == \
        ast.dump(parse._substitute_pieces(source, "t.py", *whole), include_attributes=True)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12+ reads PEP 701 itself")
@pytest.mark.parametrize("source", TRICKY)
def test_tricky_sources_parse_as_under_312(source, tmp_path):
    interpreter = python312()
    if interpreter is None:
        pytest.skip("no Python 3.12+ interpreter here to compare with")
    path = tmp_path / "tricky.py"
    path.write_text(source, encoding="utf-8")
    assert as_json(shape(parse_source(source))) == shape_under_312(interpreter, path)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12+ reads PEP 701 itself")
def test_an_unsure_scan_falls_back_to_reading_the_whole_module():
    from golflint.code import parse

    source = 'x = f"{d["k"]}"\ny = "unterminated\n'
    assert parse._read_offending_groups(source, parse._offending_groups(source)) is None
    with pytest.raises(SyntaxError):
        parse_source(source)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12+ reads PEP 701 itself")
def test_code_broken_elsewhere_is_not_read_again_by_libcst():
    """Text that no grammar accepts, whose f-strings the running `ast` reads (a log's settings
    echo taken for source): the scan is sure there is nothing to replace, so neither libcst's
    whole-module reading (a third of a second on a long log) nor its import (0.2 s) is paid."""
    from golflint.code import parse

    source = 'print(f"{x}")\nlogfile: logs/1337.txt\n'
    assert parse._read_offending_groups(source, parse._offending_groups(source)) is parse._NONE_OFFENDING
    code = ("import sys\n"
            "from golflint.code.parse import parse_source\n"
            "try:\n    parse_source(sys.argv[1])\nexcept SyntaxError:\n    print('SyntaxError')\n"
            "print('libcst' in sys.modules)\n")
    env = {**os.environ, "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", code, source], capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.stdout.split() == ["SyntaxError", "False"], done.stderr


# Offending f-strings that only reuse their own quote inside a field are written with the other
# quote and read by the running `ast` (no libcst): the same tree as libcst's reading, and as 3.12's.
SWAPPABLE = [
    'x = f"{d["k"]}"\n',
    'x = F"{d["k"]=} {f"{z}"!r:>{w}}" + rf"{d["j"]}"\n',
    'x = f"{a!=b} {d["k"]:{w}.{p}f} {{literal}} {x if y else"z"}"\n',
    'print(f"  {cat}: {", ".join(sorted(categories[cat]))}")\n',     # as in an accepted record
    "x = f'{d['k']}'  # the other quote: \"\n",
]
NOT_SWAPPABLE = [
    'x = f"{d["a"]}" "plain"\n',                      # a concatenation: one string only
    'x = (f"{d["a"]}"\n     "plain")\n',
    'x = f"""{d["""k"""]}"""\n',                      # triple-quoted
    'x = f"{d["k"]}\\n"\n',                            # a backslash
    'x = f"{d["k"]} it\'s"\n',                         # the other quote inside
]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12+ reads PEP 701 itself")
@pytest.mark.parametrize("source", SWAPPABLE)
def test_swapped_quotes_give_the_tree_of_libcst_and_of_312(source, tmp_path):
    import ast

    from golflint.code import parse

    with pytest.raises(SyntaxError):
        ast.parse(source)
    offending = parse._offending_groups(source)
    swapped = parse._quotes_swapped(source, offending)
    assert swapped is not None and len(swapped) == len(source)
    mine = parse_source(source)
    assert ast.dump(mine, include_attributes=False) == ast.dump(ast.parse(swapped), include_attributes=False)
    by_libcst = parse._substitute_pieces(source, "t.py", *parse._read_offending_groups(source, offending))
    assert shape(mine) == shape(by_libcst)
    interpreter = python312()
    if interpreter is not None:
        path = tmp_path / "swapped.py"
        path.write_text(source, encoding="utf-8")
        assert as_json(shape(mine)) == shape_under_312(interpreter, path)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12+ reads PEP 701 itself")
@pytest.mark.parametrize("source", NOT_SWAPPABLE)
def test_quotes_are_not_swapped_where_that_could_change_the_string(source):
    from golflint.code import parse

    offending = parse._offending_groups(source)
    assert offending and parse._quotes_swapped(source, offending) is None
    assert parse_source(source) is not None   # libcst reads it instead


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12+ reads PEP 701 itself")
def test_swappable_f_strings_do_not_import_libcst():
    code = ("import sys\n"
            "from golflint.code.parse import parse_source\n"
            "parse_source(sys.argv[1])\n"
            "print('libcst' in sys.modules)\n")
    env = {**os.environ, "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for source, imported in ((SWAPPABLE[1], "False"), (NOT_SWAPPABLE[0], "True")):
        done = subprocess.run([sys.executable, "-c", code, source], capture_output=True, text=True, env=env,
                              timeout=60)
        assert done.stdout.split() == [imported], done.stderr
