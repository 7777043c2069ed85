"""Every row of issue 9's table, one script after another: ``.venv/bin/python -m bench``.

Each script can also be run alone (``python -m bench.<name> --help``); see bench/README.md.
"""

from __future__ import annotations

import subprocess
import sys
import time

ROWS = (
    ("startup", "launch to first frame"),
    ("headless", "a headless command"),
    ("idle", "idle CPU, no jobs and 50 jobs polling"),
    ("latency", "keystroke to screen, 100 jobs polling every 2 s and 0.25 s"),
    ("sweep", "confirming a 24-job sweep; first key after leaving the grid"),
    ("joblist", "moving through the job list"),
    ("memory", "memory with 2,000 jobs after paging the history browser"),
)


def main() -> int:
    only = set(sys.argv[1:])
    failed = 0
    for name, what in ROWS:
        if only and name not in only:
            continue
        print(f"== bench.{name}: {what}", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, "-m", f"bench.{name}"])
        print(f"   ({time.monotonic() - started:.0f} s)\n", flush=True)
        failed += code != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
