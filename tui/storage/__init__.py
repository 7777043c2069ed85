"""Persistence: the job history (SQLite) and the output files (safe names, verified downloads).

Each name loads its own module on first use (PEP 562): reading the history needs neither the
HTTP client nor Pillow that downloads use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .downloads import Downloader
    from .files import OutputFiles
    from .history import History

__all__ = ["Downloader", "History", "OutputFiles"]

_MODULES = {"Downloader": "downloads", "History": "history", "OutputFiles": "files"}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
