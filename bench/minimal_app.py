"""The baseline of the benchmarks: the smallest Textual app like this one — Header, TextArea, Footer.

Run as ``python -m bench.minimal_app``; it shows ``MINIMAL READY`` in a focused text area (so it
blinks a cursor and takes keys, as the app's prompt editor does) and quits on ctrl+q.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, TextArea

READY_TEXT = "MINIMAL READY"


class MinimalApp(App[None]):
    """The cost of Textual itself, for the same-run ratios."""

    TITLE = "minimal"

    def compose(self) -> ComposeResult:
        yield Header()
        yield TextArea(READY_TEXT, id="editor")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()


if __name__ == "__main__":
    MinimalApp().run()
