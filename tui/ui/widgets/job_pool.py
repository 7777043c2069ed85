"""The job pool: every job as a live card; only the parts of a card that changed are redrawn.

Cost stays flat as the pool grows: an event touches one card; the clock tick and the animation
of indeterminate bars (one timer for the whole pool, off when animations are) touch only the
cards in view; the pool keeps at most ``MAX_CARDS`` cards, dropping the oldest finished ones
first. Until its first rows are loaded (read off the UI loop) events are kept, not shown, so
the cards stay in order, newest first.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Label, ListView

from ...jobs.events import JobEvent
from ...models import JobState
from ..messages import JobSelected
from .job_card import JobCard

__all__ = ["MAX_CARDS", "JobList", "JobPool"]

MAX_CARDS = 500
"""Cards kept at most; past this the oldest finished jobs leave the pool (history keeps them)."""
BAR_FRAME_SECONDS = 0.25  # seconds per frame of the indeterminate bars in view


class JobList(ListView):
    """The scrolling list of cards (keyboard: ↑/↓, Enter opens the image)."""

    class Scrolled(Message):
        """Other cards came into view: the pool draws the ones holding undrawn news."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, JobList.Scrolled)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self.post_message(self.Scrolled())


class JobPool(Vertical):
    """Holds one :class:`JobCard` per job, newest first. The app feeds it events and ticks."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._cards: dict[int, JobCard] = {}
        self._run_estimate: float | None = None
        self._now: float | None = None
        self._frame = 0
        self._title = ""
        self._view_key: tuple[int, int, int, int | None] | None = None
        self._view_cards: list[JobCard] = []
        self._durations: list[float] = []  # seconds recent jobs spent running
        self._loaded = False
        self._early: dict[int, JobEvent] = {}  # events that came before the first rows
        self._select_when_loaded: int | None = None

    @property
    def run_estimate(self) -> float | None:
        """Typical seconds a job spends running, from past jobs (None: no history yet)."""
        return self._run_estimate

    @run_estimate.setter
    def run_estimate(self, value: float | None) -> None:
        if value == self._run_estimate:
            return
        self._run_estimate = value
        if self._now is not None:
            in_view = set(self._cards_in_view())
            for card in self._cards.values():
                if card.event.job.state.is_active:
                    card.refresh_card(self._now, value, draw=card in in_view)

    def compose(self) -> ComposeResult:
        yield Label("Jobs", id="pool-title")
        yield JobList(id="job-list", initial_index=None)
        yield Label("No jobs yet — write a prompt and press ctrl+j.", id="pool-empty")

    def on_mount(self) -> None:
        self._recount()
        if self.app.animation_level != "none":
            self.set_interval(BAR_FRAME_SECONDS, self._animate_bars, name="job-bars")

    # ------------------------------------------------------------------ feeding

    def load(
        self, events: Iterable[JobEvent], *, now: float, durations: Iterable[float] = ()
    ) -> None:
        """Show jobs from history (newest first) in one mount; then what came meanwhile.

        ``durations``: how long recent jobs ran, for the estimate of running ones.
        """
        self._now = now
        self._durations = list(durations)
        self.run_estimate = self._median()
        self._loaded = True
        cards = [
            self._card(event, now)
            for event in events
            if event.job.id not in self._cards
        ][: max(0, MAX_CARDS - len(self._cards))]
        for card in cards:
            self._cards[card.job_id] = card
        if cards:
            self.query_one(JobList).extend(cards)
        early, self._early = self._early, {}
        for event in early.values():
            self.apply(event, now=now)
        self._recount()
        if self._select_when_loaded is not None:
            self.select(self._select_when_loaded)

    def apply(self, event: JobEvent, *, now: float) -> None:
        """Update the one card this event is about, or add it at the top."""
        self._now = now
        card = self._cards.get(event.job.id)
        if card is None and not self._loaded:
            self._early[event.job.id] = event
            return
        job = event.job
        finished = card is None or card.event.job.state is not JobState.COMPLETED
        if finished and job.state is JobState.COMPLETED and job.started_at and job.finished_at:
            self._durations.append(job.finished_at - job.started_at)
            self.run_estimate = self._median()
        if card is not None:
            was_active = card.event.job.state.is_active
            card.apply(event, now=now, estimate=self._run_estimate, draw=self._in_view(card))
            if was_active is not event.job.state.is_active:
                self._recount()
        else:
            self._add(self._card(event, now))
            self._recount()

    def apply_many(self, events: Iterable[JobEvent], *, now: float) -> None:
        """:meth:`apply` each event; the cards of new jobs are mounted together, newest first."""
        new: dict[int, JobEvent] = {}
        for event in events:
            if event.job.id in self._cards or not self._loaded:
                self.apply(event, now=now)
            else:
                new[event.job.id] = event
        if not new:
            return
        self._now = now
        for event in new.values():
            job = event.job
            if job.state is JobState.COMPLETED and job.started_at and job.finished_at:
                self._durations.append(job.finished_at - job.started_at)
                self.run_estimate = self._median()
        self._add(*(self._card(new[job_id], now) for job_id in sorted(new, reverse=True)))
        self._recount()

    def _median(self) -> float | None:
        recent = self._durations[-50:]
        return statistics.median(recent) if recent else None

    def tick(self, now: float) -> None:
        """Advance elapsed times, countdowns and estimates of the active jobs in view."""
        self._now = now
        for card in self._cards_in_view():
            if card.event.job.state.is_active:
                card.refresh_card(now, self._run_estimate)
            else:
                card.draw_if_stale()

    def set_note(self, job_id: int, text: str | None, *, now: float) -> None:
        """A plain note shown on the job's card (a cancel outcome, a follow failure)."""
        self._now = now
        card = self._cards.get(job_id)
        if card is not None:
            card.now = now
            card.set_note(text, draw=self._in_view(card))

    def _card(self, event: JobEvent, now: float) -> JobCard:
        card = JobCard(event, received=now, estimate=self._run_estimate)
        if self.app.animation_level != "none":
            card.frame = self._frame
        return card

    def _add(self, *cards: JobCard) -> None:
        """New cards at the top, in one mount (given newest first)."""
        view = self.query_one(JobList)
        highlighted = view.index
        for card in cards:
            self._cards[card.job_id] = card
        view.insert(0, cards)
        if highlighted is not None:
            view.index = highlighted + len(cards)
        if len(self._cards) > MAX_CARDS:
            self._drop_oldest_finished(view)

    def _drop_oldest_finished(self, view: JobList) -> None:
        """Keep the pool bounded: the oldest finished cards go (their jobs stay in history)."""
        excess = len(self._cards) - MAX_CARDS
        selected = self.selected_job_id
        finished = sorted(
            job_id
            for job_id, card in self._cards.items()
            if not card.event.job.state.is_active and job_id != selected
        )
        for job_id in finished[:excess]:
            self._cards.pop(job_id).remove()

    # ------------------------------------------------------------------ the bars

    def _animate_bars(self) -> None:
        """One frame of every indeterminate bar in view; cards out of view are not touched."""
        self._frame += 1
        for card in self._cards_in_view():
            if card.is_indeterminate:
                card.set_frame(self._frame)

    def on_job_list_scrolled(self, message: JobList.Scrolled) -> None:
        message.stop()
        for card in self._cards_in_view():
            card.draw_if_stale()

    def _in_view(self, card: JobCard) -> bool:
        return card in self._cards_in_view()

    def _cards_in_view(self) -> list[JobCard]:
        """The cards the list shows now (or may show before its first layout).

        Plain arithmetic on sizes the last layout left behind (cards are one fixed height): no
        screen lookups, which cost a rebuild of the compositor's map after every layout.
        """
        view = self.query_one(JobList)
        key = (round(view.scroll_y), view.outer_size.height, len(view.children), view.index)
        if key == self._view_key:
            return self._view_cards
        cards = [child for child in view.children if isinstance(child, JobCard)]
        height = next((card.outer_size.height for card in cards if card.outer_size.height), 2)
        if view.outer_size.height == 0:
            shown = cards  # not laid out yet: drawing now is cheap and keeps nothing stale
        else:
            first = max(0, round(view.scroll_y) // height)
            shown = cards[first : first + view.outer_size.height // height + 2]
        self._view_key, self._view_cards = key, shown
        return shown

    # ------------------------------------------------------------------ reading

    def event_for(self, job_id: int) -> JobEvent | None:
        """The job as the pool has it (also one kept until the first rows are loaded)."""
        card = self._cards.get(job_id)
        return self._early.get(job_id) if card is None else card.event

    @property
    def selected_job_id(self) -> int | None:
        child = self.query_one(JobList).highlighted_child
        return child.job_id if isinstance(child, JobCard) else None

    def job_ids(self) -> list[int]:
        """Every job with a card."""
        return list(self._cards)

    def select(self, job_id: int) -> None:
        if not self._loaded:
            self._select_when_loaded = job_id
            return
        view = self.query_one(JobList)
        card = self._cards.get(job_id)
        if card is not None and card in view.children:
            view.index = view.children.index(card)

    def most_recent_active(self) -> int | None:
        active = self.active_ids()
        return max(active) if active else None

    def active_ids(self) -> list[int]:
        return [job_id for job_id, card in self._cards.items() if card.event.job.state.is_active]

    # ------------------------------------------------------------------ reacting

    def on_list_view_highlighted(self, event: ListView.Highlighted) -> None:
        event.stop()
        item = event.item
        self.post_message(JobSelected(item.job_id if isinstance(item, JobCard) else None))

    def _recount(self) -> None:
        """The title line (one fixed-height line: never a layout) and the empty state."""
        active = len(self.active_ids())
        total = len(self._cards)
        title = f"Jobs · {total}" + (f" · {active} active" if active else "")
        if title != self._title:
            self._title = title
            self.query_one("#pool-title", Label).update(title, layout=False)
        empty = self._loaded and total == 0
        if self.has_class("-empty") is not empty:
            self.set_class(empty, "-empty")
