"""Unit tests of the small rules everything else leans on: sanitiser, URL trust, input rules,
job state moves, output URL collection."""

from __future__ import annotations

import pytest

from tui.api.schemas import StatusResponse, collect_output_urls, normalise_status, request_body
from tui.errors import InputError
from tui.models import JobRequest, JobState, can_move, prepare_request
from tui.trust.sanitize import clean_prompt, clean_text
from tui.trust.urls import (
    UnsafeUrl,
    check_download_url,
    check_reference_url,
    validate_request_id,
)

# --------------------------------------------------------------------------- sanitiser


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain", "plain"),
        ("\x1b[31mred\x1b[0m", "red"),
        ("copy \x1b]52;c;ZXZpbA==\x07me", "copy me"),  # OSC 52 clipboard write
        ("link \x1b]8;;https://evil\x1b\\text\x1b]8;;\x1b\\", "link text"),  # OSC 8
        ("kitty \x1b_Ga=T;AAAA\x1b\\img", "kitty img"),  # APC graphics
        ("sixel \x1bPq#0;2;0;0;0\x1b\\pic", "sixel pic"),  # DCS
        ("c1 \x9b31mcsi", "c1 csi"),
        ("bidi \u202eevil\u202c", "bidi evil"),
        ("nul\x00bell\x07", "nulbell"),
        ("two\nlines\r\n", "two lines "),
    ],
)
def test_clean_text_removes_terminal_controls(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_clean_text_keeps_markup_as_literal_text_and_limits() -> None:
    # Markup is not a terminal escape: it stays as text, and widgets show it plainly.
    assert clean_text("[@click=app.quit]x[/]") == "[@click=app.quit]x[/]"
    assert clean_text("abcdef", limit=4) == "abc…"
    assert clean_text("a\nb", keep_newlines=True) == "a\nb"


def test_clean_prompt_keeps_newlines_and_strips_controls() -> None:
    assert clean_prompt("  line one\n\tline\x00 two\x1b[2J  ") == "line one\n\tline two"


# --------------------------------------------------------------------------- URLs

@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.runcomfy.net/out/a.png",
        "https://runcomfy.com/a.png",
        "https://x.y.runcomfy.com/a.png",
    ],
)
def test_runcomfy_hosts_are_trusted(url: str) -> None:
    assert str(check_download_url(url)) == url


def test_api_base_origin_is_trusted_exactly() -> None:
    base = "http://127.0.0.1:8765/v1"
    assert check_download_url("http://127.0.0.1:8765/files/a.png", api_base=base)
    for other in ("http://127.0.0.1:8766/files/a.png", "https://127.0.0.1:8765/files/a.png"):
        with pytest.raises(UnsafeUrl):
            check_download_url(other, api_base=base)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.com/a.png", "https://"),
        ("https://user:pw@example.com/a.png", "user name"),
        ("https://127.0.0.1/a.png", "loopback"),
        ("https://192.168.1.4/a.png", "loopback"),
        ("https://169.254.169.254/latest", "loopback"),
        ("https://[fe80::1]/a.png", "loopback"),
        ("https://localhost/a.png", "local host"),
        ("https://printer.local/a.png", "local host"),
        ("https://intranet/a.png", "public domain"),
        ("https://example.com/a b.png", "spaces"),
    ],
)
def test_reference_urls_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(UnsafeUrl, match=reason):
        check_reference_url(url)


@pytest.mark.parametrize("value", ["", "a/b", "../x", "a b", "x" * 129, None, 5])
def test_bad_request_ids_refused(value: object) -> None:
    with pytest.raises(UnsafeUrl):
        validate_request_id(value)


# --------------------------------------------------------------------------- input rules


def test_text_to_image_never_sends_images_and_defaults_square() -> None:
    prepared = prepare_request("a cat", None, [])
    assert request_body(prepared.request) == {"prompt": "a cat", "size": "1024_1024"}


def test_edit_defaults_to_auto_and_dedupes_with_a_notice() -> None:
    url = "https://example.com/a.png"
    prepared = prepare_request("keep the cat", None, [url, url, "https://example.com/b.png"])
    assert prepared.request.images == (url, "https://example.com/b.png")
    assert prepared.request.size == "auto"
    assert prepared.notices and "image 2" in prepared.notices[0]
    assert request_body(prepared.request)["images"] == [url, "https://example.com/b.png"]


def test_every_problem_is_reported_by_field() -> None:
    with pytest.raises(InputError) as caught:
        prepare_request("   ", "auto", ["http://x.example.com/a.png"])
    error = caught.value
    assert error.for_field("prompt") == ["the prompt is empty"]
    assert error.for_field("images") and "https://" in error.for_field("images")[0]


def test_auto_needs_references_and_sizes_are_closed() -> None:
    with pytest.raises(InputError, match="auto needs at least one reference"):
        prepare_request("x", "auto", [])
    with pytest.raises(InputError, match="size must be one of"):
        prepare_request("x", "2048_2048", [])


def test_eleven_references_refused_and_long_prompt_counted() -> None:
    urls = [f"https://example.com/{n}.png" for n in range(11)]
    with pytest.raises(InputError, match="at most 10"):
        prepare_request("x", None, urls)
    with pytest.raises(InputError, match="12,001 characters"):
        prepare_request("x" * 12_001, None, [])


def test_schema_mismatch_never_leaves_the_machine() -> None:
    with pytest.raises(InputError):
        request_body(JobRequest("x", "2048_2048"))


# --------------------------------------------------------------------------- state machine


def test_state_moves() -> None:
    assert can_move(JobState.PENDING, JobState.SUBMITTING)
    assert can_move(JobState.SUBMITTING, JobState.QUEUED)
    assert can_move(JobState.RUNNING, JobState.DOWNLOADING)
    assert not can_move(JobState.PENDING, JobState.COMPLETED)
    assert not can_move(JobState.UNKNOWN, JobState.SUBMITTING)  # never resubmitted
    assert not can_move(JobState.COMPLETED, JobState.PENDING)
    resumable = {s for s in JobState if s.is_resumable}
    assert JobState.STALLED in resumable and JobState.UNKNOWN not in resumable


# --------------------------------------------------------------------------- answers


def test_output_urls_collected_in_order_without_duplicates() -> None:
    output = {
        "a": "https://cdn.runcomfy.net/1.png",
        "b": [{"url": "https://cdn.runcomfy.net/2.png"}, "https://cdn.runcomfy.net/1.png"],
        "c": {"d": {"e": ["not a url", 5, None, "http://x.runcomfy.net/3.png"]}},
    }
    assert collect_output_urls(output) == [
        "https://cdn.runcomfy.net/1.png",
        "https://cdn.runcomfy.net/2.png",
        "http://x.runcomfy.net/3.png",
    ]
    assert collect_output_urls("https://a.runcomfy.net/x.png") == ["https://a.runcomfy.net/x.png"]
    assert collect_output_urls(None) == []


def test_status_aliases_and_unknown_statuses() -> None:
    assert normalise_status("Succeeded") == "completed"
    assert normalise_status("canceled") == "cancelled"
    weird = StatusResponse.model_validate({"status": "warming_up", "extra": 1})
    assert not weird.is_known and not weird.is_terminal
    assert StatusResponse.model_validate({"status": "in_queue", "queue_position": "3"}).queue_position == 3
