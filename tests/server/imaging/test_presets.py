"""Presets as data: the built-ins load and cite their sources, a bad file stops start-up with its name and the
problem, an operator's folder adds and replaces presets, explicit values beat the preset's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from paqshot_server.errors import InvalidRequest
from paqshot_server.imaging.presets import BUILTIN_DIR, PresetError, load_presets, resolve_options

REQUIRED = {"amazon_main", "amazon_additional", "google_shopping", "ebay", "etsy", "shopify", "fashion_packshot"}
BIN = str(Path(sys.executable).parent / "paqshot")


def test_the_built_in_presets_load_and_cite_what_they_say() -> None:
    catalogue = load_presets()
    assert set(catalogue.ids()) >= REQUIRED
    for preset_id in REQUIRED:
        preset = catalogue.get(preset_id)
        assert preset.sources and all(s.url.startswith("http") and s.read and s.facts for s in preset.sources)
    amazon = catalogue.get("amazon_main")
    assert amazon.rules.background == "white" and amazon.rules.min_fill == 0.85
    assert amazon.rules.max_long_side == 10000 and amazon.render.shadow == "none"


def test_unknown_ids_name_the_known_ones() -> None:
    with pytest.raises(InvalidRequest, match="amazon_main"):
        load_presets().get("amazn")


def test_explicit_values_beat_the_preset() -> None:
    amazon = load_presets().get("amazon_main")
    resolved = resolve_options(amazon, {"shadow": "soft"})
    assert resolved["shadow"] == "soft" and resolved["background"] == "white" and resolved["long_side"] == 2000


BAD_FILES = {
    "unknown key": ('id = "x"\ntitle = "t"\ndescription = "d"\ncolour = 1\n', "colour"),
    "no sources": ('id = "x"\ntitle = "t"\ndescription = "d"\nsources = []\n', "sources"),
    "bad background": (
        'id = "x"\ntitle = "t"\ndescription = "d"\n[[sources]]\nurl = "https://e.com"\nread = "2026-01-01"\n'
        'facts = "f"\n[render]\nbackground = "mauve"\n',
        "render.background",
    ),
    "fill out of range": (
        'id = "x"\ntitle = "t"\ndescription = "d"\n[[sources]]\nurl = "https://e.com"\nread = "2026-01-01"\n'
        'facts = "f"\n[rules]\nmin_fill = 1.5\n',
        "min_fill",
    ),
    "not TOML": ("id = \n", "x.toml"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_preset_file_is_refused_with_its_name_and_problem(case: str, tmp_path: Path) -> None:
    text, expected = BAD_FILES[case]
    (tmp_path / "x.toml").write_text(text)
    with pytest.raises(PresetError, match=expected) as info:
        load_presets(tmp_path)
    assert "x.toml" in str(info.value)


def test_an_operator_folder_adds_and_replaces_presets(tmp_path: Path) -> None:
    own = (BUILTIN_DIR / "ebay.toml").read_text().replace("long_side = 1600", "long_side = 3000")
    (tmp_path / "ebay.toml").write_text(own)
    shop = (BUILTIN_DIR / "shopify.toml").read_text().replace('id = "shopify"', 'id = "my_shop"')
    (tmp_path / "my_shop.toml").write_text(shop)
    catalogue = load_presets(tmp_path)
    assert catalogue.get("ebay").render.long_side == 3000
    assert catalogue.get("my_shop").title == catalogue.get("shopify").title


def test_serve_and_worker_refuse_to_start_on_a_bad_preset(tmp_path: Path) -> None:
    presets = tmp_path / "presets"
    presets.mkdir()
    (presets / "broken.toml").write_text('id = "broken"\n')
    env = {"PATH": "/usr/bin:/bin", "PAQSHOT_HOME": str(tmp_path / "home"), "PAQSHOT_PRESETS_DIR": str(presets)}
    for command in (["serve", "--port", "1"], ["worker"]):
        out = subprocess.run([BIN, *command], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 2, out.stderr
        assert "broken.toml" in out.stderr and "preset" in out.stderr
