"""Build the object graph once — settings → offline server → client → history → engine.

Both the TUI and the headless commands start here, so they share one code path to the API;
tests build the same graph against a loopback server, with a frozen clock where they need one.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .. import __version__
from ..api.catalog import CatalogClient
from ..api.client import ModelApiClient
from ..api.retry import RetryPolicy
from ..api.service import JsonChannel
from ..config import Settings
from ..iterate.recipe import Recipe, embed_recipe
from ..jobs import JobEngine, JobEvent
from ..jobs.pricing import PriceBook
from ..models import Job
from ..storage.catalog_cache import CatalogCache
from ..storage.downloads import Downloader
from ..storage.files import OutputFiles
from ..storage.history import History
from ..trust.token import Token

if TYPE_CHECKING:
    from ..offline.server import OfflineServer

__all__ = [
    "CATALOG_POLICY",
    "OfflineBackend",
    "Services",
    "backend_label",
    "open_services",
    "switch_to_api",
]

Sleep = Callable[[float], Awaitable[None]]

# The catalog is asked for a price, not waited on: one quick try, a short deadline.
CATALOG_POLICY = RetryPolicy(max_attempts=2, call_deadline=10.0, connect_timeout=5.0)


class OfflineBackend(Protocol):
    """The embedded offline server, in a thread (:class:`~tui.offline.server.OfflineServer`) or
    in a child process (:class:`~tui.offline.embedded.EmbeddedServer`)."""

    @property
    def base_url(self) -> str: ...

    @property
    def serverless_base(self) -> str: ...

    def start_serving(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(slots=True)
class Services:
    """Everything a front end needs, built and owned together."""

    settings: Settings
    history: History
    client: ModelApiClient
    downloader: Downloader
    output_files: OutputFiles
    engine: JobEngine
    offline: OfflineBackend | None
    backend_label: str
    signed_in: bool
    prices: PriceBook
    serverless_base: str  # where this backend keeps the balance (the offline server's, offline)

    @property
    def can_sign_in(self) -> bool:
        """Signing in would change where new jobs go (offline, or no token)."""
        return self.settings.offline or not self.signed_in

    async def close_clients(self) -> None:
        """Close the API and download clients (idempotent); call on the loop that used them."""
        with contextlib.suppress(Exception):
            await self.client.aclose()
        with contextlib.suppress(Exception):
            await self.downloader.aclose()
        with contextlib.suppress(Exception):
            await self.prices.aclose()

    async def aclose(self) -> None:
        """Close network clients, the database and the offline server (idempotent)."""
        await self.close_clients()
        self.history.close()
        if self.offline is not None:
            self.offline.stop()


def backend_label(settings: Settings) -> str:
    """A plain line naming the backend — never the token itself."""
    if settings.offline:
        return "OFFLINE · images rendered locally, nothing billed"
    if settings.token is None:
        return "RunComfy API · not signed in"
    source = settings.token.source
    where = "RUNCOMFY_TOKEN" if source == "RUNCOMFY_TOKEN" else f"token file {source}"
    return f"RunComfy API · signed in via {where}"


def embed_recipe_hook(history: History) -> Callable[[Job, Path], None]:
    """A before-commit hook writing the job's recipe into the PNG being saved.

    It runs on the downloader's saving thread, on the hidden temp file, which the downloader
    fsyncs once afterwards: so the chunk is written in place, without a second temp or fsync.
    """

    def hook(job: Job, temp: Path) -> None:
        parent_rid = None
        if job.parent_id is not None:
            with contextlib.suppress(KeyError):
                parent_rid = history.get(job.parent_id).request_id
        recipe = Recipe.for_request(
            job.request,
            job.request_id or "",
            parent_request_id=parent_rid,
            created_at=datetime.fromtimestamp(job.created_at, UTC),
            app_version=__version__,
        )
        embed_recipe(temp, recipe, durable=False)

    return hook


def open_services(
    settings: Settings,
    *,
    on_event: Callable[[JobEvent], None] | None = None,
    give_up_after: float | None = None,
    offline_server: OfflineServer | None = None,
    offline_process: bool = False,
    clock: Callable[[], float] = time.time,
    sleep: Sleep = asyncio.sleep,
) -> Services:
    """Start what ``settings`` asks for and wire it together.

    With ``settings.offline`` the embedded offline server is started on loopback (or the one
    passed in is used, and left to its owner to stop) and the client talks to it through the
    same code path as the real API. It is bound at once and loads aiohttp only when first
    called; ``offline_process`` (the app) serves it from a child process, so its imports, its
    renders and its memory stay out of the caller's process — started when the caller says
    ``services.offline.start_serving()`` (the app: once its first frame is out; calls made before wait in
    the socket's backlog); otherwise (headless commands, tests) from a thread. ``clock`` and ``sleep`` reach the history and the engine (tests freeze them).
    """
    offline: OfflineBackend | None = None
    api_base = settings.api_base
    serverless_base = settings.serverless_base
    token = settings.token
    backend = settings.api_base
    if settings.offline:
        # The embedded backend journals its jobs in the data dir, so offline jobs in flight at
        # quit are resumed at the next start, exactly as real ones are.
        journal = settings.locations.data_dir / "offline-jobs.json"
        if offline_server is not None:
            offline = offline_server
        elif offline_process and os.name == "posix":  # a socket is handed over as a descriptor
            from ..offline.embedded import EmbeddedServer

            offline = EmbeddedServer(journal=journal).start(serving=False)
        else:
            from ..offline.server import OfflineServer  # aiohttp: only on the first connection

            offline = OfflineServer(journal=journal).start(lazy=True)
        api_base = offline.base_url
        serverless_base = offline.serverless_base
        token = None
        backend = "offline"
    try:
        settings.locations.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        history = History(settings.locations.history_db, clock=clock)
    except BaseException:
        if offline is not None and offline_server is None:
            offline.stop()
        raise
    # The default folder is checked by whoever creates jobs; each job keeps its own.
    output_files = OutputFiles(settings.output_dir, template=settings.name_template)
    return _assemble(
        settings,
        history=history,
        output_files=output_files,
        api_base=api_base,
        serverless_base=serverless_base,
        token=token,
        backend=backend,
        offline=offline if offline_server is None else None,
        on_event=on_event,
        give_up_after=give_up_after,
        clock=clock,
        sleep=sleep,
    )


def _assemble(
    settings: Settings,
    *,
    history: History,
    output_files: OutputFiles,
    api_base: str,
    serverless_base: str,
    token: Token | None,
    backend: str,
    offline: OfflineBackend | None,
    on_event: Callable[[JobEvent], None] | None,
    give_up_after: float | None,
    clock: Callable[[], float] = time.time,
    sleep: Sleep = asyncio.sleep,
) -> Services:
    """The network half of the graph (clients, prices, engine) over a history and output dir."""
    client = ModelApiClient(api_base, token)
    downloader = Downloader(api_base=api_base)
    prices = PriceBook(
        CatalogClient(JsonChannel(api_base, token, policy=CATALOG_POLICY)),
        CatalogCache(settings.locations.cache_dir / "catalog.json"),
        backend=backend,
        offline=backend == "offline",
    )
    engine = JobEngine(
        client=client,
        history=history,
        downloader=downloader,
        output_files=output_files,
        poll_interval=settings.poll_interval,
        max_concurrent_submissions=settings.max_concurrent_submissions,
        on_event=on_event,
        give_up_after=give_up_after,
        before_commit=embed_recipe_hook(history),
        backend=backend,
        prices=prices,
        save_outputs=settings.download_outputs,
        clock=clock,
        sleep=sleep,
    )
    return Services(
        settings=settings,
        history=history,
        client=client,
        downloader=downloader,
        output_files=output_files,
        engine=engine,
        offline=offline,
        backend_label=backend_label(settings),
        signed_in=token is not None,
        prices=prices,
        serverless_base=serverless_base,
    )


def switch_to_api(current: Services, token: Token) -> Services:
    """New services on the configured Model API with ``token``, sharing history and outputs.

    Used when the app signs in while on the offline backend. The current services stay as they
    are: their engine goes on following the jobs it had (on the offline server, which lives
    until the app quits); the new engine takes every new job. Nothing is closed here.
    """
    settings = dataclasses.replace(current.settings, offline=False, token=token)
    return _assemble(
        settings,
        history=current.history,
        output_files=current.output_files,
        api_base=settings.api_base,
        serverless_base=settings.serverless_base,
        token=token,
        backend=settings.api_base,
        offline=None,
        on_event=None,  # the front end subscribes to the new engine itself
        give_up_after=current.engine.follower.give_up_after,
        clock=current.engine.clock,
        sleep=current.engine.sleep,
    )
