"""The comité's charts mark every masked value, never drop one, and never carry a true small count (issue 17).

For every chart of the Bilan registry, drawn from what the Bilan service returns to a role that masks small
counts (the comité), on data full of small counts (the demo and the synthetic set of tests/test_small_cells.py):
- each masked cell of the columns the chart draws is a mark in the chart's data (« < 5 » or « n.d. », a hatched
  stub, segment or hollow diamond in its spec), and the chart's count of marks (the note under it) is the table's;
- no count of the chart's data is under 5 (the true small counts stay on the server);
- a stacked bar of the satisfaction chart always fills 100 % (the masked part is a hatched segment);
- every column of the chart's data holds one type (Streamlit serialises it to Arrow without a fallback).
Positive control: for a role that does not mask (the admin), the real small counts are in the charts' data.
"""

from __future__ import annotations

import json
import math
from collections import Counter

import pandas as pd
import pytest

from ecole_entreprise.domain.roles import ADMIN, COMITE, User
from ecole_entreprise.services.bilan import charts, registry, small_cells, view
from ecole_entreprise.services.bilan import compute as bilan
from tests.test_small_cells import DATASETS, YEARS

MARKS = (bilan.SMALL, bilan.NOT_DISCLOSED)
COMITE_USER = User("comite@exemple.fr", COMITE)
ADMIN_USER = User("admin@exemple.fr", ADMIN)
TERRITORIES = (small_cells.REGION, "Dijon", "21", "90")
# The columns each chart draws: one mark per masked cell of them.
DRAWN = {
    "entonnoir": ("Personnels", "Entreprises"),
    "departements": (bilan.ENTREPRISES, bilan.VOLONTAIRES, bilan.REALISEES),
    "carte": ("Nombre",),
    "fonctions": (bilan.VOLONTAIRES, bilan.REALISEES),
    "canaux": ("Taux de conversion",),
    "formats": (bilan.REALISEES,),
    "satisfaction": ("Réponses",),
    "chronologie": (bilan.PROPOSEES, bilan.REALISEES),
    "comparaison": (),  # the two school years' columns, satisfaction row aside (a mean, not drawn)
}
NOT_COUNTS = {"latitude", "longitude", "Note", "début", "fin", "milieu", "x", "Part", "Taux de conversion",
              "Satisfaction moyenne", "Évolution"}


@pytest.fixture(scope="module", params=list(DATASETS))
def data(request):
    return bilan.prepare(DATASETS[request.param]())


def drawn_cells(key: str, table: pd.DataFrame) -> list:
    """The values of the cells the chart of `key` draws."""
    if key == "comparaison":
        rows = table[table["Indicateur"] != bilan.SATISFACTION]
        columns = [c for c in table.columns if c not in ("Indicateur", "Évolution")]
    else:
        rows, columns = table, DRAWN[key]
    return [v for c in columns for v in rows[c]]


def datasets(chart) -> list[list[dict]]:
    """The rows of each dataset the chart carries (what the page sends to the browser)."""
    spec = chart.to_dict()
    inline = [layer["data"]["values"] for layer in spec.get("layer", []) if "values" in layer.get("data", {})]
    return [*spec.get("datasets", {}).values(), *inline]


def records(chart) -> list[dict]:
    return [r for rows in datasets(chart) for r in rows if isinstance(r, dict)]


def marks_in(key: str, rows: list[dict]) -> Counter:
    field = "Nombre" if key == "carte" else charts.MASK
    return Counter(r[field] for r in rows if r.get(field) in MARKS)


def count_fields(key: str, table: pd.DataFrame) -> set[str]:
    spec = registry.TABLES[key]
    return ({*spec.people, *DRAWN[key], "Nombre", *table.columns} - NOT_COUNTS) - set(spec.rows)


def small_number(value) -> bool:
    if isinstance(value, str):
        text = value.replace("\u202f", "")
        return text.isdigit() and int(text) < bilan.THRESHOLD
    return isinstance(value, (int, float)) and not math.isnan(value) and 0 <= value < bilan.THRESHOLD


def comite_sections(data, territory: str, year: str):
    """The sections the comité's page draws, kept with the prepared data (the four tests share them)."""
    key = ("test_chart_marks", territory, year)
    if key not in data.cache:
        shown = view.bilan_view(data, COMITE_USER, small_cells.territory_filter(year, territory))
        data.cache[key] = {s.key: s for s in shown.sections()}
    return data.cache[key]


def test_the_test_knows_every_chart_of_the_registry():
    assert set(DRAWN) == set(registry.charted())


@pytest.mark.parametrize("territory", TERRITORIES)
def test_every_masked_value_is_a_mark_and_no_true_small_count_is_sent(data, territory):
    seen = Counter()
    for year in YEARS:
        for key, section in comite_sections(data, territory, year).items():
            expected = Counter(v for v in drawn_cells(key, section.table) if v in MARKS)
            rows = records(section.chart)
            assert marks_in(key, rows) == expected, (territory, year, key)  # one mark each: none dropped
            assert charts.masked_counts(section.chart) == dict(expected), (territory, year, key)
            assert bool(section.mask_note) == bool(expected), (territory, year, key)
            if expected:
                spec = json.dumps(section.chart.to_dict(), ensure_ascii=False)
                assert ("diamond" if key == "carte" else '"gradient": "linear"') in spec, key
                assert str(sum(expected.values())) in section.mask_note
            fields = count_fields(key, section.table)
            leaked = [(f, r[f]) for r in rows for f in fields & set(r) if small_number(r[f])]
            assert not leaked, (territory, year, key, leaked[:5])
            seen.update(expected)
    assert seen[bilan.SMALL] > 0, territory  # the data really has small counts here


@pytest.mark.parametrize("territory", TERRITORIES)
def test_a_stacked_bar_with_masked_parts_fills_the_whole_bar(data, territory):
    for year in YEARS:
        section = comite_sections(data, territory, year)["satisfaction"]
        offsets = charts.likert_offsets(section.table)
        segments = charts.masked_segments(offsets)
        for group, rows in offsets.groupby("Groupe"):
            hidden = rows[rows[charts.MASK] != ""]
            if hidden.empty and not rows["Part"].sum():
                continue  # no answer at all (never for the comité: a zero reads « < 5 »)
            visible = (rows["fin"] - rows["début"])[rows[charts.MASK] == ""].sum()
            masked = segments[segments["Groupe"] == group]
            assert visible + (masked["fin"] - masked["début"]).sum() == pytest.approx(1.0), (territory, group)
            assert len(masked) >= (not hidden.empty)
            assert all(label.endswith("/ masqué") for label in masked[charts.MASK])


def test_chart_data_hold_one_type_per_column(data):
    for territory in TERRITORIES:
        for key, section in comite_sections(data, territory, YEARS[0]).items():
            for rows in datasets(section.chart):
                columns: dict[str, set] = {}
                for row in rows:
                    for field, value in row.items():
                        if value is not None and not (isinstance(value, float) and math.isnan(value)):
                            kind = "number" if isinstance(value, (int, float)) else type(value).__name__
                            columns.setdefault(field, set()).add(kind)
                mixed = {f: kinds for f, kinds in columns.items() if len(kinds) > 1}
                assert not mixed, (territory, key, mixed)


def test_a_role_that_does_not_mask_gets_the_real_small_counts(data):
    """Positive control: the same charts for the admin carry the true counts under 5, and no mark."""
    found = 0
    for territory in TERRITORIES:
        shown = view.bilan_view(data, ADMIN_USER, small_cells.territory_filter(YEARS[0], territory))
        for section in shown.sections():
            assert charts.masked_counts(section.chart) == {}, section.key
            assert not section.mask_note
            rows = records(section.chart)
            numbers = {v for r in rows for v in r.values() if isinstance(v, (int, float))}
            small = {v for v in drawn_cells(section.key, section.table)
                     if isinstance(v, (int, float)) and 0 < v < bilan.THRESHOLD}
            if section.key in ("canaux", "chronologie"):
                continue  # rates drawn (not counts); the admin's timeline is cumulative
            assert small <= numbers, (territory, section.key, small - numbers)
            found += len(small)
    assert found > 0
