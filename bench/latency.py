"""Keystroke-to-screen latency of the prompt editor while 100 jobs poll, against 0 jobs.

Usage (from the repository root, with the venv active; tmux required)::

    python -m bench.latency [--jobs 100] [--keys 40] [--rounds 2] [--poll-interval 0.25]

A stand-in Model API (the offline server with queue and run times of 1e9 s, so every job stays
"in_queue" and keeps being polled) runs in its own process, as a real server would. The app
runs in a detached tmux pane (100x30) through ``python -m bench.latency app``, which builds the
real graph (``open_services`` + ``GptImageApp``) against that server and submits ``--jobs``
prompts through the main screen before it writes a ready file. Then ``Z`` and Backspace are
sent with ``tmux send-keys`` in turn and ``tmux capture-pane -p`` is polled until the editor
shows the change. Rounds alternate 0 jobs / N jobs so machine noise hits both alike. Prints the
medians and the ratio; nothing is asserted. The capture polling itself costs a few ms per look,
the same in both configurations.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._tmux import Pane, median_ms, require_tmux

ROOT = Path(__file__).resolve().parent.parent


# --- the pieces that run in other processes --------------------------------------------------


def serve() -> int:
    """A stand-in Model API whose jobs never leave the queue; prints its base URL."""
    from tui.offline.faults import Timing
    from tui.offline.server import OfflineServer

    server = OfflineServer(timing=Timing(queue_seconds=1e9, run_seconds=1e9)).start()
    print(server.base_url, flush=True)
    try:
        sys.stdin.read()  # until the driver closes our stdin
    finally:
        server.stop()
    return 0


def run_app(base_url: str, jobs: int, ready_file: Path, poll_interval: float) -> int:
    """The real app against ``base_url``, with ``jobs`` submitted through the main screen."""
    from tui.app import GptImageApp
    from tui.config import load_settings
    from tui.imaging import detect_graphics
    from tui.models import JobState
    from tui.widgets.composer import PromptEditor
    from tui.wiring import open_services

    class RemoteServer:
        """Looks like an OfflineServer to ``open_services``; the real one is another process."""

        def __init__(self, url: str) -> None:
            self.base_url = url

        def stop(self) -> None:
            pass

    settings = load_settings(
        offline=True, poll_interval=poll_interval, max_concurrent_submissions=16
    )
    graphics = detect_graphics("halfcell")
    services = open_services(settings, offline_server=RemoteServer(base_url))  # type: ignore[arg-type]

    class BenchApp(GptImageApp):
        CSS_PATH = str(Path(sys.modules[GptImageApp.__module__].__file__).parent / "app.tcss")

        def on_ready(self) -> None:
            self.run_worker(self._seed(), name="bench-seed")

        async def _seed(self) -> None:
            screen = self.main_screen
            editor = screen.query_one(PromptEditor)
            for number in range(jobs):
                editor.load_text(f"bench job {number}")
                screen.action_submit()
            editor.load_text("")
            editor.focus()
            while jobs:
                queued = services.history.count(states=[JobState.QUEUED])
                if queued >= jobs:
                    break
                await asyncio.sleep(0.05)
            ready_file.write_text(f"{jobs} queued\n")

    app = BenchApp(services, graphics=graphics)
    try:
        app.run()
    finally:
        services.history.close()
    return 0


# --- the driver ------------------------------------------------------------------------------


def measure(base_url: str, jobs: int, keys: int, poll_interval: float, tag: str) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="gpt-image-tui-latency-") as home:
        ready = Path(home) / "ready"
        env = {
            "TERM": os.environ.get("TERM") or "xterm-256color",
            "GPT_IMAGE_TUI_HOME": home,
            "PYTHONPATH": str(ROOT),
        }
        command = [
            sys.executable,
            "-m",
            "bench.latency",
            "app",
            "--base-url",
            base_url,
            "--jobs",
            str(jobs),
            "--ready-file",
            str(ready),
            "--poll-interval",
            str(poll_interval),
        ]
        with Pane(f"latency-{tag}-{os.getpid()}", command, env=env) as pane:
            pane.start()
            deadline = time.monotonic() + 120
            while not ready.exists():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the app never got ready:\n{pane.capture()}")
                time.sleep(0.05)
            time.sleep(1.0)  # let the submit burst settle into steady polling
            samples: list[float] = []
            count = pane.capture().count("Z")
            for index in range(keys + 4):
                if index % 2 == 0:
                    sent = pane.send("Z", literal=True)
                    count += 1
                else:
                    sent = pane.send("BSpace")
                    count -= 1
                expected = count
                shown = pane.wait_for(lambda text, n=expected: text.count("Z") == n, timeout=10)
                if index >= 4:  # the first few warm up
                    samples.append(shown - sent)
                time.sleep(0.05)
            pane.send("C-q")
            return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode")
    app = sub.add_parser("app")
    app.add_argument("--base-url", required=True)
    app.add_argument("--jobs", type=int, default=100)
    app.add_argument("--ready-file", type=Path, required=True)
    app.add_argument("--poll-interval", type=float, default=0.25)
    sub.add_parser("server")
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--keys", type=int, default=40, help="keystrokes measured per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=0.25,
        help="seconds between status polls of each job (default 0.25)",
    )
    args = parser.parse_args()
    if args.mode == "server":
        return serve()
    if args.mode == "app":
        return run_app(args.base_url, args.jobs, args.ready_file, args.poll_interval)

    require_tmux()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.latency", "server"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = server.stdout.readline().strip()  # type: ignore[union-attr]
        idle: list[float] = []
        busy: list[float] = []
        for round_number in range(args.rounds):
            idle += measure(base_url, 0, args.keys, args.poll_interval, f"idle{round_number}")
            busy += measure(
                base_url, args.jobs, args.keys, args.poll_interval, f"busy{round_number}"
            )
    finally:
        server.stdin.close()  # type: ignore[union-attr]
        server.wait(timeout=10)
    idle_ms, busy_ms = median_ms(idle), median_ms(busy)
    polls = args.jobs / args.poll_interval
    print(
        f"keystrokes: {len(idle)} per configuration, poll interval {args.poll_interval}s "
        f"(~{polls:.0f} status calls/s with {args.jobs} jobs)"
    )
    print(f"0 jobs polling     median {idle_ms:7.1f} ms   p90 {p90(idle) * 1000:7.1f} ms")
    print(f"{args.jobs} jobs polling   median {busy_ms:7.1f} ms   p90 {p90(busy) * 1000:7.1f} ms")
    print(f"ratio busy/idle    {busy_ms / idle_ms:7.2f}x")
    return 0


def p90(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]


if __name__ == "__main__":
    sys.exit(main())
