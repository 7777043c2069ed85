"""Pilot tests of the money and account parts of the app: the price in the composer, a sweep's
estimate and the balance warning, session spend in the header, the balance from the palette,
and signing in from the OFFLINE badge — switching a running app from the offline backend to the
API. Against real loopback servers, real SQLite and real files."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from conftest import app_for, run_from_palette, until
from pydantic import SecretStr
from textual.widgets import Label, Static

from tui.config import load_settings
from tui.models import JobRequest, JobState
from tui.offline.faults import Timing
from tui.offline.server import OfflineServer
from tui.services.graph import Services, open_services, switch_to_api
from tui.trust.token import Token
from tui.ui.app import GptImageApp
from tui.ui.screens.signin import SignInScreen
from tui.ui.screens.sweep import SweepConfirmScreen
from tui.ui.widgets.composer import Composer, PromptEditor

FAST = Timing(queue_seconds=0.05, run_seconds=0.05, queue_ahead=1)
HELD = Timing(queue_seconds=1e9, run_seconds=1e9, queue_ahead=1)
TOKEN = "rc-tui-token-51c2"


@pytest.fixture
def api() -> Iterator[OfflineServer]:
    """A loopback stand-in for RunComfy: a token required, $0.04 an image, a $0.50 wallet."""
    server = OfflineServer(timing=FAST, require_token=TOKEN).start()
    server.catalog_entry = {"base_price_usd": 0.04, "price_unit": "image"}
    server.balance_usd = 0.50
    server.signin.poll_interval = 0.05
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def api_services(
    app_home: Path, tmp_path: Path, api: OfflineServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Services]:
    """Signed in on the "API" (the loopback server as if it were RunComfy)."""
    monkeypatch.setenv("RUNCOMFY_TOKEN", TOKEN)
    monkeypatch.setenv("RUNCOMFY_SERVERLESS_API_BASE", api.serverless_base)
    settings = load_settings(api_base=api.base_url, output_dir=tmp_path / "out",
                             poll_interval=0.05)
    built = open_services(settings)
    try:
        yield built
    finally:
        await built.aclose()


def text(app: GptImageApp, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def notices(app: GptImageApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_price_in_the_composer_and_a_sweeps_estimate_with_the_balance_warning(
    api_services: Services, api: OfflineServer
) -> None:
    app = app_for(api_services)
    async with app.run_test(size=(100, 30)) as pilot:
        composer = app.main_screen.query_one(Composer)
        await until(pilot, lambda: composer.price() is not None)
        assert text(app, "#price") == "Price ≈ $0.04 per image"
        composer.query_one(PromptEditor).load_text("a {red|green|blue|black|white|grey} fox "
                                                   "at {dawn|noon|dusk|night}")
        await pilot.pause()
        assert text(app, "#sweep-count").startswith("sweep: 24 jobs ≈ $0.96 (asks first)")
        await pilot.press("ctrl+j")
        await until(pilot, lambda: isinstance(app.screen, SweepConfirmScreen))
        assert text(app, "#sweep-question").startswith("This sweep sends 24 jobs ≈ $0.96")
        # The balance is fetched as the question opens: $0.50 is less than $0.96.
        await until(pilot, lambda: app.screen.query_one("#sweep-balance").has_class("-shown"))
        assert "balance is $0.50 USD" in text(app, "#sweep-balance")
        assert "$0.96" in text(app, "#sweep-balance")
        await pilot.press("n")
        await pilot.pause()
        assert api_services.history.count() == 0 and api.stats.submits == 0
        # A small sweep over the (now known) balance asks too, instead of sending at once.
        composer.query_one(PromptEditor).load_text("{a|b|c|d|e|f|g|h|i|j|k|l|m} cat")
        await pilot.press("ctrl+j")
        await until(pilot, lambda: isinstance(app.screen, SweepConfirmScreen))
        await pilot.press("n")
    assert api.stats.submits == 0 and api.stats.catalog_gets == 2  # one per endpoint


async def test_session_spend_in_the_header_and_the_price_recorded(
    api_services: Services, api: OfflineServer
) -> None:
    app = app_for(api_services)
    async with app.run_test(size=(100, 30)) as pilot:
        assert text(app, "#session-spend") == "session $0.00"
        await until(pilot, lambda: app.main_screen.query_one(Composer).price() is not None)
        app.main_screen.query_one(PromptEditor).load_text("a lighthouse at dawn")
        await pilot.press("ctrl+j")
        await until(pilot, lambda: api_services.history.count() == 1)
        job_id = api_services.history.list_jobs()[0].id
        await until(pilot, lambda: api_services.history.get(job_id).state is JobState.COMPLETED)
        await until(pilot, lambda: text(app, "#session-spend") == "session $0.04")
        assert str(api_services.history.get(job_id).price_usd) == "0.04"


async def test_balance_from_the_palette(api_services: Services, api: OfflineServer) -> None:
    app = app_for(api_services)
    async with app.run_test(size=(100, 30)) as pilot:
        await run_from_palette(pilot, "Show balance")
        await until(pilot, lambda: any("balance: $0.50 USD" in n for n in notices(app)))
    assert api.stats.balance_gets == 1


@pytest.fixture
async def offline_services(
    app_home: Path, tmp_path: Path, api: OfflineServer, offline_server: OfflineServer,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Services]:
    """No token: the app runs on the offline backend; signing in goes to the "API" server."""
    monkeypatch.setenv("RUNCOMFY_WEB_BASE", api.web_base)
    settings = load_settings(offline=True, api_base=api.base_url, output_dir=tmp_path / "out",
                             poll_interval=0.05)
    built = open_services(settings, offline_server=offline_server)
    try:
        yield built
    finally:
        await built.aclose()


async def test_sign_in_from_the_offline_badge_switches_the_running_app_to_the_api(
    offline_services: Services, offline_server: OfflineServer, api: OfflineServer,
    app_home: Path, tmp_path: Path,
) -> None:
    offline_server.timing = HELD  # an offline job is still in flight when we switch
    # An earlier session sent a job to the API and quit before it finished.
    api.timing = HELD
    earlier = open_services(
        load_settings(api_base=api.base_url, output_dir=tmp_path / "out", poll_interval=0.05,
                      env={"RUNCOMFY_TOKEN": TOKEN, "GPT_IMAGE_TUI_HOME": str(app_home)}),
    )
    left_behind = earlier.engine.create(JobRequest("sent to the API yesterday", "1024_1024"))
    left_behind = await earlier.engine.submit(left_behind.id)
    await earlier.aclose()
    assert left_behind.request_id is not None and left_behind.state is JobState.QUEUED
    api.advance(left_behind.request_id, "completed")
    api.timing = FAST
    app = app_for(offline_services)
    async with app.run_test(size=(100, 30)) as pilot:
        history = offline_services.history
        app.main_screen.query_one(PromptEditor).load_text("offline, still running")
        await pilot.press("ctrl+j")
        await until(pilot, lambda: history.count() == 2
                         and history.list_jobs()[0].state is JobState.QUEUED)
        offline_job = history.list_jobs()[0]
        assert history.get(left_behind.id).state is JobState.QUEUED  # another backend's: untouched
        assert text(app, "#price") == "Price offline · $0, nothing billed"

        await pilot.click("#offline-badge")
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        screen = app.screen
        assert isinstance(screen, SignInScreen)
        await until(pilot, lambda: screen.code is not None)
        assert screen.code is not None
        code = screen.code.user_code
        assert str(screen.query_one("#signin-code", Static).render()) == code
        url = str(screen.query_one("#signin-url", Static).render())
        assert url == f"{api.web_base}/device?code={code}"
        await pilot.press("c")
        assert app.clipboard == url  # OSC 52: copyable over SSH
        await until(pilot, lambda: api.signin.sessions()[-1].polls >= 2)  # pending…
        token = api.signin.approve(code)
        await until(pilot, lambda: screen.finished is True)
        assert "Signed in" in screen.status_text
        await until(pilot, lambda: not isinstance(app.screen, SignInScreen))

        # token.json as `runcomfy login` writes it, and the app now talks to the API.
        token_file = tmp_path / "xdg" / "runcomfy" / "token.json"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert f'"access_token": "{token}"' in token_file.read_text()
        bar = app.main_screen.query_one("#topbar")
        assert not bar.has_class("-offline") and bar.has_class("-signed-in")
        assert "signed in via token file" in str(bar.query_one("#backend", Label).render())
        assert token not in str(bar.query_one("#backend", Label).render())
        await until(pilot, lambda: text(app, "#price") == "Price ≈ $0.04 per image")

        # The API job of the earlier session is resumed, as a restart would.
        await until(pilot, lambda: history.get(left_behind.id).state is JobState.COMPLETED)

        # The offline job is still followed on the offline server and finishes there.
        assert offline_job.request_id is not None
        offline_server.advance(offline_job.request_id, "completed")
        await until(pilot, lambda: history.get(offline_job.id).state is JobState.COMPLETED)

        # A new job goes to the API, with the token the sign-in produced.
        app.main_screen.query_one(PromptEditor).load_text("signed in now")
        app.main_screen.query_one(PromptEditor).focus()
        await pilot.press("ctrl+j")
        await until(pilot, lambda: history.count() == 3)
        new_job = history.list_jobs()[0]
        await until(pilot, lambda: history.get(new_job.id).state is JobState.COMPLETED)
        assert history.get(new_job.id).price_usd is not None
        await until(pilot, lambda: text(app, "#session-spend") == "session $0.04")
    assert offline_server.stats.submits == 1 and api.stats.submits == 2  # nothing sent twice
    assert api.stats.requests_with_bad_token == 0
    assert offline_services.offline is None  # the test's server: still the test's to stop


async def test_sign_in_denied_stays_offline_and_escape_gives_up(
    offline_services: Services, api: OfflineServer, tmp_path: Path
) -> None:
    api.signin.auto = "deny"
    app = app_for(offline_services)
    async with app.run_test(size=(100, 30)) as pilot:
        app.action_sign_in()
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        screen = app.screen
        assert isinstance(screen, SignInScreen)
        await until(pilot, lambda: screen.finished is False)
        assert "denied" in screen.status_text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SignInScreen)
        assert app.main_screen.query_one("#topbar").has_class("-offline")
        assert not (tmp_path / "xdg" / "runcomfy" / "token.json").exists()

        api.signin.auto = None  # nobody answers: escape stops the polling
        app.action_sign_in()
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        await until(pilot, lambda: api.stats.signin_polls >= 3)
        await pilot.press("escape")
        await until(pilot, lambda: not any(w.group == "sign-in" for w in app.workers))
        polls = api.stats.signin_polls
        await pilot.pause(0.3)  # nothing is left to poll: the count stays where it is
        assert api.stats.signin_polls == polls


def test_switching_builds_a_new_engine_on_the_api_sharing_history(
    offline_services: Services, api: OfflineServer
) -> None:
    switched = switch_to_api(offline_services, Token(SecretStr(TOKEN), "RUNCOMFY_TOKEN"))
    assert switched.history is offline_services.history
    assert switched.output_files is offline_services.output_files
    assert switched.engine is not offline_services.engine
    assert switched.engine.backend == api.base_url and offline_services.engine.backend == "offline"
    assert switched.client.base_url == api.base_url and switched.signed_in
    assert not switched.settings.offline
