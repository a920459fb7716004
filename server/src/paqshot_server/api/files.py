"""Signed file URLs: results, thumbnails and stored inputs, readable without the API key until they expire."""

from __future__ import annotations

import time
from typing import Annotated

import anyio.to_thread
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from ..errors import NotFound
from ..signing import verify
from .openapi import ERROR_RESPONSES
from .state import ApiState

_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


class FileController(Controller):
    path = "/files"
    tags = ["files"]  # noqa: RUF012 - Litestar reads class attributes

    @get(
        "/{name:str}",
        operation_id="getFile",
        summary="Download a generated image (signed URL)",
        responses=ERROR_RESPONSES,
        media_type="image/jpeg",
        opt={"media_types": tuple(_TYPES.values())},  # the served schema lists every type a file may have
    )
    async def download(
        self,
        name: FromPath[str],
        api: NamedDependency[ApiState],
        expires: Annotated[int, QueryParameter(ge=0)] = 0,
        sig: Annotated[str, QueryParameter(max_length=64)] = "",
    ) -> Response[bytes]:
        """Serve a stored file when the signature is valid and retention has not passed."""
        ext = name.rsplit(".", 1)[-1]
        if ext not in _TYPES or not verify(api.secret, name, expires, sig, time.time()):
            raise NotFound("This image link is invalid or has expired.")
        try:
            data = await anyio.to_thread.run_sync(api.files.read, name)
        except (FileNotFoundError, ValueError) as exc:
            raise NotFound("This image has been deleted (retention passed).") from exc
        return Response(
            data,
            media_type=_TYPES[ext],
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"},
        )
