"""Every path the app uses — config, data, cache, outputs — decided in one place.

Paths come from platformdirs (app name ``gpt-image-tui``). ``GPT_IMAGE_TUI_HOME=DIR`` puts all
of them under ``DIR`` instead (``DIR/config``, ``DIR/data``, ``DIR/cache``, ``DIR/output``), for
tests and portable installs. Nothing here creates directories; callers do when they write.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

__all__ = ["APP_NAME", "HOME_ENV", "Locations"]

APP_NAME = "gpt-image-tui"
HOME_ENV = "GPT_IMAGE_TUI_HOME"


@dataclass(frozen=True, slots=True)
class Locations:
    """Where the app keeps its configuration, history, caches and (by default) images."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    default_output_dir: Path

    @property
    def history_db(self) -> Path:
        return self.data_dir / "history.sqlite3"

    @property
    def preview_cache(self) -> Path:
        return self.cache_dir / "previews"

    @classmethod
    def under(cls, home: Path) -> Locations:
        """Everything under one directory (what ``GPT_IMAGE_TUI_HOME`` does)."""
        home = Path(home).expanduser()
        return cls(
            config_dir=home / "config",
            data_dir=home / "data",
            cache_dir=home / "cache",
            default_output_dir=home / "output",
        )

    @classmethod
    def default(cls, env: Mapping[str, str] = os.environ) -> Locations:
        """The platform's usual directories, or all under ``$GPT_IMAGE_TUI_HOME`` when set."""
        home = env.get(HOME_ENV, "").strip()
        if home:
            return cls.under(Path(home).absolute())
        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            cache_dir=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
            default_output_dir=Path(platformdirs.user_pictures_dir()) / APP_NAME,
        )
