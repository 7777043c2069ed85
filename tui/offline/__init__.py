"""The embedded offline backend: a loopback Model API server with a local Pillow renderer.

No Textual here: the headless commands and the tests run it on its own.
"""

from __future__ import annotations

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
