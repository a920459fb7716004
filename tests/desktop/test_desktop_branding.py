"""White-label: brand files, the theme they produce, and where the brand shows up in the app."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from desktop_support import BRANDS
from paqshot_desktop import theme
from paqshot_desktop.branding import COLOR_TOKENS, Brand, BrandError, default_brand, load_brand
from paqshot_desktop.icons import ICON_NAMES, app_icon, icon, logo_pixmap, monogram_pixmap
from paqshot_desktop.settings import Settings
from paqshot_desktop.views.about import AboutDialog
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


def test_both_sample_brands_load_with_their_assets(brand: Brand, noir: Brand) -> None:
    assert brand.id == "paqshot" and noir.id == "noir"
    assert brand.app_name != noir.app_name and brand.organisation != noir.organisation
    for b in (brand, noir):
        assert b.icon_path is not None and b.icon_path.is_file()
        assert b.logo_path is not None and b.logo_path.is_file()
        assert set(b.colors) == set(COLOR_TOKENS)
        assert b.server.env_prefix.endswith("_") and b.server.key_prefix
    assert noir.server.signature_header == "X-Noir-Signature"
    assert noir.feature("copy_url") is False and brand.feature("copy_url") is True


def test_second_brand_has_a_very_different_palette(brand: Brand, noir: Brand) -> None:
    light, dark = QColor(brand.colors["window"]), QColor(noir.colors["window"])
    assert light.lightness() > 200 and dark.lightness() < 50
    assert abs(QColor(brand.colors["accent"]).hue() - QColor(noir.colors["accent"]).hue()) > 120


def test_built_in_defaults_match_the_reference_brand_folder(brand: Brand) -> None:
    # The built-in values are used when the brand folder is not shipped; they must not drift from it.
    built_in = Brand()
    assert default_brand() == brand
    for name in (
        "app_name",
        "organisation",
        "about_text",
        "default_server_url",
        "colors",
        "features",
        "server",
    ):
        if name == "about_text":
            continue  # the folder's text may be longer; the built-in one is a summary
        assert getattr(built_in, name) == getattr(brand, name), name


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('[colors]\naccent = "blue"', "colors.accent must be #RRGGBB"),
        ('[colors]\nsparkle = "#ffffff"', "colors.sparkle is not a known colour token"),
        ("[features]\nteleport = true", "features.teleport is not a known feature"),
        ('[features]\nhistory = "yes"', "features.history must be true or false"),
        ('[app]\nicon = "missing.svg"', "app.icon: missing.svg not found"),
        ("[app]\nfont_size = 99", "app.font_size"),
        ("not toml [", "cannot read"),
    ],
)
def test_invalid_brand_files_name_the_problem(tmp_path: Path, toml: str, words: str) -> None:
    (tmp_path / "brand.toml").write_text(toml)
    with pytest.raises(BrandError, match=re.escape(words)):
        load_brand(tmp_path)


def test_missing_brand_file(tmp_path: Path) -> None:
    with pytest.raises(BrandError, match="no brand file"):
        load_brand(tmp_path / "nowhere")


def test_a_minimal_brand_inherits_defaults_and_gets_a_drawn_icon(qapp: Any, tmp_path: Path) -> None:
    (tmp_path / "brand.toml").write_text('[app]\nname = "Shelf Light"\n[colors]\naccent = "#00aa55"\n')
    minimal = load_brand(tmp_path)
    assert minimal.app_name == "Shelf Light" and minimal.monogram == "SL"
    assert minimal.colors["accent"] == "#00aa55" and minimal.icon_path is None
    pixmap = monogram_pixmap(minimal, 64)
    centre_left = pixmap.toImage().pixelColor(8, 32)
    assert centre_left.name() == "#00aa55"  # painted in the brand's accent
    assert not app_icon(minimal).isNull() and not logo_pixmap(minimal, 40).isNull()


def test_theme_renders_every_token_into_qss_and_palette(qapp: Any, noir: Brand) -> None:
    qss = theme.style_sheet(noir)
    assert "$" not in qss
    for token in ("accent", "sidebar", "surface", "danger"):
        assert noir.colors[token] in qss
    pal = theme.palette(noir)
    assert pal.color(QPalette.ColorRole.Window).name() == noir.colors["window"]
    assert pal.color(QPalette.ColorRole.Highlight).name() == noir.colors["accent"]
    assert pal.color(QPalette.ColorRole.Text).name() == noir.colors["text"]


def test_applying_a_brand_uses_fusion_and_its_colours(qapp: QApplication, noir: Brand, brand: Brand) -> None:
    theme.apply(qapp, noir)
    try:
        assert noir.colors["accent"] in qapp.styleSheet()
        qapp.setStyleSheet("")  # the style sheet wraps the base style; look underneath it
        assert qapp.style().metaObject().className() == "QFusionStyle"
        assert qapp.palette().color(QPalette.ColorRole.Window).name() == noir.colors["window"]
    finally:
        theme.apply(qapp, brand)


def test_every_icon_name_resolves(qapp: Any) -> None:
    for name in ICON_NAMES:
        assert not icon(name).isNull(), name
    with pytest.raises(KeyError):
        icon("no-such-icon")


def test_settings_are_namespaced_per_brand(qapp: Any, brand: Brand, noir: Brand) -> None:
    a, b = Settings(brand).file_name, Settings(noir).file_name
    assert a != b
    assert noir.organisation in b and noir.app_name in b


def test_window_title_icon_about_and_app_names_follow_the_brand(make_app: Any, noir: Brand) -> None:
    app = make_app(noir)
    assert app.window.windowTitle() == "Atelier Noir"
    assert not app.window.windowIcon().isNull()
    assert app.qapp.applicationName() == "Atelier Noir"
    assert app.qapp.organizationName() == "Noir Imaging Co"
    about = AboutDialog(noir, "0.1.0", "Not connected", app.window)
    texts = " ".join(label.text() for label in about.findChildren(type(about.server_label)))
    assert about.windowTitle() == "About Atelier Noir"
    assert "Noir Imaging Co" in texts and "noir-imaging.example" in texts and "dark room" in texts
    about.deleteLater()


def test_sample_brand_folders_are_complete() -> None:
    for folder in sorted(p for p in BRANDS.iterdir() if p.is_dir()):
        text = (folder / "brand.toml").read_text()
        for table in ("[app]", "[colors]", "[features]", "[server]"):
            assert table in text, f"{folder.name} lacks {table}"
    assert not (BRANDS.parent / "__init__.py").exists()  # packaging/ must not shadow the packaging library


def test_bundled_brand_fonts_load_into_qt_under_the_family_the_brand_names(noir: Brand, qapp: Any) -> None:
    """The fonts a brand ships are real fonts to Qt, and their family is the one ``font_family`` names."""
    from PySide6.QtGui import QFontDatabase

    assert [p.name for p in noir.font_files] == ["LeagueSpartan-Bold.otf", "LeagueSpartan-Regular.otf"]
    for path in noir.font_files:
        font_id = QFontDatabase.addApplicationFont(str(path))
        assert font_id != -1, path
        assert noir.font_family in QFontDatabase.applicationFontFamilies(font_id)
    assert default_brand().font_files == ()


def test_the_app_uses_the_font_its_brand_ships_not_a_substitute(qapp: Any, noir: Brand) -> None:
    from PySide6.QtGui import QFontInfo

    assert noir.font_files  # the sample partner brand bundles its typeface
    theme.apply(qapp, noir)
    try:
        assert QFontInfo(qapp.font()).family() == noir.font_family  # resolved exactly: loaded from the bundle
    finally:
        theme.apply(qapp, default_brand())
