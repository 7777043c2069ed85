"""Tools for refining prompts one knob at a time: diffs, sweeps, hints and embedded recipes.

Pure code without Textual or network access; only :mod:`tui.iterate.recipe` touches files.
"""

from __future__ import annotations

from .diff import ChangeSummary, DiffSpan, Region, changed_regions, diff_words, summarise_change
from .lint import RULES, Hint, lint
from .recipe import Recipe, RecipeError, embed_recipe, read_recipe, runcomfy_command
from .sweep import CONFIRM_THRESHOLD, Sweep, SweepError, Variant, count_variants, expand, has_sweep

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
