"""The app's own messages: job news on its way to the screens, and what widgets ask for.

Small and typed. Job news (:class:`JobsUpdated`) is delivered by :class:`~tui.ui.bridge.JobFeed`
to each screen that reads it, at most once a frame, and never bubbles; it holds only the newest
event of each job, so a slow terminal never works through stale updates.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from textual.message import Message

from ..jobs.events import JobEvent

__all__ = ["CompareRequested", "DraftChanged", "JobSelected", "JobsUpdated", "OpenRecipe"]


class JobsUpdated(Message, bubble=False):
    """What the engines reported since the last frame: the newest event of each job that
    changed, in the order of their latest changes (delivered to each reader of the feed)."""

    def __init__(self, events: Sequence[JobEvent]) -> None:
        super().__init__()
        self.events = tuple(events)

    def can_replace(self, message: Message) -> bool:
        """A newer batch already waiting behind this one takes this one's news along (its own
        event wins for a job in both), so a busy screen handles one batch, not a backlog."""
        if not isinstance(message, JobsUpdated):
            return False
        newer = {event.job.id for event in message.events}
        message.events = tuple(e for e in self.events if e.job.id not in newer) + message.events
        return True


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
