"""The desktop's wire types decode exactly what the server sends (the only place that imports both)."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import TestClient
from paqshot_desktop.wire import Capabilities, Job, JobPage, decode
from paqshot_server.app import create_app
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from support import b64, make_key, product_jpeg


def test_jobs_pages_and_capabilities_round_trip(tmp_path: object) -> None:
    settings = Settings(home=tmp_path / "home", output_long_side=1024)  # type: ignore[operator]
    key = make_key(settings)
    with TestClient(create_app(settings)) as client:
        body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", "aspect_ratio": "4:3"}
        accepted = decode(Job, client.post("/v1/generate", json=body, headers=key.headers).json())
        assert accepted.status == "processing" and accepted.aspect_ratio == "4:3"
        assert accepted.estimated_seconds is not None
        running = decode(Job, client.get(f"/v1/generate/{accepted.id}", headers=key.headers).json())
        assert not running.finished and running.input_url
        process(WorkerContext(settings), accepted.id)
        done = decode(Job, client.get(f"/v1/generate/{accepted.id}", headers=key.headers).json())
        assert done.finished and done.status == "completed" and done.engine == "classical"
        assert done.all_images and done.all_images[0].width == 1024 and done.all_images[0].height == 768
        page = decode(JobPage, client.get("/v1/generations?limit=1", headers=key.headers).json())
        assert [j.id for j in page.data] == [accepted.id] and page.total == 1 and not page.has_more
        caps = decode(Capabilities, client.get("/v1/capabilities", headers=key.headers).json())
        served = client.get("/schema/openapi.json").json()["components"]["schemas"]["GenerateRequest"]["properties"]
        assert {f.name for f in caps.fields} == set(served)  # every field the server accepts, nothing else
        assert caps.field("shadow") is not None and caps.field("shadow").extension  # type: ignore[union-attr]
        assert {s.name for s in caps.styles} == {"studio_packshot", "lifestyle", "editorial", "mockup"}
        assert caps.limits.max_image_bytes == settings.max_image_bytes


def test_the_desktops_default_address_is_where_the_server_listens_by_default() -> None:
    from urllib.parse import urlsplit

    from paqshot_desktop.branding import Brand, load_brand

    brands_dir = Path(__file__).resolve().parents[2] / "packaging" / "brands"
    port = Settings().port
    for brand in (Brand(), *(load_brand(folder) for folder in sorted(brands_dir.iterdir()) if folder.is_dir())):
        assert urlsplit(brand.default_server_url).port == port, brand.id
