"""Draw cityeye's icons with Pillow, here, offline: the desk's and the portal's app icons
(static/desk/icon-*.png) and the favicon every page shows in its tab (static/favicon.ico).

The desk installs as an app (its manifest, static/desk/desk.webmanifest), and a phone or
desktop shows these on the home screen, in the task bar and beside a notification. They
are drawn rather than downloaded so no icon set from the internet (and its licence)
enters the package; the committed PNGs are this script's output::

    $ python src/cityeye/web/assets/icons.py   # writes static/desk/icon-*.png, static/favicon.ico

The picture is an eye (城市眼, "the city's eye") in white on the desk's blue. The
"maskable" one fills its square and keeps the eye inside the middle 60 %, the safe zone
a launcher may crop to a circle or a squircle; the others have rounded corners of their own.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

STATIC = Path(__file__).resolve().parent.parent / "static"
DESK = STATIC / "desk"
#: The tab icon: one .ico holding the sizes browsers ask for (16 and 32 in a tab, 48 on
#: a Windows shortcut), served at /favicon.ico too, where browsers look unasked.
FAVICON = STATIC / "favicon.ico"
FAVICON_SIZES = ((16, 16), (32, 32), (48, 48))
BLUE = (31, 111, 178, 255)  # the desk's button colour (desk.css)
DARK = (16, 52, 84, 255)
WHITE = (255, 255, 255, 255)
SUPERSAMPLE = 4  # drawn at 4× and scaled down: smooth edges without an anti-aliasing API


def _disc(size: int, cx: float, cy: float, r: float) -> Image.Image:
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
    return mask


def draw(px: int, *, maskable: bool) -> Image.Image:
    """The icon at ``px``×``px``."""
    s = px * SUPERSAMPLE
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if maskable:
        d.rectangle((0, 0, s, s), fill=BLUE)
        scale = 0.8  # the eye stays within the safe zone
    else:
        d.rounded_rectangle((0, 0, s - 1, s - 1), radius=s * 0.22, fill=BLUE)
        scale = 1.0
    c = s / 2
    # the eye's outline: the lens where two discs overlap (width 0.64, height 0.38 of s)
    half_w, half_h = 0.32 * s * scale, 0.19 * s * scale
    offset = (half_w**2 - half_h**2) / (2 * half_h)
    radius = offset + half_h
    lens = ImageChops.multiply(_disc(s, c, c - offset, radius), _disc(s, c, c + offset, radius))
    img.paste(WHITE, (0, 0), lens)
    iris = 0.15 * s * scale
    d.ellipse((c - iris, c - iris, c + iris, c + iris), fill=BLUE)
    pupil = 0.07 * s * scale
    d.ellipse((c - pupil, c - pupil, c + pupil, c + pupil), fill=DARK)
    glint = 0.03 * s * scale
    gx, gy = c + iris * 0.45 * math.cos(math.pi / 4), c - iris * 0.45 * math.sin(math.pi / 4)
    d.ellipse((gx - glint, gy - glint, gx + glint, gy + glint), fill=WHITE)
    return img.resize((px, px), Image.Resampling.LANCZOS)


#: file name → (size, maskable); the manifest names the same files
ICONS = {
    "icon-192.png": (192, False),
    "icon-512.png": (512, False),
    "icon-maskable-512.png": (512, True),
}


def main() -> None:
    for name, (px, maskable) in ICONS.items():
        path = DESK / name
        draw(px, maskable=maskable).save(path, optimize=True)
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    draw(256, maskable=False).save(FAVICON, sizes=list(FAVICON_SIZES))
    print(f"wrote {FAVICON} ({FAVICON.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
