"""golflint's reference trainer for Parameter Golf: the baseline recipe, written from its published facts.

A 9-block, 512-wide GPT (8 query heads sharing 4 KV heads, 2x ReLU^2 MLP, RoPE, tied embeddings,
tanh logit softcap, encoder/decoder skip connections) trained with Muon on the matrices and Adam on
embeddings and scalars, 524,288 tokens per step, a linear warmdown that also tracks the wallclock
cap, then an int8 per-row + zlib-9 artifact that is loaded back and scored in bits per byte.

Runs as `torchrun --standalone --nproc_per_node=N train_gpt.py` on CUDA (bf16 autocast, optional
torch.compile) or as `python train_gpt.py` on CPU. Every size is an environment variable, so tests
run it at toy sizes in seconds. golflint imports this file as its canonical BPB evaluator:
`piece_byte_tables`, `target_byte_counts` and `load_data_shard` must keep working without CUDA.
It writes the artifact `final_model.int8.ptz`; `--save-pt [PATH]` also saves the raw state dict
(`final_model.pt`), for `golflint budget` what-ifs.
"""

from __future__ import annotations

import glob
import io
import math
import os
import resource
import sys
import time
import uuid
import zlib
from dataclasses import dataclass, fields

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn

SHARD_MAGIC = 20240520
SHARD_VERSION = 1
SHARD_HEADER_INTS = 256


# ---------------------------------------------------------------------------------------------------
# Settings: defaults are the baseline's; every one can be overridden from the environment.
@dataclass
class Hyperparameters:
    data_path: str = "./data/datasets/fineweb10B_sp1024"
    tokenizer_path: str = "./data/tokenizers/fineweb_1024_bpe.model"
    run_id: str = ""
    seed: int = 1337

    vocab_size: int = 1024
    num_layers: int = 9
    model_dim: int = 512
    num_heads: int = 8
    num_kv_heads: int = 4
    mlp_mult: int = 2
    tie_embeddings: int = 1
    rope_base: float = 10000.0
    logit_softcap: float = 30.0
    qk_gain_init: float = 1.5
    tied_embed_init_std: float = 0.005

    train_seq_len: int = 1024
    train_batch_tokens: int = 524_288
    grad_accum_steps: int = 0            # 0: 8 // world_size, so 8 micro-batches per step in total
    iterations: int = 20_000
    warmup_steps: int = 20               # compile/allocator warmup, undone before timing starts
    warmdown_iters: int = 1200
    max_wallclock_seconds: float = 600.0

    val_batch_size: int = 524_288        # validation tokens per forward pass, all ranks together
    val_max_tokens: int = 0              # 0: the whole validation set; else only its first N tokens
    val_loss_every: int = 1000
    train_log_every: int = 200

    embed_lr: float = 0.6
    tied_embed_lr: float = 0.05
    head_lr: float = 0.008
    matrix_lr: float = 0.04
    scalar_lr: float = 0.04
    beta1: float = 0.9
    beta2: float = 0.95
    adam_eps: float = 1e-8
    muon_momentum: float = 0.95
    muon_momentum_warmup_start: float = 0.85
    muon_momentum_warmup_steps: int = 500
    muon_backend_steps: int = 5
    grad_clip_norm: float = 0.0

    torch_compile: int = -1              # -1: on for CUDA, off for CPU
    int8_keep_float_numel: int = 65_536  # tensors this small stay fp16 in the artifact
    artifact_path: str = "final_model.int8.ptz"

    @classmethod
    def from_env(cls) -> "Hyperparameters":
        args = cls()
        for f in fields(cls):
            raw = os.environ.get(f.name.upper(), "").strip()
            if raw:
                kind = type(getattr(args, f.name))
                try:
                    setattr(args, f.name, kind(float(raw)) if kind is int else kind(raw))
                except ValueError:
                    raise ValueError(f"{f.name.upper()}={raw!r} is not a valid {kind.__name__}") from None
        if not args.run_id:
            args.run_id = str(uuid.uuid4())
        return args


# ---------------------------------------------------------------------------------------------------
# Data: challenge shards are a 256 x int32 little-endian header then uint16 tokens.
def load_data_shard(path: str) -> np.ndarray:
    header = np.fromfile(path, dtype="<i4", count=SHARD_HEADER_INTS)
    if header.size != SHARD_HEADER_INTS or header[0] != SHARD_MAGIC or header[1] != SHARD_VERSION:
        raise ValueError(f"{path}: not a token shard (magic {SHARD_MAGIC}, version {SHARD_VERSION})")
    count = int(header[2])
    tokens = np.fromfile(path, dtype="<u2", count=count, offset=SHARD_HEADER_INTS * 4)
    if tokens.size != count:
        raise ValueError(f"{path}: header promises {count} tokens, file holds {tokens.size}")
    return tokens


def shard_paths(pattern: str) -> list[str]:
    paths = sorted(glob.glob(pattern))
    if not paths:
        raise FileNotFoundError(f"no shard matches {pattern}")
    return paths


def load_validation_tokens(data_path: str, seq_len: int, max_tokens: int = 0) -> np.ndarray:
    """All validation tokens, cut to whole sequences plus the one token the last target needs."""
    tokens = np.concatenate([load_data_shard(p) for p in shard_paths(os.path.join(data_path, "fineweb_val_*.bin"))])
    if max_tokens > 0:
        tokens = tokens[: max_tokens + 1]
    usable = ((tokens.size - 1) // seq_len) * seq_len
    if usable <= 0:
        raise ValueError(f"validation set has {tokens.size} tokens, fewer than one sequence of {seq_len}")
    return tokens[: usable + 1]


class TokenStream:
    """Reads the training shards in order, wrapping around, without ever loading more than one."""

    def __init__(self, pattern: str):
        self.paths = shard_paths(pattern)
        self.index = 0
        self.tokens = load_data_shard(self.paths[0])
        self.pos = 0

    def take(self, n: int) -> np.ndarray:
        parts, left = [], n
        while left > 0:
            if self.pos >= self.tokens.size:
                self.index = (self.index + 1) % len(self.paths)
                self.tokens = load_data_shard(self.paths[self.index])
                self.pos = 0
            chunk = self.tokens[self.pos: self.pos + left]
            parts.append(chunk)
            self.pos += chunk.size
            left -= chunk.size
        return np.concatenate(parts)


class DistributedBatches:
    """Every rank reads the same span of the stream and keeps its own slice, so ranks never overlap."""

    def __init__(self, pattern: str, rank: int, world_size: int, device: torch.device):
        self.stream = TokenStream(pattern)
        self.rank, self.world_size, self.device = rank, world_size, device

    def next_batch(self, local_tokens: int, seq_len: int) -> tuple[Tensor, Tensor]:
        span = self.stream.take(local_tokens * self.world_size + 1)
        start = self.rank * local_tokens
        local = torch.from_numpy(span[start: start + local_tokens + 1].astype(np.int64))
        x = local[:-1].reshape(-1, seq_len)
        y = local[1:].reshape(-1, seq_len)
        return x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)


# ---------------------------------------------------------------------------------------------------
# Bits per byte: each target token is worth the UTF-8 bytes of its SentencePiece piece. A leading
# "▁" is one space byte, except right after a boundary (control/unknown) token, where the decoder
# drops it; a byte-fallback token is one byte. golflint recomputes the validation byte count with
# these two functions, so they take numpy or torch arrays alike.
def piece_byte_tables(sp, vocab_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(base_bytes int64, has_leading_space bool, is_boundary bool), each of length vocab_size."""
    table_size = max(int(sp.vocab_size()), vocab_size)
    base_bytes = np.zeros(table_size, dtype=np.int64)
    has_leading_space = np.zeros(table_size, dtype=bool)
    is_boundary = np.ones(table_size, dtype=bool)
    for token_id in range(int(sp.vocab_size())):
        if sp.is_control(token_id) or sp.is_unknown(token_id) or sp.is_unused(token_id):
            continue
        is_boundary[token_id] = False
        if sp.is_byte(token_id):
            base_bytes[token_id] = 1
            continue
        piece = sp.id_to_piece(token_id)
        if piece.startswith("\u2581"):
            has_leading_space[token_id] = True
            piece = piece[1:]
        base_bytes[token_id] = len(piece.encode("utf-8"))
    return base_bytes, has_leading_space, is_boundary


def target_byte_counts(prev_ids, target_ids, tables):
    """UTF-8 bytes each target token stands for, given the token before it."""
    base_bytes, has_leading_space, is_boundary = tables
    return base_bytes[target_ids] + (has_leading_space[target_ids] & ~is_boundary[prev_ids])


# ---------------------------------------------------------------------------------------------------
# Muon: momentum, then the update matrix is replaced by an approximately orthogonal one (a quintic
# Newton-Schulz iteration that pushes every singular value towards 1).
def orthogonalize(update: Tensor, steps: int) -> Tensor:
    a, b, c = 3.4445, -4.7750, 2.0315
    x = update.to(torch.bfloat16 if update.is_cuda else torch.float32)
    x = x / (x.norm() + 1e-7)
    transposed = x.size(0) > x.size(1)
    if transposed:
        x = x.T
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if transposed else x


class Muon(torch.optim.Optimizer):
    """Each rank orthogonalizes every world_size-th matrix; one all-reduce shares the results."""

    def __init__(self, params, lr: float, momentum: float, backend_steps: int):
        super().__init__(params, dict(lr=lr, momentum=momentum, backend_steps=backend_steps))

    @torch.no_grad()
    def step(self):
        distributed = dist.is_available() and dist.is_initialized()
        world_size = dist.get_world_size() if distributed else 1
        rank = dist.get_rank() if distributed else 0
        for group in self.param_groups:
            params = group["params"]
            if not params:
                continue
            flat = torch.zeros(sum(p.numel() for p in params), device=params[0].device, dtype=torch.float32)
            offset = 0
            for i, p in enumerate(params):
                if i % world_size == rank and p.grad is not None:
                    state = self.state[p]
                    if "momentum" not in state:
                        state["momentum"] = torch.zeros_like(p.grad)
                    buf = state["momentum"]
                    buf.mul_(group["momentum"]).add_(p.grad)
                    nesterov = p.grad.add(buf, alpha=group["momentum"])
                    update = orthogonalize(nesterov, group["backend_steps"])
                    update = update * max(1.0, p.size(0) / p.size(1)) ** 0.5
                    flat[offset: offset + p.numel()] = update.reshape(-1).float()
                offset += p.numel()
            if distributed:
                dist.all_reduce(flat, op=dist.ReduceOp.SUM)
            offset = 0
            for p in params:
                p.add_(flat[offset: offset + p.numel()].view_as(p).to(p.dtype), alpha=-group["lr"])
                offset += p.numel()


# ---------------------------------------------------------------------------------------------------
# Model.
def rms_norm(x: Tensor) -> Tensor:
    return F.rms_norm(x, (x.size(-1),))


class Linear(nn.Linear):
    """fp32 master weights; the matmul runs in the autocast dtype."""

    def __init__(self, in_features: int, out_features: int, zero_init: bool = False):
        super().__init__(in_features, out_features, bias=False)
        if zero_init:
            nn.init.zeros_(self.weight)


class Rotary(nn.Module):
    """cos/sin tables computed once for the longest sequence, so a compiled graph never rebuilds them."""

    def __init__(self, head_dim: int, base: float, max_len: int):
        super().__init__()
        inv_freq = 1.0 / base ** (torch.arange(0, head_dim, 2).float() / head_dim)
        angles = torch.outer(torch.arange(max_len, dtype=torch.float32), inv_freq)
        self.register_buffer("cos", angles.cos()[None, None], persistent=False)
        self.register_buffer("sin", angles.sin()[None, None], persistent=False)

    def forward(self, seq_len: int, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        return self.cos[:, :, :seq_len].to(dtype), self.sin[:, :, :seq_len].to(dtype)


def apply_rotary(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    half = x.size(-1) // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat((x1 * cos + x2 * sin, x2 * cos - x1 * sin), dim=-1)


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int, num_kv_heads: int, rope_base: float, qk_gain_init: float,
                 max_len: int):
        super().__init__()
        if dim % num_heads or num_heads % num_kv_heads:
            raise ValueError("MODEL_DIM must divide by NUM_HEADS, and NUM_HEADS by NUM_KV_HEADS")
        self.num_heads, self.num_kv_heads = num_heads, num_kv_heads
        self.head_dim = dim // num_heads
        if self.head_dim % 2:
            raise ValueError("head size (MODEL_DIM / NUM_HEADS) must be even for rotary embeddings")
        kv_dim = num_kv_heads * self.head_dim
        self.q = Linear(dim, dim)
        self.k = Linear(dim, kv_dim)
        self.v = Linear(dim, kv_dim)
        self.proj = Linear(dim, dim, zero_init=True)
        self.q_gain = nn.Parameter(torch.full((num_heads,), qk_gain_init))
        self.rotary = Rotary(self.head_dim, rope_base, max_len)

    def forward(self, x: Tensor) -> Tensor:
        bsz, seq_len, dim = x.shape
        q = self.q(x).view(bsz, seq_len, self.num_heads, self.head_dim).transpose(1, 2)
        k = self.k(x).view(bsz, seq_len, self.num_kv_heads, self.head_dim).transpose(1, 2)
        v = self.v(x).view(bsz, seq_len, self.num_kv_heads, self.head_dim).transpose(1, 2)
        q, k = rms_norm(q), rms_norm(k)
        cos, sin = self.rotary(seq_len, q.dtype)
        q = apply_rotary(q, cos, sin) * self.q_gain.to(q.dtype)[None, :, None, None]
        k = apply_rotary(k, cos, sin)
        if self.num_kv_heads != self.num_heads:
            repeat = self.num_heads // self.num_kv_heads
            k = k.repeat_interleave(repeat, dim=1)
            v = v.repeat_interleave(repeat, dim=1)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(bsz, seq_len, dim))


class MLP(nn.Module):
    def __init__(self, dim: int, mult: int):
        super().__init__()
        self.up = Linear(dim, dim * mult)
        self.down = Linear(dim * mult, dim, zero_init=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.down(F.relu(self.up(x)).square())


class Block(nn.Module):
    def __init__(self, args: Hyperparameters):
        super().__init__()
        dim = args.model_dim
        self.attn = Attention(dim, args.num_heads, args.num_kv_heads, args.rope_base, args.qk_gain_init,
                              args.train_seq_len)
        self.mlp = MLP(dim, args.mlp_mult)
        self.attn_scale = nn.Parameter(torch.ones(dim))
        self.mlp_scale = nn.Parameter(torch.ones(dim))
        # How much of the embedding stream x0 is mixed back into the residual before this block.
        self.resid_mix = nn.Parameter(torch.stack((torch.ones(dim), torch.zeros(dim))))

    def forward(self, x: Tensor, x0: Tensor) -> Tensor:
        mix = self.resid_mix.to(x.dtype)
        x = mix[0] * x + mix[1] * x0
        x = x + self.attn_scale.to(x.dtype) * self.attn(rms_norm(x))
        return x + self.mlp_scale.to(x.dtype) * self.mlp(rms_norm(x))


class GPT(nn.Module):
    def __init__(self, args: Hyperparameters):
        super().__init__()
        self.softcap = args.logit_softcap
        self.tok_emb = nn.Embedding(args.vocab_size, args.model_dim)
        self.blocks = nn.ModuleList(Block(args) for _ in range(args.num_layers))
        # The first half (encoder) hands its outputs, last first, to the second half (decoder).
        self.num_encoder = args.num_layers // 2
        self.num_decoder = args.num_layers - self.num_encoder
        self.skip_weights = nn.Parameter(torch.ones(min(self.num_encoder, self.num_decoder), args.model_dim))
        self.lm_head = None if args.tie_embeddings else Linear(args.model_dim, args.vocab_size, zero_init=True)
        if args.tie_embeddings:
            nn.init.normal_(self.tok_emb.weight, std=args.tied_embed_init_std)

    def forward(self, idx: Tensor, targets: Tensor, reduction: str = "mean") -> Tensor:
        x = rms_norm(self.tok_emb(idx))
        x0, skips = x, []
        for block in self.blocks[: self.num_encoder]:
            x = block(x, x0)
            skips.append(x)
        for i, block in enumerate(self.blocks[self.num_encoder:]):
            if skips and i < self.skip_weights.size(0):
                x = x + self.skip_weights[i].to(x.dtype) * skips.pop()
            x = block(x, x0)
        x = rms_norm(x)
        logits = F.linear(x, self.tok_emb.weight) if self.lm_head is None else self.lm_head(x)
        logits = self.softcap * torch.tanh(logits.float() / self.softcap)
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1), reduction=reduction)


# ---------------------------------------------------------------------------------------------------
# Evaluation: mean cross-entropy over every validation target, and the bytes those targets stand for.
@torch.no_grad()
def grad_accum_for(args: Hyperparameters, world_size: int) -> int:
    """Micro-batches per step: GRAD_ACCUM_STEPS, else 8 in total over the ranks (the baseline's rule)."""
    return args.grad_accum_steps or (8 // world_size if 8 % world_size == 0 else 1)


def evaluate(model: nn.Module, args: Hyperparameters, val_tokens: np.ndarray, tables, rank: int,
             world_size: int, device: torch.device, autocast) -> tuple[float, float]:
    seq_len = args.train_seq_len
    num_seqs = (val_tokens.size - 1) // seq_len
    first, last = num_seqs * rank // world_size, num_seqs * (rank + 1) // world_size
    # As the baseline does: VAL_BATCH_SIZE is split over ranks and over the gradient-accumulation
    # micro-batches, so one forward pass holds no more tokens than a training micro-batch (on one GPU,
    # 524,288 tokens in a single pass would double peak memory; measured on an H200, 2026-11-30).
    seqs_per_batch = max(1, args.val_batch_size // (world_size * grad_accum_for(args, world_size) * seq_len))
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    token_count = torch.zeros((), device=device, dtype=torch.float64)
    byte_count = torch.zeros((), device=device, dtype=torch.float64)
    was_training = model.training
    model.eval()
    for start in range(first, last, seqs_per_batch):
        end = min(start + seqs_per_batch, last)
        chunk = val_tokens[start * seq_len: end * seq_len + 1].astype(np.int64)
        x = torch.from_numpy(chunk[:-1]).reshape(-1, seq_len)
        y = torch.from_numpy(chunk[1:]).reshape(-1, seq_len)
        with autocast():
            loss = model(x.to(device), y.to(device), reduction="sum")
        loss_sum += loss.double()
        token_count += y.numel()
        byte_count += float(target_byte_counts(x.numpy().reshape(-1), y.numpy().reshape(-1), tables).sum())
    if world_size > 1:
        for value in (loss_sum, token_count, byte_count):
            dist.all_reduce(value, op=dist.ReduceOp.SUM)
    model.train(was_training)
    val_loss = (loss_sum / token_count).item()
    val_bpb = val_loss / math.log(2.0) * (token_count / byte_count).item()
    return val_loss, val_bpb


# ---------------------------------------------------------------------------------------------------
# Artifact: 2-D float tensors become int8 with one fp16 scale per row; small ones stay fp16.
def quantize_state_dict(state: dict[str, Tensor], keep_float_numel: int) -> dict:
    out: dict = {"int8": {}, "scales": {}, "float": {}, "dtypes": {}}
    for name, tensor in state.items():
        tensor = tensor.detach().cpu()
        out["dtypes"][name] = str(tensor.dtype).removeprefix("torch.")
        if tensor.is_floating_point() and tensor.ndim == 2 and tensor.numel() > keep_float_numel:
            t = tensor.float()
            scale = (t.abs().amax(dim=1) / 127.0).clamp_min(1e-12)
            out["int8"][name] = torch.round(t / scale[:, None]).clamp(-127, 127).to(torch.int8).contiguous()
            out["scales"][name] = scale.to(torch.float16)
        elif tensor.is_floating_point():
            out["float"][name] = tensor.to(torch.float16)
        else:
            out["float"][name] = tensor
    return out


def dequantize_state_dict(packed: dict) -> dict[str, Tensor]:
    state = {}
    for name, q in packed["int8"].items():
        state[name] = q.float() * packed["scales"][name].float()[:, None]
    state.update(packed["float"])
    return {name: t.to(getattr(torch, packed["dtypes"][name])) for name, t in state.items()}


def write_artifact(model: nn.Module, args: Hyperparameters) -> int:
    buffer = io.BytesIO()
    torch.save(quantize_state_dict(model.state_dict(), args.int8_keep_float_numel), buffer)
    blob = zlib.compress(buffer.getvalue(), level=9)
    with open(args.artifact_path, "wb") as f:
        f.write(blob)
    return len(blob)


def read_artifact(path: str) -> dict[str, Tensor]:
    with open(path, "rb") as f:
        packed = torch.load(io.BytesIO(zlib.decompress(f.read())), map_location="cpu", weights_only=True)
    return dequantize_state_dict(packed)


# ---------------------------------------------------------------------------------------------------
def learning_rate_scale(step: int, elapsed_ms: float, args: Hyperparameters) -> float:
    """1.0, then a linear decay to 0 over the last WARMDOWN_ITERS steps, counted in iterations or,
    under a wallclock cap, in the time those steps are expected to take at the current pace."""
    if args.warmdown_iters <= 0:
        return 1.0
    by_steps = (args.iterations - step) / args.warmdown_iters
    if args.max_wallclock_seconds <= 0 or step == 0:
        return max(0.0, min(1.0, by_steps))
    step_ms = elapsed_ms / step
    remaining_ms = args.max_wallclock_seconds * 1000.0 - elapsed_ms
    by_time = remaining_ms / (args.warmdown_iters * step_ms)
    return max(0.0, min(1.0, by_steps, by_time))


def raw_state_dict_path(argv: list[str]) -> str | None:
    """`--save-pt [PATH]`: also save the trained, unquantized state dict (default final_model.pt), the
    input `golflint budget final_model.pt --quant ... --codec ...` takes to price other recipes."""
    for i, arg in enumerate(argv):
        if arg == "--save-pt":
            following = argv[i + 1] if i + 1 < len(argv) else ""
            return following if following and not following.startswith("-") else "final_model.pt"
        if arg.startswith("--save-pt="):
            return arg.split("=", 1)[1] or "final_model.pt"
    return None


def main() -> None:
    args = Hyperparameters.from_env()
    save_pt = raw_state_dict_path(sys.argv[1:])
    with open(__file__, "rb") as f:
        code_bytes = len(f.read())

    distributed = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    rank = int(os.environ.get("RANK", 0))
    world_size = int(os.environ.get("WORLD_SIZE", 1))
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    use_cuda = torch.cuda.is_available()
    if use_cuda:
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if distributed:
        dist.init_process_group(backend="nccl" if use_cuda else "gloo", device_id=device if use_cuda else None)
    grad_accum = grad_accum_for(args, world_size)
    micro_tokens = args.train_batch_tokens // (world_size * grad_accum)
    if micro_tokens <= 0 or micro_tokens % args.train_seq_len:
        raise ValueError(f"TRAIN_BATCH_TOKENS={args.train_batch_tokens} does not split into {world_size} ranks x "
                         f"{grad_accum} micro-batches of whole {args.train_seq_len}-token sequences")
    master = rank == 0
    os.makedirs("logs", exist_ok=True)
    logfile = os.path.join("logs", f"{args.run_id}.txt")

    def log0(message: str) -> None:
        if master:
            print(message, flush=True)
            with open(logfile, "a", encoding="utf-8") as f:
                print(message, file=f)

    if use_cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

        def autocast():
            return torch.autocast("cuda", dtype=torch.bfloat16)
    else:
        def autocast():
            return torch.autocast("cpu", enabled=False)

    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=args.tokenizer_path)
    if int(sp.vocab_size()) != args.vocab_size:
        raise ValueError(f"tokenizer has {sp.vocab_size()} pieces, VOCAB_SIZE is {args.vocab_size}")
    tables = piece_byte_tables(sp, args.vocab_size)
    val_tokens = load_validation_tokens(args.data_path, args.train_seq_len, args.val_max_tokens)

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    model = GPT(args).to(device)
    log0(f"seed:{args.seed}")
    log0(f"model_params:{sum(p.numel() for p in model.parameters())}")
    log0(f"world_size:{world_size} grad_accum_steps:{grad_accum} tokens_per_step:{args.train_batch_tokens} "
         f"seq_len:{args.train_seq_len} device:{device.type}")

    compile_model = args.torch_compile if args.torch_compile >= 0 else int(use_cuda)
    compiled = torch.compile(model, dynamic=False) if compile_model else model
    train_model = nn.parallel.DistributedDataParallel(
        compiled, device_ids=[local_rank] if use_cuda else None) if distributed else compiled

    matrices = [p for n, p in model.blocks.named_parameters() if p.ndim == 2 and "resid_mix" not in n]
    scalars = [p for n, p in model.blocks.named_parameters() if p.ndim < 2 or "resid_mix" in n]
    scalars.append(model.skip_weights)
    embed_lr = args.tied_embed_lr if args.tie_embeddings else args.embed_lr
    adam_groups = [dict(params=[model.tok_emb.weight], lr=embed_lr, base_lr=embed_lr),
                   dict(params=scalars, lr=args.scalar_lr, base_lr=args.scalar_lr)]
    if model.lm_head is not None:
        adam_groups.append(dict(params=[model.lm_head.weight], lr=args.head_lr, base_lr=args.head_lr))
    adam = torch.optim.Adam(adam_groups, betas=(args.beta1, args.beta2), eps=args.adam_eps, fused=use_cuda)
    muon = Muon(matrices, lr=args.matrix_lr, momentum=args.muon_momentum, backend_steps=args.muon_backend_steps)
    for group in muon.param_groups:
        group["base_lr"] = args.matrix_lr
    optimizers = [adam, muon]

    def train_step(batches: DistributedBatches, step: int, elapsed_ms: float) -> Tensor:
        total = torch.zeros((), device=device)
        for micro in range(grad_accum):
            x, y = batches.next_batch(micro_tokens, args.train_seq_len)
            if distributed:
                train_model.require_backward_grad_sync = micro == grad_accum - 1
            with autocast():
                loss = train_model(x, y)
            (loss / grad_accum).backward()
            total += loss.detach() / grad_accum
        scale = learning_rate_scale(step, elapsed_ms, args)
        warm = min(1.0, step / args.muon_momentum_warmup_steps) if args.muon_momentum_warmup_steps > 0 else 1.0
        for group in muon.param_groups:
            group["momentum"] = (1 - warm) * args.muon_momentum_warmup_start + warm * args.muon_momentum
        for opt in optimizers:
            for group in opt.param_groups:
                group["lr"] = group["base_lr"] * scale
        if args.grad_clip_norm > 0:
            nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip_norm)
        for opt in optimizers:
            opt.step()
        for opt in optimizers:
            opt.zero_grad(set_to_none=True)
        return total

    train_pattern = os.path.join(args.data_path, "fineweb_train_*.bin")
    if args.warmup_steps > 0:
        # Compile and allocator warmup on real batches; the weights, optimizer state and data
        # order are restored afterwards, so the timed run starts from the same point as without it.
        initial_model = {k: v.detach().clone() for k, v in model.state_dict().items()}
        initial_opts = [io.BytesIO() for _ in optimizers]
        for buf, opt in zip(initial_opts, optimizers):
            torch.save(opt.state_dict(), buf)
        warm_batches = DistributedBatches(train_pattern, rank, world_size, device)
        for _ in range(args.warmup_steps):
            train_step(warm_batches, 0, 0.0)
        model.load_state_dict(initial_model)
        for buf, opt in zip(initial_opts, optimizers):
            buf.seek(0)
            opt.load_state_dict(torch.load(buf, weights_only=False))
        for opt in optimizers:
            opt.zero_grad(set_to_none=True)
        log0(f"warmup_steps:{args.warmup_steps} done")
    batches = DistributedBatches(train_pattern, rank, world_size, device)

    def sync() -> None:
        if use_cuda:
            torch.cuda.synchronize()

    cap_ms = args.max_wallclock_seconds * 1000.0 if args.max_wallclock_seconds > 0 else float("inf")
    train_ms = 0.0
    step = 0
    sync()
    t0 = time.perf_counter()
    while True:
        last = step == args.iterations
        if last or (args.val_loss_every > 0 and step % args.val_loss_every == 0 and step > 0):
            sync()
            train_ms += (time.perf_counter() - t0) * 1000.0
            val_loss, val_bpb = evaluate(compiled, args, val_tokens, tables, rank, world_size, device, autocast)
            log0(f"step:{step}/{args.iterations} val_loss:{val_loss:.4f} val_bpb:{val_bpb:.4f} "
                 f"train_time:{train_ms:.0f}ms step_avg:{train_ms / max(step, 1):.2f}ms")
            sync()
            t0 = time.perf_counter()
        if last:
            break
        loss = train_step(batches, step, train_ms + (time.perf_counter() - t0) * 1000.0)
        step += 1
        elapsed = train_ms + (time.perf_counter() - t0) * 1000.0
        if args.train_log_every > 0 and (step <= 10 or step % args.train_log_every == 0):
            log0(f"step:{step}/{args.iterations} train_loss:{loss.item():.4f} train_time:{elapsed:.0f}ms "
                 f"step_avg:{elapsed / step:.2f}ms")
        # Every rank must agree to stop, or the ranks would wait on each other's collectives forever.
        over = elapsed >= cap_ms
        if distributed:
            flag = torch.tensor(float(over), device=device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            over = flag.item() > 0
        if over and step < args.iterations:
            sync()
            train_ms += (time.perf_counter() - t0) * 1000.0
            log0(f"stopping_early: wallclock_cap train_time:{train_ms:.0f}ms step:{step}/{args.iterations}")
            val_loss, val_bpb = evaluate(compiled, args, val_tokens, tables, rank, world_size, device, autocast)
            log0(f"step:{step}/{args.iterations} val_loss:{val_loss:.4f} val_bpb:{val_bpb:.4f} "
                 f"train_time:{train_ms:.0f}ms step_avg:{train_ms / max(step, 1):.2f}ms")
            break

    if use_cuda:
        log0(f"peak memory allocated: {torch.cuda.max_memory_allocated() // 2**20} MiB "
             f"reserved: {torch.cuda.max_memory_reserved() // 2**20} MiB")
    else:
        log0(f"peak memory (cpu max rss): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")

    if master:
        model_bytes = write_artifact(model, args)
        log0(f"Serialized model int8+zlib: {model_bytes} bytes")
        log0(f"Code size: {code_bytes} bytes")
        log0(f"Total submission size int8+zlib: {model_bytes + code_bytes} bytes")
        if save_pt:
            torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, save_pt)
            log0(f"Saved raw state dict: {save_pt} ({os.path.getsize(save_pt)} bytes; not part of the artifact)")
    if distributed:
        dist.barrier()
    model.load_state_dict(read_artifact(args.artifact_path))
    sync()
    t_eval = time.perf_counter()
    val_loss, val_bpb = evaluate(compiled, args, val_tokens, tables, rank, world_size, device, autocast)
    sync()
    eval_ms = (time.perf_counter() - t_eval) * 1000.0
    log0(f"final_int8_zlib_roundtrip val_loss:{val_loss:.4f} val_bpb:{val_bpb:.4f} eval_time:{eval_ms:.0f}ms")
    log0(f"final_int8_zlib_roundtrip_exact val_loss:{val_loss:.8f} val_bpb:{val_bpb:.8f}")
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
