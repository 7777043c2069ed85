"""A full-screen view of one image, fitted to the window with its aspect ratio kept; ←/→ step
through the other images it was opened among (the job list's, newest first)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

from ...trust.sanitize import clean_text
from ..imaging import ImageKit
from ..widgets.preview import ImagePreview

__all__ = ["ImageScreen"]


class ImageScreen(ModalScreen[None]):
    """The image filling the window; Escape, q or f goes back."""

    DEFAULT_CSS = """
    ImageScreen {
        background: $background;
        align: center middle;
    }
    ImageScreen > ImagePreview {
        width: 1fr;
        height: 1fr;
    }
    ImageScreen > #image-caption {
        dock: bottom;
        width: 1fr;
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text;
    }
    """

    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("q", "close", "Back", show=False),
        Binding("f", "close", "Back", show=False),
        Binding("left", "step(-1)", "Previous"),
        Binding("right", "step(1)", "Next"),
    ]

    def __init__(self, path: Path, kit: ImageKit, *, album: Sequence[Path] = ()) -> None:
        super().__init__()
        self.path = Path(path)
        self.kit = kit
        self.album = [Path(p) for p in album] or [self.path]
        if self.path not in self.album:
            self.album.insert(0, self.path)
        self.index = self.album.index(self.path)

    def compose(self) -> ComposeResult:
        yield ImagePreview(self.kit, size="full", id="image-full")
        yield Static(self.caption, id="image-caption", markup=False)

    @property
    def caption(self) -> str:
        """The bottom line: file name (sanitised), where it is in the album, renderer, keys."""
        name = clean_text(self.path.name, limit=80)
        where = f"{self.index + 1}/{len(self.album)}  ·  ←/→  ·  " if len(self.album) > 1 else ""
        return f"{name}  ·  {where}{self.kit.graphics.mode_name}  ·  Esc/q/f: back"

    def on_mount(self) -> None:
        self.query_one(ImagePreview).show(self.path)

    def action_step(self, step: int) -> None:
        """The previous (-1) or next (+1) image; stops at either end."""
        index = self.index + step
        if not 0 <= index < len(self.album):
            self.notify("no more images that way", markup=False, timeout=2)
            return
        self.index, self.path = index, self.album[index]
        self.query_one(ImagePreview).show(self.path)
        self.query_one("#image-caption", Static).update(self.caption)

    def action_close(self) -> None:
        self.dismiss(None)
