"""A small yes/no modal: quitting with jobs in flight (they are resumed next time)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

__all__ = ["ConfirmQuit", "quit_question"]


def quit_question(in_flight: int) -> str:
    noun = "job" if in_flight == 1 else "jobs"
    return f"{in_flight} {noun} in flight will be resumed next time — quit?"


class ConfirmQuit(ModalScreen[bool]):
    """Asks before quitting with jobs in flight; nothing is cancelled either way."""

    DEFAULT_CSS = """
    ConfirmQuit { align: center middle; }
    ConfirmQuit > Vertical {
        width: auto; max-width: 70; height: auto;
        border: thick $warning; background: $surface; padding: 1 2;
    }
    ConfirmQuit #confirm-text { width: auto; margin-bottom: 1; }
    ConfirmQuit Horizontal { width: auto; height: auto; }
    ConfirmQuit Button { margin-right: 2; }
    """

    BINDINGS = [
        Binding("y,ctrl+q", "answer(True)", "Quit"),
        Binding("n,escape", "answer(False)", "Stay"),
    ]

    def __init__(self, in_flight: int, *, question: str | None = None) -> None:
        super().__init__()
        self.in_flight = in_flight
        self.question = question or quit_question(in_flight)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, id="confirm-text", markup=False)
            with Horizontal():
                yield Button("Quit (y)", id="quit", variant="warning")
                yield Button("Stay (n)", id="stay", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#stay", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "quit")

    def action_answer(self, quit_now: bool) -> None:
        self.dismiss(quit_now)
