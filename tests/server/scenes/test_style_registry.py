"""Styles and scene kinds come from one table each; the API's vocabulary and the tables agree."""

from __future__ import annotations

from typing import get_args

import msgspec
from paqshot_server.api.request_bodies import GenerateRequest
from paqshot_server.imaging.options import SceneType, Style
from paqshot_server.imaging.scenes.kinds import BY_SCENE_TYPE, KINDS
from paqshot_server.imaging.scenes.styles import SCENE_STYLES
from paqshot_server.imaging.styles import STYLE_SUMMARIES, family


def test_the_style_literal_and_the_style_table_agree() -> None:
    assert set(get_args(Style)) == set(STYLE_SUMMARIES)
    assert {s for s in STYLE_SUMMARIES if family(s) == "scene"} == set(SCENE_STYLES)


def test_every_scene_type_is_a_kind_and_every_auto_kind_exists() -> None:
    assert set(get_args(SceneType)) - {"auto"} == set(BY_SCENE_TYPE)
    assert all(style.auto_kind in KINDS for style in SCENE_STYLES.values())


def test_the_api_describes_every_style_from_the_table() -> None:
    schema = msgspec.json.schema(GenerateRequest)["$defs"]["GenerateRequest"]["properties"]["style"]
    for name, summary in STYLE_SUMMARIES.items():
        assert f"{name}: {summary}" in schema["description"]
