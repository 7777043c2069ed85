"""What every test shares: an isolated app home, the real offline backend on loopback, the
engine rig, the app built the way launch builds it (the real services factory; a fixed image
renderer, and a frozen clock where a test needs one), and the one way to wait for the app."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from textual.pilot import Pilot

from tui.api.client import ModelApiClient
from tui.api.retry import RetryPolicy
from tui.config import Settings, load_settings
from tui.jobs import JobEngine, JobEvent
from tui.models import prepare_request
from tui.offline.faults import FaultConfig, Timing
from tui.offline.server import OfflineServer
from tui.services.graph import Services, embed_recipe_hook, open_services
from tui.storage.downloads import Downloader
from tui.storage.files import OutputFiles
from tui.storage.history import History
from tui.trust.token import Token
from tui.ui.app import GptImageApp, Prefill
from tui.ui.imaging import GraphicsChoice, ImageKit, PreviewCache, image_widget_class

FAST = Timing(queue_seconds=0.05, run_seconds=0.05, queue_ahead=1)
SLOW = Timing(queue_seconds=1e9, run_seconds=1e9, queue_ahead=2)  # jobs move only by advance()
FAST_POLICY = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.05, call_deadline=10.0)
TEST_TOKEN = "test-token-123"


class Rig:
    """A real engine wired to a loopback server, a real SQLite file and real files; every event
    recorded. Keyword arguments reach the engine (``give_up_after``, ``request_id_patience``…)."""

    def __init__(
        self,
        server: OfflineServer,
        tmp: Path,
        *,
        poll: float = 0.02,
        policy: RetryPolicy = FAST_POLICY,
        busy_timeout: float = 10.0,
        output_dir: Path | None = None,
        database: Path | None = None,
        **engine_options: Any,
    ) -> None:
        self.server = server
        self.events: list[JobEvent] = []
        self.history = History(database or tmp / "history.sqlite3", busy_timeout=busy_timeout)
        self.output_dir = output_dir or tmp / "out"
        self.files = OutputFiles(self.output_dir)
        self.files.ensure()
        token = Token(SecretStr(TEST_TOKEN), "RUNCOMFY_TOKEN")
        self.client = ModelApiClient(server.base_url, token, policy=policy)
        self.downloader = Downloader(api_base=server.base_url, backoff=0.01, max_backoff=0.05)
        engine_options.setdefault("backend", "test")
        self.engine = JobEngine(
            client=self.client,
            history=self.history,
            downloader=self.downloader,
            output_files=self.files,
            poll_interval=poll,
            on_event=self.events.append,
            before_commit=embed_recipe_hook(self.history),
            **engine_options,
        )

    def job(self, prompt: str = 'a sign that reads "OPEN"', **kw: Any) -> int:
        prepared = prepare_request(prompt, kw.get("size"), kw.get("images", ()))
        return self.engine.create(prepared.request, output_dir=kw.get("output_dir")).id

    async def until(self, predicate: Callable[[], bool], timeout: float = 60.0) -> None:
        """Wait, engine event by engine event, until ``predicate`` holds (every write the
        engine makes is followed by an event); bounded, so a hang fails instead of stalling
        (generously: it ends as soon as the predicate holds, so a slow machine costs nothing)."""
        changed = asyncio.Event()
        stop = self.engine.subscribe(lambda _event: changed.set())
        try:
            async with asyncio.timeout(timeout):
                while not predicate():
                    await changed.wait()
                    changed.clear()
        finally:
            stop()

    def messages(self, job_id: int) -> list[str]:
        return [e.message for e in self.events if e.job.id == job_id and e.message]

    def images(self, directory: Path | None = None) -> list[Path]:
        folder = directory or self.output_dir
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))

    def temps(self, directory: Path | None = None) -> list[Path]:
        folder = directory or self.output_dir
        return [p for p in folder.iterdir() if p.name.startswith(".")]

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.downloader.aclose()
        self.history.close()


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests don't depend on the caller's terminal settings (NO_COLOR, FORCE_COLOR …); a test
    about them sets them itself."""
    for name in ("NO_COLOR", "FORCE_COLOR", "TEXTUAL", "TEXTUAL_THEME"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Config, data, cache and outputs under tmp_path; no real token reachable."""
    home = tmp_path / "home"
    monkeypatch.setenv("GPT_IMAGE_TUI_HOME", str(home))
    for name in ("RUNCOMFY_TOKEN", "RUNCOMFY_CONFIG_DIR", "RUNCOMFY_MODEL_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    return home


@pytest.fixture
def offline_server() -> Iterator[OfflineServer]:
    """The embedded offline backend on a free loopback port, with fast timings."""
    server = OfflineServer(timing=FAST, faults=FaultConfig()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def rig(offline_server: OfflineServer, tmp_path: Path) -> AsyncIterator[Rig]:
    made = Rig(offline_server, tmp_path)
    yield made
    await made.aclose()


# ------------------------------------------------------------------ the headless commands, run
# as real processes

TOKEN = "rc-SECRET-token-4f9a2c"


@pytest.fixture
def env(app_home: Path) -> dict[str, str]:
    environment = dict(os.environ)
    environment["RUNCOMFY_TOKEN"] = TOKEN
    environment["PYTHONUNBUFFERED"] = "1"
    return environment


def cli(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], env=env, capture_output=True, text=True,
        timeout=timeout, stdin=subprocess.DEVNULL,
    )


def spawn(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tui", *args], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )


def history_of(home: Path) -> History:
    return History(home / "data" / "history.sqlite3")


def wait_until(predicate: Callable[[], bool], timeout: float = 90) -> None:
    """Poll real state (files, the database, server counters); generous for slow CI machines."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (KeyError, FileNotFoundError, OSError):
            pass
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def first_job(home: Path):  # type: ignore[no-untyped-def]
    with history_of(home) as history:
        jobs = history.list_jobs(limit=5)
    return jobs[-1] if jobs else None


def images_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if not p.name.startswith(".")) if directory.exists() else []


def temps_in(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if p.name.startswith(".")] if directory.exists() else []


# ------------------------------------------------------------------ the app, as launch builds it

HALFCELL = GraphicsChoice("halfcell", "--graphics halfcell")


def halfcell_kit(cache_dir: Path, **cache_options: Any) -> ImageKit:
    """Images drawn as half-cell blocks whatever the terminal: a fixed renderer."""
    return ImageKit(HALFCELL, PreviewCache(cache_dir, **cache_options), image_widget_class(HALFCELL))


def app_for(
    services: Services,
    *,
    clock: Callable[[], float] = time.time,
    prefill: Prefill | None = None,
    animations: bool = True,
) -> GptImageApp:
    """The app over ``services`` with a fixed image renderer (and ``clock`` for its cards)."""
    app = GptImageApp(
        services,
        prefill=prefill,
        kit=halfcell_kit(services.settings.locations.preview_cache),
        clock=clock,
    )
    if not animations:
        app.animation_level = "none"
    return app


def offline_settings(tmp_path: Path, **options: Any) -> Settings:
    """Settings of the app on the offline backend, images saved under ``tmp_path``."""
    options.setdefault("poll_interval", 0.05)
    return load_settings(offline=True, output_dir=tmp_path / "out", **options)


@pytest.fixture
async def services(
    app_home: Path, tmp_path: Path, offline_server: OfflineServer
) -> AsyncIterator[Services]:
    """The real services factory on the offline backend (the test's loopback server)."""
    built = open_services(offline_settings(tmp_path), offline_server=offline_server)
    try:
        yield built
    finally:
        await built.aclose()


@pytest.fixture
def frozen_services(
    app_home: Path, tmp_path: Path, offline_server: OfflineServer
) -> Iterator[Callable[[float], Services]]:
    """The real services factory with a frozen clock, for snapshots (their jobs are seeded as
    another live process's, so nothing is sent)."""
    opened: list[Services] = []

    def open_frozen(now: float) -> Services:
        built = open_services(offline_settings(tmp_path), offline_server=offline_server,
                              clock=lambda: now)
        opened.append(built)
        return built

    yield open_frozen
    for built in opened:  # the app closed the HTTP clients on its own loop
        built.history.close()


# ------------------------------------------------------------------ waiting for the app

LONG_LIVED_GROUPS = frozenset({"jobs", "sign-in"})  # follow a job, wait for a sign-in


async def settle(pilot: Pilot[Any]) -> None:
    """Wait for the workers that end by themselves (reads, previews, thumbnails, cancels) and
    for what their results start, then for the screen to catch up.

    A worker may be started by a callback that runs only after the next refresh, and a pause
    can return before a loaded machine got to it: so the app must be seen quiet (no such worker
    pending) after two pauses in a row, not once. A condition that arrives from outside the app
    (a server, another process, a job's progress) is waited for with :func:`until`."""
    quiet = 0
    for _ in range(20):
        await pilot.pause()
        pending = [
            worker for worker in pilot.app.workers
            if worker.group not in LONG_LIVED_GROUPS and not worker.is_finished
        ]
        if pending:
            quiet = 0
            await pilot.app.workers.wait_for_complete(pending)
        else:
            quiet += 1
            if quiet == 2:
                return


async def until(pilot: Pilot[Any], condition: Callable[[], bool], *, seconds: float = 30.0) -> None:
    """Let the app run until ``condition`` holds — for what arrives from outside it (a server,
    another process, a job's progress); bounded, so a hang fails instead of stalling
    (generously: it ends as soon as the condition holds, so a slow machine costs nothing)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never became true")


async def run_from_palette(pilot: Pilot[Any], title: str) -> None:
    """Open the command palette, type ``title``, wait for it to be the highlighted hit, run it."""
    from textual.command import CommandList, CommandPalette

    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
    await pilot.press(*title)

    def found() -> bool:
        hits = pilot.app.screen.query(CommandList)
        option = hits.first().highlighted_option if hits else None
        return option is not None and title.lower() in str(option.prompt).lower()

    await until(pilot, found)
    await pilot.press("enter")
