"""The served schema documents every field, and the docs page needs no CDN."""

from __future__ import annotations

import base64
import email.message
import hashlib
import importlib.metadata
import inspect
import re
from pathlib import Path

import litestar.openapi.plugins
import msgspec
import pytest
from litestar.testing import TestClient
from paqshot_server.api import docs
from paqshot_server.api.reference import ERRORS
from paqshot_server.api.wire import WebhookPayload, request_fields
from paqshot_server.errors import AppError, ServerError
from paqshot_server.imaging.review import CODES
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.delivery import payload
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from paqshot_server.storage import jobs as jobs_sql
from paqshot_server.storage.db import connect
from support import b64, make_key, product_jpeg

EXTENSIONS = ("seed", "negative_prompt", "num_variants", "shadow", "reflection", "padding", "output_format")
SPEC_FIELDS = (
    "product_image",
    "style",
    "scene_type",
    "background",
    "aspect_ratio",
    "people",
    "location",
    "prompt",
    "webhook_url",
)


def test_openapi_documents_spec_fields_and_extensions(client: TestClient) -> None:
    schema = client.get("/schema/openapi.json").json()
    request = schema["components"]["schemas"]["GenerateRequest"]
    assert set(SPEC_FIELDS + EXTENSIONS) <= set(request["properties"])
    assert set(request["required"]) == {"product_image", "style"}
    for name in EXTENSIONS:
        text = str(request["properties"][name])
        assert "Extension" in text, name  # clients can tell extensions from the spec's fields
    operations = [op for path in schema["paths"].values() for op in path.values() if isinstance(op, dict)]
    assert all(op.get("operationId") for op in operations)
    create = schema["paths"]["/v1/generate"]["post"]
    assert {"202", "400", "401", "403", "413", "422", "429", "500"} <= set(create["responses"])


def test_openapi_lists_every_review_code(client: TestClient) -> None:
    """A client can tell every reason a result may need review by its code (exposure and cut_by_frame: session 12)."""
    schema = client.get("/schema/openapi.json").json()
    code = schema["components"]["schemas"]["ReviewReason"]["properties"]["code"]
    assert code["enum"] == list(CODES)
    assert {"exposure", "cut_by_frame", "low_confidence"} <= set(code["enum"])


def litestar_schema_pages() -> set[str]:
    """Every page Litestar can serve under ``/schema``: each of its render plugins' default paths (so a UI a
    new Litestar adds is checked too), and the root."""
    plugins = [
        cls
        for _, cls in inspect.getmembers(litestar.openapi.plugins, inspect.isclass)
        if issubclass(cls, litestar.openapi.plugins.OpenAPIRenderPlugin) and not inspect.isabstract(cls)
    ]
    assert len(plugins) >= 6  # swagger, redoc, elements, rapidoc, scalar, json, yaml: the introspection works
    return {"/schema", "/schema/oauth2-redirect.html"} | {f"/schema{path}" for cls in plugins for path in cls().paths}


def test_every_schema_page_works_offline(client: TestClient) -> None:
    """Litestar's UI pages load their JavaScript from a CDN: none is served; their paths lead to the docs page
    (served from this appliance); the schema document itself stays."""
    served = {route.path for route in client.app.routes if route.path.startswith("/schema")}
    for path in sorted(litestar_schema_pages() | {p for p in served if "{" not in p}):
        response = client.get(path, follow_redirects=False)
        if path.endswith((".json", ".yaml", ".yml")):
            assert response.status_code == 200 and response.headers["content-type"].startswith("application/"), path
            assert re.search(r'^openapi: |"openapi":"3', response.text, re.MULTILINE), path
            continue
        assert response.status_code in (307, 404), (path, response.status_code)
        if response.status_code == 307:
            assert response.headers["location"] == docs.DOCS_PATH, path
        external = re.findall(r"""(?:src|href)=["']?((?:https?:)?//[^"' >]+)""", response.text)
        assert external == [], (path, external)
    assert client.get("/schema/swagger").url.path == docs.DOCS_PATH  # followed: the page that works offline


def request_bodies(doc: dict) -> dict[str, dict]:
    """Every request body schema of the served document, by component name."""
    names = set()
    for item in doc["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                for media in operation["requestBody"]["content"].values():
                    names.add(media["schema"]["$ref"].rsplit("/", 1)[-1])
    return {name: doc["components"]["schemas"][name] for name in names}


def test_every_request_field_has_an_example_the_docs_sample_uses(client: TestClient) -> None:
    """Redoc's request sample takes a property's own ``examples`` before its ``default`` (null for every
    optional field) and a body's ``examples`` before its rules across fields: each field, and each body, has a
    valid example where the sample reads it, so the docs show real values, not "string" and null."""
    from paqshot_server.api import backdrops, compliance
    from paqshot_server.api import request_bodies as req

    doc = client.get("/schema/openapi.json").json()
    bodies = request_bodies(doc)
    structs = {"GenerateRequest": req.GenerateRequest, "RerunRequest": req.RerunRequest}
    structs |= {"PriorityChange": req.PriorityChange, "CheckRequest": compliance.CheckRequest}
    structs |= {"BackdropRequest": backdrops.BackdropRequest}
    assert set(bodies) == set(structs)
    for name, body in bodies.items():
        struct = structs[name]
        hints = {f.name: f.type for f in msgspec.structs.fields(struct)}
        for field, prop in body["properties"].items():
            assert prop.get("examples"), f"{name}.{field} has no example where the sample reads it"
            for example in prop["examples"]:
                msgspec.convert(example, hints[field])  # valid for the field's own type and constraints
        (example,) = body["examples"]
        request = msgspec.convert(example, struct)  # the whole sample is a valid request
        assert example and all(example[k] == prop_example(body, k) for k in example)  # built from the fields'
        if name == "GenerateRequest":
            assert request.style == "studio_packshot" and request.product_image.startswith("https://")


def prop_example(body: dict, field: str) -> object:
    return body["properties"][field]["examples"][0]


def test_docs_page_is_self_contained(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/schema/openapi.json" in page.text
    external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", page.text)
    assert external == []  # offline studios have no CDN


def test_root_leads_to_the_docs(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/docs"


def test_redoc_is_served_locally_and_matches_its_recorded_digest(client: TestClient) -> None:
    page = client.get("/docs").text
    assert '<script src="/docs/redoc.standalone.js">' in page
    bundle = client.get("/docs/redoc.standalone.js")
    assert bundle.status_code == 200 and bundle.headers["content-type"].startswith("application/javascript")
    dist = importlib.metadata.distribution("drf-spectacular-sidecar")
    entry = next(f for f in dist.files or () if str(f).endswith("redoc/bundles/redoc.standalone.js"))
    recorded = base64.urlsafe_b64decode(entry.hash.value + "==")  # type: ignore[union-attr]
    assert hashlib.sha256(bundle.content).digest() == recorded
    assert b"Redoc" in bundle.content[:2000]


def test_a_tampered_bundle_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.metadata.distribution("drf-spectacular-sidecar")
    entry = next(f for f in real.files or () if str(f).endswith("redoc/bundles/redoc.standalone.js"))
    copy = tmp_path / "redoc.standalone.js"
    copy.write_bytes(Path(str(real.locate_file(entry))).read_bytes() + b"\n/* changed */")

    class Tampered:
        files = (entry,)

        @staticmethod
        def locate_file(_: object) -> Path:
            return copy

    monkeypatch.setattr(docs.importlib.metadata, "distribution", lambda _name: Tampered())
    docs.redoc_bundle.cache_clear()
    try:
        with pytest.raises(ServerError, match="does not match its recorded sha256"):
            docs.redoc_bundle()
    finally:
        docs.redoc_bundle.cache_clear()


def test_the_reference_documents_auth_every_error_code_webhooks_and_extensions(client: TestClient) -> None:
    schema = client.get("/schema/openapi.json").json()
    text = schema["info"]["description"]
    for section in ("# Authentication", "# Errors", "# Webhooks", "## Verifying both signatures", "# Extensions"):
        assert section in text
    codes = {cls.code for cls in _subclasses(AppError)}
    assert codes <= {code for _, code, _ in ERRORS} and all(f"`{code}`" in text for code in codes)
    assert "Authorization: Bearer pk_live_" in text and "X-Paqshot-Signature" in text and "webhook-signature" in text
    extensions = [f.name for f in request_fields() if f.extension]
    assert extensions and all(f"`{name}`" in text for name in extensions)
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    (hook,) = schema["webhooks"].values()
    body = hook["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"event", "id", "status", "image_url", "error", "needs_review"} <= set(body["properties"])
    assert {"X-Paqshot-Signature", "webhook-id", "webhook-timestamp", "webhook-signature"} == {
        p["name"] for p in hook["post"]["parameters"]
    }
    rerun = schema["paths"]["/v1/generate/{generation_id}/rerun"]["post"]
    assert "410" in rerun["responses"] and "input_expired" in rerun["responses"]["410"]["description"]


def test_real_webhook_bodies_are_what_the_reference_says(client: TestClient, settings: Settings) -> None:
    """The documented payload type decodes real completed and failed bodies (it refuses unknown fields)."""
    key = make_key(settings)
    ok = client.post(
        "/v1/generate", json={"product_image": b64(product_jpeg()), "style": "studio_packshot"}, headers=key.headers
    ).json()
    process(WorkerContext(settings), ok["id"])
    bad = client.post(
        "/v1/generate", json={"product_image": b64(product_jpeg()), "style": "studio_packshot"}, headers=key.headers
    ).json()
    client.post(f"/v1/generate/{bad['id']}/cancel", headers=key.headers)
    db = connect(settings.app_db)
    for job_id, state in ((ok["id"], "completed"), (bad["id"], "failed")):
        job = jobs_sql.get(db, job_id)
        assert job is not None and job.state == state
        body = payload(job, settings.base_url, b"secret")
        decoded = msgspec.convert(body, WebhookPayload)
        assert decoded.event == f"generation.{state}"


def _subclasses(cls: type) -> list[type]:
    return [sub for child in cls.__subclasses__() for sub in (child, *_subclasses(child))]


@pytest.mark.parametrize("path", ["/docs", "/docs/redoc.standalone.js", "/schema/openapi.json", "/metrics", "/healthz"])
def test_every_content_type_names_each_parameter_once(client: TestClient, path: str) -> None:
    """breaker15 B15-6: /docs and /metrics said "charset=utf-8; charset=utf-8" (Litestar adds the charset of text/*
    to one already given); RFC 9110 5.6.6: a parameter name occurs once."""
    response = client.get(path)
    assert response.status_code == 200, path
    message = email.message.Message()
    message["content-type"] = response.headers["content-type"]
    names = [name.lower() for name, _ in message.get_params()[1:]]
    assert len(names) == len(set(names)), response.headers["content-type"]
