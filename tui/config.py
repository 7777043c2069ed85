"""One typed settings model: arguments, then the environment, then ``config.toml``, then defaults.

The token comes from ``RUNCOMFY_TOKEN`` or the official ``runcomfy`` CLI's ``token.json``
(:mod:`tui.storage.token_file`). It is held as a :class:`~tui.trust.token.Token`, so no repr,
log line or error message ever shows it. The optional config file, ``config.toml`` in the
config dir, holds settings worth keeping; only known keys are read, each checked for its type::

    name_template = "{date}_{slug}_{rid8}"   # output file names (see tui.storage.names)
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import GptImageError, TokenError
from .locations import Locations
from .storage.names import TemplateError, check_template
from .storage.token_file import read_token_file, token_file_candidates
from .trust.token import Token, UnsafeToken, check_token_text
from .trust.urls import UnsafeUrl, normalise_base_url

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = [
    "API_BASE_ENV",
    "COLORS_ENV",
    "COLOR_DEPTHS",
    "DEFAULT_API_BASE",
    "DEFAULT_SERVERLESS_BASE",
    "DEFAULT_WEB_BASE",
    "GRAPHICS_MODES",
    "KNOWN_FILE_KEYS",
    "SERVERLESS_BASE_ENV",
    "TOKEN_ENV",
    "WEB_BASE_ENV",
    "ConfigError",
    "Settings",
    "find_token",
    "load_settings",
    "read_config_file",
    "signin_help",
]

DEFAULT_API_BASE = "https://model-api.runcomfy.net/v1"
DEFAULT_SERVERLESS_BASE = "https://api.runcomfy.net/prod/v2"
DEFAULT_WEB_BASE = "https://www.runcomfy.com"
TOKEN_ENV = "RUNCOMFY_TOKEN"
API_BASE_ENV = "RUNCOMFY_MODEL_API_BASE"
SERVERLESS_BASE_ENV = "RUNCOMFY_SERVERLESS_API_BASE"
WEB_BASE_ENV = "RUNCOMFY_WEB_BASE"
GRAPHICS_MODES = ("auto", "kitty", "sixel", "halfcell")
GraphicsMode = Literal["auto", "kitty", "sixel", "halfcell"]
COLORS_ENV = "GPT_IMAGE_TUI_COLORS"
COLOR_DEPTHS = ("auto", "truecolor", "256", "16")
ColorDepth = Literal["auto", "truecolor", "256", "16"]
KNOWN_FILE_KEYS: dict[str, type] = {"name_template": str}


class ConfigError(GptImageError):
    """A setting is unusable (an API base that is not https, a bad poll interval, a config file
    that is not valid TOML …)."""

    exit_code = 64


def signin_help() -> str:
    """How to sign in — shown by the CLI and the TUI when no token is found."""
    return (
        "Not signed in to RunComfy. Either:\n"
        "  • set RUNCOMFY_TOKEN to your API token (export RUNCOMFY_TOKEN=...), or\n"
        "  • run `gpt-image-tui login` (or the official `runcomfy login`), which writes "
        "~/.config/runcomfy/token.json, or\n"
        "  • use --offline to try the app against the built-in offline server (no token, "
        "no cost)."
    )


def find_token(env: Mapping[str, str] = os.environ, home: Path | None = None) -> Token | None:
    """The token from ``RUNCOMFY_TOKEN``, else the first token.json found; None when neither.

    Raises :class:`TokenError` for a token that is not printable ASCII, a token file others may
    read (with the ``chmod 600`` fix spelled out), or a file that is not the expected JSON.
    """
    raw = env.get(TOKEN_ENV, "")
    if raw.strip():
        try:
            value = check_token_text(raw.strip(), source=TOKEN_ENV)
        except UnsafeToken as exc:
            raise TokenError(str(exc)) from None
        from pydantic import SecretStr  # only when there is a token: none to start without

        return Token(SecretStr(value), TOKEN_ENV)
    for path in token_file_candidates(env, home if home is not None else Path.home()):
        if path.is_file():
            return read_token_file(path)
    return None


def read_config_file(path: Path) -> dict[str, Any]:
    """The known keys of the TOML file at ``path`` ({} when there is none)."""
    try:
        raw = Path(path).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except OSError as exc:
        raise ConfigError(f"can't read the config file {path}: {exc.strerror}") from None
    import tomllib  # only when there is a config file

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"the config file {path} is not valid TOML: {exc}") from None
    values: dict[str, Any] = {}
    for key, kind in KNOWN_FILE_KEYS.items():
        if key in data:
            if not isinstance(data[key], kind):
                raise ConfigError(f"the config file {path}: {key} must be a {kind.__name__}")
            values[key] = data[key]
    return values


def _base_url(what: str, given: str | None, from_env: str | None, default: str) -> str:
    """The argument, else the environment variable, else the default — checked."""
    text = given if given is not None else ((from_env or "").strip() or default)
    try:
        return normalise_base_url(text)
    except UnsafeUrl as exc:
        raise ConfigError(f"{what}: {exc}") from None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the app and the headless commands are configured with.

    A plain frozen dataclass, so that starting the app loads no pydantic (issue 9); the values
    are checked by :func:`load_settings` with exactly the rules (and messages) of the pydantic
    model :func:`_settings_model` describes. ``dataclasses.replace`` makes a changed copy.
    """

    api_base: str = DEFAULT_API_BASE
    token: Token | None = None
    offline: bool = False
    output_dir: Path
    poll_interval: float = 2.0
    max_concurrent_submissions: int = 4
    graphics: GraphicsMode = "auto"
    colors: ColorDepth = "auto"
    locations: Locations
    serverless_base: str = DEFAULT_SERVERLESS_BASE  # the wallet balance lives here
    web_base: str = DEFAULT_WEB_BASE  # device-code sign-in lives here
    name_template: str | None = None  # output file names (None: today's names)
    download_outputs: bool = True  # False: `run --no-download`, the result's URLs only


@functools.cache
def _settings_model() -> type[BaseModel]:
    """The rules of :class:`Settings` as a pydantic model — built only for values the plain
    check in :func:`_checked_settings` doesn't accept, to give pydantic's exact answer."""
    from pydantic import (
        BaseModel,
        ConfigDict,
        Field,
        SecretStr,  # noqa: F401  (names Token.value's type for pydantic)
        field_validator,
    )

    class SettingsModel(BaseModel):
        model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

        api_base: str = DEFAULT_API_BASE
        token: Token | None = None
        offline: bool = False
        output_dir: Path
        poll_interval: float = Field(default=2.0, gt=0, le=3600)
        max_concurrent_submissions: int = Field(default=4, ge=1, le=64)
        graphics: GraphicsMode = "auto"
        colors: ColorDepth = "auto"
        locations: Locations
        serverless_base: str = DEFAULT_SERVERLESS_BASE
        web_base: str = DEFAULT_WEB_BASE
        name_template: str | None = None
        download_outputs: bool = True

        @field_validator("api_base", "serverless_base", "web_base")
        @classmethod
        def _check_base(cls, value: str) -> str:
            return normalise_base_url(value)

    return SettingsModel


def _plainly_valid(values: Mapping[str, object]) -> bool:
    """True when every value is of its field's own type and within its bounds — what the
    pydantic model accepts unchanged (apart from an int poll interval becoming a float)."""

    def number(value: object, kind: tuple[type, ...]) -> bool:
        return isinstance(value, kind) and not isinstance(value, bool)

    poll = values.get("poll_interval", 2.0)
    most = values.get("max_concurrent_submissions", 4)
    template = values.get("name_template")
    return (
        all(isinstance(values.get(key), str) for key in ("api_base", "serverless_base", "web_base"))
        and (values.get("token") is None or isinstance(values.get("token"), Token))
        and isinstance(values.get("offline", False), bool)
        and isinstance(values.get("output_dir"), Path)
        and number(poll, (int, float)) and 0 < poll <= 3600  # type: ignore[operator]
        and number(most, (int,)) and 1 <= most <= 64  # type: ignore[operator]
        and values.get("graphics", "auto") in GRAPHICS_MODES
        and values.get("colors", "auto") in COLOR_DEPTHS
        and isinstance(values.get("locations"), Locations)
        and (template is None or type(template) is str)
        and isinstance(values.get("download_outputs", True), bool)
        and set(values) <= {field.name for field in dataclasses.fields(Settings)}
    )


def _checked_settings(values: dict[str, object]) -> Settings:
    """:class:`Settings` from ``values``, or the ``ValueError`` pydantic raises for them."""
    if _plainly_valid(values):
        plain = dict(values)
        try:
            for key in ("api_base", "serverless_base", "web_base"):
                plain[key] = normalise_base_url(str(plain[key]))
        except UnsafeUrl:
            pass  # pydantic words it
        else:
            if "poll_interval" in plain:
                plain["poll_interval"] = float(plain["poll_interval"])  # type: ignore[arg-type]
            return Settings(**plain)  # type: ignore[arg-type]
    model = _settings_model().model_validate(values)  # raises pydantic's ValidationError
    return Settings(**{field.name: getattr(model, field.name)
                       for field in dataclasses.fields(Settings)})


def load_settings(
    *,
    env: Mapping[str, str] = os.environ,
    api_base: str | None = None,
    output_dir: Path | str | None = None,
    offline: bool = False,
    poll_interval: float | None = None,
    max_concurrent_submissions: int | None = None,
    graphics: str | None = None,
    colors: str | None = None,
    locations: Locations | None = None,
    home: Path | None = None,
    web_base: str | None = None,
    name_template: str | None = None,
    download_outputs: bool = True,
) -> Settings:
    """Build :class:`Settings` from arguments, then the environment, then the config file
    (``config.toml`` in the config dir), then defaults.

    The token is looked up (:func:`find_token`) unless ``offline``; a missing token is None
    (show :func:`signin_help`), an unusable one raises :class:`TokenError`. Bad values raise
    :class:`ConfigError` saying which setting and why.
    """
    locations = locations or Locations.default(env)
    file_values = read_config_file(locations.config_dir / "config.toml")
    base = _base_url("API base URL", api_base, env.get(API_BASE_ENV), DEFAULT_API_BASE)
    serverless = _base_url(
        f"serverless API base ({SERVERLESS_BASE_ENV})", None, env.get(SERVERLESS_BASE_ENV),
        DEFAULT_SERVERLESS_BASE,
    )
    web = _base_url(f"web base ({WEB_BASE_ENV})", web_base, env.get(WEB_BASE_ENV), DEFAULT_WEB_BASE)
    template = name_template if name_template is not None else file_values.get("name_template")
    if template is not None:
        try:
            template = check_template(template)
        except TemplateError as exc:
            raise ConfigError(str(exc)) from None
    if graphics is not None and graphics not in GRAPHICS_MODES:
        raise ConfigError(f"graphics must be one of {', '.join(GRAPHICS_MODES)}")
    source = "--colors"
    if colors is None:
        colors, source = env.get(COLORS_ENV, "").strip() or None, COLORS_ENV
    if colors is not None and colors not in COLOR_DEPTHS:
        raise ConfigError(f"{source} must be one of {', '.join(COLOR_DEPTHS)}")
    values: dict[str, object] = {
        "api_base": base,
        "serverless_base": serverless,
        "web_base": web,
        "name_template": template,
        "download_outputs": download_outputs,
        "token": None if offline else find_token(env, home),
        "offline": offline,
        "output_dir": Path(output_dir).expanduser() if output_dir else locations.default_output_dir,
        "locations": locations,
    }
    if poll_interval is not None:
        values["poll_interval"] = poll_interval
    if max_concurrent_submissions is not None:
        values["max_concurrent_submissions"] = max_concurrent_submissions
    if graphics is not None:
        values["graphics"] = graphics
    if colors is not None:
        values["colors"] = colors
    try:
        return _checked_settings(values)
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        errors = getattr(exc, "errors", None)
        detail = (
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors())
            if callable(errors)
            else str(exc)
        )
        raise ConfigError(f"invalid settings: {detail}") from None
