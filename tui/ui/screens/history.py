"""Every past job, newest first, searchable and filterable, fast with thousands of rows.

The table holds a window of the rows, at most :data:`WINDOW_PAGES` pages, wherever the list is
(``start`` is the window's first row among all of them): rows are read a page at a time
(``History.list_jobs(limit, offset)``) in thread workers as the view nears either end of the
window, and arrive as :class:`HistoryScreen.PageRead` messages; the page at the far end goes,
and the cursor and the view stay on the same jobs. Home/End (g/G) go to the first/last of every
job, reading the window there. So paging through 2,000 jobs keeps as many rows as paging
through 300. A new search or filter, or a newer read, makes the pages of an earlier read stale.
Thumbnails are made by one thread worker at a time, only for the highlighted row and the rows
in view (rows scrolled away before their turn are dropped). The screen dismisses with ``(action, job)`` — ``open``,
``iterate``, ``edit``, ``rerun``, ``lineage`` — or None. Forgetting a job asks first (a modal);
the storage does it in a thread worker, and the image files go only when that modal's checkbox
is ticked.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import CacheKey, CacheValue, LRUCache
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Input, Select, Static
from textual.widgets.data_table import CursorType
from textual.worker import Worker, WorkerState, get_current_worker

from ...models import Job, JobState
from ...storage.files import delete_images
from ...storage.history import History
from ...trust.sanitize import clean_text
from ..imaging import ImageKit, PreviewError
from ..keys import TypingSafeScreen
from ..widgets.footer import SteadyFooter
from ..widgets.thumbs import Thumb
from .delete_job import DeleteJobScreen

__all__ = ["STATE_FILTERS", "HistoryChoice", "HistoryScreen", "HistoryTable"]

HistoryChoice = tuple[str, Job]
"""What the browser was closed with: an action (``open``, ``iterate`` …) and its job."""

Goal = Literal["top", "bottom"]
"""Where a window read for Home/End puts the cursor."""

PAGE_SIZE = 100
WINDOW_PAGES = 3  # the table keeps at most this many pages of rows
SEARCH_DELAY = 0.3

STATE_FILTERS: dict[str, tuple[str, tuple[JobState, ...] | None]] = {
    "all": ("all states", None),
    "completed": ("completed", (JobState.COMPLETED,)),
    "active": (
        "in flight",
        (JobState.PENDING, JobState.SUBMITTING, JobState.QUEUED, JobState.RUNNING,
         JobState.DOWNLOADING, JobState.STALLED),
    ),
    "failed": ("failed / unknown", (JobState.FAILED, JobState.UNKNOWN)),
    "cancelled": ("cancelled / not sent", (JobState.CANCELLED, JobState.NOT_SENT)),
    "starred": ("★ starred", None),
}
"""What the filter offers: a label and the states it keeps (``starred``: starred jobs, any state)."""


class HistoryTable(DataTable[Any]):
    """The job rows of the window: ↑/↓ or j/k move; Home/End or g/G go to the first/last job —
    in the table when it holds it, else they ask the screen (:class:`HistoryTable.EdgeWanted`)
    to read the window there; the cursor row is always scrolled into view."""

    class EdgeWanted(Message):
        """Home/End went past the window: the first (``top``) or the last job is wanted."""

        def __init__(self, table: HistoryTable, top: bool) -> None:
            super().__init__()
            self.table = table
            self.top = top

        @property
        def control(self) -> HistoryTable:
            return self.table

    rows_before = 0
    """Jobs before the window's first row (set by the screen)."""
    rows_after = 0
    """Jobs after the window's last row (set by the screen)."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("home,g", "scroll_top", "Top", show=False),
        Binding("end,G", "scroll_bottom", "Bottom", show=False),
    ]

    # DataTable keeps what it drew of rows and cells for tables it expects to be scrolled back
    # and forth over (1,000 rows, 10,000 cells); paging once through 2,000 jobs filled them,
    # which showed as memory growing all the way down. A few screens' worth is enough here: a
    # row scrolled back to is drawn again from the row, which the table keeps anyway.
    RENDER_CACHE_ROWS = 200

    def __init__(self, *, id: str | None = None, cursor_type: CursorType = "row") -> None:
        super().__init__(id=id, cursor_type=cursor_type)
        rows = self.RENDER_CACHE_ROWS
        # Textual's LRUCache links its entries in a ring, and clear() drops the ring whole:
        # every entry (strips, segments, styles) then waits for a full garbage collection,
        # which the app makes only while nobody types (tui.ui.idle_gc). The table clears them
        # at each refill and style change — 280,000 objects over one paging through 2,000
        # jobs. These caches unlink their entries first, so they go the moment they are dropped.
        self._row_render_cache = UnlinkingCache(rows)
        self._row_renderable_cache = UnlinkingCache(rows)
        self._line_cache = UnlinkingCache(rows)
        self._cell_render_cache = UnlinkingCache(rows * 6)  # five columns, and a spare
        self._offset_cache = UnlinkingCache(1)
        self._ordered_row_cache = UnlinkingCache(1)

    def action_scroll_top(self) -> None:
        if self.rows_before:
            self.post_message(self.EdgeWanted(self, top=True))
        else:
            super().action_scroll_top()

    def action_scroll_bottom(self) -> None:
        if self.rows_after:
            self.post_message(self.EdgeWanted(self, top=False))
        else:
            super().action_scroll_bottom()


class UnlinkingCache(LRUCache[CacheKey, CacheValue]):
    """Textual's LRU cache, with a :meth:`clear` that leaves no reference cycle behind."""

    def clear(self) -> None:
        links: dict[object, object] = getattr(self, "_cache", {})  # key → [prev, next, key, value]
        for link in links.values():
            if isinstance(link, list):
                link.clear()
        super().clear()


def _when(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


class HistoryScreen(TypingSafeScreen[HistoryChoice | None]):
    """The history browser, reading ``history`` off the UI loop."""

    CSS_PATH = "history.tcss"

    BINDINGS = [
        Binding("escape,q", "close", "Back"),
        Binding("slash", "focus_search", "Search", show=False),
        Binding("o", "choose('open')", "Open"),
        Binding("i", "choose('iterate')", "Iterate"),
        Binding("e", "choose('edit')", "Edit"),
        Binding("r", "choose('rerun')", "Re-run"),
        Binding("l", "choose('lineage')", "Lineage"),
        Binding("s", "star", "Star"),
        Binding("asterisk", "starred_only", "Starred only", show=False),
        Binding("d,delete", "delete", "Delete"),
    ]

    class PageRead(Message):
        """The rows from ``offset`` on (and, for a first page, the count) of read number
        ``serial``; ``goal`` says where the cursor goes: ``top``/``bottom`` of the window read
        (Home/End), or None: it stays on its job."""

        def __init__(
            self,
            serial: int,
            offset: int,
            total: int | None,
            jobs: Sequence[Job],
            goal: Goal | None = None,
        ) -> None:
            super().__init__()
            self.serial = serial
            self.offset = offset
            self.total = total
            self.jobs = list(jobs)
            self.goal = goal

    class Starred(Message):
        """``job`` was starred or unstarred (it carries the new value)."""

        def __init__(self, job: Job) -> None:
            super().__init__()
            self.job = job

    class Forgotten(Message):
        """``job`` was deleted from the history, with ``removed`` of its image files."""

        def __init__(self, job: Job, removed: int) -> None:
            super().__init__()
            self.job = job
            self.removed = removed

    def __init__(
        self,
        history: History,
        kit: ImageKit,
        *,
        page_size: int = PAGE_SIZE,
        search_delay: float = SEARCH_DELAY,
    ) -> None:
        super().__init__()
        self.history = history
        self.kit = kit
        self.page_size = page_size
        self.search_delay = search_delay
        self.window = page_size * WINDOW_PAGES  # rows the table keeps at most
        self.loaded: list[Job] = []  # the window's rows, top to bottom
        self.start = 0  # the window's first row among all the rows
        self.total = 0
        self.search = ""
        self.state_key = "all"
        self.prefetched: set[str] = set()  # files of the window whose thumbnails are made
        self._wanted: list[str] = []  # files of the rows in view, not made yet
        self._prefetching = False  # the one thumbnail worker is running
        self._prefetch_lock = threading.Lock()
        self._search_timer: Timer | None = None
        self._serial = 0  # only the newest read's rows are shown: earlier ones are stale
        self._reading = False  # the newest read is on its way
        self._filling = False  # the table is being refilled: its scrolling is not the user's
        self._settling = False  # refilled, the view not yet where it goes

    def compose(self) -> ComposeResult:
        with Horizontal(id="history-bar"):
            yield Input(placeholder="search prompts  (/)", id="history-search")
            yield Select(
                [(label, key) for key, (label, _) in STATE_FILTERS.items()],
                value="all",
                allow_blank=False,
                id="history-state",
            )
        with Horizontal(id="history-body"):
            table = HistoryTable(id="history-table", cursor_type="row")
            self._number_column, *_ = table.add_columns("#", "state", "when", "size", "prompt")
            yield table
            with Vertical(id="history-side"):
                yield Thumb(self.kit, id="history-thumb")
                yield Static(id="history-detail")
        yield Static(id="history-count")
        yield SteadyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        self.watch(table, "scroll_y", self._scrolled, init=False)
        self.reload()
        table.focus()

    # ------------------------------------------------------------------ loading

    @property
    def states(self) -> tuple[JobState, ...] | None:
        return STATE_FILTERS[self.state_key][1]

    @property
    def starred(self) -> bool | None:
        """True when only starred jobs are listed (None: starred or not)."""
        return True if self.state_key == "starred" else None

    def reload(self) -> None:
        """Start again from the first page with the current search and state filter."""
        table = self.query_one(HistoryTable)
        self._filling = True
        try:
            table.clear()
        finally:
            self._filling = False
        self.loaded, self.start, self.total = [], 0, 0
        table.rows_before = table.rows_after = 0
        self._show_selected()
        self._read(0, self.page_size, count=True)

    def _read(self, offset: int, limit: int, *, count: bool = False, goal: Goal | None = None
              ) -> None:
        """Read ``limit`` rows from ``offset`` (the newest read: any earlier one is stale)."""
        self._serial += 1
        self._reading = True
        self._read_page(
            self._serial, offset, limit, self.search or None, self.states, self.starred,
            count=count, goal=goal,
        )

    def follow(self) -> bool:
        """Read the page past the end of the window the view is near, if there is one; False
        when there is nothing to read (or a read is on its way). The view, not the cursor:
        keys scroll the cursor into view, the mouse scrolls the view alone. Called once the
        table has laid out what changed (its scrolling to the cursor comes after a refresh)."""
        if self._reading or self._filling or self._settling or not self.loaded:
            return False
        table = self.query_one(HistoryTable)
        top = int(table.scroll_y)
        bottom = top + max(1, table.scrollable_content_region.height)
        margin = self.page_size // 2
        end = self.start + len(self.loaded)
        if bottom >= len(self.loaded) - margin and end < self.total:
            self._read(end, self.page_size)
            return True
        if top < margin and self.start > 0:
            offset = max(0, self.start - self.page_size)
            self._read(offset, self.start - offset)
            return True
        return False

    @work(thread=True, group="history-read", exit_on_error=False)
    def _read_page(
        self,
        serial: int,
        offset: int,
        limit: int,
        search: str | None,
        states: tuple[JobState, ...] | None,
        starred: bool | None,
        *,
        count: bool = False,
        goal: Goal | None = None,
    ) -> None:
        """Thread worker: ``limit`` rows from ``offset`` (and the count, for a first page)."""
        total = (
            self.history.count(states=states, search=search, starred=starred) if count else None
        )
        jobs = self.history.list_jobs(
            limit=limit, offset=offset, states=states, search=search, starred=starred
        )
        self.post_message(self.PageRead(serial, offset, total, jobs, goal))

    def on_history_screen_page_read(self, message: PageRead) -> None:
        message.stop()
        if message.serial != self._serial:
            return  # rows of an earlier read (another search, filter or window)
        self._reading = False
        if message.total is not None:
            self.total = message.total
        end = self.start + len(self.loaded)
        offset, jobs = message.offset, message.jobs
        if message.goal is not None or not self.loaded:
            self._fill(offset, jobs, message.goal)
        elif offset == end:
            if not jobs:  # fewer rows than counted: some went meanwhile
                self.total = end
            self._append(jobs)
        elif offset + len(jobs) == self.start:
            self._prepend(jobs)
        elif offset < self.start:  # rows went or came meanwhile: show what was read
            self._fill(offset, jobs, None, cursor=self.position - 1)
        self._update_count()
        self._show_selected()
        self._prefetch_visible()
        self.call_after_refresh(self.follow)

    def _append(self, jobs: list[Job]) -> None:
        """Rows after the window's last (dropping a page from its top when it is full)."""
        new = self._unseen(jobs)
        if len(self.loaded) + len(new) <= self.window:
            table = self.query_one(HistoryTable)
            for job in new:
                table.add_row(*self._cells(job), key=str(job.id))
            self.loaded.extend(new)
            self._edges()
            return
        rows = self.loaded + new
        dropped = len(rows) - self.window
        self._shift(self.start + dropped, rows[dropped:])

    def _prepend(self, jobs: list[Job]) -> None:
        """Rows before the window's first (dropping rows from its end when it is full)."""
        new = self._unseen(jobs)
        self._shift(self.start - len(new), (new + self.loaded)[: self.window])

    def _unseen(self, jobs: list[Job]) -> list[Job]:
        """``jobs`` not in the window already (a job made meanwhile moves every row by one)."""
        ids = {job.id for job in self.loaded}
        return [job for job in jobs if job.id not in ids]

    def _shift(self, start: int, rows: list[Job]) -> None:
        """Show ``rows`` from ``start``, the cursor and the view on the same jobs as before."""
        table = self.query_one(HistoryTable)
        moved = self.start - start
        cursor = self.start + table.cursor_row
        scroll = max(0.0, table.scroll_y + moved)
        self._fill(start, rows, None, cursor=cursor, scroll=scroll)
        # What was drawn of the rows paged past is garbage in reference cycles (a Textual
        # strip keeps itself in its own cache once the screen has cut it), and the app makes
        # full collections only while input is quiet (tui.ui.idle_gc): paging on without a
        # pause piled them up, ~6 MB per 1,000 rows. A page went: collect them now, a few ms.
        gc.collect()

    def _fill(
        self,
        start: int,
        rows: list[Job],
        goal: Goal | None,
        *,
        cursor: int | None = None,
        scroll: float | None = None,
    ) -> None:
        """Fill the table with ``rows`` from ``start``: the cursor on the ``goal`` row, or on
        the job at ``cursor`` (among all; clamped to the window), the view at ``scroll``."""
        table = self.query_one(HistoryTable)
        self._filling = True
        try:
            table.clear()
            self.start, self.loaded = start, list(rows)
            for job in self.loaded:
                table.add_row(*self._cells(job), key=str(job.id))
            self._edges()
            if not self.loaded:
                return
            last = len(self.loaded) - 1
            if goal is not None:
                row = 0 if goal == "top" else last
            else:
                row = min(max(0, (cursor if cursor is not None else start) - start), last)
            if scroll is not None:
                table.scroll_to(y=scroll, animate=False, immediate=True)
            table.move_cursor(row=row, scroll=scroll is None and goal is None)
        finally:
            self._filling = False
        self._settling = True
        table.call_after_refresh(self._settled, goal, scroll)
        self._keep_prefetched()

    def _settled(self, goal: Goal | None, scroll: float | None) -> None:
        """After a refill, once the table has measured its new rows: the view where it goes
        (until then the view is the old one's, and says nothing about what to read next)."""
        table = self.query_one(HistoryTable)
        if scroll is not None:
            table.scroll_to(y=scroll, animate=False, immediate=True)
        elif goal == "top":
            table.scroll_home(animate=False, immediate=True)
        elif goal == "bottom":
            table.scroll_end(animate=False, immediate=True)
        self._settling = False
        self.follow()

    def _edges(self) -> None:
        table = self.query_one(HistoryTable)
        table.rows_before = self.start
        table.rows_after = max(0, self.total - self.start - len(self.loaded))

    def on_history_table_edge_wanted(self, message: HistoryTable.EdgeWanted) -> None:
        """Home/End past the window: read the window at the first or the last job."""
        message.stop()
        if message.top:
            self._read(0, self.window, goal="top")
        else:
            self._read(max(0, self.total - self.window), self.window, goal="bottom")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group not in {"history-read", "history-forget", "history-star"}:
            return
        if event.state == WorkerState.ERROR:
            self._reading = False
            reason = clean_text(event.worker.error or "unexpected error", limit=200)
            what = "read" if event.worker.group == "history-read" else "change"
            self.notify(f"couldn't {what} the history: {reason}", severity="error", markup=False)

    @staticmethod
    def _number(job: Job) -> Text:
        return Text(("★ " if job.starred else "") + str(job.id), justify="right")

    @classmethod
    def _cells(cls, job: Job) -> tuple[Text, ...]:
        return (
            cls._number(job),
            Text(job.state.value),
            Text(_when(job.created_at)),
            Text(job.request.size),
            Text(clean_text(job.request.prompt, limit=160)),
        )

    @property
    def position(self) -> int:
        """The selected job's place among all the rows, from 1 (0: none)."""
        if not self.loaded:
            return 0
        return self.start + self.query_one(HistoryTable).cursor_row + 1

    def _update_count(self) -> None:
        what = f" matching “{clean_text(self.search, limit=30)}”" if self.search else ""
        which = " starred" if self.starred else ""
        text = (
            f"{self.position} of {self.total}{which} jobs{what} · enter/o open · i iterate"
            " · e edit · r re-run · l lineage · s star · * starred only · d delete"
        )
        self.query_one("#history-count", Static).update(Text(text))

    def _scrolled(self, _old: float, _new: float) -> None:
        if self._filling:
            return
        self.follow()
        self._prefetch_visible()

    # ------------------------------------------------------------------ thumbnails

    def _visible_jobs(self) -> list[Job]:
        table = self.query_one(DataTable)
        first = int(table.scroll_y)
        height = max(1, table.scrollable_content_region.height)
        return self.loaded[first : first + height]

    def _keep_prefetched(self) -> None:
        """Forget the made thumbnails of rows no longer in the window (bounded like it)."""
        files = {job.files[0] for job in self.loaded if job.files}
        with self._prefetch_lock:
            self.prefetched &= files

    def _prefetch_visible(self) -> None:
        """Have the thumbnails of the rows in view made, one at a time by one thread worker;
        rows that scroll away before their turn are dropped."""
        wanted = [
            job.files[0] for job in self._visible_jobs()
            if job.files and job.files[0] not in self.prefetched
        ]
        with self._prefetch_lock:
            self._wanted = wanted
            if not wanted or self._prefetching:
                return  # the running worker takes the new rows
            self._prefetching = True
        self.run_worker(
            self._make_thumbnails,
            name="history thumbnails",
            group="history-prefetch",
            thread=True,
            exit_on_error=False,
        )

    def _make_thumbnails(self) -> None:
        """Thread worker: cached thumbnails for the rows in view, until none is left
        (errors are shown per row when it is selected)."""
        worker = get_current_worker()
        try:
            while not worker.is_cancelled:
                with self._prefetch_lock:
                    if not self._wanted:
                        return
                    path = self._wanted.pop(0)
                with contextlib.suppress(PreviewError, OSError):
                    self.kit.cache.thumbnail_for(Path(path))
                with self._prefetch_lock:
                    self.prefetched.add(path)
        finally:
            with self._prefetch_lock:
                self._prefetching = False

    # ------------------------------------------------------------------ selection

    @property
    def selected(self) -> Job | None:
        table = self.query_one(DataTable)
        if not self.loaded or not 0 <= table.cursor_row < len(self.loaded):
            return None
        return self.loaded[table.cursor_row]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.call_after_refresh(self.follow)
        self._update_count()
        self._show_selected()
        self._prefetch_visible()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_choose("open")

    def _show_selected(self) -> None:
        job = self.selected
        thumb = self.query_one("#history-thumb", Thumb)
        detail = self.query_one("#history-detail", Static)
        if job is None:
            thumb.show(None)
            detail.update(Text("no jobs" if not self.search else "nothing matches"))
            return
        thumb.show(Path(job.files[0]) if job.files else None)
        star = "★ " if job.starred else ""
        lines = [f"{star}#{job.id} · {job.state.value} · {job.request.size}"]
        if job.request_id:
            lines.append(f"request {job.request_id}")
        if job.request.images:
            lines.append(f"{len(job.request.images)} reference image(s)")
        if job.error:
            lines.append("error: " + clean_text(job.error, limit=120))
        lines.append("")
        lines.append(clean_text(job.request.prompt, keep_newlines=True, limit=600))
        detail.update(Text("\n".join(lines)))

    # ------------------------------------------------------------------ filters

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
        value = event.value
        self._search_timer = self.set_timer(self.search_delay, lambda: self._set_search(value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
        self._set_search(event.value)
        self.query_one(DataTable).focus()

    def _set_search(self, value: str) -> None:
        value = value.strip()
        if value != self.search:
            self.search = value
            self.reload()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        key = str(event.value)
        if key in STATE_FILTERS and key != self.state_key:
            self.state_key = key
            self.reload()

    # ------------------------------------------------------------------ actions

    def action_focus_search(self) -> None:
        self.query_one("#history-search", Input).focus()

    def action_choose(self, action: str) -> None:
        job = self.selected
        if job is not None:
            self.dismiss((action, job))

    def action_close(self) -> None:
        """Escape leaves the search field first (for the rows), then the screen; q closes it."""
        if isinstance(self.focused, Input):
            self.query_one(DataTable).focus()
            return
        self.dismiss(None)

    def action_star(self) -> None:
        """``s``: star the selected job, or unstar it."""
        job = self.selected
        if job is not None:
            self._star(job, not job.starred)

    @work(thread=True, group="history-star", exit_on_error=False)
    def _star(self, job: Job, starred: bool) -> None:
        """Thread worker: write the star; the row shows it when the message arrives."""
        self.post_message(self.Starred(self.history.update(job.id, starred=starred)))

    def on_history_screen_starred(self, message: Starred) -> None:
        message.stop()
        job = message.job
        self.loaded = [job if j.id == job.id else j for j in self.loaded]
        table = self.query_one(DataTable)
        with contextlib.suppress(Exception):  # the row may have gone (a new search)
            table.update_cell(str(job.id), self._number_column, self._number(job))
        self._show_selected()
        self.notify(f"#{job.id} {'starred ★' if job.starred else 'unstarred'}", markup=False)

    def action_starred_only(self) -> None:
        """``*``: only starred jobs, or every job again."""
        select = self.query_one("#history-state", Select)
        select.value = "all" if self.state_key == "starred" else "starred"

    def action_delete(self) -> None:
        job = self.selected
        if job is None:
            return

        def answered(answer: tuple[bool, bool] | None) -> None:
            if answer and answer[0]:
                self._forget(job, answer[1])

        self.app.push_screen(DeleteJobScreen(job), answered)

    @work(thread=True, group="history-forget", exit_on_error=False)
    def _forget(self, job: Job, delete_files: bool) -> None:
        """Thread worker: forget ``job``; with ``delete_files``, remove its saved images too."""
        self.history.delete(job.id)
        removed = delete_images(job.files) if delete_files else 0
        self.post_message(self.Forgotten(job, removed))

    def on_history_screen_forgotten(self, message: Forgotten) -> None:
        message.stop()
        job = message.job
        table = self.query_one(DataTable)
        with contextlib.suppress(Exception):
            table.remove_row(str(job.id))
        self.loaded = [j for j in self.loaded if j.id != job.id]
        self.total = max(0, self.total - 1)
        self._edges()
        self._update_count()
        self._show_selected()
        self.call_after_refresh(self.follow)
        files = f" and {message.removed} image file(s)" if message.removed else ""
        self.notify(f"forgot job #{job.id}{files}", markup=False)
