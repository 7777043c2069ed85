"""The Model API client: submit, status, result, cancel — and nothing else.

Every request goes through one choke point, :meth:`ModelApiClient._send`, where each httpx
exception and each error answer becomes an error of :mod:`tui.api.errors` with a sanitised,
token-free message. URLs are built only from the configured base and a validated request id,
never from URLs in an answer (the bearer token would follow them). Redirects are not followed.

Polls (status and result) are bounded: at most :data:`POLLS_IN_FLIGHT` are on the wire at once,
the rest wait their turn here, not in an HTTP pool (whose bookkeeping grows with every request
queued and every connection kept). Pools keep that many connections alive, plus room for
submits and cancels, so a round of polls reuses its connections instead of closing the ones
beyond httpx's default of 20 and opening new ones (a TLS handshake each on the real API).

Polls are what the client does all day — fifty jobs at the 2 s default are 25 a second, on the
UI's event loop — so they go straight to their own httpx transport, aiohttp's connection pool
and C parser (``httpx-aiohttp``): the same ``_send`` choke point, the same exceptions and
answers, at about half the CPU per call of httpcore's pure-Python HTTP/1.1. No httpx client
stands in between: what it adds to a GET that follows no redirect is its cookie jar, which
took over a quarter of the loop's work per poll (the API sets no cookies, and none are
wanted: the other calls' client refuses every cookie). It is loaded by the first poll, in a
thread. Submits and cancels keep httpcore, whose exceptions say exactly whether a request may
have left (what decides "may have been billed").
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import random as random_module
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from .. import __version__
from ..errors import TokenError
from ..trust.sanitize import clean_text, shorten
from ..trust.token import Token, UnsafeToken, check_token_text
from ..trust.urls import UnsafeUrl, normalise_base_url, validate_request_id
from . import answers
from .errors import (
    ApiError,
    AuthError,
    BadRequestError,
    CallTimeout,
    ConnectFailed,
    ConnectionLost,
    HttpStatusError,
    ProtocolError,
    RateLimited,
    ServerError,
    SubmitOutcomeUnknown,
)
from .retry import RetryNotice, RetryPolicy, is_retryable, parse_retry_after, retry_delay
from .tls import context_for

if TYPE_CHECKING:
    import http.cookiejar

    import httpx  # imported by the first request (see ``_http``), not with this module
    import pydantic  # the answers' models: loaded by the first call, not with this module

    from ..models import JobRequest
    from .schemas import CancelResponse, ResultResponse, StatusResponse, SubmitResponse

__all__ = [
    "KEEP_ALIVE",
    "MAX_ANSWER_BYTES",
    "POLLS_IN_FLIGHT",
    "ModelApiClient",
    "OnRetry",
]

OnRetry = Callable[[RetryNotice], "Awaitable[None] | None"]
MAX_ANSWER_BYTES = 8 * 1024 * 1024
# Status/result calls on the wire at once (each attempt; retries wait outside the bound).
POLLS_IN_FLIGHT = 16
# Idle connections kept for reuse: the polls, plus submits and cancels beside them.
KEEP_ALIVE = 2 * POLLS_IN_FLIGHT
# How long an idle poll connection is kept (httpx's default keep-alive expiry).
POLL_KEEP_ALIVE_SECONDS = 5.0
_AnswerT = TypeVar("_AnswerT", bound="pydantic.BaseModel")


class _AcceptedWithError(Exception):
    """Internal: a submit answered 200 with a request_id and an error_code at once."""

    def __init__(self, data: dict[str, Any], note: str) -> None:
        super().__init__(note)
        self.data = data
        self.note = note


def _valid_request_id(value: object) -> bool:
    try:
        validate_request_id(value)
    except UnsafeUrl:
        return False
    return True


def _poll_transport(context: ssl.SSLContext, base: str) -> httpx.AsyncBaseTransport:
    """(In a thread: it imports aiohttp) httpx's transport over aiohttp for polls.

    A proxy the environment names for the base URL is used, as httpx would; it is looked up
    once here (aiohttp's ``trust_env`` looks again, in a thread, on every request). No cookies
    are kept.
    """
    import urllib.request

    import aiohttp
    import httpx
    from httpx_aiohttp import AiohttpTransport

    host = httpx.URL(base).host
    proxy_url = None if urllib.request.proxy_bypass(host) else (
        urllib.request.getproxies().get(httpx.URL(base).scheme)
    )

    def session() -> aiohttp.ClientSession:  # made on the loop, by the first request
        made = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                ssl=context, limit=0, keepalive_timeout=POLL_KEEP_ALIVE_SECONDS
            ),
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        # aiohttp silently sends a GET again when a kept-alive connection was dropped; the
        # retry policy (backoff, notices, the give-up deadline) decides that here, as for httpx.
        if hasattr(made, "_retry_connection"):
            made._retry_connection = False
        return made

    return AiohttpTransport(
        verify=context, client=session, proxy=httpx.Proxy(proxy_url) if proxy_url else None
    )


def _no_cookies() -> http.cookiejar.CookieJar:
    """A cookie jar that keeps none: whatever cookie an answer sets is never sent back."""
    import http.cookiejar

    return http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


@functools.lru_cache(maxsize=1024)
def _parsed_url(url: str) -> httpx.URL:
    """``url`` parsed once: a job's status URL is asked for every poll, and httpx parses a
    string URL character by character each time (a tenth of the app's CPU with 100 jobs
    polling every 0.25 s). URLs are immutable, so one is shared by every request to it."""
    import httpx

    return httpx.URL(url)


def _untranslated_transport_error(exc: BaseException) -> bool:
    """An aiohttp (or socket) error that httpx-aiohttp passed through as it was — network
    trouble of a poll. Anything else (a bug) is not dressed up as a lost connection."""
    return isinstance(exc, OSError) or type(exc).__module__.split(".")[0] == "aiohttp"


def _secret_of(token: Token | None) -> str | None:
    if token is None:
        return None
    import pydantic  # a token is a pydantic SecretStr: loaded already

    value = token.value
    secret = value.get_secret_value() if isinstance(value, pydantic.SecretStr) else str(value)
    try:
        return check_token_text(secret)
    except UnsafeToken as exc:
        raise TokenError(str(exc)) from None


class ModelApiClient:
    """Async client of the RunComfy Model API for openai/gpt-image-2.

    ``transport``, ``sleep``, ``random`` and ``clock`` are injectable for tests. All methods
    raise the :mod:`tui.api.errors` tree.
    """

    def __init__(
        self,
        base_url: str,
        token: Token | None,
        *,
        policy: RetryPolicy = RetryPolicy(),
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: Callable[[], float] = random_module.random,
        clock: Callable[[], float] = time.time,
        polls_in_flight: int = POLLS_IN_FLIGHT,
    ) -> None:
        self._base = normalise_base_url(base_url)
        self._polls_in_flight = max(1, polls_in_flight)
        self._poll_slots: asyncio.Semaphore | None = None
        self._poll_loop: asyncio.AbstractEventLoop | None = None
        self._secret = _secret_of(token)
        self._policy = policy
        self._sleep = sleep
        self._random = random
        self._clock = clock
        headers = {"Accept": "application/json", "User-Agent": f"gpt-image-tui/{__version__}"}
        if self._secret is not None:
            headers["Authorization"] = f"Bearer {self._secret}"
        self._headers = headers
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._poller: httpx.AsyncBaseTransport | None = None
        self._poll_extensions: dict[str, Any] | None = None
        self._closed = False

    @property
    def _http(self) -> httpx.AsyncClient:
        """The HTTP client, built by the first request: constructing a client costs no start-up
        time, and only a client of an ``https`` base loads the (shared) CA bundle."""
        if self._client is None:
            if self._closed:
                raise RuntimeError("the client has been closed")
            import httpx

            self._client = httpx.AsyncClient(
                headers=self._headers,
                cookies=_no_cookies(),
                transport=self._transport,
                verify=context_for(self._base),
                follow_redirects=False,
                timeout=self._timeout(),
                limits=httpx.Limits(
                    max_connections=None,  # polls are bounded above; a submit never waits
                    max_keepalive_connections=max(KEEP_ALIVE, 2 * self._polls_in_flight),
                ),
            )
        return self._client

    async def _poll_sender(self) -> httpx.AsyncBaseTransport:
        """The transport polls go straight to (made by the first poll; see the module
        docstring). An injected ``transport`` (tests) serves every call, polls included."""
        if self._transport is not None:
            return self._transport
        if self._poller is None:
            if self._closed:
                raise RuntimeError("the client has been closed")
            # aiohttp is imported off the loop: a first poll never freezes the screen.
            transport = await asyncio.to_thread(
                _poll_transport, context_for(self._base), self._base
            )
            if self._poller is None:  # another first poll may have won the race
                self._poller = transport
            else:
                await transport.aclose()
        return self._poller

    def _poll_request(self, method: str, url: str) -> httpx.Request:
        """A poll as its transport takes it: the client's headers and timeouts, nothing else
        (no cookies: an httpx client reads each answer's and writes each request's through
        ``http.cookiejar``, a quarter of a poll's work on the UI loop)."""
        import httpx

        if self._poll_extensions is None:
            self._poll_extensions = {"timeout": self._timeout().as_dict()}
        return httpx.Request(
            method, _parsed_url(url), headers=self._headers, extensions=self._poll_extensions
        )

    def _timeout(self) -> httpx.Timeout:
        """Each phase of a call bounded as the retry policy says (both clients)."""
        import httpx

        policy = self._policy
        return httpx.Timeout(
            connect=policy.connect_timeout,
            read=policy.read_timeout,
            write=policy.write_timeout,
            pool=policy.pool_timeout,
        )

    @property
    def base_url(self) -> str:
        return self._base

    @property
    def policy(self) -> RetryPolicy:
        return self._policy

    def __repr__(self) -> str:
        token = "set" if self._secret is not None else "none"
        return f"ModelApiClient(base_url={self._base!r}, token={token})"

    async def aclose(self) -> None:
        self._closed = True
        if self._client is not None:
            await self._client.aclose()
        if self._poller is not None:
            await self._poller.aclose()

    async def __aenter__(self) -> ModelApiClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- the four calls -------------------------------------------------------------------------

    async def submit(
        self, request: JobRequest, *, on_retry: OnRetry | None = None
    ) -> SubmitResponse:
        """POST the request. Retried only when it certainly never reached the server or got 429.

        Any ambiguous failure (dropped after sending, timeout, 5xx, an unreadable answer) raises
        :class:`SubmitOutcomeUnknown`: the request may have run and been billed.
        """
        from .schemas import SubmitResponse, request_body

        path = "/models/" + quote(request.endpoint.model_id, safe="/")
        body = request_body(request)
        try:
            data = await self._call(
                "submit", "POST", path, json=body, submit=True, on_retry=on_retry
            )
            return self._parse(SubmitResponse, data, "submit")
        except _AcceptedWithError as accepted:
            # HTTP 200 with a valid request_id *and* an error_code: the job exists on the
            # server (and may be billed). Keep the id; the message rides along as a note.
            answer = self._parse(SubmitResponse, accepted.data, "submit")
            answer.server_note = accepted.note
            return answer
        except (ServerError, ProtocolError) as exc:
            raise SubmitOutcomeUnknown(exc) from None
        except (CallTimeout, ConnectionLost) as exc:
            if exc.request_sent:
                raise SubmitOutcomeUnknown(exc) from None
            raise

    async def status(self, request_id: str, *, on_retry: OnRetry | None = None) -> StatusResponse:
        """GET the request's status. Unknown status strings are returned, not raised."""
        from .schemas import StatusResponse

        data = await self._call(
            "status", "GET", self._request_path(request_id, "status"), on_retry=on_retry,
            poll=True,
        )
        return self._parse(StatusResponse, data, "status")

    async def result(self, request_id: str, *, on_retry: OnRetry | None = None) -> ResultResponse:
        """GET the request's result (outputs, or the error of a failed run)."""
        from .schemas import ResultResponse

        data = await self._call(
            "result", "GET", self._request_path(request_id, "result"), on_retry=on_retry,
            poll=True,
        )
        return self._parse(ResultResponse, data, "result")

    async def cancel(self, request_id: str, *, on_retry: OnRetry | None = None) -> CancelResponse:
        """POST cancel. ``accepted`` is False when the run goes on (``not_cancellable``)."""
        from .schemas import CancelResponse

        data = await self._call(
            "cancel", "POST", self._request_path(request_id, "cancel"), on_retry=on_retry
        )
        return self._parse(CancelResponse, data, "cancel")

    # -- retrying -------------------------------------------------------------------------------

    async def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        submit: bool = False,
        on_retry: OnRetry | None = None,
        poll: bool = False,
    ) -> Any:
        policy = self._policy
        attempt = 0
        while True:
            attempt += 1
            try:
                if poll:
                    async with self._poll_slot():
                        return await self._send(method, path, json=json, poll=True)
                return await self._send(method, path, json=json, submit=submit)
            except ApiError as exc:
                retry_after = getattr(exc, "retry_after", None)
                if (
                    isinstance(exc, RateLimited)
                    and retry_after is not None
                    and retry_after > policy.max_retry_after
                ):
                    raise  # the engine shows "rate-limited until HH:MM"
                if attempt >= policy.max_attempts or not is_retryable(exc, submit=submit):
                    raise
                delay = retry_delay(exc, attempt, policy, self._random)
                if on_retry is not None:
                    outcome = on_retry(RetryNotice(operation, attempt, delay, exc.message))
                    if inspect.isawaitable(outcome):
                        await outcome
                await self._sleep(delay)

    def _poll_slot(self) -> asyncio.Semaphore:
        """The bound on polls in flight, made for the running loop (a client may outlive one)."""
        loop = asyncio.get_running_loop()
        if self._poll_slots is None or self._poll_loop is not loop:
            self._poll_slots = asyncio.Semaphore(self._polls_in_flight)
            self._poll_loop = loop
        return self._poll_slots

    # -- the choke point ------------------------------------------------------------------------

    async def _send(
        self, method: str, path: str, json: Any = None, *, submit: bool = False,
        poll: bool = False,
    ) -> Any:
        """One attempt: send, read the whole answer within the deadline, return its JSON.

        Every httpx exception is translated here; error answers become HttpStatusError kinds.
        ``poll`` (a status or result GET) goes through the poll client.
        """
        import httpx  # loaded already by ``_http``; here for the exception types

        url = self._base + path
        try:
            async with asyncio.timeout(self._policy.call_deadline):
                if poll:
                    request = self._poll_request(method, url)
                    response = await (await self._poll_sender()).handle_async_request(request)
                    response.request = request
                else:
                    http = self._http
                    request = http.build_request(method, _parsed_url(url), json=json)
                    response = await http.send(request, stream=True)
                try:
                    body = await self._read_capped(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise CallTimeout(
                f"no complete answer within {self._policy.call_deadline:g} s"
            ) from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ConnectFailed(f"could not connect to the API: {self._describe(exc)}") from None
        except httpx.PoolTimeout as exc:
            error = CallTimeout(f"no free connection to the API: {self._describe(exc)}")
            error.request_sent = False
            raise error from None
        except httpx.TimeoutException as exc:
            raise CallTimeout(f"the API timed out: {self._describe(exc)}") from None
        except httpx.DecodingError as exc:
            raise ProtocolError(
                f"the API's answer could not be decoded: {self._describe(exc)}"
            ) from None
        except httpx.TransportError as exc:
            raise ConnectionLost(
                f"the connection to the API was lost: {self._describe(exc)}"
            ) from None
        except httpx.HTTPError as exc:
            raise ProtocolError(f"the API call failed: {self._describe(exc)}") from None
        except Exception as exc:
            if not (poll and _untranslated_transport_error(exc)):
                raise
            # aiohttp trouble its transport left untranslated: a lost poll, asked again.
            raise ConnectionLost(
                f"the connection to the API was lost: {self._describe(exc)}"
            ) from None
        return self._interpret(response, body, submit=submit)

    async def _read_capped(self, response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise ProtocolError(f"the API's answer is larger than {MAX_ANSWER_BYTES:,} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _interpret(self, response: httpx.Response, body: bytes, *, submit: bool = False) -> Any:
        status = response.status_code
        data, parsed = answers.json_or_none(body)
        data = self._redact_tree(data)  # the token never travels on in a server's string
        if 200 <= status < 300:
            if not parsed:
                raise ProtocolError(
                    f"the API answered HTTP {status} with something that is not JSON"
                )
            if isinstance(data, dict) and (
                data.get("error_code") is not None or answers.text(data.get("error_message"))
            ):
                error = self._error_answer(status, data, response.headers)
                if submit and _valid_request_id(data.get("request_id")):
                    raise _AcceptedWithError(data, error.message)
                raise error
            return data
        if 300 <= status < 400:
            raise ProtocolError(
                f"the API answered with a redirect (HTTP {status}); redirects are not followed"
            )
        if status >= 400:
            raise self._error_answer(
                status,
                data if isinstance(data, dict) else {},
                response.headers,
                b"" if parsed else body,
            )
        raise ProtocolError(f"the API answered with an unexpected HTTP {status}")

    def _error_answer(
        self,
        status: int,
        data: dict[str, Any],
        headers: httpx.Headers,
        raw: bytes = b"",
    ) -> HttpStatusError:
        code = answers.code(data.get("error_code"))
        if code is None:
            code = answers.code(data.get("code"))
        message = answers.message(data) or answers.plain_body(raw) or answers.reason(status)
        retry_after = None
        if status in {429, 503} or (code is not None and code // 1000 == 429):
            retry_after = parse_retry_after(headers, now=self._clock())
        parts = [f"HTTP {status}"] + ([f"code {code}"] if code is not None else [])
        text = f"{self._safe(message, 600)} ({', '.join(parts)})"
        family = code // 1000 if code is not None and code >= 100_000 else None
        kind: type[HttpStatusError] = HttpStatusError
        if code == 400004 or status in {401, 403} or family in {401, 403}:
            kind = AuthError
        elif status == 429 or family == 429:
            kind = RateLimited
        elif 400 <= status < 500 or (family is not None and 400 <= family < 500):
            kind = BadRequestError
        elif status >= 500 or (family is not None and 500 <= family < 600):
            kind = ServerError
        return kind(text, status=status, error_code=code, retry_after=retry_after)

    # -- helpers --------------------------------------------------------------------------------

    def _request_path(self, request_id: str, action: str) -> str:
        try:
            valid = validate_request_id(request_id)
        except UnsafeUrl:
            raise ProtocolError("not a valid request id") from None
        return f"/requests/{quote(valid, safe='')}/{action}"

    def _parse(self, model: type[_AnswerT], data: Any, operation: str) -> _AnswerT:
        import pydantic  # ``model`` is one: loaded already

        try:
            return model.model_validate(data)
        except pydantic.ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'answer'}: {err['msg']}"
                for err in exc.errors()[:3]
            )
            raise ProtocolError(
                f"unexpected answer to {operation}: {self._safe(problems, 300)}"
            ) from None

    def _redact(self, text: str) -> str:
        if not self._secret:
            return text
        for form in self._secret_forms:
            text = text.replace(form, "[token]")
        return text

    @functools.cached_property
    def _secret_forms(self) -> tuple[str, ...]:
        """The token as a server might echo it: verbatim, or percent-encoded."""
        assert self._secret is not None
        return tuple(dict.fromkeys((self._secret, quote(self._secret, safe=""))))

    def _redact_tree(self, value: Any) -> Any:
        """``value`` (parsed JSON) with the token cut out of every string, keys included."""
        if not self._secret:
            return value
        if isinstance(value, str):
            return self._redact(value)
        if isinstance(value, list):
            return [self._redact_tree(item) for item in value]
        if isinstance(value, dict):
            return {self._redact_tree(k): self._redact_tree(v) for k, v in value.items()}
        return value

    def _safe(self, text: str, limit: int) -> str:
        """Untrusted text made displayable: token removed (before and after the escape codes
        that could split it are stripped), then shortened."""
        return shorten(self._redact(clean_text(self._redact(text))), limit)

    def _describe(self, exc: BaseException) -> str:
        detail = str(exc).strip()
        text = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        return self._safe(text, 300)
