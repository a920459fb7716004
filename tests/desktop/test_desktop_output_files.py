"""The desktop's catalogue never writes over a file it did not make (breaker17 B17-5, the command's rule:
docs/presets.md, "Files already there"). The kind: output names that collide with existing files. A row whose SKU
was its photo's name, rendered into the photos' folder (where the folder dialog starts), replaced the photo with
a green "1 rendered". Should: a photo the catalogue reads never replaced; another file there only when the user
answers Replace; the catalogue's own earlier outputs replaced on a re-run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from desktop_support import job_json, mock_client, product_bytes
from paqshot_desktop.catalogue import CatalogueRun, files_in_the_way
from paqshot_desktop.wire import Capabilities

RENDERED = b"\xff\xd8 the appliance's packshot"


def appliance() -> Any:
    """A client of an appliance that completes every job at once with RENDERED as its image."""
    made = iter(range(1, 1000))

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path == "/v1/generate":
            return httpx.Response(202, json=job_json(f"gen_{next(made)}", "queued"))
        if path.startswith("/v1/generate/"):
            job_id = path.rsplit("/", 1)[-1]
            url = f"http://appliance.test/files/{job_id}.jpg"
            return httpx.Response(200, json=job_json(job_id, "completed", image_url=url, width=8, height=8))
        if path.startswith("/files/"):
            return httpx.Response(200, content=RENDERED)
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "no"}})

    return mock_client(handler)


def run(manifest: Path, out: Path, overwrite: bool = False) -> dict[str, dict[str, Any]]:
    catalogue = CatalogueRun(appliance(), Capabilities(), (), manifest, out, poll_s=0.0, overwrite=overwrite)
    return {line["sku"]: line for line in catalogue.run(lambda _step: None)}


def test_a_catalogue_keeps_its_photos_and_files_it_did_not_make(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    photo = product_bytes("JPEG", (320, 240))
    (photos / "shoe.jpg").write_bytes(photo)
    (photos / "bag.jpg").write_bytes(product_bytes("JPEG", (240, 320)))
    manifest = photos / "m.csv"
    manifest.write_text("sku,image\nshoe,shoe.jpg\n")

    assert files_in_the_way(manifest, photos) == []  # a photo is never replaced: no question to ask
    lines = run(manifest, photos, overwrite=True)
    assert lines["shoe"]["status"] == "failed" and "is a photo this catalogue reads" in lines["shoe"]["error"]
    assert (photos / "shoe.jpg").read_bytes() == photo

    out = tmp_path / "out"
    out.mkdir()
    (out / "SHOE.png").write_bytes(b"the user's own file")  # another extension, another case: still its name
    assert files_in_the_way(manifest, out) == [out / "SHOE.png"]
    (out / "shoe.jpg").write_bytes(b"the user's own file")
    assert files_in_the_way(manifest, out) == [out / "SHOE.png", out / "shoe.jpg"]
    kept = run(manifest, out)
    assert kept["shoe"]["status"] == "failed" and "this catalogue did not make it" in kept["shoe"]["error"]
    assert (out / "shoe.jpg").read_bytes() == b"the user's own file"

    replaced = run(manifest, out, overwrite=True)  # the user answered Replace
    assert replaced["shoe"]["status"] == "completed" and (out / "shoe.jpg").read_bytes() == RENDERED
    assert files_in_the_way(manifest, out) == [out / "SHOE.png"]  # shoe.jpg is the catalogue's own now
    (photos / "shoe.jpg").write_bytes(product_bytes("JPEG", (400, 240)))  # a changed photo renders again
    (out / "shoe.jpg").write_bytes(b"stale")
    again = run(manifest, out)
    assert again["shoe"]["status"] == "completed" and (out / "shoe.jpg").read_bytes() == RENDERED
