"""Harness overhead of `golflint verify` against a bare run of the same script.

Runs the reference trainer as a submission twice per repeat: bare (`python train_gpt.py`, or
`torchrun --standalone --nproc_per_node=N` with --gpus N) and through `golflint verify` with
calibration off, and prints wallclock medians. The overhead splits into the run itself (sandbox,
process group, log capture: compare "run" with "bare") and fixed per-verify work (preflight check,
validation byte count, folder copy, measurement: "verify total" minus "run").

    python benchmarks/bench_verify.py                    # CPU, toy sizes, synthetic data
    python benchmarks/bench_verify.py --gpus 1 --size baseline --iterations 200 \
        --data-path DIR --tokenizer-path FILE            # on a GPU machine
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TOY = {"NUM_LAYERS": "2", "MODEL_DIM": "64", "NUM_HEADS": "4", "NUM_KV_HEADS": "2", "VOCAB_SIZE": "512",
       "TRAIN_SEQ_LEN": "128", "TRAIN_BATCH_TOKENS": "4096", "GRAD_ACCUM_STEPS": "1", "WARMUP_STEPS": "2",
       "VAL_LOSS_EVERY": "0", "TRAIN_LOG_EVERY": "50", "MAX_WALLCLOCK_SECONDS": "0"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gpus", type=int, default=0)
    parser.add_argument("--size", choices=["toy", "baseline"], default="toy")
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-path", type=Path)
    parser.add_argument("--tokenizer-path", type=Path)
    parser.add_argument("--sandbox", default="bwrap", choices=["bwrap", "none"])
    args = parser.parse_args()

    from golflint.verify.pipeline import launch_argv
    from golflint.verify.synth import synthesize

    scratch = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    if args.data_path is None:
        vocab = 512 if args.size == "toy" else 1024
        synth = synthesize(scratch / "data", vocab_size=vocab, train_tokens=400_000, val_tokens=65_536)
        args.data_path, args.tokenizer_path = synth.data_path, synth.tokenizer_path
    sizes = dict(TOY) if args.size == "toy" else {"VAL_LOSS_EVERY": "0", "TRAIN_LOG_EVERY": "50",
                                                  "MAX_WALLCLOCK_SECONDS": "0"}
    sizes["ITERATIONS"] = str(args.iterations)
    sub = scratch / "submission"
    sub.mkdir()
    shutil.copy(REPO / "reference" / "train_gpt.py", sub / "train_gpt.py")
    (sub / "README.md").write_text("# bench\n")
    (sub / "submission.json").write_text(json.dumps({"author": "bench", "name": "bench", "val_bpb": 1.0}))
    (sub / "train.log").write_text("final_int8_zlib_roundtrip_exact val_loss:1.00000000 val_bpb:1.00000000\n")
    paths = {"DATA_PATH": str(Path(args.data_path).resolve()), "TOKENIZER_PATH": str(Path(args.tokenizer_path).resolve())}

    bare, run, total = [], [], []
    for i in range(args.repeat):
        work = scratch / f"bare{i}"
        shutil.copytree(sub, work)
        start = time.perf_counter()
        subprocess.run(launch_argv(args.gpus, "train_gpt.py"), cwd=work, env={**os.environ, **sizes, **paths, "SEED": "1"},
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bare.append(time.perf_counter() - start)

        out = scratch / f"verify{i}"
        cmd = [sys.executable, "-m", "golflint", "verify", str(sub), "--gpus", str(args.gpus), "--force",
               "--calibration", "off", "--seeds", "1", "--sandbox", args.sandbox, "--work-dir", str(out),
               "--data-path", paths["DATA_PATH"], "--tokenizer-path", paths["TOKENIZER_PATH"], "--format", "json",
               *(a for k, v in sizes.items() for a in ("--env", f"{k}={v}"))]
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
        total.append(time.perf_counter() - start)
        report = json.loads(proc.stdout)
        run.append(report["runs"][0]["wall_s"])

    def med(xs: list[float]) -> float:
        return statistics.median(xs)

    print(f"device: {'CPU' if args.gpus == 0 else f'{args.gpus} GPU(s)'}  size: {args.size}  "
          f"iterations: {args.iterations}  repeats: {args.repeat}  sandbox: {report['sandbox']}")
    print(f"bare run          {med(bare):8.2f} s   ({', '.join(f'{x:.2f}' for x in bare)})")
    print(f"verify: the run   {med(run):8.2f} s   ({', '.join(f'{x:.2f}' for x in run)})")
    print(f"verify: total     {med(total):8.2f} s   ({', '.join(f'{x:.2f}' for x in total)})")
    in_run = med(run) - med(bare)
    print(f"in-run overhead   {in_run:+8.2f} s   ({100 * in_run / med(bare):+.1f}% of the bare run)")
    fixed = med(total) - med(run)
    print(f"fixed overhead    {fixed:+8.2f} s   (preflight, byte count, copy, measurement, interpreter start)")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
