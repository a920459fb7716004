"""Provenance in every output file: an IPTC/XMP label and a signed C2PA manifest (Content Credentials).

The XMP packet carries the IPTC digital source type (``Iptc4xmpExt:DigitalSourceType``) and the generator
(``xmp:CreatorTool``: the brand's product name and version); nothing of the input's metadata is carried over
(decode strips it at the door). The C2PA manifest is made and signed by the official ``c2pa-python`` library
and read back with its ``Reader``; it records the actions (``c2pa.created`` with the digital source type,
``c2pa.placed`` of the product photo as an ingredient, and of the backdrop photograph it stands on, if any;
``c2pa.edited`` for the background and, when a model cut the product out, for the cut-out) and is signed with
the operator's certificate.

Digital source type (IPTC NewsCodes, http://cv.iptc.org/newscodes/digitalsourcetype/, read 2026-11-29):

- ``compositeWithTrainedAlgorithmicMedia`` — "the compositing of trained algorithmic media with some other
  media, such as with inpainting or outpainting": a trained model produced some pixels (a model cut-out's
  matte decides the product's edge pixels; a diffusion model paints the scene around the product photo).
- ``compositeSynthetic`` — "mix or composite of several elements, at least one of which is synthetic": the
  product photo (a capture) composited over a background drawn by code (studio colour, procedural set) with a
  classical cut-out or the photo's own alpha; also over a backdrop photograph (``plate``), whose shadow is
  drawn by code. ``algorithmicMedia`` ("created purely by an algorithm") does not
  fit: the product's pixels are a photograph.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from PIL import Image

from . import productmap

IPTC_DST = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED_COMPOSITE = "compositeWithTrainedAlgorithmicMedia"
SYNTHETIC_COMPOSITE = "compositeSynthetic"
MIME_BY_FORMAT = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass(frozen=True)
class Provenance:
    """What ran, in the terms provenance needs.

    Attributes:
        generator: product name from the brand (never a literal here).
        version: the appliance's version.
        engine: the result's engine (``classical``, ``onnx:<id>``, ``procedural``, ``diffusion:<id>``, ``plate``,
            ``plate+diffusion:<id>``).
        cutout: what cut the product out (``classical``, ``alpha`` or a model's name).
        background: the background action: (its description, the IPTC digital source type of the pixels it
            made, a term of :data:`IPTC_DST`, or None when it made none: a removed background, a backdrop
            photograph).
    """

    generator: str
    version: str
    engine: str
    cutout: str
    background: tuple[str, str | None]

    @property
    def trained_cutout(self) -> bool:
        return self.cutout not in ("classical", "alpha")

    @property
    def trained_background(self) -> bool:
        """A diffusion model painted part of the background (a scene, or a plate's contact band)."""
        return "diffusion:" in self.engine

    @property
    def digital_source_type(self) -> str:
        """The IPTC term (full URI) for the whole image (mapping in the module docstring)."""
        trained = self.trained_cutout or self.trained_background or self.engine.startswith("onnx:")
        return IPTC_DST + (TRAINED_COMPOSITE if trained else SYNTHETIC_COMPOSITE)


def xmp_packet(facts: Provenance, product_map: tuple[str, str] | None = None) -> bytes:
    """An XMP packet (UTF-8) with the digital source type and the generator, and ``product_map`` when given:
    (text of :func:`.productmap.encode`, its :func:`.mapseal.seal`), where the product is, for the compliance
    check of the file."""
    creator = _xml_escape(f"{facts.generator} {facts.version}")
    recorded = "" if product_map is None else f"\n    {productmap.attribute(*product_map)}"
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        f'    Iptc4xmpExt:DigitalSourceType="{facts.digital_source_type}"\n'
        f'    xmp:CreatorTool="{creator}"{recorded}/>\n'
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    ).encode()


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def manifest_definition(facts: Provenance, title: str, plate: bool = False) -> dict[str, Any]:
    """The C2PA manifest definition (c2pa-python's JSON form) for one output; ``plate``: a backdrop photograph
    was placed too (its ingredient's label is ``backdrop``)."""
    agent = {"name": facts.generator, "version": facts.version}
    placed = ["product", *(["backdrop"] if plate else [])]
    actions: list[dict[str, Any]] = [
        {"action": "c2pa.created", "digitalSourceType": facts.digital_source_type, "softwareAgent": agent},
        *({"action": "c2pa.placed", "parameters": {"ingredientIds": [i]}, "softwareAgent": agent} for i in placed),
    ]
    if facts.trained_cutout:
        actions.append(
            {
                "action": "c2pa.edited",
                "description": f"product cut out of its photo by the trained model {facts.cutout}",
                "digitalSourceType": IPTC_DST + "trainedAlgorithmicMedia",
                "softwareAgent": agent,
            }
        )
    description, made = facts.background
    background: dict[str, Any] = {"action": "c2pa.edited", "description": description, "softwareAgent": agent}
    actions.append(background if made is None else {**background, "digitalSourceType": IPTC_DST + made})
    return {
        "claim_generator_info": [agent],
        "title": title,
        "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": actions}}],
    }


@dataclass(frozen=True)
class SigningIdentity:
    """A PEM certificate chain (signing certificate first) and its PEM private key, with the algorithm."""

    chain_pem: bytes
    key_pem: bytes
    algorithm: str  # ES256 | ES384 | ES512 | PS256 | ED25519
    not_after: float | None = None  # the signing certificate's end, Unix seconds (UTC); None: not known


def sign(
    data: bytes,
    mime: str,
    facts: Provenance,
    identity: SigningIdentity,
    ingredient: tuple[bytes, str],
    title: str,
    plate: tuple[bytes, str] | None = None,
) -> bytes:
    """``data`` with an embedded, signed C2PA manifest; ``ingredient`` is (product photo bytes, its MIME),
    ``plate`` (the backdrop photograph's bytes, its MIME) when the product stands on one.

    Raises:
        c2pa.C2paError: the library refused the manifest, the certificate or the file.
    """
    import c2pa  # native library: loaded on first use, not at import

    context = c2pa.Context(c2pa.Settings.from_dict({"builder": {"thumbnail": {"enabled": False}}}))
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(identity.algorithm, identity.chain_pem, identity.key_pem, None))
    try:
        builder = c2pa.Builder.from_json(manifest_definition(facts, title, plate is not None), context)
        components = [("product photo", "product", ingredient), ("backdrop photograph", "backdrop", plate)]
        for name, label, file in components:
            if file is not None:
                meta = {"title": name, "relationship": "componentOf", "label": label}
                builder.add_ingredient(meta, file[1], io.BytesIO(file[0]))
        out = io.BytesIO()
        builder.sign(signer, mime, io.BytesIO(data), out)
    finally:
        signer.close()
    return out.getvalue()


def read_manifest(data: bytes, mime: str, trust_anchors_pem: bytes | None = None) -> dict[str, Any]:
    """The manifest store as c2pa's Reader reports it, plus ``validation_state`` (``Valid``/``Trusted``/
    ``Invalid``). ``trust_anchors_pem`` makes a certificate chaining to those roots ``Trusted``.

    Raises:
        c2pa.C2paError: no manifest, or one the library cannot read.
    """
    import c2pa

    settings: dict[str, Any] = {"verify": {"ocsp_fetch": False, "remote_manifest_fetch": False}}
    if trust_anchors_pem:
        settings["trust"] = {"trust_anchors": trust_anchors_pem.decode()}
    context = c2pa.Context(c2pa.Settings.from_dict(settings))
    with c2pa.Reader(mime, io.BytesIO(data), context=context) as reader:
        store: dict[str, Any] = json.loads(reader.json())
        store["validation_state"] = reader.get_validation_state()
    return store


def mime_of(data: bytes) -> str:
    """MIME type of an image file from its content (JPEG, PNG or WebP)."""
    with Image.open(io.BytesIO(data)) as image:
        return MIME_BY_FORMAT.get(image.format or "", "application/octet-stream")
