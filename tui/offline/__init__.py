"""The embedded offline backend: a loopback Model API server with a local Pillow renderer.

No Textual here: the headless commands and the tests run it on its own. The renderer (Pillow)
loads on first use of ``render_image`` (PEP 562), so starting the server costs no Pillow until
an image is drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .faults import Fault, FaultConfig, Timing
from .server import OfflineServer, ServerStats, run_standalone

if TYPE_CHECKING:
    from .render import render_image

__all__ = [
    "Fault",
    "FaultConfig",
    "OfflineServer",
    "ServerStats",
    "Timing",
    "render_image",
    "run_standalone",
]


def __getattr__(name: str) -> Any:
    if name == "render_image":
        from .render import render_image

        return render_image
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
