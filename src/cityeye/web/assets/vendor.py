"""Refresh the browser libraries and fonts vendored into the cityeye package.

    python src/cityeye/web/assets/vendor.py            # npm ci, copy, write MANIFEST.json
    python src/cityeye/web/assets/vendor.py --no-install   # reuse node_modules as it is
    python src/cityeye/web/assets/vendor.py --check    # verify static/vendor against MANIFEST

The copies under ``src/cityeye/web/static/vendor/`` are committed to git, so ``pip install``
and ``make demo`` need neither npm nor a network; this script is only for updating them
(bump a version in ``package.json``, run it, commit package.json, package-lock.json and
static/vendor together). Pages load everything from ``/static/vendor/...``, never a CDN:
government networks are often offline (docs/web-assets.md).

Only what the pages need is copied: echarts.min.js, Leaflet's js/css/images, Swagger UI
(the API explorer at /docs), qrcode-generator (the portal's follow link), the Noto Sans
SC WOFF2 slices for weights 400 and 700 (with ``fonts.css`` naming the family
``cityeye-sans``) and each package's licence texts. Idempotent: unchanged files are left
untouched, stale ones removed, and MANIFEST.json carries no timestamp.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

ASSETS = Path(__file__).resolve().parent
NODE_MODULES = ASSETS / "node_modules"
VENDOR = ASSETS.parent / "static" / "vendor"
MANIFEST = VENDOR / "MANIFEST.json"

FONT_PACKAGE = "@fontsource/noto-sans-sc"
FONT_DIR = "noto-sans-sc"
FONT_WEIGHTS = (400, 700)
FONT_FAMILY = "cityeye-sans"


@dataclass
class Output:
    """One file to place under static/vendor: copied from ``source`` or given as ``data``."""

    dest: str  # relative to static/vendor, POSIX
    source: str  # relative to the package root in node_modules, or a note for generated files
    data: bytes


@dataclass
class PackageCopy:
    package: str
    version: str
    license: str
    outputs: list[Output] = field(default_factory=list)

    def copy(self, src: str, dest: str) -> None:
        path = NODE_MODULES / self.package / src
        if not path.is_file():
            raise SystemExit(f"✗ {self.package}@{self.version}: {src} not found in node_modules")
        self.outputs.append(Output(dest, src, path.read_bytes()))


def fail(message: str) -> NoReturn:
    print(f"✗ {message}", file=sys.stderr)
    raise SystemExit(1)


def npm_install() -> None:
    npm = shutil.which("npm")
    if npm is None:
        fail(
            "npm not found on PATH. Install Node.js (e.g. `apt-get install npm`) to update the "
            "vendored assets; the committed copies under static/vendor work without it.\n"
            "  未找到 npm：更新前端依赖需要 Node.js；已提交的 static/vendor 无需 npm 即可使用。"
        )
    lock = ASSETS / "package-lock.json"
    verb = "ci" if lock.exists() else "install"
    cmd = [npm, verb, "--no-audit", "--no-fund", "--ignore-scripts"]
    print(f"→ npm {verb} in {ASSETS}")
    done = subprocess.run(cmd, cwd=ASSETS, check=False)
    if done.returncode != 0:
        fail(f"npm {verb} failed with exit status {done.returncode}")


def pinned() -> dict[str, str]:
    """Exact versions from package.json (ranges are refused: the build must be repeatable)."""
    deps: dict[str, str] = json.loads((ASSETS / "package.json").read_text("utf-8"))["dependencies"]
    for name, spec in deps.items():
        if not re.fullmatch(r"\d+\.\d+\.\d+", spec):
            fail(f"package.json: {name} is {spec!r}; pin an exact version (x.y.z)")
    return deps


def installed(name: str, want: str) -> tuple[str, str]:
    meta_path = NODE_MODULES / name / "package.json"
    if not meta_path.is_file():
        fail(f"{name} is not installed in {NODE_MODULES} (run without --no-install)")
    meta = json.loads(meta_path.read_text("utf-8"))
    if meta["version"] != want:
        fail(f"{name}: node_modules has {meta['version']}, package.json pins {want}")
    return meta["version"], str(meta.get("license", "?"))


def echarts(version: str, license: str) -> PackageCopy:
    p = PackageCopy("echarts", version, license)
    p.copy("dist/echarts.min.js", "echarts/echarts.min.js")
    p.copy("LICENSE", "echarts/LICENSE")
    p.copy("NOTICE", "echarts/NOTICE")
    p.copy("licenses/LICENSE-d3", "echarts/LICENSE-d3")
    return p


def zrender(version: str, license: str) -> PackageCopy:
    """ECharts' renderer, bundled inside echarts.min.js: only its licence is copied."""
    p = PackageCopy("zrender", version, license)
    p.copy("LICENSE", "echarts/LICENSE-zrender")
    return p


def leaflet(version: str, license: str) -> PackageCopy:
    p = PackageCopy("leaflet", version, license)
    p.copy("dist/leaflet.js", "leaflet/leaflet.js")
    p.copy("dist/leaflet.css", "leaflet/leaflet.css")
    for image in sorted((NODE_MODULES / "leaflet" / "dist" / "images").glob("*.png")):
        p.copy(f"dist/images/{image.name}", f"leaflet/images/{image.name}")
    p.copy("LICENSE", "leaflet/LICENSE")
    return p


def swagger_ui(version: str, license: str) -> PackageCopy:
    """The API explorer at ``/docs`` (FastAPI's default page loads it from a CDN)."""
    p = PackageCopy("swagger-ui-dist", version, license)
    p.copy("swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js")
    p.copy("swagger-ui.css", "swagger-ui/swagger-ui.css")
    p.copy("favicon-32x32.png", "swagger-ui/favicon-32x32.png")
    p.copy("LICENSE", "swagger-ui/LICENSE")
    p.copy("NOTICE", "swagger-ui/NOTICE")
    return p


FACE = re.compile(r"(/\*[^*]*\*/\s*)?@font-face\s*\{(?P<body>[^}]*)\}")
WOFF2 = re.compile(r"url\(\./files/(?P<file>[\w.\-]+\.woff2)\)\s*format\('woff2'\)")


def noto_sans_sc(version: str, license: str) -> PackageCopy:
    """Fontsource's ``400.css``/``700.css``: ~100 unicode-range slices per weight (the
    Google Fonts split of the chinese-simplified set, plus latin/latin-ext/cyrillic/
    vietnamese), so a browser fetches only the slices a page uses. Only the WOFF2 files
    are copied; ``fonts.css`` is those rules with the family renamed to ``cityeye-sans``
    and the WOFF fallbacks (never used by a browser that reads WOFF2) left out."""
    p = PackageCopy(FONT_PACKAGE, version, license)
    faces: list[str] = []
    for weight in FONT_WEIGHTS:
        css = (NODE_MODULES / FONT_PACKAGE / f"{weight}.css").read_text("utf-8")
        for m in FACE.finditer(css):
            body = m.group("body")
            woff2 = WOFF2.search(body)
            if woff2 is None:
                fail(f"{FONT_PACKAGE}/{weight}.css: an @font-face without a WOFF2 source")
            name = woff2.group("file")
            p.copy(f"files/{name}", f"{FONT_DIR}/{name}")
            rng = re.search(r"unicode-range:\s*([^;]+);", body)
            lines = [
                f"  font-family: '{FONT_FAMILY}';",
                "  font-style: normal;",
                "  font-display: swap;",
                f"  font-weight: {weight};",
                f"  src: url({FONT_DIR}/{name}) format('woff2');",
            ]
            if rng:
                lines.append(f"  unicode-range: {rng.group(1).strip()};")
            faces.append("@font-face {\n" + "\n".join(lines) + "\n}\n")
    if not faces:
        fail(f"{FONT_PACKAGE}: no @font-face rules found in {FONT_WEIGHTS} css")
    header = (
        f"/* {FONT_FAMILY}: Noto Sans SC {version} ({FONT_PACKAGE}, SIL OFL 1.1, see "
        f"{FONT_DIR}/LICENSE),\n   weights {', '.join(map(str, FONT_WEIGHTS))}, served from the "
        "package. Generated by src/cityeye/web/assets/vendor.py: do not edit. */\n"
    )
    css_out = header + "\n".join(faces)
    p.outputs.append(
        Output(
            "fonts.css",
            f"generated from {', '.join(f'{w}.css' for w in FONT_WEIGHTS)}",
            css_out.encode("utf-8"),
        )
    )
    p.copy("LICENSE", f"{FONT_DIR}/LICENSE")
    return p


#: The MIT licence's text (the package ships none beside its notice in qrcode.js).
MIT = """Permission is hereby granted, free of charge, to any person obtaining a copy of this
software and associated documentation files (the "Software"), to deal in the Software
without restriction, including without limitation the rights to use, copy, modify, merge,
publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
DEALINGS IN THE SOFTWARE.
"""


def qrcode_generator(version: str, license: str) -> PackageCopy:
    """The portal's QR code of a report's follow link (drawn in the page, offline)."""
    p = PackageCopy("qrcode-generator", version, license)
    p.copy("dist/qrcode.js", "qrcode/qrcode.js")
    source = (NODE_MODULES / p.package / "dist" / "qrcode.js").read_text("utf-8")
    holder = re.search(r"Copyright \(c\) [^\n]+", source)
    if holder is None:
        fail("qrcode-generator: no copyright line in dist/qrcode.js")
    text = f"MIT License\n\n{holder.group(0)}\n\n{MIT}"
    p.outputs.append(Output("qrcode/LICENSE", "MIT, from dist/qrcode.js's notice", text.encode()))
    return p


def collect() -> list[PackageCopy]:
    pins = pinned()
    for name in ("echarts", "leaflet", "swagger-ui-dist", "qrcode-generator", FONT_PACKAGE):
        if name not in pins:
            fail(f"package.json lacks {name}")
    # zrender is a dependency of echarts, pinned exactly by it (and by package-lock.json)
    zr_meta = json.loads((NODE_MODULES / "zrender" / "package.json").read_text("utf-8"))
    return [
        echarts(*installed("echarts", pins["echarts"])),
        zrender(*installed("zrender", zr_meta["version"])),
        leaflet(*installed("leaflet", pins["leaflet"])),
        swagger_ui(*installed("swagger-ui-dist", pins["swagger-ui-dist"])),
        qrcode_generator(*installed("qrcode-generator", pins["qrcode-generator"])),
        noto_sans_sc(*installed(FONT_PACKAGE, pins[FONT_PACKAGE])),
    ]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest(packages: list[PackageCopy]) -> bytes:
    doc = {
        "about": "Files vendored by src/cityeye/web/assets/vendor.py; paths relative to "
        "this folder (served at /static/vendor/).",
        "packages": [
            {
                "package": p.package,
                "version": p.version,
                "license": p.license,
                "files": [
                    {
                        "path": o.dest,
                        "from": o.source,
                        "bytes": len(o.data),
                        "sha256": sha256(o.data),
                    }
                    for o in sorted(p.outputs, key=lambda o: o.dest)
                ],
            }
            for p in packages
        ],
    }
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write(packages: list[PackageCopy]) -> None:
    outputs = [o for p in packages for o in p.outputs]
    dests = [o.dest for o in outputs]
    if len(set(dests)) != len(dests):
        fail("two outputs share a destination path")
    wanted = {*dests, "MANIFEST.json"}
    added = updated = unchanged = removed = 0
    VENDOR.mkdir(parents=True, exist_ok=True)
    for o in [*outputs, Output("MANIFEST.json", "", manifest(packages))]:
        path = VENDOR / o.dest
        if path.is_file() and path.read_bytes() == o.data:
            unchanged += 1
            continue
        if path.exists():
            updated += 1
        else:
            added += 1
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(o.data)
    for path in sorted(VENDOR.rglob("*"), reverse=True):
        rel = path.relative_to(VENDOR).as_posix()
        if path.is_file() and rel not in wanted:
            path.unlink()
            removed += 1
            print(f"  removed stale {rel}")
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    for p in packages:
        size = sum(len(o.data) for o in p.outputs)
        print(
            f"  {p.package}@{p.version} ({p.license}): {len(p.outputs)} files, {size / 1e6:.2f} MB"
        )
    total = sum(len(o.data) for o in outputs)
    print(
        f"✓ {VENDOR}: {len(outputs)} files + MANIFEST.json, {total / 1e6:.2f} MB "
        f"({added} added, {updated} updated, {unchanged} unchanged, {removed} removed)"
    )


def check() -> int:
    """Every file MANIFEST.json lists is present with its sha256."""
    if not MANIFEST.is_file():
        print(f"✗ {MANIFEST} missing", file=sys.stderr)
        return 1
    doc = json.loads(MANIFEST.read_text("utf-8"))
    bad = 0
    count = 0
    for pkg in doc["packages"]:
        for f in pkg["files"]:
            count += 1
            path = VENDOR / f["path"]
            if not path.is_file():
                print(f"✗ missing {f['path']}", file=sys.stderr)
                bad += 1
            elif sha256(path.read_bytes()) != f["sha256"]:
                print(f"✗ changed {f['path']}", file=sys.stderr)
                bad += 1
    print(f"{'✗' if bad else '✓'} {count} vendored files checked, {bad} problem(s)")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-install", action="store_true", help="use node_modules as it is (no npm ci)"
    )
    parser.add_argument(
        "--check", action="store_true", help="verify static/vendor against MANIFEST.json"
    )
    args = parser.parse_args(argv)
    if args.check:
        return check()
    if not args.no_install:
        npm_install()
    write(collect())
    return 0


if __name__ == "__main__":
    sys.exit(main())
