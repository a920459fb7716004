"""Every setting is declared once, documented in the README, and resolved in the documented order."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from paqshot_server.settings import SETTINGS, Setting, SettingError, Settings, load_settings, settings_table

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
NOIR = ROOT / "packaging" / "brands" / "noir" / "brand.toml"


def test_declarations_are_the_settings_fields() -> None:
    declared = {s.name: s.default for s in SETTINGS}
    actual = {f.name: getattr(Settings(), f.name) for f in fields(Settings)}
    assert declared == actual
    assert all(s.help for s in SETTINGS)


def test_the_readme_table_is_generated_from_the_declarations() -> None:
    table = settings_table()
    assert table in README.read_text(), "README's settings table is out of date; replace it with:\n" + table


def test_a_partner_brand_renames_the_variables(tmp_path: Path) -> None:
    env = {"PAQSHOT_BRAND_FILE": str(NOIR), "NOIR_HOME": str(tmp_path / "noir"), "NOIR_PORT": "9400"}
    resolved = load_settings({**env, "PAQSHOT_PORT": "9999", "PAQSHOT_HOME": str(tmp_path / "other")})
    assert resolved.brand.env_prefix == "NOIR_" and resolved.brand_file == str(NOIR)
    assert resolved.port == 9400 and resolved.home == tmp_path / "noir"  # the brand's names win
    (tmp_path / "noir").mkdir()
    (tmp_path / "noir" / "config.toml").write_text("retention_days = 2\n")
    assert load_settings(env).retention_days == 2  # the config file is found through the brand's HOME
    assert "NOIR_PORT" in settings_table("NOIR_")


def test_under_a_brand_the_reference_names_the_shipped_units_set_are_still_read(tmp_path: Path) -> None:
    """breaker14 B14-7: the systemd units, Dockerfile and compose file set PAQSHOT_HOME, PAQSHOT_PUBLIC_URL,
    PAQSHOT_REQUIRE_GPU; with a brand file added they were ignored without a word (a new empty appliance in
    ./data, links without the public URL, require_gpu off). Each is read where the brand's own name is not set."""
    (tmp_path / "units").mkdir()
    (tmp_path / "units" / "config.toml").write_text("retention_days = 3\n")
    env = {
        "PAQSHOT_BRAND_FILE": str(NOIR),
        "PAQSHOT_HOME": str(tmp_path / "units"),
        "PAQSHOT_PUBLIC_URL": "https://images.example.com",
        "PAQSHOT_REQUIRE_GPU": "true",
        "PAQSHOT_PORT": "9999",
        "NOIR_PORT": "9400",
    }
    resolved = load_settings(env)
    assert resolved.home == tmp_path / "units" and resolved.retention_days == 3  # its config file too
    assert resolved.public_url == "https://images.example.com" and resolved.require_gpu is True
    assert resolved.port == 9400  # the brand's name wins where both are set
    with pytest.raises(ValueError, match="environment variable PAQSHOT_PORT"):  # an error names the one read
        load_settings({"PAQSHOT_BRAND_FILE": str(NOIR), "PAQSHOT_PORT": "many"})


def test_the_brand_file_cannot_come_from_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(f"brand_file = '{NOIR}'\n")
    with pytest.raises(ValueError, match="BRAND_FILE"):
        load_settings({"PAQSHOT_HOME": str(tmp_path)})


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


def test_a_lease_shorter_than_three_heartbeats_is_refused_in_words() -> None:
    # breaker17 B17-2: PAQSHOT_LEASE_SECONDS=1 with the shipped 10 s heartbeat was taken; a busy job's lease ran out
    # between beats, it was re-queued twice and failed "the worker stopped 3 times", though no worker stopped.
    for env in (
        {"PAQSHOT_LEASE_SECONDS": "1"},
        {"PAQSHOT_LEASE_SECONDS": "4", "PAQSHOT_HEARTBEAT_SECONDS": "1.5"},
        {"PAQSHOT_HEARTBEAT_SECONDS": "30"},
    ):
        with pytest.raises(SettingError) as refused:
            load_settings({"PAQSHOT_HOME": "/nonexistent", **env})
        words = str(refused.value)
        assert "heartbeat_seconds" in words and "lease_seconds" in words and "run again" in words, words
        assert next(iter(env)) in words, words  # names where the value came from
    kept = load_settings(
        {"PAQSHOT_HOME": "/nonexistent", "PAQSHOT_LEASE_SECONDS": "3", "PAQSHOT_HEARTBEAT_SECONDS": "1"}
    )
    assert (kept.lease_seconds, kept.heartbeat_seconds) == (3, 1.0)


def test_public_url_drives_every_link() -> None:
    assert Settings(public_url="https://img.example.com/").base_url == "https://img.example.com"
    assert Settings(host="::1", port=8080).base_url == "http://[::1]:8080"


NUMBERS = [s for s in SETTINGS if s.type in (int, float)]


@pytest.mark.parametrize("setting", NUMBERS, ids=[s.name for s in NUMBERS])
def test_every_number_setting_refuses_values_that_are_not_finite_or_out_of_its_range(setting: Setting) -> None:
    # breaker8 F3: PAQSHOT_WEBHOOK_TIMEOUT_SECONDS=nan started, then failed every webhook for good; inf held a
    # hung receiver's slot for ever; -1 and 0 were taken where they make no sense.
    variable = f"PAQSHOT_{setting.name.upper()}"
    bad = ["nan", "inf", "-inf", "1e999"]
    if setting.minimum is not None:
        bad.append(str(setting.minimum - 1))
    if setting.maximum is not None:
        bad.append(str(setting.maximum + 1))
    for value in bad:
        with pytest.raises(SettingError) as refused:
            load_settings({"PAQSHOT_HOME": "/nonexistent", variable: value})
        assert setting.name in str(refused.value) and variable in str(refused.value), refused.value
    assert setting.minimum is not None, f"{setting.name} has no minimum: give it the least value that makes sense"
    # breaker16 B16-10: PAQSHOT_RETENTION_DAYS=99999999999 started, then every job's end failed "year out of range"
    # and the job stayed running; WEBHOOK_RETRY_SCALE=1e300 broke `webhooks list`.
    assert setting.maximum is not None, f"{setting.name} has no maximum: give it the greatest value that makes sense"


def test_an_operators_bad_setting_is_an_error_in_words_not_an_internal_one(tmp_path: Path) -> None:
    env = {**os.environ, "PAQSHOT_HOME": str(tmp_path), "PAQSHOT_WEBHOOK_CONCURRENCY": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "paqshot_server", "doctor"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 78, done.stderr  # EX_CONFIG
    assert "internal error" not in done.stderr
    assert "webhook_concurrency" in done.stderr and "PAQSHOT_WEBHOOK_CONCURRENCY" in done.stderr, done.stderr


def test_every_duration_setting_has_a_maximum() -> None:
    # breaker8 F3, its other half: a deadline or lease of 1e9 s is as good as none (a hung webhook receiver or
    # slow client held its slot for ever), so every timeout, lease and interval is bounded above too.
    durations = [s for s in NUMBERS if s.name.endswith("_seconds")]
    assert len(durations) >= 7
    for setting in durations:
        assert setting.maximum is not None, f"{setting.name} has no maximum"
        with pytest.raises(SettingError, match=setting.name):
            load_settings({"PAQSHOT_HOME": "/nonexistent", f"PAQSHOT_{setting.name.upper()}": "1e9"})
