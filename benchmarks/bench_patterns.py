"""Time GL104/GL105/GL108/GL201/GL203 on a large generated script.

    PYTHONPATH=$PWD python benchmarks/bench_patterns.py [--copies N] [--repeat R]

The script is the baseline-style fixture (tests/fixtures/patterns/baseline_legal) plus the violating
fixtures' functions (with --legal: the legal ones), repeated with renamed functions until it is about
150 KB (the largest accepted record is 158 KB); the violating mix is the worst case, every copy has
scoring sites, caches and shifts to follow. Prints the parse time, the shared index build (facts/index.py + facts/phases.py), and
each rule's own time on the warm index, best of R runs.
"""

from __future__ import annotations

import argparse
import ast
import re
import tempfile
import time
from pathlib import Path

from golflint.facts import index as flow, phases
from golflint.config import default_settings
from golflint.engine import instantiate_rules
from golflint.submission import Submission

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "patterns"
RULES = ("GL104", "GL105", "GL108", "GL201", "GL203")


VIOLATING = ("gl104_target_keyed_cache", "gl105_gold_mixture", "gl108_unmasked_smear", "gl201_network_in_eval")


def generated_script(target_bytes: int, legal: bool = False) -> str:
    base = (FIXTURES / "baseline_legal" / "train_gpt.py").read_text(encoding="utf-8")
    names = ("baseline_legal", "gl104_prefix_cache_ok", "gl108_masked_smear_ok") if legal else VIOLATING
    extras = [(FIXTURES / name / "train_gpt.py").read_text(encoding="utf-8") for name in names]
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
    parser.add_argument("--legal", action="store_true",
                        help="repeat the legal fixtures (a realistic record) instead of the violating ones")
    opts = parser.parse_args()
    source = generated_script(opts.bytes, legal=opts.legal)
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
        print(f"flow index (shared):        {best_of(opts.repeat, lambda: _flow(next(it))):7.1f} ms")
        it = iter(subs)
        print(f"phases (shared):            {best_of(opts.repeat, lambda: phases.phases_of(next(it))):7.1f} ms")
        for rule in rules:
            # each repetition on a fresh index (built outside the timed region): no warm caches
            ready = [fresh() for _ in range(opts.repeat)]
            for sub in ready:
                _index(sub)
            it, found = iter(ready), []
            ms = best_of(opts.repeat, lambda: found.append(len(list(rule.check(next(it))))))
            print(f"{rule.id} {rule.name:<24} {ms:7.1f} ms   ({found[-1]} findings)")
        cold = [fresh() for _ in range(opts.repeat)]
        it = iter(cold)
        total = best_of(opts.repeat, lambda: [list(r.check(s)) for s in [next(it)] for r in rules])
        print(f"all five, cold index:       {total:7.1f} ms")


def _flow(sub: Submission) -> None:
    for unit in sub.python_units:
        flow.index_of(unit)


def _index(sub: Submission) -> None:
    _flow(sub)
    phases.phases_of(sub)


if __name__ == "__main__":
    main()
