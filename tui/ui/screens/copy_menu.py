"""A small menu of what to copy for a job (:mod:`tui.ui.commands.copy` builds the texts).

Dismissed with the chosen text; the command sends it with ``App.copy_to_clipboard`` (OSC 52, so
it works over SSH). Menu labels are plain content, never markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from ...trust.sanitize import clean_text

__all__ = ["CopyChoice", "CopyMenu"]


@dataclass(frozen=True, slots=True)
class CopyChoice:
    """One entry of the copy menu: a stable key, what it is, and the text it copies."""

    key: str
    label: str
    text: str


class CopyMenu(ModalScreen[str | None]):
    """Pick what to copy; dismisses with the chosen text (None on escape)."""

    DEFAULT_CSS = """
    CopyMenu { align: center middle; }
    CopyMenu > Vertical {
        width: 80%; max-width: 100; height: auto; max-height: 80%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    CopyMenu #copy-title { width: 1fr; margin-bottom: 1; }
    CopyMenu OptionList { height: auto; max-height: 14; }
    """

    BINDINGS = [Binding("escape,q", "close", "Back")]

    def __init__(self, choices: list[CopyChoice], *, title: str = "Copy to clipboard") -> None:
        super().__init__()
        self.choices = list(choices)
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="copy-title", markup=False)
            options = [
                Option(Content(f"{c.label}: {clean_text(c.text, limit=70)}"), id=c.key)
                for c in self.choices
            ]
            yield OptionList(*options, id="copy-options")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        chosen = next(c for c in self.choices if c.key == event.option.id)
        self.dismiss(chosen.text)

    def action_close(self) -> None:
        self.dismiss(None)
