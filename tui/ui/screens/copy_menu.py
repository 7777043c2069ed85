"""What "copy" puts on the clipboard for a job, and a small menu to choose it.

The texts are built by pure functions; the app sends the chosen one with
``App.copy_to_clipboard`` (OSC 52, so it works over SSH) and says so with
``notify(..., markup=False)``. Menu labels are plain content, never markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from ...iterate.recipe import Recipe, runcomfy_command
from ...models import Job
from ...trust.sanitize import clean_text

__all__ = [
    "CopyChoice",
    "CopyMenu",
    "command_text",
    "copy_choices",
    "image_path_text",
    "output_url_text",
    "prompt_text",
    "request_id_text",
]


def image_path_text(job: Job) -> str | None:
    """The first saved image's absolute path, or None."""
    return clean_text(job.files[0]) if job.files else None


def output_url_text(job: Job) -> str | None:
    """The first output URL the result listed, or None."""
    return clean_text(job.output_urls[0]) if job.output_urls else None


def request_id_text(job: Job) -> str | None:
    return clean_text(job.request_id) if job.request_id else None


def prompt_text(job: Job) -> str:
    """The prompt, newlines kept, control and escape sequences removed."""
    return clean_text(job.request.prompt, keep_newlines=True)


def command_text(job: Job, *, output_dir: Path | None = None) -> str:
    """The official CLI command (``runcomfy run …``) that sends the same request."""
    recipe = Recipe.for_request(
        job.request,
        job.request_id or "",
        created_at=datetime.fromtimestamp(job.created_at, UTC),
    )
    return runcomfy_command(recipe, output_dir=output_dir)


@dataclass(frozen=True, slots=True)
class CopyChoice:
    """One entry of the copy menu: a stable key, what it is, and the text it copies."""

    key: str
    label: str
    text: str


def copy_choices(job: Job, *, output_dir: Path | None = None) -> list[CopyChoice]:
    """Everything worth copying for ``job``, in menu order; absent values are left out."""
    entries = [
        ("path", "image path", image_path_text(job)),
        ("url", "output URL", output_url_text(job)),
        ("request_id", "request id", request_id_text(job)),
        ("prompt", "prompt", prompt_text(job)),
        ("command", "runcomfy command", command_text(job, output_dir=output_dir)),
    ]
    return [CopyChoice(key, label, text) for key, label, text in entries if text]


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
