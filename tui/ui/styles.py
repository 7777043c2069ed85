"""The app's stylesheet, in three files: ``app.tcss`` styles the first frame (the top bar, the
prompt editor, the status line, the footer); ``composer.tcss`` the rest of the composer and
``jobs.tcss`` the job list and the details, each read just before its widgets are first mounted
(the launch's first frame comes sooner with fewer rules to parse, and to match against each node
drawn). Tests that host a widget alone use :data:`STYLESHEETS`, the whole of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App

__all__ = ["APP_CSS", "COMPOSER_CSS", "JOBS_CSS", "STYLESHEETS", "read_styles"]

_HERE = Path(__file__).parent
APP_CSS = _HERE / "app.tcss"
COMPOSER_CSS = _HERE / "composer.tcss"
JOBS_CSS = _HERE / "jobs.tcss"
STYLESHEETS = (APP_CSS, COMPOSER_CSS, JOBS_CSS)


def read_styles(app: App[Any], path: Path) -> None:
    """Add ``path`` to ``app``'s stylesheet (once), before the widgets it styles are mounted."""
    stylesheet = app.stylesheet
    if not stylesheet.has_source(str(path)):
        stylesheet.read(path)
        stylesheet.parse()  # only what is new: the rest is in its parse cache
