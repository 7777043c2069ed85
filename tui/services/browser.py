"""Opening a URL in the user's graphical browser — only when there is one.

Python's :mod:`webbrowser` falls back to text browsers (lynx, w3m …) that would take over the
terminal the app or a command is using; those are never used. The URL is always shown as well.
"""

from __future__ import annotations

import os
import sys
import webbrowser

__all__ = ["open_in_browser"]


def _has_display() -> bool:
    if sys.platform in {"darwin", "win32"}:
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_in_browser(url: str) -> bool:
    """Open ``url`` in a graphical browser when one is available; True when it was handed over."""
    if not _has_display():
        return False
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    if type(browser) is webbrowser.GenericBrowser:  # a console browser: it would take the tty
        return False
    try:
        return bool(browser.open(url, new=2))
    except Exception:  # a browser that fails to start is not worth failing over
        return False
