"""A stored file's name is durable before ``put`` returns: the file is fsynced, renamed, then its folder fsynced
(and the store's root when the folder is new), so a 202'd photo survives a power cut with its name."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from paqshot_server.storage import files as files_module
from paqshot_server.storage.files import FileStore


def test_put_fsyncs_the_file_then_its_folder_after_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[tuple[str, bool]] = []  # (what, whether the target name existed then)
    store = FileStore(tmp_path / "files")
    name = "gen_01jabcdefghjkmnpqrstvwxyz0_input.jpg"
    real_fsync = os.fsync

    def recording(fd: int) -> None:
        target = Path(os.readlink(f"/proc/self/fd/{fd}"))
        kind = "folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        synced.append(
            (f"{kind} {target.relative_to(tmp_path)}" if kind == "folder" else kind, store.path(name).exists())
        )
        real_fsync(fd)

    monkeypatch.setattr(files_module.os, "fsync", recording)
    store.put(name, b"photo")
    shard = store.path(name).parent.name
    assert synced == [("file", False), (f"folder files/{shard}", True), ("folder files", True)]
    synced.clear()
    store.put(name.replace("input", "hint"), b"hint")  # the shard folder exists now: the root is not synced again
    assert synced == [("file", True), (f"folder files/{shard}", True)]


def test_a_failed_folder_fsync_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileStore(tmp_path / "files")
    name = "gen_01jabcdefghjkmnpqrstvwxyz0_input.jpg"
    real_fsync = os.fsync

    def failing_for_folders(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(files_module.os, "fsync", failing_for_folders)
    with pytest.raises(OSError, match="Input/output"):
        store.put(name, b"photo")
    assert not store.exists(name)
    assert [p.name for p in store.path(name).parent.iterdir()] == []
