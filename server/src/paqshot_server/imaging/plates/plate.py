"""What a backdrop plate is, as the engine sees it: its image plus the facts placing a product on it needs.

Plain data (no storage): the library's rows (``storage/backdrops.py``) and a request's own ``background_image``
both become a :class:`LoadedPlate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from PIL import Image

# Where the key light comes from, seen from above with the camera at the bottom of the picture: the azimuth in
# degrees (0: from the camera, -90: from the left, 90: from the right, 180: from behind); None: from straight
# above (no cast shadow, only the contact shadow).
LightFrom = Literal["front", "front_left", "left", "back_left", "back", "back_right", "right", "front_right", "above"]
LIGHT_AZIMUTH: dict[str, float | None] = {
    "front": 0.0,
    "front_left": -45.0,
    "left": -90.0,
    "back_left": -135.0,
    "back": 180.0,
    "back_right": 135.0,
    "right": 90.0,
    "front_right": 45.0,
    "above": None,
}
LightSource = Literal["given", "estimated"]


@dataclass(frozen=True)
class Light:
    """The plate's key light: azimuth (degrees, see :data:`LIGHT_AZIMUTH`; None: overhead) and softness
    (0: a hard point light, crisp and dark cast shadows .. 1: fully diffuse, only a soft contact shadow)."""

    azimuth: float | None
    softness: float
    source: LightSource

    @property
    def named(self) -> str:
        """The nearest of the :data:`LIGHT_AZIMUTH` names."""
        if self.azimuth is None:
            return "above"

        def gap(name: str) -> float:
            value = LIGHT_AZIMUTH[name]
            assert value is not None
            return abs((self.azimuth - value + 180) % 360 - 180)  # type: ignore[operator]

        return min((n for n, a in LIGHT_AZIMUTH.items() if a is not None), key=gap)

    def describe(self) -> dict[str, object]:
        return {
            "from": self.named,
            "azimuth": None if self.azimuth is None else round(self.azimuth, 1),
            "softness": round(self.softness, 3),
            "source": self.source,
        }


@dataclass(frozen=True)
class PlateInfo:
    """A plate's facts. Fractions are of the plate's own width/height.

    Attributes:
        id: the library id (``bdp_…``), or None for a request's own ``background_image``.
        tags: lowercase words or phrases a scene request is matched against (``select.py``).
        floor_y: the floor line (where products stand), or None to estimate it.
        area: (left, right) of the stretch of the floor line where a product may stand.
        light: the key light, or None to estimate it.
        shared: a plate the operator shares with every key (False: the requesting key's own).
    """

    id: str | None
    tags: tuple[str, ...] = ()
    floor_y: float | None = None
    area: tuple[float, float] = (0.0, 1.0)
    light: Light | None = None
    shared: bool = False
    name: str | None = None

    def describe(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "tags": list(self.tags), "shared": self.shared}


@dataclass(frozen=True)
class LoadedPlate:
    """A plate with its decoded image (8-bit sRGB RGB) and its file as stored (JPEG, PNG or WebP bytes: the
    provenance's ingredient; None when only its pixels are at hand)."""

    info: PlateInfo
    image: Image.Image = field(repr=False)
    data: bytes | None = field(default=None, repr=False)


def area_from(left: float | None, width: float | None) -> tuple[float, float]:
    """(left, right) of a placement area given as ``left`` and ``width`` fractions (either may be None);
    clipped to the plate (a width reaching past the right edge ends there) and never narrower than 5 %."""
    lo = 0.0 if left is None else min(max(left, 0.0), 0.95)
    hi = 1.0 if width is None else min(lo + max(width, 0.05), 1.0)
    return lo, hi


class PlateSource(Protocol):
    """Where a render finds its plates (``jobs/backdrops.py`` reads the library and a job's stored image)."""

    def given(self) -> LoadedPlate | None:
        """The plate the request names itself (its ``background_image`` or ``backdrop``), if any.

        Raises:
            NotFound: the named library plate is gone (deleted after the job was accepted).
        """
        ...

    def candidates(self) -> Sequence[PlateInfo]:
        """The library plates this request may be matched against (the key's own and the shared ones)."""
        ...

    def load(self, info: PlateInfo) -> LoadedPlate:
        """The image of one of :meth:`candidates`."""
        ...
