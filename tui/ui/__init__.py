"""The Textual front end: the app, its screens and widgets, and how images reach the terminal.

Everything the user sees is built here from the core (``tui.services`` builds it); nothing in
the core or the headless commands imports this package.
"""

from __future__ import annotations
