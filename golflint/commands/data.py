"""golflint data: datasets for the reference trainer and `golflint verify`."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("data")
def command() -> None:
    """Datasets in the challenge's shard format."""


@command.command("synth")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write datasets/synth_spV/ and tokenizers/synth_V_bpe.model into.")
@click.option("--vocab-size", default=1024, show_default=True, type=click.IntRange(300, 65536),
              help="Pieces in the SentencePiece BPE tokenizer (the baseline uses 1024).")
@click.option("--seed", default=1337, show_default=True, type=int,
              help="Everything written is a function of this seed.")
@click.option("--train-tokens", default=2_000_000, show_default=True, type=click.IntRange(1, None))
@click.option("--val-tokens", default=200_000, show_default=True, type=click.IntRange(2, None))
@click.option("--shard-tokens", default=1_000_000, show_default=True, type=click.IntRange(1, None),
              help="Tokens per shard file.")
def synth(out: Path, vocab_size: int, seed: int, train_tokens: int, val_tokens: int, shard_tokens: int) -> None:
    """Write a synthetic dataset and tokenizer so the reference run and verify work anywhere.

    \b
    Shards: fineweb_train_*.bin and fineweb_val_*.bin (256 x int32 header: magic 20240520,
    version 1, token count; then uint16 tokens), each document led by the BOS token.
    Real runs point --data-path/--tokenizer-path at the challenge's downloaded data instead.
    """
    from ..verify.deps import require

    require(("numpy", "sentencepiece"), "golflint data synth")
    from ..verify.synth import synthesize

    result = synthesize(out, vocab_size=vocab_size, seed=seed, train_tokens=train_tokens,
                        val_tokens=val_tokens, shard_tokens=shard_tokens)
    click.echo(f"tokenizer  {result.tokenizer_path}")
    click.echo(f"train      {result.train_tokens:,} tokens, {result.train_docs:,} documents, "
               f"{len(result.train_shards)} shard(s)")
    click.echo(f"val        {result.val_tokens:,} tokens, {result.val_docs:,} documents, "
               f"{len(result.val_shards)} shard(s)")
    click.echo(f"DATA_PATH={result.data_path}")
    click.echo(f"TOKENIZER_PATH={result.tokenizer_path}")
