"""Retry arithmetic and error translation of the Model API client, over httpx.MockTransport.

The one place mock transports are used: here we need exact control of each answer and a fake
sleep that records delays. End-to-end behaviour is in test_api_client_live.py.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
import traceback
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from tui.api import (
    AuthError,
    BadRequestError,
    CallTimeout,
    ConnectFailed,
    ConnectionLost,
    HttpStatusError,
    ModelApiClient,
    ProtocolError,
    RateLimited,
    RetryNotice,
    RetryPolicy,
    ServerError,
    SubmitOutcomeUnknown,
    TokenError,
    backoff_delay,
    is_retryable,
    parse_retry_after,
)
from tui.models import JobRequest
from tui.trust.token import Token
from tui.trust.urls import UnsafeUrl

SECRET = "rc_SeCrEt_0123456789abcdef"
TOKEN = Token(SecretStr(SECRET), "test")
BASE = "https://model-api.example.test/v1"
RID = "req_abc-123"
T2I = JobRequest("a red fox", "1024_1024")
EDIT = JobRequest("make it blue", "auto", ("https://images.example.com/a.png",))
FAST = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=4.0, jitter=0.25)


class Recorder:
    """A mock API: answers come from a list of callables/responses/exceptions, in order."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.delays: list[float] = []
        self.notices: list[RetryNotice] = []

    async def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            return answer(request)
        return answer

    async def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)

    def client(self, *, policy: RetryPolicy = FAST, token: Token | None = TOKEN) -> ModelApiClient:
        return ModelApiClient(
            BASE,
            token,
            policy=policy,
            transport=httpx.MockTransport(self.handler),
            sleep=self.sleep,
            random=lambda: 0.0,
            clock=lambda: 1_000_000.0,
        )


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


STATUS_OK = ok({"request_id": RID, "status": "in_queue", "queue_position": 2})
SUBMIT_OK = ok({"request_id": RID, "status_url": "https://evil.example.com/steal"})


def error(status: int, **body: Any) -> httpx.Response:
    return httpx.Response(status, json=body)


def request_of(exc_type: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    def raise_it(request: httpx.Request) -> httpx.Response:
        raise exc_type("boom", request=request)

    return raise_it


# -- arithmetic ---------------------------------------------------------------------------------


def test_backoff_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0, jitter=0.25)
    assert [backoff_delay(n, policy, lambda: 0.0) for n in range(1, 7)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        4.0,
        4.0,
    ]
    assert backoff_delay(10_000, policy, lambda: 0.0) == 4.0


@pytest.mark.parametrize("r", [0.0, 0.3, 0.999, 1.0])
@pytest.mark.parametrize("attempt", [1, 2, 3, 8])
def test_backoff_jitter_stays_within_bounds(r: float, attempt: int) -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0, jitter=0.25)
    full = min(4.0, 0.5 * 2 ** (attempt - 1))
    delay = backoff_delay(attempt, policy, lambda: r)
    assert full * 0.75 <= delay <= full


NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"Retry-After": "0"}, 0.0),
        ({"Retry-After": email.utils.formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"Retry-After": email.utils.formatdate(NOW - 30, usegmt=True)}, None),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),
        ({"retry-after-ms": "junk", "Retry-After": "9"}, 9.0),
        ({"Retry-After": "-5"}, None),
        ({"retry-after-ms": "-5"}, None),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "inf"}, None),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": ""}, None),
        ({}, None),
        ({"Retry-After": "600"}, 600.0),  # parsed as given; the client decides it is too long
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(httpx.Headers(headers), now=NOW) == expected


def test_retryable_classification() -> None:
    assert is_retryable(ConnectFailed("x"))
    assert is_retryable(ConnectFailed("x"), submit=True)
    assert is_retryable(RateLimited("x"), submit=True)
    assert not is_retryable(ConnectionLost("x"), submit=True)
    assert not is_retryable(CallTimeout("x"), submit=True)
    assert not is_retryable(ServerError("x", status=503), submit=True)
    for status in (408, 429, 500, 502, 503, 504):
        assert is_retryable(HttpStatusError("x", status=status))
    for status in (400, 401, 403, 404, 422, 501):
        assert not is_retryable(HttpStatusError("x", status=status))
    assert is_retryable(ServerError("x", status=200, error_code=500001))


# -- which answers are retried ------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_status_retries_transient_http_statuses(status: int) -> None:
    api = Recorder(error(status, error_message="busy"), STATUS_OK)
    async with api.client() as client:
        answer = await client.status(RID, on_retry=api.notices.append)
    assert answer.status == "in_queue" and answer.queue_position == 2
    assert len(api.requests) == 2
    assert api.delays == [0.5]
    assert api.notices == [RetryNotice("status", 1, 0.5, api.notices[0].reason)]
    assert "busy" in api.notices[0].reason


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, BadRequestError),
        (401, AuthError),
        (403, AuthError),
        (404, BadRequestError),
        (422, BadRequestError),
        (501, ServerError),
    ],
)
async def test_status_does_not_retry_client_errors(status: int, kind: type[Exception]) -> None:
    api = Recorder(error(status, error_message="nope"), STATUS_OK)
    async with api.client() as client:
        with pytest.raises(kind) as caught:
            await client.status(RID)
    assert len(api.requests) == 1 and api.delays == []
    assert caught.value.status == status  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "exc_type",
    [
        httpx.ConnectError,
        httpx.ConnectTimeout,
        httpx.ReadTimeout,
        httpx.RemoteProtocolError,
        httpx.ReadError,
        httpx.WriteError,
        httpx.PoolTimeout,
    ],
)
async def test_reads_retry_network_failures(exc_type: type[httpx.TransportError]) -> None:
    api = Recorder(request_of(exc_type), request_of(exc_type), STATUS_OK)
    async with api.client() as client:
        answer = await client.result(RID)
    assert answer.status == "in_queue"
    assert len(api.requests) == 3 and api.delays == [0.5, 1.0]


async def test_retries_are_bounded_and_back_off() -> None:
    api = Recorder(error(503, error_message="down"))
    async with api.client() as client:
        with pytest.raises(ServerError) as caught:
            await client.status(RID)
    assert len(api.requests) == FAST.max_attempts
    assert api.delays == [0.5, 1.0, 2.0]
    assert caught.value.exit_code == 69


async def test_retry_after_is_honoured_when_sane() -> None:
    api = Recorder(ok({"error_message": "slow down"}, 429, {"Retry-After": "7"}), STATUS_OK)
    async with api.client() as client:
        await client.cancel(RID)
    assert api.delays == [7.0]


async def test_retry_after_ms_on_503_is_honoured() -> None:
    api = Recorder(ok({"error_message": "busy"}, 503, {"retry-after-ms": "1500"}), STATUS_OK)
    async with api.client() as client:
        await client.status(RID)
    assert api.delays == [1.5]


@pytest.mark.parametrize("value", ["-1", "garbage", "0"])
async def test_bad_retry_after_falls_back_to_backoff(value: str) -> None:
    api = Recorder(ok({}, 429, {"Retry-After": value}), STATUS_OK)
    async with api.client() as client:
        await client.status(RID)
    assert api.delays == [0.5]


async def test_long_retry_after_is_raised_at_once() -> None:
    api = Recorder(ok({"error_message": "quota"}, 429, {"Retry-After": "121"}))
    async with api.client() as client:
        with pytest.raises(RateLimited) as caught:
            await client.status(RID)
        with pytest.raises(RateLimited):
            await client.submit(T2I)
    assert caught.value.retry_after == 121.0 and caught.value.exit_code == 75
    assert len(api.requests) == 2 and api.delays == []


async def test_async_on_retry_is_awaited() -> None:
    seen: list[int] = []

    async def on_retry(notice: RetryNotice) -> None:
        await asyncio.sleep(0)
        seen.append(notice.attempt)

    api = Recorder(error(500), error(500), STATUS_OK)
    async with api.client() as client:
        await client.status(RID, on_retry=on_retry)
    assert seen == [1, 2]


# -- submit is never retried after it may have arrived ------------------------------------------


@pytest.mark.parametrize(
    ("answer", "cause"),
    [
        (error(500, error_code=500001, error_message="internal"), ServerError),
        (error(502), ServerError),
        (request_of(httpx.RemoteProtocolError), ConnectionLost),
        (request_of(httpx.ReadError), ConnectionLost),
        (request_of(httpx.ReadTimeout), CallTimeout),
        (request_of(httpx.WriteTimeout), CallTimeout),
        (httpx.Response(200, text="<html>gateway</html>"), ProtocolError),
        (ok({"request_id": "../../etc/passwd"}), ProtocolError),
        (ok({"status": "in_queue"}), ProtocolError),
    ],
)
async def test_ambiguous_submit_failure_is_outcome_unknown(answer: Any, cause: type) -> None:
    api = Recorder(answer, SUBMIT_OK)
    async with api.client() as client:
        with pytest.raises(SubmitOutcomeUnknown) as caught:
            await client.submit(T2I)
    assert len(api.requests) == 1 and api.delays == []
    assert isinstance(caught.value.cause, cause)
    assert caught.value.exit_code == caught.value.cause.exit_code
    assert "may have run and been billed" in str(caught.value)


@pytest.mark.parametrize(
    "answer",
    [
        request_of(httpx.ConnectError),
        request_of(httpx.ConnectTimeout),
        request_of(httpx.PoolTimeout),
        ok({"error_message": "too many"}, 429, {"Retry-After": "2"}),
    ],
)
async def test_submit_retried_when_it_certainly_never_ran(answer: Any) -> None:
    api = Recorder(answer, SUBMIT_OK)
    async with api.client() as client:
        submitted = await client.submit(T2I)
    assert submitted.request_id == RID
    assert [r.method for r in api.requests] == ["POST", "POST"]


async def test_submit_gives_up_on_connect_failures_with_connect_failed() -> None:
    api = Recorder(request_of(httpx.ConnectError))
    async with api.client() as client:
        with pytest.raises(ConnectFailed) as caught:
            await client.submit(T2I)
    assert len(api.requests) == FAST.max_attempts
    assert caught.value.exit_code == 75


async def test_submit_4xx_raised_directly_with_422_detail_summarised() -> None:
    detail = [
        {"loc": ["body", "size"], "msg": "Input should be '1024_1024'", "type": "literal_error"},
        {"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"},
    ]
    api = Recorder(error(422, error_code=422001, error_message="validation error", detail=detail))
    async with api.client() as client:
        with pytest.raises(BadRequestError) as caught:
            await client.submit(T2I)
    message = str(caught.value)
    assert caught.value.error_code == 422001 and caught.value.exit_code == 65
    assert "validation error" in message and "size: Input should be" in message
    assert "prompt: Field required" in message and len(api.requests) == 1


async def test_submit_sends_the_payload_to_the_model_path() -> None:
    api = Recorder(SUBMIT_OK)
    async with api.client() as client:
        await client.submit(T2I)
        await client.submit(EDIT)
    first, second = api.requests
    assert first.url == httpx.URL(f"{BASE}/models/openai/gpt-image-2/text-to-image")
    assert second.url.path == "/v1/models/openai/gpt-image-2/edit"
    assert b'"images"' not in first.content and b'"images"' in second.content
    assert first.headers["Authorization"] == f"Bearer {SECRET}"
    assert first.headers["Accept"] == "application/json"
    assert first.headers["User-Agent"].startswith("gpt-image-tui/")
    assert first.headers["Content-Type"] == "application/json"


# -- error bodies -------------------------------------------------------------------------------


async def test_400004_over_http_400_is_an_auth_error() -> None:
    api = Recorder(error(400, error_code=400004, error_message="token expired"))
    async with api.client() as client:
        with pytest.raises(AuthError) as caught:
            await client.status(RID)
    assert caught.value.exit_code == 77 and caught.value.status == 400
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (400004, AuthError),
        (404001, BadRequestError),
        (422001, BadRequestError),
        (403001, AuthError),
    ],
)
async def test_http_200_with_error_code_is_an_error(code: int, kind: type[Exception]) -> None:
    api = Recorder(ok({"error_code": code, "error_message": "refused"}))
    async with api.client() as client:
        with pytest.raises(kind):
            await client.status(RID)
    assert len(api.requests) == 1


async def test_http_200_with_5xxxxx_code_is_a_retried_server_error() -> None:
    api = Recorder(ok({"error_code": "500001", "error_message": "internal"}), STATUS_OK)
    async with api.client() as client:
        await client.status(RID)
    assert len(api.requests) == 2
    api = Recorder(ok({"error_code": 500001, "error_message": "internal"}))
    async with api.client() as client:
        with pytest.raises(SubmitOutcomeUnknown):
            await client.submit(T2I)
    assert len(api.requests) == 1


async def test_extra_fields_are_tolerated_and_aliases_folded() -> None:
    api = Recorder(
        ok({"status": "SUCCEEDED", "instance_id": "i-1", "new": {"x": [1]}, "queue_position": "?"})
    )
    async with api.client() as client:
        answer = await client.status(RID)
    assert answer.status == "completed" and answer.queue_position is None
    api = Recorder(ok({"status": "warming_up"}))
    async with api.client() as client:
        answer = await client.status(RID)
    assert answer.status == "warming_up" and not answer.is_known


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error_message": "A", "message": "B", "error": "C", "detail": "D"}, "A"),
        ({"message": "B", "error": "C", "detail": "D"}, "B"),
        ({"error": "C", "detail": "D"}, "C"),
        ({"detail": "D"}, "D"),
        ({"error": {"message": "nested"}}, "nested"),
        ({}, "Bad Request"),
    ],
)
async def test_error_message_precedence(body: dict[str, Any], expected: str) -> None:
    api = Recorder(error(400, **body))
    async with api.client() as client:
        with pytest.raises(BadRequestError) as caught:
            await client.status(RID)
    assert str(caught.value).startswith(expected + " (HTTP 400")


async def test_numeric_code_is_read_from_code_too() -> None:
    api = Recorder(error(404, code=404001, message="request not found"))
    async with api.client() as client:
        with pytest.raises(BadRequestError) as caught:
            await client.result(RID)
    assert caught.value.error_code == 404001 and "request not found" in str(caught.value)


async def test_non_json_answers_are_protocol_errors_and_html_5xx_is_a_server_error() -> None:
    api = Recorder(httpx.Response(200, text="not json"))
    async with api.client() as client:
        with pytest.raises(ProtocolError):
            await client.status(RID)
    api = Recorder(httpx.Response(502, text="<html><body>Bad gateway</body></html>"))
    async with api.client(policy=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(ServerError, match=r"^Bad Gateway \(HTTP 502\)"):
            await client.status(RID)


async def test_hostile_error_text_is_sanitised() -> None:
    hostile = "\x1b]52;c;ZXZpbA==\x07boom\x1b[2J\x9b31m [@click=app.quit]x[/]\u202e"
    api = Recorder(error(400, error_message=hostile))
    async with api.client() as client:
        with pytest.raises(BadRequestError) as caught:
            await client.status(RID)
    message = str(caught.value)
    assert "boom" in message
    assert not any(c in message for c in "\x1b\x07\x9b\u202e")


async def test_redirects_are_not_followed() -> None:
    api = Recorder(httpx.Response(302, headers={"Location": "https://evil.example.com/x"}))
    async with api.client() as client:
        with pytest.raises(ProtocolError, match="redirect"):
            await client.status(RID)
    assert len(api.requests) == 1


@pytest.mark.parametrize("bad", ["../x", "a/b", "", "x" * 200, "id?x=1", "é"])
async def test_invalid_request_ids_are_refused_before_sending(bad: str) -> None:
    api = Recorder(STATUS_OK)
    async with api.client() as client:
        for call in (client.status, client.result, client.cancel):
            with pytest.raises(ProtocolError):
                await call(bad)
    assert api.requests == []


async def test_urls_come_from_the_base_never_from_answers() -> None:
    api = Recorder(
        SUBMIT_OK,
        STATUS_OK,
        ok({"output": []}),
        ok({"outcome": "not_cancellable", "status": "in_progress"}),
    )
    async with api.client() as client:
        submitted = await client.submit(T2I)
        await client.status(submitted.request_id)
        await client.result(submitted.request_id)
        cancelled = await client.cancel(submitted.request_id)
    assert not cancelled.accepted
    assert [str(r.url) for r in api.requests[1:]] == [
        f"{BASE}/requests/{RID}/status",
        f"{BASE}/requests/{RID}/result",
        f"{BASE}/requests/{RID}/cancel",
    ]


# -- deadline -----------------------------------------------------------------------------------


async def test_overall_deadline_cuts_a_dripping_answer() -> None:
    async def drip():
        yield b'{"status": "'
        for _ in range(1000):
            await asyncio.sleep(0.02)
            yield b"x"

    api = Recorder(lambda request: httpx.Response(200, content=drip()))
    policy = RetryPolicy(max_attempts=2, read_timeout=5.0, call_deadline=0.25)
    started = time.monotonic()
    async with api.client(policy=policy) as client:
        with pytest.raises(CallTimeout, match=r"no complete answer within 0\.25 s"):
            await client.status(RID)
    # Not cut, each of the two tries would drip for 20 s (the read timeout never fires).
    assert time.monotonic() - started < 10.0
    assert len(api.requests) == 2  # a read retries after a timeout

    api = Recorder(lambda request: httpx.Response(200, content=drip()))
    async with api.client(policy=policy) as client:
        with pytest.raises(SubmitOutcomeUnknown) as caught:
            await client.submit(T2I)
    assert isinstance(caught.value.cause, CallTimeout) and len(api.requests) == 1


# -- the token ----------------------------------------------------------------------------------


def _all_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)


@pytest.mark.parametrize(
    "bad", [SECRET + "\n", SECRET + "\r\n", "Bearer " + SECRET, SECRET + "\x00", SECRET + "é"]
)
def test_bad_token_is_refused_at_construction_without_echoing_it(bad: str) -> None:
    with pytest.raises(TokenError) as caught:
        ModelApiClient(BASE, Token(SecretStr(bad), "test"))
    assert SECRET not in _all_text(caught.value)
    assert caught.value.exit_code == 77


async def test_token_never_appears_in_errors() -> None:
    def leak(request: httpx.Request) -> httpx.Response:
        raise httpx.LocalProtocolError(f"Illegal header value b'Bearer {SECRET}'")

    api = Recorder(
        leak,
        error(401, error_message=f"token {SECRET} is revoked"),
        ok({"error_code": 400004, "message": f"bad {SECRET}"}),
    )
    async with api.client(policy=RetryPolicy(max_attempts=1)) as client:
        for kind in (ConnectionLost, AuthError, AuthError):
            with pytest.raises(kind) as caught:
                await client.status(RID)
            assert SECRET not in _all_text(caught.value)
        assert SECRET not in repr(client)


async def test_token_split_by_escapes_or_cut_by_truncation_is_still_hidden() -> None:
    split = SECRET[:6] + "\x1b[0m" + SECRET[6:]
    cut = "x" * 590 + SECRET  # the 600-character limit would cut through the token
    api = Recorder(error(400, error_message=split), error(400, error_message=cut))
    async with api.client() as client:
        for _ in range(2):
            with pytest.raises(BadRequestError) as caught:
                await client.status(RID)
            assert SECRET[:8] not in _all_text(caught.value)


async def test_no_token_means_no_authorization_header() -> None:
    api = Recorder(STATUS_OK)
    async with api.client(token=None) as client:
        await client.status(RID)
    assert "Authorization" not in api.requests[0].headers


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://model-api.runcomfy.net/v1/", "https://model-api.runcomfy.net/v1"),
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
        ("http://localhost:9/v1//", "http://localhost:9/v1"),
        ("http://[::1]:9/v1", "http://[::1]:9/v1"),
    ],
)
def test_base_url_is_normalised(base: str, expected: str) -> None:
    assert ModelApiClient(base, None).base_url == expected


@pytest.mark.parametrize(
    "base",
    [
        "http://model-api.runcomfy.net/v1",
        "ftp://x.example/v1",
        "not a url",
        "https://u:p@h.example/v1",
        "https://h.example/v1?x=1",
        "",
        "https://h.example\\@evil/v1",
    ],
)
def test_bad_base_urls_are_refused(base: str) -> None:
    with pytest.raises(UnsafeUrl):
        ModelApiClient(base, None)
