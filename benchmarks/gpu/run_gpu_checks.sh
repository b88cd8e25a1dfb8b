#!/usr/bin/env bash
# The GPU checks of docs/verify.md ("Measured on a GPU"), in one script for one GPU machine:
#   1. the reference trainer at baseline size, 200 steps, torch.compile on, then 60 steps off;
#   2. what a run sees inside verify's bubblewrap sandbox with the GPU bound (sandbox_probe.py);
#   3. a bare torchrun of the reference trainer against `golflint verify --gpus 1` of the same script.
# Needs: golflint[torch] importable by python3, bwrap on PATH, one CUDA GPU. Writes into OUT (default ./gpu-out).
# Usage: bash benchmarks/gpu/run_gpu_checks.sh [OUT]
set -u
export PYTHONUNBUFFERED=1
HERE=$(cd "$(dirname "$0")" && pwd); REPO=$(cd "$HERE/../.." && pwd)
OUT=$(mkdir -p "${1:-gpu-out}" && cd "${1:-gpu-out}" && pwd)
WORK=$(mktemp -d)
{ date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda)"
  bwrap --version; } 2>&1 | tee "$OUT/env.txt"
python3 -m golflint data synth --out "$WORK/synth" --vocab-size 1024 --train-tokens 4000000 --val-tokens 1000000 >/dev/null
D=$WORK/synth/datasets/synth_sp1024; T=$WORK/synth/tokenizers/synth_1024_bpe.model
COMMON="DATA_PATH=$D TOKENIZER_PATH=$T VAL_LOSS_EVERY=0 TRAIN_LOG_EVERY=25 MAX_WALLCLOCK_SECONDS=0"

echo "== 1. reference trainer, baseline size, one GPU"
mkdir -p "$WORK/train" && cp "$REPO/reference/train_gpt.py" "$WORK/train/"
(cd "$WORK/train" && env $COMMON RUN_ID=compile_on TORCH_COMPILE=1 ITERATIONS=200 python3 train_gpt.py) > "$OUT/compile_on.txt" 2>&1
(cd "$WORK/train" && env $COMMON RUN_ID=compile_off TORCH_COMPILE=0 ITERATIONS=60 WARMUP_STEPS=5 python3 train_gpt.py) > "$OUT/compile_off.txt" 2>&1
grep -h "step:200/200 val\|step:60/60 val\|peak memory" "$OUT"/compile_*.txt

echo "== 2. sandbox probe"
python3 - "$HERE/sandbox_probe.py" "$WORK/probe" <<'PY' 2>&1 | tee "$OUT/probe.txt"
import shutil, subprocess, sys
from pathlib import Path
from golflint.verify.sandbox import make_sandbox
work = Path(sys.argv[2]); copy = work / "copy"; copy.mkdir(parents=True)
shutil.copy(sys.argv[1], copy / "sandbox_probe.py")
sandbox = make_sandbox(work / "guard", "bwrap")
argv = sandbox.command([sys.executable, "sandbox_probe.py"], writable=copy, readable=[], gpus=1)
listener = sandbox.listener("probe")
env = sandbox.environment({}, work / "guard" / "network_probe.fifo")
proc = subprocess.run(argv, cwd=copy, env=env, capture_output=True, text=True, timeout=120)
print(proc.stdout, proc.stderr[-2000:])
record = listener.close()
print("network record:", record.attempts, record.problem())
PY

echo "== 3. bare torchrun vs golflint verify (20 steps, compile off)"
S=$WORK/subs/records/track_10min_16mb/reference_gpu; mkdir -p "$S" "$WORK/bare"
cp "$REPO/reference/train_gpt.py" "$S/"; cp "$S/train_gpt.py" "$WORK/bare/"
RUNENV="TORCH_COMPILE=0 ITERATIONS=20 WARMUP_STEPS=2 VAL_LOSS_EVERY=0 TRAIN_LOG_EVERY=10 MAX_WALLCLOCK_SECONDS=0"
t0=$(date +%s.%N)
(cd "$WORK/bare" && env $RUNENV SEED=1 RUN_ID=bare DATA_PATH=$D TOKENIZER_PATH=$T torchrun --standalone --nproc_per_node=1 train_gpt.py > bare.log 2>&1)
t1=$(date +%s.%N)
echo "bare torchrun wall_s=$(python3 -c "print(round($t1 - $t0, 2))")" | tee "$OUT/overhead.txt"
python3 - "$S" "$WORK/bare/bare.log" <<'PY'
import json, re, sys
from pathlib import Path
sub, log = Path(sys.argv[1]), Path(sys.argv[2]).read_text()
(sub / "train_seed1.log").write_text(log)
loss, bpb = re.findall(r"final_int8_zlib_roundtrip_exact val_loss:([\d.]+) val_bpb:([\d.]+)", log)[-1]
total = (sub / "train_gpt.py").stat().st_size + int(re.search(r"Serialized model int8\+zlib: (\d+)", log).group(1))
(sub / "README.md").write_text("# Reference trainer, 20 steps on one GPU\n")
seed = {"val_loss": float(loss), "val_bpb": float(bpb), "artifact_bytes": total}
(sub / "submission.json").write_text(json.dumps({"author": "golflint", "name": "reference on one GPU",
    "date": "2026-11-30", **{k: seed[k] for k in ("val_loss", "val_bpb")}, "bytes_total": total,
    "bytes_code": (sub / "train_gpt.py").stat().st_size, "seeds": [1], "seed_results": {"1": seed}}))
PY
ENVARGS=(); for kv in $RUNENV; do ENVARGS+=(--env "$kv"); done
t0=$(date +%s.%N)
python3 -m golflint verify "$S" --gpus 1 --data-path "$D" --tokenizer-path "$T" "${ENVARGS[@]}" --force \
    --calibration on --work-dir "$WORK/verify" --format json --report "$OUT/verify.md" > "$OUT/verify.json"
t1=$(date +%s.%N)
echo "verify (with calibration) wall_s=$(python3 -c "print(round($t1 - $t0, 2))")" | tee -a "$OUT/overhead.txt"
python3 -c "
import json; d = json.load(open('$OUT/verify.json')); c = d['calibration'] or {}
print('outcome', d['outcome']); print('calibration ms/step', c.get('ms_per_step'), 'factor', c.get('factor'))
for r in d['runs']: print('run wall_s', r['wall_s'], [(x['name'], x['verdict']) for x in r['checks']])" | tee -a "$OUT/overhead.txt"
rm -rf "$WORK"
