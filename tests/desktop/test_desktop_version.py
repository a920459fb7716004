"""The desktop's version is its package's (declared once, in desktop/pyproject.toml), everywhere it shows."""

from __future__ import annotations

import importlib.metadata
from typing import Any

import paqshot_desktop
import pytest
from paqshot_desktop.branding import default_brand
from paqshot_desktop.views.about import AboutDialog


def test_the_version_is_the_packages_in_the_user_agent_and_the_about_dialog(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    declared = importlib.metadata.version("paqshot-desktop")
    assert paqshot_desktop.__version__ == declared
    assert default_brand().user_agent.endswith(f"-Desktop/{declared}")  # was a constant "0.1"
    shown: list[str] = []
    monkeypatch.setattr(AboutDialog, "exec", lambda dialog: shown.append(dialog.name_label.text()) or 0)
    make_app().controller.show_about()
    assert shown and shown[0].endswith(f" {declared}")
