"""Native siblings: discovery, tree-sitter parsing, checks under GL103/GL104/GL105/GL203."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from golflint.code.native_checks import NATIVE_CHECKS
from golflint.config import default_settings
from golflint.native.checks import boundary_roles
from golflint.rules import all_rules
from golflint.submission import Submission
from golflint_testing import run_rules, snapshot

FIXTURES = Path(__file__).parent / "fixtures" / "packed"


def sub_of(root: Path, **settings) -> Submission:
    base = default_settings()
    return Submission(root, "record", base.with_overrides(settings) if settings else base)


def native_findings(sub: Submission) -> list[tuple[str, str, int | None, str]]:
    out = []
    for unit in sub.code_units:
        if unit.is_python:
            continue
        for rule_id, check in NATIVE_CHECKS.items():
            out.extend((rule_id, unit.label, line, message) for line, message in check(unit, sub))
    return sorted(out, key=lambda f: (f[0], f[2] or 0))


def copy_fixture(tmp_path: Path, name: str) -> Path:
    root = tmp_path / "records" / "track_10min_16mb" / name
    shutil.copytree(FIXTURES / name, root)
    return root


def test_discovery_of_every_way_native_code_enters(make_sub):
    root = make_sub({
        "train_gpt.py": (
            "import ctypes, os, subprocess, cffi\n"
            "from torch.utils.cpp_extension import load, load_inline\n"
            "subprocess.run(['gcc', '-O3', '-shared', 'a.c', '-o', 'liba.so'], check=True)\n"
            "b = ctypes.CDLL('./libb.so')\n"
            "ext = load(name='k', sources=[os.path.join(os.path.dirname(__file__), 'k.cu')])\n"
            "SRC = '''\n"
            "int twice(int x) { return 2 * x; }\n"
            "'''\n"
            "m = load_inline(name='m', cpp_sources=SRC, functions=['twice'])\n"
            "os.system('nvcc -O3 -o mix mix.cu')\n"
            "ffi = cffi.FFI()\n"
            "ffi.set_source('_f', 'int f(int x) { return x; }')\n"),
        "a.c": '#include "a.h"\nint a(void) { return A; }\n', "a.h": "#define A 1\n",
        "b.cc": "extern \"C\" int b() { return 2; }\n",
        "k.cu": "__global__ void k(float *x) { x[0] = 1.f; }\n",
        "mix.cu": "int main() { return 0; }\n",
        "unused.c": "int never_built(void) { return 0; }\n",
    })
    units = {u.label: u for u in sub_of(root).code_units if not u.is_python}
    assert set(units) == {"a.c", "a.h", "b.cc", "k.cu", "mix.cu",
                          "train_gpt.py line 6 (load_inline cpp_sources)",
                          "train_gpt.py line 12 (cffi set_source)"}
    assert units["a.c"].reason == "compiled by train_gpt.py line 3 (gcc)"
    assert units["b.cc"].reason == "source of libb.so, loaded by train_gpt.py line 4"
    assert units["a.h"].reason == "included by a.c"
    assert (units["k.cu"].language, units["mix.cu"].language) == ("cuda", "cuda")
    inline = units["train_gpt.py line 6 (load_inline cpp_sources)"]
    assert inline.line_text(7) == "int twice(int x) { return 2 * x; }" and inline.counted
    assert not units["a.c"].counted


def test_boundary_maps_python_arrays_to_c_parameters():
    sub = sub_of(FIXTURES / "native_cache_illegal")
    assert boundary_roles(sub) == {"score_target_keyed": {0: "tokens", 1: "gold"}}


def test_illegal_cache_findings():
    got = [(rule, line) for rule, _, line, _ in native_findings(sub_of(FIXTURES / "native_cache_illegal"))]
    assert got == [("GL103", 41), ("GL104", 18), ("GL104", 31), ("GL105", 19), ("GL203", None)]


def test_legal_cache_keyed_on_context_and_updated_after_scoring_is_clean():
    sub = sub_of(FIXTURES / "native_cache_legal", bytes={"code_files": ["train_gpt.py", "ngram.c"]})
    assert native_findings(sub) == []


def test_uncounted_native_source_is_reported_once():
    [finding] = native_findings(sub_of(FIXTURES / "native_cache_legal"))
    assert finding[0] == "GL203" and "ngram.c (1,008 bytes) is compiled by train_gpt.py line 7 (gcc)" in finding[3]


C_LEGAL = {
    "count of the scored token updated after its hint, gated on the count": """
        static unsigned long long pair_key(unsigned long long ctx, unsigned v) { return (ctx * 1000003ull) ^ v; }
        void f(const int *tokens, int *hint, unsigned *count, unsigned *best, int n) {
            unsigned long long ctx = 7;
            for (int i = 0; i < n; i++) {
                hint[i] = best[ctx & 1023];
                unsigned c = ++count[pair_key(ctx, tokens[i]) & 4095];
                if (c == 1) best[ctx & 1023] = tokens[i];
                ctx = ctx * 31 + 1;
            }
        }""",
    "helper of this file that only clamps the target": """
        static int clampi(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }
        double f(const int *tokens, const float *p, int n, int V) {
            double nll = 0;
            for (int i = 0; i + 1 < n; i++) nll -= log(p[i * V + clampi(tokens[i + 1], 0, V - 1)]);
            return nll;
        }""",
    "exact index of the gold count": """
        double f(const int *tokens, const float *cnt, const float *tot, int n, int V) {
            double nll = 0;
            for (int i = 1; i < n; i++) { int c = tokens[i - 1]; nll -= log(cnt[c * V + tokens[i]] / tot[c]); }
            return nll;
        }""",
    "mixture over the vocabulary": """
        double f(const int *tokens, const float *pm, const float *pc, float *mix, int n, int vocab, float w) {
            double nll = 0;
            for (int i = 0; i < n; i++) {
                for (int v = 0; v < vocab; v++) mix[v] = w * pm[i * vocab + v] + (1.0f - w) * pc[v];
                nll -= log(mix[tokens[i]]);
            }
            return nll;
        }""",
    "update after the read": """
        double f(const int *tokens, float *seen, int n) {
            double nll = 0;
            for (int i = 1; i < n; i++) { nll -= log((seen[tokens[i - 1]] + 1) / (i + 1)); seen[tokens[i - 1]] += 1; }
            return nll;
        }""",
    "hint gated on the previous token": """
        typedef struct { unsigned top; unsigned total; unsigned best; } Slot;
        void f(const unsigned short *tokens, const unsigned char *starts_word, Slot *tab, unsigned *hint,
               float *conf, int n) {
            unsigned h = 0;
            for (int i = 1; i < n; i++) {
                const unsigned char fresh = starts_word[tokens[i - 1]];
                h = fresh ? 0 : h * 31 + tokens[i - 1];
                if (!fresh) { hint[i] = tab[h & 1023].top; conf[i] = (float)tab[h & 1023].best / tab[h & 1023].total; }
                else { hint[i] = 0; conf[i] = 0.0f; }
                tab[h & 1023].total += 1;
            }
        }""",
    "per-token bookkeeping gated on the target": """
        void f(const unsigned short *tokens, const unsigned char *lead_space, const unsigned char *width,
               unsigned *nbytes, int n) {
            for (int i = 0; i < n; i++) {
                const unsigned short tok = tokens[i];
                if (lead_space[tok]) nbytes[i] = width[tok] + 1; else nbytes[i] = width[tok];
            }
        }""",
    "per-position blend stored, not scored as a probability": """
        double f(const float *x, const float *y, float *out, int n, float a) {
            double s = 0;
            for (int i = 0; i < n; i++) { out[i] = a * x[i] + (1 - a) * y[i]; s += log(1.0 + out[i]); }
            return s;
        }""",
    "scalar mixture at every vocabulary entry of a row": """
        double f(const int *tokens, const float *pm, const float *uni, int n, int vocab, float w) {
            double h = 0;
            for (int i = 1; i < n; i++) {
                for (int v = 0; v < vocab; v++) {
                    float q = w * pm[i * vocab + v] + (1.0f - w) * uni[v];
                    h -= q * log(q);
                }
            }
            return h;
        }""",
    "scalar mixture at every token id, then the gold one scored": """
        double f(const int *tokens, const float *pm, const float *uni, float *mix, int n, int vocab, float w) {
            double nll = 0;
            for (int i = 1; i < n; i++) {
                double h = 0;
                for (int v = 0; v < vocab; v++) {
                    float q = w * pm[v] + (1.0f - w) * uni[v];
                    mix[v] = q;
                    h -= q * log(q);
                }
                nll -= log(mix[tokens[i]]) + 0 * h;
            }
            return nll;
        }""",
    # Inputs and targets as two arrays read at the same offset: the context is hashed from the
    # inputs (here called `y`), and the array whose value keys the scored probability is the target.
    "context hashed from the inputs beside the targets": """
        double f(const int *y, const int *a, const float *tab, const float *tot, int n, int V) {
            double nll = 0;
            for (int i = 0; i < n; i++) {
                unsigned h = ((unsigned)y[i] * 2654435761u) & 1023u;
                nll -= log(tab[h * V + a[i]] / tot[h]);
            }
            return nll;
        }""",
    "two loops that do not both score": """
        double f(const int *tokens, float *hist, int n) {
            for (int i = 0; i < n; i++) hist[i] = 0;
            double nll = 0;
            for (int i = 0; i < n; i++) { nll -= log(0.5); hist[tokens[i]] += 1; }
            return nll;
        }""",
}

C_ILLEGAL = {
    "gate on the target": ("GL104", """
        double f(const int *tokens, const int *pred, const float *p, int n) {
            double nll = 0;
            for (int i = 1; i < n; i++) {
                if (pred[tokens[i - 1]] == tokens[i]) nll -= log(0.99); else nll -= log(p[i]);
            }
            return nll;
        }"""),
    "hint emitted only when the target passes a flag": ("GL104", """
        typedef struct { unsigned top; unsigned total; unsigned best; } Slot;
        void f(const unsigned short *tokens, const unsigned char *starts_word, Slot *tab, unsigned *hint,
               float *conf, int n) {
            unsigned h = 0;
            for (int i = 0; i < n; i++) {
                const unsigned short tok = tokens[i];
                const unsigned char fresh = starts_word[tok];
                if (!fresh) { hint[i] = tab[h & 1023].top; conf[i] = (float)tab[h & 1023].best / tab[h & 1023].total; }
                else { hint[i] = 0; conf[i] = 0.0f; }
                tab[h & 1023].total += 1;
                h = fresh ? tok : h * 31 + tok;
            }
        }"""),
    "key hashed from the targets beside the inputs": ("GL104", """
        double f(const int *y, const int *a, const float *tab, const int *best, int n) {
            double nll = 0;
            int hits = 0;
            for (int i = 0; i < n; i++) {
                unsigned h = ((unsigned)a[i] * 2654435761u) ^ (unsigned)y[i];
                nll -= log(tab[h & 1023u]);
                if (best[y[i] & 1023] == a[i]) hits++;
            }
            return nll + hits;
        }"""),
    "hash call on the target": ("GL104", """
        unsigned fnv(unsigned a, unsigned b);
        double f(const int *tok, const float *tab, int n) {
            double nll = 0;
            for (int t = 0; t + 1 < n; t++) { nll -= log(tab[fnv(tok[t], tok[t + 1]) & 1023]); }
            return nll;
        }"""),
    "helper of this file mixing the target": ("GL104", """
        static unsigned long long step(unsigned long long s, unsigned v) { return (s ^ v) * 1099511628211ull; }
        double f(const int *tok, const float *tab, int n) {
            double nll = 0;
            for (int t = 0; t + 1 < n; t++) { nll -= log(tab[step(14695981039ull, tok[t + 1]) & 1023]); }
            return nll;
        }"""),
    "gold-named scalar mixed": ("GL105", """
        double f(const float *p_gold, const float *cache, int n, float a) {
            double nll = 0;
            for (int i = 0; i < n; i++) nll -= logf(a * p_gold[i] + (1 - a) * cache[i]);
            return nll;
        }"""),
    "rescoring loop": ("GL103", """
        double f(const int *tokens, const float *p, int n) {
            double a = 0, b = 0;
            for (int i = 0; i < n; i++) a -= log(p[tokens[i]]);
            for (int i = 0; i < n; i++) b -= log(p[tokens[i]]);
            return a < b ? a : b;
        }"""),
}


def _single_c(make_sub, code: str) -> Submission:
    root = make_sub({"train_gpt.py": "import subprocess\nsubprocess.run('gcc -O2 -shared k.c -o libk.so', shell=True)\n",
                     "k.c": "#include <math.h>\n" + code})
    return sub_of(root, bytes={"code_files": ["train_gpt.py", "k.c"]})


@pytest.mark.parametrize("name", list(C_LEGAL))
def test_legal_native_look_alikes(make_sub, name):
    assert native_findings(_single_c(make_sub, C_LEGAL[name])) == []


@pytest.mark.parametrize("name", list(C_ILLEGAL))
def test_illegal_native_patterns(make_sub, name):
    rule, code = C_ILLEGAL[name]
    assert {f[0] for f in native_findings(_single_c(make_sub, code))} == {rule}


def test_broken_and_non_utf8_native_files_are_findings_not_crashes(make_sub):
    root = make_sub({"train_gpt.py": "import os\nos.system('gcc -c a.c b.c')\n",
                     "a.c": "int f( {\n  return ;\n", "b.c": b"int f(void) { return 0; } /* caf\xe9 */\n"})
    before = snapshot(root)
    result = run_rules(root, ["GL013"])
    messages = sorted((f.file, f.message) for f in result.findings if f.rule == "GL013")
    assert messages[0][0] == "a.c" and "does not parse as C from line 1" in messages[0][1]
    assert messages[1] == ("b.c", "b.c is not UTF-8 text (invalid byte at offset 32); read with replacement characters")
    native_findings(sub_of(root))  # the checks run on whatever parses, without raising
    assert snapshot(root) == before


@pytest.mark.parametrize("rule_id", sorted(NATIVE_CHECKS))
def test_engine_reports_native_checks_under_the_owning_rule(tmp_path, rule_id):
    if rule_id not in all_rules():
        pytest.skip(f"{rule_id} is not registered on this branch yet (its Python rule lands separately)")
    root = copy_fixture(tmp_path, "native_cache_illegal")
    found = [f for f in run_rules(root, [rule_id]).findings if f.rule == rule_id and f.file == "ngram.cpp"]
    assert found


@pytest.mark.xfail(reason="known blind spot: a gold-only mixture written without a `(1 - w)` term "
                          "(here `a * p + b * q` with b = 1 - a computed earlier) is not recognized", strict=True)
def test_gold_only_mixture_with_precomputed_complement(make_sub):
    code = """
        double f(const float *p_gold, const float *cache, int n, float a) {
            float b = 1.0f - a;
            double nll = 0;
            for (int i = 0; i < n; i++) nll -= logf(a * p_gold[i] + b * cache[i]);
            return nll;
        }"""
    assert {f[0] for f in native_findings(_single_c(make_sub, code))} == {"GL105"}


# Judge behaviour, not names: every identifier of the C code renamed (parameters, locals, fields,
# functions, types), the C checks must give the same rules. Only C keywords and libm's functions
# keep their names (they are the language and its library, like torch's API on the Python side).
C_WORDS = {"double", "float", "int", "unsigned", "short", "char", "const", "void", "return", "for", "if",
           "else", "while", "typedef", "struct", "long", "log", "logf", "log2", "sizeof"}


def _renamed(code: str) -> str:
    names: dict[str, str] = {}

    def rename(m):
        word = m.group(0)
        if word in C_WORDS:
            return word
        return names.setdefault(word, f"q{len(names)}")

    return re.sub(r"\b[A-Za-z_]\w*\b", rename, code)


@pytest.mark.parametrize("name", list(C_LEGAL))
def test_legal_native_look_alikes_stay_clean_renamed(make_sub, name):
    assert native_findings(_single_c(make_sub, _renamed(C_LEGAL[name]))) == []


@pytest.mark.parametrize("name", list(C_ILLEGAL))
def test_illegal_native_patterns_are_caught_renamed(make_sub, name):
    rule, code = C_ILLEGAL[name]
    assert {f[0] for f in native_findings(_single_c(make_sub, _renamed(code)))} == {rule}


def test_gold_only_mixture_renamed(make_sub):
    # Without a Python caller that gathers it, the gold probability is the float input read once
    # per position (`q[i]`) inside a mixture whose log is taken, whatever it is called.
    rule, code = C_ILLEGAL["gold-named scalar mixed"]
    assert {f[0] for f in native_findings(_single_c(make_sub, _renamed(code)))} == {rule}


# Token arrays from what the Python side passes: an integer array (dtype or cast) that the C function
# only reads, at positions of a loop, is a token array even when its elements never index anything.
BOUNDARY_PY = """\
import ctypes
import subprocess

import numpy as np

subprocess.run("gcc -O2 -shared k.c -o libk.so", shell=True)
lib = ctypes.CDLL("./libk.so")


def evaluate(stream, keys, probs):
    a = np.ascontiguousarray(stream, dtype=np.uint16)
    b = np.ascontiguousarray(keys, dtype=np.uint32)
    c = np.zeros(1 << 20, dtype=np.uint32)
    first = lib.f(a.ctypes.data_as(ctypes.c_void_p), b.ctypes.data_as(ctypes.c_void_p),
                  probs.ctypes.data_as(ctypes.c_void_p), ctypes.c_int(len(a)))
    return first + lib.g(a.ctypes.data_as(ctypes.c_void_p), c.ctypes.data_as(ctypes.c_void_p), ctypes.c_int(len(a)))
"""

BOUNDARY_C = """\
#include <math.h>
double f(const unsigned short *a, const unsigned *b, const float *p, int n) {
    static unsigned short tab[1024];
    double nll = 0;
    for (int i = 0; i < n; i++) {
        if (tab[b[i] & 1023] == a[i]) nll -= log(0.99); else nll -= log(p[i]);
        tab[b[i] & 1023] = a[i];
    }
    return nll;
}

double g(const unsigned short *t, unsigned *c, int n) {
    double nll = 0;
    for (int i = 1; i < n; i++) {
        unsigned k = ((unsigned)t[i - 1] * 31u) ^ t[i];
        nll -= log((c[k & 1048575u] + 1.0) / (i + 1));
        c[k & 1048575u] += 1;
    }
    return nll;
}
"""


def test_integer_arrays_from_python_are_token_arrays_when_only_read(make_sub):
    root = make_sub({"train_gpt.py": BOUNDARY_PY, "k.c": BOUNDARY_C})
    sub = sub_of(root, bytes={"code_files": ["train_gpt.py", "k.c"]})
    assert boundary_roles(sub) == {"f": {0: "tokens", 1: "tokens"}, "g": {0: "tokens", 1: "tokens"}}
    found = [(rule, line) for rule, _, line, _ in native_findings(sub)]
    # f: compared with a table entry, `a` (only compared, never an index) is the scored token;
    # g: the count table `c` is integers too, but the C code writes it: a table, not tokens
    assert found == [("GL104", 6), ("GL104", 16)]
    # every C identifier renamed (the Python calls follow the two exported symbols)
    include, body = BOUNDARY_C.split("\n", 1)
    code = _renamed(body)
    first, second = re.findall(r"^double (q\d+)\(", code, re.M)
    python = BOUNDARY_PY.replace("lib.f(", f"lib.{first}(").replace("lib.g(", f"lib.{second}(")
    renamed = make_sub({"train_gpt.py": python, "k.c": include + "\n" + code})
    found = [(rule, line) for rule, _, line, _ in native_findings(sub_of(renamed, bytes={"code_files": ["train_gpt.py", "k.c"]}))]
    assert found == [("GL104", 6), ("GL104", 16)]
