"""The offline backend: a real HTTP server on loopback that speaks the RunComfy Model API.

It is the app's default backend when no token is configured and what the test suite runs
against, so besides the happy path it can misbehave on demand (``force``) or at seeded random
rates (``FaultConfig``). Images are drawn locally by :func:`tui.offline.render.render_image`.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .addresses import Addressed, Addresses
from .desk import SignInDesk
from .faults import Fault, FaultConfig, FaultPicker, Timing
from .simulation import JobView, ServerStats, Simulation

__all__ = ["OfflineServer", "ServerStats", "run_standalone"]

_START_TIMEOUT = 10.0


class OfflineServer(Addressed):
    """The Model API on ``127.0.0.1``: ``start()`` in a background thread, or ``await serve()``.

    Thread-safe: tests drive it (``force``, ``advance``, ``hold``, ``faults = ...``) from their
    own thread while it serves from its own loop.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        timing: Timing | None = None,
        faults: FaultConfig | None = None,
        require_token: str | None = None,
        journal: Path | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.port = port
        self.require_token = require_token
        self.stats = ServerStats()
        self._simulation = Simulation(timing or Timing(), journal=journal, monotonic=monotonic)
        self._picker = FaultPicker(faults or FaultConfig())
        # Account endpoints: device-code sign-in (knobs on ``signin``), a pretend wallet, and the
        # catalog entry every model answers with (None: the handlers' offline default, price 0).
        self.signin = SignInDesk()
        self.balance_usd: float = 5.0
        self.catalog_entry: dict[str, Any] | None = None
        self._sock: socket.socket | None = None
        self._bound = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._startup_error: BaseException | None = None
        self._stopping = threading.Event()
        self._wake: tuple[socket.socket, socket.socket] | None = None  # ends a lazy wait

    # -- knobs -----------------------------------------------------------------------------

    @property
    def timing(self) -> Timing:
        return self._simulation.timing

    @timing.setter
    def timing(self, timing: Timing) -> None:
        self._simulation.timing = timing

    @property
    def faults(self) -> FaultConfig:
        return self._picker.config

    @faults.setter
    def faults(self, config: FaultConfig) -> None:
        self._picker.config = config  # reseeds the random faults

    def force(self, route: str, *faults: Fault | str) -> None:
        """The next requests on ``route`` get these faults, one each, in order.

        ``route`` is "submit", "status", "result", "cancel" or "files".
        """
        self._picker.force(route, *faults)

    def advance(self, request_id: str, status: str) -> None:
        """Move a job now: "in_queue", "in_progress", "completed", "failed" or "cancelled"."""
        self._simulation.advance(request_id, status)

    def hold(self, request_id: str | None = None) -> None:
        """Freeze timing for one job, or for all jobs (new ones included)."""
        self._simulation.hold(request_id)

    def release(self, request_id: str | None = None) -> None:
        """Undo :meth:`hold`."""
        self._simulation.release(request_id)

    def job_state(self, request_id: str) -> str | None:
        """The job's current status, or None when the server never created it."""
        return self._simulation.state(request_id)

    def request_ids(self) -> list[str]:
        """Every request id the server created, oldest first (e.g. after a reset submit)."""
        return self._simulation.request_ids()

    def job(self, request_id: str) -> JobView | None:
        """A snapshot of one job (prompt, size, state...), or None."""
        return self._simulation.get(request_id)

    # -- addresses ---------------------------------------------------------------------------

    @property
    def addresses(self) -> Addresses:
        """Every URL of this server, known as soon as the socket is bound."""
        if not self._bound:
            raise RuntimeError("the offline server is not bound yet: call start() or bind()")
        return Addresses(self.host, self.port)

    def bind(self) -> str:
        """Bind and listen (port 0 picks a free one); returns ``base_url``. Idempotent."""
        if self._sock is None:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((self.host, self.port))
                sock.listen(128)
                sock.setblocking(False)
            except OSError:
                sock.close()
                raise
            self._sock = sock
            self.port = sock.getsockname()[1]
            self._bound = True  # base_url stays readable after stop()
        return self.base_url

    def adopt(self, sock: socket.socket) -> str:
        """Serve on a socket already bound and listening (one handed to a child process, see
        :mod:`tui.offline.embedded`); returns ``base_url``."""
        if self._sock is not None:
            raise RuntimeError("the offline server already has a socket")
        sock.setblocking(False)
        self._sock = sock
        self.host, self.port = sock.getsockname()[:2]
        self._bound = True
        return self.base_url

    # -- lifecycle ---------------------------------------------------------------------------

    def start_serving(self) -> None:
        """Nothing more to do: :meth:`start` serves (or, ``lazy``, wakes on the first call)."""

    def start(self, *, wait: bool = True, lazy: bool = False) -> OfflineServer:
        """Serve from a daemon thread with its own event loop; returns once serving.

        With ``wait=False`` it returns as soon as the socket listens (``base_url`` is known and
        connections queue in the backlog) while aiohttp loads and starts in the thread.
        ``lazy=True`` (implies ``wait=False``) goes further — what the headless commands use
        (the app serves from a child process, :mod:`tui.offline.embedded`): the thread sleeps,
        with no wakeups, until the first connection arrives (or :meth:`stop`), and only then
        imports aiohttp and serves; that first caller waits for it. A server nobody calls costs
        no import, no memory for aiohttp and no CPU.
        """
        if self._thread is not None:
            return self
        self.bind()
        ready = threading.Event()
        self._startup_error = None
        self._stopping.clear()
        if lazy:
            wait = False
            self._wake = socket.socketpair()
        self._thread = threading.Thread(
            target=self._thread_main,
            args=(ready, lazy),
            name=f"offline-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        if not wait:
            return self
        if not ready.wait(_START_TIMEOUT) or self._startup_error is not None:
            self.stop()
            raise RuntimeError(f"offline server failed to start: {self._startup_error!r}")
        return self

    def stop(self) -> None:
        """Stop serving and close the socket. Idempotent; safe from any thread but the loop's."""
        self._stopping.set()  # seen by a thread that is still waiting or still starting
        if self._wake is not None:
            with contextlib.suppress(OSError):
                self._wake[1].send(b"x")
        loop, event, thread = self._loop, self._stop_event, self._thread
        if loop is not None and event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # loop closed meanwhile
                loop.call_soon_threadsafe(event.set)
        if thread is not None and thread is not threading.current_thread():
            thread.join(_START_TIMEOUT)
        self._thread = None
        if self._wake is not None and (thread is None or not thread.is_alive()):
            for end in self._wake:
                end.close()
            self._wake = None
        # In serve() mode the serving coroutine closes the socket itself when it ends.
        if self._sock is not None and (thread is not None or loop is None):
            self._sock.close()
            self._sock = None

    def __enter__(self) -> OfflineServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def serve(self) -> None:
        """Serve inside the caller's loop until cancelled (or ``stop()`` from another thread)."""
        self.bind()
        self._stopping.clear()
        try:
            await self._serve_until_stopped(None)
        finally:
            if self._sock is not None:
                self._sock.close()
                self._sock = None

    def _first_call(self) -> bool:
        """Sleep until a connection waits in the backlog (True) or :meth:`stop` is called."""
        assert self._sock is not None and self._wake is not None
        while not self._stopping.is_set():
            with contextlib.suppress(InterruptedError):
                readable, _, _ = select.select([self._sock, self._wake[0]], [], [])
                if self._sock in readable:
                    return not self._stopping.is_set()
        return False

    def _thread_main(self, ready: threading.Event, lazy: bool = False) -> None:
        if lazy and not self._first_call():
            return  # stopped before anyone called: stop() closes the socket
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve_until_stopped(ready))
        except BaseException as error:
            self._startup_error = error
            if self._sock is not None:  # refuse connections instead of leaving them queued
                self._sock.close()
                self._sock = None
            ready.set()
        finally:
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    async def _serve_until_stopped(self, ready: threading.Event | None) -> None:
        from aiohttp import web  # imported here, so binding (and the app's start) needn't wait

        from .account import AccountHandlers
        from .handlers import OFFLINE_CATALOG_ENTRY, ApiHandlers

        assert self._sock is not None
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        if self._stopping.is_set():  # stop() came while aiohttp was loading
            self._stop_event.set()
        handlers = ApiHandlers(
            simulation=self._simulation,
            picker=self._picker,
            stats=self.stats,
            token=lambda: self.require_token,
            origin=lambda: self.origin,
            also_accepts=self.signin.accepts,
            catalog_entry=lambda: dict(self.catalog_entry or OFFLINE_CATALOG_ENTRY),
        )
        app = handlers.build_app()
        AccountHandlers(
            desk=self.signin,
            balance=lambda: self.balance_usd,
            token_refused=handlers.token_refused,
            origin=lambda: self.origin,
            count=self.stats.add,
        ).add_routes(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.25)
        await runner.setup()
        try:
            await web.SockSite(runner, self._sock).start()
            if ready is not None:
                ready.set()
            await self._stop_event.wait()
        finally:
            await runner.cleanup()
            self._stop_event = None
            self._loop = None


def run_standalone(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    timing: Timing | None = None,
    faults: FaultConfig | None = None,
    require_token: str | None = None,
) -> None:
    """Serve until Ctrl-C, announcing the base URL on stderr (blocking)."""
    server = OfflineServer(
        host=host, port=port, timing=timing, faults=faults, require_token=require_token
    )
    base_url = server.bind()
    print(f"offline Model API listening on {base_url}", file=sys.stderr)
    print(
        "offline render: images are drawn locally by Pillow, not by GPT Image 2; "
        "nothing is billed. Ctrl-C stops.",
        file=sys.stderr,
        flush=True,
    )
    print(
        f"balance at {server.serverless_base} (RUNCOMFY_SERVERLESS_API_BASE); device-code "
        f"sign-in at {server.web_base} (RUNCOMFY_WEB_BASE), codes approved at "
        f"{server.web_base}/device",
        file=sys.stderr,
        flush=True,
    )
    try:
        asyncio.run(server.serve())
    except KeyboardInterrupt:
        pass
    print("offline server stopped", file=sys.stderr, flush=True)
