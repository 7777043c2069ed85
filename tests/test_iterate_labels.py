"""Card labels: a child's change, a sweep cell's alternative, a first job's prompt head."""

from __future__ import annotations

from pathlib import Path

from tui.iterate.labels import difference_label, prompt_head
from tui.models import JobRequest
from tui.storage.history import History


def test_labels_for_child_sweep_cell_and_first_job(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as history:
        root = history.create_job(JobRequest("a red bicycle, soft window light", "1024_1024"))
        child = history.create_job(
            JobRequest("a red bicycle, golden hour light", "1024_1024"), parent_id=root.id
        )
        cell = history.create_job(JobRequest("a red bicycle, neon", "1024_1024"),
                                  parent_id=root.id, sweep_id="s1", sweep_label="neon")
        assert difference_label(root) == "a red bicycle, soft window light"
        assert difference_label(child, root) == "+golden hour −soft window"
        assert difference_label(cell, root) == "neon"
        assert [j.id for j in history.family(child.id)] == [root.id, child.id, cell.id]
        assert [j.id for j in history.sweep("s1")] == [cell.id]
        assert set(history.get_many([root.id, cell.id, 999])) == {root.id, cell.id}


def test_same_prompt_says_so_and_a_rewrite_shows_its_head() -> None:
    from tui.models import Job, JobState

    def job(prompt: str) -> Job:
        return Job(1, JobRequest(prompt, "1024_1024"), JobState.COMPLETED, 0.0, 0.0)

    assert difference_label(job("same"), job("same")) == "no change"
    rewritten = difference_label(job("a neon city street at night"), job("a cat on a sofa"))
    assert rewritten == "a neon city street at night"


def test_prompt_head_cuts_at_a_word() -> None:
    head = prompt_head("word " * 40)
    assert head.endswith("…") and len(head) <= 60 and "wor…" not in head
