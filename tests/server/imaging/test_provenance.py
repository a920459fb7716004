"""Provenance in every output: read back with c2pa's own Reader and with an independent XMP reader (exiftool).

Each output format (JPEG, PNG, WebP) carries the IPTC digital source type and the generator in XMP, and a
signed C2PA manifest whose actions and digital source type match what ran; the product pixels are those the
engine made; a second brand signs as itself; ``content_credentials = false`` keeps the IPTC label only.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from paqshot_server import credentials
from paqshot_server.checking import check_image, classical_product
from paqshot_server.cli.doctor import run_checks
from paqshot_server.credentials import (
    SELF_SIGNED_MARK,
    IdentityError,
    credential_files,
    load_identity,
    make_self_signed,
)
from paqshot_server.finishing import Finisher
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.imaging.packshot import render_packshot
from paqshot_server.imaging.presets import load_presets
from paqshot_server.imaging.provenance import IPTC_DST, read_manifest
from paqshot_server.settings import Settings
from PIL import Image
from support import product_jpeg

EXIFTOOL = shutil.which("exiftool")
MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
PRESETS = load_presets()
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _exiftool_xmp(data: bytes, tmp_path: Path, suffix: str) -> dict:
    if EXIFTOOL is None:
        pytest.fail("exiftool is missing: ./dev test installs libimage-exiftool-perl (Debian)")
    path = tmp_path / f"read.{suffix}"
    path.write_bytes(data)
    out = subprocess.run([EXIFTOOL, "-j", "-G1", "-a", str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


def _render(fmt: str, engine_source: str = "classical") -> tuple[object, bytes]:
    photo_bytes = product_jpeg()
    photo = Image.open(io.BytesIO(photo_bytes)).convert("RGB")
    result = render_packshot(photo, RenderOptions(long_side=512, output_format=fmt))
    return result, photo_bytes


@pytest.fixture
def signed_settings(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path / "home")
    make_self_signed(settings)
    return settings


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_every_format_carries_a_valid_manifest_and_the_iptc_label(
    fmt: str, signed_settings: Settings, tmp_path: Path
) -> None:
    result, photo = _render(fmt)
    finished = Finisher(signed_settings, PRESETS).finish(result, product_photo=photo, title="gen_test", checks=[])
    image = finished.result.images[0]
    # c2pa's own reader: valid signature and hashes; trusted once the test root is a trust anchor
    store = read_manifest(image.data, MIME[fmt])
    assert store["validation_state"] == "Valid", store.get("validation_status")
    root = (signed_settings.home / "c2pa" / "root.pem").read_bytes()
    assert read_manifest(image.data, MIME[fmt], trust_anchors_pem=root)["validation_state"] == "Trusted"
    manifest = store["manifests"][store["active_manifest"]]
    actions = next(a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))["data"]["actions"]
    assert [a["action"] for a in actions] == ["c2pa.created", "c2pa.placed", "c2pa.edited"]
    assert actions[0]["digitalSourceType"] == IPTC_DST + "compositeSynthetic"  # classical cut-out, drawn studio
    assert actions[2]["digitalSourceType"] == IPTC_DST + "algorithmicMedia"
    assert "background replaced" in actions[2]["description"]
    assert manifest["ingredients"][0]["relationship"] == "componentOf"
    assert manifest["claim_generator_info"][0]["name"] == signed_settings.brand.product_name
    assert SELF_SIGNED_MARK in manifest["signature_info"]["common_name"]
    # the thumbnail is labelled too
    assert read_manifest(image.thumbnail, image.thumbnail_mime)["validation_state"] == "Valid"
    # an independent XMP reader sees the IPTC digital source type and the generator, nothing of the input
    tags = _exiftool_xmp(image.data, tmp_path, fmt)
    assert tags["XMP-iptcExt:DigitalSourceType"] == IPTC_DST + "compositeSynthetic"
    assert tags["XMP-xmp:CreatorTool"].startswith(signed_settings.brand.product_name + " ")
    assert not any(k.startswith(("EXIF", "GPS", "IFD0", "ExifIFD")) for k in tags), tags
    # product pixels exact: the labelled file decodes to the very pixels the engine encoded
    before = np.asarray(Image.open(io.BytesIO(result.images[0].data)).convert("RGBA"))
    after = np.asarray(Image.open(io.BytesIO(image.data)).convert("RGBA"))
    assert np.array_equal(before, after)
    # so the product map's seal, made before labelling and signing, holds for the signed file (mapseal)
    outcome = check_image(image.data, ["amazon_main"], signed_settings, PRESETS, classical_product, "classical")
    assert outcome.product_source == "recorded"


def test_a_trained_cutout_is_labelled_composite_with_trained_media(signed_settings: Settings) -> None:
    from dataclasses import replace

    result, photo = _render("jpeg")
    as_model = replace(result, engine="onnx:u2netp", meta={**result.meta, "cutout_source": "u2netp"})
    finished = Finisher(signed_settings, PRESETS).finish(as_model, product_photo=photo, title="gen_t", checks=[])
    store = read_manifest(finished.result.images[0].data, "image/jpeg")
    actions = store["manifests"][store["active_manifest"]]["assertions"][0]["data"]["actions"]
    assert actions[0]["digitalSourceType"] == IPTC_DST + "compositeWithTrainedAlgorithmicMedia"
    assert any("u2netp" in a.get("description", "") for a in actions)
    assert finished.result.meta["digital_source_type"] == IPTC_DST + "compositeWithTrainedAlgorithmicMedia"


@pytest.mark.parametrize(
    "name",
    ["Ácme & Söhne <Bild> Studio Pro", "Atelier Noir Product Imagery Appliance", "Ä&" * 40],
    ids=["30 chars, & and non-ASCII", "38 chars", "80 chars"],
)
def test_a_brand_name_of_any_length_makes_a_test_certificate_that_signs(tmp_path: Path, name: str) -> None:
    """breaker14 B14-5: a product name of 18 characters or more put a common name over X.509's 64 characters into
    the test certificate: `init --self-signed-cert` exit 70 and no Content Credentials. Each name attribute now
    fits (RFC 5280's 64), the mark stays whole, and the brand's name is whole wherever it fits."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    brand = tmp_path / "brand.toml"
    brand.write_text(f'name = {json.dumps(name)}\n[server]\nslug = "acme"\nenv_prefix = "ACME_"\n')
    settings = Settings(home=tmp_path / "home", brand_file=str(brand))
    assert settings.brand.product_name == name
    files = make_self_signed(settings)
    leaf, root = x509.load_pem_x509_certificates(files.cert.read_bytes())
    leaf.verify_directly_issued_by(root)
    for cert in (leaf, root):
        values = {a.oid: a.value for a in cert.subject}
        assert all(len(str(v).encode()) <= 64 for v in values.values()), values  # as cryptography counts
        assert str(values[NameOID.COMMON_NAME]).endswith(f" ({SELF_SIGNED_MARK})")
        if len(name.encode()) <= 64:
            assert values[NameOID.ORGANIZATION_NAME] == name
        if len(name.encode()) <= 64 - len(f" ({SELF_SIGNED_MARK})"):
            assert values[NameOID.COMMON_NAME] == f"{name} ({SELF_SIGNED_MARK})"
    result, photo = _render("png")
    finished = Finisher(settings, PRESETS).finish(result, product_photo=photo, title="gen_long", checks=[])
    store = read_manifest(finished.result.images[0].data, "image/png")
    assert store["validation_state"] == "Valid", store.get("validation_status")
    assert SELF_SIGNED_MARK in store["manifests"][store["active_manifest"]]["signature_info"]["common_name"]


def test_a_second_brand_signs_as_itself(tmp_path: Path) -> None:
    brand = tmp_path / "brand.toml"
    brand.write_text('name = "Noir Studio"\n[server]\nslug = "noir"\nenv_prefix = "NOIR_"\n')
    settings = Settings(home=tmp_path / "home", brand_file=str(brand))
    make_self_signed(settings)
    result, photo = _render("png")
    finished = Finisher(settings, PRESETS).finish(result, product_photo=photo, title="gen_noir", checks=[])
    data = finished.result.images[0].data
    store = read_manifest(data, "image/png")
    assert store["validation_state"] == "Valid"
    default_name = Settings().brand.product_name
    dumped = json.dumps(store)
    assert "Noir Studio" in dumped and default_name not in dumped
    assert default_name.encode() not in data  # nowhere in the file: XMP, manifest, certificate
    assert store["manifests"][store["active_manifest"]]["signature_info"]["issuer"] == "Noir Studio"


def test_credentials_off_keeps_the_iptc_label(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", content_credentials=False)
    make_self_signed(settings)  # present, but the setting says no
    result, photo = _render("jpeg")
    finished = Finisher(settings, PRESETS).finish(result, product_photo=photo, title="gen_off", checks=[])
    data = finished.result.images[0].data
    import c2pa

    with pytest.raises(c2pa.C2paError):
        read_manifest(data, "image/jpeg")
    tags = _exiftool_xmp(data, tmp_path, "jpg")
    assert tags["XMP-iptcExt:DigitalSourceType"] == IPTC_DST + "compositeSynthetic"
    assert finished.result.meta["content_credentials"] is False


def test_no_certificate_means_a_note_not_a_silent_gap(tmp_path: Path) -> None:
    result, photo = _render("jpeg")
    finished = Finisher(Settings(home=tmp_path / "h"), PRESETS).finish(
        result, product_photo=photo, title="g", checks=[]
    )
    assert any("no Content Credentials" in n for n in finished.result.notes)


def _spoil(settings: Settings, how: str) -> None:
    """Make the installed test identity one that cannot sign, as breaker17 B17-4 did."""
    files = credential_files(settings)
    if how == "expired":  # valid until now: a year on, as init's 365 days end
        for path in (files.cert, files.key):
            path.unlink()
        make_self_signed(settings, days=0)
    elif how == "mismatch":  # the key of another certificate
        files.key.write_bytes(make_self_signed(Settings(home=settings.home / "other")).key.read_bytes())
    else:
        files.cert.write_text("not a certificate\n")


@pytest.mark.parametrize(
    ("how", "words"),
    [("expired", "expired on"), ("mismatch", "not the private key"), ("garbage", "holds no PEM certificate")],
)
def test_a_certificate_that_cannot_sign_is_said_at_every_check_and_jobs_still_deliver(
    signed_settings: Settings, how: str, words: str
) -> None:
    # breaker17 B17-4: serve started, /readyz and doctor said OK, then every job failed "Generation failed
    # unexpectedly" (c2pa's signature error in the log). Now doctor fails in words naming the file, and each job
    # delivers its images unsigned with the reason in its notes.
    _spoil(signed_settings, how)
    time.sleep(0.01 if how != "expired" else 1.1)  # the test chain's end (days=0) is passed
    with pytest.raises(IdentityError, match=words):
        load_identity(signed_settings)
    check = next(c for c in run_checks(signed_settings) if c.name == "signing")
    assert check.level == "fail" and words in check.detail and "without Content Credentials" in check.detail
    result, photo = _render("jpeg")
    finished = Finisher(signed_settings, PRESETS).finish(result, product_photo=photo, title="g", checks=[])
    note = next(n for n in finished.result.notes if n.startswith("no Content Credentials"))
    assert words in note and str(credential_files(signed_settings).cert) in note
    assert finished.result.meta["content_credentials"] is False


def test_a_certificate_that_ends_while_a_worker_runs_stops_signing_in_words(
    signed_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    finisher = Finisher(signed_settings, PRESETS)
    identity, problem = finisher.identity()
    assert identity is not None and problem is None and identity.not_after is not None
    check = next(c for c in run_checks(signed_settings) if c.name == "signing")
    assert check.level == "ok" and "valid until" in check.detail
    ends = identity.not_after
    monkeypatch.setattr(credentials.time, "time", lambda: ends + 1)  # a year on, the same worker process
    result, photo = _render("jpeg")
    finished = finisher.finish(result, product_photo=photo, title="g", checks=[])
    assert any("no Content Credentials: the signing certificate expired on" in n for n in finished.result.notes)
    assert finished.result.meta["content_credentials"] is False


def test_init_makes_a_self_signed_certificate_and_says_so(tmp_path: Path) -> None:
    home = tmp_path / "data"
    env = {"PATH": "/usr/bin:/bin", "PAQSHOT_HOME": str(home)}
    cli = [str(Path(sys.executable).parent / "paqshot"), "init", "--self-signed-cert"]
    out = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert "SELF-SIGNED TEST certificate" in out.stdout and "untrusted" in out.stdout
    assert (home / "c2pa" / "key.pem").stat().st_mode & 0o777 == 0o600
    again = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=180)
    assert "exists" in again.stdout  # never overwrites an operator's identity


def _actions(store: dict) -> list[dict]:
    manifest = store["manifests"][store["active_manifest"]]
    return next(a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))["data"]["actions"]


def _placed_a_photograph_on(store: dict) -> None:
    """What a manifest of a product on a backdrop photograph holds (breaker13 B13-2): both photographs as
    ingredients, each placed, and a background action that claims no made pixels (the plate is a capture)."""
    assert store["validation_state"] == "Valid", store.get("validation_status")
    manifest = store["manifests"][store["active_manifest"]]
    ingredients = manifest["ingredients"]
    assert [i["title"] for i in ingredients] == ["product photo", "backdrop photograph"]
    assert {i["relationship"] for i in ingredients} == {"componentOf"}
    actions = _actions(store)
    placed = [a["parameters"]["ingredients"][0]["url"] for a in actions if a["action"] == "c2pa.placed"]
    assert [url.rsplit("/", 1)[-1] for url in placed] == [i["label"] for i in ingredients]
    background = actions[-1]
    assert background["description"].startswith("background replaced: a backdrop photograph")
    assert "digitalSourceType" not in background
    assert actions[0]["digitalSourceType"] == IPTC_DST + "compositeSynthetic"


def test_a_product_on_a_backdrop_photograph_names_the_photograph_as_an_ingredient(signed_settings: Settings) -> None:
    from paqshot_server.imaging.plates.plate import LoadedPlate, PlateInfo
    from paqshot_server.imaging.plates.render import render_on_plate

    plate_file = (FIXTURES / "plates" / "kitchen_marble.jpg").read_bytes()
    plate = LoadedPlate(PlateInfo(None), Image.open(io.BytesIO(plate_file)).convert("RGB"), plate_file)
    photo = product_jpeg()
    result = render_on_plate(
        Image.open(io.BytesIO(photo)).convert("RGB"), RenderOptions(style="studio_packshot", long_side=256), [plate]
    )
    finished = Finisher(signed_settings, PRESETS).finish(result, product_photo=photo, title="gen_p", checks=[])
    image = finished.result.images[0]
    _placed_a_photograph_on(read_manifest(image.data, "image/jpeg"))
    _placed_a_photograph_on(read_manifest(image.thumbnail, image.thumbnail_mime))


def test_a_library_plate_is_the_ingredient_of_a_job_on_it(tmp_path: Path) -> None:
    """Through the API and a worker: a plate added to the library, a studio packshot on it, its manifest."""
    from litestar.testing import TestClient
    from paqshot_server.app import create_app
    from paqshot_server.jobs.context import WorkerContext
    from paqshot_server.jobs.runner import process
    from support import b64, make_key

    settings = Settings(home=tmp_path / "home", output_long_side=256)
    make_self_signed(settings)
    key = make_key(settings)
    with TestClient(create_app(settings)) as client:
        body = {"image": b64((FIXTURES / "plates" / "kitchen_marble.jpg").read_bytes()), "tags": ["kitchen"]}
        plate = client.post("/v1/backdrops", json=body, headers=key.headers)
        assert plate.status_code == 201, plate.text
        job = {"product_image": b64(product_jpeg()), "style": "studio_packshot", "backdrop": plate.json()["id"]}
        job_id = client.post("/v1/generate", json=job, headers=key.headers).json()["id"]
        assert process(WorkerContext(settings), job_id) == "completed"
        done = client.get(f"/v1/generate/{job_id}", headers=key.headers).json()
        data = client.get(done["image_url"].removeprefix(settings.base_url)).content
    _placed_a_photograph_on(read_manifest(data, "image/jpeg"))


def test_a_transparent_packshot_says_its_background_was_removed(signed_settings: Settings) -> None:
    """breaker13 B13-3: "background replaced: plain studio background" on an image without any background."""
    photo = product_jpeg()
    options = RenderOptions(long_side=256, background="transparent", output_format="png")
    result = render_packshot(Image.open(io.BytesIO(photo)).convert("RGB"), options)
    finished = Finisher(signed_settings, PRESETS).finish(result, product_photo=photo, title="gen_t", checks=[])
    actions = _actions(read_manifest(finished.result.images[0].data, "image/png"))
    assert actions[-1]["description"].startswith("background removed")
    assert "digitalSourceType" not in actions[-1]  # no pixels were made for it
    assert [a["action"] for a in actions] == ["c2pa.created", "c2pa.placed", "c2pa.edited"]
