"""GL3xx: artifact bytes: code + compressed model against the cap, byte claims, packed code sizes.

Bytes are never measured here: `sub.measurement` (budget/measure.py) is the one place that decides
which files count and where the model size comes from; these rules judge its figures.
"""

from __future__ import annotations

import base64
import json
import lzma
import zlib
from collections.abc import Iterable
from typing import Any

from ..claims import SUBMISSION_JSON, ClaimLines, number, seed_claims
from ..facts.declared import Fact
from ..findings import Finding, Severity
from .base import Invalid, Rule, Valid, examples

_CODE = "import torch\n\n\ndef main():\n    print('train, quantize, compress, evaluate')\n\n\nmain()\n"
_README = "# Example run\n"
_LOG = "final_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570\n"
# Embedded examples shrink the cap so that a few hundred bytes stand in for 16 MB.
_SMALL_CAP = {"bytes": {"cap": 1000}}


def _folder(model_bytes: int | None = None, code: str = _CODE, **claims: Any) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {
        "README.md": _README,
        "train_gpt.py": code,
        "train_seed1.log": _LOG,
        "submission.json": json.dumps({"author": "a", "name": "b", "val_bpb": 1.2244, **claims}, indent=2) + "\n",
    }
    if model_bytes is not None:
        files["final_model.int8.ptz"] = bytes(range(256)) * (model_bytes // 256) + b"\x07" * (model_bytes % 256)
    return files


def _packed(code: str, codec: str = "lzma") -> str:
    """A self-extracting script in the shape submissions use: decode, decompress, exec."""
    if codec == "lzma":
        # a small dictionary: the examples are built at import, and preset 6 sets up 8 MiB
        blob = base64.b85encode(lzma.compress(code.encode(), filters=[
            {"id": lzma.FILTER_LZMA2, "preset": 6, "dict_size": 1 << 16}])).decode()
        return f"import lzma as L, base64 as B\nexec(L.decompress(B.b85decode({blob!r})))\n"
    blob = base64.b64encode(zlib.compress(code.encode(), 9)).decode()
    return f"import zlib, base64\nexec(zlib.decompress(base64.b64decode({blob!r})).decode())\n"


def _fmt(n: int) -> str:
    return f"{n:,}"


class ArtifactOverCap(Rule):
    """Code bytes plus compressed model bytes exceed the cap (`bytes.cap`, 16,000,000 decimal bytes).

    Code bytes are the counted code files on disk (`bytes.code_files`, default train_gpt.py; for a
    self-extracting script, its stored bytes). Model bytes are the committed artifact file when there
    is one, else the size the train log reports.

    **Why.** The 16 MB limit is the challenge: everything needed to reproduce the scores must fit.
    It is decimal (16,000,000), not 16 MiB (16,777,216): a common off-by-5% mistake.

    **Example.** 47,642 code bytes + 15,990,112 model bytes = 16,037,754 > 16,000,000.

    **Instead.** Shrink the model (fewer parameters, lower-bit quantization, a stronger codec) or the
    code (drop dead code, compress it); `golflint budget` shows where the bytes go.
    """

    id = "GL301"
    name = "artifact-over-cap"
    facts = frozenset({Fact.BYTES})
    severity = Severity.ERROR
    message = "code bytes + compressed model bytes exceed the cap"
    hint = "shrink the model or the code until the total is at most the cap; `golflint budget` shows where the bytes go"
    valid = examples(lambda: (
        Valid(files=_folder(model_bytes=600), settings=_SMALL_CAP),
        Valid(files=_folder(model_bytes=1000 - len(_CODE)), settings=_SMALL_CAP, note="exactly at the cap"),
        Valid(files=_folder(), settings=_SMALL_CAP, note="model size unknown: GL302, not this"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder(model_bytes=1000 - len(_CODE) + 1), settings=_SMALL_CAP, note="one byte over"),
        Invalid(files=_folder(seed_results={"1": {"val_bpb": 1.2244, "artifact_bytes": 1200}}),
                settings=_SMALL_CAP, file=SUBMISSION_JSON, note="a per-seed claim over the cap, no model file"),
        Invalid(files=_folder(model_bytes=5000), settings=_SMALL_CAP),
        Invalid(files=_folder(code=_CODE + "#" * 2000), settings=_SMALL_CAP,
                note="the code alone is over, whatever the model"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        m = sub.measurement
        severity = _track_over_cap_severity(sub)
        yield from self._claims_over_cap(sub, m, severity)
        if m.code_bytes is None:
            return  # no counted code file: GL001 / GL000 say why
        note = f"; {m.code_note}" if m.code_note else ""
        if m.total is not None:
            if m.total > m.cap:
                yield self.report(
                    f"total {_fmt(m.total)} bytes (code {_fmt(m.code_bytes)} + model {_fmt(m.model_bytes or 0)} "
                    f"from {m.model_source}) is over the cap {_fmt(m.cap)} by {_fmt(m.total - m.cap)} bytes{note}",
                    file=m.model_source if sub.exists(m.model_source or "") else None,
                    total=m.total, cap=m.cap, headroom=m.headroom, severity=severity)
        elif m.code_bytes > m.cap:
            yield self.report(f"code alone is {_fmt(m.code_bytes)} bytes, over the cap {_fmt(m.cap)} by "
                              f"{_fmt(m.code_bytes - m.cap)} bytes before any model bytes{note}",
                              file=_largest(m.code_files), total=m.code_bytes, cap=m.cap, severity=severity)

    def _claims_over_cap(self, sub, m, severity) -> Iterable[Finding]:
        """What the submission itself claims is over the cap, measured or not (a per-seed
        `artifact_bytes` of 16,051,299 is over whether or not its log or model is committed)."""
        if m.total is not None and m.total > m.cap:
            return  # the measured total already says it, with the files behind it
        lines = ClaimLines(sub)
        claimed = _claimed_int(sub.claims.get("bytes_total"))
        if claimed is not None and claimed > m.cap:
            yield self.report(f"bytes_total claims {_fmt(claimed)} bytes, over the cap {_fmt(m.cap)} by "
                              f"{_fmt(claimed - m.cap)} bytes", file=SUBMISSION_JSON,
                              line=lines("bytes_total"), total=claimed, cap=m.cap, severity=severity)
        for seed in seed_claims(sub.claims):
            value = _claimed_int(seed.fields.get("artifact_bytes"))
            if value is not None and value > m.cap:
                yield self.report(f"{seed.label} artifact_bytes claims {_fmt(value)} bytes, over the cap "
                                  f"{_fmt(m.cap)} by {_fmt(value - m.cap)} bytes", file=SUBMISSION_JSON,
                                  line=lines(*seed.path, "artifact_bytes"), total=value, cap=m.cap,
                                  severity=severity)


def _track_over_cap_severity(sub) -> Severity | None:
    """The track's `over_cap_severity` (rulebook), else None: the rule's own severity."""
    value = sub.track_settings.get("over_cap_severity")
    return Severity.parse(str(value)) if value else None


def _largest(sizes: dict[str, int]) -> str | None:
    return max(sizes, key=lambda rel: sizes[rel]) if sizes else None


class ModelSizeUnknown(Rule):
    """Neither a committed model file nor a train log gives the compressed model size.

    golflint looks for a file matching `bytes.artifact_patterns` (`*.ptz`, `final_model*.bin`,
    `*.int8.*`, ...) at the top of the folder, then for a size line in the logs such as
    `Serialized model int8+zlib: 15815847 bytes`.

    **Why.** Without the model size, the 16,000,000-byte cap cannot be checked at all.

    **Example.** Logs that stop before serialization, and no artifact in the folder.

    **Instead.** Commit the logs the script wrote through serialization (they print the size), or
    the compressed model file itself, or add its name to `bytes.artifact_patterns`.
    """

    id = "GL302"
    name = "model-size-unknown"
    facts = frozenset({Fact.BYTES})
    severity = Severity.WARNING
    message = "the compressed model size is unknown, so the cap cannot be checked"
    hint = "commit the full train logs (they print the serialized model size) or the compressed model file"
    valid = examples(lambda: (
        Valid(files=_folder(model_bytes=600)),
        Valid(files={**_folder(), "model.int6.zst": b"\x28\xb5\x2f\xfd" * 10}),
        Valid(files={**_folder(), "weights.xz": b"\xfd7zXZ\x00"},
              settings={"bytes": {"artifact_patterns": ["*.xz"]}}, note="a pattern from the rulebook"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder()),
        Invalid(files={**_folder(), "final_model.pt": b"\x80\x02"}, note="an uncompressed checkpoint is not it"),
        Invalid(files={**_folder(), "checkpoints/final_model.int8.ptz": b"x" * 100},
                note="only the top of the folder is searched"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        m = sub.measurement
        if m.model_bytes is not None:
            return
        patterns = ", ".join(sub.settings.get("bytes.artifact_patterns"))
        logs = ", ".join(sub.log_files) or "no logs"
        yield self.report(f"no compressed model file ({patterns}) in the folder and no model size in the "
                          f"logs ({logs}): the {_fmt(m.cap)}-byte cap cannot be checked")


class ByteClaimMismatch(Rule):
    """A byte count claimed in submission.json differs from what was measured or logged.

    - `bytes_code` must equal the counted code bytes on disk (for a self-extracting script, the
      stored bytes, not the decoded size).
    - `bytes_total` must equal the measured total (code on disk + model), or the total a train log
      printed (`Total submission size ...: N bytes`), or (multi-seed records) the mean of the
      logged totals rounded to a whole byte when every one of them is within the cap: the
      organizers accepted such a summary (setting `bytes.total_claim_may_be_mean`).
    - `seed_results[*].artifact_bytes` must equal that seed's logged total (or its logged model
      size, for submissions that count the model only there). Seeds without a log are left to GL4xx.

    Sizes are exact: compression is deterministic, so a byte count that is off by one was not
    produced by the submitted files.

    Severity: an error only when the mismatch changes the verdict, i.e. the claim is within the cap
    while a measured or logged figure is over it. Otherwise a warning with the same evidence: the
    organizers accepted claims a few hundred bytes off (code edited after the run, a total copied
    from another seed) when every figure was under the cap.

    **Why.** The claims are what reviewers and the leaderboard read; a claim that no file or log
    backs usually means the code was edited after the run, or the number was copied from another run.

    **Example.** `"bytes_code": 47000` when train_gpt.py is 47,642 bytes.

    **Instead.** Copy the numbers from the final run's log, and rerun after editing the code.
    """

    id = "GL303"
    name = "byte-claim-mismatch"
    facts = frozenset({Fact.BYTES, Fact.CODE, Fact.LOGS})
    severity = Severity.ERROR
    message = "a byte count in submission.json differs from what was measured or logged"
    hint = "copy byte counts from the final run's log and the files on disk; rerun after editing the code"
    valid = examples(lambda: (
        Valid(files=_folder(model_bytes=600, bytes_code=len(_CODE), bytes_total=len(_CODE) + 600)),
        Valid(files=_folder(model_bytes=600), note="no claims: nothing to compare"),
        Valid(files=_folder(bytes_code=len(_CODE), bytes_total=None), note="null claim: not stated"),
        Valid(files={**_folder(bytes_total=1_500_000),
                     "train_seed1.log": "seed:1\nTotal submission size int8+zlib: 1499000 bytes\n" + _LOG,
                     "train_seed2.log": "seed:2\nTotal submission size int8+zlib: 1501000 bytes\n" + _LOG},
              note="the mean of the seeds' logged totals"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder(model_bytes=600, bytes_code=len(_CODE) - 1), file=SUBMISSION_JSON, lines=5),
        Invalid(files=_folder(model_bytes=600, bytes_total=len(_CODE) + 601), file=SUBMISSION_JSON, lines=5),
        Invalid(files=_folder(model_bytes=600, bytes_code=len(_CODE), bytes_total=len(_CODE) + 6000),
                file=SUBMISSION_JSON, lines=6),
    ))

    def check(self, sub) -> Iterable[Finding]:
        claims = sub.claims
        if not claims:
            return
        m = sub.measurement
        if m.is_bound and self._needs_exact(sub, claims):
            m = sub.exact_measurement
        lines = ClaimLines(sub)
        yield from self._code_claim(sub, m, claims, lines)
        yield from self._total_claim(sub, m, claims, lines)
        yield from self._seed_claims(sub, m, claims, lines)

    @staticmethod
    def _needs_exact(sub, claims) -> bool:
        """A byte claim that an upper bound cannot confirm: bytes_code, or a bytes_total the logs
        do not back."""
        total = _claimed_int(claims.get("bytes_total"))
        logged = {log.total_bytes for log in sub.logs}
        return _claimed_int(claims.get("bytes_code")) is not None or (
            total is not None and total not in logged and not _is_mean_of_logged_totals(sub, total))

    def _code_claim(self, sub, m, claims, lines) -> Iterable[Finding]:
        claimed = _claimed_int(claims.get("bytes_code"))
        if claimed is None or m.code_bytes is None or claimed == m.code_bytes:
            return
        files = " + ".join(f"{rel} {_fmt(n)}" for rel, n in sorted(m.code_files.items()))
        where = "counted code on disk" if m.code_basis == "stored" else "counted (compressed) code"
        message = (f"bytes_code claims {_fmt(claimed)} but the {where} is {_fmt(m.code_bytes)} "
                   f"bytes ({files}{'; ' + m.code_note if m.code_note else ''})")
        if m.code_basis == "compressed" and any(log.code_bytes == claimed for log in sub.logs):
            message += "; the claim is the uncompressed size the log states, not the counted one"
        logged = [log for log in sub.logs if log.code_bytes == claimed]
        if logged:
            message += (f"; the claim matches the code size logged in {logged[0].path}, so the code changed "
                        "after that run")
        elif claimed in _decoded_sizes(sub):
            message += "; the claim is the decoded size of the packed code, but the stored bytes count"
        model = m.model_bytes or 0
        hides = m.total is not None and m.total > m.cap and claimed + model <= m.cap
        yield self.report(message, file=SUBMISSION_JSON, line=lines("bytes_code"), claimed=claimed,
                          measured=m.code_bytes, severity=None if hides else Severity.WARNING)

    def _total_claim(self, sub, m, claims, lines) -> Iterable[Finding]:
        claimed = _claimed_int(claims.get("bytes_total"))
        if claimed is None:
            return
        sources: list[tuple[str, int]] = []
        if m.total is not None:
            basis = "compressed code" if m.code_basis == "compressed" else "code on disk"
            sources.append((f"measured: {basis} {_fmt(m.code_bytes)} + model {_fmt(m.model_bytes)} "
                            f"from {m.model_source}", m.total))
        for log in sub.logs:
            if log.total_bytes is not None:
                sources.append((f"logged in {log.path} line {log.total_bytes_line}", log.total_bytes))
        if not sources or any(value == claimed for _, value in sources) or _is_mean_of_logged_totals(sub, claimed):
            return
        yield self.report(f"bytes_total claims {_fmt(claimed)} but no measurement or log agrees: {_by_value(sources)}",
                          file=SUBMISSION_JSON, line=lines("bytes_total"), claimed=claimed,
                          severity=_mismatch_severity(claimed, sources, m.cap))

    def _seed_claims(self, sub, m, claims, lines) -> Iterable[Finding]:
        logs_by_seed: dict[str, list] = {}
        for log in sub.logs:
            if log.seed is not None:
                logs_by_seed.setdefault(str(log.seed), []).append(log)
        for seed in seed_claims(claims):
            claimed = _claimed_int(seed.fields.get("artifact_bytes"))
            if claimed is None or seed.seed is None or seed.seed not in logs_by_seed:
                continue
            sources: list[tuple[str, int]] = []
            for log in logs_by_seed[seed.seed]:
                if log.total_bytes is not None:
                    sources.append((f"total logged in {log.path} line {log.total_bytes_line}", log.total_bytes))
                if log.model_bytes is not None:
                    sources.append((f"model size logged in {log.path} line {log.model_bytes_line}",
                                    log.model_bytes))
            if not sources or any(value == claimed for _, value in sources):
                continue
            yield self.report(f"{seed.label} artifact_bytes claims {_fmt(claimed)} but its log says "
                              f"{_by_value(sources)}",
                              file=SUBMISSION_JSON, line=lines(*seed.path, "artifact_bytes"), claimed=claimed,
                              severity=_mismatch_severity(claimed, sources, m.cap))


def _is_mean_of_logged_totals(sub, claimed: int) -> bool:
    """`claimed` is the mean of two or more logged totals, rounded either way to a whole byte, and
    every one of them is within the cap (a mean under the cap never hides a seed over it). The
    organizers accepted three records whose bytes_total is such a mean (2026-04-01, 04-05, 04-22)."""
    if not sub.settings.get("bytes.total_claim_may_be_mean", True):
        return False
    totals = [log.total_bytes for log in sub.logs if log.total_bytes is not None]
    if len(totals) < 2 or max(totals) > int(sub.settings.get("bytes.cap")):
        return False
    return abs(claimed * len(totals) - sum(totals)) < len(totals)   # |claimed - mean| < 1, in integers


def _mismatch_severity(claimed: int, sources: list[tuple[str, int]], cap: int) -> Severity | None:
    """None (the rule's error) when the claim is within the cap but a figure behind it is over:
    the mismatch changes the verdict. A warning otherwise (accepted inconsistencies)."""
    if claimed <= cap and any(value > cap for _, value in sources):
        return None
    return Severity.WARNING


def _by_value(sources: list[tuple[str, int]]) -> str:
    """'16,003,152 (measured ...; logged in ...); 16,002,713 (logged in ...)': equal figures once."""
    grouped: dict[int, list[str]] = {}
    for label, value in sources:
        grouped.setdefault(value, []).append(label)
    return "; ".join(f"{_fmt(value)} ({'; '.join(labels)})" for value, labels in grouped.items())


def _claimed_int(value: Any) -> int | None:
    """A byte claim as an int; a non-integral or non-numeric value is GL006's to report."""
    n = number(value)
    return int(n) if n is not None and n == int(n) else None


def _decoded_sizes(sub) -> set[int]:
    return {len(u.source.encode("utf-8")) for u in sub.code_units if u.layer > 0}


class PackedCodeSizes(Rule):
    """Self-extracting code: the stored bytes (what counts) next to the decoded size of each layer.

    Some submissions keep their real code lzma/zlib-compressed and base85-encoded inside a small
    train_gpt.py that decodes and execs it. That is allowed: the file on disk is what counts.
    golflint decodes the layers statically (never running them), checks the decoded code like
    any other, and reports both sizes so reviewers see what they are reading.

    **Why.** Reviewers need to know that the 20 KB file they see holds 70 KB of code, and that
    findings may point into a decoded layer rather than a line of the file on disk.

    **Example.** `exec(lzma.decompress(base64.b85decode("...")))` in a 21 KB train_gpt.py.

    **Instead.** Nothing to fix; this is information. Keep an unpacked copy in the README or a
    non-counted file to make review easier.
    """

    id = "GL304"
    name = "packed-code-sizes"
    facts = frozenset({Fact.BYTES, Fact.CODE})
    severity = Severity.INFO
    message = "the code is self-extracting; stored and decoded sizes differ"
    hint = "nothing to fix: the stored bytes count; consider linking the unpacked source in the README"
    needs_packed_decoding = True
    # Decoding itself is code/packed.py's job (these examples test the two together);
    # tests/test_artifact.py drives the rule with hand-made decoded layers.
    valid = examples(lambda: (
        Valid(_CODE),
        Valid("import lzma\nDATA = lzma.compress(b'x')\nprint(len(DATA))\n", note="compressing is not packing"),
        Valid("import zlib\nblob = zlib.decompress(open('w.bin', 'rb').read())\n", note="decompressing data"),
    ))
    invalid = examples(lambda: (
        Invalid(_packed(_CODE)),
        Invalid(_packed(_CODE, codec="zlib")),
        Invalid(_packed(_packed(_CODE), codec="zlib"), note="two layers"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        m = sub.measurement
        layers: dict[str, list] = {}
        for unit in sub.code_units:
            if unit.layer > 0:
                layers.setdefault(unit.root_path, []).append(unit)
        for root, decoded in layers.items():
            decoded.sort(key=lambda u: u.layer)
            stored = m.code_files.get(root)
            if stored is None:
                stored = sub.size(root)
            sizes = ", ".join(f"layer {u.layer} {_fmt(len(u.source.encode('utf-8')))} bytes" for u in decoded)
            counted = "counted" if root in m.code_files else "not counted"
            yield self.report(f"{root} is self-extracting: {_fmt(stored or 0)} bytes stored on disk ({counted}); "
                              f"decoded {sizes}", file=root, stored=stored,
                              decoded=[len(u.source.encode("utf-8")) for u in decoded])


RULES: list[type[Rule]] = [ArtifactOverCap, ModelSizeUnknown, ByteClaimMismatch, PackedCodeSizes]
