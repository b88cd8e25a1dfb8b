"""BPB accounting: how many UTF-8 bytes the validation targets stand for, recomputed independently
of the run, and whether a run's own val_loss/val_bpb imply the same tokens-per-byte ratio.

bpb = val_loss / ln 2 * tokens / bytes, so val_bpb / (val_loss / ln 2) is the ratio a script used.
A script that counts bytes wrongly (drops the leading-space rule, counts byte-fallback tokens as
their "<0x..>" text, scores a subset) shows up as a ratio that no honest cut of the validation set has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from .reference import load_reference
from .shards import read_split

# Sequence lengths a script may cut the validation stream to (whole sequences plus one token).
COMMON_SEQ_LENS = (512, 1024, 2048, 4096)


@dataclass
class ByteCount:
    tokens: int           # scored targets
    bytes: int            # UTF-8 bytes those targets stand for
    cut: str              # "whole stream" / "seq_len 1024"

    @property
    def ratio(self) -> float:
        return self.tokens / self.bytes


@dataclass
class ValidationBytes:
    """Byte counts of the validation set under every cut a script might use."""

    total_tokens: int
    counts: list[ByteCount] = field(default_factory=list)

    def best_match(self, ratio: float) -> tuple[ByteCount, float]:
        """The cut whose ratio is closest to `ratio`, and the relative difference."""
        best = min(self.counts, key=lambda c: abs(c.ratio - ratio))
        return best, abs(best.ratio - ratio) / best.ratio


def implied_ratio(val_loss: float, val_bpb: float) -> float | None:
    """tokens/bytes implied by a run's score; None when the score cannot imply one."""
    if not (val_loss > 0 and val_bpb > 0 and math.isfinite(val_loss) and math.isfinite(val_bpb)):
        return None
    return val_bpb / (val_loss / math.log(2.0))


def count_validation_bytes(data_path: Path, tokenizer_path: Path, vocab_size: int | None = None,
                           seq_lens: tuple[int, ...] = ()) -> ValidationBytes:
    import numpy as np
    import sentencepiece as spm

    ref = load_reference()
    sp = spm.SentencePieceProcessor(model_file=str(tokenizer_path))
    tokens = read_split(Path(data_path), "val").astype(np.int64)
    tables = ref.piece_byte_tables(sp, vocab_size or int(sp.vocab_size()))
    if tokens.size and int(tokens.max()) >= len(tables[0]):
        raise ValueError(f"validation shards hold token id {int(tokens.max())}, beyond the tokenizer's "
                         f"{len(tables[0])} pieces: the data and tokenizer do not belong together")
    per_target = ref.target_byte_counts(tokens[:-1], tokens[1:], tables)
    prefix = np.concatenate(([0], np.cumsum(per_target)))
    result = ValidationBytes(total_tokens=int(tokens.size))
    result.counts.append(ByteCount(int(per_target.size), int(prefix[-1]), "whole stream"))
    for seq_len in sorted({*COMMON_SEQ_LENS, *seq_lens}):
        usable = (per_target.size // seq_len) * seq_len
        if usable > 0 and usable != per_target.size:
            result.counts.append(ByteCount(int(usable), int(prefix[usable]), f"seq_len {seq_len}"))
    return result
