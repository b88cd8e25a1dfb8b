"""Packed (self-extracting) code: static decoding, layers, findings, limits, `golflint unpack`."""

from __future__ import annotations

import lzma
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from golflint.cli import main
from golflint.code import packed
from golflint.config import default_settings
from golflint.rules import all_rules
from golflint.submission import Submission
from golflint_testing import run_rules, snapshot
from packing import STYLES, pack, packed_bytes, zlib_bomb

FIXTURES = Path(__file__).parent / "fixtures" / "packed"
CODE = "import os\n\n\ndef main():\n    print('decoded', os.getcwd())\n\n\nmain()\n"
README = "# Packed run\n\n```\ntorchrun --nproc_per_node=8 train_gpt.py\n```\n"


def sub_of(root: Path) -> Submission:
    return Submission(root, "record", default_settings())


def active(result, rule_id):
    return [f for f in result.findings if f.rule == rule_id and not f.suppressed]


@pytest.mark.parametrize("style", STYLES)
def test_every_wrapper_style_decodes_to_the_source(style):
    layers, problems = packed.decode_file(pack(CODE, style))
    assert problems == []
    assert [u.source for u in layers] == [CODE]
    assert layers[0].tree is not None


def test_nested_layers_are_labelled_and_chained():
    script = pack(pack(pack(CODE, "gzip-hex"), "zlib-b64-variable"), "lzma-b85")
    layers, problems = packed.decode_file(script)
    assert problems == []
    assert [u.label for u in layers] == [f"train_gpt.py (decoded, layer {n})" for n in (1, 2, 3)]
    assert layers[-1].source == CODE
    assert layers[1].parent is layers[0] and layers[0].parent.layer == 0
    assert all(u.path == "train_gpt.py" and not u.counted for u in layers)
    assert layers[0].reason == "decoded from train_gpt.py line 2 (exec of b85decode, decompress)"


def test_two_payloads_in_one_file_get_distinct_labels():
    script = pack("x = 1\n", "gzip-hex") + pack("y = 2\n", "dunder-import")
    layers, _ = packed.decode_file(script)
    assert sorted(u.label for u in layers) == ["train_gpt.py (decoded, layer 1, exec at line 2)",
                                               "train_gpt.py (decoded, layer 1, exec at line 3)"]


@pytest.mark.parametrize("code", [
    "import os\nlr = eval(os.environ.get('LR', '3e-4'))\n",
    "import re, torch\nr = re.compile('a')\nm = torch.compile(torch.nn.Linear(2, 2))\n",
    "import zlib\nw = zlib.decompress(open('w.bin', 'rb').read())\n",
    "x = eval('1 + 2')\n",
])
def test_look_alikes_are_neither_layers_nor_findings(code):
    layers, problems = packed.decode_file(code)
    assert layers == [] and problems == []


def test_packed_submission_is_analyzed_as_the_script(make_sub):
    code = (FIXTURES / "ttt_score_first" / "train_gpt.py").read_text()
    root = make_sub({"train_gpt.py": pack(code), "README.md": README})
    sub = sub_of(root)
    [layer] = [u for u in sub.python_units if u.layer == 1]
    assert layer.source == code and layer.label == "train_gpt.py (decoded, layer 1)"
    result = run_rules(root)
    assert [f for f in result.findings if f.rule in ("GL000", "GL010", "GL011")] == []
    assert [f.rule for f in result.findings if f.rule == "GL304"] == ["GL304"]
    if "GL101" in all_rules():
        assert active(result, "GL101") == []


def test_violation_inside_a_packed_layer_points_into_the_layer(make_sub):
    if "GL101" not in all_rules():
        pytest.skip("GL101 (trained before scored) is not on this branch yet")
    code = (FIXTURES / "ttt_pre_eval" / "train_gpt.py").read_text()
    root = make_sub({"train_gpt.py": pack(code), "README.md": README})
    findings = active(run_rules(root, ["GL101"]), "GL101")
    assert findings and all(f.where == "train_gpt.py (decoded, layer 1)" for f in findings)
    assert all(f.file == "train_gpt.py" and f.line > 2 for f in findings)


def test_findings_and_suppressions_inside_decoded_code(make_sub):
    inner = ("import sys\n"
             "exec(sys.stdin.read())\n"
             "exec(sys.argv[1])  # golflint: ignore[GL010] reviewed: a debugging hook, never used in runs\n")
    root = make_sub({"train_gpt.py": pack(inner)})
    findings = [f for f in run_rules(root, ["GL010"]).findings if f.rule == "GL010"]
    by_line = {f.line: f for f in findings}
    assert set(by_line) == {2, 3}
    assert by_line[2].where == "train_gpt.py (decoded, layer 1)" and not by_line[2].suppressed
    assert by_line[3].suppressed
    assert by_line[2].location == "train_gpt.py (decoded, layer 1):2"


@pytest.mark.parametrize("script,kind", [
    ("import sys\nexec(sys.argv[1])\n", "computed"),
    ("exec(open('/opt/stage2.py').read())\n", "file"),
    ("import requests\nexec(requests.get('https://example.org/x.py').text)\n", "network"),
    ("import marshal, zlib\nexec(marshal.loads(zlib.decompress(b'')))\n", "bytecode"),
    ("exec(''.join(map(chr, [120, 61, 49])))\n", "computed"),
])
def test_code_that_cannot_be_read_is_an_error(make_sub, script, kind):
    root = make_sub({"train_gpt.py": script})
    [f] = active(run_rules(root, ["GL010"]), "GL010")
    assert f.severity.value == "error" and f.data["kind"] == kind
    assert "cannot be read statically" in f.message


def test_exec_of_a_python_file_in_the_folder_is_followed_as_code(make_sub):
    # An accepted record runs `exec(open(__file__.replace("train_gpt.py", "train_gpt_decode.py")).read())`:
    # the sibling is code that runs, so it is analyzed and counted (golflint/layout.py).
    root = make_sub({"train_gpt.py": "exec(open('./stage2.py').read())\n", "stage2.py": "x = 1\n"})
    assert active(run_rules(root, ["GL010"]), "GL010") == []


@pytest.mark.parametrize("call, followed", [
    ("exec", True),
    ("\uff45\uff58\uff45\uff43", True),   # fullwidth letters: Python reads the name as `exec` (NFKC)
    ("print", False),
])
def test_a_file_the_script_execs_is_loaded_however_exec_is_spelled(make_sub, call, followed):
    root = make_sub({"train_gpt.py": f"{call}(open('./lib/stage2.py').read())\n", "lib/stage2.py": "x = 1\n"})
    units = Submission(root, "record", default_settings()).code_units
    assert [(u.path, u.reason) for u in units if u.path == "lib/stage2.py"] == (
        [("lib/stage2.py", "exec'd by train_gpt.py line 1")] if followed else [])


def test_exec_of_a_non_python_file_in_the_folder_is_a_warning(make_sub):
    root = make_sub({"train_gpt.py": "exec(open('./stage2.txt').read())\n", "stage2.txt": "x = 1\n"})
    [f] = active(run_rules(root, ["GL010"]), "GL010")
    assert f.severity.value == "warning" and "stage2.txt is in the folder" in f.message


def _truncated() -> str:
    script = pack(CODE * 20)
    return script[:len(script) // 2] + "')))\n"


@pytest.mark.parametrize("script,kind,fragment", [
    (_truncated(), "corrupt", "truncated"),
    (packed_bytes(b"\x78\x9c" + b"\xff" * 64), "corrupt", "corrupt"),
    (packed_bytes(zlib.compress(bytes(range(256)) * 8)), "binary", "NUL bytes"),
    (packed_bytes(zlib.compress("# caf\u00e9 au lait\n".encode("latin-1"))), "not-utf8", "offset 5"),
    (packed_bytes(lzma.compress(b"\x00junk" * 100), "lzma"), "binary", "binary"),
])
def test_malformed_payloads_are_findings(make_sub, script, kind, fragment):
    root = make_sub({"train_gpt.py": script})
    before = snapshot(root)
    [f] = active(run_rules(root, ["GL011"]), "GL011")
    assert f.data["kind"] == kind and fragment in f.message
    assert snapshot(root) == before


def test_a_gigabyte_bomb_is_stopped_at_the_limit(make_sub):
    bomb = zlib_bomb(1024)
    assert len(bomb) < 1_100_000
    root = make_sub({"train_gpt.py": packed_bytes(bomb)})
    [f] = active(run_rules(root, ["GL011"]), "GL011")
    assert f.data["kind"] == "bomb" and "64,000,000 bytes" in f.message


def test_layer_limit(make_sub):
    code = "x = 1\n"
    for _ in range(4):
        code = pack(code, "gzip-hex")
    root = make_sub({"train_gpt.py": code})
    result = run_rules(root, ["GL011"], settings_overrides={"packed": {"max_layers": 2}})
    [f] = active(result, "GL011")
    assert f.data["kind"] == "too-deep" and f.where == "train_gpt.py (decoded, layer 2)"


def test_sizes_report_stored_and_decoded_bytes(make_sub):
    inner = pack(CODE, "gzip-hex")
    root = make_sub({"train_gpt.py": pack(inner)})
    sub = sub_of(root)
    sizes = packed.sizes(sub, sub.code_units)
    assert sizes == {"train_gpt.py": packed.PackedSizes(
        (root / "train_gpt.py").stat().st_size, (len(inner.encode()), len(CODE.encode())))}


# -- golflint unpack ------------------------------------------------------------------------------
@pytest.mark.parametrize("fixture", ["ttt_score_first", "ttt_pre_eval"])
@pytest.mark.parametrize("style", ["lzma-b85", "zlib-b64-variable", "lzma-raw-filters"])
def test_unpack_prints_every_packed_fixture(tmp_path, fixture, style):
    code = (FIXTURES / fixture / "train_gpt.py").read_text()
    script = tmp_path / "train_gpt.py"
    script.write_text(pack(code, style))
    result = CliRunner().invoke(main, ["unpack", str(script)])
    assert result.exit_code == 0, result.output
    assert result.stdout == code


def test_unpack_writes_out_and_never_overwrites_the_input(tmp_path):
    script = tmp_path / "train_gpt.py"
    script.write_text(pack(pack(CODE), "zlib-b64-variable"))
    before = script.read_text()
    out = tmp_path / "decoded.py"
    result = CliRunner().invoke(main, ["unpack", str(script), "-o", str(out)])
    assert result.exit_code == 0 and out.read_text() == CODE
    result = CliRunner().invoke(main, ["unpack", str(script), "-o", str(script)])
    assert result.exit_code == 2 and "refusing to overwrite" in result.output
    assert script.read_text() == before
    result = CliRunner().invoke(main, ["unpack", str(script), "--all-layers"])
    assert "# ---- train_gpt.py (decoded, layer 1)" in result.stdout and CODE in result.stdout


@pytest.mark.parametrize("content,code,message", [
    ("print('plain')\n", 1, "is not packed"),
    (packed_bytes(zlib_bomb(256)), 1, "packed.max_decoded_bytes"),
    (b"\xff\xfe binary", 2, "is not UTF-8"),
])
def test_unpack_failures_are_messages(tmp_path, content, code, message):
    script = tmp_path / "train_gpt.py"
    script.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = CliRunner().invoke(main, ["unpack", str(script)])
    assert result.exit_code == code and message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.xfail(reason="known blind spot: payloads decoded by a user-defined function are reported "
                          "as unreadable (GL010), not decoded", strict=True)
def test_payload_through_a_user_defined_decoder_is_decoded():
    import base64

    blob = base64.b64encode(zlib.compress(CODE.encode())).decode()
    script = f"import zlib, base64\ndef unpack(s):\n    return zlib.decompress(base64.b64decode(s))\nexec(unpack({blob!r}))\n"
    layers, _ = packed.decode_file(script)
    assert [u.source for u in layers] == [CODE]


def test_payload_cleaned_with_replace_and_join_is_decoded():
    import base64
    blob = base64.b85encode(lzma.compress(CODE.encode()))
    wrapped = b"\n".join(blob[i:i + 60] for i in range(0, len(blob), 60))
    script = (f'import lzma, base64\n_b = b"""\n{wrapped.decode()}\n"""\n'
              'exec(lzma.decompress(base64.b85decode(_b.replace(b"\\n", b""))).decode("utf-8"))\n')
    layers, problems = packed.decode_file(script)
    assert not problems and layers[-1].source == CODE
    parts = [blob[:40].decode(), blob[40:].decode()]
    script = (f'import lzma, base64\nexec(lzma.decompress(base64.b85decode("".join({parts!r}))))\n')
    layers, problems = packed.decode_file(script)
    assert not problems and layers[-1].source == CODE
