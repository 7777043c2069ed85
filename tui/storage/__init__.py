"""Persistence: the job history (SQLite) and the output files (safe names, verified downloads)."""

from __future__ import annotations

from .downloads import Downloader
from .files import OutputFiles
from .history import History

__all__ = ["Downloader", "History", "OutputFiles"]
