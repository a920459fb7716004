"""The whole API under a partner brand: no default-brand string in any response, header or webhook."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from litestar.testing import TestClient
from paqshot_server.app import create_app
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.dispatcher import dispatch_due
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from support import Receiver, b64, make_key, product_jpeg

BRAND = Path(__file__).resolve().parents[3] / "packaging" / "brands" / "noir" / "brand.toml"


def test_partner_brand_everywhere(settings: Settings, tmp_path: Path) -> None:
    """A partner that renamed everything, its command too: the sample brand keeps the reference program
    (``server_executable = "paqshot"``, so its hints truthfully name it); this partner installs ``noir``."""
    renamed = tmp_path / "brand.toml"
    text = BRAND.read_text()
    assert 'server_executable = "paqshot"' in text
    renamed.write_text(text.replace('server_executable = "paqshot"', 'server_executable = "noir"'))
    branded = replace(settings, brand_file=str(renamed))
    brand = branded.brand
    assert brand.product_name != "Paqshot" and brand.signature_header != "X-Paqshot-Signature"
    key = make_key(branded, key_prefix=brand.key_prefix, secret_prefix=brand.webhook_secret_prefix)
    receiver = Receiver()
    seen: list[str] = []
    try:
        with TestClient(create_app(branded)) as client:

            def call(method: str, path: str, **kwargs: object) -> None:
                response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
                seen.append(response.text)
                seen.extend(f"{k}: {v}" for k, v in response.headers.items())

            body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", "webhook_url": receiver.url}
            response = client.post("/v1/generate", json=body, headers=key.headers)
            job_id = response.json()["id"]
            ctx = WorkerContext(branded)
            process(ctx, job_id)
            dispatch_due(ctx)
            for method, path, kwargs in [
                ("GET", f"/v1/generate/{job_id}", {"headers": key.headers}),
                ("GET", "/v1/generations", {"headers": key.headers}),
                ("GET", "/v1/capabilities", {"headers": key.headers}),
                ("GET", "/v1/models", {"headers": key.headers}),
                ("GET", "/schema/openapi.json", {}),
                ("GET", "/docs", {}),
                ("GET", "/metrics", {}),
                ("GET", "/readyz", {}),
                ("GET", "/v1/generations", {}),
                ("POST", "/v1/generate", {"json": {"style": "lifestyle"}, "headers": key.headers}),
                ("POST", "/v1/generate", {"json": {**body, "style": "lifestyle"}, "headers": key.headers}),
                ("GET", "/nowhere", {}),
            ]:
                call(method, path, **kwargs)
        assert brand.product_name in "\n".join(seen)  # the partner's name is what shows
        hook = receiver.requests[0]
        assert hook["headers"][brand.signature_header] and hook["headers"]["User-Agent"].startswith("Noir-Appliance/")
        seen.extend(f"{k}: {v}" for k, v in hook["headers"].items())
        seen.append(hook["body"].decode())
        assert key.clear.startswith(brand.key_prefix) and key.webhook_secret.startswith(brand.webhook_secret_prefix)
    finally:
        receiver.close()
    leaks = [text for text in seen if "paqshot" in text.lower()]
    assert not leaks, leaks[:3]
