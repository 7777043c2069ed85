"""Output names: one safe component inside the output dir, readable, never hidden; stale temps swept."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui.models import Job, JobRequest, JobState
from tui.storage.files import (
    TEMP_PREFIX,
    OutputFiles,
    create_temp,
    pid_alive,
    safe_component,
    url_file_name,
)

# reliability.md's file-name vectors (from the official CLI's tests).
VECTORS = ["/a/..", "/a/%2e%2e/", "/a/..\\victim", "con:fig?.txt", "...", ""]


def _assert_safe(name: str, directory: Path) -> None:
    assert name and name not in {".", ".."}
    assert not name.startswith(".")
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert not any(c in name for c in ':*?"<>|')
    assert len(name) <= 120
    resolved = (directory / name).resolve()
    assert resolved.parent == directory.resolve()


@pytest.mark.parametrize("vector", VECTORS)
def test_vectors_as_names(vector: str, tmp_path: Path) -> None:
    _assert_safe(safe_component(vector), tmp_path)


@pytest.mark.parametrize("vector", VECTORS)
def test_vectors_as_url_paths(vector: str, tmp_path: Path) -> None:
    name = url_file_name(f"https://cdn.runcomfy.net{vector}")
    _assert_safe(name, tmp_path)


def test_expected_names() -> None:
    assert safe_component("") == "output"
    assert safe_component(".") == "output"
    assert safe_component("..") == "output"
    assert safe_component("...") == "output"
    assert safe_component("con:fig?.txt") == "con_fig_.txt"
    assert safe_component(".hidden.png") == "hidden.png"
    assert safe_component("a\x1b]52;c;x\x07b.png") == "a_]52;c;x_b.png"
    assert url_file_name("https://cdn.runcomfy.net/a/..") == "output"
    assert url_file_name("https://cdn.runcomfy.net/a/%2e%2e/") == "output"
    assert url_file_name("https://cdn.runcomfy.net/a/..\\victim") == "_victim"
    assert url_file_name("https://cdn.runcomfy.net/x/my%20cat.png?sig=1") == "my cat.png"
    assert url_file_name("https://cdn.runcomfy.net/x/a%2Fb.png") == "a_b.png"
    assert url_file_name("not a url") == "not a url"


def test_length_cap_keeps_extension() -> None:
    long = safe_component("x" * 500 + ".webp")
    assert long.endswith(".webp") and len(long) <= 120
    wide = safe_component("é" * 300 + ".png")
    assert wide.endswith(".png") and len(wide.encode()) <= 200


def _job(prompt: str, request_id: str | None = "AbCdEfGh12345", created: float | None = None) -> Job:
    return Job(
        id=7, request=JobRequest(prompt, "1024_1024"), state=JobState.COMPLETED,
        created_at=created if created is not None else time.mktime((2024, 3, 5, 14, 7, 9, 0, 0, -1)),
        updated_at=0.0, request_id=request_id,
    )


def test_name_for_shapes(tmp_path: Path) -> None:
    files = OutputFiles(tmp_path)
    job = _job('A "Café" poster: SALE 50%!!')
    assert files.name_for(job, 0, "png") == "20240305-140709_a-cafe-poster-sale-50_AbCdEfGh.png"
    assert files.name_for(job, 1, ".JPG") == "20240305-140709_a-cafe-poster-sale-50_AbCdEfGh_2.jpg"
    assert files.name_for(_job("日本語のみ"), 0, "webp").split("_")[1] == "image"
    long = files.name_for(_job("word " * 50), 0, "png").split("_")[1]
    assert len(long) <= 40 and long.startswith("word-word")
    assert files.name_for(_job("x", request_id=None), 0, "png").endswith("_job7.png")
    for name in (files.name_for(_job("../../etc/passwd"), 2, "png"),):
        _assert_safe(name, tmp_path)


def test_ensure_creates_directory(tmp_path: Path) -> None:
    files = OutputFiles(tmp_path / "a" / "b")
    assert files.ensure().is_dir()
    assert OutputFiles(tmp_path / "missing").remove_stale_temps() == 0


def test_remove_stale_temps(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert not pid_alive(dead.pid)
    assert pid_alive(os.getpid()) and not pid_alive(0) and not pid_alive(-1)

    dead_temp = tmp_path / f"{TEMP_PREFIX}{dead.pid}-abc123.part"
    dead_temp.write_bytes(b"partial")
    fd, live_temp = create_temp(tmp_path)
    os.close(fd)
    old_live = tmp_path / f"{TEMP_PREFIX}{os.getpid()}-old.part"
    old_live.write_bytes(b"ancient")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old_live, (two_days_ago, two_days_ago))
    unrelated = [tmp_path / "keep.png", tmp_path / f"{TEMP_PREFIX}notapid-x.part"]
    for path in unrelated:
        path.write_bytes(b"x")

    assert OutputFiles(tmp_path).remove_stale_temps() == 2
    assert not dead_temp.exists() and not old_live.exists()
    assert live_temp.exists()
    assert all(p.exists() for p in unrelated)


def test_create_temp_is_private_and_exclusive(tmp_path: Path) -> None:
    fd, path = create_temp(tmp_path)
    os.close(fd)
    assert path.parent == tmp_path and path.name.startswith(TEMP_PREFIX)
    assert path.name.endswith(".part")
    assert os.stat(path).st_mode & 0o777 == 0o600
