"""Prices, the day-old catalog cache, name templates, spend rules and sign-in answers.

Arithmetic and parsing are plain unit tests; every network part talks to the real loopback
server (catalog GETs counted by the server itself).
"""

from __future__ import annotations

import os
import time
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from tui.api.catalog import CatalogClient, CatalogEntry, Price, estimate, format_usd
from tui.api.errors import ProtocolError
from tui.api.retry import RetryPolicy
from tui.api.service import JsonChannel
from tui.api.signin import SignInClient, check_verify_url
from tui.jobs.outputs import adopt_existing_output
from tui.jobs.pricing import PriceBook, estimate_text
from tui.models import Endpoint, Job, JobRequest, JobState
from tui.offline.render import render_image
from tui.offline.server import OfflineServer
from tui.storage.catalog_cache import CatalogCache
from tui.storage.files import OutputFiles
from tui.storage.names import TemplateError, check_template, render_name
from tui.storage.spend import spend_report
from tui.storage.token_file import write_token_file

T0 = 1_750_000_000.0


def job(prompt: str = "a red fox", **fields: object) -> Job:
    base: dict[str, object] = {"request_id": "AbCdEfGh1234", "created_at": T0, "updated_at": T0}
    base.update(fields)
    return Job(7, JobRequest(prompt, str(base.pop("size", "1024_1024"))), JobState(
        str(base.pop("state", "completed"))), **base)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------- prices


@pytest.mark.parametrize(("entry", "text", "per_image"), [
    ({"base_price_usd": 0.04, "price_unit": "image"}, "≈ $0.04 per image", Decimal("0.04")),
    ({"base_price_usd": 0.035, "price_unit": "Image"}, "≈ $0.035 per image", Decimal("0.035")),
    ({"base_price_usd": 0.04}, "price unknown", None),
    ({"price_unit": "image"}, "price unknown", None),
    ({"base_price_usd": "0.04", "price_unit": "image"}, "≈ $0.04 per image", Decimal("0.04")),
    ({"base_price_usd": True, "price_unit": "image"}, "price unknown", None),
    ({"base_price_usd": -1, "price_unit": "image"}, "price unknown", None),
    ({"base_price_usd": "NaN", "price_unit": "image"}, "price unknown", None),
    ({"base_price_usd": 0.01, "price_unit": "second"}, "$0.01/second (not per image: no estimate)",
     None),
    ({"base_price_usd": 0, "price_unit": "image", "offline": True},
     "offline · $0, nothing billed", Decimal(0)),
])
def test_catalog_entries_priced_never_guessed(
    entry: dict[str, object], text: str, per_image: Decimal | None
) -> None:
    price = CatalogEntry.model_validate(entry).price()
    assert price.describe() == text and price.per_image == per_image


def test_money_is_exact() -> None:
    price = Price(Decimal("0.04"), "image")
    assert estimate_text(24, price) == "24 jobs ≈ $0.96"
    assert estimate([price] * 3) == Decimal("0.12")
    assert estimate([price, Price.unknown()]) is None
    assert estimate_text(3, Price.unknown()) == "3 jobs, price unknown"
    assert format_usd(Decimal("1234.5")) == "$1,234.50"
    assert format_usd(Decimal("0.105")) == "$0.105"


async def test_price_book_asks_the_catalog_once_a_day(
    offline_server: OfflineServer, tmp_path: Path
) -> None:
    offline_server.catalog_entry = {"base_price_usd": 0.04, "price_unit": "image"}
    now = [T0]
    cache = CatalogCache(tmp_path / "catalog.json", clock=lambda: now[0])

    def book() -> PriceBook:
        channel = JsonChannel(offline_server.base_url, None)
        return PriceBook(CatalogClient(channel), cache, backend=offline_server.base_url)

    first = book()
    assert (await first.price(Endpoint.EDIT)).per_image == Decimal("0.04")
    assert (await first.price(Endpoint.EDIT)).per_image == Decimal("0.04")
    await first.aclose()
    second = book()  # a new process: the disk cache answers
    assert second.known(Endpoint.EDIT) == Price(Decimal("0.04"), "image")
    assert offline_server.stats.catalog_gets == 1
    now[0] += 24 * 3600 + 1  # a day later the catalog is asked again
    offline_server.catalog_entry = {"base_price_usd": 0.05, "price_unit": "image"}
    third = book()
    assert third.known(Endpoint.EDIT) is None
    assert (await third.price(Endpoint.EDIT)).per_image == Decimal("0.05")
    assert offline_server.stats.catalog_gets == 2
    await second.aclose()
    await third.aclose()


async def test_price_book_failure_is_unknown_not_an_error(tmp_path: Path) -> None:
    # Nothing listens on port 9; one attempt, as the app's catalog policy is short too.
    channel = JsonChannel("http://127.0.0.1:9/v1", None, policy=RetryPolicy(max_attempts=1))
    book = PriceBook(CatalogClient(channel), CatalogCache(tmp_path / "c.json"), backend="x")
    assert await book.price(Endpoint.TEXT_TO_IMAGE) == Price.unknown()
    assert not (tmp_path / "c.json").exists()  # failures are not cached on disk
    await book.aclose()


def test_damaged_cache_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text("{ damaged")
    cache = CatalogCache(path)
    assert cache.get("k") is None
    cache.put("k", Price(Decimal("0.04"), "image"))
    assert cache.get("k") == Price(Decimal("0.04"), "image")


# ---------------------------------------------------------------------------------- names


def test_default_template_keeps_todays_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    files = OutputFiles(Path("/out"))
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(T0))
    assert files.name_for(job(), 0, "png") == f"{stamp}_a-red-fox_AbCdEfGh.png"
    assert files.name_for(job(), 1, "png") == f"{stamp}_a-red-fox_AbCdEfGh_2.png"


@pytest.mark.parametrize(("template", "index", "expected"), [
    ("{slug}", 0, "a-red-fox.png"),
    ("{slug}", 1, "a-red-fox_2.png"),  # no {n}: later images still get their own name
    ("{job}-{n}-{size}", 1, "7-2-1536x1024.png"),
    ("{rid8}_{sweep}", 0, "AbCdEfGh_dusk-oil.png"),
    ("{{literal}}-{n:03}", 0, "{literal}-001.png"),
])
def test_templates_fill_in(template: str, index: int, expected: str) -> None:
    subject = job(size="1536_1024", sweep_label="dusk · oil")
    assert render_name(check_template(template), subject, index, "png") == expected


def test_an_empty_result_is_never_an_empty_or_hidden_name() -> None:
    assert render_name("{sweep}", job(), 0, "png") == "image.png"  # not a sweep: no words
    assert OutputFiles(Path("/out"), template="..{sweep}").name_for(job(), 0, "png") == "image.png"


@pytest.mark.parametrize(("template", "words"), [
    ("", "empty"), ("{colour}", "unknown placeholder"), ("{slug", "malformed"),
    ("{slug!r}", "conversions"), ("{n:>>>}", "can't be filled in"), ("x" * 201, "longer"),
])
def test_bad_templates_are_refused(template: str, words: str) -> None:
    with pytest.raises(TemplateError, match=words):
        check_template(template)


def test_a_template_without_the_request_id_never_adopts_another_jobs_image(tmp_path: Path) -> None:
    """A killed run's image is adopted only if it is provably this job's (its embedded recipe)."""
    from tui.iterate.recipe import Recipe, embed_recipe

    theirs = tmp_path / "a-red-fox.png"
    theirs.write_bytes(render_image("a red fox", "1024_1024", reference_count=0, request_id="x"))
    embed_recipe(theirs, Recipe.for_request(JobRequest("a red fox", "1024_1024"), "OtherJob99"))
    assert adopt_existing_output(tmp_path, "a-red-fox.png", request_id="MineMine42") is None
    assert adopt_existing_output(tmp_path, "a-red-fox.png", request_id="OtherJob99") == theirs


# ---------------------------------------------------------------------------------- spend


def test_spend_counts_what_the_server_completed_at_its_recorded_price() -> None:
    day = T0
    jobs = [
        job(price_usd=Decimal("0.04"), price_unit="image", finished_at=day),
        job(state="failed", remote_status="completed", price_usd=Decimal("0.04"),
            price_unit="image", finished_at=day),  # ran, billed; only saving failed
        job(state="failed", remote_status="failed", price_usd=Decimal("0.04"),
            price_unit="image", finished_at=day),  # the generation failed
        job(state="cancelled", price_usd=Decimal("0.04"), price_unit="image", finished_at=day),
        job(finished_at=day),  # no price recorded
        job(price_usd=Decimal(0), price_unit="image", price_source="offline", finished_at=day),
        job(price_usd=Decimal("0.04"), price_unit="image", finished_at=day - 40 * 86400),
    ]
    report = spend_report(jobs, maybe_billed=2)
    assert report.total.jobs == 4 and report.total.usd == Decimal("0.12")
    assert report.total.unpriced == 1 and report.maybe_billed == 2
    assert [line.jobs for line in report.months] == [3, 1]
    assert spend_report(jobs, since=day - 86400).total.jobs == 3


# ---------------------------------------------------------------------------------- sign-in


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "http://example.com/device", "https://user:pw@example.com/x",
    "https://example.com/a b", "file:///etc/passwd", "https://exa\x1bmple.com/", None, "",
])
def test_unsafe_verify_urls_are_refused(url: object) -> None:
    with pytest.raises(ProtocolError):
        check_verify_url(url)


def test_verify_url_https_or_loopback_http() -> None:
    assert check_verify_url("https://www.runcomfy.com/cli?code=AB-CD")
    assert check_verify_url("http://127.0.0.1:8000/device?code=AB-CD")


async def test_a_410_is_an_answer_only_for_sign_in(offline_server: OfflineServer) -> None:
    offline_server.signin.auto = "deny"
    client = SignInClient(
        JsonChannel(offline_server.web_base, None, answer_statuses=frozenset({410}))
    )
    code = await client.start()
    assert code.poll_interval == 1.0 and code.expires_in == 600.0  # as the server said
    assert (await client.poll(code.device_code)).status == "pending"
    assert (await client.poll(code.device_code)).status == "denied"
    assert code.device_code not in repr(code)  # it would let anyone collect the token
    await client.aclose()


def test_token_file_is_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_token_file(tmp_path / "rc" / "token.json", SecretStr("tok-123"))
    finally:
        os.umask(old)
    assert (tmp_path / "rc" / "token.json").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "rc").stat().st_mode & 0o777 == 0o700


def test_an_existing_history_gains_the_price_and_batch_columns(tmp_path: Path) -> None:
    """A database written before this step is upgraded in place; its jobs read unpriced."""
    import sqlite3

    from tui.storage import schema
    from tui.storage.batches import BatchLines
    from tui.storage.history import History

    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path) as raw:
        schema.UPGRADES[0](raw)
        raw.execute("PRAGMA user_version = 1")
        raw.execute(
            "INSERT INTO jobs (prompt, size, endpoint, state, created_at, updated_at)"
            " VALUES ('old', '1024_1024', 'text-to-image', 'completed', 1, 1)"
        )
    with History(path) as history:
        assert history.schema_version == len(schema.UPGRADES)
        old = history.list_jobs()[0]
        assert old.price_usd is None and old.price_source is None
        history.update(old.id, price_usd=Decimal("0.04"), price_unit="image", price_source="catalog")
        assert history.get(old.id).price_usd == Decimal("0.04")
        book = BatchLines(history)
        book.link("k", old.id, path="f", line=1, line_id=None, now=0)
        history.delete(old.id)
        assert book.find(["k"])["k"].job_id is None  # the line outlives its job
