"""What the run configuration resolver returns."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Setting:
    name: str
    value: str | None          # None: the variable is unset in this configuration
    source: str                # "README.md line 12", "run.sh line 3", "--env", "default in train_gpt.py line 40"


@dataclass
class RunConfig:
    # Variable name -> where its value comes from. Several commands may exist (`variants`).
    settings: dict[str, Setting] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def value(self, name: str) -> str | None:
        s = self.settings.get(name)
        return s.value if s else None
