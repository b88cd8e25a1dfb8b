"""Time the train-log parser on a generated log of a given size (default 5 MB).

    PYTHONPATH=$PWD python benchmarks/bench_logs.py [--mb 5] [--repeat 5]

The log mixes what real runs print: step lines (most of the file), periodic validation lines,
rank/timestamp prefixes, tqdm carriage-return noise, ANSI colours, and the final size/score lines.
"""

from __future__ import annotations

import argparse
import random
import time

from golflint.logs.parse import parse_log


def generate_log(target_bytes: int, seed: int = 0) -> bytes:
    rng = random.Random(seed)
    parts = ["seed:1337\n", "\x1b[32mhyperparameters\x1b[0m model_dim:512 num_layers:9\n"]
    size, step, ms = 0, 0, 0.0
    while size < target_bytes:
        step += 1
        ms += 43.5 + rng.random()
        if step % 200 == 0:
            line = (f"[rank0] 2026-03-01 12:00:01 step:{step}/20000 val_loss:{2.5 - step / 1e5:.4f} "
                    f"val_bpb:{1.4 - step / 2e5:.4f} train_time:{ms:.0f}ms step_avg:{ms / step:.2f}ms\n")
        elif step % 97 == 0:
            line = f"loading shard {step % 80}: 12%|\u2588\u258f   | 12/100\r 55%|\u2588\u2588\u2588\u258c | 55/100\r\n"
        else:
            line = (f"step:{step}/20000 train_loss:{3.0 - step / 1e5:.4f} train_time:{ms:.0f}ms "
                    f"step_avg:{ms / step:.2f}ms\n")
        parts.append(line)
        size += len(line)
    parts += [
        f"stopping_early: wallclock_cap train_time:{ms:.0f}ms step:{step}/20000\n",
        "peak memory allocated: 10184 MiB reserved: 10730 MiB\n",
        "Serialized model int8+zlib: 15815847 bytes (payload:17178912 raw_torch:17224025 payload_ratio:3.91x)\n",
        "Total submission size int8+zlib: 15863489 bytes\n",
        "final_int8_zlib_roundtrip val_loss:2.0727 val_bpb:1.2244 eval_time:1436ms\n",
        "final_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570\n",
    ]
    return "".join(parts).encode("utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=5.0)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    data = generate_log(int(args.mb * 1_000_000))
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        log = parse_log("train_seed1337.log", data)
        times.append(time.perf_counter() - start)
    final = log.final
    print(f"log: {len(data):,} bytes, {log.line_count:,} lines, {len(log.scores)} score lines; "
          f"final {final.label if final else None} val_bpb {final.val_bpb if final else None}")
    print(f"parse_log: best {min(times) * 1000:.0f} ms, median {sorted(times)[len(times) // 2] * 1000:.0f} ms "
          f"over {args.repeat} runs ({len(data) / min(times) / 1e6:.1f} MB/s)")


if __name__ == "__main__":
    main()
