"""Every setting is declared once, documented in the README, and resolved in the documented order."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from paqshot_server.settings import SETTINGS, Settings, load_settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_declarations_match_the_settings_type() -> None:
    declared = {s.name: s.default for s in SETTINGS}
    actual = {f.name: getattr(Settings(), f.name) for f in fields(Settings)}
    assert declared == actual


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting: object) -> None:
    text = README.read_text()
    assert f"`{setting.name}`" in text and f"`PAQSHOT_{setting.name.upper()}`" in text  # type: ignore[attr-defined]


def test_precedence_defaults_file_env_overrides(tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    (home / "config.toml").write_text("port = 9001\nretention_days = 3\nallow_private_network = true\n")
    env = {"PAQSHOT_HOME": str(home), "PAQSHOT_PORT": "9002"}
    resolved = load_settings(env, overrides={"retention_days": 5})
    assert resolved.home == home
    assert resolved.port == 9002  # environment beats the file
    assert resolved.retention_days == 5  # flags beat both
    assert resolved.allow_private_network is True  # from the file
    assert resolved.jpeg_quality == 92  # default


def test_bad_values_are_refused_with_the_setting_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="allow_private_network"):
        load_settings({"PAQSHOT_HOME": str(tmp_path), "PAQSHOT_ALLOW_PRIVATE_NETWORK": "maybe"})
    (tmp_path / "config.toml").write_text("colour = 'red'\n")
    with pytest.raises(ValueError, match="colour"):
        load_settings({"PAQSHOT_HOME": str(tmp_path)})


def test_public_url_drives_every_link() -> None:
    assert Settings(public_url="https://img.example.com/").base_url == "https://img.example.com"
    assert Settings(host="::1", port=8080).base_url == "http://[::1]:8080"
