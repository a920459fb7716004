"""Getting models onto the box: downloads with resume and digests, pull, the set-up's default model, installing
from a downloaded file, and the install-level folder every data folder reads. Served from loopback only."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from delivery_support import FileServer, catalogue_entry, sha256, tiny_onnx, wheel_with
from paqshot_server.inference import acquire
from paqshot_server.inference.acquire import identify, install_from, pull, setup_default
from paqshot_server.inference.fetch import DigestMismatch, DownloadCache, FetchError
from paqshot_server.inference.manifests import Download, ManifestError
from paqshot_server.inference.segmenters import load_default_segmenter
from paqshot_server.inference.store import INSTALL, LicenceNotAccepted, ModelStore, StoreError

MEMBER = "pkg/weights/model.onnx"


@pytest.fixture
def server() -> Iterator[FileServer]:
    srv = FileServer()
    yield srv
    srv.close()


def _download(server: FileServer, path: str, data: bytes, **extra: object) -> Download:
    server.files[path] = data
    return Download(url=server.url(path), digest=f"sha256:{sha256(data)}", path="model.onnx", **extra)  # type: ignore[arg-type]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith(".") and p.name not in (".lock",))


# ---- the downloader ------------------------------------------------------------------------------------------


def test_a_cut_download_resumes_where_it_stopped(server: FileServer, tmp_path: Path) -> None:
    data = tiny_onnx()
    download = _download(server, "/m.onnx", data, size=len(data))
    cache = DownloadCache(tmp_path / "cache")
    server.cut["/m.onnx"] = 4000  # the connection drops after 4,000 bytes
    with pytest.raises(FetchError):
        cache.fetch(download)
    part = cache.path(download).with_name(cache.path(download).name + ".part")
    assert part.stat().st_size == 4000 and not cache.path(download).exists()  # kept for the resume, not installed
    seen: list[tuple[int, int]] = []
    path, fetched = cache.fetch(download, progress=lambda done, total: seen.append((done, total)))
    assert fetched and path.read_bytes() == data and not part.exists()
    assert server.requests[-1] == ("/m.onnx", "bytes=4000-")  # only the rest was asked for
    assert seen[0][0] > 4000 and seen[-1] == (len(data), len(data))  # progress counts from the resumed offset
    again, fetched_again = cache.fetch(download)
    assert again == path and not fetched_again and len(server.requests) == 2  # cached: nothing fetched


def test_a_wrong_digest_is_refused_and_nothing_is_kept(server: FileServer, tmp_path: Path) -> None:
    data = tiny_onnx()
    server.files["/m.onnx"] = data
    wrong = Download(url=server.url("/m.onnx"), digest="sha256:" + "0" * 64, path="model.onnx")
    cache = DownloadCache(tmp_path / "cache")
    with pytest.raises(DigestMismatch, match="did not serve the expected file"):
        cache.fetch(wrong)
    assert list((tmp_path / "cache").iterdir()) == []  # no cache entry, no partial file


def test_an_unreachable_server_is_a_fetch_error(tmp_path: Path) -> None:
    download = Download(url="http://127.0.0.1:9/gone.onnx", digest="sha256:" + "0" * 64, path="m.onnx")
    with pytest.raises(FetchError, match="could not fetch"):
        DownloadCache(tmp_path / "cache").fetch(download)


def test_download_entries_are_validated() -> None:
    for bad, message in (
        ({"url": "ftp://x/y", "digest": "sha256:" + "0" * 64, "path": "a"}, "http"),
        ({"url": "https://x/y", "digest": "sha1:" + "0" * 40, "path": "a"}, "digest"),
        ({"url": "https://x/y", "digest": "md5:abc", "path": "a"}, "digest"),
        ({"url": "https://x/y", "digest": "md5:" + "0" * 32, "path": "../a"}, "inside the folder"),
    ):
        with pytest.raises(ManifestError, match=message):
            catalogue_entry("m", [bad])


# ---- pull ----------------------------------------------------------------------------------------------------


def test_pull_installs_a_model_that_runs(server: FileServer, tmp_path: Path) -> None:
    data = tiny_onnx()
    # The first source answers 404 (not served): the next one is tried.
    first = {"url": server.url("/missing.onnx"), "digest": f"sha256:{sha256(data)}", "path": "model.onnx"}
    wheel = wheel_with(MEMBER, data)
    server.files["/pkg-1.0-py3-none-any.whl"] = wheel
    second = {
        "url": server.url("/pkg-1.0-py3-none-any.whl"),
        "digest": f"md5:{hashlib.md5(wheel).hexdigest()}",
        "path": "model.onnx",
        "member": MEMBER,
    }
    store = ModelStore(tmp_path / "models", device="cpu")
    acquired = pull(store, catalogue_entry("pulled", [first, second]), cache=DownloadCache(tmp_path / "cache"))
    assert acquired.fetched == (second["url"],)
    model = store.get("pulled")
    assert store.verify("pulled")[0].ok and model.files == 1
    installed = model.manifest
    assert installed.files[0].sha256 == sha256(data)  # the sha256 of what was installed is recorded
    assert [d.url for d in installed.downloads] == [first["url"], second["url"]]  # and where it came from
    seg = load_default_segmenter(store.models_dir, device="cpu")
    assert seg is not None and seg.segment(np.full((64, 80, 3), 128, np.uint8)).alpha.shape == (64, 80)
    assert _leftovers(store.models_dir) == []


def test_pull_refuses_a_wrong_digest_and_installs_nothing(server: FileServer, tmp_path: Path) -> None:
    server.files["/m.onnx"] = tiny_onnx()
    bad = {"url": server.url("/m.onnx"), "digest": "sha256:" + "1" * 64, "path": "model.onnx"}
    store = ModelStore(tmp_path / "models", device="cpu")
    with pytest.raises(DigestMismatch):
        pull(store, catalogue_entry("bad", [bad]), cache=DownloadCache(tmp_path / "cache"))
    assert store.list() == [] and _leftovers(tmp_path) == []


def test_a_file_that_is_not_the_catalogued_one_is_refused(server: FileServer, tmp_path: Path) -> None:
    """The download's digest matches what the URL serves, but the model file inside is not the catalogue's."""
    other = tiny_onnx() + b"\0"
    download = _download(server, "/other.onnx", other)
    entry = catalogue_entry("pinned", [vars(download)], sha=sha256(tiny_onnx()))
    store = ModelStore(tmp_path / "models", device="cpu")
    with pytest.raises(DigestMismatch, match="sha256 differs"):
        pull(store, entry, cache=DownloadCache(tmp_path / "cache"))
    assert store.list() == []


def test_the_licence_gate_comes_before_any_download(server: FileServer, tmp_path: Path) -> None:
    download = _download(server, "/nc.onnx", tiny_onnx())
    entry = catalogue_entry("nc", [vars(download)], commercial_ok=False)
    store = ModelStore(tmp_path / "models", device="cpu")
    with pytest.raises(LicenceNotAccepted):
        pull(store, entry, cache=DownloadCache(tmp_path / "cache"))
    assert server.requests == []  # not a byte fetched
    pull(store, entry, cache=DownloadCache(tmp_path / "cache"), accept_licence=True)
    assert store.get("nc").licence_accepted


def test_an_entry_without_downloads_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="publishes no download"):
        pull(ModelStore(tmp_path / "m"), catalogue_entry("x", []), cache=DownloadCache(tmp_path / "c"))


# ---- installing from files an offline box was given -----------------------------------------------------------


def test_install_from_a_wheel_a_bare_file_or_a_folder(tmp_path: Path) -> None:
    data = tiny_onnx()
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    wheel.write_bytes(wheel_with(MEMBER, data))
    entry = catalogue_entry(
        "carried",
        [
            {
                "url": "https://example.org/pkg-1.0-py3-none-any.whl",
                "digest": f"sha256:{sha256(wheel.read_bytes())}",
                "path": "model.onnx",
                "member": MEMBER,
            }
        ],
        sha=sha256(data),
    )
    catalogue = {entry.id: entry}
    bare = tmp_path / "loose" / "model.onnx"
    bare.parent.mkdir()
    bare.write_bytes(data)
    for source in (wheel, bare, bare.parent, tmp_path):
        found, sources = identify(source, catalogue)
        assert found.id == "carried" and list(sources) == ["model.onnx"]
    store = ModelStore(tmp_path / "models", device="cpu")
    assert install_from(store, wheel, catalogue=catalogue).id == "carried"
    assert store.verify("carried")[0].ok
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(data[:-10])
    with pytest.raises(StoreError, match="no file here is one the model catalogue knows"):
        install_from(store, junk, catalogue=catalogue)


# ---- the set-up's default model and the install-level folder --------------------------------------------------


def test_setup_installs_once_for_every_data_folder(server: FileServer, tmp_path: Path) -> None:
    data = tiny_onnx()
    wheel = wheel_with(MEMBER, data)
    server.files["/default.whl"] = wheel
    entry = catalogue_entry(
        "default-seg",
        [
            {
                "url": server.url("/default.whl"),
                "digest": f"sha256:{sha256(wheel)}",
                "path": "model.onnx",
                "member": MEMBER,
            }
        ],
        sha=sha256(data),
    )
    install_dir = tmp_path / "venv" / "share" / "appliance" / "models"
    cache = DownloadCache(tmp_path / "cache")
    first = setup_default(tmp_path / "a" / "models", install_dir, cache=cache, manifest=entry)
    assert first.status == "installed" and first.fetched == (server.url("/default.whl"),)
    assert first.model.scope == INSTALL and (install_dir / "default-seg" / "model.onnx").read_bytes() == data
    # Another data folder of the same installation: already there, nothing fetched, not even from the cache.
    shutil.rmtree(cache.folder)
    second = setup_default(tmp_path / "b" / "models", install_dir, cache=cache, manifest=entry)
    assert second.status == "present" and len(server.requests) == 1
    fresh = ModelStore(tmp_path / "c" / "models", device="cpu", shared=[install_dir])
    assert fresh.best("segmentation") is not None and fresh.best("segmentation").id == "default-seg"  # type: ignore[union-attr]
    assert not (tmp_path / "b").exists()  # the data folder was not touched


def test_setup_falls_back_to_the_data_folder_when_the_install_level_is_read_only(
    server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service user that cannot write the venv (root ran the set-up elsewhere) still gets the model."""
    entry = catalogue_entry("default-seg", [vars(_download(server, "/m.onnx", tiny_onnx()))])
    install_dir = tmp_path / "ro" / "models"
    monkeypatch.setattr(acquire, "writable", lambda folder: folder != install_dir)  # as a non-root user sees it
    done = setup_default(tmp_path / "home" / "models", install_dir, cache=DownloadCache(tmp_path / "c"), manifest=entry)
    assert done.model.scope == "data" and (tmp_path / "home" / "models" / "default-seg").is_dir()
    assert not install_dir.exists()


def test_the_data_folder_hides_and_cannot_remove_an_install_level_model(tmp_path: Path, fixture_models: Path) -> None:
    shared = ModelStore(tmp_path / "install", device="cpu")
    shared.install(fixture_models / "tiny-seg")
    store = ModelStore(tmp_path / "home" / "models", device="cpu", shared=[tmp_path / "install"])
    assert [(m.id, m.scope) for m in store.list()] == [("tiny-seg", INSTALL)]
    assert store.get("tiny-seg").path == tmp_path / "install" / "tiny-seg"
    with pytest.raises(StoreError, match="--shared"):
        store.remove("tiny-seg")
    store.install(fixture_models / "tiny-seg")  # the data folder's own copy wins
    assert [(m.id, m.scope) for m in store.list()] == [("tiny-seg", "data")]
    assert store.verify() and all(r.ok for r in store.verify())


def test_nothing_downloads_at_run_time() -> None:
    """Only the set-up and operator commands reach the downloader; the server, worker and engines never do."""
    import ast

    src = Path(__file__).resolve().parents[3] / "server" / "src" / "paqshot_server"
    allowed = {"cli/models.py", "inference/acquire.py"}
    for path in src.rglob("*.py"):
        rel = path.relative_to(src).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or "", *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            inside = rel.startswith("inference/")  # there a relative `.fetch` is the downloader too
            if any(n.split(".")[-1] in ("fetch", "acquire") and ("inference" in n or inside) for n in names):
                assert rel in allowed, f"{rel} imports the downloader"
