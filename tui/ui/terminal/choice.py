"""What the app decided about the terminal: how images are drawn, how many colours, and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "COLOR_DEPTHS",
    "DEFAULT_CELL_SIZE",
    "GRAPHICS_MODES",
    "ColorChoice",
    "ColorDepth",
    "GraphicsChoice",
    "GraphicsMode",
]

GraphicsMode = Literal["kitty", "sixel", "halfcell"]
ColorDepth = Literal["truecolor", "256", "16"]
GRAPHICS_MODES: tuple[str, ...] = ("auto", "kitty", "sixel", "halfcell")
COLOR_DEPTHS: tuple[str, ...] = ("auto", "truecolor", "256", "16")
DEFAULT_CELL_SIZE = (10, 20)  # pixels per cell (width, height) when the terminal won't say
_MODE_NAMES = {"kitty": "Kitty graphics", "sixel": "Sixel", "halfcell": "half-cell blocks"}
_DEPTH_NAMES = {"truecolor": "24-bit colour", "256": "256 colours", "16": "16 colours"}
# What Textual (Rich) calls each depth.
_COLOR_SYSTEMS = {"truecolor": "truecolor", "256": "256", "16": "standard"}


@dataclass(frozen=True, slots=True)
class ColorChoice:
    """How many colours the app (and its half-cell images) uses, and a sentence saying why."""

    depth: ColorDepth
    reason: str
    no_color: bool = False  # NO_COLOR is set: Textual draws everything in grey

    @property
    def name(self) -> str:
        """``24-bit colour``, ``256 colours`` or ``16 colours``."""
        return _DEPTH_NAMES[self.depth]

    @property
    def color_system(self) -> str:
        """The name Textual's console uses for this depth."""
        return _COLOR_SYSTEMS[self.depth]

    @property
    def label(self) -> str:
        if self.no_color:
            return "colours: none (NO_COLOR is set)"
        return f"colours: {self.name} ({self.reason})"


@dataclass(frozen=True, slots=True)
class GraphicsChoice:
    """The renderer the app uses for images, and a plain sentence saying why.

    ``colors`` is the colour decision made with it (None where nobody asked, e.g. in tests);
    ``hints`` are sentences telling the user how to get better images (tmux settings …);
    ``tmux_passthrough`` says Kitty graphics go through tmux's passthrough; ``typed`` holds the
    keys the user typed while the terminal was being asked (the app receives them as input).
    """

    mode: GraphicsMode
    reason: str
    cell_size: tuple[int, int] = DEFAULT_CELL_SIZE
    colors: ColorChoice | None = None
    hints: tuple[str, ...] = ()
    tmux_passthrough: bool = False
    typed: str = ""

    @property
    def mode_name(self) -> str:
        """``Kitty graphics``, ``Sixel`` or ``half-cell blocks``."""
        return _MODE_NAMES[self.mode]

    @property
    def label(self) -> str:
        """One line for a status bar: ``graphics: auto: inside tmux … → half-cell blocks``."""
        if "→" in self.reason:
            return f"graphics: {self.reason}"
        return f"graphics: {_MODE_NAMES[self.mode]} ({self.reason})"

    @property
    def help_text(self) -> str:
        """The help screen's lines: mode and why, colours and why, then any hints."""
        lines = [self.label]
        if self.colors is not None:
            lines.append(self.colors.label)
        lines.extend(f"tip: {hint}" for hint in self.hints)
        return "\n".join(lines)
