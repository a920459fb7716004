"""The last step of every generation, after the engine: provenance into each file, then the compliance report.

Order matters: the XMP label and the signed C2PA manifest go into the encoded bytes first (image data
untouched, so product pixels stay exact), and compliance is measured on the file as delivered (its size
includes the manifest). Used by the worker and by ``paqshot generate``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
from PIL import Image

from . import __version__
from .credentials import IdentityError, load_identity, validity_problem
from .imaging import compliance, mapseal, productmap, provenance, review, xmp
from .imaging.presets import PresetCatalogue
from .imaging.result import BACKGROUND_REMOVED, PRODUCT_ALPHA, RenderedImage, RenderResult
from .settings import Settings
from .signing import load_or_create_secret

log = logging.getLogger(__name__)

_FORMAT_BY_MIME = {"image/jpeg": "jpeg", "image/png": "png", "image/webp": "webp"}


@dataclass(frozen=True)
class Finished:
    """The result with labelled files, its compliance reports (JSON-ready) and any notes finishing added."""

    result: RenderResult
    compliance: list[dict[str, Any]]


def background_action(engine: str, removed: bool = False) -> tuple[str, str | None]:
    """(description, IPTC digital source type of the new background's pixels) of the C2PA action on the
    photo's background. ``removed``: no background at all (``background: "transparent"``). The type is None
    where no pixels were made: a removed background, or a backdrop photograph (a capture; its drawn shadow is
    the whole image's ``compositeSynthetic``) whose contact band no model repainted."""
    if removed:
        return "background removed: the product alone on a transparent background", None
    if engine.startswith("plate"):
        seam = engine.partition("+diffusion:")[2]
        blend = f"; the contact band blended by the diffusion model {seam}" if seam else ""
        text = f"background replaced: a backdrop photograph with a shadow drawn from the product's matte{blend}"
        return text, "trainedAlgorithmicMedia" if seam else None
    if engine.startswith("diffusion:"):
        model = engine.removeprefix("diffusion:")
        return f"background replaced: scene generated around the product by the diffusion model {model}", (
            "trainedAlgorithmicMedia"
        )
    if engine == "procedural":
        return "background replaced: scene set drawn by code (procedural)", "algorithmicMedia"
    return "background replaced: plain studio background (solid colour) with a drawn shadow where asked", (
        "algorithmicMedia"
    )


class Finisher:
    """Build once per process (the signing identity is read once)."""

    def __init__(self, settings: Settings, presets: PresetCatalogue) -> None:
        self.settings, self.presets = settings, presets

    @cached_property
    def seal_key(self) -> bytes:
        """Key of the product map's seal, from this appliance's secret (:func:`.imaging.mapseal.key`)."""
        return mapseal.key(load_or_create_secret(self.settings.home))

    @cached_property
    def _identity(self) -> tuple[provenance.SigningIdentity | None, str | None]:
        try:
            return load_identity(self.settings), None
        except IdentityError as exc:
            # Said once in the log and in every result's notes; the images are delivered unsigned (breaker17
            # B17-4: a certificate that cannot sign failed every job "Generation failed unexpectedly").
            log.error("Content Credentials are off: %s", exc)
            return None, str(exc)

    def identity(self) -> tuple[provenance.SigningIdentity | None, str | None]:
        """(the signing identity or None, why an installed one cannot sign: :func:`.credentials.load_identity`'s
        words, or a certificate that has expired since it was loaded)."""
        identity, problem = self._identity
        ended = None if identity is None else validity_problem(identity)
        if ended:
            return None, f"the signing certificate {ended}"
        return identity, problem

    def finish(
        self,
        result: RenderResult,
        *,
        product_photo: bytes,
        title: str,
        checks: list[str],
        find_product: compliance.ProductFinder | None = None,
    ) -> Finished:
        """Label every image (and thumbnail) of ``result``; report ``checks`` (preset ids) on the main image.

        Args:
            product_photo: the stored input (becomes the manifest's ``componentOf`` ingredient).
            title: the manifest's title (a file name stem; the extension is added per format).
            checks: preset ids to report on (the request's preset and ``compliance_check``), deduplicated.
            find_product: finds the product when the engine did not say where it is.
        """
        facts = provenance.Provenance(
            generator=self.settings.brand.product_name,
            version=__version__,
            engine=result.engine,
            cutout=str(result.meta.get("cutout_source") or "classical"),
            background=background_action(result.engine, result.meta.get(BACKGROUND_REMOVED) is True),
        )
        photo_mime = provenance.mime_of(product_photo)
        notes = list(result.notes)
        identity, problem = self.identity()
        if problem:
            notes.append(f"no Content Credentials: {problem}")
        elif identity is None and self.settings.content_credentials:
            notes.append(
                "no Content Credentials: no signing certificate is installed "
                f"(`{self.settings.brand.cli_name} init --self-signed-cert` makes a test one)"
            )
        # The main image records where its product is (its exact alpha on the canvas), and its report is the audit
        # of the file as delivered, so `paqshot check` and POST /v1/check of that file give the same verdict.
        # The map is sealed for the pixels of the bytes written (:mod:`.imaging.mapseal`): labelling and signing
        # below leave the coded image data as it is, so only this file, unedited, has it trusted. The audit
        # measures the pixels the seal was computed on (``own``): the job decodes its output once at most (a PNG
        # not at all to seal it: the encoder knew its pixels).
        own = _own_map(result)
        product_map = None if own is None else (own[1], mapseal.seal(self.seal_key, own[1], own[2]))
        labelled = tuple(
            self._label(image, facts, identity, (product_photo, photo_mime), title, product_map if i == 0 else None)
            for i, image in enumerate(result.images)
        )
        chosen = [self.presets.get(preset_id) for preset_id in dict.fromkeys(checks)]
        reports: tuple[compliance.ComplianceReport, ...] = ()
        if chosen:
            sealed = None if own is None else own[:2]
            reports = compliance.audit(
                labelled[0].data, chosen, find_product, facts.cutout, self.seal_key, own=sealed
            ).reports
        notes += _quality_notes(labelled, self.presets.max_file_bytes(checks))
        meta = dict(result.meta)
        meta["digital_source_type"] = facts.digital_source_type
        meta["content_credentials"] = identity is not None
        finished = replace(result, images=labelled, notes=tuple(notes), meta=meta)
        return Finished(_with_file_size_review(finished, reports), [r.as_dict() for r in reports])

    def _label(
        self,
        image: RenderedImage,
        facts: provenance.Provenance,
        identity: provenance.SigningIdentity | None,
        photo: tuple[bytes, str],
        title: str,
        product_map: tuple[str, str] | None,
    ) -> RenderedImage:
        """``image`` and its thumbnail with the XMP label (the image's with ``product_map``: text and seal)
        and, with an identity, a signed C2PA manifest."""

        plate = None if image.plate is None else (image.plate, provenance.mime_of(image.plate))

        def one(data: bytes, mime: str, name: str, recorded: tuple[str, str] | None = None) -> bytes:
            fmt = _FORMAT_BY_MIME[mime]
            data = xmp.embed(data, fmt, provenance.xmp_packet(facts, recorded))
            if identity is not None:
                data = provenance.sign(data, mime, facts, identity, photo, f"{name}.{fmt}", plate)
            return data

        return replace(
            image,
            data=one(image.data, image.mime, title, product_map),
            thumbnail=one(image.thumbnail, image.thumbnail_mime, f"{title}_thumb"),
        )


def _own_map(result: RenderResult) -> tuple[Image.Image | None, str, bytes] | None:
    """(the main file's pixels decoded at full size, the text of its product map, the pixels' :func:`.mapseal.digest`)
    for the seal and the audit. The pixels are None where the encoder gave their digest (``RenderedImage.pixel_digest``:
    a PNG is not decoded to be sealed). None when the engine did not say where the product is, or the map does not fit
    the XMP (:func:`.productmap.encode`)."""
    alpha = result.meta.get(PRODUCT_ALPHA)
    if not isinstance(alpha, np.ndarray) or not result.images:
        return None
    text = productmap.encode(alpha, compliance.PRODUCT_ALPHA, compliance.FRINGE_ALPHA)
    if text is None:
        return None
    main = result.images[0]
    if main.pixel_digest is not None:
        return None, text, main.pixel_digest
    pixels = mapseal.decode(main.data)
    return pixels, text, mapseal.digest(pixels)


def _quality_notes(images: tuple[RenderedImage, ...], limit: int | None) -> list[str]:
    """A note when a byte limit made the encoder lower an image's quality (``RenderedImage.quality_lowered``)."""
    lowered = [image.quality_lowered for image in images if image.quality_lowered is not None]
    if not lowered or limit is None:
        return []
    asked = max(pair[0] for pair in lowered)
    used = min(pair[1] for pair in lowered)
    kind = next(_FORMAT_BY_MIME[i.mime] for i in images if i.quality_lowered is not None).upper()
    return [
        f"{kind} quality lowered from {asked} to {used} to keep the file within {limit:,} bytes (the preset's limit)"
    ]


def _with_file_size_review(result: RenderResult, reports: Sequence[compliance.ComplianceReport]) -> RenderResult:
    """``result`` flagged for review (``file_size``) when its main file fails a checked preset's file size rule:
    the encoder's steps down to its quality floor did not reach the limit, or the format is lossless."""
    failed = [
        f"{rule.measured:,} bytes; {report.preset}: {rule.required}"
        for report in reports
        for rule in report.rules
        if rule.rule == "file_size" and not rule.passed
    ]
    if not failed:
        return result
    reason = review.reason(review.FILE_SIZE, "; ".join(failed))
    return replace(result, needs_review=True, review_reasons=(*result.review_reasons, reason))
