"""Shared fixtures: an isolated app home, and the real offline backend on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.offline.faults import FaultConfig, Timing
from tui.offline.server import OfflineServer

FAST = Timing(queue_seconds=0.05, run_seconds=0.05, queue_ahead=1)


@pytest.fixture
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Config, data, cache and outputs under tmp_path; no real token reachable."""
    home = tmp_path / "home"
    monkeypatch.setenv("GPT_IMAGE_TUI_HOME", str(home))
    for name in ("RUNCOMFY_TOKEN", "RUNCOMFY_CONFIG_DIR", "RUNCOMFY_MODEL_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    return home


@pytest.fixture
def offline_server() -> Iterator[OfflineServer]:
    """The embedded offline backend on a free loopback port, with fast timings."""
    server = OfflineServer(timing=FAST, faults=FaultConfig()).start()
    try:
        yield server
    finally:
        server.stop()
