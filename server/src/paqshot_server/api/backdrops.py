"""The backdrop plate library as API extensions: a key adds, lists and deletes its own plates and sees the ones
the operator shares (the ``backdrops`` command); another key's plates are never visible."""

from __future__ import annotations

import time
from typing import Annotated, ClassVar, Literal

import anyio.to_thread
from litestar import Controller, HttpMethod, Response, delete, get, post, route
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import Meta, Struct

from ..errors import Forbidden
from ..imaging.plates.plate import Light, LightFrom
from ..jobs.backdrops import BackdropLibrary, PlateUpload
from ..signing import file_url
from ..storage.backdrops import Backdrop
from ..storage.keys import ApiKey
from .openapi import ERROR_RESPONSES
from .query import strict_query
from .request_bodies import TAG_PATTERN, TEXT_PATTERN
from .state import ApiState

MAX_TAGS = 20
URL_SECONDS = 3600  # plates have no retention: their signed URLs are made fresh for each answer

Tag = Annotated[str, Meta(pattern=TAG_PATTERN)]
Fraction = Annotated[float, Meta(ge=0, le=1)]


class BackdropRequest(Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``POST /v1/backdrops``: a photograph to stand products on, and what it is."""

    schema_example_fields: ClassVar[tuple[str, ...]] = ("image", "tags", "name")  # the docs' request sample

    image: Annotated[
        str,
        Meta(
            min_length=1,
            description="URL (http/https) or base64 image, plain or data: URI: the same checks as product_image.",
            examples=["https://shop.example/plates/oak-table.jpg"],
        ),
    ]
    tags: Annotated[
        list[Tag],
        Meta(
            max_length=MAX_TAGS,
            description="Words scenes are matched against: a location (kitchen), a material (marble), a mood; "
            "matched case-insensitively, a multi-word tag needs all its words.",
            examples=[["kitchen", "oak"]],
        ),
    ] = []
    name: Annotated[str, Meta(min_length=1, max_length=100, pattern=TEXT_PATTERN, examples=["Oak table"])] | None = None
    floor_y: (
        Annotated[
            float,
            Meta(ge=0, le=1, description="Where products stand, share of the height (else found).", examples=[0.8]),
        ]
        | None
    ) = None
    area_left: (
        Annotated[
            float, Meta(ge=0, le=1, description="Left end of the floor stretch products may use (0).", examples=[0.1])
        ]
        | None
    ) = None
    area_width: (
        Annotated[
            float,
            Meta(
                ge=0.05,
                le=1,
                description="Width of that stretch, share of the width (to the edge).",
                examples=[0.8],
            ),
        ]
        | None
    ) = None
    light_from: (
        Annotated[LightFrom, Meta(description="Where the key light comes from (else estimated).", examples=["left"])]
        | None
    ) = None
    shadow_softness: (
        Annotated[
            float,
            Meta(ge=0, le=1, description="0 hard light, crisp shadows .. 1 diffuse (else estimated).", examples=[0.5]),
        ]
        | None
    ) = None


class BackdropInfo(Struct, kw_only=True):
    """A backdrop plate."""

    id: Annotated[str, Meta(description="Send it as backdrop on POST /v1/generate.")]
    shared: Annotated[bool, Meta(description="Shared by the operator with every key (not yours to delete).")]
    name: str | None
    tags: list[str]
    width: int
    height: int
    floor_y: Fraction
    floor_source: Literal["given", "estimated"]
    area_left: Fraction
    area_width: Fraction
    light_from: LightFrom
    light_azimuth: Annotated[float | None, Meta(description="Degrees: 0 front, -90 left, 90 right; null overhead.")]
    shadow_softness: Fraction
    light_source: Literal["given", "estimated"]
    image_url: Annotated[str, Meta(description="Signed URL of the plate (valid for an hour).")]
    thumbnail_url: str
    created_at: str


class BackdropList(Struct, kw_only=True):
    """Your plates (newest first), then the operator's shared ones."""

    data: list[BackdropInfo]


def _info(row: Backdrop, api: ApiState) -> BackdropInfo:
    expires = int(time.time()) + URL_SECONDS
    base, secret = api.settings.base_url, api.secret
    light = Light(row.light_azimuth, row.light_softness, "given" if row.light_given else "estimated")
    return BackdropInfo(
        id=row.id,
        shared=row.shared,
        name=row.name,
        tags=row.tags,
        width=row.width,
        height=row.height,
        floor_y=round(row.floor_y, 4),
        floor_source="given" if row.floor_given else "estimated",
        area_left=round(row.area_left, 4),
        area_width=round(row.area_right - row.area_left, 4),
        light_from=light.named,  # type: ignore[arg-type]
        light_azimuth=None if row.light_azimuth is None else round(row.light_azimuth, 1),
        shadow_softness=round(row.light_softness, 3),
        light_source=light.source,
        image_url=file_url(base, secret, row.image_file, expires),
        thumbnail_url=file_url(base, secret, row.thumb_file, expires),
        created_at=row.created_at,
    )


class BackdropController(Controller):
    path = "/v1/backdrops"
    tags = ["backdrops"]  # noqa: RUF012 - Litestar reads class attributes
    security = [{"bearerAuth": []}]  # noqa: RUF012 - Litestar reads this class attribute

    # Litestar 2 lists only the first-registered handler's methods in the automatic OPTIONS answer of a path with
    # several handlers (litestar-org/litestar#4169): explicit answers, registered first (handlers are registered
    # sorted by name: keep these names first), as in api/generations.py.
    @route("/", http_method=HttpMethod.OPTIONS, include_in_schema=False)
    async def allowed_methods(self) -> Response[None]:
        """``OPTIONS /v1/backdrops``."""
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": "GET, OPTIONS, POST"})

    @route("/{backdrop_id:str}", http_method=HttpMethod.OPTIONS, include_in_schema=False)
    async def allowed_methods_one(self, backdrop_id: FromPath[str]) -> Response[None]:
        """``OPTIONS /v1/backdrops/{id}``."""
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": "DELETE, GET, OPTIONS"})

    @post(
        "/",
        operation_id="createBackdrop",
        status_code=HTTP_201_CREATED,
        summary="Add a backdrop plate (extension)",
        responses=ERROR_RESPONSES,
    )
    async def create(
        self, data: JSONBody[BackdropRequest], key: NamedDependency[ApiKey], api: NamedDependency[ApiState]
    ) -> BackdropInfo:
        """Store a photograph your scenes can stand products on; its floor line and light are measured unless you
        give them. 403 when the key keeps ``max_backdrops_per_key`` plates already."""
        upload = PlateUpload(
            tags=data.tags,
            name=data.name,
            floor_y=data.floor_y,
            area_left=data.area_left,
            area_width=data.area_width,
            light_from=data.light_from,
            softness=data.shadow_softness,
        )
        row = await BackdropLibrary(api).add_from_request(key.id, data.image, upload)
        return _info(row, api)

    @get(
        "/",
        operation_id="listBackdrops",
        summary="List the backdrop plates you can use (extension)",
        responses=ERROR_RESPONSES,
        before_request=strict_query,
    )
    async def list(self, key: NamedDependency[ApiKey], api: NamedDependency[ApiState]) -> BackdropList:
        """Your plates, newest first, then the ones the operator shares."""
        rows = await anyio.to_thread.run_sync(BackdropLibrary(api).list, key.id)
        return BackdropList(data=[_info(row, api) for row in rows])

    @get(
        "/{backdrop_id:str}",
        operation_id="getBackdrop",
        summary="One backdrop plate (extension)",
        responses=ERROR_RESPONSES,
    )
    async def fetch(
        self, backdrop_id: FromPath[str], key: NamedDependency[ApiKey], api: NamedDependency[ApiState]
    ) -> BackdropInfo:
        """One of your plates or a shared one (another key's plate is not found)."""
        row = await anyio.to_thread.run_sync(BackdropLibrary(api).find, key.id, backdrop_id)
        return _info(row, api)

    @delete(
        "/{backdrop_id:str}",
        operation_id="deleteBackdrop",
        summary="Delete one of your backdrop plates (extension)",
        responses=ERROR_RESPONSES,
    )
    async def remove(
        self, backdrop_id: FromPath[str], key: NamedDependency[ApiKey], api: NamedDependency[ApiState]
    ) -> None:
        """The plate and its files go; generations already accepted with it fail saying so. A plate the operator
        shares answers 403. Answers 204."""
        library = BackdropLibrary(api)
        row = await anyio.to_thread.run_sync(library.find, key.id, backdrop_id)
        if row.shared:
            raise Forbidden(
                f"Backdrop {backdrop_id} is shared by the operator; only the operator can remove it "
                f"(`{api.settings.brand.cli_name} backdrops remove {backdrop_id}`)."
            )
        await anyio.to_thread.run_sync(library.delete, key.id, backdrop_id)
