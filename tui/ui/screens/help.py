"""The help screen: every key, the backend, and how images are drawn (mode, colours) and why."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["HelpScreen", "help_content"]


def help_content(
    keys: Sequence[tuple[str, str]],
    *,
    backend: str,
    graphics: str,
    signin: str | None,
    width: int | None = None,
) -> Content:
    """The help text as plain content (no markup is parsed). With ``width`` (the columns the
    text has) each description wraps under itself, not under its key."""
    column = max((len(key) for key, _ in keys), default=8) + 2
    parts: list[Content | tuple[str, str] | str] = [("Keys\n", "bold")]
    room = (width - column - 2) if width else 0
    for key, description in keys:
        if not key:  # a heading between groups of keys
            parts.append((f"\n  {description}\n", "italic"))
            continue
        parts.append((f"  {key.ljust(column)}", "bold"))
        lines = textwrap.wrap(description, room) if room >= 20 else [description]
        parts.append(("\n" + " " * (column + 2)).join(lines) + "\n")
    parts.append(("\nBackend\n", "bold"))
    parts.append(Content(f"  {backend}\n"))
    if signin:
        parts.append(Content(signin + "\n"))
    parts.append(("\nImages\n", "bold"))
    parts.extend(Content(f"  {line}\n") for line in graphics.splitlines())
    parts.append(
        "\nThe mouse works too: click a job to select it, click a reference to pick it.\n"
        "Every command is also in the command palette (ctrl+p)."
    )
    return Content.assemble(*parts)


class HelpScreen(ModalScreen[None]):
    """Plain, scrollable help; Escape, F1, ? or q closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 96; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    """

    BINDINGS = [Binding("escape,f1,question_mark,q", "dismiss", "Close")]

    def __init__(self, content: Content) -> None:
        super().__init__()
        self._content = content

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self._content, id="help-text")
