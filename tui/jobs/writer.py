"""History writes off the event loop, one thread, in order, each durable before it returns.

The engine runs on the UI's event loop. A committed ``synchronous=FULL`` SQLite transaction
waits for an fsync (0.5 ms typical, several ms at the tail); a few dozen of them while results
land froze the UI. :class:`HistoryWriter` runs such writes on one thread of its own. The caller
awaits the result, so a write is exactly as durable as before when the code moves on — a
request_id is on disk before anyone is told "submitted" — and writes keep the order they were
asked in (one thread, first come first served).

Writes that arrive while another is under way are committed together, in one transaction and
one fsync (group commit, :meth:`~tui.storage.history.History.batch`): each still runs in its own
savepoint, so a write that raises (an illegal state move) undoes only itself. If the database
refuses the transaction as a whole (locked, disk full), every write of the batch is done again
on its own, exactly as it would have been without batching, and each caller gets its own answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

__all__ = ["Batching", "HistoryWriter"]

_T = TypeVar("_T")


@runtime_checkable
class Batching(Protocol):
    """A history that can run several writes in one transaction (see History.batch)."""

    def batch(self) -> contextlib.AbstractContextManager[object]: ...


@dataclass(slots=True)
class _Work:
    call: Callable[[], Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    alone: bool = False  # never batched (not a database write: done exactly once)
    outcome: tuple[bool, Any] | None = None  # (ok, value or exception)


class HistoryWriter:
    """Runs blocking history writes on one thread; ``await writer.run(fn, ...)``."""

    def __init__(self, history: object, *, name: str = "history-writer") -> None:
        self._batching: Batching | None = (
            history if isinstance(history, Batching) else None
        )
        self._name = name
        self._queue: queue.SimpleQueue[_Work] = queue.SimpleQueue()
        self._executor = self._new_executor()
        self.batches = 0  # transactions committed for more than one write (observable in tests)

    async def run(self, call: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T:
        """``call(*args, **kwargs)`` on the writer thread; its result (or its exception).

        Cancelling the caller does not undo a write already started: it completes, and its
        result is dropped. A write not yet started when its caller is cancelled is not run.
        """
        return await self._submit(lambda: call(*args, **kwargs), alone=False)

    async def run_alone(self, call: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T:
        """:meth:`run` for work that is not a database write (the journal's append): in order
        with the writes around it, never part of a batch, so never done twice."""
        return await self._submit(lambda: call(*args, **kwargs), alone=True)

    async def _submit(self, call: Callable[[], _T], *, alone: bool) -> _T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_T] = loop.create_future()
        self._queue.put(_Work(call, loop, future, alone))
        self._executor.submit(self._drain)
        return await future

    def close(self) -> None:
        """Finish what was asked, then let the thread go (idempotent; a later write starts
        another)."""
        self._executor.shutdown(wait=True)
        self._executor = self._new_executor()

    # ------------------------------------------------------------------ the thread

    def _new_executor(self) -> ThreadPoolExecutor:
        # One worker: writes in order. Its thread finishes queued work when the interpreter
        # exits (concurrent.futures joins it), and ends when this writer is collected.
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)

    def _drain(self) -> None:
        """(On the writer thread) do everything queued so far, batched."""
        works: list[_Work] = []
        while True:
            try:
                works.append(self._queue.get_nowait())
            except queue.Empty:
                break
        works = [w for w in works if not w.future.cancelled()]
        if works:
            self._do(works)

    def _do(self, works: list[_Work]) -> None:
        """Run ``works`` in order: runs of batchable writes together, the others alone."""
        group: list[_Work] = []
        for work in works:
            if work.alone:
                self._group(group)
                group = []
                self._one(work)
                self._deliver(work)
            else:
                group.append(work)
        self._group(group)

    def _group(self, works: list[_Work]) -> None:
        if len(works) <= 1 or self._batching is None:
            for work in works:
                self._one(work)
                self._deliver(work)
            return
        try:
            with self._batching.batch():
                for work in works:
                    self._one(work)
        except Exception:
            # The transaction as a whole failed (locked, full…): nothing of it was kept. Do each
            # write again on its own, so each caller gets the answer it would have had.
            for work in works:
                work.outcome = None
                self._one(work)
        else:
            self.batches += 1
        for work in works:
            self._deliver(work)

    @staticmethod
    def _one(work: _Work) -> None:
        try:
            work.outcome = (True, work.call())
        except BaseException as exc:  # handed to the caller, on its loop
            work.outcome = (False, exc)

    @staticmethod
    def _deliver(work: _Work) -> None:
        outcome = work.outcome
        assert outcome is not None

        def settle() -> None:
            if work.future.done():
                return
            ok, value = outcome
            if ok:
                work.future.set_result(value)
            else:
                work.future.set_exception(value)

        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
            work.loop.call_soon_threadsafe(settle)
