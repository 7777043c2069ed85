"""Token discovery (as the official CLI), settings precedence and locations."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tui.config import (
    DEFAULT_API_BASE,
    ConfigError,
    Settings,
    find_token,
    load_settings,
    signin_help,
)
from tui.errors import TokenError
from tui.locations import Locations
from tui.trust.token import Token

SECRET = "rc_tok_0123456789ABCDEF"

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def write_token(directory: Path, token: str = SECRET, mode: int = 0o600, **extra: object) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "token.json"
    body = {"access_token": token, "refresh_token": None, "expires_at": None, "user_email": None}
    path.write_text(json.dumps({**body, **extra}))
    os.chmod(path, mode)
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def secret(token: Token | None) -> str:
    assert token is not None
    return token.value.get_secret_value()


# -- find_token ---------------------------------------------------------------------------------


def test_no_token_anywhere_is_none(home: Path) -> None:
    assert find_token({}, home) is None
    assert find_token({"RUNCOMFY_TOKEN": ""}, home) is None
    assert find_token({"RUNCOMFY_TOKEN": "  \n"}, home) is None


def test_precedence_env_then_config_dir_then_xdg_then_home(tmp_path: Path, home: Path) -> None:
    write_token(home / ".config" / "runcomfy", "from-home")
    write_token(tmp_path / "xdg" / "runcomfy", "from-xdg")
    config_file = write_token(tmp_path / "rc", "from-config-dir")
    env = {
        "RUNCOMFY_TOKEN": "  from-env\n",
        "RUNCOMFY_CONFIG_DIR": str(tmp_path / "rc"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
    }
    token = find_token(env, home)
    assert secret(token) == "from-env" and token is not None and token.source == "RUNCOMFY_TOKEN"

    del env["RUNCOMFY_TOKEN"]
    token = find_token(env, home)
    assert secret(token) == "from-config-dir" and token is not None
    assert token.source == str(config_file)

    del env["RUNCOMFY_CONFIG_DIR"]
    assert secret(find_token(env, home)) == "from-xdg"

    del env["XDG_CONFIG_HOME"]
    assert secret(find_token(env, home)) == "from-home"


def test_first_existing_file_wins(tmp_path: Path, home: Path) -> None:
    write_token(home / ".config" / "runcomfy", "from-home")
    env = {
        "RUNCOMFY_CONFIG_DIR": str(tmp_path / "empty"),
        "XDG_CONFIG_HOME": str(tmp_path / "none"),
    }
    assert secret(find_token(env, home)) == "from-home"


def test_file_token_is_trimmed(home: Path) -> None:
    write_token(home / ".config" / "runcomfy", f"  {SECRET}\r\n")
    assert secret(find_token({}, home)) == SECRET


@pytest.mark.parametrize("bad", [f"{SECRET} x", f"{SECRET}\x00", f"é{SECRET}", f"a\tb{SECRET}"])
def test_unprintable_env_token_is_refused_without_echoing_it(bad: str, home: Path) -> None:
    with pytest.raises(TokenError) as caught:
        find_token({"RUNCOMFY_TOKEN": bad}, home)
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)
    assert "RUNCOMFY_TOKEN" in str(caught.value)
    assert caught.value.exit_code == 77


@posix_only
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_token_file_readable_by_others_is_refused_with_chmod_hint(mode: int, home: Path) -> None:
    path = write_token(home / ".config" / "runcomfy", mode=mode)
    with pytest.raises(TokenError) as caught:
        find_token({}, home)
    message = str(caught.value)
    assert f"chmod 600 {path}" in message
    assert SECRET not in message


@posix_only
@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_private_token_file_is_accepted(mode: int, home: Path) -> None:
    path = write_token(home / ".config" / "runcomfy", mode=mode)
    token = find_token({}, home)
    assert secret(token) == SECRET and token is not None and token.source == str(path)


@pytest.mark.parametrize(
    "content", ["{not json", "[1, 2]", '{"access_token": 5}', '{"refresh_token": "x"}', ""]
)
def test_malformed_token_file_names_the_file(content: str, home: Path) -> None:
    directory = home / ".config" / "runcomfy"
    directory.mkdir(parents=True)
    path = directory / "token.json"
    path.write_text(content)
    os.chmod(path, 0o600)
    with pytest.raises(TokenError) as caught:
        find_token({}, home)
    assert str(path) in str(caught.value)


def test_token_repr_hides_the_value() -> None:
    token = find_token({"RUNCOMFY_TOKEN": SECRET})
    assert SECRET not in repr(token) and SECRET not in str(token)
    assert SECRET not in repr(
        load_settings(env={"RUNCOMFY_TOKEN": SECRET, "GPT_IMAGE_TUI_HOME": "/x"})
    )


# -- settings -----------------------------------------------------------------------------------


def test_api_base_precedence(tmp_path: Path) -> None:
    env = {"GPT_IMAGE_TUI_HOME": str(tmp_path), "RUNCOMFY_TOKEN": SECRET}
    assert load_settings(env=env).api_base == DEFAULT_API_BASE
    env["RUNCOMFY_MODEL_API_BASE"] = "https://staging.example.com/v1/"
    assert load_settings(env=env).api_base == "https://staging.example.com/v1"
    assert (
        load_settings(env=env, api_base="http://127.0.0.1:9/v1/").api_base
        == "http://127.0.0.1:9/v1"
    )


def test_bad_api_base_is_a_config_error(tmp_path: Path) -> None:
    """The rule itself is tested with the client (test_api_retry); here: its one-sentence
    error and exit code."""
    with pytest.raises(ConfigError) as caught:
        load_settings(env={"GPT_IMAGE_TUI_HOME": str(tmp_path)},
                      api_base="http://model-api.example.com/v1", offline=True)
    assert "API base URL" in str(caught.value) and "loopback" in str(caught.value)
    assert caught.value.exit_code == 64


def test_offline_skips_the_token(tmp_path: Path) -> None:
    env = {"GPT_IMAGE_TUI_HOME": str(tmp_path), "RUNCOMFY_TOKEN": "bad token"}
    settings = load_settings(env=env, offline=True)
    assert settings.offline and settings.token is None
    with pytest.raises(TokenError):
        load_settings(env=env)


def test_settings_defaults_and_overrides(tmp_path: Path) -> None:
    env = {"GPT_IMAGE_TUI_HOME": str(tmp_path)}
    settings = load_settings(env=env, home=tmp_path)
    assert settings.token is None
    assert settings.output_dir == tmp_path / "output"
    assert (settings.poll_interval, settings.max_concurrent_submissions, settings.graphics) == (
        2.0,
        4,
        "auto",
    )
    settings = load_settings(
        env=env,
        output_dir=tmp_path / "pics",
        poll_interval=0.5,
        max_concurrent_submissions=2,
        graphics="kitty",
        home=tmp_path,
    )
    assert settings.output_dir == tmp_path / "pics" and settings.graphics == "kitty"
    assert isinstance(settings, Settings) and settings.poll_interval == 0.5


@pytest.mark.parametrize(
    "kwargs", [{"graphics": "ascii"}, {"poll_interval": 0}, {"max_concurrent_submissions": 0}]
)
def test_bad_settings_are_config_errors(kwargs: dict[str, object], tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_settings(env={"GPT_IMAGE_TUI_HOME": str(tmp_path)}, offline=True, **kwargs)  # type: ignore[arg-type]


def test_signin_help_names_every_option() -> None:
    text = signin_help()
    assert "RUNCOMFY_TOKEN" in text and "runcomfy login" in text
    assert "~/.config/runcomfy/token.json" in text and "--offline" in text


# -- locations ----------------------------------------------------------------------------------


def test_locations_under_gpt_image_tui_home(tmp_path: Path) -> None:
    where = Locations.default({"GPT_IMAGE_TUI_HOME": str(tmp_path)})
    assert where.config_dir == tmp_path / "config"
    assert where.data_dir == tmp_path / "data"
    assert where.cache_dir == tmp_path / "cache"
    assert where.default_output_dir == tmp_path / "output"
    assert where.history_db == tmp_path / "data" / "history.sqlite3"
    assert where.preview_cache == tmp_path / "cache" / "previews"
    assert not (tmp_path / "config").exists()  # nothing is created by merely asking


def test_default_locations_use_the_app_name() -> None:
    where = Locations.default({})
    for path in (where.config_dir, where.data_dir, where.cache_dir, where.default_output_dir):
        assert "gpt-image-tui" in str(path)
    with pytest.raises(AttributeError):
        where.config_dir = Path("/")  # type: ignore[misc]


# -- the plain settings check gives the pydantic model's answer -----------------------------------

ODD_VALUES: list[dict[str, object]] = [
    {},
    {"poll_interval": 0.5},
    {"poll_interval": 3},
    {"poll_interval": 3600},
    {"poll_interval": 3600.5},
    {"poll_interval": 0},
    {"poll_interval": -1.0},
    {"poll_interval": float("nan")},
    {"poll_interval": float("inf")},
    {"poll_interval": True},
    {"poll_interval": "0.25"},
    {"poll_interval": "soon"},
    {"max_concurrent_submissions": 1},
    {"max_concurrent_submissions": 64},
    {"max_concurrent_submissions": 0},
    {"max_concurrent_submissions": 65},
    {"max_concurrent_submissions": 2.0},
    {"max_concurrent_submissions": 2.5},
    {"max_concurrent_submissions": "3"},
    {"max_concurrent_submissions": False},
    {"graphics": "kitty"},
    {"graphics": "ascii"},
    {"colors": "256"},
    {"colors": "millions"},
    {"offline": "yes"},
    {"offline": 1},
    {"download_outputs": None},
    {"name_template": 7},
    {"output_dir": "/tmp/pics"},
    {"token": "rc_plain_string"},
    {"api_base": "http://model-api.example.com/v1"},
    {"api_base": "https://model-api.example.com/v1/"},
    {"locations": "here"},
    {"surprise": 1},
]


@pytest.mark.parametrize("odd", ODD_VALUES, ids=repr)
def test_settings_are_checked_exactly_as_the_pydantic_model_checks_them(
    odd: dict[str, object], tmp_path: Path
) -> None:
    """Settings is a plain dataclass (no pydantic at start-up); its check must accept, convert
    and refuse exactly what the pydantic model accepted, converted and refused — with the same
    messages."""
    from pydantic import ValidationError

    from tui.config import _checked_settings, _settings_model

    base: dict[str, object] = {
        "api_base": DEFAULT_API_BASE,
        "serverless_base": "https://api.runcomfy.net/prod/v2",
        "web_base": "https://www.runcomfy.com",
        "output_dir": tmp_path / "out",
        "locations": Locations.default({"GPT_IMAGE_TUI_HOME": str(tmp_path)}),
    }
    values = {**base, **odd}
    try:
        expected = _settings_model().model_validate(dict(values))
    except ValidationError as exc:
        with pytest.raises(ValueError) as caught:
            _checked_settings(dict(values))
        assert isinstance(caught.value, ValidationError)
        assert caught.value.errors(include_context=False) == exc.errors(include_context=False)
        assert caught.value.error_count() == exc.error_count()
        return
    settings = _checked_settings(dict(values))
    for field in type(expected).model_fields:
        got, value = getattr(settings, field), getattr(expected, field)
        assert got == value or (got != got and value != value), field  # nan
        assert type(got) is type(value), field


def test_a_bad_setting_reads_as_before(tmp_path: Path) -> None:
    env = {"GPT_IMAGE_TUI_HOME": str(tmp_path)}
    with pytest.raises(ConfigError) as caught:
        load_settings(env=env, offline=True, poll_interval=0)
    assert str(caught.value) == "invalid settings: poll_interval: Input should be greater than 0"
    with pytest.raises(ConfigError) as caught:
        load_settings(env=env, offline=True, max_concurrent_submissions=65)
    assert str(caught.value) == (
        "invalid settings: max_concurrent_submissions: Input should be less than or equal to 64"
    )


def test_settings_copies_and_stays_frozen(tmp_path: Path) -> None:
    import dataclasses

    settings = load_settings(env={"GPT_IMAGE_TUI_HOME": str(tmp_path)}, offline=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.offline = False  # type: ignore[misc]
    assert dataclasses.replace(settings, offline=False).offline is False and settings.offline
