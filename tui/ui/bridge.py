"""The one bridge from the job engines to the UI.

:class:`JobFeed` subscribes to every engine the app runs — one at start, one more after signing
in — and turns each :class:`~tui.jobs.events.JobEvent` into a
:class:`~tui.ui.messages.JobUpdated` message in the queue of every node that reads the feed (the
main screen; a sweep grid while it is open). There each node's queue merges a flood for one job
into the newest, and the node reacts in its own handler. Engines call the feed on the app's
loop; posting a message is safe from any thread too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from textual.message_pump import MessagePump

from ..jobs.book import EventListener
from ..jobs.events import JobEvent
from .messages import JobUpdated

__all__ = ["EventSource", "JobFeed"]


class EventSource(Protocol):
    """What the feed needs of an engine (:class:`~tui.jobs.JobEngine` is one)."""

    def subscribe(self, listener: EventListener) -> Callable[[], None]: ...


class JobFeed:
    """Engine events in, :class:`JobUpdated` messages out, one per reader."""

    def __init__(self) -> None:
        self._readers: list[MessagePump] = []
        self._unsubscribes: list[Callable[[], None]] = []

    def watch(self, engine: EventSource) -> None:
        """Deliver ``engine``'s events from now on (until :meth:`close`)."""
        self._unsubscribes.append(engine.subscribe(self.publish))

    def read(self, node: MessagePump) -> Callable[[], None]:
        """Send ``node`` a :class:`JobUpdated` for every event; returns the way to stop."""
        self._readers.append(node)

        def stop() -> None:
            if node in self._readers:
                self._readers.remove(node)

        return stop

    def publish(self, event: JobEvent) -> None:
        """Hand ``event`` to every reader (a closed node drops it)."""
        for node in tuple(self._readers):
            node.post_message(JobUpdated(event))

    def close(self) -> None:
        """Stop listening to every engine."""
        for unsubscribe in self._unsubscribes:
            unsubscribe()
        self._unsubscribes.clear()
