"""Tiny baseline: a small GPT trained under the 600 s wallclock cap, int8+zlib artifact, exact BPB.

Run from this folder: torchrun --standalone --nproc_per_node=8 train_gpt.py
"""

from __future__ import annotations

import glob
import io
import math
import os
import time
import zlib

import numpy as np
import sentencepiece as spm
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

DATA_DIR = os.environ.get("DATA_PATH", "../../../data/datasets/fineweb10B_sp1024")
TOKENIZER = os.environ.get("TOKENIZER_PATH", "../../../data/tokenizers/fineweb_1024_bpe.model")
SEED = int(os.environ.get("SEED", "1"))
ITERATIONS = int(os.environ.get("ITERATIONS", "20000"))
MAX_WALLCLOCK_SECONDS = float(os.environ.get("MAX_WALLCLOCK_SECONDS", "600"))
TOKENS_PER_STEP = 524_288
SEQ_LEN = 1024
VOCAB, DIM, LAYERS, HEADS = 1024, 512, 9, 8
LR, WARMUP, WARMDOWN = 0.02, 20, 1200
ARTIFACT = "final_model.int8.ptz"
SHARD_MAGIC, HEADER_INTS = 20240520, 256


def load_shard(path: str) -> torch.Tensor:
    header = np.fromfile(path, dtype="<i4", count=HEADER_INTS)
    assert header[0] == SHARD_MAGIC and header[1] == 1, f"{path}: not a token shard"
    tokens = np.fromfile(path, dtype="<u2", offset=HEADER_INTS * 4, count=int(header[2]))
    return torch.from_numpy(tokens.astype(np.int64))


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.RMSNorm(DIM), nn.RMSNorm(DIM)
        self.qkv = nn.Linear(DIM, 3 * DIM, bias=False)
        self.proj = nn.Linear(DIM, DIM, bias=False)
        self.up = nn.Linear(DIM, 2 * DIM, bias=False)
        self.down = nn.Linear(2 * DIM, DIM, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, t, 3, HEADS, DIM // HEADS).unbind(2)
        y = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, DIM))
        return x + self.down(F.relu(self.up(self.norm2(x))).square())


class GPT(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, DIM)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.norm = nn.RMSNorm(DIM)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.embed(idx)
        for block in self.blocks:
            x = block(x)
        logits = F.linear(self.norm(x), self.embed.weight)
        return 30.0 * torch.tanh(logits / 30.0)


def lr_at(step: int, elapsed: float) -> float:
    if step < WARMUP:
        return LR * (step + 1) / WARMUP
    left = MAX_WALLCLOCK_SECONDS - elapsed
    step_time = elapsed / max(step, 1)
    return LR * min(1.0, left / (WARMDOWN * step_time)) if left > 0 else 0.0


def bytes_per_token(sp: spm.SentencePieceProcessor) -> tuple[torch.Tensor, torch.Tensor]:
    """UTF-8 bytes of each piece, and whether its leading space marker counts one more byte."""
    base = torch.zeros(VOCAB, dtype=torch.int64)
    leading_space = torch.zeros(VOCAB, dtype=torch.bool)
    for i in range(VOCAB):
        if sp.is_control(i) or sp.is_unknown(i):
            continue
        if sp.is_byte(i):
            base[i] = 1
            continue
        piece = sp.id_to_piece(i)
        leading_space[i] = piece.startswith("\u2581")
        base[i] = len(piece.lstrip("\u2581").encode("utf-8"))
    return base, leading_space


@torch.no_grad()
def evaluate(model: nn.Module, val: torch.Tensor, sp: spm.SentencePieceProcessor, device: str) -> tuple[float, float]:
    """One left-to-right pass over the validation tokens; every target scored exactly once."""
    base, leading_space = (t.to(device) for t in bytes_per_token(sp))
    boundary = torch.tensor([sp.is_control(i) for i in range(VOCAB)], device=device)
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    n_seq = (val.numel() - 1) // SEQ_LEN
    totals = torch.zeros(3, dtype=torch.float64, device=device)  # nats, tokens, bytes
    model.eval()
    for s in range(rank, n_seq, world):
        chunk = val[s * SEQ_LEN: (s + 1) * SEQ_LEN + 1].to(device)
        inputs, targets = chunk[:-1][None], chunk[1:]
        nats = F.cross_entropy(model(inputs)[0].float(), targets, reduction="sum")
        nbytes = base[targets] + (leading_space[targets] & ~boundary[chunk[:-1]]).long()
        totals += torch.stack([nats.double(), torch.tensor(targets.numel(), device=device).double(),
                               nbytes.sum().double()])
    if dist.is_initialized():
        dist.all_reduce(totals)
    nats, tokens, nbytes = totals.tolist()
    val_loss = nats / tokens
    return val_loss, val_loss / math.log(2) * tokens / nbytes


def quantize_int8(state: dict[str, torch.Tensor]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, w in state.items():
        w = w.float().cpu()
        if w.ndim == 2:
            scale = w.abs().amax(dim=1, keepdim=True).clamp(min=1e-8) / 127.0
            out[name] = ((w / scale).round().to(torch.int8), scale.half())
        else:
            out[name] = w.half()
    return out


def dequantize(packed: dict[str, object]) -> dict[str, torch.Tensor]:
    return {name: (v[0].float() * v[1].float()) if isinstance(v, tuple) else v.float() for name, v in packed.items()}


def main() -> None:
    distributed = "RANK" in os.environ
    if distributed:
        dist.init_process_group("nccl")
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
    torch.cuda.set_device(device)
    torch.manual_seed(SEED)
    log = print if rank == 0 else (lambda *a: None)
    log(f"seed:{SEED}")

    train_files = sorted(glob.glob(os.path.join(DATA_DIR, "fineweb_train_*.bin")))
    val = torch.cat([load_shard(p) for p in sorted(glob.glob(os.path.join(DATA_DIR, "fineweb_val_*.bin")))])
    sp = spm.SentencePieceProcessor(model_file=TOKENIZER)

    model = GPT().to(device).bfloat16()
    ddp = nn.parallel.DistributedDataParallel(model, device_ids=[device]) if distributed else model
    opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=(0.9, 0.95), weight_decay=0.0)
    rows_per_rank = TOKENS_PER_STEP // SEQ_LEN // world

    shard, pos, train = 0, 0, load_shard(train_files[0])
    start = time.perf_counter()
    step = 0
    for step in range(ITERATIONS):
        elapsed = time.perf_counter() - start
        if elapsed >= MAX_WALLCLOCK_SECONDS:
            log(f"stopping_early: wallclock_cap train_time:{elapsed * 1000:.0f}ms step:{step}/{ITERATIONS}")
            break
        need = rows_per_rank * SEQ_LEN * world + 1
        if pos + need > train.numel():
            shard, pos = (shard + 1) % len(train_files), 0
            train = load_shard(train_files[shard])
        window = train[pos + rank * rows_per_rank * SEQ_LEN: pos + (rank + 1) * rows_per_rank * SEQ_LEN + 1]
        pos += need - 1
        x = window[:-1].view(rows_per_rank, SEQ_LEN).to(device)
        y = window[1:].view(rows_per_rank, SEQ_LEN).to(device)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, elapsed)
        loss = F.cross_entropy(ddp(x).float().view(-1, VOCAB), y.view(-1))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if step % 200 == 0:
            log(f"step:{step}/{ITERATIONS} train_loss:{loss.item():.4f} "
                f"train_time:{elapsed * 1000:.0f}ms step_avg:{elapsed * 1000 / max(step, 1):.2f}ms")

    val_loss, val_bpb = evaluate(model, val, sp, device)
    log(f"step:{step}/{ITERATIONS} val_loss:{val_loss:.4f} val_bpb:{val_bpb:.4f}")

    if rank == 0:
        buffer = io.BytesIO()
        torch.save(quantize_int8(model.state_dict()), buffer)
        blob = zlib.compress(buffer.getvalue(), 9)
        with open(ARTIFACT, "wb") as fh:
            fh.write(blob)
        code_bytes = os.path.getsize(__file__)
        log(f"Serialized model int8+zlib: {len(blob)} bytes")
        log(f"Code size: {code_bytes} bytes")
        log(f"Total submission size int8+zlib: {len(blob) + code_bytes} bytes")
    if distributed:
        dist.barrier()

    eval_start = time.perf_counter()
    with open(ARTIFACT, "rb") as fh:
        restored = torch.load(io.BytesIO(zlib.decompress(fh.read())), weights_only=True)
    model.load_state_dict(dequantize(restored))
    val_loss, val_bpb = evaluate(model, val, sp, device)
    log(f"final_int8_zlib_roundtrip_exact val_loss:{val_loss:.8f} val_bpb:{val_bpb:.8f}")
    log(f"total_eval_time:{time.perf_counter() - eval_start:.1f}s")
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
