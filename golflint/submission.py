"""Submission: everything the rules may ask about one submission folder, computed lazily once.

Rules read through this object instead of touching the disk, so every file is read once, through
the bounded and symlink-safe reader in files.py (the Folder this extends), and expensive views
(parsed code, parsed logs, the run configuration, byte measurements) are built only when a
selected rule asks for them. Each view is a fact a rule must declare (facts/declared.py). The builders take the Folder and the views they need as arguments,
never the Submission, so nothing they import leads back here.
"""

from __future__ import annotations

from .budget.measure import Measurement, measure_submission
from .code.loader import load_code_units
from .code.units import NATIVE_LANGUAGES, CodeUnit
from .facts.declared import Fact, fact_property
from .folder import Folder, JsonLoad
from .logs.model import TrainLog
from .logs.parse import parse_log
from .runconfig.model import RunConfig
from .runconfig.resolve import resolve_run_config

__all__ = ["Submission", "JsonLoad"]


class Submission(Folder):
    # -- logs -----------------------------------------------------------------------------------
    @fact_property(Fact.LOGS)
    def logs(self) -> list[TrainLog]:
        # Raw bytes: the parser reads text that is not quite UTF-8 (a stray byte in a progress
        # bar) instead of discarding the whole log, and says so.
        decimals = int(self.settings.get("logs.exact_min_decimals", 6))
        parsed = []
        for rel in self.log_files:
            fr = self.read(rel)
            parsed.append(parse_log(rel, fr.data, problem=fr.problem, exact_min_decimals=decimals))
        return parsed

    # -- code -----------------------------------------------------------------------------------
    @fact_property(Fact.CODE)
    def code_units(self) -> list[CodeUnit]:
        return load_code_units(self)

    @fact_property(Fact.CODE)
    def python_units(self) -> list[CodeUnit]:
        return [u for u in self.code_units if u.language == "python" and u.tree is not None]

    @fact_property(Fact.CODE)
    def native_units(self) -> list[CodeUnit]:
        """The C, C++ and CUDA units (sibling files and inline sources the Python builds or loads)."""
        return [u for u in self.code_units if u.language in NATIVE_LANGUAGES]

    # -- run configuration ----------------------------------------------------------------------
    @fact_property(Fact.RUN_CONFIG)
    def run_config(self) -> RunConfig:
        return resolve_run_config(self, self.python_units)

    # -- bytes ----------------------------------------------------------------------------------
    @fact_property(Fact.BYTES)
    def measurement(self) -> Measurement:
        return measure_submission(self, self.logs, self.code_units)

    @fact_property(Fact.BYTES)
    def exact_measurement(self) -> Measurement:
        """`measurement`, with a code size counted as an upper bound rebuilt exactly."""
        m = self.measurement
        return measure_submission(self, self.logs, self.code_units, exact=True) if m.is_bound else m
