"""Rows "keystroke to screen": typing in the prompt while 100 jobs poll, against the same app idle.

    .venv/bin/python -m bench.latency [--jobs 100] [--keys 80] [--rounds 2] [--intervals 2,0.25]

The app runs signed in to a stand-in API (the offline server in its own process; its jobs never
leave the queue, so they are polled for ever), in a 100x30 tmux pane, with a private
``GPT_IMAGE_TUI_HOME``. "Idle" is the same app with no jobs; "busy" has ``--jobs`` jobs really
submitted first (headless ``batch``) and resumed by the app at start, polled every 2 s (the
default) or every 0.25 s (``--poll-interval``).

A keystroke is ``Z`` or Backspace in turn, sent through tmux at a random 60–160 ms after the
previous one showed; its latency runs from the moment tmux was handed the key to the moment
tmux received the output that put the change on screen (a control-mode client sees each burst
of output as it arrives and looks at the screen after each: no polling, no fork per look).
Rounds alternate idle and busy so machine noise hits both alike; the first keys of each app are
warm-up. Targets: 2 s polling — p95 ≤ 1.5× idle p95 and p99 ≤ 50 ms; 0.25 s — p95 ≤ 2× idle.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time

from bench._common import private_home, queue_jobs, quit_app, start_app
from bench._proc import cpu_seconds
from bench._server import Api, api_env, slow_api
from bench._stats import percentile, verdict
from bench._tmux import Pane, Tmux

WARM_UP_KEYS = 6
SETTLE_SECONDS = 3.0


def type_keys(pane: Pane, keys: int, rng: random.Random) -> list[float]:
    """Latency of each of ``keys`` keystrokes in the prompt editor (seconds)."""
    samples: list[float] = []
    count = pane.capture().count("Z")
    for index in range(keys + WARM_UP_KEYS):
        if index % 2 == 0:
            sent = pane.send("Z", literal=True)
            count += 1
        else:
            sent = pane.send("BSpace")
            count -= 1
        expected = count

        def typed(text: str, expected: int = expected) -> bool:
            return text.count("Z") == expected

        shown = pane.wait_for(typed, since=sent, timeout=20)
        if index >= WARM_UP_KEYS:
            samples.append(shown - sent)
        time.sleep(rng.uniform(0.06, 0.16))
    return samples


def run_app(tmux: Tmux, tag: str, env: dict[str, str], jobs: int, interval: float, keys: int,
            rng: random.Random, api: Api) -> tuple[list[float], float, float]:
    """One app start: (latencies, app CPU % while typing, status polls/s seen by the API)."""
    ready = f"{jobs} active" if jobs else "No jobs yet"
    pane, _ = start_app(tmux, f"i9-latency-{tag}", ["--poll-interval", f"{interval:g}"], env,
                        ready=ready)
    time.sleep(SETTLE_SECONDS)  # the start-up burst (resuming every job) is not typing
    app_cpu, polls, started = cpu_seconds(pane.pid), api.status_gets(), time.monotonic()
    samples = type_keys(pane, keys, rng)
    elapsed = time.monotonic() - started
    cpu = 100 * (cpu_seconds(pane.pid) - app_cpu) / elapsed
    polls = api.status_gets() - polls
    quit_app(pane, confirm=bool(jobs))
    return samples, cpu, polls / elapsed


def describe(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return (f"median {statistics.median(ms):6.1f}  p90 {percentile(ms, 90):6.1f}  "
            f"p95 {percentile(ms, 95):6.1f}  p99 {percentile(ms, 99):6.1f}  max {max(ms):6.1f}"
            f"  (n={len(ms)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--keys", type=int, default=80, help="keystrokes measured per app start")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--intervals", default="2,0.25",
                        help="poll intervals to measure, comma separated (default 2,0.25)")
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    intervals = [float(x) for x in args.intervals.split(",")]
    rng = random.Random(args.seed)
    idle: list[float] = []
    busy: dict[float, list[float]] = {interval: [] for interval in intervals}
    cpu: dict[str, list[float]] = {}
    polls: dict[float, list[float]] = {interval: [] for interval in intervals}
    with Tmux("latency") as tmux, slow_api() as api, private_home("latency-idle") as idle_home, \
            private_home("latency-busy") as busy_home:
        idle_env = {"GPT_IMAGE_TUI_HOME": str(idle_home), **api_env(api)}
        busy_env = {"GPT_IMAGE_TUI_HOME": str(busy_home), **api_env(api)}
        queue_jobs(busy_env, args.jobs, busy_home)
        for round_number in range(args.rounds):
            samples, load, _ = run_app(tmux, f"idle-{round_number}", idle_env, 0, 2.0,
                                       args.keys, rng, api)
            idle += samples
            cpu.setdefault("idle", []).append(load)
            for interval in intervals:
                samples, load, rate = run_app(
                    tmux, f"busy-{interval:g}-{round_number}", busy_env, args.jobs, interval,
                    args.keys, rng, api)
                polls[interval].append(rate)
                busy[interval] += samples
                cpu.setdefault(f"busy {interval:g}", []).append(load)

    idle_p95 = percentile(idle, 95)
    print("keystroke to screen in the prompt editor (ms)")
    print(f"  idle, no jobs                 {describe(idle)}   app CPU "
          f"{statistics.median(cpu['idle']):.0f} %")
    for interval in intervals:
        samples = busy[interval]
        p95, p99 = percentile(samples, 95), percentile(samples, 99)
        print(f"  {args.jobs} jobs polling / {interval:<4g} s  {describe(samples)}   app CPU "
              f"{statistics.median(cpu[f'busy {interval:g}']):.0f} %, "
              f"{statistics.median(polls[interval]):.0f} status polls/s")
        limit = 1.5 if interval >= 2 else 2.0
        ratio = p95 / idle_p95
        print(f"      p95 busy/idle {ratio:5.2f}x   target ≤ {limit:g}x: {verdict(ratio, limit)}")
        if interval >= 2:
            print(f"      p99 {p99 * 1000:5.1f} ms      target ≤ 50 ms: "
                  f"{verdict(p99 * 1000, 50)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
