"""Rows "idle CPU": the app doing nothing the user asked for, against a minimal Textual app.

    .venv/bin/python -m bench.idle [--windows 3 --seconds 10] [--jobs 50] [--only jobs|empty]

Three apps, each in its own 100x30 tmux pane and private ``GPT_IMAGE_TUI_HOME``, one after
another; each is left alone after its first frame for longer than the app's cursor takes to
rest (``tui.ui.cursor_rest.REST_SECONDS``: idle means nobody at the keyboard, and then the
cursor stops blinking, as GTK's does after 10 s), then the CPU time of its process and its child
processes (all threads, from /proc) is read over ``--windows`` windows of ``--seconds`` s,
nothing typed:

* the minimal Textual app (Header, TextArea, Footer) — the baseline (its cursor always blinks);
* ``gpt-image-tui --offline`` with no jobs (the embedded offline backend is a child process of
  the app, and its cost is counted) — target ≤ 0.5 % of a core;
* ``gpt-image-tui`` signed in to a stand-in API (the offline server in another process, its
  jobs never leaving the queue) with ``--jobs`` jobs queued, polled every 2 s (the default) —
  target ≤ 2 % of a core. The jobs are really submitted first (headless ``batch``, interrupted
  once all are queued) and the app resumes them at start, as after any closed session. The
  stand-in API's own CPU is printed too; it is not the app's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from bench._common import MINIMAL, base_env, private_home, queue_jobs, quit_app, start_app
from bench._proc import cpu_seconds, sample_cpu
from bench._server import api_env, slow_api
from bench._stats import spread, verdict
from bench._tmux import Pane, Tmux
from tui.ui.cursor_rest import REST_SECONDS

TARGET_EMPTY = 0.5
TARGET_JOBS = 2.0
SETTLE_SECONDS = REST_SECONDS + 3.0  # past the cursor's rest (checked every REST_SECONDS / 4)


def measure(pane: Pane, windows: int, seconds: float, settle: float = SETTLE_SECONDS
            ) -> list[float]:
    time.sleep(settle)
    return [sample_cpu(pane.pid, seconds).percent for _ in range(windows)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--poll-interval", type=float, default=2.0)
    parser.add_argument("--only", choices=("jobs", "empty"))
    args = parser.parse_args()
    results: dict[str, list[float]] = {}
    with Tmux("idle") as tmux:
        pane = tmux.start("i9-idle-min", MINIMAL, env=base_env())
        pane.wait_for(lambda text: "MINIMAL READY" in text)
        results["minimal"] = measure(pane, args.windows, args.seconds)
        quit_app(pane)

        if args.only != "jobs":
            with private_home("idle-empty") as home:
                env = {"GPT_IMAGE_TUI_HOME": str(home)}
                pane, _ = start_app(tmux, "i9-idle-empty", ["--offline"], env, ready="OFFLINE")
                results["empty"] = measure(pane, args.windows, args.seconds)
                quit_app(pane)

        if args.only != "empty":
            with private_home("idle-jobs") as home, slow_api() as api:
                env = {"GPT_IMAGE_TUI_HOME": str(home), **api_env(api)}
                queue_jobs(env, args.jobs, home)
                pane, _ = start_app(
                    tmux, "i9-idle-jobs", ["--poll-interval", str(args.poll_interval)], env,
                    ready=f"{args.jobs} active",
                )
                time.sleep(SETTLE_SECONDS)
                server_before, started = cpu_seconds(api.pid), time.monotonic()
                polls_before = api.status_gets()
                results["jobs"] = measure(pane, args.windows, args.seconds, settle=0.0)
                elapsed = time.monotonic() - started
                server = 100 * (cpu_seconds(api.pid) - server_before) / elapsed
                polls = (api.status_gets() - polls_before) / elapsed
                quit_app(pane, confirm=True)

    minimal = statistics.median(results["minimal"])
    print(f"idle CPU, % of one core ({args.windows} windows of {args.seconds:g} s; median, "
          "spread)")
    print(f"  {'minimal Textual app':<40} {spread(results['minimal'], 1, 2)}")
    if "empty" in results:
        empty = statistics.median(results["empty"])
        print(f"  {'gpt-image-tui --offline, no jobs':<40} {spread(results['empty'], 1, 2)}")
        print(f"      {empty / max(minimal, 0.01):.1f}x minimal   target ≤ {TARGET_EMPTY}%: "
              f"{verdict(empty, TARGET_EMPTY)}")
    if "jobs" in results:
        jobs = statistics.median(results["jobs"])
        label = f"gpt-image-tui, {args.jobs} jobs polling / {args.poll_interval:g} s"
        print(f"  {label:<40} {spread(results['jobs'], 1, 2)}")
        print(f"      {jobs / max(minimal, 0.01):.1f}x minimal   target ≤ {TARGET_JOBS}%: "
              f"{verdict(jobs, TARGET_JOBS)}")
        print(f"      (the stand-in API meanwhile: {server:.1f} % of a core, not counted; "
              f"{polls:.1f} status polls/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
