"""Catalogue SKUs as file names (``cli.skunames``): every script kept, nothing unsafe on Windows, macOS or Linux,
and no two SKUs sharing a name (breaker11 B11-14)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paqshot_server.cli.skunames import MAX_STEM_BYTES, OutputNames, output_name

_WINDOWS_RESERVED = set('<>:"/\\|?*')


@pytest.mark.parametrize(
    ("sku", "name"),
    [
        ("イ", "イ"),
        ("商品-12", "商品-12"),
        ("Привет_1", "Привет_1"),
        ("हिन्दी", "हिन्दी"),  # combining marks stay: the word is not broken into letters
        ("SKU-1.b", "SKU-1.b"),
        ("A/1 ü", "A_1_ü-"),
        ("../x", "_._x-"),
        ("CON", "_CON-"),
        ("lpt1.txt", "_lpt1.txt-"),
        ("e\u0301", "é-"),  # not NFC: the NFC name, marked as not the SKU itself
        ("a\u202eb", "a_b-"),  # a right-to-left override would show the name reversed
    ],
)
def test_names_keep_letters_of_every_script_and_mark_what_changed(sku: str, name: str) -> None:
    got = output_name(sku)
    if name.endswith("-"):
        assert got.startswith(name) and len(got) == len(name) + 8, got
    else:
        assert got == name


@settings(max_examples=400, deadline=None)
@given(skus=st.lists(st.text(min_size=1, max_size=80), min_size=2, max_size=8, unique=True))
def test_no_two_skus_share_a_name_and_no_name_is_unsafe(skus: list[str]) -> None:
    names = OutputNames()
    claimed = [names.claim(sku) for sku in skus]
    assert len({n.casefold() for n in claimed}) == len(skus)
    for name in claimed:
        assert not _WINDOWS_RESERVED & set(name) and not name.startswith(".")
        assert all(unicodedata.category(c)[0] != "C" for c in name), ascii(name)
        assert unicodedata.is_normalized("NFC", name)
        assert len(name.encode()) <= MAX_STEM_BYTES + 9


def test_a_long_sku_is_cut_at_a_whole_character() -> None:
    name = output_name("中" * 100)  # 300 bytes
    assert name.startswith("中" * 66) and len(name.encode()) <= MAX_STEM_BYTES + 9


def test_the_same_sku_twice_is_refused() -> None:
    names = OutputNames()
    assert names.claim("A/B") != names.claim("A_B")  # alike after the rule, not the same SKU
    with pytest.raises(ValueError, match="appears twice"):
        names.claim("A/B")
