"""Polls of many jobs go out in rounds: one wake-up of the event loop for many polls.

Measured (notes of issue 9): fifty jobs polled every 2 s at fifty different moments cost about
three times the CPU of the same polls gathered into four rounds. These tests check the grid's
arithmetic and that a follower's pause between polls ends on it (a real loop, a real history).
"""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path

import pytest

from tui.jobs.book import JobBook
from tui.jobs.follower import (
    POLL_ROUND_SECONDS,
    POLLS_PER_ROUND,
    Follower,
    _settle,
    phase_of,
    poll_due,
    round_step,
)
from tui.storage.history import History


def on_grid(moment: float, grid: float) -> bool:
    steps = moment / grid
    return math.isclose(steps, round(steps), abs_tol=1e-6)


def test_a_pause_ends_on_the_last_grid_point_before_it_ends() -> None:
    # a poll answered 30 ms after its round at 10.0 is next asked at 12.0: one interval later
    assert poll_due(10.03, 2.0, 0.5) == 12.0
    # answered late in its step: still never sooner than one interval after the round it began
    assert poll_due(10.49, 2.0, 0.5) == 12.0
    assert poll_due(10.6, 2.0, 0.5) == 12.5
    # a short pause whose last grid point is already past: the next one
    assert poll_due(10.1, 0.2, 0.5) == 10.5
    assert poll_due(10.0, 0.0, 0.5) == 10.5
    # no grid: exactly the pause asked
    assert poll_due(10.03, 2.0, 0.0) == 12.03


@pytest.mark.parametrize("now", [0.0, 0.001, 3.3, 1234.567, 98765.4321])
@pytest.mark.parametrize("seconds", [0.0, 0.1, 0.25, 0.5, 1.99, 2.0, 7.3])
@pytest.mark.parametrize("grid", [0.02, 0.25, 0.5])
def test_rounds_are_shared_and_never_in_the_past(now: float, seconds: float, grid: float) -> None:
    due = poll_due(now, seconds, grid)
    assert due > now and on_grid(due, grid)
    eps = 1e-9
    assert due <= now + seconds + eps or due - now <= grid + eps  # never more than a step late
    assert due > now + seconds - grid - eps  # never more than a step early
    # pauses asked anywhere within one step of each other end together
    assert poll_due(now + grid * 0.3, seconds, grid) in {due, due + grid}


def test_few_jobs_share_the_coarse_grid_and_many_get_more_rounds() -> None:
    assert round_step(2.0, 1) == POLL_ROUND_SECONDS
    assert round_step(2.0, 20) == POLL_ROUND_SECONDS  # 4 rounds of 5
    assert round_step(0.25, 5) == 0.25  # never coarser than the interval
    # a hundred jobs every 0.25 s: ten rounds per interval, not one round of a hundred polls
    assert round_step(0.25, 100) == pytest.approx(0.025)
    assert round_step(2.0, 200) == pytest.approx(0.1)


@pytest.mark.parametrize(("interval", "jobs"), [(2.0, 50), (2.0, 100), (0.25, 100), (0.25, 24)])
def test_no_round_carries_many_more_polls_than_its_share(interval: float, jobs: int) -> None:
    """Where consecutive jobs' first polls land (their phase, snapped to the grid) and hence
    every later poll, each answered within a step: no round gets far more than its share."""
    grid = round_step(interval, jobs)
    start = 1000.0
    rounds: dict[int, int] = {}
    for job_id in range(17, 17 + jobs):
        due = poll_due(start, interval * phase_of(job_id), grid, up=True)
        slot = round((due - start) / grid) % max(1, round(interval / grid))
        rounds[slot] = rounds.get(slot, 0) + 1
    share = jobs / max(1, round(interval / grid))
    assert max(rounds.values()) <= max(POLLS_PER_ROUND, share) * 1.5 + 1
    # and the one-round-for-everyone schedule this replaces would have broken that bound
    assert jobs <= POLLS_PER_ROUND * 1.5 + 1 or grid < interval


async def test_a_pause_between_polls_ends_on_the_shared_grid(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as history:
        book = JobBook(history, time.time)
        follower = Follower(
            book, client=None, downloader=None, output_files=None,  # type: ignore[arg-type]
            poll_interval=2.0, sleep=asyncio.sleep, give_up_after=None, before_commit=None,
        )
        loop = asyncio.get_running_loop()

        def timer_ends() -> list[float]:
            return sorted(
                handle.when() for handle in loop._scheduled  # type: ignore[attr-defined]
                if handle._callback is _settle and not handle.cancelled()  # type: ignore[attr-defined]
            )

        before = loop.time()
        pauses = [
            asyncio.create_task(follower.pause(job_id, seconds, rounds=True))
            for job_id, seconds in ((1, 2.0), (2, 1.7), (3, 2.3))
        ]
        plain = asyncio.create_task(follower.pause(4, 1.7))
        await asyncio.sleep(0)
        after = loop.time()
        ends = timer_ends()
        assert len(ends) == 4
        plain_end = [end for end in ends if not on_grid(end, POLL_ROUND_SECONDS)]
        assert len(plain_end) == 1 and before + 1.7 <= plain_end[0] <= after + 1.7
        rounds = [end for end in ends if end not in plain_end]
        assert all(on_grid(end, POLL_ROUND_SECONDS) for end in rounds)
        assert all(before < end <= after + 2.3 for end in rounds)

        # a cancel still wakes a paused follower at once, rounds or not
        for job_id in (1, 2, 3, 4):
            follower.wake(job_id)
        assert await asyncio.gather(*pauses, plain) == [True, True, True, True]
        assert timer_ends() == []
