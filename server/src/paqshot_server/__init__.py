"""The product-imagery appliance server. The version is the installed package's (declared in pyproject.toml)."""

from importlib.metadata import version


def __getattr__(name: str) -> str:
    # Read on first use, not at import: the export toolchain (models/export) imports the model contract from the
    # source tree of a package it never installs, where there is no metadata to read.
    if name == "__version__":
        return version("paqshot-server")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
