"""THE vocabulary every analysis and rule reads, from `[analysis]` in the rulebook.

No-grad contexts, training steps (`.backward()`, `torch.autograd.grad`, an optimizer's `.step()`),
losses, validation and training sources, sanitizers: every API name here comes from rules.toml,
so a new loader, optimizer or cache API is a setting, not code. Nothing here names a user's
function or variable. Path classification (is this string a validation or training shard
pattern?) lives here too.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings

# An interpolated f-string part: matches nothing, so "fineweb_{split}_*.bin" is no wildcard over
# the split name (its value's own taint decides).
PLACEHOLDER = "\x00"
_NOT_PATHLIKE = re.compile(r"[\s{}:=,%()<>|;]")
_GLOB_CHARS = re.compile(r"[*?\[]")


def _pattern_regex(patterns: list[str]) -> re.Pattern[str] | None:
    """Substring match where a pattern that starts with a letter must start a word
    ("val_" matches "fineweb/val_0.bin" but not "eval_loss" or "interval_s")."""
    parts = []
    for p in patterns:
        if not p:
            continue
        esc = re.escape(p)
        parts.append(f"(?<![A-Za-z0-9]){esc}" if p[0].isalnum() else esc)
    return re.compile("|".join(parts)) if parts else None


@dataclass(frozen=True)
class Semantics:
    val_re: re.Pattern[str] | None
    train_re: re.Pattern[str] | None
    val_examples: tuple[str, ...]
    train_examples: tuple[str, ...]
    read_calls: frozenset[str]
    read_methods: frozenset[str]
    update_methods: frozenset[str]
    update_calls: frozenset[str]
    step_methods: frozenset[str]
    loss_calls: frozenset[str]
    param_methods: frozenset[str]
    param_attrs: frozenset[str]
    weight_load_methods: frozenset[str]
    module_copy_calls: frozenset[str]
    inplace_methods: frozenset[str]
    cache_write_methods: frozenset[str]
    count_calls: frozenset[str]
    count_methods: frozenset[str]
    count_into_calls: frozenset[str]
    accumulate_methods: frozenset[str]
    nograd_contexts: frozenset[str]
    grad_contexts: frozenset[str]
    shape_calls: frozenset[str]
    shape_methods: frozenset[str]
    shape_attrs: frozenset[str]
    position_calls: frozenset[str]
    position_calls_one_arg: frozenset[str]
    position_methods: frozenset[str]
    scalar_methods: frozenset[str]
    hook_methods: frozenset[str]
    ship_calls: frozenset[str]
    ship_methods: frozenset[str]
    calibration_ops: frozenset[str]
    best_of_calls: frozenset[str]
    mask_calls: frozenset[str]
    mask_combine_calls: frozenset[str]
    mask_methods: frozenset[str]
    bool_dtypes: frozenset[str]
    cast_methods: frozenset[str]
    min_validation_tokens: int
    max_call_depth: int
    max_statements: int
    # How many loops may run their later iteration inside one another (dataflow/interp.py `_loop`)
    nested_later_iterations: int = 1
    # Numeric settings each checked run command gives (environment variable -> number), one
    # mapping per run variant: a cut behind a setting is judged at the value the run uses.
    configured: tuple[tuple[tuple[str, float], ...], ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> Semantics:
        def names(key: str) -> frozenset[str]:
            return frozenset(str(x) for x in settings.get(f"analysis.{key}", []) or [])

        return cls(
            val_re=_pattern_regex(list(settings.get("analysis.val_patterns", []))),
            train_re=_pattern_regex(list(settings.get("analysis.train_patterns", []))),
            val_examples=tuple(settings.get("analysis.val_shard_examples", [])),
            train_examples=tuple(settings.get("analysis.train_shard_examples", [])),
            read_calls=names("read_calls"),
            read_methods=names("read_methods"),
            update_methods=names("update_methods"),
            update_calls=names("update_calls"),
            step_methods=names("step_methods"),
            loss_calls=names("loss_calls"),
            param_methods=names("param_methods"),
            param_attrs=names("param_attrs"),
            weight_load_methods=names("weight_load_methods"),
            module_copy_calls=names("module_copy_calls"),
            inplace_methods=names("inplace_methods"),
            cache_write_methods=names("cache_write_methods"),
            count_calls=names("count_calls"),
            count_methods=names("count_methods"),
            count_into_calls=names("count_into_calls"),
            accumulate_methods=names("accumulate_methods"),
            nograd_contexts=names("nograd_contexts"),
            grad_contexts=names("grad_contexts"),
            shape_calls=names("shape_calls"),
            shape_methods=names("shape_methods"),
            shape_attrs=names("shape_attrs"),
            position_calls=names("position_calls"),
            position_calls_one_arg=names("position_calls_one_arg"),
            position_methods=names("position_methods"),
            scalar_methods=names("scalar_methods"),
            hook_methods=names("hook_methods"),
            ship_calls=names("ship_calls"),
            ship_methods=names("ship_methods"),
            calibration_ops=names("calibration_ops"),
            best_of_calls=names("best_of_calls"),
            mask_calls=names("mask_calls"),
            mask_combine_calls=names("mask_combine_calls"),
            mask_methods=names("mask_methods"),
            bool_dtypes=names("bool_dtypes"),
            cast_methods=names("cast_methods"),
            min_validation_tokens=int(settings.get("analysis.min_validation_tokens", 30_000_000)),
            max_call_depth=int(settings.get("analysis.max_call_depth", 12)),
            max_statements=int(settings.get("analysis.max_statements", 400_000)),
            nested_later_iterations=int(settings.get("analysis.nested_later_iterations", 1)),
        )

    def classify_path(self, text: str) -> tuple[bool, bool, bool]:
        """(validation, training, wide) for a string literal; only path-like strings count.

        `wide`: a wildcard pattern that matches both a validation and a training shard name.
        """
        if not text or len(text) > 4096 or _NOT_PATHLIKE.search(text.replace(PLACEHOLDER, "")):
            return False, False, False
        val = bool(self.val_re and self.val_re.search(text))
        train = bool(self.train_re and self.train_re.search(text))
        wide = False
        base = text.rsplit("/", 1)[-1]
        if _GLOB_CHARS.search(base):
            hits_val = any(fnmatch.fnmatchcase(e, base) for e in self.val_examples)
            hits_train = any(fnmatch.fnmatchcase(e, base) for e in self.train_examples)
            val = val or hits_val
            train = train or hits_train
            wide = hits_val and hits_train
        return val, train, wide

    def is_training_step(self, qualname: str, method: str | None) -> bool:
        """A call that trains: `loss.backward()`, `torch.autograd.grad(...)`, `opt.step()`."""
        return (method is not None and (method in self.update_methods or method in self.step_methods)) \
            or qualname in self.update_calls

    def is_loss(self, qualname: str) -> bool:
        return qualname.rsplit(".", 1)[-1] in self.loss_calls


# Backwards-compatible name used by the dataflow interpreter and its cache.
Spec = Semantics
