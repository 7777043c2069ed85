"""The embedded offline backend: a loopback Model API server with a local Pillow renderer.

No Textual here: the headless commands and the tests run it on its own. Each name loads its
module on first use (PEP 562): the app, which serves from a child process
(:mod:`tui.offline.embedded`), never loads the in-process server; the renderer (Pillow) loads
when an image is first drawn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .faults import Fault, FaultConfig, Timing
    from .render import render_image
    from .server import OfflineServer, ServerStats, run_standalone

__all__ = [
    "Fault",
    "FaultConfig",
    "OfflineServer",
    "ServerStats",
    "Timing",
    "render_image",
    "run_standalone",
]

_MODULES = {
    "Fault": "faults",
    "FaultConfig": "faults",
    "Timing": "faults",
    "render_image": "render",
    "OfflineServer": "server",
    "ServerStats": "server",
    "run_standalone": "server",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
