"""The selected job in full: prompt, size, endpoint, references, request id, timings, files."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from ...api.catalog import format_usd
from ...jobs.events import JobEvent
from ...models import SIZE_LABELS, Job, JobState
from ...trust.sanitize import clean_text
from .job_card import badge_text, format_elapsed
from .preview import ImagePreview

if TYPE_CHECKING:
    from textual.css.styles import RulesMap

__all__ = ["JobDetails", "describe_job", "no_image_reason"]


def _when(stamp: float | None) -> str:
    return "—" if stamp is None else time.strftime("%H:%M:%S", time.localtime(stamp))


def describe_job(event: JobEvent, label: str | None = None) -> Content:
    """Every detail of a job as plain content (untrusted parts sanitised, never parsed as markup).

    The most useful lines come first (the panel shows only a few above a finished image; the
    rest scrolls): state and size, how it differs (``label``, what its card says, uncut), the
    error, the prompt, the request id and the saved file.
    """
    job: Job = event.job
    request = job.request
    head = [
        f"#{job.id}",
        badge_text(job.state) + (" (resumed)" if job.resumed else ""),
        SIZE_LABELS.get(request.size, request.size),
        format_elapsed(event.elapsed),
    ]
    if job.parent_id is not None:
        head.append(f"child of #{job.parent_id}")
    if job.sweep_label:
        head.append("sweep: " + job.sweep_label)
    if job.starred:
        head.insert(0, "★")
    rows: list[tuple[str, str]] = []
    if label and (job.sweep_label or job.parent_id is not None) and label != request.prompt:
        rows.append(("alternative" if job.sweep_label else "change", label))
    if job.error:
        rows.append(("error" if job.state is not JobState.COMPLETED else "note", job.error))
    if event.message and event.message != job.error:
        rows.append(("status", event.message))
    reason = no_image_reason(job)
    if reason:
        rows.append(("image", reason))
    rows.append(("prompt", request.prompt))
    rows.append(("request id", job.request_id or "— (not sent yet)"))
    if job.price_usd is not None:
        unit = f"/{job.price_unit}" if job.price_unit else " (no unit given)"
        where = "offline, nothing billed" if job.price_source == "offline" else "catalog, at submit"
        rows.append(("price", f"{format_usd(job.price_usd)}{unit} ({where})"))
    for path in job.files:
        rows.append(("saved", _middle(Path(path).name, 44)))  # full path: folder line, `y`
    for position, url in enumerate(request.images, start=1):
        role = "image 1 (primary)" if position == 1 else f"image {position}"
        rows.append((role, url))
    rows.append(("size", f"{request.size} → {request.endpoint.model_id}"))
    for folder in dict.fromkeys(str(Path(path).parent) for path in job.files):
        rows.append(("folder", folder))
    rows.append(
        ("times", f"created {_when(job.created_at)} · sent {_when(job.submitted_at)} · "
                  f"started {_when(job.started_at)} · done {_when(job.finished_at)}")
    )
    parts: list[Content | tuple[str, str] | str] = [
        (clean_text(" · ".join(head), limit=200), "bold")
    ]
    for label, value in rows:
        parts.append(("\n" + label + ": ", "bold"))
        keep = label == "prompt"
        parts.append(Content(clean_text(value, keep_newlines=keep, limit=4000 if keep else 1000)))
    return Content.assemble(*parts)


_NO_IMAGE = {
    JobState.PENDING: "none yet — not sent yet",
    JobState.SUBMITTING: "none yet — being sent",
    JobState.QUEUED: "none yet — waiting in the server's queue",
    JobState.RUNNING: "none yet — being made",
    JobState.DOWNLOADING: "none yet — downloading",
    JobState.STALLED: "none yet — lost contact with the server (the job is resumable)",
    JobState.CANCELLED: "none — the job was cancelled before it made one",
    JobState.NOT_SENT: "none — the job was never sent",
    JobState.FAILED: "none — the job failed (the error says why)",
    JobState.UNKNOWN: "none — the submit's outcome is unknown (it may have run)",
}


def no_image_reason(job: Job) -> str | None:
    """Why ``job`` shows no image (None: it has one on disk)."""
    if job.state is JobState.COMPLETED:
        if any(Path(name).is_file() for name in job.files):
            return None
        return "gone — the saved file was moved or deleted" if job.files else "none was returned"
    return _NO_IMAGE.get(job.state, "none")


class JobDetails(Vertical):
    """Details text on top, the inline image (when finished) below.

    ``preview_factory`` builds the image widget (an :class:`ImagePreview` drawing with the
    app's :class:`~tui.ui.imaging.ImageKit`); without one only the text is shown.
    """

    def __init__(
        self, *, preview_factory: Callable[[], ImagePreview] | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._preview_factory = preview_factory
        self.job_id: int | None = None
        self._label: str | None = None
        self._text: Content | None = None  # what the text shows

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="details-scroll"):
            yield Static(Content("Select a job to see its details."), id="details-text")
        if self._preview_factory is not None:
            yield self._preview_factory()

    def show(self, event: JobEvent | None, *, label: str | None = None) -> None:
        """Show ``event``'s job (None: nothing selected); ``label``: how it differs, as its card
        says it (kept while the same job is shown again without one)."""
        if event is None:
            self.job_id = None
            self._put_text(Content("Select a job to see its details."))
            self._show_image(None)
            return
        if label is not None or event.job.id != self.job_id:
            self._label = label
        self.job_id = event.job.id
        self._put_text(describe_job(event, self._label))
        files = [Path(name) for name in event.job.files if Path(name).is_file()]
        self._show_image(files[0] if event.job.state is JobState.COMPLETED and files else None)
        self.set_class(bool(files), "-has-image")

    def _put_text(self, content: Content) -> None:
        """Show ``content``; lay the screen out again only if it takes another number of lines.

        The job pool shows the selected job again with each of its news (its elapsed time
        ticks in the first line): a layout of the whole screen each time, 20–60 ms with a sweep
        in the list, for text that mostly fills the lines it filled.
        """
        if self._text is not None and content == self._text:
            return
        text = self.query_one("#details-text", Static)
        width = text.content_region.width
        rules = cast("RulesMap", text.styles)  # what Widget.get_content_height passes too
        same_height = (
            self._text is not None
            and width > 0
            and content.get_height(rules, width) == self._text.get_height(rules, width)
        )
        self._text = content
        text.update(content, layout=not same_height)

    def _show_image(self, path: Path | None) -> None:
        for preview in self.query(ImagePreview):
            preview.show(path)


def _middle(text: str, limit: int) -> str:
    """``text`` cut in the middle to ``limit`` characters, keeping its start and its end
    (a file name's date, request-id prefix and extension), so it fits on one line."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return text[:head] + "…" + text[len(text) - (limit - 1 - head) :]
