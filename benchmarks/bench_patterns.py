"""Time GL104/GL105/GL108/GL201/GL203 on a large generated script.

    PYTHONPATH=$PWD python benchmarks/bench_patterns.py [--copies N] [--repeat R]

The script is the baseline-style fixture (tests/fixtures/patterns/baseline_legal) plus the violating
fixtures' functions, repeated with renamed functions until it is about 150 KB (the largest accepted
record is 158 KB). Prints the parse time, the shared index build (code/flow.py + code/phases.py), and
each rule's own time on the warm index, best of R runs.
"""

from __future__ import annotations

import argparse
import ast
import re
import tempfile
import time
from pathlib import Path

from golflint.code import flow, phases
from golflint.config import default_settings
from golflint.engine import instantiate_rules
from golflint.submission import Submission

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "patterns"
RULES = ("GL104", "GL105", "GL108", "GL201", "GL203")


def generated_script(target_bytes: int) -> str:
    base = (FIXTURES / "baseline_legal" / "train_gpt.py").read_text(encoding="utf-8")
    extras = [(FIXTURES / name / "train_gpt.py").read_text(encoding="utf-8")
              for name in ("gl104_target_keyed_cache", "gl105_gold_mixture", "gl108_unmasked_smear",
                           "gl201_network_in_eval")]
    parts, copy = [base], 0
    while sum(len(p) for p in parts) < target_bytes:
        copy += 1
        for text in extras:
            body = text.split('"""', 2)[2]  # drop the module docstring
            body = re.sub(r'if __name__ == "__main__":\n    main\(\)\n', "", body)
            parts.append(re.sub(r"\b(def|class) (\w+)", lambda m: f"{m.group(1)} {m.group(2)}_{copy}", body))
    return "\n".join(parts)


def best_of(repeat: int, fn) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=int, default=150_000, help="size of the generated script")
    parser.add_argument("--repeat", type=int, default=5)
    opts = parser.parse_args()
    source = generated_script(opts.bytes)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "records" / "track_10min_16mb" / "bench"
        folder.mkdir(parents=True)
        (folder / "train_gpt.py").write_text(source, encoding="utf-8")
        settings = default_settings()
        rules = instantiate_rules(settings, only=RULES)

        def fresh() -> Submission:
            sub = Submission(folder, "record", settings)
            sub.python_units  # read + parse outside the timed region
            return sub

        print(f"script: {len(source.encode()):,} bytes, {source.count(chr(10)):,} lines")
        print(f"ast.parse:                  {best_of(opts.repeat, lambda: ast.parse(source)):7.1f} ms")
        subs = [fresh() for _ in range(opts.repeat)]
        it = iter(subs)
        print(f"index + phases (shared):    {best_of(opts.repeat, lambda: _index(next(it))):7.1f} ms")
        warm = fresh()
        _index(warm)
        counts = {}
        for rule in rules:
            ms = best_of(opts.repeat, lambda: counts.__setitem__(rule.id, len(list(rule.check(warm)))))
            print(f"{rule.id} {rule.name:<24} {ms:7.1f} ms   ({counts[rule.id]} findings)")
        cold = [fresh() for _ in range(opts.repeat)]
        it = iter(cold)
        total = best_of(opts.repeat, lambda: [list(r.check(s)) for s in [next(it)] for r in rules])
        print(f"all five, cold index:       {total:7.1f} ms")


def _index(sub: Submission) -> None:
    for unit in sub.python_units:
        flow.index_of(unit)
    phases.phases_of(sub)


if __name__ == "__main__":
    main()
