"""The API reference page: Redoc, served from this appliance (no CDN: studios work offline), themed by the brand.

Redoc's standalone bundle comes from the ``drf-spectacular-sidecar`` package (pinned in ``uv.lock`` with its
wheel's sha256). It is read as a file, never imported, and checked against the sha256 its wheel's RECORD lists
before it is served. ``GET /`` leads here (``api.meta``), and so do Litestar's own schema pages (below).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import importlib.metadata
import json
from pathlib import Path

from litestar import Controller, Request, Response, Router, get
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.response import Redirect
from litestar.status_codes import HTTP_307_TEMPORARY_REDIRECT

from ..branding import Brand
from ..errors import ServerError
from .state import ApiState

DOCS_PATH = "/docs"
REDOC_PATH = "/docs/redoc.standalone.js"
SCHEMA_PATH = "/schema"
SCHEMA_DOCUMENT = f"{SCHEMA_PATH}/openapi.json"
# Litestar's schema UI pages (its render plugins' paths: Swagger UI and its OAuth2 helper, Redoc, Stoplight
# Elements, RapiDoc, Scalar) load their scripts, styles and fonts from CDNs: none is served. Their paths, and
# /schema itself, lead to the docs page, which works offline.
_SCHEMA_UI_PAGES = frozenset(
    {"", "/", "/swagger", "/oauth2-redirect.html", "/redoc", "/elements", "/rapidoc", "/scalar"}
)
# Everything from this appliance only. Redoc's sidebar shows its maker's logo from a CDN: the policy stops that
# request (the image hides itself on error). Redoc needs inline styles, our inline init script and a blob: worker.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)
_DISTRIBUTION = "drf-spectacular-sidecar"
_BUNDLE = "redoc/bundles/redoc.standalone.js"


@functools.cache
def redoc_bundle() -> bytes:
    """Redoc's standalone JavaScript, after checking it against its wheel's RECORD (read once per process).

    Raises:
        ServerError: the package is missing or the file does not match its recorded sha256.
    """
    try:
        dist = importlib.metadata.distribution(_DISTRIBUTION)
        entry = next(f for f in dist.files or () if str(f).endswith(_BUNDLE))
        data = Path(str(dist.locate_file(entry))).read_bytes()
    except (importlib.metadata.PackageNotFoundError, StopIteration, OSError) as exc:
        raise ServerError(f"The docs page's Redoc bundle is missing ({_DISTRIBUTION}); reinstall the server.") from exc
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    if entry.hash is None or entry.hash.mode != "sha256" or entry.hash.value != digest:
        raise ServerError(
            f"The docs page's Redoc bundle does not match its recorded sha256; reinstall {_DISTRIBUTION}."
        )
    return data


def redoc_options(brand: Brand) -> dict[str, object]:
    """Redoc's options: the brand's colours, no external fonts, nothing that calls out."""
    return {
        "hideDownloadButton": False,
        "expandResponses": "200,202",
        "jsonSampleExpandLevel": 3,
        "sortTagsAlphabetically": False,
        "theme": {
            "colors": {"primary": {"main": brand.accent}},
            "typography": {
                "fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif",
                "headings": {"fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"},
                "code": {"fontFamily": "ui-monospace, 'DejaVu Sans Mono', monospace"},
            },
            "sidebar": {"backgroundColor": brand.sidebar, "textColor": brand.sidebar_text},
            "rightPanel": {"backgroundColor": brand.sidebar},
        },
    }


def page(brand: Brand) -> str:
    """The HTML of the docs page (the schema is fetched from this appliance by Redoc)."""
    title = html.escape(f"{brand.product_name} API")
    options = json.dumps(redoc_options(brand)).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{margin:0}} noscript{{display:block;padding:2em;font-family:sans-serif}}</style>
</head><body>
<noscript>{title}: this page needs JavaScript. The schema itself is at
<a href="{SCHEMA_DOCUMENT}">{SCHEMA_DOCUMENT}</a>.</noscript>
<div id="redoc"></div>
<script src="{REDOC_PATH}"></script>
<script>Redoc.init("{SCHEMA_DOCUMENT}", {options}, document.getElementById("redoc"));</script>
</body></html>
"""


def schema_router() -> Router:
    """The router of ``/schema``: the schema documents (``openapi.json``, ``openapi.yaml``; Litestar's JSON and
    YAML render plugins add them) and, in front of any handler, Litestar's UI pages turned into redirects to
    the docs page."""
    return Router(
        SCHEMA_PATH,
        route_handlers=[],
        include_in_schema=False,
        dto=None,
        return_dto=None,
        before_request=_ui_page_to_docs,
    )


def _ui_page_to_docs(request: Request) -> Redirect | None:
    """A schema UI page's path → 307 to the docs page; anything else under ``/schema`` goes on (None)."""
    # scope["path"], not request.url: the URL is rebuilt from raw_path, whose bytes need not be UTF-8
    if request.scope["path"].removeprefix(SCHEMA_PATH) in _SCHEMA_UI_PAGES:
        # the media type said: the handler behind /schema is the JSON document's, which a redirect cannot take
        return Redirect(path=DOCS_PATH, status_code=HTTP_307_TEMPORARY_REDIRECT, media_type=MediaType.TEXT)
    return None


class DocsController(Controller):
    include_in_schema = False

    @get(DOCS_PATH, sync_to_thread=False)
    def docs(self, api: NamedDependency[ApiState]) -> Response[str]:
        return Response(
            page(api.settings.brand),
            media_type="text/html",  # Litestar adds "; charset=utf-8" to text/*
            headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
        )

    @get(REDOC_PATH, sync_to_thread=True)
    def redoc(self) -> Response[bytes]:
        return Response(
            redoc_bundle(),
            media_type="application/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=86400"},
        )
