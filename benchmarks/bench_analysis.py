"""Benchmark: static analysis (all GL1xx/GL2xx rules) over a tree of synthetic training scripts.

Generates ~84 submission folders (~4.8 MB of Python, largest ~150 KB) from templates written for
this benchmark (model blocks, optimizers, loaders, quantizers, evaluation with and without
test-time training, in randomized combinations and sizes), then times:
  - stdlib ast.parse of every file (the floor for any ast-based analysis),
  - a cold golflint run of the GL1/GL2 rules (no cache),
  - a warm run with the dataflow content-hash cache populated,
  - the largest file alone,
  - `ruff check --select ALL` on the same files, when ruff is installed (cold and warm).

Usage: PYTHONPATH=. python benchmarks/bench_analysis.py [--files 84] [--mb 4.8] [--keep DIR]
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import ast
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = '''"""Synthetic training script {n} (generated for golflint's analysis benchmark)."""
import glob
import math
import os
import time
import zlib

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


class Hyperparameters:
    data_path = os.environ.get("DATA_PATH", "./data/datasets/fineweb10B_sp1024")
    train_files = os.path.join(data_path, "fineweb_train_*.bin")
    val_files = os.path.join(data_path, "fineweb_val_*.bin")
    seed = int(os.environ.get("SEED", {seed}))
    train_seq_len = int(os.environ.get("TRAIN_SEQ_LEN", 1024))
    iterations = int(os.environ.get("ITERATIONS", 20000))
    val_every = int(os.environ.get("VAL_LOSS_EVERY", 1000))
    max_wallclock_seconds = float(os.environ.get("MAX_WALLCLOCK_SECONDS", 600.0))
    model_dim = int(os.environ.get("MODEL_DIM", {dim}))
    num_layers = int(os.environ.get("NUM_LAYERS", {layers}))
    vocab_size = int(os.environ.get("VOCAB_SIZE", 1024))
    ttt_enabled = bool(int(os.environ.get("TTT_ENABLED", "{ttt}")))
    ttt_chunk = int(os.environ.get("TTT_CHUNK", 32768))
    ttt_lr = float(os.environ.get("TTT_LR", 0.002))
{extra_settings}

def load_data_shard(file):
    header = np.fromfile(file, dtype="<i4", count=256)
    if header.size != 256 or int(header[0]) != 20240520:
        raise ValueError(f"unexpected shard header for {{file}}")
    num_tokens = int(header[2])
    tokens = np.fromfile(file, dtype="<u2", count=num_tokens, offset=256 * 4)
    return torch.from_numpy(tokens.astype(np.uint16, copy=False))


def load_validation_tokens(pattern, seq_len):
    files = sorted(glob.glob(pattern))
    tokens = torch.cat([load_data_shard(f) for f in files]).contiguous()
    usable = ((tokens.numel() - 1) // seq_len) * seq_len
    return tokens[: usable + 1]


class TokenStream:
    def __init__(self, pattern):
        self.files = sorted(glob.glob(pattern))
        self.file_idx = 0
        self.tokens = load_data_shard(self.files[0])
        self.pos = 0

    def _advance_file(self):
        self.file_idx = (self.file_idx + 1) % len(self.files)
        self.tokens = load_data_shard(self.files[self.file_idx])
        self.pos = 0

    def take(self, n):
        chunks = []
        remaining = n
        while remaining > 0:
            avail = self.tokens.numel() - self.pos
            if avail <= 0:
                self._advance_file()
                continue
            k = min(remaining, avail)
            chunks.append(self.tokens[self.pos : self.pos + k])
            self.pos += k
            remaining -= k
        return chunks[0] if len(chunks) == 1 else torch.cat(chunks)


class DistributedTokenLoader:
    def __init__(self, pattern, rank, world_size, device):
        self.rank, self.world_size, self.device = rank, world_size, device
        self.stream = TokenStream(pattern)

    def next_batch(self, global_tokens, seq_len, grad_accum_steps):
        local_tokens = global_tokens // (self.world_size * grad_accum_steps)
        span = local_tokens + 1
        chunk = self.stream.take(span * self.world_size)
        start = self.rank * span
        local = chunk[start : start + span].to(dtype=torch.int64)
        x = local[:-1].reshape(-1, seq_len)
        y = local[1:].reshape(-1, seq_len)
        return x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
'''

BLOCK = '''

class {name}(nn.Module):
    def __init__(self, dim, heads={heads}, mlp_mult={mult}):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.proj = nn.Linear(dim, dim, bias=False)
        self.fc = nn.Linear(dim, mlp_mult * dim, bias=False)
        self.out = nn.Linear(mlp_mult * dim, dim, bias=False)
        self.scale = nn.Parameter(torch.ones(dim) * {scale})
        self.gate = nn.Parameter(torch.zeros(dim))

    def _rotate(self, x, cos, sin):
        half = x.size(-1) // 2
        x1, x2 = x[..., :half], x[..., half:]
        return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)

    def attention(self, x, cos, sin):
        bsz, seqlen, dim = x.shape
        q, k, v = self.qkv(F.rms_norm(x, (dim,))).split(dim, dim=-1)
        q = q.view(bsz, seqlen, self.heads, self.head_dim).transpose(1, 2)
        k = k.view(bsz, seqlen, self.heads, self.head_dim).transpose(1, 2)
        v = v.view(bsz, seqlen, self.heads, self.head_dim).transpose(1, 2)
        q, k = self._rotate(q, cos, sin), self._rotate(k, cos, sin)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(bsz, seqlen, dim))

    def mlp(self, x):
        h = self.fc(F.rms_norm(x, (x.size(-1),)))
        h = {act}
        return self.out(h)

    def forward(self, x, cos, sin):
        x = x + self.scale * self.attention(x, cos, sin)
        x = x + torch.sigmoid(self.gate) * self.mlp(x)
        return x
'''

ACTS = ["torch.relu(h).square()", "F.gelu(h)", "F.silu(h) * h.sigmoid()", "F.leaky_relu(h, 0.5).square()"]

MODEL = '''

class GPT(nn.Module):
    def __init__(self, vocab_size, dim, num_layers):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.blocks = nn.ModuleList([{block}(dim) for _ in range(num_layers)])
        self.head = nn.Linear(dim, vocab_size, bias=False)
        self.head.weight = self.embed.weight
        inv = 1.0 / (10000 ** (torch.arange(0, dim // 8, 2).float() / (dim // 8)))
        self.register_buffer("inv_freq", inv, persistent=False)

    def rotary(self, seqlen, device):
        t = torch.arange(seqlen, device=device).float()
        freqs = torch.outer(t, self.inv_freq)
        return freqs.cos()[None, None], freqs.sin()[None, None]

    def forward_logits(self, x):
        h = self.embed(x)
        cos, sin = self.rotary(x.size(1), x.device)
        skips = []
        for i, block in enumerate(self.blocks):
            if i >= len(self.blocks) // 2 and skips:
                h = h + skips.pop()
            h = block(h, cos, sin)
            if i < len(self.blocks) // 2:
                skips.append(h)
        logits = self.head(F.rms_norm(h, (h.size(-1),)))
        return 30.0 * torch.tanh(logits / 30.0)

    def forward(self, x, y, reduction="mean"):
        logits = self.forward_logits(x).float()
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), reduction=reduction)
'''

HELPER = '''

def {name}(t, steps={steps}, eps=1e-7):
    a, b, c = 3.4445, -4.7750, 2.0315
    x = t.bfloat16()
    x = x / (x.norm() + eps)
    transposed = x.size(0) > x.size(1)
    if transposed:
        x = x.T
    for _ in range(steps):
        m = x @ x.T
        n = b * m + c * m @ m
        x = a * x + n @ x
    if transposed:
        x = x.T
    return x.to(t.dtype) * {gain}
'''

QUANT = '''

def quantize_rows(t, bits={bits}):
    qmax = 2 ** (bits - 1) - 1
    scale = t.abs().amax(dim=1, keepdim=True).clamp_min(1e-8) / qmax
    return (t / scale).round().clamp(-qmax, qmax).to(torch.int8), scale.half()


def pack_state(model):
    out = {{}}
    for name, tensor in model.state_dict().items():
        if tensor.ndim == 2 and tensor.numel() > 65536:
            out[name] = quantize_rows(tensor.float())
        else:
            out[name] = tensor.half()
    return out
'''

EVAL = '''

def eval_val(args, model, val_tokens, byte_lut):
    seq_len = args.train_seq_len
    loss_sum = torch.zeros((), dtype=torch.float64)
    tok_count = torch.zeros((), dtype=torch.float64)
    byte_count = torch.zeros((), dtype=torch.float64)
    model.eval()
    with torch.inference_mode():
        for start in range(0, val_tokens.numel() - 1, seq_len * 16):
            local = val_tokens[start : start + seq_len * 16 + 1].to(dtype=torch.int64)
            x = local[:-1].reshape(-1, seq_len)
            y = local[1:].reshape(-1, seq_len)
            batch_loss = model(x, y).detach()
            n = float(y.numel())
            loss_sum += batch_loss.to(torch.float64) * n
            tok_count += n
            byte_count += byte_lut[y].to(torch.float64).sum()
    model.train()
    val_loss = loss_sum / tok_count
    return float(val_loss.item()), float(val_loss.item() / math.log(2) * (tok_count / byte_count).item())
'''

TTT = '''

def eval_val_ttt(args, model, val_tokens, byte_lut, stride=256):
    seq_len = args.train_seq_len
    opt = torch.optim.SGD(model.parameters(), lr=args.ttt_lr, momentum=0.9)
    nll = torch.zeros((), dtype=torch.float64)
    count = 0
    nbytes = 0.0
    total = val_tokens.numel() - 1
    for c0 in range(0, total, args.ttt_chunk):
        c1 = min(c0 + args.ttt_chunk, total)
        model.eval()
        with torch.inference_mode():
            for ws in range(c0, c1, stride):
                lo = max(ws + stride - seq_len, 0)
                window = val_tokens[lo : ws + stride + 1].to(torch.int64)
                x, y = window[None, :-1], window[None, 1:]
                per_tok = model(x, y, reduction="none")
                nll += per_tok[-stride:].double().sum()
                count += stride
                nbytes += float(byte_lut[y[0, -stride:]].sum())
        model.train()
        for _ in range({epochs}):
            for bs in range(c0, c1 - seq_len, seq_len * 4):
                batch = val_tokens[bs : bs + seq_len * 4 + 1].to(torch.int64)
                loss = model(batch[:-1].view(4, seq_len), batch[1:].view(4, seq_len))
                loss.backward()
                opt.step()
                opt.zero_grad(set_to_none=True)
    val_loss = float(nll / count)
    return val_loss, val_loss / math.log(2) * count / nbytes
'''

MAIN = '''

def main():
    args = Hyperparameters()
    torch.manual_seed(args.seed)
    device = torch.device("cpu")
    model = GPT(args.vocab_size, args.model_dim, args.num_layers)
    matrices = [p for p in model.parameters() if p.ndim == 2]
    scalars = [p for p in model.parameters() if p.ndim < 2]
    opt_adam = torch.optim.Adam(scalars, lr=0.01, betas=(0.9, 0.95))
    opt_mat = torch.optim.SGD(matrices, lr=0.02, momentum=0.95)
    loader = DistributedTokenLoader(args.train_files, 0, 1, device)
    val_tokens = load_validation_tokens(args.val_files, args.train_seq_len)
    byte_lut = torch.ones(args.vocab_size)
    t0 = time.perf_counter()
    for step in range(args.iterations + 1):
        last = step == args.iterations
        if last or step % args.val_every == 0:
            val_loss, val_bpb = eval_val(args, model, val_tokens, byte_lut)
            print(f"step:{{step}} val_loss:{{val_loss:.4f}} val_bpb:{{val_bpb:.4f}}")
        if last or time.perf_counter() - t0 > args.max_wallclock_seconds:
            break
        x, y = loader.next_batch(524288, args.train_seq_len, 8)
        loss = model(x, y)
        loss.backward()
        with torch.no_grad():
            for p in matrices:
                if p.grad is not None:
                    p.grad.copy_({ortho}(p.grad))
        opt_adam.step()
        opt_mat.step()
        model.zero_grad(set_to_none=True)
    blob = zlib.compress(repr(pack_state(model)).encode(), 9)
    print(f"model bytes {{len(blob)}}")
    if args.ttt_enabled:
        val_loss, val_bpb = eval_val_ttt(args, model, val_tokens, byte_lut)
    else:
        val_loss, val_bpb = eval_val(args, model, val_tokens, byte_lut)
    print(f"final_roundtrip val_loss:{{val_loss:.8f}} val_bpb:{{val_bpb:.8f}}")


if __name__ == "__main__":
    main()
'''


def generate(n: int, target_bytes: int, rng: random.Random) -> str:
    parts = [HEADER.format(n=n, seed=rng.choice([1337, 42, 2025]), dim=rng.choice([384, 512, 640]),
                           layers=rng.choice([9, 10, 11, 12]), ttt=rng.choice(["0", "1"]),
                           extra_settings="".join(
                               f'    knob_{i} = float(os.environ.get("KNOB_{i}", {rng.random():.4f}))\n'
                               for i in range(rng.randint(5, 40))))]
    blocks = []
    helpers = []
    body = "".join(parts)
    i = 0
    # Grow with model variants and optimizer helpers until the target size.
    while len(body) < target_bytes - 6000:
        name = f"Block{i}"
        blocks.append(name)
        piece = BLOCK.format(name=name, heads=rng.choice([4, 8]), mult=rng.choice([2, 3, 4]),
                             scale=round(rng.uniform(0.5, 1.5), 3), act=rng.choice(ACTS))
        helper = f"orthogonalize_{i}"
        helpers.append(helper)
        piece += HELPER.format(name=helper, steps=rng.choice([3, 4, 5]), gain=round(rng.uniform(0.8, 1.2), 3))
        parts.append(piece)
        body += piece
        i += 1
    if not blocks:
        blocks, helpers = ["Block0"], ["orthogonalize_0"]
        parts.append(BLOCK.format(name="Block0", heads=8, mult=2, scale=1.0, act=ACTS[0]))
        parts.append(HELPER.format(name="orthogonalize_0", steps=5, gain=1.0))
    parts.append(MODEL.format(block=rng.choice(blocks)))
    parts.append(QUANT.format(bits=rng.choice([6, 8])))
    parts.append(EVAL)
    parts.append(TTT.format(epochs=rng.choice([1, 2, 3])))
    parts.append(MAIN.format(ortho=rng.choice(helpers)))
    return "".join(parts)


def build_tree(root: Path, files: int, total_mb: float, seed: int = 0) -> list[Path]:
    rng = random.Random(seed)
    total = int(total_mb * 1_000_000)
    # Sizes: mostly 20-80 KB, one ~150 KB (like the largest accepted record), scaled to the total.
    sizes = [rng.uniform(20_000, 80_000) for _ in range(files - 1)]
    sizes = [s * (total - 150_000) / sum(sizes) for s in sizes] + [150_000]
    out = []
    for n, size in enumerate(sizes):
        folder = root / "records" / "track_10min_16mb" / f"sub{n:03d}"
        folder.mkdir(parents=True)
        (folder / "train_gpt.py").write_text(generate(n, int(size), rng), encoding="utf-8")
        out.append(folder)
    return out


def run_golflint(folders: list[Path], overrides: dict | None = None) -> tuple[float, int, int]:
    from golflint.config import default_settings
    from golflint.engine import check_submission, instantiate_rules
    from golflint.submission import Submission

    settings = default_settings()
    if overrides:
        settings = settings.with_overrides(overrides)
    rules = instantiate_rules(settings, only=["GL1", "GL2"])
    findings = errors = 0
    start = time.perf_counter()
    for folder in folders:
        result = check_submission(Submission(folder, "record", settings), rules)
        findings += len(result.active)
        errors += len(result.internal_errors)
    return time.perf_counter() - start, findings, errors


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=84)
    ap.add_argument("--mb", type=float, default=4.8)
    ap.add_argument("--keep", type=Path, default=None, help="generate into this folder and keep it")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="golflint-bench-"))
    root = args.keep or tmp / "tree"
    try:
        folders = build_tree(root, args.files, args.mb)
        scripts = [f / "train_gpt.py" for f in folders]
        sizes = [p.stat().st_size for p in scripts]
        print(f"tree: {len(scripts)} files, {sum(sizes) / 1e6:.2f} MB, largest {max(sizes) / 1e3:.0f} KB")

        start = time.perf_counter()
        for p in scripts:
            ast.parse(p.read_text(encoding="utf-8"))
        print(f"ast.parse, all files:                 {time.perf_counter() - start:6.2f} s")

        from golflint.code.units import CodeUnit
        from golflint.config import default_settings
        from golflint.dataflow import analyze_units
        from golflint.dataflow.spec import Spec

        spec = Spec.from_settings(default_settings())
        units = [CodeUnit.parse_python("train_gpt.py", p.read_text(encoding="utf-8")) for p in scripts]
        start = time.perf_counter()
        for unit in units:
            analyze_units([unit], spec)
        print(f"dataflow analysis only (pre-parsed):  {time.perf_counter() - start:6.2f} s")

        cold, findings, errors = run_golflint(folders)
        print(f"golflint GL1/GL2 cold (no cache):     {cold:6.2f} s  ({findings} findings, {errors} internal errors)")
        print("golflint warm (result cache):          see benchmarks/bench_check.py")

        largest = folders[sizes.index(max(sizes))]
        one, _, _ = run_golflint([largest])
        print(f"golflint GL1/GL2, largest file alone: {one:6.3f} s  ({max(sizes) / 1e3:.0f} KB)")

        ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
        if Path(ruff).exists():
            cmd = [ruff, "check", "--select", "ALL", "--exit-zero", "--quiet", "--output-format", "concise"]
            start = time.perf_counter()
            subprocess.run([*cmd, "--no-cache", str(root)], capture_output=True, check=False)
            ruff_cold = time.perf_counter() - start
            cache_dir = tmp / "ruff-cache"
            subprocess.run([*cmd, "--cache-dir", str(cache_dir), str(root)], capture_output=True, check=False)
            start = time.perf_counter()
            subprocess.run([*cmd, "--cache-dir", str(cache_dir), str(root)], capture_output=True, check=False)
            ruff_warm = time.perf_counter() - start
            print(f"ruff check --select ALL cold:          {ruff_cold:6.2f} s   (golflint/ruff {cold / ruff_cold:.1f}x)")
            print(f"ruff check --select ALL warm:          {ruff_warm:6.2f} s")
        else:
            print("ruff not installed: no comparison (pip install ruff)")
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
