"""A small modal asking for an image path whose embedded recipe goes into the composer."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

__all__ = ["OpenRecipeScreen"]


class OpenRecipeScreen(ModalScreen[Path | None]):
    """Type or paste a path (``~`` works); Enter opens it, Escape goes back."""

    DEFAULT_CSS = """
    OpenRecipeScreen { align: center middle; }
    OpenRecipeScreen > Vertical {
        width: 80%; max-width: 90; height: auto;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    OpenRecipeScreen #recipe-title { width: 1fr; margin-bottom: 1; }
    """

    BINDINGS = [Binding("escape", "close", "Back")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                "Open image recipe: the path of a PNG this app saved "
                "(its prompt, size and references go into the composer)",
                id="recipe-title",
            )
            yield Input(placeholder="~/Pictures/gpt-image/….png", id="recipe-path")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip().strip("'\"")
        self.dismiss(Path(text).expanduser() if text else None)

    def action_close(self) -> None:
        self.dismiss(None)
