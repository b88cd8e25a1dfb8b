"""The dataflow's vocabulary is the shared one (golflint/facts/semantics.py); kept as a module path."""

from ..facts.semantics import PLACEHOLDER, Semantics, Spec

__all__ = ["PLACEHOLDER", "Semantics", "Spec"]
