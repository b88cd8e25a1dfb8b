"""Instructions a serial `golflint check` of the accepted records runs, counted by valgrind.

Wall and CPU time on a shared machine move by tens of percent between runs; the number of
instructions a check runs barely moves (about 0.5%, from set orders and the garbage collector), so a
change of a few percent shows only here. Each checkout is run in a fresh process under
`valgrind --tool=cachegrind --cache-sim=no` (about 40x slower than a plain run), with the folders
checked one after another as a pool worker checks them; two checkouts run side by side.

    python benchmarks/count_instructions.py                     # this checkout, every folder
    python benchmarks/count_instructions.py --every 3           # every third folder (minutes)
    python benchmarks/count_instructions.py --against ../base   # another checkout beside it

Needs valgrind (Debian: `apt-get install valgrind`) and the records (../shared/corpus, or
$GOLFLINT_CORPUS); prints why not and exits 2 without them.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bench_check import records_tree

REPO = Path(__file__).resolve().parent.parent

# what each counted process runs: the records' folders, serially, as runner.py's workers do
CHECK = """
import gc, sys
from pathlib import Path
from golflint.config import default_settings
from golflint.discovery import discover
from golflint.engine import check_submission, instantiate_rules
from golflint.runner import CHECK_GC_THRESHOLDS, RunOptions, _folder_done, _submission
records, every = Path(sys.argv[1]), int(sys.argv[2])
settings = default_settings()
rules = instantiate_rules(settings)
jobs = list(discover([records], settings))[::every]
gc.set_threshold(*CHECK_GC_THRESHOLDS); gc.collect(); gc.freeze()
options = RunOptions(settings=settings, env_overrides={})
for job in jobs:
    sub = _submission(job, options)
    check_submission(sub, rules, suppress=True, debug=False)
    del sub
    _folder_done()
print(len(jobs))
"""


def start(checkout: Path, records: Path, every: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(checkout), PYTHONHASHSEED="0")
    return subprocess.Popen(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, "-c", CHECK, str(records), str(every)],
        cwd=checkout, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def counted(process: subprocess.Popen) -> tuple[int, int]:
    """(instructions, folders checked) of a finished run."""
    out, err = process.communicate()
    found = re.search(r"I\s+refs:\s+([\d,]+)", err)
    if process.returncode != 0 or found is None:
        sys.exit(f"the counted check failed (exit {process.returncode}):\n{err[-2000:]}")
    return int(found.group(1).replace(",", "")), int(out.split()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=int, default=1, help="check every N-th folder (default: all)")
    parser.add_argument("--against", type=Path, help="another golflint checkout, counted side by side")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    records = records_tree()
    if records is None:
        print("the accepted records are absent: set GOLFLINT_CORPUS to a folder holding "
              "parameter-golf/records", file=sys.stderr)
        return 2
    runs = [("this checkout", REPO)] + ([("--against", args.against.resolve())] if args.against else [])
    started = [(name, path, start(path, records, max(args.every, 1))) for name, path in runs]
    results = [(name, path, *counted(process)) for name, path, process in started]
    for name, path, instructions, folders in results:
        print(f"{name:14s} {instructions / 1e9:8.3f} G instructions, {folders} folders  ({path})")
    if len(results) == 2:
        print(f"this checkout / --against: {results[0][2] / results[1][2]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
