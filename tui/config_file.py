"""The optional config file, ``config.toml`` in the config dir: settings worth keeping.

Only known keys are read, each checked for its type; a file that is not valid TOML is a clear
error (exit 64), not a traceback. Today it holds::

    name_template = "{date}_{slug}_{rid8}"   # output file names (see tui.storage.names)
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from .api.errors import GptImageError

__all__ = ["KNOWN_KEYS", "ConfigFileError", "read_config_file"]

KNOWN_KEYS: dict[str, type] = {"name_template": str}


class ConfigFileError(GptImageError):
    """The config file can't be used."""

    exit_code = 64


def read_config_file(path: Path) -> dict[str, Any]:
    """The known keys of the TOML file at ``path`` ({} when there is none)."""
    try:
        raw = Path(path).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except OSError as exc:
        raise ConfigFileError(f"can't read the config file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigFileError(f"the config file {path} is not valid TOML: {exc}") from None
    values: dict[str, Any] = {}
    for key, kind in KNOWN_KEYS.items():
        if key in data:
            if not isinstance(data[key], kind):
                raise ConfigFileError(
                    f"the config file {path}: {key} must be a {kind.__name__}"
                )
            values[key] = data[key]
    return values
