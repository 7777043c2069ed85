"""The backend a headless command talks to: settings from its flags, never offline by accident.

Headless runs stop following a job after :data:`GIVE_UP_SECONDS` without contact — however the
server stalls — and leave it resumable.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..config import Settings, load_settings, signin_help
from ..jobs.book import EventListener
from ..services.graph import Services, open_services
from .exits import EXIT_NO_TOKEN, CommandExit

__all__ = ["GIVE_UP_SECONDS", "open_backend", "require_backend", "settings_for"]

GIVE_UP_SECONDS = 300.0


def settings_for(args: argparse.Namespace, **overrides: Any) -> Settings:
    """Settings from the flags a command may have (absent flags fall back to env and config)."""
    values: dict[str, Any] = {
        "api_base": getattr(args, "api_base", None),
        "output_dir": getattr(args, "output_dir", None),
        "offline": bool(getattr(args, "offline", False)),
        "poll_interval": getattr(args, "poll_interval", None),
        "name_template": getattr(args, "name_template", None),
    }
    values.update(overrides)
    return load_settings(**values)


def require_backend(settings: Settings) -> None:
    """Headless commands never fall back to offline silently."""
    if not settings.offline and settings.token is None:
        raise CommandExit(EXIT_NO_TOKEN, signin_help())


def open_backend(settings: Settings, *, on_event: EventListener | None = None) -> Services:
    """The services a headless command runs on (close them with ``await services.aclose()``)."""
    return open_services(settings, on_event=on_event, give_up_after=GIVE_UP_SECONDS)
