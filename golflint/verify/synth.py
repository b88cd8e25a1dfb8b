"""A synthetic stand-in for the challenge data: generated documents, a SentencePiece BPE tokenizer
trained on them, and train/validation shards in the challenge format.

The text has enough structure for a small model to learn (a Zipfian vocabulary of invented words,
each with a few favoured successors, sentences and paragraphs), plus digits, punctuation and
non-ASCII words so the tokenizer needs multi-byte pieces and byte-fallback tokens: the cases the
BPB byte accounting must get right. Everything is a function of --seed.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GolflintError
from .shards import write_split

SYLLABLES = ("ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "an", "el", "or", "us", "vi", "de", "gra",
             "sto", "pli", "mar", "ten", "qu", "ish", "ber", "don", "fa", "ze", "wo", "hy", "cle")
FOREIGN = ("café", "naïve", "über", "straße", "señor", "déjà", "façade", "Zürich", "smörgåsbord",
           "東京", "日本語", "данные", "привет", "λόγος", "ελλάδα", "مرحبا", "😀", "✓", "→", "€")
PUNCT_END = (".", ".", ".", "!", "?")
BOS_ID = 1


@dataclass
class SynthResult:
    data_path: Path
    tokenizer_path: Path
    train_tokens: int
    val_tokens: int
    train_shards: list[Path] = field(default_factory=list)
    val_shards: list[Path] = field(default_factory=list)
    train_docs: int = 0
    val_docs: int = 0


class TextGenerator:
    """Documents over one seed's lexicon; `stream` picks an independent sequence of documents."""

    def __init__(self, seed: int, stream: int = 0, words: int = 1500):
        rng = random.Random(seed)
        lexicon: list[str] = []
        seen = set()
        while len(lexicon) < words:
            word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((1, 1, 2, 2, 2, 3, 3, 4))))
            if word not in seen:
                seen.add(word)
                lexicon.append(word)
        lexicon[: len(FOREIGN)] = list(FOREIGN)
        rng.shuffle(lexicon)
        self.lexicon = lexicon
        # Zipf: the k-th most common word is about 1/k as frequent as the first.
        self.cum_weights = list(itertools.accumulate(1.0 / (k + 1) for k in range(words)))
        self.ids = range(words)
        self.successors = [rng.sample(range(words), 4) for _ in range(words)]
        self.rng = random.Random(f"{seed}/{stream}")

    def _word(self, previous: int | None) -> int:
        if previous is not None and self.rng.random() < 0.55:
            return self.rng.choice(self.successors[previous])
        return self.rng.choices(self.ids, cum_weights=self.cum_weights)[0]

    def sentence(self) -> str:
        out, previous = [], None
        for i in range(self.rng.randint(4, 18)):
            previous = self._word(previous)
            word = self.lexicon[previous]
            if i == 0:
                word = word[:1].upper() + word[1:]
            roll = self.rng.random()
            if roll < 0.04:
                word = str(self.rng.randint(0, 2100))
            elif roll < 0.08 and i > 0:
                out[-1] += ","
            out.append(word)
        return " ".join(out) + self.rng.choice(PUNCT_END)

    def document(self) -> str:
        paragraphs = []
        for _ in range(self.rng.randint(1, 4)):
            paragraphs.append(" ".join(self.sentence() for _ in range(self.rng.randint(2, 7))))
        return "\n\n".join(paragraphs)


def train_tokenizer(texts: list[str], path: Path, vocab_size: int) -> Path:
    import io

    import sentencepiece as spm

    # Written through model_writer: with a model_prefix the model would record the output path,
    # and the same seed would give different bytes in different folders.
    model = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(texts), model_writer=model, vocab_size=vocab_size,
            model_type="bpe", byte_fallback=True, character_coverage=0.995, split_digits=True,
            pad_id=0, bos_id=BOS_ID, eos_id=2, unk_id=3, num_threads=1, shuffle_input_sentence=False,
            max_sentence_length=1 << 16, minloglevel=2)
    except RuntimeError as exc:
        raise GolflintError(f"SentencePiece could not train a {vocab_size}-piece tokenizer on the "
                            f"generated text: {exc}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.getvalue())
    return path


def _encode(sp, gen: TextGenerator, want_tokens: int) -> tuple["object", int]:
    """Documents, each led by the BOS token, until `want_tokens` tokens exist; cut to exactly that."""
    import numpy as np

    chunks, total, docs = [], 0, 0
    while total < want_tokens:
        ids = [BOS_ID, *sp.encode(gen.document())]
        chunks.append(np.asarray(ids, dtype=np.uint16))
        total += len(ids)
        docs += 1
    return np.concatenate(chunks)[:want_tokens], docs


def synthesize(out: Path, *, vocab_size: int = 1024, seed: int = 1337, train_tokens: int = 2_000_000,
               val_tokens: int = 200_000, shard_tokens: int = 1_000_000,
               tokenizer_docs: int = 1000) -> SynthResult:
    import sentencepiece as spm

    if vocab_size < 300:
        raise GolflintError("--vocab-size must be at least 300 (256 byte-fallback pieces + specials + merges)")
    if vocab_size > 65536:
        raise GolflintError("--vocab-size must fit uint16 token ids (at most 65536)")
    tokenizer_text = TextGenerator(seed, stream=0)
    tokenizer_path = train_tokenizer([tokenizer_text.document() for _ in range(tokenizer_docs)],
                                     out / "tokenizers" / f"synth_{vocab_size}_bpe.model", vocab_size)
    sp = spm.SentencePieceProcessor(model_file=str(tokenizer_path))
    data_path = out / "datasets" / f"synth_sp{vocab_size}"
    # One language, separate document streams: validation documents never appear in training.
    train, train_docs = _encode(sp, TextGenerator(seed, stream=1), train_tokens)
    val, val_docs = _encode(sp, TextGenerator(seed, stream=2), val_tokens)
    for stale in [*data_path.glob("fineweb_train_*.bin"), *data_path.glob("fineweb_val_*.bin")]:
        stale.unlink()
    result = SynthResult(data_path, tokenizer_path, len(train), len(val), train_docs=train_docs, val_docs=val_docs)
    result.train_shards = write_split(data_path, "train", train, shard_tokens)
    result.val_shards = write_split(data_path, "val", val, shard_tokens)
    return result
