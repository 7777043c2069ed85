"""The job pool: every job as a live card; only the card that changed is redrawn."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, ListView

from ..jobs.events import JobEvent
from ..messages import JobSelected
from .job_card import JobCard

__all__ = ["JobPool"]


class JobList(ListView):
    """The scrolling list of cards (keyboard: ↑/↓, Enter opens the image)."""


class JobPool(Vertical):
    """Holds one :class:`JobCard` per job, newest first. The app feeds it events and ticks."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._cards: dict[int, JobCard] = {}
        self.run_estimate: float | None = None
        """Typical seconds a job spends running, from past jobs (None: no history yet)."""

    def compose(self) -> ComposeResult:
        yield Label("Jobs", id="pool-title")
        yield JobList(id="job-list", initial_index=None)
        yield Label("No jobs yet — write a prompt and press ctrl+j.", id="pool-empty")

    # ------------------------------------------------------------------ feeding

    def load(self, events: Iterable[JobEvent], *, now: float) -> None:
        """Show jobs from history (newest first) in one mount."""
        cards = [JobCard(event, received=now) for event in events if event.job.id not in self._cards]
        for card in cards:
            self._cards[card.job_id] = card
        if cards:
            self.query_one(JobList).extend(cards)
        self._recount()

    def apply(self, event: JobEvent, *, now: float) -> None:
        """Update the one card this event is about, or add it at the top."""
        card = self._cards.get(event.job.id)
        if card is not None:
            card.apply(event, now=now, estimate=self.run_estimate)
        else:
            self._add(JobCard(event, received=now))
        self._recount()

    def tick(self, now: float) -> None:
        """Advance elapsed times and countdowns of active jobs only."""
        for card in self._cards.values():
            if card.event.job.state.is_active:
                card.refresh_card(now, self.run_estimate)

    def set_note(self, job_id: int, text: str | None, *, now: float) -> None:
        """A plain note shown on the job's card (a cancel outcome, a follow failure)."""
        card = self._cards.get(job_id)
        if card is not None:
            card.note = text
            card.refresh_card(now, self.run_estimate)

    def _add(self, card: JobCard) -> None:
        view = self.query_one(JobList)
        highlighted = view.index
        self._cards[card.job_id] = card
        view.insert(0, [card])
        if highlighted is not None:
            view.index = highlighted + 1

    # ------------------------------------------------------------------ reading

    def event_for(self, job_id: int) -> JobEvent | None:
        card = self._cards.get(job_id)
        return None if card is None else card.event

    @property
    def selected_job_id(self) -> int | None:
        child = self.query_one(JobList).highlighted_child
        return child.job_id if isinstance(child, JobCard) else None

    def select(self, job_id: int) -> None:
        view = self.query_one(JobList)
        card = self._cards.get(job_id)
        if card is not None and card in view.children:
            view.index = view.children.index(card)

    def most_recent_active(self) -> int | None:
        active = [job_id for job_id, card in self._cards.items() if card.event.job.state.is_active]
        return max(active) if active else None

    def active_ids(self) -> list[int]:
        return [job_id for job_id, card in self._cards.items() if card.event.job.state.is_active]

    # ------------------------------------------------------------------ reacting

    def on_list_view_highlighted(self, event: ListView.Highlighted) -> None:
        event.stop()
        item = event.item
        self.post_message(JobSelected(item.job_id if isinstance(item, JobCard) else None))

    def _recount(self) -> None:
        active = len(self.active_ids())
        total = len(self._cards)
        title = f"Jobs · {total}" + (f" · {active} active" if active else "")
        self.query_one("#pool-title", Label).update(title)
        self.set_class(total == 0, "-empty")
