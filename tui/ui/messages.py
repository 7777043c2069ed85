"""App-wide Textual messages: engine events on their way to the job pool, selection changes."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from ..jobs.events import JobEvent

__all__ = ["CompareRequested", "DraftChanged", "JobSelected", "JobUpdated", "OpenRecipe"]


class JobUpdated(Message):
    """The engine reported a change of one job.

    A flood of progress ticks for the same job merges into the newest one (``can_replace``), so a
    slow terminal never works through stale updates.
    """

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
    """The prompt editor's text changed; the app saves it (debounced) as the draft."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class OpenRecipe(Message):
    """The user gave a local file path: restore the recipe embedded in it into the composer."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path


class CompareRequested(Message):
    """``c`` on a job outside the main screen (e.g. a sweep cell): mark it, or compare."""

    def __init__(self, job_id: int) -> None:
        super().__init__()
        self.job_id = job_id
