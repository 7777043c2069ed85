"""Row "a headless command": ``gpt-image-tui history --limit 1`` against ``python -c pass``.

    .venv/bin/python -m bench.headless [--runs 15]

Wall time of the whole process, from fork to exit, of the venv's ``gpt-image-tui`` console
script listing the newest job of a private history (20 finished jobs), against the same
interpreter doing nothing (``python -c pass``). Runs alternate; medians and spread are printed.
Target: ≤ 5× ``python -c pass``. ``python -X importtime -m tui history --limit 1`` shows where
the time goes.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from bench._common import app_command, private_home, process_env, seed_finished_jobs
from bench._stats import spread, verdict

TARGET_RATIO = 5.0


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    result = subprocess.run(argv, env=env, capture_output=True, check=False)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"{argv} exited {result.returncode}: {result.stderr[-300:]!r}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    command = app_command("history", "--limit", "1")
    app: list[float] = []
    bare: list[float] = []
    with private_home("headless") as home:
        seed_finished_jobs(home, 20, distinct_images=2)
        env = process_env({"GPT_IMAGE_TUI_HOME": str(home)})
        env.pop("RUNCOMFY_TOKEN", None)
        for _ in range(2):  # warm the page cache and the .pyc files
            timed(command, env)
            timed([sys.executable, "-c", "pass"], env)
        for _ in range(args.runs):
            app.append(timed(command, env))
            bare.append(timed([sys.executable, "-c", "pass"], env))
    ratio = statistics.median(app) / statistics.median(bare)
    print("a headless command, whole process (ms; median, spread)")
    print(f"  python -c pass                      {spread(bare, 1000)}")
    print(f"  gpt-image-tui history --limit 1     {spread(app, 1000)}")
    print(f"  ratio                               {ratio:.1f}x   target ≤ {TARGET_RATIO:g}x: "
          f"{verdict(ratio, TARGET_RATIO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
