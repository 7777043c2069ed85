"""The app's own messages: job news on its way to the screens, and what widgets ask for.

Small and typed. Job news (:class:`JobUpdated`) is delivered by :class:`~tui.ui.bridge.JobFeed`
to each screen that reads it and never bubbles; a flood of ticks for one job merges into the
newest (``can_replace``), so a slow terminal never works through stale updates.
"""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from ..jobs.events import JobEvent

__all__ = ["CompareRequested", "DraftChanged", "JobSelected", "JobUpdated", "OpenRecipe"]


class JobUpdated(Message, bubble=False):
    """The engine reported a change of one job (delivered to each reader of the feed)."""

    def __init__(self, event: JobEvent) -> None:
        super().__init__()
        self.event = event

    @property
    def job_id(self) -> int:
        return self.event.job.id

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, JobUpdated) and message.job_id == self.job_id


class JobSelected(Message):
    """The highlighted job in the pool changed (``None``: nothing selected)."""

    def __init__(self, job_id: int | None) -> None:
        super().__init__()
        self.job_id = job_id


class DraftChanged(Message):
    """The prompt editor's text changed; the screen saves it (debounced) as the draft."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class OpenRecipe(Message):
    """The user gave a local file path: restore the recipe embedded in it into the composer."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path


class CompareRequested(Message):
    """``c`` on a job outside the main screen (a sweep cell): mark it, or compare."""

    def __init__(self, job_id: int) -> None:
        super().__init__()
        self.job_id = job_id
