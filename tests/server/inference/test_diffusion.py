"""The numpy diffusion runtime on the committed tiny models (no torch anywhere)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from paqshot_server.inference.diffusion import DiffusionPipeline, load_inpaint_pipeline, load_text2image_pipeline
from paqshot_server.inference.imageprep import mask_to_array, nearest, snap
from paqshot_server.inference.store import ModelStore
from paqshot_server.inference.tokenizer import ClipTokenizer
from PIL import Image


def scene(size: tuple[int, int] = (90, 70)) -> tuple[Image.Image, Image.Image]:
    img = Image.new("RGB", size, (220, 210, 190))
    img.paste((30, 60, 160), (size[0] // 3, size[1] // 3, 2 * size[0] // 3, 2 * size[1] // 3))
    mask = Image.new("L", size, 255)
    mask.paste(0, (size[0] // 3, size[1] // 3, 2 * size[0] // 3, 2 * size[1] // 3))  # keep the product
    return img, mask


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "models"


@pytest.fixture(scope="module")
def sd() -> DiffusionPipeline:
    return DiffusionPipeline(FIXTURES / "tiny-sd-inpaint", device="cpu")


@pytest.fixture(scope="module")
def sdxl() -> DiffusionPipeline:
    return DiffusionPipeline(FIXTURES / "tiny-sdxl-inpaint", device="cpu")


def pixels(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.int16)


@pytest.mark.parametrize("which", ["sd", "sdxl"])
def test_inpaint_is_seeded_and_reproducible(which: str, request) -> None:
    pipe: DiffusionPipeline = request.getfixturevalue(which)
    img, mask = scene()
    kwargs = dict(prompt="a bottle on a marble table", negative_prompt="blurry", steps=3, guidance=4.0)
    a = pipe.inpaint(img, mask, seed=7, **kwargs)
    b = pipe.inpaint(img, mask, seed=7, **kwargs)
    c = pipe.inpaint(img, mask, seed=8, **kwargs)
    assert a.size == img.size and a.mode == "RGB"
    assert np.array_equal(pixels(a), pixels(b))
    assert np.abs(pixels(a) - pixels(c)).mean() > 1.0
    # The prompt conditions the result too.
    d = pipe.inpaint(img, mask, seed=7, **{**kwargs, "prompt": "a shoe on grass"})
    assert not np.array_equal(pixels(a), pixels(d))


def test_progress_is_called_once_per_step(sd: DiffusionPipeline) -> None:
    img, mask = scene()
    calls: list[float] = []
    sd.inpaint(img, mask, "a lamp", steps=5, guidance=3.0, seed=1, progress=calls.append)
    assert calls == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert len(sd.timings.unet_ms) == 5 and sd.timings.total_ms > 0


def test_sizes_are_snapped_inside_and_restored_outside(sd: DiffusionPipeline) -> None:
    assert sd.multiple == 4  # tiny: VAE /2, UNet /2
    assert snap(61, 4) == 60 and snap(63, 4) == 64 and snap(1, 4) == 4
    assert sd.working_size(90, 70, (61, 63)) == (60, 64)
    w, h = sd.working_size(300, 100)  # the input's aspect at the native area (128²)
    assert w % 4 == 0 and h % 4 == 0 and abs(w / h - 3) < 0.1 and abs(w * h - 128 * 128) < 0.1 * 128 * 128
    img, mask = scene((61, 47))
    out = sd.inpaint(img, mask, "a chair", steps=2, guidance=2.0, seed=3, size=(61, 47))
    assert out.size == (61, 47)
    arr = sd.inpaint_array(img, mask, "a chair", steps=2, guidance=2.0, seed=3, size=(61, 47))
    assert arr.shape == (1, 3, 48, 60)


def test_guidance_one_disables_cfg_and_none_uses_defaults(sd: DiffusionPipeline) -> None:
    img, mask = scene()
    embeds, pooled = sd.encode_prompt("a cup", None, cfg=False)
    assert embeds.shape[0] == 1 and pooled is None
    embeds, _ = sd.encode_prompt("a cup", None, cfg=True)
    assert embeds.shape[0] == 2
    out = sd.inpaint(img, mask, "a cup", seed=2)  # steps/guidance from the manifest (4 steps)
    assert out.size == img.size and len(sd.timings.unet_ms) == 4


def test_sdxl_conditioning(sdxl: DiffusionPipeline) -> None:
    embeds, pooled = sdxl.encode_prompt("a red chair", None, cfg=True)
    assert embeds.shape == (2, 77, 64)  # both encoders' penultimate states, concatenated
    assert pooled is not None and pooled.shape == (2, 32)
    assert not embeds[0].any() and not pooled[0].any()  # no negative prompt: zeros (force_zeros_for_empty_prompt)
    embeds, pooled = sdxl.encode_prompt("a red chair", "", cfg=True)
    assert embeds[0].any() and pooled is not None and pooled[0].any()  # an explicit "" is encoded


def test_latent_mask_is_torch_nearest() -> None:
    mask = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    assert nearest(mask, 2, 2)[0, 0].tolist() == [[0.0, 2.0], [8.0, 10.0]]  # src index = floor(dst * in/out)
    assert nearest(mask, 3, 4)[0, 0, :, 0].tolist() == [0.0, 4.0, 8.0]  # floor(0, 1.33, 2.67)


def test_mask_convention() -> None:
    mask = Image.new("L", (4, 2), 0)
    mask.putpixel((1, 0), 255)
    mask.putpixel((2, 0), 128)
    mask.putpixel((3, 0), 127)
    arr = mask_to_array(mask, 4, 2)
    assert arr.shape == (1, 1, 2, 4)
    assert arr[0, 0, 0].tolist() == [0.0, 1.0, 1.0, 0.0]  # 255 = regenerate, binarised at 0.5


def test_four_channel_model_generates_and_inpaints_by_blending(fixture_models: Path) -> None:
    pipe = DiffusionPipeline(fixture_models / "tiny-sd", device="cpu")
    assert pipe.unet_channels == 4
    calls: list[float] = []
    img = pipe.generate("a beach at dusk", width=70, height=50, steps=3, seed=4, progress=calls.append)
    assert img.size == (70, 50) and len(calls) == 3
    again = pipe.generate("a beach at dusk", width=70, height=50, steps=3, seed=4)
    assert np.array_equal(pixels(img), pixels(again))
    src, mask = scene()
    out = pipe.inpaint(src, mask, "a kitchen", steps=3, seed=4)
    assert out.size == src.size


def test_nine_channel_model_also_generates(sd: DiffusionPipeline) -> None:
    out = sd.generate("a studio backdrop", width=64, height=40, steps=2, seed=1)
    assert out.size == (64, 40)


def test_loaders_follow_the_store(tmp_path: Path, fixture_models: Path) -> None:
    models_dir = tmp_path / "models"
    assert load_inpaint_pipeline(models_dir) is None
    assert load_text2image_pipeline(models_dir) is None
    store = ModelStore(models_dir)
    store.install(fixture_models / "tiny-sd")
    fallback = load_inpaint_pipeline(models_dir)
    assert fallback is not None and fallback.id == "tiny-sd"  # 4-channel: inpaints by blending
    store.install(fixture_models / "tiny-sd-inpaint")
    store.install(fixture_models / "tiny-sdxl-inpaint")
    pipe = load_inpaint_pipeline(models_dir)
    assert pipe is not None and pipe.id == "tiny-sdxl-inpaint"  # highest priority
    assert load_inpaint_pipeline(models_dir) is pipe  # loaded once
    assert pipe.provider == "CPUExecutionProvider"
    t2i = load_text2image_pipeline(models_dir)
    assert t2i is not None and t2i.id == "tiny-sd"
    img, mask = scene()
    assert pipe.inpaint(img, mask, "a desk", steps=2, guidance=2.0, seed=0).size == img.size


def test_tokenizers_pad_and_truncate_like_clip(fixture_models: Path) -> None:
    tok = ClipTokenizer(fixture_models / "tiny-sd-inpaint" / "tokenizer")
    ids = tok(["ab"])
    vocab_bos, vocab_eos = 512, 513  # the tiny vocabulary: 256 symbols, 256 </w> forms, then BOS, EOS
    assert ids.shape == (1, 77) and ids.dtype == np.int64
    assert ids[0, :4].tolist() == [vocab_bos, ord("a") - 33, ord("b") - 33 + 256, vocab_eos]
    assert set(ids[0, 4:].tolist()) == {vocab_eos}  # SD pads with <|endoftext|>
    tok2 = ClipTokenizer(fixture_models / "tiny-sdxl-inpaint" / "tokenizer_2")
    assert set(tok2(["ab"])[0, 4:].tolist()) == {0}  # SDXL's second tokenizer pads with "!"
    long = tok(["x" * 200])[0]
    assert long[0] == vocab_bos and long[76] == vocab_eos and len(long) == 77
    assert tok(["AB  "]).tolist() == tok(["ab"]).tolist()  # lower-cased, whitespace normalised


def test_iobinding_path_reproduces_the_plain_path(fixture_models: Path) -> None:
    # What runs on CUDA (IOBinding, resident embeddings) must give the plain path's pixels; checked on CPU.
    from paqshot_server.inference.sessions import Graph

    plain = DiffusionPipeline(fixture_models / "tiny-sdxl-inpaint", device="cpu")
    bound = DiffusionPipeline(fixture_models / "tiny-sdxl-inpaint", device="cpu")
    for name in ("unet", "vae_decoder", "vae_encoder"):
        setattr(bound, name, Graph(getattr(bound, name).session, binding_device="cpu"))
    bound.text_encoders = [Graph(g.session, binding_device="cpu") for g in bound.text_encoders]
    img, mask = scene()
    a = plain.inpaint(img, mask, "a vase", "dark", steps=2, guidance=3.0, seed=5)
    b = bound.inpaint(img, mask, "a vase", "dark", steps=2, guidance=3.0, seed=5)
    assert np.array_equal(pixels(a), pixels(b))
