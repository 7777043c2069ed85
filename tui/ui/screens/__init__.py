"""The screens of the app: the main screen and what it opens."""

from __future__ import annotations
