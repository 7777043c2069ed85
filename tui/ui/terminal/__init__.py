"""The terminal the app runs in: what it can show, decided once before Textual starts.

``replies`` parses what the terminal answers (and drops late answers from the input),
``decide`` makes every choice as a pure function, ``probe`` does the little I/O there is,
``driver`` applies the choices to Textual, ``sixel`` cleans up Sixel output. Only
:mod:`tui.ui.imaging` imports textual_image.
"""

from __future__ import annotations

from .choice import (
    COLOR_DEPTHS,
    DEFAULT_CELL_SIZE,
    GRAPHICS_MODES,
    ColorChoice,
    ColorDepth,
    GraphicsChoice,
    GraphicsMode,
)

__all__ = [
    "COLOR_DEPTHS",
    "DEFAULT_CELL_SIZE",
    "GRAPHICS_MODES",
    "ColorChoice",
    "ColorDepth",
    "GraphicsChoice",
    "GraphicsMode",
]
