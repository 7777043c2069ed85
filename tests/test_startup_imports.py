"""What start-up costs, checked by what gets loaded — deterministic, never a timer.

Each case runs in a fresh interpreter (a real process, a real history file under tmp_path) and
looks at ``sys.modules`` afterwards: a headless local read must not load the HTTP stack,
pydantic, Textual, Pillow or aiohttp; building the parser loads no command; HTTP clients cost
nothing until their first request; the embedded offline server loads aiohttp only when it is
first called; choosing the image renderer doesn't load textual_image. ``bench/`` measures the
times these keep down (issue 9, rows 1, 2 and 10).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import cli, history_of

from tui.models import JobRequest
from tui.offline.embedded import NICENESS
from tui.trust.urls import UnsafeUrl, _checked_base, _is_plain_base, normalise_base_url

HEAVY = ("httpx", "httpcore", "pydantic", "textual", "rich", "PIL", "aiohttp", "asyncio",
         "textual_image", "urllib.request", "email.message")


def loaded_after(code: str, env: dict[str, str]) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; it sets ``result`` (a dict); the heavy modules that
    ended up loaded are added as ``loaded``."""
    script = (
        "import json, sys\n"
        f"{code}\n"
        f"result['loaded'] = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "print(json.dumps(result))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    last: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return last


def test_history_lists_from_the_database_alone(env: dict[str, str], app_home: Path) -> None:
    """``history --limit 1`` (and ``--offline``, ``--json``) is one SELECT: no HTTP stack, no
    pydantic, no event loop, no offline server — and still lists the newest job."""
    (app_home / "data").mkdir(parents=True)
    with history_of(app_home) as history:
        history.create_job(JobRequest("an older prompt", "1024_1024"))
        history.create_job(JobRequest("the newest prompt", "1024_1536"))
    for args in (["history", "--limit", "1"], ["history", "--limit", "1", "--offline", "--json"]):
        code = (
            "import contextlib, io\n"
            "from tui.__main__ import main\n"
            "out = io.StringIO()\n"
            f"with contextlib.redirect_stdout(out):\n    code = main({args!r})\n"
            "result = {'code': code, 'out': out.getvalue()}"
        )
        result = loaded_after(code, env)
        assert result["code"] == 0
        assert "the newest prompt" in str(result["out"]) and "older" not in str(result["out"])
        assert result["loaded"] == [], args


def test_spend_is_a_local_read_too(env: dict[str, str], app_home: Path) -> None:
    (app_home / "data").mkdir(parents=True)
    with history_of(app_home) as history:
        history.create_job(JobRequest("never sent", "1024_1024"))
    for args, expected in ((["spend"], "nothingbilled"), (["spend", "--json"], '"currency":"USD"')):
        result = loaded_after(
            "import contextlib, io\n"
            "from tui.__main__ import main\n"
            "out = io.StringIO()\n"
            f"with contextlib.redirect_stdout(out):\n    code = main({args!r})\n"
            "result = {'code': code, 'out': out.getvalue()}",
            env,
        )
        assert result["code"] == 0 and expected in str(result["out"]).replace(" ", "")
        assert result["loaded"] == [], args


def test_history_output_is_unchanged(env: dict[str, str], app_home: Path) -> None:
    (app_home / "data").mkdir(parents=True)
    with history_of(app_home) as history:
        job = history.create_job(JobRequest("a \x1b[31mred\x1b[0m fox", "1024_1024"))
    plain = cli("history", env=env)
    assert plain.returncode == 0, plain.stderr
    line = plain.stdout.splitlines()[0]
    assert line.split()[0] == str(job.id) and "pending" in line and "a red fox" in line
    assert "\x1b" not in plain.stdout
    listed = cli("history", "--json", env=env)
    row = json.loads(listed.stdout)
    assert row["job"] == job.id and row["status"] == "pending" and row["prompt"] == job.request.prompt


def test_history_creates_a_missing_database(env: dict[str, str], app_home: Path) -> None:
    done = cli("history", env=env)
    assert done.returncode == 0 and done.stdout == ""
    assert (app_home / "data" / "history.sqlite3").is_file()


def test_building_the_parser_loads_no_command(env: dict[str, str]) -> None:
    result = loaded_after(
        "from tui.__main__ import build_parser\n"
        "args = build_parser().parse_args(['batch', 'f.jsonl', '--budget', '$2.50'])\n"
        "result = {'budget': str(args.budget), 'cli_modules': sorted(m for m in sys.modules "
        "if m.startswith('tui.cli.') and m != 'tui.cli.arguments')}",
        env,
    )
    assert result == {"budget": "2.50", "cli_modules": [], "loaded": []}


def test_clients_cost_nothing_until_their_first_request(env: dict[str, str], tmp_path: Path) -> None:
    """Building the offline services makes no HTTP client and loads no CA bundle or aiohttp;
    the first request builds its client (plain http: still no CA bundle) and wakes the server."""
    code = (
        "import asyncio\n"
        "from tui.api.tls import tls_context\n"
        "from tui.config import load_settings\n"
        "from tui.services.graph import open_services\n"
        "from tui.models import Endpoint\n"
        f"settings = load_settings(offline=True, env={{'GPT_IMAGE_TUI_HOME': {str(tmp_path)!r}}})\n"
        "services = open_services(settings)\n"
        "result = {'at_start': sorted(m for m in ('httpcore', 'aiohttp', 'PIL.ImageDraw') "
        "if m in sys.modules), 'ca_loaded': tls_context.cache_info().currsize}\n"
        "async def ask():\n"
        "    price = await services.prices.price(Endpoint.TEXT_TO_IMAGE)\n"
        "    await services.close_clients()\n"
        "    return price\n"
        "price = asyncio.run(ask())\n"
        "services.history.close(); services.offline.stop()\n"
        "result.update(offline_price=price.offline, after_request=sorted(m for m in "
        "('httpcore', 'aiohttp') if m in sys.modules), "
        "ca_loaded_after=tls_context.cache_info().currsize)"
    )
    result = loaded_after(code, env)
    assert result["at_start"] == [] and result["ca_loaded"] == 0
    assert result["offline_price"] is True
    assert result["after_request"] == ["aiohttp", "httpcore"]
    assert result["ca_loaded_after"] == 0  # http:// on loopback never needs it


def test_https_clients_share_one_ca_bundle() -> None:
    from tui.api.tls import context_for, no_tls_context, tls_context

    assert context_for("https://model-api.runcomfy.net/v1") is tls_context()
    assert context_for("HTTPS://api.runcomfy.net") is tls_context()
    plain = context_for("http://127.0.0.1:8765/v1")
    assert plain is not tls_context() and plain.get_ca_certs() == []
    import ssl

    strict = no_tls_context()  # nothing unchecked could go through it
    assert strict.verify_mode == ssl.CERT_REQUIRED and strict.check_hostname


def test_lazy_offline_server_sleeps_until_called(env: dict[str, str]) -> None:
    """Bound at once (its URL is known), aiohttp only on the first connection; stopped before
    anyone called, it ends at once and frees the port."""
    code = (
        "import socket, threading, time, urllib.request\n"
        "from tui.offline.server import OfflineServer\n"
        "server = OfflineServer().start(lazy=True)\n"
        "base = server.base_url\n"
        "result = {'bound': base.startswith('http://127.0.0.1:'), "
        "'aiohttp_before': 'aiohttp' in sys.modules}\n"
        "with urllib.request.urlopen(server.origin + '/v1/models/openai/gpt-image-2/text-to-image',"
        " timeout=30) as answer:\n"
        "    result['status'] = answer.status\n"
        "result['aiohttp_after'] = 'aiohttp' in sys.modules\n"
        "server.stop()\n"
        "idle = OfflineServer().start(lazy=True)\n"
        "port = idle.port\n"
        "idle.stop()\n"
        "result['thread_gone'] = not any(t.name == f'offline-server-{port}' and t.is_alive() "
        "for t in threading.enumerate())\n"
        "probe = socket.socket()\n"
        "result['port_closed'] = probe.connect_ex(('127.0.0.1', port)) != 0\n"
        "probe.close()\n"
    )
    result = loaded_after(code, env)
    assert result["bound"] and not result["aiohttp_before"]
    assert result["status"] == 200 and result["aiohttp_after"]
    assert result["thread_gone"] and result["port_closed"]


def test_choosing_the_renderer_does_not_load_textual_image(env: dict[str, str]) -> None:
    result = loaded_after(
        "from tui.ui.imaging import detect_graphics, image_widget_class\n"
        "choice = detect_graphics('halfcell', {'TERM': 'xterm-256color'})\n"
        "result = {'before': sorted(m for m in sys.modules if m.startswith('textual_image.'))}\n"
        "widget = image_widget_class(choice)\n"
        "result['after'] = widget.__module__.startswith('textual_image')",
        {**env, "TERM": "xterm-256color"},
    )
    assert result["before"] == [] and result["after"] is True  # (its empty package is looked at)


def test_loaded_after_sees_what_it_checks(env: dict[str, str]) -> None:
    """The helper itself: a module that is imported is reported (the checks above can fail)."""
    result = loaded_after("import httpx\nresult = {}", env)
    assert "httpx" in result["loaded"]


PLAIN_BASES = [
    "https://model-api.runcomfy.net/v1",
    "https://api.runcomfy.net/prod/v2",
    "https://www.runcomfy.com",
    "https://www.runcomfy.com/",
    "https://a-b.example.co.uk:8443/x/y_z.1~v",
    "http://127.0.0.1:8765/v1",
    "http://localhost:1/v1",
    "http://127.0.0.1",
    "https://xn--bcher-kva.example/v1",
]
OTHER_BASES = [
    "https://999.1.1.1/v1",  # an IP literal that isn't one: httpx refuses it
    "https://1.2.3.4/v1",
    "https://Model-API.runcomfy.net/v1",
    "https://-bad.example.com",
    "http://127.0.0.1:99999/v1",
    "http://127.0.0.1:0/v1",
    "http://example.com/v1",
    "http://[::1]:8765/v1",
    "https://user@runcomfy.net/v1",
    "https://runcomfy.net/v1?x=1",
    "https://runcomfy.net/v1#top",
    "ftp://runcomfy.net/v1",
    "https://runcomfy.net/%7Ev1",
]


def _answer(check: Any, url: str) -> str:
    try:
        return str(check(url))
    except UnsafeUrl as exc:
        return f"refused: {exc}"


@pytest.mark.parametrize("url", PLAIN_BASES + OTHER_BASES)
def test_plain_bases_get_the_full_checks_answer(url: str) -> None:
    """The usual bases are accepted without loading httpx — with exactly the answer the full
    (httpx) check gives; anything else still gets the full check."""
    full = _answer(_checked_base, url.strip().rstrip("/"))
    assert _answer(normalise_base_url, url) == full
    assert _is_plain_base(url.rstrip("/")) == (url in PLAIN_BASES)
    if url in PLAIN_BASES:
        assert not full.startswith("refused")


def test_settings_and_offline_services_load_no_http_stack(env: dict[str, str], tmp_path: Path) -> None:
    """What the app builds before its first frame: settings with the default bases and the
    offline services — no httpx until a request is made."""
    result = loaded_after(
        "from tui.config import load_settings\n"
        "from tui.services.graph import open_services\n"
        f"settings = load_settings(offline=True, env={{'GPT_IMAGE_TUI_HOME': {str(tmp_path)!r}}})\n"
        "services = open_services(settings)\n"
        "result = {'http': sorted(m for m in ('httpx', 'httpcore', 'aiohttp') if m in sys.modules)}\n"
        "services.history.close(); services.offline.stop()",
        env,
    )
    assert result["http"] == []


def test_the_apps_offline_server_runs_in_a_child_process(env: dict[str, str], tmp_path: Path) -> None:
    """The app's services (``offline_process=True``): the server answers from a child process,
    so neither aiohttp nor the renderer is ever loaded in the app's; the child starts when the
    app says (once its first frame is out), a call made before waits for it and is answered;
    stopping ends the child."""
    code = (
        "import asyncio, os\n"
        "from tui.config import load_settings\n"
        "from tui.models import Endpoint\n"
        "from tui.services.graph import open_services\n"
        f"settings = load_settings(offline=True, env={{'GPT_IMAGE_TUI_HOME': {str(tmp_path)!r}}})\n"
        "services = open_services(settings, offline_process=True)\n"
        "before_serve = services.offline.pid  # the child starts when the app says so\n"
        "async def ask():\n"
        "    try:\n"
        "        call = asyncio.create_task(services.prices.price(Endpoint.TEXT_TO_IMAGE))\n"
        "        await asyncio.sleep(0.3)\n"
        "        waited = not call.done()  # connected, in the socket's backlog\n"
        "        services.offline.start_serving()\n"
        "        return waited, await call\n"
        "    finally:\n"
        "        await services.close_clients()\n"
        "waited, price = asyncio.run(ask())\n"
        "child = services.offline.pid\n"
        "alive = os.waitpid(child, os.WNOHANG) == (0, 0)  # still running, not a zombie\n"
        "own = os.getpriority(os.PRIO_PROCESS, 0)\n"
        "nicer_by = os.getpriority(os.PRIO_PROCESS, child) - own\n"
        "services.history.close(); services.offline.stop()\n"
        "result = {'offline_price': price.offline, 'child_was_alive': alive, "
        "'before_serve': before_serve, 'waited': waited, "
        "'in_app': sorted(m for m in ('aiohttp', 'PIL.ImageDraw') if m in sys.modules), "
        "'nicer_by': nicer_by, 'room': 19 - own}\n"
        "try:\n"
        "    os.kill(child, 0)\n"
        "    result['child_after_stop'] = 'alive'\n"
        "except ProcessLookupError:\n"
        "    result['child_after_stop'] = 'gone'"
    )
    result = loaded_after(code, env)
    assert result["before_serve"] is None and result["waited"]  # a call made before, answered
    assert result["offline_price"] is True and result["child_was_alive"]
    assert result["in_app"] == [] and result["child_after_stop"] == "gone"
    # it draws images at a lower CPU priority than the app: keys never wait for a render
    assert result["nicer_by"] == min(NICENESS, result["room"])  # type: ignore[call-overload]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states in /proc")
def test_the_child_server_never_outlives_the_app(env: dict[str, str]) -> None:
    """``kill -9`` of the app: the child sees its stdin close and exits (asleep or serving)."""
    import os
    import signal
    import time

    for serving in (False, True):
        code = (
            "import os, time, urllib.request\n"
            "from tui.offline.embedded import EmbeddedServer\n"
            "server = EmbeddedServer().start()\n"
            + ("urllib.request.urlopen(server.origin + '/v1/models/openai/gpt-image-2/"
               "text-to-image', timeout=30).close()\n" if serving else "")
            + "print(server.pid, flush=True)\n"
            "time.sleep(600)\n"
        )
        app = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                               text=True, stdin=subprocess.DEVNULL)
        try:
            assert app.stdout is not None
            child = int(app.stdout.readline())
            assert _running(child)
        finally:
            app.send_signal(signal.SIGKILL)
            app.wait(10)
        deadline = time.monotonic() + 90  # ends as soon as the child is gone
        while time.monotonic() < deadline and _running(child):
            time.sleep(0.05)
        if not _running(child):
            continue
        os.kill(child, signal.SIGKILL)
        raise AssertionError(f"the child server outlived the app (serving={serving})")


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan waits for whoever adopts it to reap it)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


# -- the app's first frame ------------------------------------------------------------------------

FIRST_FRAME_ABSENT = (
    "pydantic", "PIL", "httpx", "aiohttp", "textual_image", "email.utils", "tomllib",
    "tui.api.schemas", "tui.api.catalog_entry", "tui.api.balance", "tui.api.signin",
    "tui.iterate.contact_sheet",
    "tui.ui.screens.history", "tui.ui.screens.lineage", "tui.ui.screens.compare",
    "tui.ui.screens.sweep", "tui.ui.screens.signin", "tui.ui.screens.help",
    "tui.ui.screens.copy_menu", "tui.ui.screens.delete_job", "tui.ui.screens.open_recipe",
)

FIRST_FRAME_PROBE = """
import json, sys
import tui.ui.launch  # what the launch imports, in its order
from tui.config import load_settings
from tui.services.graph import open_services
from tui.ui.app import GptImageApp

WATCH = {watch!r}
seen = {{}}

def first_frame(app):
    display = app._display

    def probe(screen, renderable):
        if renderable is not None and 'loaded' not in seen:
            seen['loaded'] = sorted(m for m in WATCH if m in sys.modules)
            seen['shown'] = sorted(type(s).__name__ for s in app.screen_stack)
            app.exit()
        display(screen, renderable)

    app._display = probe  # Textual draws each frame through it (headless too)
    return app

settings = load_settings(offline={offline!r})
if settings.token is None and not settings.offline:
    import dataclasses
    settings = dataclasses.replace(settings, offline=True)
services = open_services(settings, offline_process=True)
try:
    first_frame(GptImageApp(services)).run(headless=True, size=(100, 30))
finally:
    services.history.close()
    services.offline.stop()
print(json.dumps(seen))
"""


@pytest.mark.parametrize("offline", [True, False], ids=["--offline", "no token"])
def test_the_first_frame_loads_no_pydantic_pillow_or_unopened_screen(
    offline: bool, env: dict[str, str]
) -> None:
    """Up to the app's first frame (Textual's first display of the main screen, headless): no
    pydantic (settings are a dataclass, the answer models load with the first request), no
    Pillow (images are decoded in workers), no HTTP stack, and none of the screens the first
    frame doesn't show (each loads when first opened). bench.startup measures what this saves."""
    environment = {k: v for k, v in env.items() if k != "RUNCOMFY_TOKEN"}
    done = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME_PROBE.format(watch=FIRST_FRAME_ABSENT, offline=offline)],
        env=environment, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["shown"] == ["MainScreen"]  # it was the main screen's first frame
    assert seen["loaded"] == []



def test_the_sweep_grid_loads_no_pydantic(env: dict[str, str]) -> None:
    """The grid's styles are made ready just after the first frame (GptImageApp._warm_styles),
    so whatever its module loads is paid at every start: a Balance it shows is a dataclass;
    pydantic comes with the first balance answer read."""
    result = loaded_after("import tui.ui.app, tui.ui.screens.sweep\nresult = {}", env)
    assert "textual" in result["loaded"]  # the probe sees what it checks
    assert "pydantic" not in result["loaded"]
