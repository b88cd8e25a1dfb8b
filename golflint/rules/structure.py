"""GL0xx: structure and metadata: required files, readable files, submission.json."""

from __future__ import annotations

import ast
import json
import math
import statistics
from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from ..claims import (
    SUBMISSION_JSON,
    ClaimLines,
    SeedClaim,
    is_finite,
    number,
    seed_claims,
)
from ..facts.declared import Fact
from ..files import escapes
from ..findings import Finding, Severity
from .base import Invalid, Rule, Valid, examples


class UnparsableCode(Rule):
    """Code that runs but cannot be parsed: a syntax error, non-UTF-8 bytes, or an unreadable file.

    **Why.** golflint analyzes the code that runs; code it cannot parse is code nobody reviewed.
    A train_gpt.py that does not parse also cannot run from the submission folder.

    **Example.** `def train(:` or a train_gpt.py saved as Latin-1 with non-ASCII bytes.

    **Instead.** Make the file valid Python 3 saved as UTF-8, and check it runs from its folder.
    """

    id = "GL000"
    name = "unparsable-code"
    facts = frozenset({Fact.CODE})
    severity = Severity.ERROR
    message = "code cannot be parsed"
    hint = "save the file as UTF-8 and fix the syntax error; run `python -m py_compile train_gpt.py`"
    valid = examples(lambda: (
        Valid("print('hello')\n"),
        Valid("def f(x):\n    return x + 1\n"),
        Valid(files={"train_gpt.py": "import helper\n", "helper.py": "X = 1\n"}),
    ))
    invalid = examples(lambda: (
        Invalid("def train(:\n    pass\n", lines=1),
        Invalid(files={"train_gpt.py": b"# caf\xe9\nprint(1)\n"}),
        Invalid(files={"train_gpt.py": "import helper\n", "helper.py": "x = = 1\n"}, file="helper.py",
                lines=1),
    ))

    def check(self, sub) -> Iterable[Finding]:
        for unit in sub.code_units:
            if unit.is_python and unit.syntax_error is not None:
                yield self.report_at(unit, unit.syntax_error_line,
                                     f"{unit.label} cannot be parsed: {unit.syntax_error}")


# -- shared example material ------------------------------------------------------------------------
_README = "# Tiny run\n\nBaseline with a longer warmdown.\n\n```\ntorchrun --nproc_per_node=8 train_gpt.py\n```\n"
_LOG = ("step:200/20000 train_loss:3.1021 train_time:8712ms step_avg:43.56ms\n"
        "final_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570\n")
_CLAIMS: dict[str, Any] = {"author": "A. Golfer", "github_id": "agolfer", "name": "Tiny run",
                           "blurb": "Baseline, longer warmdown", "date": "2026-01-01",
                           "val_loss": 2.07269931, "val_bpb": 1.2243657}


def _claims(**changes: Any) -> str:
    data = {**_CLAIMS, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not ...}, indent=2) + "\n"


def _folder(changes: dict[str, Any] | None = None) -> dict[str, str | bytes]:
    """A complete, consistent submission folder, with some files replaced (or dropped with ...)."""
    base: dict[str, Any] = {"README.md": _README, "submission.json": _claims(),
                            "train_gpt.py": "print('train')\n", "train_seed1.log": _LOG}
    base.update(changes or {})
    return {k: v for k, v in base.items() if v is not ...}


# Three seeds whose mean is val_bpb 1.2244 / val_loss 2.0727, sample std of val_bpb 0.0014.
_SEED_BPBS = (1.2230, 1.2244, 1.2258)
_SEED_LOSSES = (2.0710, 2.0727, 2.0744)


def _three_seeds(bpbs: tuple[float, float, float], losses: tuple[float, float, float]) -> dict[str, dict]:
    return {str(seed): {"val_loss": loss, "val_bpb": bpb}
            for seed, bpb, loss in zip((1, 2, 3), bpbs, losses)}


# -- required files -------------------------------------------------------------------------------
class MissingRequiredFile(Rule):
    """A file every submission folder must hold is missing.

    The files are `submission.required_files` in the rulebook: README.md (what was done and how to
    run it), submission.json (the claims) and train_gpt.py (the script that produced them).

    **Why.** A reviewer cannot judge, rerun or score a submission without them, and the
    challenge's tooling reads submission.json to build the leaderboard.

    **Example.** A folder with train_gpt.py and logs but no README.md.

    **Instead.** Add the file at the top of the submission folder, named exactly as listed
    (file names are case-sensitive on the graders' machines).
    """

    id = "GL001"
    name = "missing-required-file"
    severity = Severity.ERROR
    message = "a required file is missing from the submission folder"
    hint = "add the file at the top of the submission folder, named exactly as listed"
    valid = examples(lambda: (
        Valid(files=_folder()),
        Valid(files=_folder({"requirements.txt": "numpy\n"}), note="extra files are fine"),
        Valid(files=_folder({"README.md": "# x\n"}), settings={"submission": {"required_files": ["README.md"]}},
              note="the list comes from the rulebook"),
        Valid(files=_folder({"train_gpt.py": ..., "train_gpt_cuda_ternary.py": "print(1)\n", "helper.py": "X = 1\n",
                             "README.md": "# Run\n\n    torchrun --nproc_per_node=8 train_gpt_cuda_ternary.py\n"}),
              note="the README's run command names the entry script"),
        Valid(files=_folder({"submission.json": ..., "submission_ternary.json": _claims()}),
              note="the only submission_*.json is the metadata"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder({"README.md": ...})),
        Invalid(files=_folder({"submission.json": ..., "train_gpt.py": ...})),
        Invalid(files=_folder({"README.md": ..., "readme.md": "# wrong case\n"}),
                note="a case-only difference is still missing"),
        Invalid(files=_folder({"train_gpt.py": ..., "train_a.py": "print(1)\n", "train_b.py": "print(2)\n"}),
                note="two scripts and no run command: no entry script"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        present = set(sub.files)
        by_lower = {rel.lower(): rel for rel in present}
        # The organizers accepted an entry script and a metadata file by another name when the
        # folder says which (layout.py): the role is filled, so nothing is missing.
        filled = {"train_gpt.py": sub.entry_script, SUBMISSION_JSON: sub.metadata_file}
        # Files a track's accepted submissions went without (rulebook: `missing_is_warning`).
        lenient = set(sub.track_settings.get("missing_is_warning", []))
        for rel in sub.settings.get("submission.required_files"):
            if rel in present or (filled.get(rel) or rel) in present:
                continue
            if rel in lenient:
                yield self.report(f"{rel} is missing (accepted on the {sub.track} track, where the "
                                  "README carries the claims)", file=rel, severity=Severity.WARNING)
                continue
            near = by_lower.get(rel.lower())
            if near is not None:
                yield self.report(f"{rel} is missing (found {near}: names are case-sensitive)",
                                  file=rel, hint=f"rename {near} to {rel}")
            else:
                yield self.report(f"{rel} is missing", file=rel)


class TooFewTrainLogs(Rule):
    """Fewer train logs than the rulebook asks for (`min_logs` of the track, else
    `submission.min_logs`: 1 on the record track, 0 on the non-record track).

    Logs are the files matching `submission.log_patterns` (`*.log`, `train*.txt`, `log*.txt`,
    `*_log*.txt`) anywhere in the folder, and the text files of a log folder
    (`submission.log_dirs`: `logs/`, `logs_experiment/`).

    **Why.** The logs are the evidence for the claimed score, bytes and times; a record needs at
    least one log produced by the submitted script. The organizers accepted non-record submissions
    without logs (judged on their write-up), so that track asks for none.

    **Example.** A record folder with no log at all.

    **Instead.** Commit the logs the script wrote (`train_seed42.log`, ...).
    """

    id = "GL002"
    name = "too-few-train-logs"
    severity = Severity.ERROR
    message = "the submission has fewer train logs than required"
    hint = "commit the train logs the script wrote (train_seed42.log, ...)"
    valid = examples(lambda: (
        Valid(files=_folder()),
        Valid(files=_folder({"train_seed1.log": ..., "train.txt": _LOG}), note="train*.txt counts"),
        Valid(files=_folder({"train_seed2.log": _LOG, "train_seed3.log": _LOG}),
              settings={"submission": {"min_logs": 3}}),
        Valid(files=_folder({"train_seed1.log": ..., "logs/train0.txt": _LOG}),
              note="logs in a log folder count"),
        Valid(files=_folder({"train_seed1.log": ..., "ternary_log_7.txt": _LOG}),
              note="a log by another name"),
        Valid(files=_folder({"train_seed1.log": ...}), track="non-record",
              note="the organizers accept non-record submissions without logs"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder({"train_seed1.log": ...})),
        Invalid(files=_folder({"train_seed1.log": ..., "notes/results.md": "val_bpb 1.2\n"}),
                note="a note is not a log"),
        Invalid(files=_folder(), settings={"submission": {"min_logs": 3}}),
    ))

    def check(self, sub) -> Iterable[Finding]:
        wanted = int(sub.track_settings.get("min_logs", sub.settings.get("submission.min_logs")))
        found = sub.log_files
        if len(found) >= wanted:
            return
        patterns = list(sub.settings.get("submission.log_patterns"))
        have = "no train log" if not found else f"{len(found)} train log(s) ({', '.join(found)})"
        yield self.report(f"{have}; at least {wanted} required on the {sub.track} track",
                          patterns=patterns)


# -- unreadable files -----------------------------------------------------------------------------
class SymlinkOutsideFolder(Rule):
    """A file or folder in the submission is a symlink that points outside the submission folder.

    **Why.** A pull request adds one self-contained folder. A link out of it points at something a
    reviewer's clone does not have (or at a different file there), so what was measured and what is
    reviewed differ. golflint never follows such links.

    **Example.** `final_model.int8.ptz -> /home/me/runs/final_model.int8.ptz`

    **Instead.** Copy the file into the folder (if it belongs to the submission) or delete the link.
    """

    id = "GL003"
    name = "symlink-outside-folder"
    severity = Severity.ERROR
    message = "a symlink points outside the submission folder"
    hint = "replace the link with the file itself, or delete it"
    valid = examples(lambda: (
        Valid(files=_folder()),
        Valid(files=_folder(), symlinks={"latest.log": "train_seed1.log"}, note="a link inside the folder"),
        Valid(files=_folder({"notes/a.txt": "x\n"}), symlinks={"notes/b.txt": "../README.md"}),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder(), symlinks={"final_model.int8.ptz": "/nonexistent/runs/final_model.int8.ptz"},
                note="absolute target, even a broken one"),
        Invalid(files=_folder({"train_seed1.log": ...}), symlinks={"train_seed1.log": "../../../outside.log"}),
        Invalid(files=_folder(), symlinks={"data": "../../../../data"}, note="a linked folder"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        for rel in sub.files:
            if escapes(sub.root, rel):
                yield self.report(f"{rel} is a symlink that points outside the submission folder "
                                  "(or is a symlink loop); golflint does not follow it", file=rel)


class UnreadableFile(Rule):
    """README.md, submission.json or a train log cannot be read as text.

    Binary junk, bytes that are not UTF-8, a file over `general.max_text_file_bytes`, or a folder
    or device where a file should be. (Code gets GL000, train logs GL402/GL403, symlinks out of the
    folder GL003.)

    **Why.** These files are the submission's explanation and evidence; if they cannot be read,
    nothing they claim can be checked.

    **Example.** A `train_seed1.log` that is a copy of a checkpoint, or a README saved as UTF-16.

    **Instead.** Commit the real text file, saved as UTF-8.
    """

    id = "GL004"
    name = "unreadable-file"
    severity = Severity.ERROR
    message = "a file golflint must read is not readable text"
    hint = "commit the real file as UTF-8 text"
    valid = examples(lambda: (
        Valid(files=_folder()),
        Valid(files=_folder({"README.md": "# Café ünïcode — fine\n"})),
        Valid(files=_folder({"weights.bin": b"\x00\x01\x02", "note.txt": b"\xff\xfe"}),
              note="binary files nobody needs to read are fine"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder({"README.md": b"\x00\x00\x89PNG\x00binary"}), file="README.md"),
        Invalid(files=_folder({"README.md": "# Readme\n".encode("utf-16")})),
        Invalid(files=_folder({"submission.json": b'{"author": "Jos\xe9"}'})),
    ))

    def check(self, sub) -> Iterable[Finding]:
        # Logs are judged by GL402/GL403, which know a few bad bytes in a progress bar from junk.
        wanted = ["README.md", SUBMISSION_JSON]
        for rel in dict.fromkeys(wanted):
            if not sub.exists(rel) or escapes(sub.root, rel):
                continue  # missing: GL001; linked out of the folder: GL003
            problem = sub.read(rel).text_problem()
            if problem is not None:
                yield self.report(f"{rel} {problem}", file=rel)
        truncated = getattr(sub.files, "truncated", None)
        if truncated:  # files.list_files stopped at discovery.max_files
            yield self.report(truncated)
        for rel in getattr(sub.files, "special", ()):
            if rel not in wanted:  # those were reported above
                yield self.report(f"{rel} is not a regular file (a FIFO, socket or device); "
                                  "it is never opened", file=rel)


# -- submission.json ------------------------------------------------------------------------------
class InvalidSubmissionJson(Rule):
    """submission.json is not valid JSON, or its top level is not an object.

    **Why.** The leaderboard and every claim check read it; a parse error hides every claim.

    **Example.** A trailing comma, single quotes, comments, or a top-level list.

    **Instead.** Make it one JSON object: `python -m json.tool submission.json` must accept it.
    """

    id = "GL005"
    name = "invalid-submission-json"
    severity = Severity.ERROR
    message = "submission.json is not a valid JSON object"
    hint = "make submission.json a single JSON object; `python -m json.tool submission.json` checks it"
    valid = examples(lambda: (
        Valid(files=_folder()),
        Valid(files=_folder({"submission.json": '{"author": "a", "name": "b", "val_bpb": 1.2}'})),
        Valid(files=_folder({"submission.json": '\ufeff{"author": "a", "name": "b", "val_bpb": 1.2}'
                                                .encode("utf-8")[3:]}), note="plain UTF-8"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder({"submission.json": '{\n  "author": "a",\n  "val_bpb": 1.2,\n}\n'}),
                file=SUBMISSION_JSON, lines=4),
        Invalid(files=_folder({"submission.json": "[1, 2, 3]\n"})),
        Invalid(files=_folder({"submission.json": "{'author': 'a'}\n"}), file=SUBMISSION_JSON, lines=1),
    ))

    def check(self, sub) -> Iterable[Finding]:
        if not sub.exists(SUBMISSION_JSON) or sub.read(SUBMISSION_JSON).text_problem() is not None:
            return  # missing: GL001; unreadable: GL003/GL004
        loaded = sub.submission_json
        if loaded.problem is not None:
            yield self.report(loaded.problem, file=SUBMISSION_JSON, line=loaded.line)
        elif not isinstance(loaded.data, dict):
            kind = type(loaded.data).__name__.replace("NoneType", "null")
            yield self.report(f"submission.json holds a JSON {kind}, not an object", file=SUBMISSION_JSON,
                              line=1)


_SEED_SCHEMA = {
    "type": "object",
    "properties": {
        "seed": {"type": ["integer", "string"]},
        "val_loss": {"type": "number"},
        "val_bpb": {"type": "number"},
        "artifact_bytes": {"type": "integer", "minimum": 0},
        "steps": {"type": "integer", "minimum": 0},
        "step_avg_ms": {"type": "number", "minimum": 0},
        "eval_time_s": {"type": "number", "minimum": 0},
    },
}

# Types of every field seen in accepted records; fields not listed here are tolerated as they are.
FIELD_SCHEMAS: dict[str, dict[str, Any]] = {
    # Joint submissions list their authors.
    "author": {"type": ["string", "array"], "items": {"type": "string"}},
    "github_id": {"type": ["string", "integer", "array"], "items": {"type": ["string", "integer"]}},
    "name": {"type": "string"},
    "blurb": {"type": "string"},
    "date": {"type": "string"},
    "val_loss": {"type": "number"},
    "val_bpb": {"type": "number"},
    "bytes_total": {"type": "integer", "minimum": 0},
    "bytes_code": {"type": "integer", "minimum": 0},
    "track": {"type": "string"},
    # A list of seeds, or (accepted records 2026-04-06_SP8192_QK5_LegalTTT, 2026-04-09_A2_Muon097)
    # an object keyed by seed holding each seed's results, the shape of `seed_results`.
    "seeds": {"type": ["array", "object"], "items": {"type": ["integer", "string"]},
              "additionalProperties": _SEED_SCHEMA},
    # A list of per-seed objects, or an object keyed by seed: `items` applies to the first shape,
    # `additionalProperties` to the second.
    "seed_results": {"type": ["array", "object"], "items": _SEED_SCHEMA,
                     "additionalProperties": _SEED_SCHEMA},
    "val_bpb_std": {"type": "number", "minimum": 0},
    "hardware": {"type": "string"},
    "pytorch_version": {"type": "string"},
}

_JSON_TYPE = {str: "a string", int: "an integer", float: "a number", bool: "a boolean",
              list: "a list", dict: "an object", type(None): "null"}


@lru_cache(maxsize=8)
def submission_schema(required: tuple[str, ...]) -> dict[str, Any]:
    properties = {}
    for key, schema in FIELD_SCHEMAS.items():
        if key not in required:
            # An optional field written as null says "not measured": treat it as absent.
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            schema = {**schema, "type": [*types, "null"]}
        properties[key] = schema
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "required": list(required), "properties": properties}


@lru_cache(maxsize=16)
def _fast_validity(required: tuple[str, ...], enforce_required: bool = True) -> Any:
    """A compiled yes/no check of `submission_schema(required)`. Most submission.json files are
    valid, and fastjsonschema answers that without importing jsonschema (~90 ms of a one-folder
    check). It implements drafts 4-7, whose meaning of every keyword the schema uses (type, items,
    properties, additionalProperties, required, minimum) is 2020-12's: the schema is compiled
    under draft 7 (tests/test_structure.py compares the two on many documents). Without
    `enforce_required`, only the types are checked (a required field still not null), whatever
    is missing."""
    import fastjsonschema

    schema = {**submission_schema(required), "$schema": "http://json-schema.org/draft-07/schema#"}
    if not enforce_required:
        schema["required"] = []
    return fastjsonschema.compile(schema)


def _only_missing(claims: dict, required: tuple[str, ...]) -> list[str] | None:
    """The required fields `claims` lacks, in `required` order, when that is all the schema finds
    wrong with it (then jsonschema need not be imported to describe it); None otherwise."""
    missing = [key for key in dict.fromkeys(required) if key not in claims]
    if not missing:
        return None
    try:
        _fast_validity(required, enforce_required=False)(claims)
    except Exception:  # noqa: BLE001 - a field of the wrong type too, or the fast check could not say
        return None
    return missing


def _schema_errors(claims: dict, required: tuple[str, ...]) -> list[Any]:
    """jsonschema's errors of `claims` against the submission schema, sorted by path; none, and
    jsonschema not imported, when the compiled check passes it."""
    try:
        _fast_validity(required)(claims)
        return []
    except Exception:  # noqa: BLE001 - invalid, or the fast check could not say: ask jsonschema
        pass
    import jsonschema  # here, not at import: it costs ~90 ms

    validator = jsonschema.Draft202012Validator(submission_schema(required))
    return sorted(validator.iter_errors(claims), key=lambda e: [str(p) for p in e.absolute_path])


def _dotted(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _expected(types: Any) -> str:
    names = {"string": "a string", "integer": "an integer", "number": "a number", "array": "a list",
             "object": "an object", "boolean": "a boolean", "null": "null"}
    types = types if isinstance(types, list) else [types]
    shown = [names.get(t, t) for t in types if t != "null"]
    return " or ".join(shown)


class SubmissionJsonSchema(Rule):
    """submission.json lacks a required field, or a known field has the wrong type.

    Required fields are `submission.required_fields` (default author, name, val_bpb). Known fields
    must have their type: numbers for scores, integers for byte counts, strings for names and the
    date; `seed_results` (and `seeds`) is a list of per-seed objects or an object keyed by seed.
    Unknown fields are accepted, and optional fields may be absent or null (older records lack the
    newer fields).

    Severity: a missing required field is a warning (the organizers accepted records without
    `name`, `author` or a headline `val_bpb`, whose logs and README carry the claim); a field of
    the wrong type is an error (tools that read the leaderboard misread it).

    **Why.** A score written as a string or a byte count as a float is read differently by every
    tool that consumes the leaderboard; missing fields leave the claim unstated.

    **Example.** `"val_bpb": "1.2244"` or `"bytes_total": 15.86e6`.

    **Instead.** `"val_bpb": 1.2244`, `"bytes_total": 15863489`.
    """

    id = "GL006"
    name = "submission-json-schema"
    severity = Severity.ERROR
    message = "submission.json lacks a required field or has a field of the wrong type"
    hint = "write scores as numbers and byte counts as integers; see `golflint rules explain GL006`"
    valid = examples(lambda: (
        Valid(files=_folder()),
        Valid(files=_folder({"submission.json": _claims(seed_results=[{"seed": 1, "val_bpb": 1.2243657,
                                                                       "val_loss": 2.07269931}],
                                                        hardware="8xH100 SXM", new_field={"x": 1})}),
              note="unknown fields are tolerated"),
        Valid(files=_folder({"submission.json": _claims(bytes_total=None, blurb=..., github_id=12345,
                                                        author=["A. Golfer", "B. Putter"])}),
              note="optional fields may be null or absent; joint authors"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder({"submission.json": _claims(val_bpb="1.2243657")}), file=SUBMISSION_JSON,
                lines=8),
        Invalid(files=_folder({"submission.json": _claims(author=...)}), file=SUBMISSION_JSON, lines=1,
                note="a warning: accepted records lack it"),
        Invalid(files=_folder({"submission.json": _claims(seed_results={"1": {"val_bpb": 1.2,
                                                                              "artifact_bytes": "15863489"}})})),
    ))

    def check(self, sub) -> Iterable[Finding]:
        claims = sub.submission_json.data
        if not isinstance(claims, dict):
            return  # GL001 / GL004 / GL005
        required = tuple(sub.settings.get("submission.required_fields"))
        only_missing = _only_missing(claims, required)
        if only_missing is not None:   # the common invalid case: no jsonschema import (0.13 s)
            for key in only_missing:
                yield self._missing_field(key, "", 1)
            return
        lines = ClaimLines(sub)
        reported_missing: set[tuple[str, str]] = set()
        for error in _schema_errors(claims, required):
            path = list(error.absolute_path)
            where = _dotted(path)
            if error.validator == "required":
                # jsonschema raises one error per missing key, each carrying the whole required list
                instance = error.instance if isinstance(error.instance, dict) else {}
                for key in error.validator_value:
                    if key in instance or (where, key) in reported_missing:
                        continue
                    reported_missing.add((where, key))
                    yield self._missing_field(key, where, lines(*path) if path else 1)
            elif error.validator == "type":
                got = _JSON_TYPE.get(type(error.instance), type(error.instance).__name__)
                shown = json.dumps(error.instance)
                shown = shown if len(shown) <= 40 else shown[:37] + "..."
                yield self.report(f"`{where}` must be {_expected(error.validator_value)}, "
                                  f"not {got} ({shown})", file=SUBMISSION_JSON, line=lines(*path))
            else:
                yield self.report(f"`{where}`: {error.message}", file=SUBMISSION_JSON, line=lines(*path))

    def _missing_field(self, key: str, where: str, line: int | None) -> Finding:
        # A warning: the organizers accepted records without `name`, `author` or a headline
        # `val_bpb` (their logs and README carry the claim).
        at = f" in {where}" if where else ""
        return self.report(f"required field `{key}` is missing{at}", file=SUBMISSION_JSON, line=line,
                           severity=Severity.WARNING)


def parse_date(value: str) -> date | None:
    text = value.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        # Python 3.10's fromisoformat does not accept a trailing Z for UTC
        return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text).date()
    except ValueError:
        return None


class UnparsableDate(Rule):
    """The `date` in submission.json is not an ISO 8601 date or date-time.

    **Why.** Records are ordered by date, and "the record to beat" depends on it; a free-form date
    such as `19/03/2026` is ambiguous between day-first and month-first.

    **Example.** `"date": "March 19th"`, `"date": "19/03/2026"`.

    **Instead.** `"date": "2026-03-19"` or `"date": "2026-03-19T14:05:00Z"`.
    """

    id = "GL007"
    name = "unparsable-date"
    severity = Severity.WARNING
    message = "the date in submission.json is not an ISO 8601 date"
    hint = 'write the date as YYYY-MM-DD, e.g. "2026-03-19" (a full ISO date-time is fine too)'
    valid = examples(lambda: (
        Valid(files=_folder()),
        Valid(files=_folder({"submission.json": _claims(date="2026-03-19T14:05:00Z")})),
        Valid(files=_folder({"submission.json": _claims(date="2026-03-19 14:05:00+02:00")})),
        Valid(files=_folder({"submission.json": _claims(date=...)}), note="absent: not required by default"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder({"submission.json": _claims(date="19/03/2026")}), file=SUBMISSION_JSON, lines=6),
        Invalid(files=_folder({"submission.json": _claims(date="March 19th, 2026")}), file=SUBMISSION_JSON,
                lines=6),
        Invalid(files=_folder({"submission.json": _claims(date="2026-02-30")}), file=SUBMISSION_JSON, lines=6),
    ))

    def check(self, sub) -> Iterable[Finding]:
        value = sub.claims.get("date")
        if isinstance(value, str) and parse_date(value) is None:
            yield self.report(f"date {value!r} is not an ISO 8601 date (YYYY-MM-DD)", file=SUBMISSION_JSON,
                              line=ClaimLines(sub)("date"))


class HeadlineDisagreesWithSeeds(Rule):
    """The headline `val_bpb`/`val_loss` is not the mean of `seed_results`, or the std does not match.

    Checked only where `seed_results` give the metric for every seed. Headline and mean may differ
    by `submission.mean_tolerance` (rounding); `val_bpb_std` (and `val_loss_std`, if present) must
    match the sample standard deviation of the seeds within `submission.std_tolerance` (the
    population standard deviation is accepted too).

    **Why.** The headline is what the leaderboard shows. A headline equal to the best seed instead
    of the mean is selection over runs, which the rules forbid; a wrong std misstates the evidence.

    **Example.** Seeds at 1.2240, 1.2244, 1.2248 with `"val_bpb": 1.2240`.

    Severity: an error when the headline flatters the seeds enough to change a verdict (better than
    their mean by the significance margin, or equal to the best seed); otherwise a warning: the
    organizers accepted a headline 0.0006 off the seed mean, and std misstatements.

    **Instead.** Report the mean over all submitted seeds as the headline.
    """

    id = "GL008"
    name = "headline-disagrees-with-seeds"
    severity = Severity.ERROR
    message = "the headline score is not the mean of the seed results"
    hint = "set the headline val_bpb/val_loss to the mean over all seeds, and the std to their sample std"
    valid = examples(lambda: (
        Valid(files=_folder({"submission.json": _claims(val_bpb=1.2244, val_loss=2.0727, val_bpb_std=0.0014,
                                                        seed_results=_three_seeds(_SEED_BPBS, _SEED_LOSSES))})),
        Valid(files=_folder({"submission.json": _claims(
            val_bpb=1.22440, val_loss=2.0727, val_bpb_std=0.001143,
            seed_results=[{"seed": s, **v} for s, v in _three_seeds(_SEED_BPBS, _SEED_LOSSES).items()])}),
            note="list shape; population std accepted"),
        Valid(files=_folder({"submission.json": _claims(val_bpb=1.2244, seed_results={"1": {"steps": 100}})}),
              note="seeds without scores: nothing to compare"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder({"submission.json": _claims(val_bpb=1.2230, val_loss=2.0727,
                                                          seed_results=_three_seeds(_SEED_BPBS, _SEED_LOSSES))})),
        Invalid(files=_folder({"submission.json": _claims(val_bpb=1.2244, val_loss=2.0710,
                                                          seed_results=_three_seeds(_SEED_BPBS, _SEED_LOSSES))}),
                file=SUBMISSION_JSON, lines=7),
        Invalid(files=_folder({"submission.json": _claims(val_bpb=1.2244, val_loss=2.0727, val_bpb_std=0.004,
                                                          seed_results=_three_seeds(_SEED_BPBS, _SEED_LOSSES))}),
                file=SUBMISSION_JSON, lines=9),
    ))

    def check(self, sub) -> Iterable[Finding]:
        claims = sub.claims
        seeds = seed_claims(claims)
        if not seeds:
            return
        lines = ClaimLines(sub)
        mean_tol = float(sub.settings.get("submission.mean_tolerance"))
        std_tol = float(sub.settings.get("submission.std_tolerance"))
        off_mean: list[str] = []
        flattering = False
        margins = _verdict_margins(sub, seeds)
        for metric in ("val_bpb", "val_loss"):
            values = _seed_values(seeds, metric)
            if values is None:
                continue
            mean = statistics.fmean(values)
            headline = number(claims.get(metric))
            if headline is not None and is_finite(headline) and abs(headline - mean) > mean_tol:
                shown = ", ".join(f"{v:.5f}" for v in values)
                off_mean.append(f"headline {metric} {headline:.5f} is not the mean of the {len(values)} seed "
                                f"results ({mean:.5f}; seeds {shown})")
                # Better than the mean by a margin that could change the verdict, or the best seed
                # reported as the headline (selection over runs): an error. Otherwise a warning.
                best_seed = abs(headline - min(values)) <= mean_tol and len(values) > 1
                flattering |= headline < mean and (best_seed or mean - headline >= margins.get(metric, 0.0))
            std_key = f"{metric}_std"
            claimed_std = number(claims.get(std_key))
            if claimed_std is None or len(values) < 2:
                continue
            sample, population = statistics.stdev(values), statistics.pstdev(values)
            if min(abs(claimed_std - sample), abs(claimed_std - population)) > std_tol:
                yield self.report(
                    f"{std_key} {claimed_std:.6f} does not match the seeds' standard deviation "
                    f"({sample:.6f} sample, {population:.6f} population)", file=SUBMISSION_JSON,
                    line=lines(std_key), metric=std_key, claimed=claimed_std, sample=sample,
                    severity=Severity.WARNING)
        if off_mean:
            first = off_mean[0].split()[1]
            yield self.report("; ".join(off_mean) + f" (tolerance {mean_tol:g})", file=SUBMISSION_JSON,
                              line=lines(first), severity=None if flattering else Severity.WARNING)


def _verdict_margins(sub, seeds: list[SeedClaim]) -> dict[str, float]:
    """How far a headline may flatter the seed mean before it could change a significance verdict:
    the rulebook's margin in nats, and in BPB with the seeds' own val_bpb / val_loss ratio."""
    nats = float(sub.settings.get("significance.min_improvement_nats"))
    losses, bpbs = _seed_values(seeds, "val_loss"), _seed_values(seeds, "val_bpb")
    ratio = statistics.fmean(bpbs) / statistics.fmean(losses) if losses and bpbs and statistics.fmean(losses) else 1 / math.log(2)
    return {"val_loss": nats, "val_bpb": nats * ratio}


def _seed_values(seeds: list[SeedClaim], metric: str) -> list[float] | None:
    """The metric of every seed, or None when any seed lacks it (then the mean is not comparable)."""
    values = [s.number(metric) for s in seeds]
    if not values or any(v is None or not is_finite(v) for v in values):
        return None
    return [v for v in values if v is not None]


class ImplausibleValBpb(Rule):
    """A claimed val_bpb below `submission.plausible_val_bpb_floor` (default 0.70), or not finite.

    **Why.** No honest model of FineWeb within these limits scores anywhere near that; scores this
    low came from broken metrics: probabilities that do not sum to one (a gold-token-only mixture),
    scoring tokens the model had already seen, or a wrong byte count.

    **Example.** `"val_bpb": 0.41` from an n-gram cache blended only into the gold token's
    probability.

    **Instead.** Check the evaluation against the four conditions (causal, full normalized
    distribution, score before update, single pass); `golflint check` flags the common causes.
    """

    id = "GL009"
    name = "implausible-val-bpb"
    severity = Severity.ERROR
    message = "the claimed val_bpb is implausibly low"
    hint = "check the evaluation: a full normalized distribution, causal, score-before-update, single pass"
    valid = examples(lambda: (
        Valid(files=_folder()),
        Valid(files=_folder({"submission.json": _claims(val_bpb=1.0599, seed_results={"1": {"val_bpb": 1.0599}})})),
        Valid(files=_folder({"submission.json": _claims(val_bpb=0.65)}),
              settings={"submission": {"plausible_val_bpb_floor": 0.5}}, note="the floor is a setting"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder({"submission.json": _claims(val_bpb=0.4172)}), file=SUBMISSION_JSON, lines=8),
        Invalid(files=_folder({"submission.json": _claims(val_bpb=1.05, seed_results={"1": {"val_bpb": 0.31}})}),
                file=SUBMISSION_JSON, lines=11),
        Invalid(files=_folder({"submission.json": _claims(val_bpb=-1.0)})),
    ))

    def check(self, sub) -> Iterable[Finding]:
        floor = float(sub.settings.get("submission.plausible_val_bpb_floor"))
        lines = ClaimLines(sub)
        candidates: list[tuple[str, tuple[Any, ...], float | None]] = [
            ("val_bpb", ("val_bpb",), number(sub.claims.get("val_bpb")))]
        for seed in seed_claims(sub.claims):
            candidates.append((f"{seed.label} val_bpb", (*seed.path, "val_bpb"), seed.number("val_bpb")))
        low = [(label, path, value) for label, path, value in candidates
               if value is not None and (not is_finite(value) or value < floor)]
        if not low:
            return
        headline = low[0] if low[0][0] == "val_bpb" else None
        if headline is not None and len(low) > 1:
            # One finding for the claim, naming its seeds too: the cause is the same evaluation.
            seeds = ", ".join(f"{label.split(' val_bpb')[0]} {_score(value)}" for label, _, value in low[1:])
            yield self.report(f"val_bpb {_score(headline[2])} (and {seeds}) {_why(headline[2], floor)}",
                              file=SUBMISSION_JSON, line=lines(*headline[1]))
            return
        for label, path, value in low:
            yield self.report(f"{label} {_score(value)} {_why(value, floor)}", file=SUBMISSION_JSON,
                              line=lines(*path))


def _score(value: float) -> str:
    return f"{value:.4f}" if is_finite(value) else str(value)


def _why(value: float, floor: float) -> str:
    if not is_finite(value):
        return "is not a score"
    return (f"is below the plausibility floor {floor:g}: no model within these limits scores this on "
            "FineWeb; the metric is likely broken")


RULES: list[type[Rule]] = [UnparsableCode, MissingRequiredFile, TooFewTrainLogs, SymlinkOutsideFolder,
                           UnreadableFile, InvalidSubmissionJson, SubmissionJsonSchema, UnparsableDate,
                           HeadlineDisagreesWithSeeds, ImplausibleValBpb]


# ==================================================================================================
# GL010-GL019: code that runs but cannot be reviewed as submitted (packed payloads, native code,
# run commands). Decoding lives in code/packed.py, native discovery in code/native.py.
# ==================================================================================================
def _packed_script(code: str, codec: str = "lzma") -> str:
    import base64
    import lzma
    import zlib

    if codec == "lzma":
        # a small dictionary: the examples are built at import, and preset 6 sets up 8 MiB
        blob = base64.b85encode(lzma.compress(code.encode(), filters=[
            {"id": lzma.FILTER_LZMA2, "preset": 6, "dict_size": 1 << 16}])).decode()
        return f"import lzma, base64\nexec(lzma.decompress(base64.b85decode({blob!r})))\n"
    blob = base64.b64encode(zlib.compress(code.encode(), 9)).decode()
    return f"import zlib, base64\nexec(zlib.decompress(base64.b64decode({blob!r})).decode())\n"


def _packed_bytes(payload: bytes, codec: str = "zlib") -> str:
    import base64

    blob = base64.b85encode(payload).decode()
    return f"import {codec}, base64\nexec({codec}.decompress(base64.b85decode({blob!r})))\n"


def _packed_sites(sub, kinds: tuple[str, ...]):
    from ..code import packed

    for unit in sub.code_units:
        if not unit.is_python:
            continue
        for site in packed.sites_of(unit):
            if site.problem_kind in kinds:
                yield unit, site


class UnreadableExecutedCode(Rule):
    """Code is executed but its text is not in the submission: `exec`/`eval` of a payload that is
    computed at run time, read from a file, fetched over the network, or unmarshalled bytecode.

    golflint reads `exec(lzma.decompress(base64.b85decode("...")))` and every other chain of
    decoders applied to literals (see docs/packed-native-config.md). What it cannot read is code
    whose text only exists while the script runs. `exec(open(<path>).read())` of a `.py` file of
    the submission (a literal name, or `__file__.replace("train_gpt.py", "x.py")` and the like) is
    followed: that file is analyzed and counted as code, no finding. Another file read from the
    submission folder is a warning (a reviewer can open it by hand); everything else is an error.

    **Why.** Every evaluation rule checks the code that runs. Code that cannot be read statically
    is code nobody reviewed: it may train on validation data or phone home, and no check would see it.

    **Example.** `exec(urllib.request.urlopen(URL).read())`, `exec(marshal.loads(zlib.decompress(B)))`,
    `exec("".join(chr(c) for c in CODES))`.

    **Instead.** Put the code in train_gpt.py, plain or as a literal payload
    (`exec(lzma.decompress(base64.b85decode("...")))`), so it is counted and can be decoded.
    """

    id = "GL010"
    name = "unreadable-executed-code"
    facts = frozenset({Fact.CODE})
    severity = Severity.ERROR
    message = "code is executed but cannot be read statically"
    hint = "ship the executed code in train_gpt.py as source or as a literal packed payload"
    valid = examples(lambda: (
        Valid(_packed_script("print('hello')\n"), note="a literal payload is decoded, not opaque"),
        Valid("import os\nlr = eval(os.environ.get('LR', '3e-4'))\n", note="eval of a setting"),
        Valid("exec('x = 1')\nprint(x)\n"),
        Valid("import re\npattern = re.compile('a+')\n", note="re.compile is not the builtin"),
    ))
    invalid = examples(lambda: (
        Invalid("import urllib.request\nsrc = urllib.request.urlopen('https://example.org/m.py').read()\n"
                "exec(src)\n", lines=3),
        Invalid("import marshal, zlib\nexec(marshal.loads(zlib.decompress(b'x\\x9c')))\n", lines=2),
        Invalid("import sys\nexec(''.join(chr(c) for c in [112, 114, 105, 110, 116, 40, 41]))\n", lines=2),
        Invalid("exec(open('/tmp/stage2.py').read())\n", lines=1),
    ))

    def check(self, sub) -> Iterable[Finding]:
        from ..code import packed
        from ..layout import exec_siblings

        followed: dict[int, dict[int, str]] = {}
        for unit, site in _packed_sites(sub, packed.OPAQUE_KINDS):
            # exec(open(<sibling .py>).read()): golflint loads that file as code (and counts it)
            siblings = followed.setdefault(id(unit), exec_siblings(sub.files, unit.tree, unit.nodes(ast.Call)))
            if site.line in siblings:
                continue
            severity = None
            note = ""
            if site.problem_kind == packed.FILE:
                target = site.problem.split("`")[1] if site.problem and "`" in site.problem else ""
                rel = target.removeprefix("./")
                if rel and sub.exists(rel):
                    severity = Severity.WARNING
                    note = f"; {rel} is in the folder but golflint does not analyze it as code: review it by hand"
            yield self.report_at(unit, site.line, f"`{site.call}` runs {site.problem}; the code that "
                                 f"runs cannot be read statically{note}", severity=severity,
                                 kind=site.problem_kind)


class BrokenPackedPayload(Rule):
    """A packed payload does not decode to readable source: corrupt or truncated, a decompression
    bomb (beyond `packed.max_decoded_bytes`), nested deeper than `packed.max_layers`, or decoding
    to binary data or to text that is not UTF-8.

    Payloads are decoded statically with bounded, incremental decompressors: nothing is executed
    and a bomb is stopped at the limit without allocating the rest.

    **Why.** A payload that does not decode either crashes the run (so the logs did not come from
    this file) or hides code behind a decoder golflint cannot follow; a bomb can exhaust the memory
    of whoever runs or reviews it.

    **Example.** `exec(zlib.decompress(B))` where B was cut short when pasted into the file.

    **Instead.** Regenerate the payload from the real source and check that
    `golflint unpack train_gpt.py` prints it.
    """

    id = "GL011"
    name = "broken-packed-payload"
    facts = frozenset({Fact.CODE})
    severity = Severity.ERROR
    message = "a packed payload does not decode to readable source"
    hint = "regenerate the payload from the source and check `golflint unpack train_gpt.py` prints it"
    valid = examples(lambda: (
        Valid(_packed_script("print('hello')\n")),
        Valid(_packed_script(_packed_script("print('two layers')\n"), codec="zlib")),
        Valid("import zlib\nblob = zlib.decompress(b'not a payload, never executed')\n"),
    ))
    invalid = examples(lambda: (
        Invalid(_packed_script("print('hello')\n" * 50)[:-40] + "')))\n", lines=2, note="truncated"),
        Invalid(_packed_bytes(bytes(range(256)) * 4), lines=2, note="binary junk"),
        Invalid(_packed_bytes("# caf\u00e9\n".encode("latin-1")), lines=2, note="not UTF-8"),
        Invalid(_packed_bytes(bytes(4000)), lines=2, settings={"packed": {"max_decoded_bytes": 1000}},
                note="expands beyond the limit"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        from ..code import packed

        for unit, site in _packed_sites(sub, packed.BROKEN_KINDS):
            yield self.report_at(unit, site.line, f"`{site.call}` of a packed payload that cannot be "
                                 f"decoded: {site.problem}", kind=site.problem_kind)


RULES.extend([UnreadableExecutedCode, BrokenPackedPayload])


_ENV_SCRIPT = "import os\nTTT_ENABLED = int(os.environ.get('TTT_ENABLED', '0'))\nprint(TTT_ENABLED)\n"


class ReadmeWithoutRunCommand(Rule):
    """README.md gives no command that runs train_gpt.py (in a code block or inline code), and
    no `*.sh` file in the folder does either.

    Reported when the script reads settings from environment variables (`os.environ.get`,
    `os.getenv`): then the configuration behind the logs cannot be known, and golflint checks
    gated branches under the in-code defaults only. A script that reads no settings runs one way,
    so its README needs no command for golflint's purposes.

    **Why.** The rules require that train_gpt.py runs from its folder and reproduces the logs.
    Environment switches (`TTT_ENABLED=1`, `NGRAM_CACHE=1`) decide which code runs; without the
    command a reviewer cannot tell which branches produced the score.

    **Example.** A README that describes the method in prose, for a script that reads `TTT_ENABLED`.

    **Instead.** Add the exact command in a code block:
    `TTT_ENABLED=1 torchrun --standalone --nproc_per_node=8 train_gpt.py`.
    """

    id = "GL012"
    name = "readme-without-run-command"
    facts = frozenset({Fact.RUN_CONFIG})
    severity = Severity.WARNING
    message = "README.md gives no command that runs train_gpt.py"
    hint = "add the exact run command, with every environment variable it sets, in a code block of README.md"
    valid = examples(lambda: (
        Valid(files={"train_gpt.py": _ENV_SCRIPT,
                     "README.md": "# Run\n\n```bash\nTTT_ENABLED=1 torchrun --nproc_per_node=8 train_gpt.py\n```\n"}),
        Valid(files={"train_gpt.py": _ENV_SCRIPT, "README.md": "# Run\n\nSee run.sh.\n",
                     "run.sh": "#!/bin/bash\nexport TTT_ENABLED=1\ntorchrun --nproc_per_node=8 train_gpt.py\n"}),
        Valid(files={"train_gpt.py": _ENV_SCRIPT,
                     "README.md": "# Run\n\nRun `python train_gpt.py` from this folder.\n"}),
        Valid(files={"train_gpt.py": _ENV_SCRIPT}, note="a missing README is GL001's finding"),
    ))
    invalid = examples(lambda: (
        Invalid(files={"train_gpt.py": _ENV_SCRIPT, "README.md": "# Run\n\nWe enable test-time training.\n"}),
        Invalid(files={"train_gpt.py": _ENV_SCRIPT,
                       "README.md": "# Run\n\n```\npython data/cached_fineweb.py --variant sp1024\n```\n"},
                note="a command, but not one that runs train_gpt.py"),
        Invalid(files={"train_gpt.py": _ENV_SCRIPT,
                       "README.md": "# Run\n\n```bash\npip install -r requirements.txt\n```\n"}),
    ))

    def check(self, sub) -> Iterable[Finding]:
        if not sub.exists("README.md") or not sub.exists("train_gpt.py"):
            return
        cfg = sub.run_config
        if cfg.has_command:
            return
        if sub.text("README.md") is None or not cfg.defaults:
            return  # unreadable (GL004 reports it), or nothing to configure
        names = ", ".join(sorted(cfg.defaults)[:6]) + (", ..." if len(cfg.defaults) > 6 else "")
        yield self.report(f"README.md gives no command that runs train_gpt.py, and the script reads "
                          f"settings from the environment ({names}); gated code is checked under "
                          "the in-code defaults only", file="README.md")


RULES.append(ReadmeWithoutRunCommand)


_COMPILE_C = "import subprocess\nsubprocess.run(['gcc', '-O2', '-shared', '-fPIC', 'cache.c', '-o', 'libcache.so'])\n"


class UnparsableNativeCode(Rule):
    """A C/C++/CUDA file (or inline source) that the script compiles or loads does not parse.

    golflint parses native code with tree-sitter (no compiler, nothing built) to run the
    evaluation checks on it. Heavy macro use can defeat a parser that does not preprocess, so this
    is a warning: the checks still run on the parts that parse, but a reviewer must read the rest.

    **Why.** Native code is where caches and mixing tricks hide; code that cannot be parsed is code
    the evaluation checks did not see.

    **Example.** `cache.c` with an unbalanced brace, compiled by `subprocess.run(["gcc", ...])`.

    **Instead.** Fix the syntax (does it compile?), or expand the macros that hide control flow.
    """

    id = "GL013"
    name = "unparsable-native-code"
    facts = frozenset({Fact.CODE, Fact.NATIVE})
    severity = Severity.WARNING
    message = "native code the script builds or loads cannot be parsed"
    hint = "make the file compile as written, or expand the macros that hide its control flow"
    valid = examples(lambda: (
        Valid(files={"train_gpt.py": _COMPILE_C, "cache.c": "int add(int a, int b) { return a + b; }\n"}),
        Valid(files={"train_gpt.py": "print('no native code')\n", "notes.c": "int broken( {\n"},
              note="a C file the script never builds is not reviewed code"),
        Valid(files={"train_gpt.py": "import torch.utils.cpp_extension as ext\n"
                                     "m = ext.load(name='k', sources=['k.cu'])\n",
                     "k.cu": "__global__ void k(float *x) { x[threadIdx.x] = 0.f; }\n"
                             "void launch(float *x) { k<<<1, 32>>>(x); }\n"}, note="CUDA syntax"),
    ))
    invalid = examples(lambda: (
        Invalid(files={"train_gpt.py": _COMPILE_C, "cache.c": "int add(int a, int b) { return a + ; }\n"},
                file="cache.c", lines=1),
        Invalid(files={"train_gpt.py": "import os\nos.system('nvcc -O3 -o mix mix.cu')\n",
                       "mix.cu": "int main() {\n  int x = ;\n  return 0;\n}\n"}, file="mix.cu", lines=2),
        Invalid("from torch.utils.cpp_extension import load_inline\n"
                "SRC = '''\n"
                "int twice(int x) { return x * 2 }\n"
                "'''\n"
                "m = load_inline(name='m', cpp_sources=SRC, functions=['twice'])\n", lines=3,
                note="inline source keeps the file's line numbers"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        units = sub.native_units
        if not units:
            return  # tree-sitter is loaded only for native code
        from ..native.syntax import tree_of

        for unit in units:
            for problem in unit.notes:  # native units only carry read problems here
                yield self.report_at(unit, None, problem)
            if not unit.source:
                continue
            error_line = tree_of(unit).error_line
            if error_line is not None:
                yield self.report_at(unit, error_line, f"{unit.label} ({unit.reason}) does not parse "
                                     f"as {unit.language.upper()} from line {error_line}; the evaluation "
                                     "checks may miss code there")


RULES.append(UnparsableNativeCode)
