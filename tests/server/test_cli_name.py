"""The command the docs and ``init``'s hints name is the program that is installed, under every brand: the brand
file's ``[app] server_executable`` (what the partner's packaging installs, and what the desktop starts)."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from paqshot_server.api.openapi import served_schema
from paqshot_server.app import create_app
from paqshot_server.branding import DEFAULT_BRAND, load_brand
from paqshot_server.settings import Settings
from support import no_model_downloads

ROOT = Path(__file__).resolve().parents[2]
BRANDS = sorted((ROOT / "packaging" / "brands").glob("*/brand.toml"))
NOIR = ROOT / "packaging" / "brands" / "noir" / "brand.toml"


def installed_programs() -> set[str]:
    """The console scripts this installation's server distribution installs (and that are on disk)."""
    scripts = importlib.metadata.distribution("paqshot-server").entry_points.select(group="console_scripts")
    return {s.name for s in scripts if (Path(sys.executable).parent / s.name).exists()}


@pytest.mark.parametrize("brand_file", [None, *BRANDS], ids=lambda p: "default" if p is None else p.parent.name)
def test_every_brand_names_a_program_that_is_installed(brand_file: Path | None) -> None:
    brand = load_brand(brand_file) if brand_file else DEFAULT_BRAND
    assert brand.cli_name in installed_programs(), brand.cli_name


def test_init_and_the_docs_name_the_installed_command_under_a_partner_brand(tmp_path: Path) -> None:
    brand = load_brand(NOIR)
    assert brand.slug == "noir" and brand.cli_name == "paqshot"  # the sample partner ships no `noir` command
    home = tmp_path / "noir-home"
    env = {
        "PATH": "/usr/bin:/bin",
        "PAQSHOT_BRAND_FILE": str(NOIR),
        **{k.replace("PAQSHOT_", "NOIR_"): v for k, v in no_model_downloads(tmp_path).items()},
    }
    done = subprocess.run(
        [str(Path(sys.executable).parent / "paqshot"), "init", "--home", str(home)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    named = re.findall(r"^\s+(\S+) (?:doctor|models|serve) ", done.stdout, re.MULTILINE)
    assert named and set(named) == {"paqshot"}, done.stdout
    reference = served_schema(create_app(Settings(home=tmp_path / "docs", brand_file=str(NOIR))))
    text = reference["info"]["description"]
    assert "`paqshot keys create" in text and "`paqshot serve`" in text and "`noir " not in text


TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 §10.1.5: product


@pytest.mark.parametrize("name", ["Paqshot", "Noir Appliance", "Café & Co  Studio", "ACME appliance", "  "])
def test_the_user_agent_is_one_product_token_whatever_the_brands_name(name: str) -> None:
    # breaker8 F8: the noir brand sent "Noir Appliance-Appliance/0.1.0" (a space in the token, the word twice).
    agent = replace(DEFAULT_BRAND, product_name=name).user_agent
    assert TOKEN.fullmatch(agent), agent
    assert agent.lower().count("appliance") == 1, agent


def test_the_shipped_brands_user_agents_are_product_tokens() -> None:
    assert BRANDS
    for path in BRANDS:
        agent = load_brand(path).user_agent
        assert TOKEN.fullmatch(agent) and agent.lower().count("appliance") == 1, (path, agent)
