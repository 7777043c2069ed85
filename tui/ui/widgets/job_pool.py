"""The job pool: every job of the session (and the recent past) as a live card, newest first.

Cost stays flat as the pool grows. The pool knows up to ``MAX_JOBS`` jobs (their latest events,
a few bytes each) but mounts cards only for the first ``PAGE`` it shows, and a page more as the
list nears its end (the history browser reaches every job). An event touches one card; the
clock tick touches only the cards in view; only a running job without an estimate animates its
bar (``BAR_FRAME_SECONDS``), and the animation timer runs only while such a card is in view.
A card out of view is never redrawn: it remembers what arrived and draws it when scrolled to.

A :class:`JobFilter` narrows the list (text typed after ``/``, starred jobs, one lineage, one
sweep); cards that don't match are hidden, never remounted. Until the first rows are loaded
(read off the UI loop) events are kept, not shown, so the cards stay in order.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import Resize
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Label, ListItem, ListView

from ...iterate.labels import difference_label
from ...jobs.events import JobEvent
from ...models import Job, JobState
from ...trust.sanitize import clean_text
from ..messages import JobSelected
from .job_card import JobCard

__all__ = [
    "BAR_FRAME_SECONDS",
    "MAX_JOBS",
    "PAGE",
    "JobFilter",
    "JobList",
    "JobPool",
    "ListFilterInput",
    "MoreJobs",
    "card_labels",
]

MAX_JOBS = 500
"""Jobs the pool knows at most; past this the oldest finished ones leave it (history keeps them)."""
PAGE = 30
"""Cards mounted at first, and added each time the list nears its end."""
BAR_FRAME_SECONDS = 0.5  # 2 frames a second for the bars of running jobs without an estimate


def card_labels(jobs: Iterable[Job], parents: Mapping[int, Job]) -> dict[int, str]:
    """How each job differs (see :func:`~tui.iterate.labels.difference_label`), by id.

    ``parents``: the jobs' parents that are known (the jobs themselves count too).
    """
    listed = list(jobs)
    known = {**parents, **{job.id: job for job in listed}}
    return {
        job.id: difference_label(job, known.get(job.parent_id) if job.parent_id else None)
        for job in listed
    }


@dataclass(frozen=True, slots=True)
class JobFilter:
    """What the list shows: every job, or those matching all of these."""

    text: str = ""
    """A case-insensitive part of the prompt or the card's label."""
    starred: bool = False
    lineage_of: int | None = None
    """Only the lineage (root and every descendant) of this job: ids in ``lineage``."""
    lineage: frozenset[int] = frozenset()
    sweep_id: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.text or self.starred or self.lineage_of is not None or self.sweep_id)

    def matches(self, event: JobEvent, label: str) -> bool:
        job = event.job
        if self.starred and not job.starred:
            return False
        if self.lineage_of is not None and job.id not in self.lineage:
            return False
        if self.sweep_id is not None and job.sweep_id != self.sweep_id:
            return False
        if self.text:
            needle = self.text.casefold()
            return needle in job.request.prompt.casefold() or needle in label.casefold()
        return True

    def describe(self) -> str:
        """``★ starred · lineage of #4 · “fox”`` (empty when it shows everything)."""
        parts: list[str] = []
        if self.starred:
            parts.append("★ starred")
        if self.lineage_of is not None:
            parts.append(f"lineage of #{self.lineage_of}")
        if self.sweep_id is not None:
            parts.append("one sweep")
        if self.text:
            parts.append(f"“{clean_text(self.text, limit=24)}”")
        return " · ".join(parts)


class MoreJobs(ListItem):
    """The last row while older jobs are not mounted: reaching it mounts the next page."""

    def compose(self) -> ComposeResult:
        yield Label("", id="more-jobs-text", markup=False)

    def show_count(self, count: int) -> None:
        self.display = count > 0
        self.disabled = count == 0
        if count:
            text = f"↓ {count} older job{'s' if count != 1 else ''} — move here to show them"
            self.query_one(Label).update(text, layout=False)


class JobList(ListView):
    """The scrolling list of cards: ↑/↓ or j/k move, g/G or Home/End go to the first/last job,
    Enter opens the image. The highlighted card is always scrolled into view."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g,home", "first", "First job", show=False),
        Binding("G,end", "last", "Last job", show=False),
    ]

    class Scrolled(Message):
        """Other cards came into view: the pool draws the ones holding undrawn news."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, JobList.Scrolled)

    class EndWanted(Message):
        """G / End: the pool mounts every job it knows, then goes to the last."""

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self.post_message(self.Scrolled())

    def on_resize(self, event: Resize) -> None:
        self.post_message(self.Scrolled())
        # A list made shorter (the details took the space for an image) keeps its highlight
        # in view: it was scrolled to when the list was taller.
        highlighted = self.highlighted_child
        if highlighted is not None:
            self.call_after_refresh(self.scroll_to_widget, highlighted, animate=False)

    def action_first(self) -> None:
        for index, item in enumerate(self._nodes):
            if not item.disabled:
                self.index = index
                return

    def action_last(self) -> None:
        self.post_message(self.EndWanted())

    def last_enabled(self) -> None:
        for index in range(len(self._nodes) - 1, -1, -1):
            if not self._nodes[index].disabled:
                self.index = index
                return


class ListFilterInput(Input):
    """``/`` in the job list: narrows it as you type. Enter keeps the filter and goes back to
    the list; Escape clears it and goes back."""

    BINDINGS = [Binding("escape", "leave", "Clear filter", show=False)]

    class Left(Message):
        """The user left the filter field; ``clear``: with Escape (the text is cleared)."""

        def __init__(self, clear: bool) -> None:
            super().__init__()
            self.clear = clear

    def action_leave(self) -> None:
        self.post_message(self.Left(clear=True))


class JobPool(Vertical):
    """One :class:`JobCard` per shown job, newest first. The screen feeds it events and ticks."""

    class FilterChanged(Message):
        """The list's filter changed (the screen may say so)."""

        def __init__(self, job_filter: JobFilter) -> None:
            super().__init__()
            self.filter = job_filter

    def __init__(self, *, id: str | None = None, page: int = PAGE) -> None:
        super().__init__(id=id)
        self.page = page
        self._events: dict[int, JobEvent] = {}
        self._received: dict[int, float] = {}
        self._labels: dict[int, str] = {}
        self._notes: dict[int, str | None] = {}
        self._cards: dict[int, JobCard] = {}
        self._filter = JobFilter()
        self._run_estimate: float | None = None
        self._now: float | None = None
        self._frame = 0
        self._title = ""
        self._layout_version = 0  # bumped when cards are mounted, removed, hidden or shown
        self._view_key: tuple[int, int, int, int] | None = None
        self._view_cards: list[JobCard] = []
        self._durations: list[float] = []  # seconds recent jobs spent running
        self._loaded = False
        self._early: dict[int, JobEvent] = {}  # events that came before the first rows
        self._select_when_loaded: int | None = None
        self._bars: Timer | None = None
        self._more = MoreJobs(id="more-jobs")

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
            self._animate_if_needed()

    def compose(self) -> ComposeResult:
        yield Label("Jobs", id="pool-title", markup=False)
        yield ListFilterInput(placeholder="filter: part of a prompt or label", id="job-filter")
        yield JobList(self._more, id="job-list", initial_index=None)
        yield Label("No jobs yet — write a prompt and press ctrl+j.", id="pool-empty")

    def on_mount(self) -> None:
        self._more.show_count(0)
        self._recount()

    # ------------------------------------------------------------------ feeding

    def load(
        self,
        events: Iterable[JobEvent],
        *,
        now: float,
        durations: Iterable[float] = (),
        labels: Mapping[int, str] | None = None,
    ) -> None:
        """Show jobs from history (newest first): a page of cards mounted; then what came meanwhile.

        ``durations``: how long recent jobs ran, for the estimate of running ones; ``labels``:
        how each job differs (:func:`card_labels`, worked out off the UI loop).
        """
        self._now = now
        self._durations = list(durations)
        self.run_estimate = self._median()
        self._loaded = True
        fresh = [event for event in events if event.job.id not in self._events]
        fresh = fresh[: max(0, MAX_JOBS - len(self._events))]
        for event in fresh:
            self._know(event, now, (labels or {}).get(event.job.id))
        self._fill()
        early, self._early = self._early, {}
        for event in early.values():
            self.apply(event, now=now)
        self._recount()
        if self._select_when_loaded is not None:
            self.select(self._select_when_loaded)
        elif self.query_one(JobList).has_focus:
            # Moved to before the jobs were read (f3 right at start): highlight the newest
            # once its card is mounted, as focusing a filled list does.
            self.call_after_refresh(self._highlight_newest)

    def focus_list(self) -> None:
        """Move to the list with a job highlighted (the keys there act on one); before the
        jobs are read, the newest is highlighted when they are (see :meth:`load`)."""
        self._highlight_newest()
        self.query_one(JobList).focus()

    def _highlight_newest(self) -> None:
        view = self.query_one(JobList)
        if view.index is None and self._cards:  # never the "more jobs" row alone
            view.index = 0

    def apply(self, event: JobEvent, *, now: float) -> None:
        """Update the one card this event is about, or add the job (at the top when it is new)."""
        self._now = now
        job = event.job
        if not self._loaded:
            self._early[job.id] = event
            return
        before = self._events.get(job.id)
        finished = before is None or before.job.state is not JobState.COMPLETED
        if finished and job.state is JobState.COMPLETED and job.started_at and job.finished_at:
            self._durations.append(job.finished_at - job.started_at)
            self.run_estimate = self._median()
        if before is None:
            self._know(event, now, None)
            self._show_new(job.id)
            if len(self._events) > MAX_JOBS:
                self._drop_oldest_finished()
            self._recount()
            self._animate_if_needed()
            return
        self._events[job.id] = event
        self._received[job.id] = now
        card = self._cards.get(job.id)
        if card is not None:
            card.apply(event, now=now, estimate=self._run_estimate, draw=self._in_view(card))
            if self._filter.active and card.display is not self._matches(job.id):
                self._place(card)
        elif self._filter.active and self._matches(job.id):
            self._fill()
        if before.job.state.is_active is not job.state.is_active or before.job.starred != job.starred:
            self._recount()
        self._animate_if_needed()

    def _know(self, event: JobEvent, now: float, label: str | None) -> None:
        job = event.job
        self._events[job.id] = event
        self._received[job.id] = now
        if label is None:
            parent = self._events.get(job.parent_id) if job.parent_id else None
            label = difference_label(job, parent.job if parent is not None else None)
        self._labels[job.id] = label

    def set_labels(self, labels: Mapping[int, str]) -> None:
        """How these jobs differ, now that their parents are known (read off the UI loop)."""
        in_view = set(self._cards_in_view())
        for job_id, label in labels.items():
            if job_id in self._events:
                self._labels[job_id] = label
            card = self._cards.get(job_id)
            if card is not None:
                card.set_label(label, draw=card in in_view)

    def unlabelled_parents(self) -> list[int]:
        """Parents of known jobs that the pool doesn't know (their children show a prompt
        head until :meth:`set_labels` is given their change)."""
        return sorted({
            event.job.parent_id
            for event in self._events.values()
            if event.job.parent_id is not None and not event.job.sweep_label
            and event.job.parent_id not in self._events
        })

    def apply_many(self, events: Iterable[JobEvent], *, now: float) -> None:
        """:meth:`apply` each event; the cards of new jobs are mounted together, newest first
        (a sweep's jobs arrive at once)."""
        new: dict[int, JobEvent] = {}
        for event in events:
            if not self._loaded or event.job.id in self._events:
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
            self._know(event, now, None)
        self._show_new(*sorted(new, reverse=True))
        if len(self._events) > MAX_JOBS:
            self._drop_oldest_finished()
        self._recount()
        self._animate_if_needed()

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
        self._animate_if_needed()

    def set_note(self, job_id: int, text: str | None, *, now: float) -> None:
        """A plain note shown on the job's card (a cancel outcome, a follow failure)."""
        self._now = now
        if job_id not in self._events:
            return
        self._notes[job_id] = text
        card = self._cards.get(job_id)
        if card is not None:
            card.now = now
            card.set_note(text, draw=self._in_view(card))

    # ------------------------------------------------------------------ mounting

    def _order(self) -> list[int]:
        """Every known job that the filter lets through, newest first."""
        return [job_id for job_id in sorted(self._events, reverse=True) if self._matches(job_id)]

    def _matches(self, job_id: int) -> bool:
        return self._filter.matches(self._events[job_id], self._labels.get(job_id, ""))

    def _card(self, job_id: int) -> JobCard:
        now = self._received[job_id]
        card = JobCard(
            self._events[job_id], received=now, estimate=self._run_estimate,
            label=self._labels.get(job_id), note=self._notes.get(job_id),
        )
        card.now = self._now if self._now is not None else now
        card.frame = self._frame if self.app.animation_level != "none" else None
        return card

    def _fill(self, *, at_least: int | None = None, upto: int | None = None) -> None:
        """Mount the cards of the first shown jobs: every shown job newer than the oldest
        mounted one, at least a page (``at_least``), or up to and including job ``upto``."""
        order = self._order()
        shown = [job_id for job_id in order if job_id in self._cards]
        want = max(at_least if at_least is not None else self.page, len(shown))
        if shown:
            want = max(want, order.index(shown[-1]) + 1)
        if upto is not None and upto in order:
            want = max(want, order.index(upto) + 1)
        missing = [job_id for job_id in order[:want] if job_id not in self._cards]
        view = self.query_one(JobList)
        selected = self.selected_job_id
        oldest = min(self._cards, default=None)
        tail = [job_id for job_id in missing if oldest is None or job_id < oldest]
        inside = [job_id for job_id in missing if job_id not in tail]
        for job_id in inside:  # between mounted cards: a filter reached an older job
            card = self._card(job_id)
            position = sum(1 for other in self._cards if other > job_id)
            self._cards[job_id] = card
            view.insert(position, [card])
        if tail:
            cards = [self._card(job_id) for job_id in tail]
            for card in cards:
                self._cards[card.job_id] = card
            view.mount(*cards, before=self._more)
        if missing:
            self._layout_version += 1
        self._more.show_count(len(order) - want if len(order) > want else 0)
        if selected is not None:
            self._keep_selected(selected)

    def _show_new(self, *job_ids: int) -> None:
        """Jobs the pool didn't know, each at its place in the list: new ones (newer than every
        card) at the top, in one mount; older ones (read from the history) by :meth:`_fill`."""
        newest = max(self._cards, default=None)
        shown = [job_id for job_id in job_ids if self._matches(job_id)]
        top = sorted(
            (job_id for job_id in shown if newest is None or job_id > newest), reverse=True
        )
        if top:
            view = self.query_one(JobList)
            selected = self.selected_job_id
            cards = [self._card(job_id) for job_id in top]
            for card in cards:
                self._cards[card.job_id] = card
            view.insert(0, cards)
            self._layout_version += 1
            if selected is not None:
                self._keep_selected(selected)
        if len(top) < len(shown):
            self._fill()

    def _keep_selected(self, job_id: int) -> None:
        """After cards were added before it, the highlight stays on the same job."""
        view = self.query_one(JobList)
        card = self._cards.get(job_id)
        if card is not None and card in view._nodes:
            position = view._nodes.index(card)
            if view.index != position:
                view.index = position

    def _place(self, card: JobCard) -> None:
        """Show or hide ``card`` as the filter says (hidden cards can't be highlighted)."""
        visible = self._matches(card.job_id)
        if card.display is not visible:
            card.display = visible
            card.disabled = not visible
            self._layout_version += 1

    def _drop_oldest_finished(self) -> None:
        """Keep the pool bounded: the oldest finished jobs go (they stay in history)."""
        excess = len(self._events) - MAX_JOBS
        selected = self.selected_job_id
        finished = sorted(
            job_id
            for job_id, event in self._events.items()
            if not event.job.state.is_active and job_id != selected
        )
        for job_id in finished[:excess]:
            del self._events[job_id]
            self._received.pop(job_id, None)
            self._labels.pop(job_id, None)
            self._notes.pop(job_id, None)
            card = self._cards.pop(job_id, None)
            if card is not None:
                card.remove()
                self._layout_version += 1
        self._fill()

    def on_list_view_highlighted(self, event: ListView.Highlighted) -> None:
        event.stop()
        item = event.item
        if isinstance(item, MoreJobs):
            self._next_page()
            view = self.query_one(JobList)
            now_there = view.highlighted_child
            if isinstance(now_there, JobCard):  # the first card of the new page, in its place
                item.highlighted = False
                now_there.highlighted = True
                self.post_message(JobSelected(now_there.job_id))
            return
        self.post_message(JobSelected(item.job_id if isinstance(item, JobCard) else None))

    def on_job_list_end_wanted(self, message: JobList.EndWanted) -> None:
        message.stop()
        self._fill(at_least=len(self._order()))
        self.query_one(JobList).last_enabled()

    # ------------------------------------------------------------------ the filter

    @property
    def filter(self) -> JobFilter:
        return self._filter

    def set_filter(self, job_filter: JobFilter) -> None:
        """Show only the jobs ``job_filter`` lets through (hidden cards stay mounted)."""
        if job_filter == self._filter:
            return
        selected = self.selected_job_id
        self._filter = job_filter
        for card in self._cards.values():
            self._place(card)
        self._fill()
        self._recount()
        view = self.query_one(JobList)
        if selected is not None and selected in self._cards and self._cards[selected].display:
            self._keep_selected(selected)
        else:
            view.action_first()
        self.post_message(self.FilterChanged(job_filter))
        self.on_job_list_scrolled(JobList.Scrolled())

    def filter_text(self, text: str) -> None:
        self.set_filter(replace(self._filter, text=text.strip()))

    def toggle_starred(self) -> bool:
        """Starred jobs only, or every job again; True when only starred ones are shown now."""
        self.set_filter(replace(self._filter, starred=not self._filter.starred))
        return self._filter.starred

    def show_lineage(self, job_id: int | None, members: Collection[int] = ()) -> None:
        """Only the lineage of ``job_id`` (its ids, ``members``); None: every lineage again."""
        self.set_filter(replace(self._filter, lineage_of=job_id, lineage=frozenset(members)))

    def show_sweep(self, sweep_id: str | None) -> None:
        """Only the jobs of one sweep; None: every job again."""
        self.set_filter(replace(self._filter, sweep_id=sweep_id))

    def clear_filter(self) -> None:
        self.query_one(ListFilterInput).value = ""
        self.set_filter(JobFilter())

    def open_filter(self) -> None:
        """``/``: the filter field, focused."""
        self.add_class("-filtering")
        self.query_one(ListFilterInput).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if isinstance(event.input, ListFilterInput):
            event.stop()
            self.filter_text(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if isinstance(event.input, ListFilterInput):
            event.stop()
            self._leave_filter(clear=False)

    def on_list_filter_input_left(self, message: ListFilterInput.Left) -> None:
        message.stop()
        self._leave_filter(clear=message.clear)

    def _leave_filter(self, *, clear: bool) -> None:
        field = self.query_one(ListFilterInput)
        if clear:
            self.clear_filter()
        self.set_class(bool(field.value), "-filtering")
        view = self.query_one(JobList)
        if view.index is None:
            view.action_first()
        view.focus()

    # ------------------------------------------------------------------ the bars

    def _animate_if_needed(self) -> None:
        """Run the bar timer only while a card in view animates (never with animations off)."""
        wanted = self.app.animation_level != "none" and any(
            card.is_animated for card in self._cards_in_view()
        )
        if wanted and self._bars is None:
            self._bars = self.set_interval(BAR_FRAME_SECONDS, self._animate_bars, name="job-bars")
        elif not wanted and self._bars is not None:
            self._bars.stop()
            self._bars = None

    @property
    def animating(self) -> bool:
        """Whether the bar timer runs (a running job without an estimate is in view)."""
        return self._bars is not None

    def _animate_bars(self) -> None:
        """One frame of every moving bar in view; cards out of view are not touched."""
        self._frame += 1
        moving = False
        for card in self._cards_in_view():
            if card.is_animated:
                card.set_frame(self._frame)
                moving = True
        if not moving:
            self._animate_if_needed()

    def on_job_list_scrolled(self, message: JobList.Scrolled) -> None:
        message.stop()
        for card in self._cards_in_view():
            card.draw_if_stale()
        self._animate_if_needed()
        view = self.query_one(JobList)
        if self._more.display and view.max_scroll_y and view.scroll_y >= view.max_scroll_y - 2:
            self._next_page()

    def _next_page(self) -> None:
        shown = sum(1 for job_id in self._order() if job_id in self._cards)
        self._fill(at_least=shown + self.page)

    def _in_view(self, card: JobCard) -> bool:
        return card in self._cards_in_view()

    def _cards_in_view(self) -> list[JobCard]:
        """Exactly the cards that intersect the list's viewport (all of them before its first
        layout, when drawing is cheap and keeps nothing stale).

        Plain arithmetic on sizes the last layout left behind (cards are one fixed height): no
        screen lookups, which cost a rebuild of the compositor's map after every layout.
        """
        view = self.query_one(JobList)
        height = view.scrollable_content_region.height
        key = (round(view.scroll_y), height, len(view._nodes), self._layout_version)
        if key == self._view_key:
            return self._view_cards
        cards = [
            child for child in view._nodes if isinstance(child, JobCard) and child.display
        ]
        card_height = next((card.outer_size.height for card in cards if card.outer_size.height), 0)
        if height <= 0 or card_height <= 0:
            return cards  # not laid out yet (not kept: the same key may come laid out)
        else:
            top = round(view.scroll_y)
            first = top // card_height
            last = -(-(top + height) // card_height)  # ceiling: a card cut at the bottom counts
            shown = cards[first:last]
        self._view_key, self._view_cards = key, shown
        return shown

    # ------------------------------------------------------------------ reading

    def event_for(self, job_id: int) -> JobEvent | None:
        """The job as the pool has it (also one kept until the first rows are loaded)."""
        event = self._events.get(job_id)
        return self._early.get(job_id) if event is None else event

    def label_for(self, job_id: int) -> str | None:
        """How the job differs, as its card says it (uncut)."""
        return self._labels.get(job_id)

    def card_for(self, job_id: int) -> JobCard | None:
        """The job's mounted card (None: not mounted, e.g. an older page or filtered out)."""
        return self._cards.get(job_id)

    @property
    def selected_job_id(self) -> int | None:
        child = self.query_one(JobList).highlighted_child
        return child.job_id if isinstance(child, JobCard) else None

    def job_ids(self) -> list[int]:
        """Every job the pool knows (with a card or not), newest first: the list's order."""
        return sorted(self._events, reverse=True)

    @property
    def mounted_count(self) -> int:
        return len(self._cards)

    def select(self, job_id: int) -> None:
        """Highlight ``job_id`` (its card mounted if it is on a later page; a filter that
        hides it is cleared)."""
        if not self._loaded:
            self._select_when_loaded = job_id
            return
        if job_id not in self._events:
            return
        if not self._matches(job_id):
            self.clear_filter()
        self._fill(upto=job_id)
        view = self.query_one(JobList)
        card = self._cards.get(job_id)
        if card is not None and card in view._nodes:
            view.index = view._nodes.index(card)

    def most_recent_active(self) -> int | None:
        active = self.active_ids()
        return max(active) if active else None

    def active_ids(self) -> list[int]:
        return [job_id for job_id, event in self._events.items() if event.job.state.is_active]

    def _recount(self) -> None:
        """The title line (one fixed-height line: never a layout) and the empty state."""
        active = len(self.active_ids())
        total = len(self._events)
        if self._filter.active:
            count = f"{len(self._order())} of {total} · {self._filter.describe()}"
        else:
            count = str(total)
        title = f"Jobs · {count}" + (f" · {active} active" if active else "")
        if title != self._title:
            self._title = title
            self.query_one("#pool-title", Label).update(title, layout=False)
        empty = self._loaded and total == 0
        if self.has_class("-empty") is not empty:
            self.set_class(empty, "-empty")
