"""App-wide Textual messages: engine events on their way to the job pool, selection changes."""

from __future__ import annotations

from textual.message import Message

from .jobs.events import JobEvent

__all__ = ["DraftChanged", "JobSelected", "JobUpdated"]


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
