"""The served schema documents every field, and the docs page needs no CDN."""

from __future__ import annotations

import re

from litestar.testing import TestClient

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


def test_docs_page_is_self_contained(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/schema/openapi.json" in page.text
    external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", page.text)
    assert external == []  # offline studios have no CDN
