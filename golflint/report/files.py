"""`check --show-files`: what discovery chose to check (and as which track), and what it passed over."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..discovery import Skipped, Target
from .safe import visible


def show_files(targets: Sequence[Target], skipped: Sequence[Skipped], output: Path | None = None) -> None:
    import sys

    lines = [f"check  {visible(t.root)}  ({t.track}: {visible(t.track_source)})" for t in targets]
    lines += [f"skip   {visible(s.path)}  ({visible(s.reason)})" for s in skipped]
    lines.append(f"{len(targets)} folder(s) to check, {len(skipped)} skipped")
    text = "\n".join(lines) + "\n"
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
