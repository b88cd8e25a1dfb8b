"""Settings: the shipped rules.toml, then [tool.golflint] in a pyproject.toml, then --rules FILE.

Layers are merged table by table (a later layer's value replaces an earlier one's; tables merge
key by key). Every key a user sets must exist in the shipped rules.toml, except inside the open
tables listed in OPEN_TABLES, so a typo is a warning instead of a silently ignored limit.
"""

from __future__ import annotations

import copy
import math
import os
import stat
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from .errors import ConfigError
from .findings import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

# Tables whose keys are not fixed by the shipped file (per-rule options, rule ids).
OPEN_TABLES = ("rules",)


def shipped_rules_path() -> Path:
    """The rules.toml shipped with the package (wheel) or at the top of a source checkout."""
    packaged = Path(__file__).with_name("rules.toml")
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules.toml"


@lru_cache(maxsize=1)
def _shipped_defaults() -> dict[str, Any]:
    path = shipped_rules_path()
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:  # a broken install, not a user error
        raise ConfigError(f"cannot read the shipped rulebook {path}: {exc}") from exc


# A rules file or pyproject.toml larger than this is not configuration (and is never read whole).
MAX_CONFIG_BYTES = 1_000_000


def _read_config_bytes(path: Path) -> bytes:
    """The bytes of a configuration file, refusing anything that is not a small regular file.

    `stat` comes first, so a FIFO (`--rules some.fifo`) or a device (`--rules /dev/zero`) is refused
    without being opened; the open is non-blocking and re-checked with `fstat`, so a file swapped
    for a FIFO in between cannot hang the run either.
    """
    try:
        st = path.stat()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"{path} is a folder, not a configuration file")
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{path} is not a regular file (a FIFO, socket or device); refused unread")
    if st.st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path} is too large for a configuration file "
                          f"({st.st_size:,} bytes; limit {MAX_CONFIG_BYTES:,})")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigError(f"{path} is not a regular file; refused unread")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path} is too large for a configuration file (limit {MAX_CONFIG_BYTES:,} bytes)")
    return data


def _read_toml(path: Path) -> dict[str, Any]:
    data = _read_config_bytes(path)
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path} nests tables or arrays too deeply") from None


def _merge(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _type_problems(defaults: Any, layer: Any, prefix: str, source: str) -> Iterable[str]:
    """Unknown keys and wrong types in one user layer, as warnings (or raise for wrong types)."""
    if not isinstance(layer, dict):
        return
    for key, value in layer.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if prefix == "" and key in OPEN_TABLES:
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: `{dotted}` must be a table")
            continue
        if not isinstance(defaults, dict) or key not in defaults:
            yield f"{source}: unknown setting `{dotted}` (ignored by every check)"
            continue
        expected = defaults[key]
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: `{dotted}` must be a table")
            yield from _type_problems(expected, value, dotted, source)
        elif not _same_kind(expected, value):
            raise ConfigError(
                f"{source}: `{dotted}` must be {_kind_name(expected)}, got {_kind_name(value)} {_shown(value)}"
            )
        else:
            _check_number(expected, value, dotted, source)


# Settings that size memory, time or recursion: a value outside (least, greatest) is a usage error
# (exit 2), not an overflow in the middle of a run. Every other number must merely be finite, and
# an integer where the shipped value is one.
BOUNDS: dict[str, tuple[float, float]] = {
    "general.max_text_file_bytes": (1, 2**31),
    "general.max_total_read_bytes": (1, 2**34),
    "submission.max_json_items": (1, 10_000_000),
    "submission.max_number_chars": (1, 4_000),
    "packed.max_layers": (0, 64),
    "packed.max_decoded_bytes": (1, 2**31),
    "packed.max_decoded_bytes_per_file": (1, 2**32),
    "packed.max_decoded_bytes_per_submission": (1, 2**34),
    "analysis.max_source_bytes": (1, 2**30),
    "analysis.max_total_source_bytes": (1, 2**32),
    "analysis.max_native_source_bytes": (1, 2**30),
    "analysis.max_call_depth": (0, 10_000),
    "analysis.max_statements": (1, 10**9),
    "analysis.nested_later_iterations": (1, 64),
    "discovery.max_files": (1, 10**8),
    "budget.max_model_bytes": (1, 2**40),
    "bytes.cap": (0, 2**53),
}
# Any other number: a magnitude beyond this is a typo or an attack, never a setting.
MAX_MAGNITUDE = 2**53


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:40] + "..."


def _check_number(expected: Any, value: Any, dotted: str, source: str) -> None:
    if isinstance(value, list):
        for item in value:
            if isinstance(item, (int, float)) and not isinstance(item, bool) and \
                    (not math.isfinite(item) or abs(item) > MAX_MAGNITUDE):
                raise ConfigError(f"{source}: `{dotted}` holds {_shown(item)}, which is out of range")
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if not math.isfinite(value):
        raise ConfigError(f"{source}: `{dotted}` must be a finite number, got {_shown(value)}")
    if isinstance(expected, int) and not isinstance(expected, bool) and not float(value).is_integer():
        raise ConfigError(f"{source}: `{dotted}` must be a whole number, got {_shown(value)}")
    least, greatest = BOUNDS.get(dotted, (-MAX_MAGNITUDE, MAX_MAGNITUDE))
    if not least <= value <= greatest:
        raise ConfigError(f"{source}: `{dotted}` = {_shown(value)} is out of range "
                          f"(allowed: {least:,} to {greatest:,})")


def _same_kind(expected: Any, value: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool):
        return isinstance(expected, bool) and isinstance(value, bool)
    if isinstance(expected, (int, float)):
        return isinstance(value, (int, float))
    return isinstance(value, type(expected))


def _kind_name(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


@dataclass
class Settings:
    data: dict[str, Any]
    sources: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # How these settings were built, so they can be rebuilt without a pyproject.toml that turns out
    # to belong to a submission being checked (`excluding_submissions`).
    pyproject: Path | None = None
    origin: dict[str, Any] = field(default_factory=dict)
    overrides: list[tuple[dict[str, Any], str]] = field(default_factory=list)

    # -- generic access -------------------------------------------------------------------------
    def get(self, dotted: str, default: Any = ...) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                if default is ...:
                    raise ConfigError(f"setting `{dotted}` is missing from the rulebook")
                return default
            node = node[part]
        return node

    def section(self, name: str) -> dict[str, Any]:
        value = self.get(name, {})
        return value if isinstance(value, dict) else {}

    # -- tracks ---------------------------------------------------------------------------------
    def track(self, name: str) -> dict[str, Any]:
        tracks = self.section("tracks")
        if name not in tracks:
            known = ", ".join(sorted(tracks))
            raise ConfigError(f"unknown track {name!r}; known tracks: {known}")
        return tracks[name]

    def track_names(self) -> list[str]:
        return sorted(self.section("tracks"))

    # -- rules ----------------------------------------------------------------------------------
    def rule_table(self, rule_id: str) -> dict[str, Any]:
        table = self.section("rules").get(rule_id, {})
        return table if isinstance(table, dict) else {}

    def rule_enabled(self, rule_id: str) -> bool:
        table = self.rule_table(rule_id)
        if table.get("enabled") is False:
            return False
        general = self.section("general")
        select = general.get("select", ["GL"]) or ["GL"]
        ignore = general.get("ignore", [])
        if not any(rule_id.startswith(p) for p in select):
            return False
        return not any(rule_id.startswith(p) for p in ignore)

    def rule_severity(self, rule_id: str, default: Severity) -> Severity:
        value = self.rule_table(rule_id).get("severity")
        if value is None:
            return default
        try:
            return Severity.parse(str(value))
        except ValueError as exc:
            raise ConfigError(f"rules.{rule_id}.severity: {exc}") from None

    def rule_options(self, rule_id: str) -> dict[str, Any]:
        return {k: v for k, v in self.rule_table(rule_id).items() if k not in ("enabled", "severity")}

    def with_overrides(self, overrides: dict[str, Any], source: str = "command line") -> "Settings":
        return Settings(_merge(self.data, overrides), [*self.sources, source], list(self.warnings),
                        self.pyproject, dict(self.origin), [*self.overrides, (overrides, source)])


def _within(folder: Path, roots: Iterable[Path]) -> Path | None:
    """The root that `folder` is, or lies inside, if any."""
    for root in roots:
        if folder == root or root in folder.parents:
            return root
    return None


def find_pyproject(start: Path, exclude: Iterable[Path] = ()) -> Path | None:
    """The nearest pyproject.toml at or above `start` that has a [tool.golflint] table, skipping
    any at or inside a folder of `exclude` (the submission folders being checked)."""
    start = start.resolve()
    excluded = [Path(p).resolve() for p in exclude]
    for folder in (start, *start.parents):
        if _within(folder, excluded) is not None:
            continue
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = _read_toml(candidate)
            except ConfigError:
                continue
            if isinstance(data.get("tool"), dict) and "golflint" in data["tool"]:
                return candidate
    return None


def load_settings(
    rules_file: Path | None = None,
    pyproject: Path | None = None,
    *,
    discover_from: Path | None = None,
    isolated: bool = False,
    exclude: Iterable[Path] = (),
) -> Settings:
    """Merge the layers. `discover_from` finds a pyproject.toml with [tool.golflint] upwards,
    skipping any inside the folders of `exclude`."""
    defaults = _shipped_defaults()
    settings = Settings(copy.deepcopy(defaults), [str(shipped_rules_path())],
                        origin={"rules_file": rules_file, "discover_from": discover_from,
                                "isolated": isolated, "exclude": tuple(exclude)})
    layers: list[tuple[str, dict[str, Any]]] = []
    if not isolated:
        if pyproject is None and discover_from is not None:
            pyproject = find_pyproject(discover_from, exclude)
            settings.pyproject = pyproject
        if pyproject is not None:
            data = _read_toml(pyproject)
            table = data.get("tool", {}).get("golflint", {})
            if not isinstance(table, dict):
                raise ConfigError(f"{pyproject}: [tool.golflint] must be a table")
            layers.append((f"{pyproject} [tool.golflint]", table))
    if rules_file is not None:
        layers.append((str(rules_file), _read_toml(rules_file)))
    for source, layer in layers:
        settings.warnings.extend(_type_problems(defaults, layer, "", source))
        settings.data = _merge(settings.data, layer)
        settings.sources.append(source)
    return settings


def excluding_submissions(settings: Settings, roots: Iterable[Path]) -> tuple[Settings, str | None]:
    """Policy: a submission's own pyproject.toml is never configuration.

    When the pyproject.toml found upwards from the working directory lies at or inside one of the
    submission folders `roots` being checked, the settings are rebuilt as if it were not there (the
    search goes on above that folder; --rules and command-line overrides are kept). Returns the
    settings to use and a note saying what was ignored (None when nothing was).
    """
    if settings.pyproject is None:
        return settings, None
    resolved = [Path(r).resolve() for r in roots]
    inside = _within(settings.pyproject.parent.resolve(), resolved)
    if inside is None:
        return settings, None
    origin = settings.origin
    rebuilt = load_settings(origin.get("rules_file"), discover_from=origin.get("discover_from"),
                            isolated=bool(origin.get("isolated")),
                            exclude=(*origin.get("exclude", ()), *resolved))
    for overrides, source in settings.overrides:
        rebuilt = rebuilt.with_overrides(overrides, source)
    note = (f"ignoring {settings.pyproject}: it lies in the submission folder {inside} being checked, "
            "and a submission's own pyproject.toml is never configuration")
    return rebuilt, note


def default_settings() -> Settings:
    return load_settings(isolated=True)
