"""Marketplace presets and the standalone compliance check (extensions): ``GET /v1/presets``, ``POST /v1/check``."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import anyio.to_thread
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from msgspec import UNSET, Meta, Struct, UnsetType

from ..checking import CheckOutcome, check_image, classical_product, preset_ids
from ..imaging.options import CLASSICAL_CUTOUT
from ..imaging.presets import PRESET_ID_PATTERN, PresetIds
from ..jobs import intake
from ..storage.keys import ApiKey
from .errors import rate_limit_headers, remember_rate_window
from .openapi import ERROR_RESPONSES
from .query import strict_query
from .state import ApiState
from .wire import ComplianceReport


class PresetSource(Struct, kw_only=True):
    url: str
    read: str
    facts: str


class PresetInfo(Struct, kw_only=True):
    """One preset: what it sets on a request (``render``) and what its report checks (``rules``)."""

    id: str
    title: str
    description: str
    render: dict[str, Any]
    rules: dict[str, Any]
    sources: list[PresetSource]


class PresetList(Struct, kw_only=True):
    data: list[PresetInfo]


class CheckRequest(Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``POST /v1/check``: an image and the presets to check it against (at least one)."""

    # At least one preset (checking.preset_ids refuses none): stated in the served schema (api.openapi). The fields
    # take no null, so naming one is enough; branches of only ``required`` are what client generators can read
    # (openapi-python-client 0.29 dropped the operation when each branch restated its field's type).
    schema_rules: ClassVar[dict[str, Any]] = {"anyOf": [{"required": ["preset"]}, {"required": ["compliance_check"]}]}

    schema_example_fields: ClassVar[tuple[str, ...]] = ("image", "preset")

    image: Annotated[
        str,
        Meta(
            min_length=1,
            description="URL (http/https) or base64 image, plain or data: URI; checked as it is.",
            examples=["https://shop.example/photos/mug-main.jpg"],
        ),
    ]
    preset: (
        Annotated[
            str, Meta(pattern=PRESET_ID_PATTERN, description="A preset id (GET /v1/presets).", examples=["amazon_main"])
        ]
        | UnsetType
    ) = UNSET
    compliance_check: (
        Annotated[PresetIds, Meta(description="More preset ids (1–10).", examples=[["google_shopping"]])] | UnsetType
    ) = UNSET


class CheckResult(Struct, kw_only=True):
    """The file's own facts, one compliance report per preset, and what located the product."""

    width: int
    height: int
    format: str
    bytes: int
    compliance: list[ComplianceReport]
    product_source: Annotated[
        str,
        Meta(
            description=(
                '"recorded": the product map this appliance wrote into its own output, its seal checked against '
                "the file's pixels (the job's verdict); \"classical\": the classical cut-out found the product "
                "(any other file: no map, or a map this appliance did not seal for these pixels, as on an edited "
                "output)."
            ),
            examples=["recorded"],
        ),
    ]


class ComplianceController(Controller):
    path = "/v1"
    tags = ["compliance"]  # noqa: RUF012 - Litestar reads class attributes
    security = [{"bearerAuth": []}]  # noqa: RUF012 - Litestar reads this class attribute

    @get(
        "/presets",
        operation_id="listPresets",
        summary="Marketplace presets (extension)",
        responses=ERROR_RESPONSES,
        sync_to_thread=False,
        before_request=strict_query,
    )
    def presets(self, key: NamedDependency[ApiKey], api: NamedDependency[ApiState]) -> PresetList:
        """Every preset in force (built-in and the operator's), with its values, rules and cited sources."""
        return PresetList(
            data=[
                PresetInfo(
                    id=p.id,
                    title=p.title,
                    description=p.description,
                    render=msgspec.to_builtins(p.render),
                    rules=msgspec.to_builtins(p.rules),
                    sources=[PresetSource(url=s.url, read=s.read, facts=s.facts) for s in p.sources],
                )
                for p in (api.presets.get(i) for i in api.presets.ids())
            ]
        )

    @post(
        "/check",
        operation_id="checkImage",
        status_code=200,
        summary="Check any image against marketplace presets (extension)",
        responses=ERROR_RESPONSES,
    )
    async def check(
        self,
        request: Request,
        data: JSONBody[CheckRequest],
        key: NamedDependency[ApiKey],
        api: NamedDependency[ApiState],
    ) -> Response[CheckResult]:
        """Measure every rule of the named presets on the image as it is (nothing is generated or stored). Counts
        against the key's rate limit as a submission does: from the image's fetch on (an unknown preset does not)."""
        ids = preset_ids(
            None if data.preset is UNSET else data.preset,
            None if data.compliance_check is UNSET else data.compliance_check,
        )
        for preset_id in ids:
            api.presets.get(preset_id)  # unknown ids answer 400 before the image is fetched
        rate = api.jobs.count(key, remember_rate_window(request))
        raw = await intake.load_image(api, data.image, "image")
        outcome = await anyio.to_thread.run_sync(_bounded_check, raw, ids, api)
        result = CheckResult(
            width=outcome.width,
            height=outcome.height,
            format=outcome.format,
            bytes=outcome.bytes,
            compliance=msgspec.convert(outcome.compliance, list[ComplianceReport]),
            product_source=outcome.product_source,
        )
        return Response(result, headers=rate_limit_headers(rate))


def _bounded_check(raw: bytes, ids: list[str], api: ApiState) -> CheckOutcome:
    """``check_image`` with the classical cut-out, as one of the API process's full decodes at once
    (``intake.full_decode``): a 36 MP check held ~1 GB and nothing bounded how many ran (breaker, session 11)."""
    with intake.full_decode():
        return check_image(raw, ids, api.settings, api.presets, classical_product, CLASSICAL_CUTOUT)
