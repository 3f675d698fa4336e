"""Checks that a PDF renders anywhere (issue 18): every font it names is embedded, and
page 1 drawn by poppler with no font of the machine's own shows its title."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader


def unembedded_fonts(path: Path) -> list[str]:
    """The fonts the PDF names without embedding them (a bare CID font such as
    STSong-Light, or one of the standard 14 such as Helvetica): what a reader without
    that font draws as nothing or as boxes."""
    missing = []
    for page in PdfReader(path).pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for font in fonts.values():
            font = font.get_object()
            if font.get("/Subtype") == "/Type0":  # a CID font: its descendant has the file
                font = font["/DescendantFonts"][0].get_object()
            descriptor = font.get("/FontDescriptor")
            embedded = descriptor is not None and any(
                key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            if not embedded:
                missing.append(str(font.get("/BaseFont")))
    return missing


def dark_pixels_at_top(path: Path, tmp: Path, *, rows: int = 60) -> int:
    """Page 1 drawn by ``pdftoppm -r 50`` where fontconfig finds no font at all (an
    empty font folder, a fresh HOME): how many dark pixels the top ``rows`` rows (the
    title) have. Skipped without pdftoppm, unless under CI (where .ci/run installs it)."""
    if shutil.which("pdftoppm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm is missing (poppler-utils): .ci/run installs it under CI")
        pytest.skip("pdftoppm (poppler-utils) is not installed: cannot draw the PDF")
    (tmp / "fonts").mkdir(exist_ok=True)
    (tmp / "home").mkdir(exist_ok=True)
    config = tmp / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
        f"<fontconfig><dir>{tmp / 'fonts'}</dir><cachedir>{tmp / 'cache'}</cachedir>"
        "</fontconfig>\n"
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp / "home"),
        "FONTCONFIG_FILE": str(config),
    }
    out = tmp / "page"
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", "-singlefile", str(path), str(out)],
        check=True,
        env=env,
        capture_output=True,
        timeout=60,
    )
    image = Image.open(out.with_suffix(".png")).convert("L")
    top = image.crop((0, 0, image.width, rows))
    return sum(1 for y in range(top.height) for x in range(top.width) if top.getpixel((x, y)) < 128)
