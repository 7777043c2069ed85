"""The baseline for ``bench/startup.py``: the smallest Textual app that draws one known line.

Run as ``python bench/minimal_app.py`` (or ``python -m bench.minimal_app``); it shows ``MINIMAL READY`` and quits on ``q``.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

READY_TEXT = "MINIMAL READY"


class MinimalApp(App[None]):
    """A header, one line of text, a footer — the cost of Textual itself."""

    BINDINGS = [("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(READY_TEXT)
        yield Footer()


if __name__ == "__main__":
    MinimalApp().run()
