"""No brand string outside the branding module: partners rebrand by data, not by editing code."""

from __future__ import annotations

import re
from pathlib import Path

from desktop_support import REPO
from paqshot_desktop.branding import Brand

SOURCE = REPO / "desktop" / "src" / "paqshot_desktop"
# The only modules allowed to name the product.
ALLOWED = {"branding.py", "icons.py"}


def brand_pattern(brand: Brand) -> re.Pattern[str]:
    """The default brand's names, case-insensitive; the package name itself is not a brand string."""
    words = {brand.app_name, brand.organisation, brand.server.product_name, brand.server.slug}
    words |= {w for name in (brand.app_name, brand.organisation) for w in name.split() if len(w) > 3}
    words -= {"Studio"}  # a common word, not the brand
    alternatives = "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
    return re.compile(rf"(?i)(?<![\w])({alternatives})(?!_desktop)")


def brand_hits(folder: Path, pattern: re.Pattern[str]) -> list[str]:
    hits = []
    for path in sorted(folder.rglob("*.py")):
        if path.name in ALLOWED and path.parent == SOURCE:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if pattern.search(line):
                hits.append(f"{path.relative_to(folder)}:{number}: {line.strip()}")
    return hits


def test_no_brand_strings_outside_the_branding_module() -> None:
    hits = brand_hits(SOURCE, brand_pattern(Brand()))
    assert hits == [], "brand strings outside branding.py/icons.py:\n" + "\n".join(hits)


def test_the_check_catches_a_brand_string(tmp_path: Path) -> None:
    brand = Brand()
    (tmp_path / "view.py").write_text(f'title = "Welcome to {brand.server.product_name}"\n')
    (tmp_path / "ok.py").write_text("from paqshot_desktop.client import ApiClient\n")
    hits = brand_hits(tmp_path, brand_pattern(brand))
    assert len(hits) == 1 and "view.py:1" in hits[0]
