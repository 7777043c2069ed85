"""Blocking reads (SQLite, files) run off the UI loop, each result handed to its callback on it.

A screen composes one :class:`ThreadReads` and forwards its worker events to
:meth:`ThreadReads.finished`; ``read_then(read, then)`` runs ``read`` in a thread worker of the
screen and calls ``then(result)`` back on the UI loop, or reports the failure in one sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual.dom import DOMNode
from textual.worker import Worker, WorkerState

from ..trust.sanitize import clean_text

__all__ = ["ThreadReads"]

T = TypeVar("T")
GROUP = "reads"


class ThreadReads:
    """Reads of one node, and what to do with each result."""

    def __init__(self, node: DOMNode, *, failed: Callable[[str], None]) -> None:
        self._node = node
        self._failed = failed
        self._then: dict[Worker[Any], Callable[[Any], None]] = {}

    def read_then(self, read: Callable[[], T], then: Callable[[T], None]) -> None:
        """Run ``read`` in a thread worker; ``then`` gets its result on the UI loop."""
        worker = self._node.run_worker(
            read, name="read", group=GROUP, thread=True, exit_on_error=False
        )
        self._then[worker] = then

    def finished(self, event: Worker.StateChanged) -> bool:
        """Hand a finished read's result on (True when the worker was one of these reads)."""
        then = self._then.get(event.worker)
        if then is None:
            return False
        if event.state in {WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED}:
            del self._then[event.worker]
            if event.state == WorkerState.SUCCESS:
                then(event.worker.result)
            elif event.state == WorkerState.ERROR:
                self._failed(clean_text(event.worker.error or "unexpected error", limit=200))
        return True
