"""Row "memory": the app's resident memory with 2,000 jobs in history, before and after paging
the whole history browser, against a minimal Textual app.

    .venv/bin/python -m bench.memory [--jobs 2000] [--pace 0.2]

A private history gets ``--jobs`` finished jobs, each with its own 1024×1024 PNG (written
through ``tui.storage.history.History``; the files are hard links to 16 distinct images, so
every job has its own path and its own thumbnail). The app starts offline with half-cell images
in a 100x30 tmux pane; its RSS (from /proc) is read once it has settled ("at start"). Then F3
and ``h`` open the history browser, and PageDown is pressed every ``--pace`` s until the oldest
job is selected — the browser loads the pages and makes the thumbnails of the rows in view as
it goes. RSS is sampled every 0.25 s throughout ("peak while paging"), and read again once the
app has gone quiet ("after paging"). The minimal Textual app's RSS is the baseline.
The browser's RSS is read once it has settled (its first thumbnails made).
Target: ≤ 150 MB after paging, and flat while paging, which is judged two ways: after paging at
most 8 MB above the settled browser, and over the second half of paging at most 1.5 MB per
1,000 jobs (a least-squares slope of the samples) — run with ``--jobs 4000`` to see that it does
not grow with the jobs paged.

2026-11-30, 2 cores (the same machine as the README's table): before, 70 MB at start → 118 MB
after paging, +28 MB while paging, growing ~6 MB per 1,000 jobs — the browser kept every row
paged past, and the drawn rows' garbage (Textual strips keep themselves in their own caches; the
table's LRU caches leave a ring when cleared) waited for a full collection that the app makes
only while input is quiet. Now (a window of three pages; caches unlinked; a collection each
time a page goes): 71 at start, 94 open, peak 113, 104 after: +9.7 MB, slope +0.8 MB per 1,000
jobs; with 4,000 jobs +11.0 MB, slope +0.8. The slope is flat; the ~10 MB are a one-off step in
the first pages (the window filling to 300 rows, the table's render caches, decoded thumbnails).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time

from bench._common import MINIMAL, base_env, private_home, quit_app, seed_finished_jobs, start_app
from bench._proc import cpu_seconds, rss_bytes
from bench._stats import verdict
from bench._tmux import Pane, Tmux

TARGET_MB = 150.0
FLAT_GROWTH_MB = 8.0  # "flat": after paging, at most this much above the browser just opened …
FLAT_SLOPE_MB = 1.5  # … and over the second half of paging, at most this much per 1,000 jobs
MB = 1024 * 1024


def slope_per_thousand(samples: list[tuple[float, int]], rows_per_second: float) -> float:
    """MB of RSS gained per 1,000 jobs paged, fitted (least squares) over ``samples``."""
    if len(samples) < 3 or rows_per_second <= 0:
        return 0.0
    times = [t for t, _ in samples]
    sizes = [rss / MB for _, rss in samples]
    per_second = statistics.linear_regression(times, sizes).slope
    return per_second / rows_per_second * 1000


def wait_quiet_cpu(pid: int, *, below: float = 3.0, window: float = 1.0,
                   timeout: float = 120.0) -> None:
    """Wait until the process uses less than ``below`` % of a core over ``window`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        start = cpu_seconds(pid)
        time.sleep(window)
        if 100 * (cpu_seconds(pid) - start) / window < below:
            return


class Sampler(threading.Thread):
    """RSS of one process every ``interval`` s, with the time of each sample."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.samples.append((time.monotonic(), rss_bytes(self.pid)))
            except (OSError, ValueError):
                return
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def page_through(pane: Pane, jobs: int, pace: float) -> int:
    """PageDown until the oldest job (#1) is selected; the number of presses."""
    presses = 0
    while True:
        pane.send("NPage")
        presses += 1
        time.sleep(pace)
        if presses % 10 == 0 or presses > jobs // 20:
            screen = pane.capture()
            if "#1 · completed" in screen and f"{jobs} of {jobs} jobs" in screen:
                return presses
        if presses > jobs:  # a page is more than one row: something went wrong
            raise RuntimeError("paging never reached the oldest job:\n" + pane.capture())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--pace", type=float, default=0.2, help="seconds between PageDown keys")
    args = parser.parse_args()
    with Tmux("memory") as tmux:
        pane = tmux.start("i9-memory-min", MINIMAL, env=base_env())
        pane.wait_for(lambda text: "MINIMAL READY" in text)
        time.sleep(2.0)
        minimal = rss_bytes(pane.pid)
        quit_app(pane)

        with private_home("memory") as home:
            seeding = time.monotonic()
            seed_finished_jobs(home, args.jobs)
            seeded_in = time.monotonic() - seeding
            pane, _ = start_app(tmux, "i9-memory-app", ["--offline", "--graphics", "halfcell"],
                                {"GPT_IMAGE_TUI_HOME": str(home)}, ready="OFFLINE", timeout=120)
            try:
                wait_quiet_cpu(pane.pid)
                at_start = rss_bytes(pane.pid)
                sampler = Sampler(pane.pid)
                sampler.start()
                pane.send("F3")
                time.sleep(0.3)
                pane.send("h")
                pane.wait_for(lambda text: f"of {args.jobs} jobs" in text, timeout=60)
                wait_quiet_cpu(pane.pid)  # the first rows' thumbnails made, Pillow loaded
                opened = rss_bytes(pane.pid)
                paging = time.monotonic()
                presses = page_through(pane, args.jobs, args.pace)
                paged_in = time.monotonic() - paging
                wait_quiet_cpu(pane.pid)
                sampler.stop()
                after = rss_bytes(pane.pid)
                pane.send("Escape")
                time.sleep(1.0)
                wait_quiet_cpu(pane.pid)
                closed = rss_bytes(pane.pid)
            finally:
                quit_app(pane)
    during = [rss for _, rss in sampler.samples]
    paged = [(t, rss) for t, rss in sampler.samples if paging <= t <= paging + paged_in]
    second_half = paged[len(paged) // 2 :]
    first_half = [rss for _, rss in paged[: len(paged) // 2]] or during
    slope = slope_per_thousand(second_half, args.jobs / paged_in if paged_in else 0.0)
    growth = (after - opened) / MB
    print(f"memory (RSS, MB) with {args.jobs} jobs in history (seeded in {seeded_in:.0f} s)")
    print(f"  minimal Textual app                     {minimal / MB:7.1f}")
    print(f"  gpt-image-tui at start                  {at_start / MB:7.1f}   "
          f"{at_start / minimal:.1f}x minimal")
    print(f"  history browser open, settled           {opened / MB:7.1f}")
    print(f"  peak while paging ({presses} PageDown in {paged_in:.0f} s) {max(during) / MB:7.1f}")
    print(f"  median, first / second half of paging   {statistics.median(first_half) / MB:7.1f}"
          f" / {statistics.median([rss for _, rss in second_half] or during) / MB:.1f}")
    print(f"  after paging, settled                   {after / MB:7.1f}   "
          f"{after / minimal:.1f}x minimal   target ≤ {TARGET_MB:g} MB: "
          f"{verdict(after / MB, TARGET_MB)}")
    print(f"  growth while paging (after − open)      {growth:+7.1f}   "
          f"flat ≤ {FLAT_GROWTH_MB:g} MB: {verdict(growth, FLAT_GROWTH_MB)}")
    print(f"  slope, second half of paging            {slope:+7.2f}   MB per 1,000 jobs; "
          f"flat ≤ {FLAT_SLOPE_MB:g}: {verdict(slope, FLAT_SLOPE_MB)}")
    print(f"  browser closed again                    {closed / MB:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
