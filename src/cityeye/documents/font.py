"""The Chinese font every PDF embeds: the packaged Noto Sans SC, only the glyphs it uses.

A PDF that names a font without embedding it (the CID font STSong-Light the reports
used) shows blank pages on a stock Debian reader and boxes with poppler-data: the
reader has no Chinese font of its own. The pages already ship Noto Sans SC (SIL OFL
1.1) as WOFF2 slices, each covering a ``unicode-range`` listed in ``vendor/fonts.css``
(docs/web-assets.md). A PDF takes its font from there too:

1. collect the characters the document uses;
2. decode only the slices that cover them (fontTools reads WOFF2 with ``brotli``);
3. merge those slices' glyphs, metrics and character map into one TrueType font in
   memory and register it with reportlab, which embeds the subset it draws
   (``/FontFile2``), so the PDF renders on any machine.

Decoding a slice costs about 40 ms, so the decoded slices and the merged fonts are
kept for the life of the process: a second document with the same characters costs
nothing more. A character no slice covers (an emoji, a rare ideograph) does not fail:
it is drawn as the font's missing-glyph box, so the reader sees that something is
there.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

#: Where the pages' font lives (served at /static/vendor/).
VENDOR = Path(__file__).resolve().parent.parent / "web" / "static" / "vendor"
#: The weight a document is set in (the slices also come in 700, which no PDF uses).
WEIGHT = "400"
#: Characters every document may draw besides its text: digits and signs of the
#: chart axes and the page furniture.
ALWAYS = "0123456789.,:%-+/() —·"

_FACE = re.compile(r"@font-face\s*{(.*?)}", re.S)
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Slice:
    """One WOFF2 slice of ``fonts.css``: its file and the code points it covers."""

    file: str  # relative to VENDOR
    ranges: tuple[tuple[int, int], ...]

    def covers(self, code: int) -> bool:
        return any(low <= code <= high for low, high in self.ranges)


@cache
def slices() -> tuple[Slice, ...]:
    """The regular weight's slices, as ``fonts.css`` maps them to code points."""
    found = []
    for block in _FACE.findall((VENDOR / "fonts.css").read_text(encoding="utf-8")):
        weight = re.search(r"font-weight:\s*(\d+)", block)
        src = re.search(r"url\(([^)]+)\)", block)
        spans = re.search(r"unicode-range:\s*([^;]+);", block)
        if weight is None or src is None or spans is None or weight.group(1) != WEIGHT:
            continue
        ranges = []
        for part in spans.group(1).split(","):
            low, _, high = part.strip().removeprefix("U+").partition("-")
            ranges.append((int(low, 16), int(high or low, 16)))
        found.append(Slice(src.group(1).strip("'\""), tuple(ranges)))
    return tuple(found)


def slices_for(text: str) -> tuple[Slice, ...]:
    """The slices that cover the characters of ``text`` (each at most once, in
    ``fonts.css`` order); characters none covers are left to the missing glyph."""
    wanted = {ord(ch) for ch in set(text) | set(ALWAYS) if ch.isprintable()}
    chosen: dict[str, Slice] = {}
    for code in sorted(wanted):
        for s in slices():
            if s.covers(code):
                chosen.setdefault(s.file, s)
                break
    order = {s.file: i for i, s in enumerate(slices())}
    return tuple(sorted(chosen.values(), key=lambda s: order[s.file]))


@dataclass(frozen=True, slots=True)
class _Decoded:
    cmap: dict[int, str]
    glyphs: dict[str, bytes]  # name → the glyph's bytes (outlines only, no components)
    metrics: dict[str, tuple[int, int]]  # name → (advance, left side bearing)
    font: Any  # the slice itself, for its vertical metrics and names


@lru_cache(maxsize=256)
def _decode(file: str) -> _Decoded:
    """One slice decoded: each glyph's bytes as the font stores them (cut out of the
    rebuilt glyf table by its loca offsets, never decompiled and compiled again, which
    would cost ten times the decoding), its glyph names made unique to the slice (the
    slices have no names of their own, so fontTools makes up names that repeat)."""
    from fontTools.ttLib import TTFont

    font = TTFont(VENDOR / file)
    order, loca, hmtx = font.getGlyphOrder(), font["loca"], font["hmtx"]
    raw = font.reader["glyf"]  # the WOFF2 glyf table rebuilt, as plain TrueType bytes
    tag = Path(file).stem
    glyphs, metrics = {}, {}
    for gid, name in enumerate(order):
        data = bytes(raw[loca[gid] : loca[gid + 1]])
        if data and int.from_bytes(data[:2], "big", signed=True) < 0:
            # a composite names its parts by glyph id, which the merge renumbers
            raise ValueError(f"{file}: glyph {name} is a composite; flatten it first")
        glyphs[f"{tag}.{name}"] = data
        metrics[f"{tag}.{name}"] = hmtx[name]
    cmap = {code: f"{tag}.{name}" for code, name in font.getBestCmap().items()}
    return _Decoded(cmap, glyphs, metrics, font)


def _merge(parts: tuple[Slice, ...], tag: str) -> bytes:
    """The slices' glyphs as one TrueType font (glyf, hmtx, cmap; no layout tables,
    which reportlab does not use), its PostScript name ending in ``tag``: reportlab
    keeps one face per PostScript name, so two merged fonts with the same name would
    draw each other's glyphs. The glyphs go in as the bytes they were, so the bounding
    boxes and maxima are the slices' own (their union), not recomputed glyph by glyph."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.ttLib import newTable
    from fontTools.ttLib.tables._g_l_y_f import Glyph

    decoded = [_decode(s.file) for s in parts]
    first = decoded[0].font
    head, hhea, os2 = first["head"], first["hhea"], first["OS/2"]
    glyphs: dict[str, Any] = {
        ".notdef": Glyph(decoded[0].glyphs[f"{Path(parts[0].file).stem}..notdef"])
    }
    metrics: dict[str, tuple[int, int]] = {".notdef": first["hmtx"][".notdef"]}
    cmap: dict[int, str] = {}
    for part in decoded:
        # each font its own glyph objects: fonts built one after another (or in two
        # threads) share nothing mutable
        glyphs.update((n, Glyph(d)) for n, d in part.glyphs.items() if not n.endswith("..notdef"))
        metrics.update(part.metrics)
        for code, name in part.cmap.items():
            cmap.setdefault(code, name)
    builder = FontBuilder(head.unitsPerEm, isTTF=True)
    builder.font.recalcBBoxes = False  # the glyphs' bytes carry their own boxes
    builder.setupGlyphOrder(list(glyphs))
    builder.setupCharacterMap(cmap)
    builder.font["loca"] = newTable("loca")
    builder.font["glyf"] = newTable("glyf")
    builder.font["glyf"].glyphs = glyphs
    builder.font["glyf"].glyphOrder = builder.font.getGlyphOrder()
    heads = [d.font["head"] for d in decoded]
    builder.setupHead(
        unitsPerEm=head.unitsPerEm,
        created=head.created,
        modified=head.modified,
        fontRevision=head.fontRevision,
        xMin=min(h.xMin for h in heads),
        yMin=min(h.yMin for h in heads),
        xMax=max(h.xMax for h in heads),
        yMax=max(h.yMax for h in heads),
    )
    builder.setupMaxp()
    maxp = builder.font["maxp"]
    for field in (
        "maxPoints",
        "maxContours",
        "maxCompositePoints",
        "maxCompositeContours",
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
        "maxComponentDepth",
    ):
        setattr(maxp, field, max(getattr(d.font["maxp"], field, 0) for d in decoded))
    builder.setupHorizontalMetrics(metrics)
    hheas = [d.font["hhea"] for d in decoded]
    builder.setupHorizontalHeader(
        ascent=hhea.ascent,
        descent=hhea.descent,
        advanceWidthMax=max(h.advanceWidthMax for h in hheas),
        minLeftSideBearing=min(h.minLeftSideBearing for h in hheas),
        minRightSideBearing=min(h.minRightSideBearing for h in hheas),
        xMaxExtent=max(h.xMaxExtent for h in hheas),
    )
    names = first["name"]
    builder.setupNameTable(
        {
            "copyright": str(names.getDebugName(0) or ""),
            "familyName": "Noto Sans SC",
            "styleName": "Regular",
            "uniqueFontIdentifier": f"cityeye;NotoSansSC-Regular;{tag}",
            "fullName": "Noto Sans SC Regular",
            "psName": f"NotoSansSC-Regular-{tag}",
            "licenseDescription": str(names.getDebugName(13) or "SIL Open Font License 1.1"),
            "licenseInfoURL": str(names.getDebugName(14) or "https://openfontlicense.org"),
        }
    )
    builder.setupOS2(
        usWeightClass=400,
        fsType=0,  # installable: a PDF may embed it (the OFL allows it)
        sTypoAscender=os2.sTypoAscender,
        sTypoDescender=os2.sTypoDescender,
        sTypoLineGap=os2.sTypoLineGap,
        usWinAscent=os2.usWinAscent,
        usWinDescent=os2.usWinDescent,
        sxHeight=getattr(os2, "sxHeight", 0),
        sCapHeight=getattr(os2, "sCapHeight", 0),
    )
    builder.setupPost()
    out = io.BytesIO()
    builder.save(out)
    return out.getvalue()


@lru_cache(maxsize=32)
def _registered(parts: tuple[Slice, ...]) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    tag = hashlib.sha1("|".join(s.file for s in parts).encode()).hexdigest()[:10]
    name = f"cityeye-sans-{tag}"
    pdfmetrics.registerFont(TTFont(name, io.BytesIO(_merge(parts, tag))))
    return name


def pdf_font(texts: Iterable[str]) -> str:
    """The name of a registered reportlab font that draws every character of ``texts``
    the packaged Noto Sans SC has, built from the slices that cover them (and
    embedded, as a subset, in every PDF that uses it)."""
    with _LOCK:  # one decode and merge at a time: the server builds PDFs in threads
        return _registered(slices_for("".join(texts)))
