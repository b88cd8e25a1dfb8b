"""Token shards in the challenge's format: a 256 x int32 little-endian header, then uint16 tokens.

Header: index 0 is the magic number 20240520, index 1 the version (1), index 2 the token count.
Only numpy is needed here, so `golflint data` and the BPB accounting can read shards without CUDA.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    import numpy as np

MAGIC = 20240520
VERSION = 1
HEADER_INTS = 256
HEADER_BYTES = HEADER_INTS * 4
MAX_TOKEN_ID = 65535


class ShardError(ValueError):
    """A file that is not a well-formed token shard."""


def write_shard(path: Path, tokens: Sequence[int] | "np.ndarray") -> int:
    import numpy as np

    array = np.asarray(tokens)
    if array.size and (array.min() < 0 or array.max() > MAX_TOKEN_ID):
        raise ShardError(f"{path}: token ids must fit in uint16 (0..{MAX_TOKEN_ID})")
    header = np.zeros(HEADER_INTS, dtype="<i4")
    header[0], header[1], header[2] = MAGIC, VERSION, array.size
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(header.tobytes())
        f.write(array.astype("<u2").tobytes())
    return int(array.size)


def read_shard(path: Path) -> "np.ndarray":
    import numpy as np

    try:
        size = path.stat().st_size
        header = np.fromfile(path, dtype="<i4", count=HEADER_INTS)
    except OSError as exc:
        raise ShardError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if header.size != HEADER_INTS or int(header[0]) != MAGIC or int(header[1]) != VERSION:
        raise ShardError(f"{path}: not a token shard (expected magic {MAGIC}, version {VERSION} in the header)")
    count = int(header[2])
    if count < 0 or HEADER_BYTES + 2 * count != size:
        raise ShardError(f"{path}: header promises {count} tokens but the file holds "
                         f"{max(0, size - HEADER_BYTES) // 2}")
    return np.fromfile(path, dtype="<u2", count=count, offset=HEADER_BYTES)


def shard_files(data_path: Path, split: str) -> list[Path]:
    """fineweb_{split}_*.bin under data_path, in name order (the order the trainers read them)."""
    return sorted(Path(data_path).glob(f"fineweb_{split}_*.bin"))


def read_split(data_path: Path, split: str) -> "np.ndarray":
    import numpy as np

    paths = shard_files(data_path, split)
    if not paths:
        raise ShardError(f"{data_path}: no fineweb_{split}_*.bin shards")
    return np.concatenate([read_shard(p) for p in paths])


def write_split(out_dir: Path, split: str, tokens: "np.ndarray", shard_tokens: int) -> list[Path]:
    paths = []
    for i, start in enumerate(range(0, max(len(tokens), 1), shard_tokens)):
        path = out_dir / f"fineweb_{split}_{i:06d}.bin"
        write_shard(path, tokens[start:start + shard_tokens])
        paths.append(path)
    return paths

