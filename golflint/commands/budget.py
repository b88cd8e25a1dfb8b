"""golflint budget: where the 16,000,000 bytes go, exactly, and what they would be otherwise."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..budget import QUANT_BITS
from ..budget.code import CodeSizes, code_sizes
from ..budget.codecs import CODEC_NAMES, get_codec
from ..config import Settings
from ..discovery import discover
from ..errors import GolflintError
from ..files import read_file
from ..submission import Submission
from .options import config_options, settings_from

if TYPE_CHECKING:
    from ..budget.tensors import ModelFile

# The codec a compressed model file was written with, at the setting submissions use it.
_CODEC_FOR_FAMILY = {"zlib": "zlib-9", "zstd": "zstd-22", "lzma": "lzma-9", "brotli": "brotli-11"}
# Uncompressed model files that stand in for the artifact when a folder has no compressed one.
_STATE_DICT_SUFFIXES = (".pt", ".pth", ".npz")
TEXT_TOP = 20


@click.command("budget", epilog="""\b
Exit codes:
  0  the budget was computed (whether or not it fits: see "fits" in the output)
  2  usage error, or a file that cannot be read as code or as a model
""")
@click.argument("target", type=click.Path(exists=True, path_type=Path))
@click.option("--codec", "codec_names", multiple=True, type=click.Choice([*CODEC_NAMES, "all"]),
              help="Codec(s) for the per-tensor columns and the what-ifs (repeatable). Default: the "
                   "model file's own codec at its usual level, else zlib-9.")
@click.option("--quant", type=click.Choice(list(QUANT_BITS)),
              help="What-if: quantize every floating-point tensor per row to this width (fp16 "
                   "scales) before compressing.")
@click.option("--lzma-extreme", is_flag=True, help="lzma-9 uses preset 9|PRESET_EXTREME (shown as lzma-9e).")
@click.option("--model", "model_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="State dict or blob to tabulate (default: the submission's model file).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--top", type=click.IntRange(min=0),
              help=f"Show the N largest tensors (default: {TEXT_TOP} in text, all in JSON; 0: all).")
@click.option("--workers", type=click.IntRange(min=1), help="Compression threads (default: CPU count).")
@config_options
def command(target, codec_names, quant, lzma_extreme, model_path, fmt, top, workers, rules_file, isolated):
    """Exact bytes of a submission (or of one code or model file) against the cap.

    \b
    golflint budget ./records/track_10min_16mb/my_run
    golflint budget final_model.pt --quant int6 --codec zstd-22      what would int6 + zstd-22 cost?
    golflint budget ./my_run --codec all --format json

    TARGET is a submission folder, a code file, or a model file (.pt/.pth state dict, .npz, .npy,
    a compressed artifact such as .ptz, or a raw blob). Code is never executed; torch files are read
    with weights_only=True.
    """
    # numpy (and torch, for .pt files) load only when this command runs, not at every CLI start.
    from ..budget.report import build_document, render_text
    from ..budget.tensor_table import analyze

    settings = settings_from(rules_file, isolated)
    cap = int(settings.get("bytes.cap"))
    max_model = int(settings.get("budget.max_model_bytes"))
    kind, code_bytes, code_files, model, model_file = _gather(target, settings, model_path, max_model)

    analysis = None
    codecs: list[str] = []
    if model_file is not None:
        codecs = _codec_names(codec_names, model_file, list(settings.get("budget.codecs")))
        from ..budget.tensor_table import job_count
        from ..report.progress import RunProgress

        chosen = [get_codec(n, lzma_extreme=lzma_extreme) for n in codecs]
        # On a terminal, a bar on stderr once the table has taken a second (--codec all: minutes).
        with RunProgress(job_count(model_file, chosen), what="compressing") as progress:
            analysis = analyze(model_file, chosen, quant, workers, on_done=progress.advance)
    elif quant or codec_names:
        raise GolflintError(f"{target} has no model file to apply --quant/--codec to; name one with --model")
    if top is None:
        top = TEXT_TOP if fmt == "text" else 0
    doc = build_document(target=str(target), kind=kind, cap=cap, code_bytes=code_bytes,
                         code_files=code_files, model=model, analysis=analysis, quant=quant,
                         codecs=analysis.codecs if analysis else [], top=top)
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2))
    else:
        from ..budget.report import PIPED_TABLE_WIDTH
        from ..report.console import make_console, stream_is_tty

        # A terminal: tables fit its width. Piped: lines never wrap, tables keep to 100 columns.
        console = make_console()
        render_text(doc, console, None if stream_is_tty(sys.stdout) else PIPED_TABLE_WIDTH)


def _codec_names(requested: tuple[str, ...], model_file: "ModelFile", all_codecs: list[str]) -> list[str]:
    if "all" in requested:
        return all_codecs
    if requested:
        return list(dict.fromkeys(requested))
    return [_CODEC_FOR_FAMILY.get(model_file.codec or "", "zlib-9")]


def _model_json(mf: "ModelFile", source: str | None = None) -> dict:
    return {"path": mf.path, "bytes": mf.file_bytes, "source": source or mf.path, "codec": mf.codec,
            "format": mf.format, "payload_bytes": len(mf.payload)}


def _gather(target: Path, settings: Settings, model_path: Path | None, max_model: int):
    """(kind, code bytes, code sizes, model JSON, ModelFile to tabulate) for the target."""
    from ..budget.tensors import read_model_path

    owners = discover([target], settings)
    sub = Submission(owners[0].root, owners[0].track, settings) if len(owners) == 1 else None
    if target.is_dir():
        if sub is None:
            raise GolflintError(f"{target}: expected one submission folder (holding submission.json or "
                                f"train_gpt.py), found {len(owners)}")
        code_bytes, code_files = _submission_code(sub)
        m = sub.exact_measurement
        model_file = read_model_path(model_path, max_model) if model_path else _folder_model(sub, max_model)
        if m.model_bytes is None:
            model = None
        elif m.model_file and model_file is not None and not model_path:
            model = _model_json(model_file, m.model_source)
        else:
            model = {"path": m.model_file, "bytes": m.model_bytes, "source": m.model_source,
                     "codec": None, "format": None, "payload_bytes": None}
        return "submission", code_bytes, code_files, model, model_file
    if target.suffix == ".py":
        data = _read_code(target, int(settings.get("general.max_text_file_bytes")))
        return "code", len(data), [code_sizes(target.name, data)], None, None
    model_file = read_model_path(target, max_model)
    code_bytes, code_files = _submission_code(sub) if sub else (None, [])
    return "model", code_bytes, code_files, _model_json(model_file), model_file


def _submission_code(sub: Submission) -> tuple[int | None, list[CodeSizes]]:
    m = sub.exact_measurement  # budget is where the exact figure is asked for
    sizes = []
    for rel in m.code_files:
        fr = sub.read(rel)
        if fr.ok and fr.data is not None:
            sizes.append(code_sizes(rel, fr.data))
    return m.code_bytes, sizes


def _folder_model(sub: Submission, max_model: int) -> "ModelFile | None":
    """The measured artifact file, else the largest top-level state dict (.pt/.pth/.npz)."""
    from ..budget.tensors import read_model

    rel = sub.measurement.model_file
    if rel is None:
        candidates = [(sub.size(r) or 0, r) for r in sub.files
                      if "/" not in r and r.endswith(_STATE_DICT_SUFFIXES)]
        if not candidates:
            return None
        rel = max(candidates)[1]
    fr = read_file(sub.root, rel, max_model)
    if not fr.ok or fr.data is None:
        raise GolflintError(f"{sub.root / rel} {fr.problem or 'could not be read'}")
    return read_model(sub.root / rel, fr.data, max_model)


def _read_code(path: Path, limit: int) -> bytes:
    fr = read_file(path.parent, path.name, limit)
    if not fr.ok or fr.data is None:
        raise GolflintError(f"{path} {fr.problem or 'could not be read'}")
    return fr.data
