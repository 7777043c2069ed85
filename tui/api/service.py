"""Other RunComfy JSON services, reached through the Model API client's one request path.

The model catalog (model base), the wallet balance (serverless base) and device-code sign-in
(web base) are plain JSON calls. Rather than a second HTTP stack, each goes through a
:class:`JsonChannel`: a :class:`~tui.api.client.ModelApiClient` pointed at another base, so every
call gets the same treatment as a submit or a poll — the base URL checked (https, or http on
loopback only), an overall deadline per attempt, redirects refused, answers capped, error answers
turned into the :mod:`tui.api.errors` tree with sanitised messages from which the token is
redacted, and retries only where they are safe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from ..trust.token import Token
from . import answers
from .client import ModelApiClient

if TYPE_CHECKING:
    import httpx
    import pydantic

__all__ = ["JsonChannel"]

_AnswerT = TypeVar("_AnswerT", bound="pydantic.BaseModel")


class JsonChannel(ModelApiClient):
    """GET and POST JSON to one base URL through :class:`ModelApiClient`'s choke point.

    ``answer_statuses`` are error statuses whose JSON object body is an *answer*, not an error —
    device-code sign-in says ``denied`` and ``expired`` with HTTP 410 and a JSON body.
    Only the two methods below are meant to be used; the Model API calls it inherits are not.
    """

    def __init__(
        self,
        base_url: str,
        token: Token | None,
        *,
        answer_statuses: frozenset[int] = frozenset(),
        **options: Any,
    ) -> None:
        super().__init__(base_url, token, **options)
        self._answer_statuses = answer_statuses

    async def get_json(self, operation: str, path: str, model: type[_AnswerT]) -> _AnswerT:
        """GET ``path`` (below the base) and validate the answer with ``model``."""
        data = await self._call(operation, "GET", path)
        return self._parse(model, data, operation)

    async def post_json(
        self, operation: str, path: str, model: type[_AnswerT], body: Any = None
    ) -> _AnswerT:
        """POST ``body`` as JSON (nothing when None) and validate the answer with ``model``."""
        data = await self._call(operation, "POST", path, json=body)
        return self._parse(model, data, operation)

    def _interpret(self, response: httpx.Response, body: bytes, *, submit: bool = False) -> Any:
        if response.status_code in self._answer_statuses:
            data, parsed = answers.json_or_none(body)
            if parsed and isinstance(data, dict):
                return self._redact_tree(data)
        return super()._interpret(response, body, submit=submit)
