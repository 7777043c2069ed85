"""``login``/``logout``, ``balance``, the official ``run --input`` form and name templates, as a
user runs them: against the real loopback server, real files and (where it matters) real
processes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.__main__ import main
from tui.offline.faults import Timing
from tui.offline.server import OfflineServer

FAST = Timing(queue_seconds=0.02, run_seconds=0.02, queue_ahead=0)


@pytest.fixture
def server(app_home: Path) -> Iterator[OfflineServer]:
    """A loopback stand-in for RunComfy that only accepts tokens it issued by sign-in."""
    started = OfflineServer(timing=FAST, require_token="nobody-has-this-one").start()
    started.signin.poll_interval = 0.05
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def config_dir(app_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "runcomfy-config"
    monkeypatch.setenv("RUNCOMFY_CONFIG_DIR", str(folder))
    return folder


def cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        capture_output=True, text=True, timeout=120, input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


def gpt(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_login_pending_then_authorized_writes_the_official_token_file_the_next_run_uses(
    server: OfflineServer, config_dir: Path, app_home: Path
) -> None:
    server.signin.auto = "authorize"
    server.signin.auto_after_polls = 2  # two "pending" answers first
    done = cli("login", "--no-browser", "--web-base", server.web_base)
    assert done.returncode == 0, done.stderr
    session = server.signin.sessions()[-1]
    assert session.status == "authorized" and session.polls == 3
    assert server.stats.signin_polls == 3
    assert session.user_code in done.stderr and f"{server.web_base}/device?code=" in done.stderr
    token_file = config_dir / "token.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    # Byte for byte what `runcomfy login` writes (serde_json's pretty printer).
    assert token_file.read_text() == (
        f'{{\n  "access_token": "{session.token}",\n  "refresh_token": null,\n'
        '  "expires_at": null,\n  "user_email": null\n}'
    )
    assert session.token is not None and session.token not in done.stdout + done.stderr
    assert not [p for p in config_dir.iterdir() if p.name != "token.json"]  # no temp left

    ran = cli("run", "signed in", "--json", "--api-base", server.base_url, "--poll-interval", "0.02")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["status"] == "completed"
    assert server.stats.requests_with_bad_token == 0  # the server only knows the issued token

    out = cli("logout")
    assert out.returncode == 0 and not token_file.exists()
    refused = cli("run", "signed out", "--api-base", server.base_url)
    assert refused.returncode == 77 and server.stats.submits == 1


@pytest.mark.parametrize(("outcome", "code", "words"), [
    ("deny", 77, "denied"),
    ("expire", 75, "expired"),
])
def test_login_denied_or_expired_writes_nothing(
    server: OfflineServer, config_dir: Path, capsys: pytest.CaptureFixture[str],
    outcome: str, code: int, words: str,
) -> None:
    server.signin.auto = outcome
    result, out, err = gpt(capsys, "login", "--no-browser", "--web-base", server.web_base)
    assert result == code and words in err and out == ""
    assert not config_dir.exists() or not any(config_dir.iterdir())


def test_login_gives_up_when_the_code_runs_out_locally(
    server: OfflineServer, config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.signin.expires_in = 0.3  # nobody approves; the server never says "expired" itself
    server.signin.auto = None
    result, _, err = gpt(capsys, "login", "--no-browser", "--web-base", server.web_base)
    assert result == 75 and "expired" in err
    assert not (config_dir / "token.json").exists()


def test_login_replaces_a_damaged_token_file(
    server: OfflineServer, config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir.mkdir(mode=0o755)
    (config_dir / "token.json").write_text("{ not json")
    (config_dir / "token.json").chmod(0o644)
    server.signin.auto = "authorize"
    result, _, err = gpt(capsys, "login", "--no-browser", "--web-base", server.web_base)
    assert result == 0, err
    data = json.loads((config_dir / "token.json").read_text())
    assert data["access_token"].startswith("offline-")
    assert stat.S_IMODE((config_dir / "token.json").stat().st_mode) == 0o600


def test_balance_with_the_token_and_refused_without(
    server: OfflineServer, config_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RUNCOMFY_SERVERLESS_API_BASE", server.serverless_base)
    monkeypatch.setenv("RUNCOMFY_TOKEN", "wrong-token")
    result, _, err = gpt(capsys, "balance", "--json")
    assert result == 77 and "wrong-token" not in err
    server.signin.auto = "authorize"
    assert gpt(capsys, "login", "--no-browser", "--web-base", server.web_base)[0] == 0
    monkeypatch.delenv("RUNCOMFY_TOKEN")
    server.balance_usd = 12.5
    result, out, _ = gpt(capsys, "balance", "--json")
    assert result == 0 and json.loads(out) == {"balance_usd": 12.5, "currency": "USD",
                                               "offline": True}
    result, out, _ = gpt(capsys, "balance")
    assert out.startswith("balance: $12.50 USD")
    assert server.stats.balance_gets == 3


def test_official_input_form_and_input_file_from_stdin(
    server: OfflineServer, config_dir: Path, app_home: Path
) -> None:
    server.require_token = None
    token = {"RUNCOMFY_TOKEN": "any"}
    inline = cli("run", "openai/gpt-image-2/text-to-image", "--input",
                 '{"prompt": "a sign that reads \\"OPEN\\"", "size": "1024_1536"}',
                 "--api-base", server.base_url, "--poll-secs", "0.02", "--output", "json",
                 env=token)
    assert inline.returncode == 0, inline.stderr
    first = json.loads(inline.stdout)  # compact: --output json
    assert "\n" not in inline.stdout.strip()
    assert first["size"] == "1024_1536" and first["prompt"] == 'a sign that reads "OPEN"'
    body = {"prompt": "keep the pose", "images": ["https://example.com/a.png"]}
    piped = cli("--output", "json", "run", "openai/gpt-image-2/edit", "--input-file", "-",
                "--api-base", server.base_url, "--poll-secs", "0.02", "--no-download",
                stdin=json.dumps(body), env=token)
    assert piped.returncode == 0, piped.stderr
    edit = json.loads(piped.stdout)
    assert edit["endpoint"] == "edit" and edit["size"] == "auto"
    assert edit["files"] == [] and edit["output"]  # --no-download: URLs only
    assert server.stats.submits_by_endpoint == {"text-to-image": 1, "edit": 1}
    assert len(list((app_home / "output").iterdir())) == 1


@pytest.mark.parametrize(("args", "code", "words"), [
    (("openai/gpt-image-2/text-to-image",), 64, "needs the request"),
    (("openai/gpt-image-2/text-to-image", "--input", "{}", "--input-file", "-"), 64, "not both"),
    (("openai/gpt-image-2/text-to-image", "--input", "{}", "--size", "1024_1024"), 64, "--size"),
    (("some/other-model", "--input", "{}"), 64, "unknown model id"),
    (("openai/gpt-image-2/text-to-image", "--input", "not json"), 65, "not valid JSON"),
    (("openai/gpt-image-2/text-to-image", "--input", "[1]"), 65, "JSON object"),
    (("openai/gpt-image-2/text-to-image", "--input",
      '{"prompt": "x", "images": ["https://example.com/a.png"]}'), 65, "takes no images"),
    (("openai/gpt-image-2/edit", "--input", '{"prompt": "x"}'), 65, "needs \"images\""),
    (("openai/gpt-image-2/text-to-image", "--input", '{"prompt": "x", "n": 2}'), 65, "n:"),
    (("openai/gpt-image-2/text-to-image", "--input-file", "/nonexistent/req.json"), 65,
     "can't read"),
])
def test_official_form_mistakes_are_one_sentence_and_send_nothing(
    server: OfflineServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...], code: int, words: str,
) -> None:
    monkeypatch.setenv("RUNCOMFY_TOKEN", "any")
    result, _, err = gpt(capsys, "run", *args, "--api-base", server.base_url)
    assert result == code and words in err and "Traceback" not in err
    assert server.stats.submits == 0


HOSTILE_TEMPLATES = [
    "../../{slug}", "/etc/{slug}", "{slug}/../../../x", "..", "{sweep}", "C:\\{slug}", ".{slug}",
]


async def test_name_templates_never_leave_the_output_dir(
    server: OfflineServer, app_home: Path, tmp_path: Path
) -> None:
    """Each hostile template, through the real engine, downloads inside the output dir."""
    from tui.config import load_settings
    from tui.models import prepare_request
    from tui.services.graph import open_services

    server.require_token = None
    out = tmp_path / "images"
    saved: list[Path] = []
    for template in HOSTILE_TEMPLATES:
        settings = load_settings(offline=True, output_dir=out, poll_interval=0.02,
                                 name_template=template)
        services = open_services(settings, offline_server=server)
        try:
            job = services.engine.create(prepare_request("a fox").request)
            done = await services.engine.follow(job.id)
        finally:
            await services.aclose()
        path = Path(done.files[0])
        assert path.parent == out and path.is_file() and not path.name.startswith("."), template
        saved.append(path)
    assert sorted(out.iterdir()) == sorted(saved)  # nothing anywhere else, nothing overwritten
    assert len(set(saved)) == len(HOSTILE_TEMPLATES)


def test_name_template_flag_on_the_command_line(server: OfflineServer, tmp_path: Path) -> None:
    server.require_token = None
    out = tmp_path / "images"
    done = cli("run", "a fox", "--json", "--output-dir", str(out), "--name-template",
               "../../{slug}-{n}", "--api-base", server.base_url, "--poll-interval", "0.02",
               env={"RUNCOMFY_TOKEN": "any"})
    assert done.returncode == 0, done.stderr
    saved = Path(json.loads(done.stdout)["files"][0])
    assert saved.parent == out and saved.name == "_.._a-fox-1.png"


def test_a_template_with_an_unknown_placeholder_is_refused_before_sending(
    capsys: pytest.CaptureFixture[str], app_home: Path
) -> None:
    result, _, err = gpt(capsys, "run", "x", "--offline", "--name-template", "{slug}_{colour}")
    assert result == 64 and "{colour}" in err


def test_template_from_the_config_file(server: OfflineServer, app_home: Path) -> None:
    server.require_token = None
    (app_home / "config").mkdir(parents=True)
    (app_home / "config" / "config.toml").write_text('name_template = "{job}-{size}-{slug}"\n')
    done = cli("run", "a fox", "--size", "1536_1024", "--json", "--api-base", server.base_url,
               "--poll-interval", "0.02", env={"RUNCOMFY_TOKEN": "any"})
    assert done.returncode == 0, done.stderr
    assert Path(json.loads(done.stdout)["files"][0]).name == "1-1536x1024-a-fox.png"
