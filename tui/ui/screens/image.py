"""A full-screen view of one image, fitted to the window with its aspect ratio kept."""

from __future__ import annotations

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
    ]

    def __init__(self, path: Path, kit: ImageKit) -> None:
        super().__init__()
        self.path = Path(path)
        self.kit = kit

    def compose(self) -> ComposeResult:
        yield ImagePreview(self.kit, size="full", id="image-full")
        yield Static(self.caption, id="image-caption", markup=False)

    @property
    def caption(self) -> str:
        """The bottom line: file name (sanitised), renderer, and how to leave."""
        name = clean_text(self.path.name, limit=80)
        return f"{name}  ·  {self.kit.graphics.mode_name}  ·  Esc/q/f: back"

    def on_mount(self) -> None:
        self.query_one(ImagePreview).show(self.path)

    def action_close(self) -> None:
        self.dismiss(None)
