"""The product-imagery appliance server. The version is the installed package's (declared in pyproject.toml)."""

from importlib.metadata import version

__version__ = version("paqshot-server")
