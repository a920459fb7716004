"""The brand validator: the sample brands pass; broken copies fail with the problem named and a fix that works."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from paqshot_desktop.brandcheck import (
    APP_KEYS,
    SERVER_KEYS,
    Problem,
    check_brand,
    contrast_ratio,
    main,
    png_size,
    suggest_foreground,
)
from paqshot_desktop.branding import COLOR_TOKENS, Brand
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
BRANDS = REPO / "packaging" / "brands"
SAMPLES = sorted(p.name for p in BRANDS.iterdir() if (p / "brand.toml").is_file())
PARTNER = next(name for name in SAMPLES if name != Brand().id)  # a sample partner brand


def brand_copy(tmp_path: Path, sample: str = PARTNER) -> Path:
    """A writable copy of a sample brand folder."""
    return Path(shutil.copytree(BRANDS / sample, tmp_path / sample))


def set_key(folder: Path, section: str, key: str, value: str | None) -> None:
    """Rewrite ``key = ...`` in ``[section]`` of the copy's brand.toml (``value`` is TOML; None deletes the key)."""
    file = folder / "brand.toml"
    lines, current, done = file.read_text().splitlines(), "", False
    out = []
    for line in lines:
        header = re.match(r"^\[(\w+)\]", line)
        current = header.group(1) if header else current
        if current == section and re.match(rf"^{key}\s*=", line):
            done = True
            if value is not None:
                out.append(f"{key} = {value}")
            continue
        out.append(line)
    assert done, f"{section}.{key} not in {file}"
    file.write_text("\n".join(out) + "\n")


def errors(problems: list[Problem]) -> dict[str, str]:
    return {p.where: p.message for p in problems if p.severity == "error"}


def warnings(problems: list[Problem]) -> dict[str, str]:
    return {p.where: p.message for p in problems if p.severity == "warning"}


@pytest.mark.parametrize("sample", SAMPLES)
def test_sample_brands_pass(sample: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert len(SAMPLES) >= 2
    assert errors(check_brand(BRANDS / sample)) == {}
    assert main(["check", str(BRANDS / sample), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["errors"] == 0


def test_the_reference_brand_keys_are_exactly_the_ones_checked() -> None:
    data = tomllib.loads((BRANDS / Brand().id / "brand.toml").read_text())
    assert set(data["app"]) == set(APP_KEYS)
    assert set(data["server"]) == set(SERVER_KEYS)
    assert set(data["colors"]) == set(COLOR_TOKENS)


def test_missing_icon_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = brand_copy(tmp_path)
    (folder / "icon.svg").unlink()
    assert "not found" in errors(check_brand(folder))["app.icon"]
    assert main(["check", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "ERROR   app.icon: icon.svg not found" in out and "fix: add icon.svg" in out


def test_unset_keys_are_errors(tmp_path: Path) -> None:
    folder = brand_copy(tmp_path)
    set_key(folder, "app", "icon", None)
    set_key(folder, "colors", "sidebar", None)
    set_key(folder, "server", "signature_header", None)
    found = errors(check_brand(folder))
    assert {"app.icon", "colors.sidebar", "server.signature_header"} <= set(found)
    assert all(found[k] == "is not set" for k in ("app.icon", "colors.sidebar", "server.signature_header"))


@pytest.mark.parametrize("bad", ['"#12345"', '"blue"', '"#12345g"', "12"])
def test_bad_colour(tmp_path: Path, bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    folder = brand_copy(tmp_path)
    set_key(folder, "colors", "accent", bad)
    assert "is not a colour" in errors(check_brand(folder))["colors.accent"]
    assert main(["check", str(folder), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert any(p["where"] == "colors.accent" and "#RRGGBB" in p["fix"] for p in report["problems"])


@pytest.mark.parametrize(
    ("section_key", "value", "background", "pair"),
    [
        ("text_muted", '"#6f6577"', ("surface", '"#201b27"'), "colors.text_muted on colors.surface"),  # ~2.9:1
        ("accent_text", '"#8a6a30"', ("accent", '"#e0a43a"'), "colors.accent_text on colors.accent"),
        ("sidebar_text", '"#2a2430"', ("sidebar", '"#0c0a0f"'), "colors.sidebar_text on colors.sidebar"),
        ("text", '"#5a5060"', ("window", '"#15121a"'), "colors.text on colors.window"),
    ],
)
def test_low_contrast_pair_fails_with_a_working_fix(
    tmp_path: Path, section_key: str, value: str, background: tuple[str, str], pair: str
) -> None:
    folder = brand_copy(tmp_path)
    set_key(folder, "colors", section_key, value)
    set_key(folder, "colors", *background)
    problems = [p for p in check_brand(folder) if p.where == pair]
    assert problems and problems[0].severity == "error"
    assert "below 4.5:1" in problems[0].message
    suggested = re.search(r"set \w+ to (#[0-9a-f]{6})", problems[0].fix)
    assert suggested, problems[0].fix
    colors = tomllib.loads((folder / "brand.toml").read_text())["colors"]
    fixed = brand_copy(tmp_path / "fixed")
    set_key(fixed, "colors", *background)
    set_key(fixed, "colors", section_key, f'"{suggested.group(1)}"')
    assert not [p for p in check_brand(fixed) if p.where.startswith(f"colors.{section_key} on")], colors


def test_no_single_fix_when_backgrounds_pull_apart(tmp_path: Path) -> None:
    """Text on a white surface and a near-black window: no one text colour passes on both, so say so."""
    folder = brand_copy(tmp_path)
    for key, value in (("window", "#15121a"), ("surface_alt", "#2a2333"), ("surface", "#ffffff"), ("text", "#b0b0b0")):
        set_key(folder, "colors", key, f'"{value}"')
    problem = next(p for p in check_brand(folder) if p.where == "colors.text on colors.surface")
    assert problem.severity == "error" and problem.fix.startswith("change surface or text")


def test_status_colours_warn_below_aa_and_fail_below_3(tmp_path: Path) -> None:
    folder = brand_copy(tmp_path, Brand().id)
    set_key(folder, "colors", "window", '"#f4f6f8"')
    set_key(folder, "colors", "surface", '"#ffffff"')
    set_key(folder, "colors", "danger", '"#e05050"')  # about 3.6:1 on white
    assert warnings(check_brand(folder)).keys() >= {"colors.danger on colors.surface"}
    assert "colors.danger on colors.surface" not in errors(check_brand(folder))
    assert main(["check", str(folder)]) == 0
    assert main(["check", str(folder), "--strict"]) == 1
    set_key(folder, "colors", "danger", '"#ff9999"')  # about 2:1
    assert "colors.danger on colors.surface" in errors(check_brand(folder))


def write_png(path: Path, width: int, height: int) -> None:
    Image.new("RGBA", (width, height), (200, 40, 40, 255)).save(path)


def test_png_icons_must_be_square_and_at_least_256(tmp_path: Path) -> None:
    folder = brand_copy(tmp_path)
    set_key(folder, "app", "icon", '"icon.png"')
    write_png(folder / "icon.png", 64, 64)
    assert "use at least 256 px" in next(p.fix for p in check_brand(folder) if p.where == "app.icon")
    write_png(folder / "icon.png", 300, 256)
    assert "not square" in errors(check_brand(folder))["app.icon"]
    write_png(folder / "icon.png", 256, 256)
    assert "app.icon" not in errors(check_brand(folder))


def test_damaged_png_is_unreadable(tmp_path: Path) -> None:
    folder = brand_copy(tmp_path)
    set_key(folder, "app", "icon", '"icon.png"')
    write_png(folder / "icon.png", 256, 256)
    data = bytearray((folder / "icon.png").read_bytes())
    data[data.index(b"IDAT") + 10] ^= 0xFF
    (folder / "icon.png").write_bytes(bytes(data))
    assert "bad CRC" in errors(check_brand(folder))["app.icon"]
    (folder / "icon.png").write_bytes(b"GIF89a not a png")
    assert "not a PNG" in errors(check_brand(folder))["app.icon"]


def test_png_size_reads_real_files(tmp_path: Path) -> None:
    for mode, size in (("RGBA", (256, 256)), ("L", (300, 120)), ("P", (17, 9)), ("RGB", (1, 1))):
        Image.new(mode, size).save(tmp_path / "x.png")
        assert png_size((tmp_path / "x.png").read_bytes()) == size


@pytest.mark.parametrize(
    ("svg", "message"),
    [
        ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100"><rect width="9" height="9"/></svg>', "square"),
        ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="9"', "well-formed"),
        ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><g/></svg>', "draws nothing"),
        ('<html><rect width="9" height="9"/></html>', "not <svg>"),
        ('<svg xmlns="http://www.w3.org/2000/svg"><rect width="9" height="9"/></svg>', "viewBox"),
    ],
)
def test_broken_svg_icons(tmp_path: Path, svg: str, message: str) -> None:
    folder = brand_copy(tmp_path)
    (folder / "icon.svg").write_text(svg)
    assert message in errors(check_brand(folder))["app.icon"]


def test_unsupported_icon_format(tmp_path: Path) -> None:
    folder = brand_copy(tmp_path)
    (folder / "icon.ico").write_bytes(b"\0\0\1\0")
    set_key(folder, "app", "icon", '"icon.ico"')
    assert ".ico is not supported" in errors(check_brand(folder))["app.icon"]


def test_small_png_logo_is_a_warning(tmp_path: Path) -> None:
    folder = brand_copy(tmp_path)
    set_key(folder, "app", "logo", '"logo.png"')
    write_png(folder / "logo.png", 200, 40)
    assert "40 px high" in warnings(check_brand(folder))["app.logo"]


def test_urls_names_and_fonts(tmp_path: Path) -> None:
    folder = brand_copy(tmp_path)
    set_key(folder, "app", "support_url", '"example help"')
    set_key(folder, "app", "website_url", '"http://brand.example"')
    set_key(folder, "app", "default_server_url", '"http://127.0.0.1:99999"')
    set_key(folder, "app", "font_family", '"  "')
    set_key(folder, "app", "name", '"Acme/Studio"')
    set_key(folder, "app", "organisation_domain", '"not a domain"')
    set_key(folder, "server", "signature_header", '"Acme-Sig"')
    set_key(folder, "server", "env_prefix", '"acme"')
    found = errors(check_brand(folder))
    assert "not a valid URL" in found["app.support_url"]
    assert "not a valid URL" in found["app.default_server_url"]
    assert found["app.font_family"] == "is empty"
    assert "cannot name the bundle" in found["app.name"]
    assert "not a domain" in found["app.organisation_domain"]
    assert "not valid" in found["server.signature_header"] and "not valid" in found["server.env_prefix"]
    assert "not https" in warnings(check_brand(folder))["app.website_url"]


def test_typos_and_reference_values_are_warnings(tmp_path: Path) -> None:
    folder = brand_copy(tmp_path)
    text = (folder / "brand.toml").read_text().replace("[app]\n", "[app]\ntag_line = 'x'\n")
    (folder / "brand.toml").write_text(text)
    set_key(folder, "app", "name", json.dumps(Brand().app_name))
    found = warnings(check_brand(folder))
    assert found["app.tag_line"] == "is not a key the app reads"
    assert "reference brand's value" in found["app.name"]
    assert errors(check_brand(folder)) == {}


def test_unreadable_toml_and_missing_folder(tmp_path: Path) -> None:
    folder = brand_copy(tmp_path)
    (folder / "brand.toml").write_text("[app\nname = ")
    assert any("cannot be read" in m for m in errors(check_brand(folder)).values())
    assert any("not found" in m for m in errors(check_brand(tmp_path / "nothing")).values())


def test_contrast_maths() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the classic AA grey
    better = suggest_foreground("#aaaaaa", ["#ffffff", "#f4f6f8"], 4.5)
    assert better is not None and min(contrast_ratio(better, b) for b in ("#ffffff", "#f4f6f8")) >= 4.5
    assert suggest_foreground("#777777", ["#777777", "#000000"], 21) is None


def test_console_script_runs_without_qt(tmp_path: Path) -> None:
    """The validator must run where Qt is absent: block PySide6 imports and run the module."""
    code = (
        "import sys; sys.modules['PySide6'] = None\n"
        "from paqshot_desktop.brandcheck import main\n"
        f"sys.exit(main(['check', {str(BRANDS / PARTNER)!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(": ok")


def font_problems(problems: list[Problem]) -> dict[str, tuple[str, str]]:
    return {p.where: (p.severity, p.message) for p in problems if "font" in p.where}


def test_bundled_font_family_is_read_as_freetype_reads_it() -> None:
    """Our name-table reader against FreeType (through Pillow) on every font a sample brand ships."""
    from paqshot_desktop.fontfiles import font_families
    from PIL import ImageFont

    files = [f for sample in SAMPLES for f in sorted((BRANDS / sample / "fonts").glob("*.[ot]tf"))]
    assert files, "a sample brand ships its font"
    for file in files:
        assert ImageFont.truetype(str(file)).getname()[0] in font_families(file.read_bytes())


def test_partner_brand_bundles_its_font_and_its_licence() -> None:
    """The partner brand does not depend on what the machine has: it passes with no font installed at all."""
    folder = BRANDS / PARTNER
    assert tomllib.loads((folder / "brand.toml").read_text())["app"]["font_family"] == "League Spartan"
    assert font_problems(check_brand(folder, installed_fonts=lambda: set())) == {}
    assert font_problems(check_brand(folder, installed_fonts=lambda: None)) == {}
    assert "SIL OPEN FONT LICENSE" in (folder / "fonts" / "OFL.txt").read_text()


def test_font_neither_bundled_nor_installed_warns(tmp_path: Path) -> None:
    folder = brand_copy(tmp_path)
    shutil.rmtree(folder / "fonts")
    set_key(folder, "app", "font_family", '"Acme Grotesk"')
    for nothing in (set, lambda: None):
        found = font_problems(check_brand(folder, installed_fonts=nothing))
        assert found["app.font_family"][0] == "warning"
        assert "not bundled in fonts/ and not installed" in found["app.font_family"][1]
    assert font_problems(check_brand(folder, installed_fonts=lambda: {"acme grotesk"})) == {}


def test_bundled_fonts_need_their_licence_and_must_parse(tmp_path: Path) -> None:
    folder = brand_copy(tmp_path)
    (folder / "fonts" / "OFL.txt").unlink()
    assert font_problems(check_brand(folder, installed_fonts=set)) == {
        "fonts/": ("error", "ships fonts without their licence")
    }
    folder = brand_copy(tmp_path / "damaged")
    regular = folder / "fonts" / "LeagueSpartan-Regular.otf"
    regular.write_bytes(regular.read_bytes()[:40])
    assert font_problems(check_brand(folder, installed_fonts=set))["fonts/LeagueSpartan-Regular.otf"] == (
        "error",
        "cannot be used: the font file is truncated",
    )
    regular.write_bytes(b"wOFF" + bytes(60))
    assert "not a TrueType or OpenType font" in errors(check_brand(folder))["fonts/LeagueSpartan-Regular.otf"]


def test_font_family_that_is_not_the_bundled_one_warns(tmp_path: Path) -> None:
    folder = brand_copy(tmp_path)
    set_key(folder, "app", "font_family", '"League Gothic"')
    severity, message = font_problems(check_brand(folder, installed_fonts=set))["app.font_family"]
    assert severity == "warning" and "not one of the fonts in fonts/ (league spartan)" in message


def test_a_png_cut_short_is_damaged_even_with_good_chunks(tmp_path: Path) -> None:
    import io
    import zlib

    noisy = Image.effect_noise((256, 256), 64).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "PNG")
    data = out.getvalue()
    # Rebuild the file with the image data cut in half, every chunk CRC still right: only decoding notices.
    idat_at = data.index(b"IDAT") - 4
    length = int.from_bytes(data[idat_at : idat_at + 4], "big")
    half = data[idat_at + 8 : idat_at + 8 + length // 2]
    chunk = len(half).to_bytes(4, "big") + b"IDAT" + half + zlib.crc32(b"IDAT" + half).to_bytes(4, "big")
    cut = data[:idat_at] + chunk + data[idat_at + 12 + length :]
    with pytest.raises(ValueError, match="damaged PNG"):
        png_size(cut)
