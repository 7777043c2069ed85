"""Tools for refining prompts one knob at a time: diffs, sweeps, hints and embedded recipes.

Pure code without Textual or network access; only :mod:`tui.iterate.recipe` touches files.
Each name loads its own module on first use (PEP 562): the composer's first frame needs the
sweep counter, not the word differ, the prompt hints or the recipe reader.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .diff import (
        ChangeSummary,
        DiffSpan,
        Region,
        changed_regions,
        diff_words,
        summarise_change,
    )
    from .lint import RULES, Hint, lint
    from .recipe import Recipe, RecipeError, embed_recipe, read_recipe, runcomfy_command
    from .sweep import (
        CONFIRM_THRESHOLD,
        Sweep,
        SweepError,
        Variant,
        count_variants,
        expand,
        has_sweep,
    )

_MODULES = {
    **dict.fromkeys(
        ["ChangeSummary", "DiffSpan", "Region", "changed_regions", "diff_words",
         "summarise_change"], "diff"),
    **dict.fromkeys(["RULES", "Hint", "lint"], "lint"),
    **dict.fromkeys(
        ["Recipe", "RecipeError", "embed_recipe", "read_recipe", "runcomfy_command"], "recipe"),
    **dict.fromkeys(
        ["CONFIRM_THRESHOLD", "Sweep", "SweepError", "Variant", "count_variants", "expand",
         "has_sweep"], "sweep"),
}

__all__ = [
    "CONFIRM_THRESHOLD",
    "RULES",
    "ChangeSummary",
    "DiffSpan",
    "Hint",
    "Recipe",
    "RecipeError",
    "Region",
    "Sweep",
    "SweepError",
    "Variant",
    "changed_regions",
    "count_variants",
    "diff_words",
    "embed_recipe",
    "expand",
    "has_sweep",
    "lint",
    "read_recipe",
    "runcomfy_command",
    "summarise_change",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
