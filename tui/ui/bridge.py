"""The one bridge from the job engines to the UI.

:class:`JobFeed` subscribes to every engine the app runs — one at start, one more after signing
in — and hands their :class:`~tui.jobs.events.JobEvent` s to every node that reads the feed (the
main screen; a sweep grid while it is open) as :class:`~tui.ui.messages.JobsUpdated` messages:
at most one per frame, carrying the newest event of each job that changed since the last. A
hundred jobs polled at once are one handler call and one repaint, and a job's stale states are
never worked through. Engines call the feed on the app's loop; a thread may call it too.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Protocol

from textual.message_pump import MessagePump

from ..jobs.book import EventListener
from ..jobs.events import JobEvent
from .messages import JobsUpdated

__all__ = ["FRAME_SECONDS", "EventSource", "JobFeed"]

FRAME_SECONDS = 1 / 60
"""How long events gather before they are delivered together (one frame of the screen)."""


class EventSource(Protocol):
    """What the feed needs of an engine (:class:`~tui.jobs.JobEngine` is one)."""

    def subscribe(self, listener: EventListener) -> Callable[[], None]: ...


class JobFeed:
    """Engine events in; per frame, one :class:`JobsUpdated` out to each reader."""

    def __init__(self, *, frame: float = FRAME_SECONDS) -> None:
        self.frame = frame
        self._readers: list[MessagePump] = []
        self._unsubscribes: list[Callable[[], None]] = []
        self._pending: dict[int, JobEvent] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scheduled = False  # a delivery is due
        self._due: asyncio.TimerHandle | None = None

    def watch(self, engine: EventSource) -> None:
        """Deliver ``engine``'s events from now on (until :meth:`close`); call it on the loop
        the readers run on."""
        self._loop = asyncio.get_running_loop()
        self._unsubscribes.append(engine.subscribe(self.publish))

    def read(self, node: MessagePump) -> Callable[[], None]:
        """Send ``node`` a :class:`JobsUpdated` for every frame with news; returns the way to
        stop."""
        self._readers.append(node)

        def stop() -> None:
            if node in self._readers:
                self._readers.remove(node)

        return stop

    def publish(self, event: JobEvent) -> None:
        """Keep ``event`` (replacing an older one of the same job) for the next delivery."""
        with self._lock:
            self._pending.pop(event.job.id, None)  # its place: the order of the latest changes
            self._pending[event.job.id] = event
            if self._scheduled:
                return
            self._scheduled = True
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:  # a thread
            on_loop = False
        if on_loop:
            self._schedule()
        else:
            self._loop.call_soon_threadsafe(self._schedule)

    def _schedule(self) -> None:
        assert self._loop is not None
        self._due = self._loop.call_later(self.frame, self.flush)

    def flush(self) -> None:
        """Deliver what was gathered now (normally called once a frame by itself)."""
        with self._lock:
            events, self._pending = tuple(self._pending.values()), {}
            self._scheduled = False
        if not events:
            return
        for node in tuple(self._readers):
            node.post_message(JobsUpdated(events))

    def close(self) -> None:
        """Stop listening to every engine (news not delivered yet is dropped)."""
        for unsubscribe in self._unsubscribes:
            unsubscribe()
        self._unsubscribes.clear()
        with self._lock:
            self._pending.clear()
        if self._due is not None:
            self._due.cancel()
            self._due = None
