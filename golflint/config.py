"""Settings: the shipped rules.toml, then [tool.golflint] in a pyproject.toml, then --rules FILE.

Layers are merged table by table (a later layer's value replaces an earlier one's; tables merge
key by key). Every key a user sets must exist in the shipped rules.toml, except inside the open
tables listed in OPEN_TABLES, so a typo is a warning instead of a silently ignored limit.
"""

from __future__ import annotations

import copy
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


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


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
                f"{source}: `{dotted}` must be {_kind_name(expected)}, got {_kind_name(value)} {value!r}"
            )


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
        return Settings(_merge(self.data, overrides), [*self.sources, source], list(self.warnings))


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start` that has a [tool.golflint] table."""
    start = start.resolve()
    for folder in (start, *start.parents):
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
) -> Settings:
    """Merge the layers. `discover_from` finds a pyproject.toml with [tool.golflint] upwards."""
    defaults = _shipped_defaults()
    settings = Settings(copy.deepcopy(defaults), [str(shipped_rules_path())])
    layers: list[tuple[str, dict[str, Any]]] = []
    if not isolated:
        if pyproject is None and discover_from is not None:
            pyproject = find_pyproject(discover_from)
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


def default_settings() -> Settings:
    return load_settings(isolated=True)
