"""Per-folder memos: caches of facts derived from one folder's code, emptied after each folder.

Several analyses memoize per code unit or per submission in module-level weak dictionaries. A
weak key does not free an entry whose value refers back to its key (an index that keeps its
unit), so without help every folder checked stayed in memory until the process ended. A module
registers such a cache with `folder_memo(...)`; the engine calls `forget_folder_memos()` when a
folder's check is done, so memory stays flat over any number of folders. Only pure memos belong
here: dropping one may cost time, never change a result.
"""

from __future__ import annotations

from typing import Protocol, TypeVar


class _Clearable(Protocol):
    def clear(self) -> None: ...


M = TypeVar("M", bound=_Clearable)

_MEMOS: list[_Clearable] = []


def folder_memo(memo: M) -> M:
    _MEMOS.append(memo)
    return memo


def forget_folder_memos() -> None:
    for memo in _MEMOS:
        memo.clear()
