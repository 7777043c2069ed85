"""``recipe FILE``: the recipe stored in an image this app saved, and the equivalent
``runcomfy run …`` line."""

from __future__ import annotations

from pathlib import Path

from ..iterate.recipe import read_recipe, runcomfy_command
from ..trust.sanitize import clean_text
from .console import print_json, say
from .exits import EXIT_INPUT

__all__ = ["recipe_command"]


def recipe_command(path: str) -> int:
    """Print the recipe stored in ``path`` as JSON (65 when there is no such file, 1 when it
    carries no recipe)."""
    file = Path(path)
    if not file.is_file():
        say(f"no such file: {clean_text(path)}")
        return EXIT_INPUT
    recipe = read_recipe(file)
    if recipe is None:
        say(f"{clean_text(path)} carries no gpt-image-tui recipe")
        return 1
    print_json({**recipe.to_dict(), "runcomfy_command": runcomfy_command(recipe)}, compact=False)
    return 0
