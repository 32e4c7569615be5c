"""Request body limit: 413 before an over-size body is read (Content-Length), or as soon as the
streamed bytes pass the limit when the client sends no Content-Length."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import HTTP_TITLES, problem_response


class BodyTooLarge(HTTPException):
    """A request body over the limit (an HTTPException, so FastAPI's body parsing lets it pass)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _detail(limit), headers={"Connection": "close"})


def _detail(limit: int) -> str:
    return f"请求体超过 {limit} 字节上限 / request body over the limit of {limit} bytes"


class BodyLimitMiddleware:
    """Pure ASGI middleware refusing request bodies bigger than max_bytes with 413 problem+json."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check Content-Length up front, then count the bytes the app receives."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            Request(scope),
            413,
            HTTP_TITLES[413],
            _detail(self.max_bytes),
            "payload-too-large",
            [
                {
                    "record": "request body",
                    "field": "Content-Length",
                    "problem": f"上限 {self.max_bytes} 字节 / limit {self.max_bytes} bytes",
                }
            ],
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    """The declared body size, or None when absent or unreadable (then bytes are counted)."""
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
