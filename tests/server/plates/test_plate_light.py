"""Light and floor line estimated from a plate, held to the truths the project's plates were drawn with."""

from __future__ import annotations

import pytest
from paqshot_server.imaging.plates.geometry import DEFAULT_FLOOR
from paqshot_server.imaging.plates.light import estimate_floor, estimate_horizon, estimate_light
from paqshot_server.imaging.plates.plate import LIGHT_AZIMUTH, Light
from PIL import Image
from plate_support import plate_image, plate_truths

NAMES = sorted(plate_truths())


@pytest.mark.parametrize("name", NAMES)
def test_the_light_comes_from_the_side_the_set_was_lit_from(name: str) -> None:
    truth = plate_truths()[name]
    light = estimate_light(plate_image(name))
    assert light.azimuth is not None and light.azimuth * truth["light_side"] > 30, (name, light)
    assert light.source == "estimated"


def test_dramatic_light_is_harder_than_natural_light() -> None:
    truths = plate_truths()
    soft = {name: estimate_light(plate_image(name)).softness for name in NAMES}
    dramatic = [soft[n] for n in NAMES if truths[n]["light"] == "dramatic"]
    natural = [soft[n] for n in NAMES if truths[n]["light"] == "natural"]
    assert dramatic and natural and max(dramatic) < min(natural)


@pytest.mark.parametrize("name", NAMES)
def test_the_floor_line_is_found_near_the_sets_contact_line(name: str) -> None:
    truth = plate_truths()[name]
    image = plate_image(name)
    assert estimate_horizon(image) == pytest.approx(truth["horizon"], abs=0.03)
    assert estimate_floor(image) == pytest.approx(truth["floor_y"], abs=0.05)


def test_a_flat_plate_has_no_horizon_and_an_even_soft_light() -> None:
    flat = Image.new("RGB", (600, 400), (200, 198, 190))
    assert estimate_horizon(flat) is None
    assert estimate_floor(flat) == DEFAULT_FLOOR
    light = estimate_light(flat)
    assert light.azimuth == pytest.approx(0.0, abs=1e-6) and light.softness == pytest.approx(1.0)


def test_light_names_round_trip() -> None:
    for name, azimuth in LIGHT_AZIMUTH.items():
        assert Light(azimuth, 0.5, "given").named == name
    assert Light(-80.0, 0.5, "estimated").named == "left"
