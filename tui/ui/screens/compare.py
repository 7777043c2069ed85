"""Two jobs side by side with their prompt diff under them, or flipped in one box.

Flip mode (space or f) shows one image at a time in the same box and alternates between the two
on each press, which shows small changes better than two boxes; Escape leaves flip mode.
Works with every renderer, half-cell included.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Static

from ...models import Job
from ...trust.sanitize import clean_text
from ..imaging import ImageKit
from ..widgets.footer import SteadyFooter
from ..widgets.preview import ImagePreview
from ..widgets.prompt_diff import PromptDiff

__all__ = ["CompareScreen", "job_caption"]


def job_caption(tag: str, job: Job) -> str:
    """``A · #12 · completed · +golden hour`` style caption, plain."""
    label = job.sweep_label or job.request.prompt
    return clean_text(f"{tag} · #{job.id} · {job.state.value} · {label}", limit=90)


class CompareScreen(Screen[None]):
    """``left`` (A) and ``right`` (B); the diff reads as "from A to B"."""

    CSS_PATH = "compare.tcss"

    BINDINGS = [
        Binding("space,f", "flip", "Flip"),
        Binding("escape", "back", "Back"),
        Binding("q", "close", "Close", show=False),
    ]

    flipping: var[bool] = var(False)
    """Flip mode: one box, one image at a time."""
    shown: var[Job | None] = var(None)
    """In flip mode: the job in the box."""

    def __init__(self, left: Job, right: Job, kit: ImageKit) -> None:
        super().__init__()
        self.left = left
        self.right = right
        self.kit = kit

    def compose(self) -> ComposeResult:
        with Horizontal(id="compare-panes"):
            for tag, side, job in (("A", "left", self.left), ("B", "right", self.right)):
                with Vertical(id=f"pane-{side}", classes="compare-pane"):
                    yield Static(Text(job_caption(tag, job)), classes="compare-caption")
                    yield ImagePreview(self.kit, id=f"image-{side}")
        yield Static(id="compare-mode")
        diff = PromptDiff(self.left.request, fold=True, id="compare-diff")
        diff.update_current(self.right.request)
        yield diff
        yield SteadyFooter()

    def on_mount(self) -> None:
        for side, job in (("left", self.left), ("right", self.right)):
            path = Path(job.files[0]) if job.files else None
            self.query_one(f"#image-{side}", ImagePreview).show(path)
        self._update_mode()

    @property
    def shown_job_id(self) -> int | None:
        """The job in the box while flipping; None side by side."""
        return self.shown.id if self.flipping and self.shown else None

    def action_flip(self) -> None:
        """Enter flip mode showing A, then alternate A ↔ B on each press."""
        if not self.flipping:
            self.shown, self.flipping = self.left, True
        else:
            self.shown = self.right if self.shown is self.left else self.left

    def action_back(self) -> None:
        """Leave flip mode; side by side already, close the screen."""
        if self.flipping:
            self.shown, self.flipping = None, False
        else:
            self.dismiss(None)

    def watch_flipping(self) -> None:
        self._update_mode()

    def watch_shown(self) -> None:
        self._update_mode()

    def action_close(self) -> None:
        self.dismiss(None)

    def _update_mode(self) -> None:
        showing_left = self.flipping and self.shown is self.left
        self.set_class(self.flipping, "-flip")
        self.set_class(showing_left, "-show-left")
        self.set_class(self.flipping and not showing_left, "-show-right")
        if self.flipping:
            tag = "A" if showing_left else "B"
            text = f"flip: showing {tag} (#{self.shown.id if self.shown else '?'}) · space/f: other · Esc: side by side"
        else:
            text = "side by side · space/f: flip in one box · Esc: back"
        self.query_one("#compare-mode", Static).update(Text(text))
