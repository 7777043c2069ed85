"""The backend new jobs go to, and the ones signing in left behind that still finish theirs.

Signing in while on the offline backend builds new services on the Model API
(:func:`~tui.services.graph.switch_to_api`), sharing the history and the output folder. The
earlier services are not closed: their engines go on following the jobs they had (on the
offline server, which lives until the app quits), because the API has never heard of those
request ids; a cancel goes to the engine in charge of the job.
"""

from __future__ import annotations

import contextlib

from ..jobs import JobEngine
from ..trust.token import Token
from .graph import Services, switch_to_api

__all__ = ["Backends"]


class Backends:
    """``current`` takes every new job; ``retired`` ones only finish what they started."""

    def __init__(self, current: Services) -> None:
        self.current = current
        self.retired: list[Services] = []

    @property
    def engines(self) -> list[JobEngine]:
        """Every engine, the current one first."""
        return [self.current.engine, *(services.engine for services in self.retired)]

    def switch_to_api(self, token: Token) -> Services:
        """From now on new jobs go to the Model API with ``token``; returns the new services."""
        self.retired.append(self.current)
        self.current = switch_to_api(self.current, token)
        return self.current

    def engine_for(self, job_id: int) -> JobEngine:
        """The engine in charge of a job: the one following it, else the one of its backend,
        else the current one."""
        engines = self.engines
        for engine in engines:
            if engine.is_following(job_id):
                return engine
        backend = None
        with contextlib.suppress(KeyError):
            backend = self.current.history.get(job_id).backend
        return next((engine for engine in engines if engine.backend == backend), engines[0])

    async def close_clients(self) -> None:
        """Close every backend's HTTP clients, on the loop that used them (idempotent)."""
        for services in (*self.retired, self.current):
            await services.close_clients()
