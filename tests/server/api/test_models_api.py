"""Installed models change what the appliance does: /v1/models, capabilities, the studio engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient
from paqshot_server.inference.store import ModelStore
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from support import Key, b64, product_jpeg

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "models"


def test_no_models_means_classical_studio(client: TestClient, key: Key) -> None:
    assert client.get("/v1/models", headers=key.headers).json() == {"data": [], "providers": []}
    styles = {s["name"]: s for s in client.get("/v1/capabilities", headers=key.headers).json()["styles"]}
    assert styles["studio_packshot"]["engine"] == "classical"


@pytest.mark.skipif(not (FIXTURES / "tiny-seg").is_dir(), reason="tiny segmentation fixture not built")
def test_installed_cutout_model_becomes_the_studio_engine(client: TestClient, key: Key, settings: Settings) -> None:
    ModelStore(settings.models_dir).install(FIXTURES / "tiny-seg", accept_licence=True)
    listed = client.get("/v1/models", headers=key.headers).json()
    assert [m["role"] for m in listed["data"]] == ["segmentation"]
    assert listed["providers"] == ["CPUExecutionProvider"]
    model_id = listed["data"][0]["id"]
    styles = {s["name"]: s for s in client.get("/v1/capabilities", headers=key.headers).json()["styles"]}
    assert styles["studio_packshot"]["engine"] == f"onnx:{model_id}"
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    job_id = client.post("/v1/generate", json=body, headers=key.headers).json()["id"]
    assert process(WorkerContext(settings), job_id) in ("completed", "failed")
    status = client.get(f"/v1/generate/{job_id}", headers=key.headers).json()
    assert status["status"] == "completed"
    assert status["engine"] == f"onnx:{model_id}"  # the result says which model cut the product out
    assert 0 <= status["confidence"] <= 1
