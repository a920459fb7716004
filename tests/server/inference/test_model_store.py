"""Model store and manifests: install / verify / list / remove, checksums, the licence gate."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from paqshot_server.inference.manifests import Manifest, ManifestError, dump_toml, scan_files
from paqshot_server.inference.store import LicenceNotAccepted, ModelNotFound, ModelStore, StoreError

REPO = Path(__file__).resolve().parents[3]


def _set_licence(folder: Path, licence: str, commercial_ok: bool) -> None:
    manifest = Manifest.load(folder)
    data = manifest.to_dict()
    data.update(licence=licence, commercial_ok=commercial_ok)
    (folder / "manifest.toml").write_text(dump_toml(data), encoding="utf-8")


def test_install_list_verify_remove(store: ModelStore, fixture_models: Path) -> None:
    installed = store.install(fixture_models / "tiny-sdxl-inpaint")
    assert installed.id == "tiny-sdxl-inpaint"
    assert installed.role == "inpainting"
    assert (store.models_dir / "tiny-sdxl-inpaint" / "unet" / "model.onnx").is_file()
    store.install(fixture_models / "tiny-seg")

    listed = store.list()
    assert [m.id for m in listed] == ["tiny-sdxl-inpaint", "tiny-seg"]  # priority 2 before 0
    record = listed[0].as_dict()
    assert record["licence"] == "Apache-2.0" and record["commercial_ok"] is True
    assert record["styles"] == ["lifestyle", "editorial", "mockup"]
    assert record["provider"] == "CPUExecutionProvider" and record["device"] == "cpu"
    json.dumps([m.as_dict() for m in listed])  # API-ready
    assert [m.id for m in store.list("segmentation")] == ["tiny-seg"]
    assert store.best("inpainting").id == "tiny-sdxl-inpaint"

    assert all(r.ok for r in store.verify())
    store.remove("tiny-seg")
    assert [m.id for m in store.list()] == ["tiny-sdxl-inpaint"]
    assert not (store.models_dir / "tiny-seg").exists()
    with pytest.raises(ModelNotFound):
        store.remove("tiny-seg")


def test_verify_detects_a_changed_file(store: ModelStore, fixture_models: Path) -> None:
    store.install(fixture_models / "tiny-sd")
    target = store.models_dir / "tiny-sd" / "vae_decoder" / "model.onnx"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different content: only the checksum can tell
    target.write_bytes(bytes(data))
    (result,) = store.verify()
    assert not result.ok
    assert result.problems == ("vae_decoder/model.onnx: checksum mismatch",)
    (store.models_dir / "tiny-sd" / "unet" / "model.onnx").unlink()
    (result,) = store.verify("tiny-sd")
    assert "unet/model.onnx: missing" in result.problems


def test_install_refuses_a_mismatching_export(store: ModelStore, model_copy) -> None:
    folder = model_copy("tiny-seg")
    data = bytearray((folder / "model.onnx").read_bytes())
    data[100] ^= 0x01
    (folder / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(StoreError, match="checksum mismatch"):
        store.install(folder)
    assert store.list() == []
    assert not (store.models_dir / "tiny-seg").exists()


def test_install_needs_checksums_and_a_manifest(store: ModelStore, model_copy, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no manifest"):
        store.install(tmp_path)
    folder = model_copy("tiny-seg")
    data = tomllib.loads((folder / "manifest.toml").read_text())
    data["files"][0]["sha256"] = ""
    (folder / "manifest.toml").write_text(dump_toml(data))
    with pytest.raises(StoreError, match="no sha256"):
        store.install(folder)


def test_licence_gate(store: ModelStore, model_copy) -> None:
    folder = model_copy("tiny-seg")
    _set_licence(folder, "CC-BY-NC-4.0", commercial_ok=False)
    with pytest.raises(LicenceNotAccepted, match="--accept-licence"):
        store.install(folder)
    assert store.list() == []
    model = store.install(folder, accept_licence=True)
    assert model.licence_accepted is True and model.commercial_ok is False


def test_reinstall_replaces(store: ModelStore, fixture_models: Path) -> None:
    first = store.install(fixture_models / "tiny-seg")
    second = store.install(fixture_models / "tiny-seg")
    assert [m.id for m in store.list()] == ["tiny-seg"]
    assert second.installed_at >= first.installed_at
    assert not [p for p in store.models_dir.iterdir() if p.name.startswith((".install-", ".old-"))]


def test_manifest_roundtrip_and_validation(fixture_models: Path) -> None:
    manifest = Manifest.load(fixture_models / "tiny-sdxl-inpaint")
    again = Manifest.from_dict(tomllib.loads(manifest.dumps()))
    assert again == manifest
    assert manifest.diffusion is not None and manifest.diffusion.pipeline == "sdxl"
    assert scan_files(fixture_models / "tiny-sdxl-inpaint") == manifest.files

    base = manifest.to_dict()
    for bad, message in (
        ({"role": "upscaler"}, "role"),
        ({"id": "Bad Id"}, "id"),
        ({"files": [{"path": "../escape.onnx"}]}, "inside the folder"),
        ({"diffusion": {"scheduler": {"spacing": "karras"}}}, "spacing"),
        ({"commercial_ok": "yes"}, "commercial_ok"),
    ):
        with pytest.raises(ManifestError, match=message):
            Manifest.from_dict({**base, **bad})


def test_catalogue_manifests_parse_and_say_where_checksums_come_from() -> None:
    paths = sorted((REPO / "models" / "catalogue").glob("*.toml"))
    assert len(paths) >= 6
    ids = set()
    for path in paths:
        manifest = Manifest.load(path)
        ids.add(manifest.id)
        assert manifest.id == path.stem
        assert manifest.source.startswith("https://")
        if not all(f.sha256 for f in manifest.files):
            assert manifest.checksums, f"{path.name}: no checksums and no word on why"
        if "NC" in manifest.licence or "non-commercial" in manifest.licence.lower():
            assert manifest.commercial_ok is False
    assert {"birefnet-general", "sd15-inpainting", "sdxl-inpainting-0.1"} <= ids


def test_store_module_imports_no_server_frameworks() -> None:
    import ast

    banned = {"litestar", "huey", "sqlite_utils", "torch", "diffusers", "transformers", "optimum"}
    src = REPO / "server" / "src" / "paqshot_server" / "inference"
    for path in src.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in banned, f"{path.name} imports {name}"
            if isinstance(node, ast.ImportFrom) and node.level >= 2 and node.module:
                assert node.module.split(".")[0] not in {"storage", "api", "jobs"}, path.name
