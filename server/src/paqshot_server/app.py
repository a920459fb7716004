"""``create_app(settings)``: the only place that wires routes, dependencies, error handlers and OpenAPI."""

from __future__ import annotations

import logging
import math

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide

from . import __version__
from .api.auth import current_key
from .api.backdrops import BackdropController
from .api.compliance import ComplianceController
from .api.docs import DocsController
from .api.errors import exception_handlers
from .api.files import FileController
from .api.generations import GenerationController
from .api.jsonbody import JsonRequest
from .api.meta import MetaController, ModelsController
from .api.metrics import Metrics, MetricsController
from .api.openapi import openapi_config, serve_exact_schema
from .api.request_bodies import IMAGE_FIELDS
from .api.requestid import request_id_middleware
from .api.state import ApiState
from .api.webhooks import WebhookController
from .settings import Settings

log = logging.getLogger(__name__)

# Room for the JSON around the images (prompts, URLs, options): generous, and small beside any image.
_JSON_ROOM = 64 * 1024


def max_body_bytes(settings: Settings) -> int:
    """Largest request body: every image field of a request at ``max_image_bytes``, base64-encoded (4 characters
    per 3 bytes), plus the JSON around them. Larger bodies are refused with 413 before they are read."""
    return len(IMAGE_FIELDS) * 4 * math.ceil(settings.max_image_bytes / 3) + _JSON_ROOM


def create_app(settings: Settings) -> Litestar:
    """Build the API for ``settings``. Nothing is opened until the first request or startup."""
    api = ApiState(settings)
    metrics = Metrics(api)

    def provide_api() -> ApiState:
        return api

    def on_startup() -> None:
        settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)  # private: secrets and customer data
        api.db.autocheckpoint = False  # no request's commit checkpoints the WAL: the checkpointer's thread does
        api.db.get()  # migrate before the first request
        api.checkpointer.start()
        api.secret  # noqa: B018 - create the signing secret before any URL is made
        api.presets  # noqa: B018 - a bad preset file stops start-up with its name and problem
        if settings.allow_private_network:
            log.warning("private networks ALLOWED: image URLs and webhooks may reach loopback/LAN addresses")
        if settings.allowed_networks:
            log.warning("networks allowed for outgoing requests: %s", ", ".join(settings.allowed_networks))

    def on_shutdown() -> None:
        api.checkpointer.stop()
        api.db.close()
        api.queue.close()

    app = Litestar(
        route_handlers=[
            GenerationController,
            ComplianceController,
            FileController,
            MetaController,
            ModelsController,
            DocsController,
            MetricsController,
            WebhookController,
            BackdropController,
        ],
        dependencies={
            "api": Provide(provide_api, sync_to_thread=False),
            "key": Provide(current_key, sync_to_thread=False),
        },
        exception_handlers=exception_handlers(settings, api.db),  # type: ignore[arg-type]
        openapi_config=openapi_config(settings.brand, __version__),
        request_max_body_size=max_body_bytes(settings),
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        state=State({"metrics": metrics, "api": api}),  # "api": for handlers that skip injection
        middleware=[request_id_middleware, metrics.middleware],
        logging_config=None,  # the CLI configures logging (text or JSON); the app never does
        debug=False,
        request_class=JsonRequest,
    )
    serve_exact_schema(app, settings, lambda: api.presets.ids())
    return app
