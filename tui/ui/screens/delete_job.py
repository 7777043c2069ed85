"""Asking before a job is forgotten: its row goes, its image files only when ticked."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label

from ...models import Job
from ...trust.sanitize import clean_text

__all__ = ["DeleteJobScreen"]


class DeleteJobScreen(ModalScreen[tuple[bool, bool]]):
    """Confirm forgetting a job; its image files go too only if the checkbox is ticked.

    Dismisses with ``(delete_row, delete_files)``.
    """

    DEFAULT_CSS = """
    DeleteJobScreen { align: center middle; }
    DeleteJobScreen > Vertical {
        width: 80%; max-width: 80; height: auto;
        border: thick $error; background: $surface; padding: 0 1;
    }
    DeleteJobScreen #delete-text { width: 1fr; margin-bottom: 1; }
    DeleteJobScreen Horizontal { width: auto; height: auto; margin-top: 1; }
    DeleteJobScreen Button { margin-right: 2; }
    """

    BINDINGS = [Binding("n,escape,q", "keep", "Keep")]

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job

    def compose(self) -> ComposeResult:
        prompt = clean_text(self.job.request.prompt, limit=60)
        files = len(self.job.files)
        with Vertical():
            yield Label(
                f"Forget job #{self.job.id} ({prompt}) from the history?",
                id="delete-text",
                markup=False,
            )
            noun = "file" if files == 1 else "files"
            yield Checkbox(
                f"also delete its image {noun} from disk ({files})",
                value=False,
                id="delete-files",
                disabled=not files,
            )
            with Horizontal():
                yield Button("Delete", id="delete", variant="error")
                yield Button("Keep (n)", id="keep", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "delete":
            self.dismiss((True, self.query_one("#delete-files", Checkbox).value))
        else:
            self.dismiss((False, False))

    def action_keep(self) -> None:
        self.dismiss((False, False))
