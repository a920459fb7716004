"""The user documents name what the code accepts (breaker9 F8: README listed four shadow kinds, the code takes five,
and docs/imaging.md said the API and the CLI could not ask for the fifth)."""

from __future__ import annotations

import re
from pathlib import Path

from paqshot_server.cli import build_parser
from paqshot_server.imaging.options import SHADOWS

ROOT = Path(__file__).resolve().parents[2]


def test_readme_lists_every_shadow_kind_the_api_takes() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = re.search(r"`shadow` \(`([a-z|]+)`", readme)
    assert listed is not None, "README's extensions list shadow's values as `a|b|…`"
    assert listed.group(1).split("|") == list(SHADOWS)


def test_the_cli_and_the_imaging_notes_agree_that_natural_can_be_asked_for() -> None:
    args = build_parser().parse_args(["generate", "photo.jpg", "--shadow", "natural", "-o", "out"])
    assert args.shadow == "natural"
    imaging = (ROOT / "docs" / "imaging.md").read_text(encoding="utf-8")
    assert "cannot ask for it" not in imaging
