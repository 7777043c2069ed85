"""A stand-in Model API for the benchmarks: the offline backend, in its own process, whose jobs
take as long as asked (by default they never leave the queue, so they are polled for ever).

Run as ``python -m bench._server [--queue-seconds S] [--run-seconds S]``: it prints one JSON line
(``base_url``, ``serverless_base``, ``web_base``, ``pid``) and serves until its stdin closes;
a line ``stats`` on its stdin is answered with ``{"status_gets": N}``. It
uses the offline server's library entry point (``tui.offline.server.OfflineServer``), which has
no Textual in it; the app and the headless commands reach it through their command line, as
they would reach the real API (``RUNCOMFY_MODEL_API_BASE`` and friends, see :func:`api_env`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEVER = 1e9  # seconds: a job that stays where it is for the whole run

__all__ = ["NEVER", "Api", "api_env", "slow_api"]


@dataclass(frozen=True, slots=True)
class Api:
    """Where the stand-in API answers, and its process id (its CPU is not the app's)."""

    base_url: str
    serverless_base: str
    web_base: str
    pid: int
    process: subprocess.Popen[str]

    def status_gets(self) -> int:
        """How many status polls the stand-in API has answered so far."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("stats\n")
        self.process.stdin.flush()
        return int(json.loads(self.process.stdout.readline())["status_gets"])


def api_env(api: Api, token: str = "bench-token-not-a-secret") -> dict[str, str]:
    """The environment that points the app and the headless commands at ``api`` (signed in)."""
    return {
        "RUNCOMFY_TOKEN": token,
        "RUNCOMFY_MODEL_API_BASE": api.base_url,
        "RUNCOMFY_SERVERLESS_API_BASE": api.serverless_base,
        "RUNCOMFY_WEB_BASE": api.web_base,
    }


@contextmanager
def slow_api(queue_seconds: float = NEVER, run_seconds: float = NEVER) -> Iterator[Api]:
    """Run the stand-in API in a child process for the duration of the ``with`` block."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench._server", "--queue-seconds", str(queue_seconds),
         "--run-seconds", str(run_seconds)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    # It stands in for a server elsewhere: its own work (drawing a sweep's 24 images at once,
    # just as the app downloads them) is no part of what the app does, so it takes only what
    # CPU the app leaves (the app's own offline backend runs at nice +10 for the same reason).
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, process.pid, 19)
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line:
            raise RuntimeError("the stand-in API did not start")
        data = json.loads(line)
        yield Api(data["base_url"], data["serverless_base"], data["web_base"], process.pid,
                  process)
    finally:
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queue-seconds", type=float, default=NEVER)
    parser.add_argument("--run-seconds", type=float, default=NEVER)
    args = parser.parse_args()
    import os

    from tui.offline.faults import Timing
    from tui.offline.server import OfflineServer

    timing = Timing(queue_seconds=args.queue_seconds, run_seconds=args.run_seconds)
    server = OfflineServer(timing=timing).start()
    print(
        json.dumps(
            {
                "base_url": server.base_url,
                "serverless_base": server.serverless_base,
                "web_base": server.web_base,
                "pid": os.getpid(),
            }
        ),
        flush=True,
    )
    try:
        for line in sys.stdin:  # until the benchmark closes our stdin
            if line.strip() == "stats":
                print(json.dumps({"status_gets": server.stats.status_gets}), flush=True)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
