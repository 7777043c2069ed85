"""What one process costs, read from /proc (Linux): CPU seconds and resident memory."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CpuWindow", "cpu_seconds", "family", "rss_bytes", "sample_cpu"]

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process (all its threads) so far."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / _TICK


def family(pid: int) -> list[int]:
    """``pid`` and its descendants (the app and, offline, its embedded backend), parents first."""
    found = [pid]
    for member in found:
        for task in Path(f"/proc/{member}/task").iterdir():
            try:
                found.extend(int(child) for child in (task / "children").read_text().split())
            except OSError:
                continue  # a thread or child that ended meanwhile
    return found


def family_cpu_seconds(pids: list[int]) -> float:
    """CPU seconds used so far by every process of ``pids`` still alive."""
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            continue
    return total


def rss_bytes(pid: int) -> int:
    """Resident set size (VmRSS) of the process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise ValueError(f"no VmRSS for pid {pid}")


@dataclass(frozen=True, slots=True)
class CpuWindow:
    seconds: float  # wall time of the window
    cpu: float  # CPU seconds used in it

    @property
    def percent(self) -> float:
        """Percent of one core."""
        return 100.0 * self.cpu / self.seconds


def sample_cpu(pid: int, seconds: float) -> CpuWindow:
    """CPU used by ``pid`` and its child processes over the next ``seconds`` of wall time."""
    pids = family(pid)
    start_cpu, start = family_cpu_seconds(pids), time.monotonic()
    time.sleep(seconds)
    end_cpu, end = family_cpu_seconds(pids), time.monotonic()
    return CpuWindow(end - start, end_cpu - start_cpu)
