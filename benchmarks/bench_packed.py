"""Time the static analysis of (1) a packed 150 KB script and (2) a folder with a 1,000-line C++
file, each end to end: decoding/parsing, then every rule (goal: < 0.5 s each).

    PYTHONPATH=$PWD python benchmarks/bench_packed.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import base64
import lzma
import statistics
import sys
import tempfile
import time
from pathlib import Path

from golflint.code import packed
from golflint.config import default_settings
from golflint.engine import check_submission, instantiate_rules
from golflint.submission import Submission

README = "# Bench\n\n```bash\nTTT_ENABLED=0 torchrun --standalone --nproc_per_node=8 train_gpt.py\n```\n"


def python_script(target_bytes: int) -> str:
    """A synthetic trainer-shaped script of about `target_bytes` (functions, loops, env settings)."""
    parts = ["import math\nimport os\n\nimport torch\nimport torch.nn.functional as F\n\n"
             "TTT_ENABLED = int(os.environ.get('TTT_ENABLED', '0'))\n\n"]
    i = 0
    while sum(map(len, parts)) < target_bytes:
        parts.append(f'''
def block_{i}(x, w, steps=4):
    """Block {i}: a few tensor ops and a loop."""
    total = 0.0
    for step in range(steps):
        y = F.gelu(x @ w) * math.sqrt(1.0 / (step + 1))
        if TTT_ENABLED and step % 2 == 0:
            y = y + 0.1 * torch.tanh(y)
        total += float(y.mean())
    return total / max(steps, 1)
''')
        i += 1
    parts.append("\n\nif __name__ == '__main__':\n    print(block_0(torch.zeros(2, 2), torch.zeros(2, 2)))\n")
    return "".join(parts)


def cpp_file(lines: int) -> str:
    out = ["#include <cmath>\n#include <cstdint>\n\nstatic float table[1 << 20];\nstatic float totals[1 << 20];\n"]
    fn = 0
    while sum(s.count("\n") for s in out) < lines:
        out.append(f"""
extern "C" double score_{fn}(const uint16_t *tokens, const float *model_p, int n, float lam) {{
    double nll = 0.0;
    for (int i = 2; i < n; i++) {{
        uint32_t ctx = ((uint32_t)tokens[i - 1] * 2654435761u ^ tokens[i - 2]) & ((1u << 20) - 1);
        float cache_p = totals[ctx] > 0 ? table[ctx] / totals[ctx] : 0.0f;
        float p = model_p[i] + 1e-6f * cache_p;
        nll -= std::log(p);
        table[ctx] += 1.0f;
        totals[ctx] += 1.0f;
    }}
    return nll;
}}
""")
        fn += 1
    return "".join(out)


def timed(make_root, repeat: int):
    settings = default_settings()
    rules = instantiate_rules(settings)
    load_ms, check_ms = [], []
    for _ in range(repeat):
        root = make_root()
        start = time.perf_counter()
        sub = Submission(root, "record", settings)
        units = sub.code_units
        loaded = time.perf_counter()
        check_submission(sub, rules)
        done = time.perf_counter()
        load_ms.append((loaded - start) * 1000)
        check_ms.append((done - start) * 1000)
    return units, statistics.median(load_ms), statistics.median(check_ms)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_packed_"))

    source = python_script(150_000)
    blob = base64.b85encode(lzma.compress(source.encode())).decode()
    wrapper = ("import os\nos.environ.setdefault('TTT_ENABLED', '0')\nimport lzma, base64\n"
               f"exec(lzma.decompress(base64.b85decode({blob!r})))\n")
    counter = iter(range(10_000))

    def packed_root() -> Path:
        root = tmp / f"packed{next(counter)}"
        root.mkdir()
        (root / "train_gpt.py").write_text(wrapper)
        (root / "README.md").write_text(README)
        return root

    units, load, total = timed(packed_root, args.repeat)
    decoded = [u for u in units if u.layer > 0]
    print(f"packed script: {len(wrapper.encode()):,} B stored, {len(decoded[0].source.encode()):,} B decoded "
          f"({len(decoded[0].lines):,} lines)")
    print(f"  decode + parse: {load:7.1f} ms   decode + parse + all rules: {total:7.1f} ms  (median of {args.repeat})")

    def plain_root() -> Path:
        root = tmp / f"plain{next(counter)}"
        root.mkdir()
        (root / "train_gpt.py").write_text(source)
        (root / "README.md").write_text(README)
        return root

    _, plain_load, plain_total = timed(plain_root, args.repeat)
    print(f"  same source unpacked, for comparison: parse {plain_load:7.1f} ms   all rules {plain_total:7.1f} ms")
    start = time.perf_counter()
    packed.decode_file(wrapper)
    print(f"  decode_file alone (golflint unpack): {(time.perf_counter() - start) * 1000:7.1f} ms")

    cpp = cpp_file(1000)
    script = ("import ctypes, subprocess\n"
              "subprocess.run(['g++', '-O3', '-shared', '-fPIC', 'cache.cpp', '-o', 'libcache.so'], check=True)\n"
              "lib = ctypes.CDLL('./libcache.so')\n")

    def native_root() -> Path:
        root = tmp / f"native{next(counter)}"
        root.mkdir()
        (root / "train_gpt.py").write_text(script)
        (root / "cache.cpp").write_text(cpp)
        (root / "README.md").write_text(README)
        return root

    units, load, total = timed(native_root, args.repeat)
    native = [u for u in units if not u.is_python]
    print(f"native folder: {native[0].path} {len(native[0].lines):,} lines, {len(cpp.encode()):,} B")
    print(f"  discover + load: {load:7.1f} ms   + parse, native checks and all rules: {total:7.1f} ms "
          f"(median of {args.repeat})")


if __name__ == "__main__":
    sys.exit(main())
