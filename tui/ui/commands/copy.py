"""What "copy" puts on the clipboard for a job: pure functions, one text per choice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ...iterate.recipe import Recipe, runcomfy_command
from ...models import Job
from ...trust.sanitize import clean_text

if TYPE_CHECKING:
    from ..screens.copy_menu import CopyChoice

__all__ = [
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


def copy_choices(job: Job, *, output_dir: Path | None = None) -> list[CopyChoice]:
    """Everything worth copying for ``job``, in menu order; absent values are left out."""
    from ..screens.copy_menu import CopyChoice  # loaded when the menu is first opened

    entries = [
        ("path", "image path", image_path_text(job)),
        ("url", "output URL", output_url_text(job)),
        ("request_id", "request id", request_id_text(job)),
        ("prompt", "prompt", prompt_text(job)),
        ("command", "runcomfy command", command_text(job, output_dir=output_dir)),
    ]
    return [CopyChoice(key, label, text) for key, label, text in entries if text]
