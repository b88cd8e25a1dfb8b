"""What the run configuration resolver returns."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Setting:
    name: str
    value: str | None          # None: the variable is unset in this configuration
    source: str                # "README.md line 12", "run.sh line 3", "--env", "default in train_gpt.py line 40"

    def describe(self) -> str:
        """"TTT_ENABLED=1 from README.md line 12", "TTT_ENABLED=0 (default in train_gpt.py line 9)"."""
        if self.value is None:
            return f"{self.name} unset"
        if self.source.startswith("default"):
            return f"{self.name}={self.value} ({self.source})"
        return f"{self.name}={self.value} from {self.source}"


@dataclass
class RunCommand:
    """One command line that runs the script, with the environment it gets."""

    text: str
    source: str                                           # "README.md line 12"
    env: dict[str, Setting] = field(default_factory=dict)  # exported or prefixed variables
    args: dict[str, Setting] = field(default_factory=dict)  # "--ttt-lr" -> value after the script name


@dataclass
class Variant:
    """The full configuration one run command produces (defaults, code, command, --env)."""

    label: str                                            # "README.md line 12" or "no run command"
    settings: dict[str, Setting] = field(default_factory=dict)
    args: dict[str, Setting] = field(default_factory=dict)
    command: RunCommand | None = None


@dataclass
class RunConfig:
    # Variable name -> where its value comes from, in the configuration that produced the logs
    # (or the first run command when that cannot be told; see `variants`).
    settings: dict[str, Setting] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # One per run command found (or a single one with the in-code defaults when there is none).
    variants: list[Variant] = field(default_factory=list)
    # Label of the variant the train logs match, when they tell.
    chosen: str | None = None
    # Values the code falls back to when a variable is unset: os.environ.get("X", "0") etc.
    defaults: dict[str, Setting] = field(default_factory=dict)
    # Run commands were found in the README or a shell script (False: only in-code defaults).
    has_command: bool = False

    def value(self, name: str) -> str | None:
        s = self.settings.get(name)
        return s.value if s else None

    @property
    def checked_variants(self) -> list[Variant]:
        """The variants gating must consider: the one the logs chose, else all of them."""
        if self.chosen is not None:
            return [v for v in self.variants if v.label == self.chosen]
        return self.variants
