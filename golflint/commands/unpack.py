"""golflint unpack: print or write the decoded source of a self-extracting script."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..code.packed import Limits, decode_file
from ..errors import GolflintError
from ..files import read_file
from .options import config_options, settings_from


@click.command("unpack", epilog="""\b
Exit codes:
  0  decoded (every layer written)
  1  nothing to decode, or a payload that does not decode (the reason is printed)
  2  the file cannot be read, or OUT would overwrite FILE
""")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the decoded source here instead of printing it.")
@click.option("--all-layers", is_flag=True,
              help="Print every decoded layer, each under a `# ---- <label> ----` header.")
@config_options
def command(file, output, all_layers, rules_file, isolated):
    """Decode a self-extracting FILE statically (nothing is executed) and print its source.

    Follows exec/eval of decoder chains applied to literals (lzma/xz, zlib, gzip, bz2, base64/85,
    a85, b32, hex, .decode()), layer by layer, within packed.max_layers and packed.max_decoded_bytes.
    """
    settings = settings_from(rules_file, isolated)
    path = file.resolve() if file.exists() else file
    fr = read_file(path.parent, path.name, int(settings.get("general.max_text_file_bytes")))
    problem = fr.text_problem()
    if problem is not None:
        raise GolflintError(f"{file} {problem}")
    if output is not None and output.exists() and output.resolve() == path:
        raise GolflintError("refusing to overwrite the input file; choose another -o")
    layers, problems = decode_file(fr.text() or "", file.name, Limits.from_settings(settings))
    for unit, site in problems:
        where = f"{unit.label} line {site.line}"
        click.echo(f"{where}: {site.call} of a payload that cannot be decoded: {site.problem}", err=True)
    if not layers:
        if not problems:
            click.echo(f"{file} is not packed: no exec/eval of a literal payload", err=True)
        sys.exit(1)
    # Default: the layers nothing else was decoded from, i.e. the code that finally runs.
    shown = layers if all_layers else [u for u in layers if not any(v.parent is u for v in layers)]
    if len(shown) == 1:
        text = shown[0].source
    else:
        text = "".join(f"# ---- {u.label} ({u.reason}) ----\n{u.source}"
                       + ("" if u.source.endswith("\n") else "\n") for u in shown)
    if len(layers) > len(shown):
        click.echo(f"{len(layers)} layers decoded; showing {', '.join(u.label for u in shown)} "
                   "(--all-layers shows each)", err=True)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise GolflintError(f"cannot write {output}: {exc.strerror or exc}") from None
        click.echo(f"wrote {output} ({len(text.encode('utf-8')):,} bytes)", err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))
    sys.exit(1 if problems else 0)
