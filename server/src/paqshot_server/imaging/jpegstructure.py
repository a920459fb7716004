"""The marker structure of a JPEG file, walked end to end without decoding it: whether libjpeg(-turbo), as Pillow
drives it, will decode the file, and the file minus its metadata.

Our own code (it is imaging: no library exposes "would libjpeg fail on this?"). Why a walk can answer it:
libjpeg-turbo treats corrupt entropy-coded data (a bad Huffman code, a marker met early, a wrong or missing restart
marker) as warnings, which Pillow ignores: it fills the rest of the scan with zeros and goes on. Its fatal errors
come from the markers (``jdmarker.c`` ``get_sof``/``get_sos``/``get_dht``/``get_dqt``/``get_dri``, unknown
markers), from tables a scan uses (``jdhuff.c`` ``jpeg_make_d_derived_tbl``: undefined, code space over-full, DC
symbols > 15; ``jdinput.c`` ``latch_quant_tables``), from scan parameters (``jdphuff.c`` ``start_pass_phuff_decoder``:
progression; ``jdinput.c`` ``per_scan_setup``: blocks per MCU; a second scan in a single-scan file), from the frame
(``initial_setup``, ``jdsample.c``: sampling), from the data ending before the image does (Pillow: "image file is
truncated"), and from one data-dependent case: a progressive first DC scan whose DC predictor overflows ``int``
(``JERR_BAD_DCT_COEF``), impossible when blocks between resets x the largest DC difference the table can code fit
in 31 bits. A scan's entropy-coded data ends at the first ``0xFF`` followed by neither ``0x00`` (a stuffed byte),
``0xFF`` (fill) nor ``RSTn``, exactly where libjpeg's ``jpeg_fill_bit_buffer``/``next_marker`` stop.

So :func:`read_structure` parses every marker segment (all scans of a progressive file, tables between scans, EOI)
and checks what libjpeg would refuse, skipping each entropy-coded segment with one regular-expression search.
Anything it does not model exactly (arithmetic coding, lossless or 12-bit frames, sampling other than 4:4:4,
4:2:2, 4:4:0, 4:2:0, 4:1:1, several sequential scans, reserved markers, garbage between segments, a table it
cannot vouch for) makes it unsure: the caller then decodes as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import UnsupportedImage

# Entropy-coded data ends here (RSTn markers belong to it); fill bytes between segments.
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_FF_RUN = re.compile(rb"\xff+")
# The next marker after garbage, as libjpeg's next_marker finds it: 0xFF (fill 0xFF allowed) then a non-zero code
_NEXT_MARKER = re.compile(rb"\xff+[^\x00\xff]")

_SOF_SEQUENTIAL, _SOF_EXTENDED, _SOF_PROGRESSIVE = 0xC0, 0xC1, 0xC2
_DHT, _DQT, _DRI, _SOS, _EOI, _DNL, _COM = 0xC4, 0xDB, 0xDD, 0xDA, 0xD9, 0xDC, 0xFE
_OTHER_SOF = frozenset({0xC3, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xCB, 0xCC, 0xCD, 0xCE, 0xCF})  # incl. JPG, DAC
_PARAMETERLESS = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RSTn: libjpeg ignores them between segments
_APP0, _APP14 = 0xE0, 0xEE
# What libjpeg reads of the APPn segments it reads (jdmarker.c examine_app0/examine_app14): the JFIF header's
# first 14 bytes (its thumbnail size set to 0 x 0 here) and the Adobe segment's 12; the rest (a thumbnail, a JFXX
# extension, any other bytes) only traced, so dropped.
_JFIF, _JFIF_LENGTH = b"JFIF\x00", 14
_ADOBE, _ADOBE_LENGTH = b"Adobe", 12
# Luma sampling factors (h, v) of 3-component frames whose chroma is (1, 1): integral upsampling in libjpeg.
_LUMA_SAMPLING = frozenset({(1, 1), (2, 1), (1, 2), (2, 2), (4, 1)})
_MAX_DIMENSION = 65500  # JPEG_MAX_DIMENSION (jmorecfg.h)
_MAX_BLOCKS_IN_MCU = 10  # D_MAX_BLOCKS_IN_MCU (jpeglib.h)
_INT_MAX = 2**31 - 1
# Markers a file may have, counted over the whole file: marker segments and parameterless markers between segments
# (not the RSTn inside entropy-coded data), and before the first scan each fill byte too. A file with more is
# refused (:class:`~paqshot_server.errors.UnsupportedImage`) before anything else parses it. Why a bound: each
# marker costs a Python step, here and in Pillow's header parser (``JpegImagePlugin._open``, which also takes a
# step per fill byte before the first scan), and a 10 MB file holds 2.5 M empty segments: 9 MB of empty comments
# before the frame cost 3.3 s in ``Image.open`` and 3.3 s in this walk (breaker, session 4). Why this one: real
# files have a few dozen (SOI, APP0, APP1 EXIF and XMP, APP2 ICC and MPF, APP13, APP14, 2-8 tables, a frame, ~10
# scans each with its DHT: libjpeg's progressive script); metadata writers fill segments up to their 64 kB limit, so
# even the 10 MB upload limit all in metadata is ~160 segments. 4,096 is 25x that and costs ~6 ms at most.
MAX_MARKERS = 4096
TOO_MANY_MARKERS = (
    f"The JPEG has more than {MAX_MARKERS:,} markers (comments, metadata or padding between its parts); photos from "
    "cameras and editors have a few dozen. Save the image again (any image editor or converter writes a plain "
    "JPEG) and send it again."
)
# Huffman and quantisation tables read at most (real files define 2-8; a progressive one a few per scan): beyond it
# the file is left to the decoder, whose C reads tables ~20x faster than a Python step per table (breaker, session
# 3: 5 MB of empty DHT tables cost the walk 0.67 s against the decode's 0.05 s).
MAX_TABLES = 1024
# Scans a file may have; a file with more is refused (:class:`~paqshot_server.errors.UnsupportedImage`), as djpeg's
# -maxscans and TurboJPEG's TJPARAM_SCANLIMIT refuse it: libjpeg visits every block of a scan's components however
# little the scan codes, so thousands of near-empty scans decode for minutes (breaker, session 5: 4,000 empty AC
# scans in a 157 kB 40 MP file cost 13.8 s of the API's CPU to decode at the door, then again in the worker).
# Real files have ~10 (libjpeg's progressive script: 10 for colour, 6 for grey); 100 is 10x that.
MAX_SCANS = 100
TOO_MANY_SCANS = (
    f"The JPEG has more than {MAX_SCANS} scans (progressive passes); photos from cameras and editors have about 10. "
    "Save the image again (any image editor or converter writes a plain JPEG) and send it again."
)


@dataclass(frozen=True)
class Structure:
    """``data``: the file as it should be stored (APPn and COM removed but for the part of APP0/APP14 that
    libjpeg reads, fill bytes between segments and anything after EOI removed; the same object when there is
    nothing to remove). ``certain``: libjpeg decodes it (True), or only a decode can tell (False)."""

    data: bytes
    certain: bool


@dataclass(frozen=True)
class _Component:
    ident: int
    h: int
    v: int
    quant: int


class _Lost(Exception):
    """The walk cannot follow the file as libjpeg would."""


class _Walk:
    """One walk over ``data``; :meth:`run` gives the :class:`Structure` (or None before the first scan)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.view = data, memoryview(data)
        self.out: bytearray | None = None  # the kept bytes before ``self.copy_from``, once something was dropped
        self.copy_from = 0
        self.sure = True
        self.frame: list[_Component] | None = None
        self.size = (0, 0)
        self.progressive = False
        self.dc_max: list[int | None] = [None] * 4  # per DC table slot: its largest symbol (None: not usable)
        self.ac_ok = [False] * 4
        self.quant = [False] * 4
        self.latched: set[int] = set()
        self.restart_interval = 0
        self.scans = 0
        self.tables = 0
        self.scanned = False  # the first scan has begun
        self.markers = 0  # counted against MAX_MARKERS
        self.pos = 0  # the segment being walked (where the walk was lost, after _Lost)

    # --- output -----------------------------------------------------------------------------------------------
    def drop(self, start: int, end: int) -> None:
        if self.out is None:
            self.out = bytearray(self.view[:start])
        else:
            self.out += self.view[self.copy_from : start]
        self.copy_from = end

    def replace(self, start: int, end: int, kept: bytes) -> None:
        self.drop(start, end)
        assert self.out is not None
        self.out += kept

    def result(self, end: int) -> bytes:
        if self.out is None:
            return self.data if end == len(self.data) else self.data[:end]
        self.out += self.view[self.copy_from : end]
        return bytes(self.out)

    def unsure(self) -> None:
        self.sure = False

    def count(self, markers: int = 1) -> None:
        """Count ``markers`` more; refuse the file past :data:`MAX_MARKERS`."""
        self.markers += markers
        if self.markers > MAX_MARKERS:
            raise UnsupportedImage(TOO_MANY_MARKERS)

    # --- the walk ---------------------------------------------------------------------------------------------
    def run(self) -> Structure | None:
        data = self.data
        if data[:2] != b"\xff\xd8":
            return None
        self.pos = 2
        try:
            while True:
                self.pos = self.step(self.pos)
                if self.pos < 0:
                    return Structure(self.result(-self.pos), self.sure)
        except _Lost:
            if not self.scanned:
                self.count_to_scan(self.pos)
                return None
            return Structure(self.resync(self.pos), False)

    def step(self, pos: int) -> int:
        """Handle the segment at ``pos``; the next segment's position, or -(end of the file to keep) at EOI."""
        data = self.data
        if pos + 2 > len(data) or data[pos] != 0xFF:
            raise _Lost  # cut short, or garbage between segments (libjpeg skips it with a warning)
        run = _FF_RUN.match(data, pos)
        assert run is not None  # data[pos] is 0xFF
        if run.end() - pos > 1:  # fill bytes before the marker's own 0xFF: dropped
            if not self.scanned:
                self.count(run.end() - pos - 1)  # Pillow's header parser takes a step per fill byte
            self.drop(pos, run.end() - 1)
            return run.end() - 1
        self.count()
        marker = data[pos + 1]
        if marker == _EOI:
            if not self.scanned:
                raise _Lost
            return -(pos + 2)
        if marker in _PARAMETERLESS:
            self.unsure()
            return pos + 2
        return self.segment(pos, marker)

    def segment(self, pos: int, marker: int) -> int:
        """Handle the marker segment (with a length) at ``pos``; the next one's position."""
        data = self.data
        if pos + 4 > len(data):
            raise _Lost
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise _Lost
        body = self.view[pos + 4 : end]
        if 0xE0 <= marker <= 0xEF or marker == _COM:
            self.metadata(pos, end, marker, body)
        elif marker == _SOS:
            self.scanned = True
            self.scan(body)
            found = _SCAN_END.search(data, end)
            if found is None:
                raise _Lost  # the entropy-coded data runs to the end of the file: truncated
            return found.start()
        else:
            self.table_or_frame(marker, body)
        return end

    def metadata(self, pos: int, end: int, marker: int, body: memoryview) -> None:
        """Drop an APPn/COM segment, or cut APP0/APP14 to what libjpeg reads of them."""
        kept = _read_part(marker, body)
        if kept is None:
            self.drop(pos, end)
        elif kept is not body:
            self.replace(pos, end, bytes((0xFF, marker)) + (len(kept) + 2).to_bytes(2, "big") + kept)

    def resync(self, pos: int) -> bytes:
        """The file to keep when the walk was lost at ``pos`` after the first scan (garbage between segments, a
        marker libjpeg refuses, a length past the end): go on from the next marker as libjpeg's ``next_marker``
        does, still dropping metadata and what follows EOI; a segment that runs past the end is kept as sent
        unless it is metadata."""
        data = self.data
        while True:
            found = _NEXT_MARKER.search(data, pos)
            self.count()
            if found is None:
                return self.result(len(data))
            pos, marker = found.end() - 2, data[found.end() - 1]
            if marker == _EOI:
                return self.result(pos + 2)
            if marker == _SOS:
                self.count_scan()  # the decode meets every scan, vouched for or not
            if marker in _PARAMETERLESS or marker == 0xD8 or pos + 4 > len(data):
                pos += 2
                continue
            end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
            metadata = 0xE0 <= marker <= 0xEF or marker == _COM
            if end > len(data):
                return self.result(pos if metadata else len(data))
            if metadata:
                self.metadata(pos, end, marker, self.view[pos + 4 : end])
            pos = max(end, pos + 2)

    def count_to_scan(self, pos: int) -> None:
        """Count the markers from ``pos`` (where the walk was lost before the first scan) to the first SOS, as
        Pillow's header parser will meet them (fill bytes one by one), and the scans from there, so that the bounds
        hold for such files too."""
        data = self.data
        while True:
            found = _NEXT_MARKER.search(data, pos)
            if found is None:
                return
            self.count(found.end() - found.start() - 1)
            pos, marker = found.end() - 2, data[found.end() - 1]
            if marker == _SOS:  # the decode will meet every scan from here (0xFF 0xDA is never entropy-coded data)
                self.count_scan(data.count(b"\xff\xda", pos))
                return
            if pos + 4 > len(data):
                return
            if marker in _PARAMETERLESS or marker in (0xD8, _EOI):
                pos += 2
            else:
                pos = max(pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big"), pos + 2)

    def table_or_frame(self, marker: int, body: memoryview) -> None:
        if marker in (_SOF_SEQUENTIAL, _SOF_EXTENDED, _SOF_PROGRESSIVE):
            self.start_of_frame(body, progressive=marker == _SOF_PROGRESSIVE)
        elif marker == _DHT:
            self.huffman_tables(body)
        elif marker == _DQT:
            self.quantisation_tables(body)
        elif marker == _DRI:
            if len(body) != 2:
                self.unsure()
            self.restart_interval = int.from_bytes(body, "big")
        elif marker in _OTHER_SOF or marker == _DNL:
            self.unsure()  # arithmetic, lossless, hierarchical: left to the decoder
        else:
            raise _Lost  # DHP, EXP, JPGn, reserved, a second SOI: fatal to libjpeg (or skipped at a restart)

    # --- segments ---------------------------------------------------------------------------------------------
    def start_of_frame(self, body: memoryview, *, progressive: bool) -> None:
        if self.frame is not None or len(body) < 6:
            self.unsure()
            return
        precision, count = body[0], body[5]
        height, width = int.from_bytes(body[1:3], "big"), int.from_bytes(body[3:5], "big")
        if precision != 8 or count not in (1, 3) or len(body) != 6 + 3 * count:
            self.unsure()
            return
        components = [
            _Component(body[i], body[i + 1] >> 4, body[i + 1] & 15, body[i + 2]) for i in range(6, 6 + 3 * count, 3)
        ]
        luma, *chroma = components
        if (
            not (0 < height <= _MAX_DIMENSION and 0 < width <= _MAX_DIMENSION)
            or len({c.ident for c in components}) != count
            or any(c.quant > 3 for c in components)
            or not (1 <= luma.h <= 4 and 1 <= luma.v <= 4)
            or (chroma and ((luma.h, luma.v) not in _LUMA_SAMPLING or any((c.h, c.v) != (1, 1) for c in chroma)))
        ):
            self.unsure()  # a frame kept only when every later computation on it is sound
            return
        self.frame, self.size, self.progressive = components, (width, height), progressive

    def huffman_tables(self, body: memoryview) -> None:
        at = 0
        while len(body) - at > 16:  # as get_dht: a remainder of 1..16 bytes is a length error
            if not self.count_table():
                return
            index, counts = body[at], body[at + 1 : at + 17]
            symbols = sum(counts)
            values = body[at + 17 : at + 17 + symbols]
            at += 17 + symbols
            if (index & 0xEF) > 3 or symbols > 256 or at > len(body):
                self.unsure()
                return
            dc = not index & 0x10
            valid = huffman_table_valid(counts, values, dc=dc)
            if dc:
                self.dc_max[index & 3] = max(values, default=0) if valid else None
            else:
                self.ac_ok[index & 3] = valid
            if not valid:
                self.unsure()  # libjpeg refuses it only if a scan uses it: not worth telling apart
        if at != len(body):
            self.unsure()

    def count_table(self) -> bool:
        """One more table read; False (and unsure) past :data:`MAX_TABLES`."""
        self.tables += 1
        if self.tables > MAX_TABLES:
            self.unsure()
            return False
        return True

    def quantisation_tables(self, body: memoryview) -> None:
        at = 0
        while at < len(body):
            if not self.count_table():
                return
            precision, slot = body[at] >> 4, body[at] & 15
            at += 1 + 64 * (1 + (precision != 0))
            if precision > 1 or slot > 3 or at > len(body):
                self.unsure()
                return
            self.quant[slot] = True

    def count_scan(self, scans: int = 1) -> None:
        """Count ``scans`` more; refuse the file past :data:`MAX_SCANS`."""
        self.scans += scans
        if self.scans > MAX_SCANS:
            raise UnsupportedImage(TOO_MANY_SCANS)

    def scan(self, body: memoryview) -> None:
        self.count_scan()
        frame = self.frame
        count = body[0] if len(body) else 0
        if frame is None or not 1 <= count <= 4 or len(body) != 4 + 2 * count:
            self.unsure()
            return
        by_id = {c.ident: c for c in frame}
        chosen = [by_id.get(body[1 + 2 * i]) for i in range(count)]
        tables = [(body[2 + 2 * i] >> 4, body[2 + 2 * i] & 15) for i in range(count)]
        start, end, approx = body[1 + 2 * count], body[2 + 2 * count], body[3 + 2 * count]
        if None in chosen or len({id(c) for c in chosen}) != count:
            self.unsure()
            return
        # get_sos looks the i-th listed component up among frame components whose slot i.. of cur_comp_info is
        # still free, indexing that scan-ordered array by FRAME index: a component listed at position i whose frame
        # index is < i is refused (JERR_BAD_COMPONENT_ID), so out-of-frame-order lists are left to the decoder
        if any(frame.index(c) < i for i, c in enumerate(chosen) if c is not None):
            self.unsure()
            return
        components = [c for c in chosen if c is not None]
        if any(dc > 3 or ac > 3 for dc, ac in tables):
            self.unsure()  # JERR_NO_HUFF_TABLE when used
            return
        if count > 1 and sum(c.h * c.v for c in components) > _MAX_BLOCKS_IN_MCU:
            self.unsure()
        for c in components:  # latch_quant_tables: each component's table at its first scan
            if c.ident not in self.latched and not self.quant[c.quant]:
                self.unsure()
            self.latched.add(c.ident)
        if self.progressive:
            self.progressive_scan(components, tables, start, end, approx >> 4, approx & 15)
        elif self.scans > 1 or count != len(frame):  # Ss, Se, Ah, Al: libjpeg only warns (files with zeros exist)
            self.unsure()  # several sequential scans, or a second scan where libjpeg expects EOI
        elif any(self.dc_max[dc] is None or not self.ac_ok[ac] for dc, ac in tables):
            self.unsure()

    def progressive_scan(
        self, components: list[_Component], tables: list[tuple[int, int]], start: int, end: int, high: int, low: int
    ) -> None:
        dc = start == 0
        if not progression_valid(start, end, high, low, len(components)):
            self.unsure()
            return
        if not dc:
            if not self.ac_ok[tables[0][1]]:
                self.unsure()
            return
        if high != 0:
            return  # a DC refinement reads no table and predicts nothing
        for component, (table, _ac) in zip(components, tables, strict=True):
            largest = self.dc_max[table]
            if largest is None or self.blocks_between_resets(component, len(components)) * (2**largest - 1) > _INT_MAX:
                self.unsure()

    def blocks_between_resets(self, c: _Component, in_scan: int) -> int:
        """Blocks of ``c`` coded between two resets of its DC predictor (scan start, restart markers)."""
        assert self.frame is not None
        width, height = self.size
        h_max, v_max = max(x.h for x in self.frame), max(x.v for x in self.frame)
        if in_scan == 1:  # one block per MCU; width_in_blocks x height_in_blocks (jdinput.c)
            per_mcu = 1
            mcus = _ceil_div(width * c.h, 8 * h_max) * _ceil_div(height * c.v, 8 * v_max)
        else:
            per_mcu = c.h * c.v
            mcus = _ceil_div(width, 8 * h_max) * _ceil_div(height, 8 * v_max)
        if self.restart_interval:
            mcus = min(mcus, self.restart_interval)
        return mcus * per_mcu


def _read_part(marker: int, body: memoryview) -> bytes | memoryview | None:
    """The part of an APPn/COM segment's body that libjpeg reads (None: none)."""
    if marker == _APP0 and body[: len(_JFIF)] == _JFIF and len(body) >= _JFIF_LENGTH:
        return body if len(body) == _JFIF_LENGTH and body[12:14] == b"\x00\x00" else bytes(body[:12]) + b"\x00\x00"
    if marker == _APP14 and body[: len(_ADOBE)] == _ADOBE and len(body) >= _ADOBE_LENGTH:
        return body if len(body) == _ADOBE_LENGTH else body[:_ADOBE_LENGTH]
    return None


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def huffman_table_valid(counts: memoryview, values: memoryview, *, dc: bool) -> bool:
    """Whether a Huffman table (``counts[i]``: codes of i+1 bits; ``values``: the symbols) is one libjpeg accepts
    (``jpeg_make_d_derived_tbl``, ITU-T T.81 figure C.2): no length runs out of codes, no code is all ones, and a
    DC table codes differences of at most 15 bits."""
    code = 0
    for bits, n in enumerate(counts, start=1):
        code += n
        if n and code >= 1 << bits:
            return False
        code <<= 1
    return not dc or max(values, default=0) <= 15


def progression_valid(start: int, end: int, high: int, low: int, components: int) -> bool:
    """Whether progressive scan parameters (Ss, Se, Ah, Al) are ones libjpeg accepts (``start_pass_phuff_decoder``,
    else ``JERR_BAD_PROGRESSION``): a DC scan (Ss = 0) has Se = 0; an AC scan has Ss <= Se <= 63 and one
    component; a refinement has Al = Ah - 1; Al <= 13."""
    band = end == 0 if start == 0 else start <= end <= 63 and components == 1
    return band and (high == 0 or low == high - 1) and low <= 13


# ICC.1 Annex B.4: a profile in APP2 segments of "ICC_PROFILE\0", a 1-based sequence number and the count, each
# segment's part at most 65,519 bytes (65,533 of body); Pillow's JPEG writer splits them the same way.
_ICC_TAG, _ICC_PART = b"ICC_PROFILE\x00", 65519


def with_icc_profile(data: bytes, profile: bytes) -> bytes:
    """``data`` (a JPEG as :func:`read_structure` keeps it) with ``profile`` in APP2 segments, after SOI and a
    leading APP0: libjpeg decodes the same samples; Pillow reads the same ``info["icc_profile"]`` back. One copy.

    Raises:
        ValueError: a profile of more than 255 parts (16.7 MB: larger than any upload).
    """
    parts = [profile[i : i + _ICC_PART] for i in range(0, len(profile), _ICC_PART)]
    if not 0 < len(parts) <= 255:
        raise ValueError(f"an ICC profile of {len(profile)} bytes does not fit in 255 APP2 segments")
    return with_segments(data, [(b"\xe2", _ICC_TAG + bytes((n, len(parts))) + part) for n, part in enumerate(parts, 1)])


def with_segments(data: bytes, segments: Iterable[tuple[bytes, bytes]]) -> bytes:
    """``data`` (a JPEG as :func:`read_structure` keeps it) with ``segments`` ((marker byte, payload) pairs, e.g.
    ``(b"\\xe1", exif)``) after SOI and a leading APP0, where JFIF wants them.

    Raises:
        ValueError: a payload longer than a segment holds (65,533 bytes).
    """
    parts = []
    for marker, payload in segments:
        if len(payload) > 0xFFFF - 2:
            raise ValueError(f"a segment payload of {len(payload)} bytes does not fit in one JPEG segment")
        parts.append(b"\xff" + marker + (2 + len(payload)).to_bytes(2, "big") + payload)
    at = 2
    if data[2:4] == b"\xff\xe0":  # JFIF wants its APP0 first
        at += 2 + int.from_bytes(data[4:6], "big")
    return b"".join((data[:at], *parts, data[at:]))


def read_structure(data: bytes) -> Structure | None:
    """Walk the JPEG in ``data`` marker by marker, entropy-coded data skipped in C.

    Returns None when the markers before the first scan cannot be followed (not a JPEG as libjpeg reads it);
    otherwise a :class:`Structure`. Where the walk loses the file after the first scan (cut short, garbage or a
    reserved marker between segments), ``certain`` is False and ``data`` goes on from the next marker as libjpeg
    does, metadata still dropped. Cost: one pass, a Python step per marker (at most :data:`MAX_MARKERS`), the
    entropy-coded data searched at ~1 GB/s; memory at most one copy of ``data``.

    Raises:
        UnsupportedImage: more than :data:`MAX_MARKERS` markers (:data:`TOO_MANY_MARKERS`), counted before any of
            them is parsed beyond its length; run it before Pillow's ``Image.open``, whose parser is slower. More
            than :data:`MAX_SCANS` scans (:data:`TOO_MANY_SCANS`), whose decode would cost seconds.
    """
    return _Walk(data).run()
