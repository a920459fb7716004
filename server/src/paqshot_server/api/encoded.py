"""A JSON answer encoded once and sent as the same bytes each time it is asked for (hot read paths)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from litestar import MediaType, Request, Response
from litestar.background_tasks import BackgroundTask, BackgroundTasks
from litestar.datastructures import Cookie
from litestar.response.base import ASGIResponse
from litestar.types import TypeEncodersMap

if TYPE_CHECKING:
    from litestar import Litestar


class EncodedJson(Response[Any]):  # Any: it stands for the view it encodes (the handler says which)
    """A 200 ``application/json`` answer whose body (``bytes``, already JSON) and ASGI response (status line and
    headers: content type and length, exactly what Litestar's own response sends) are built once, then answered
    as they are, as often and as concurrently as asked: an :class:`ASGIResponse` keeps no state between calls.

    Litestar builds a new ASGI response for every answer (headers mapped, encoded and checked each time); a poll
    answered from ``api.pollcache`` sends the same bytes thousands of times between two changes. Whatever a layer
    would add (headers, cookies, background tasks, a HEAD answer) goes through Litestar's own path instead.
    """

    __slots__ = ("_asgi",)

    def __init__(self, body: bytes) -> None:
        super().__init__(body, media_type=MediaType.JSON, status_code=200)
        self._asgi = ASGIResponse(body=body, media_type=MediaType.JSON, status_code=200)

    def to_asgi_response(
        self,
        app: Litestar | None,
        request: Request,
        *,
        background: BackgroundTask | BackgroundTasks | None = None,
        cookies: Iterable[Cookie] | None = None,
        encoded_headers: Iterable[tuple[bytes, bytes]] | None = None,
        headers: dict[str, str] | None = None,
        is_head_response: bool = False,
        media_type: MediaType | str | None = None,
        status_code: int | None = None,
        type_encoders: TypeEncodersMap | None = None,
    ) -> ASGIResponse:
        if background or cookies or encoded_headers or headers or is_head_response:
            return super().to_asgi_response(
                app,
                request,
                background=background,
                cookies=cookies,
                encoded_headers=encoded_headers,
                headers=headers,
                is_head_response=is_head_response,
                media_type=media_type,
                status_code=status_code,
                type_encoders=type_encoders,
            )
        return self._asgi
