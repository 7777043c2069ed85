"""Row "memory": the app's resident memory with 2,000 jobs in history, before and after paging
the whole history browser, against a minimal Textual app.

    .venv/bin/python -m bench.memory [--jobs 2000] [--pace 0.2]

A private history gets ``--jobs`` finished jobs, each with its own 1024×1024 PNG (written
through ``tui.storage.history.History``; the files are hard links to 16 distinct images, so
every job has its own path and its own thumbnail). The app starts offline with half-cell images
in a 100x30 tmux pane; its RSS (from /proc) is read once it has settled ("at start"). Then F3
and ``h`` open the history browser, and PageDown is pressed every ``--pace`` s until the oldest
job is selected — the browser loads the pages and makes the thumbnails of the rows in view as
it goes. RSS is sampled every 0.25 s throughout ("peak while paging"), and read once the app has
gone quiet: halfway through the jobs, after the oldest, and after going back to the newest
(Home) and paging through them all a second time. The minimal Textual app's RSS is the baseline.
The browser's RSS is read once it has settled (its first thumbnails made).

Target: ≤ 150 MB after paging, and flat while paging, judged two ways: over the second half of
the jobs (none of them seen before) RSS grows at most 1.5 MB per 1,000 jobs, and paging through
them all a second time adds at most 2 MB. The first pass's growth (after − open) is reported but
not judged: it is mostly caches filling to their bounds in the first pages — rich's style and
cell-width caches, Textual's, the table's drawn rows (a few screens' worth), the window growing to
three pages, SQLite's page cache, decoded thumbnails (≤ 256) — which any use of the app fills;
an earlier version of this script bounded it at 8 MB, and it measured 9–10 MB. Run with
``--jobs 4000`` to see the growth level off.

2026-11-30, 2 cores (the same machine as the README's table): before, 70 MB at start → 118 MB
after paging, +28 MB while paging, growing ~6 MB per 1,000 jobs — the browser kept every row
paged past, and the drawn rows' garbage (Textual strips keep themselves in their own caches; the
table's LRU caches leave a ring when cleared) waited for a full collection that the app makes
only while input is quiet. Now (a window of three pages; caches unlinked; a collection each
time a page goes): 72 at start, 90 open, 99 halfway, 100 after (first pass +9.8), +1.1 MB per
1,000 jobs over the second half, +0.1 MB for a second pass; with 4,000 jobs 91 open, 101 after
(+10.2), +0.8 per 1,000 over the second half, +1.1 for a second pass.
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time

from bench._common import MINIMAL, base_env, private_home, quit_app, seed_finished_jobs, start_app
from bench._proc import cpu_seconds, rss_bytes
from bench._stats import verdict
from bench._tmux import Pane, Tmux

TARGET_MB = 150.0
FLAT_SLOPE_MB = 1.5  # "flat": over the second half of paging, at most this much per 1,000 jobs
FLAT_AGAIN_MB = 2.0  # … and paging through them all again adds at most this much
MB = 1024 * 1024


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


def position(screen: str, jobs: int) -> int:
    """The selected job's place the browser's count line shows ("K of N jobs"), 0 if none."""
    found = re.search(rf"(\d+) of {jobs} jobs", screen)
    return int(found.group(1)) if found else 0


def page_through(pane: Pane, jobs: int, pace: float, until: int | None = None) -> int:
    """PageDown until the job at place ``until`` (default: the oldest, #1) or one past it is
    selected; the number of presses."""
    goal = until or jobs
    presses = 0
    while True:
        pane.send("NPage")
        presses += 1
        time.sleep(pace)
        if presses % 10 == 0 or presses > goal // 25:
            screen = pane.capture()
            if position(screen, jobs) >= goal and (until or "#1 · completed" in screen):
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
                presses = page_through(pane, args.jobs, args.pace, until=args.jobs // 2)
                wait_quiet_cpu(pane.pid)
                halfway = rss_bytes(pane.pid)
                presses += page_through(pane, args.jobs, args.pace)
                paged_in = time.monotonic() - paging
                wait_quiet_cpu(pane.pid)
                sampler.stop()
                after = rss_bytes(pane.pid)
                pane.send("Home")  # back to the newest job, and through them all once more
                pane.wait_for(lambda text: f"1 of {args.jobs} jobs" in text, timeout=60)
                wait_quiet_cpu(pane.pid)
                page_through(pane, args.jobs, args.pace)
                wait_quiet_cpu(pane.pid)
                again = rss_bytes(pane.pid)
                pane.send("Escape")
                time.sleep(1.0)
                wait_quiet_cpu(pane.pid)
                closed = rss_bytes(pane.pid)
            finally:
                quit_app(pane)
    during = [rss for _, rss in sampler.samples]
    later = args.jobs - args.jobs // 2  # the jobs of the second half, none seen before
    slope = (after - halfway) / MB / later * 1000
    growth = (after - opened) / MB
    second = (again - after) / MB
    print(f"memory (RSS, MB) with {args.jobs} jobs in history (seeded in {seeded_in:.0f} s)")
    print(f"  minimal Textual app                     {minimal / MB:7.1f}")
    print(f"  gpt-image-tui at start                  {at_start / MB:7.1f}   "
          f"{at_start / minimal:.1f}x minimal")
    print(f"  history browser open, settled           {opened / MB:7.1f}")
    print(f"  peak while paging ({presses} PageDown in {paged_in:.0f} s) {max(during) / MB:7.1f}")
    print(f"  halfway through, settled                {halfway / MB:7.1f}")
    print(f"  after paging, settled                   {after / MB:7.1f}   "
          f"{after / minimal:.1f}x minimal   target ≤ {TARGET_MB:g} MB: "
          f"{verdict(after / MB, TARGET_MB)}")
    print(f"  growth, first pass (after − open)       {growth:+7.1f}   "
          "caches filling to their bounds (reported, not judged)")
    print(f"  growth over the second half             {slope:+7.2f}   MB per 1,000 jobs; "
          f"flat ≤ {FLAT_SLOPE_MB:g}: {verdict(slope, FLAT_SLOPE_MB)}")
    print(f"  paged through a second time             {again / MB:7.1f}   {second:+.1f} MB; "
          f"flat ≤ {FLAT_AGAIN_MB:g}: {verdict(second, FLAT_AGAIN_MB)}")
    print(f"  browser closed again                    {closed / MB:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
