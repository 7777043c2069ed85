"""Small tmux helpers shared by the benchmarks: a pane of fixed size, polled for text."""

from __future__ import annotations

import shlex
import shutil
import statistics
import subprocess
import time
from collections.abc import Mapping, Sequence

__all__ = ["Pane", "median_ms", "require_tmux"]


def require_tmux() -> None:
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is required for this benchmark (apt-get install tmux)")


def median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000.0


class Pane:
    """One detached tmux session running one command in a ``width``×``height`` pane."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        width: int = 100,
        height: int = 30,
    ) -> None:
        self.name = name
        self.command = command
        self.env = dict(env or {})
        self.width = width
        self.height = height

    def start(self) -> float:
        """Start the session; return the monotonic time just before tmux was asked."""
        exports = " ".join(f"{key}={shlex.quote(value)}" for key, value in self.env.items())
        line = f"env {exports} {shlex.join(self.command)}" if exports else shlex.join(self.command)
        argv = [
            "tmux",
            "new-session",
            "-d",
            "-s",
            self.name,
            "-x",
            str(self.width),
            "-y",
            str(self.height),
            line,
        ]
        started = time.monotonic()
        subprocess.run(argv, check=True)
        return started

    def capture(self) -> str:
        result = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name],
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout

    def wait_for(self, predicate, timeout: float = 30.0, interval: float = 0.002) -> float:
        """Poll the pane until ``predicate(text)`` holds; return the monotonic time it did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.capture()):
                return time.monotonic()
            time.sleep(interval)
        raise TimeoutError(f"pane {self.name} never showed what was expected:\n{self.capture()}")

    def send(self, *keys: str, literal: bool = False) -> float:
        """Send keys; return the monotonic time just before sending."""
        argv = ["tmux", "send-keys", "-t", self.name, *(["-l"] if literal else []), *keys]
        started = time.monotonic()
        subprocess.run(argv, check=True)
        return started

    def kill(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True, check=False)

    def __enter__(self) -> Pane:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
