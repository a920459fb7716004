"""The white-label desktop client. The version is the installed package's (declared once, in its pyproject)."""

from importlib.metadata import version


def __getattr__(name: str) -> str:
    # Read on first use, not at import (nothing is read at import time); a bundle carries the metadata
    # (packaging/desktop/build.py copies it), so a built app reports the same version as the package.
    if name == "__version__":
        return version(__name__)  # the distribution of this package (names are normalised)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
