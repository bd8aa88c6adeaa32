"""No small count can be recovered by the comité de pilotage, nor from any export (issue 13, point 2).

An honest attacker: it collects everything the comité may receive from the Bilan service (every fixed territory
it may pick, both school years, the home tiles, the xlsx), tries every filter it may not use (lists of
départements, date ranges: refused), then works out every value it can from what it received:
- the sums it knows hold (region = académies, académie = départements, the rows of a table = the key figure,
  the table by département = each département's key figures, a commune = the same commune in every territory,
  the previous year of the comparison = that year's figures, a rate × its base, a share's group total);
- by exact elimination (every difference of subsets, totals minus visible cells, year over year), then by the
  bounds « < 5 » gives (1 to 4) and integrality, with a linear program for each masked cell.
A small count is recovered when the attacker pins it to one value and that value is the true one. The same
attacker, pointed at primary suppression only, recovers counts (so it is not toothless).
Data: the demo (services/census/demo.py) and a larger seeded synthetic set.
"""

from __future__ import annotations

import io
import itertools
import math
import random
from collections import defaultdict
from datetime import date, datetime, timedelta

import numpy as np
import openpyxl
import pytest
from scipy.optimize import linprog

from ecole_entreprise.domain import communes
from ecole_entreprise.domain.roles import ACADEMIES, ALL_DEPARTEMENTS, COMITE, COORD_ACADEMIE, User
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.bilan import compute as bilan
from ecole_entreprise.services.bilan import registry, report, small_cells, view
from ecole_entreprise.services.census.demo import demo_parameters, demo_records
from ecole_entreprise.services.home.kpis import home_tiles
from ecole_entreprise.services.kernel import memo
from ecole_entreprise.services.kernel.formatting import departement_label
from ecole_entreprise.store.base import Snapshot
from tests.test_bilan import tab

TODAY = date(2026, 2, 2)
YEARS = ("2025-2026", "2024-2025")
COMITE_USER = User("comite@exemple.fr", COMITE)
REGION = small_cells.REGION
CHILDREN = {REGION: tuple(ACADEMIES), **ACADEMIES}
TERRITORIES = (REGION, *ACADEMIES, *sorted(ALL_DEPARTEMENTS))
SMALL_BOUNDS = (0, 4)  # « < 5 »: zeros read « < 5 » too, so the attacker only knows 0 to 4
TABS = ("Entreprises", "Personnels", "Rencontres", "Partenariats", "Evenements", "Parametres")


# ---- data sets ---------------------------------------------------------------------------------------------


def snapshot_of(records: dict[str, list[dict]], parameters: dict[str, str]) -> Snapshot:
    params = [{"id": f"PRM-{i}", "cle": k, "valeur": v} for i, (k, v) in enumerate(parameters.items())]
    records = {**records, "Parametres": params}
    return Snapshot(tabs={name: tab(name, records.get(name, [])) for name in TABS}, read_at=datetime(2026, 2, 2))


def demo_snapshot() -> Snapshot:
    return snapshot_of(demo_records(today=TODAY), demo_parameters(TODAY))


def synthetic_snapshot(seed: int = 13, companies: int = 200, staff: int = 450, meetings: int = 700) -> Snapshot:
    """Uneven on purpose: big départements next to ones with a handful of people, so small cells abound."""
    rng = random.Random(seed)
    lists = default_schema().lists
    weights = {"21": 30, "25": 25, "71": 18, "39": 9, "89": 8, "70": 5, "58": 3, "90": 2}
    places = {d: [c for c in communes.all_communes() if c.departement == d][:5] for d in weights}
    statuses = lists["statuts_rencontre"]

    def day(year: str) -> date:
        return date(int(year[:4]), 9, 1) + timedelta(days=rng.randrange(330))

    def placed(i: int, prefix: str) -> dict:
        dep = rng.choices(list(weights), list(weights.values()))[0]
        year = rng.choice(YEARS)
        return {"id": f"{prefix}-{i}", "departement": dep, "commune_insee": rng.choice(places[dep]).insee,
                "statut": "validé", "created_at": f"{day(year)} 10:00:00"}

    ents = [placed(i, "ENT") for i in range(companies)]
    pers = [{**placed(i, "PER"), "fonction": rng.choice(lists["fonctions"]), "canal": rng.choice(lists["canaux"]),
             "uai": f"0{i % 90:03d}00{chr(65 + i % 26)}"} for i in range(staff)]
    rencontres, partenariats = [], []
    for i in range(meetings):
        year = rng.choice(YEARS)
        status = rng.choices(statuses, [4, 2, 2, 5, 6, 1, 1])[0]
        record = {"id": f"REN-{i}", "entreprise_id": rng.choice(ents)["id"], "personnel_id": rng.choice(pers)["id"],
                  "statut": status, "annee_scolaire": year, "created_at": f"{day(year)} 08:00:00",
                  "format": rng.choice(lists["formats_rencontre"] + ("",))}
        if status in ("réalisée", "bilan saisi"):
            record.update(date=str(day(year)), satisfaction_entreprise=str(rng.randint(1, 5)),
                          satisfaction_personnel=str(rng.choice((3, 4, 5, 5))),
                          comprehension_entreprise=str(rng.randint(2, 5)), comprehension_personnel="")
        rencontres.append(record)
        if status == "bilan saisi" and rng.random() < 0.3:
            partenariats.append({"id": f"PAR-{i}", "entreprise_id": record["entreprise_id"],
                                 "rencontre_id": record["id"], "annee_scolaire": year,
                                 "created_at": record["created_at"]})
    parameters = {"annee_scolaire": YEARS[0], "semaine_ee_debut": "2026-01-19", "semaine_ee_fin": "2026-01-23"}
    return snapshot_of({"Entreprises": ents, "Personnels": pers, "Rencontres": rencontres,
                        "Partenariats": partenariats}, parameters)


DATASETS = {"démo": demo_snapshot, "synthétique": synthetic_snapshot}


@pytest.fixture(scope="module", params=list(DATASETS))
def dataset(request):
    data = bilan.prepare(DATASETS[request.param]())
    return request.param, data, received(data)


# ---- what the comité receives --------------------------------------------------------------------------


def received(data: bilan.BilanData) -> dict[tuple[str, str], dict]:
    """(year, territory) -> every table the Bilan service returns to the comité for that choice."""
    return {(year, territory): view.bilan_view(data, COMITE_USER, small_cells.territory_filter(year, territory)).tables
            for year in YEARS for territory in TERRITORIES}


def true_tables(data: bilan.BilanData) -> dict[tuple[str, str], dict]:
    """What the attacker wants: the same tables unmasked, at the same grain."""
    out = {}
    for year, territory in itertools.product(YEARS, TERRITORIES):
        filt = small_cells.territory_filter(year, territory)
        out[(year, territory)] = {key: spec.computed(data, filt, coarse=True) for key, spec in registry.TABLES.items()}
        out[(year, territory)]["kpis"] = bilan.kpis_with_pending(data, filt)
    return out


# ---- the attacker --------------------------------------------------------------------------------------


class Knowledge:
    """Cells as variables, what is known of each, and the equations between them."""

    def __init__(self):
        self.known: dict[tuple, float] = {}
        self.bounds: dict[tuple, tuple[float, float]] = {}
        self.equations: list[tuple[dict[tuple, float], float]] = []  # ({cell: coefficient}, right-hand side)

    def see(self, cell: tuple, shown) -> None:
        """The same cell may be shown in several places: a value anywhere makes it known."""
        if isinstance(shown, str):
            if cell not in self.known and self.bounds.get(cell) != SMALL_BOUNDS:
                self.bounds[cell] = SMALL_BOUNDS if shown == bilan.SMALL else (0, math.inf)
        elif shown is not None and not (isinstance(shown, float) and math.isnan(shown)):
            self.known[cell] = float(shown)
            self.bounds.pop(cell, None)

    def equal(self, terms: dict[tuple, float], rhs: float = 0.0) -> None:
        terms = {c: k for c, k in terms.items() if k}
        if len(terms) >= 2 or (terms and rhs):
            self.equations.append((terms, rhs))

    def unknowns(self) -> set[tuple]:
        return set(self.bounds)

    def reduced(self) -> list[tuple[dict[tuple, float], float]]:
        """Equations over unknowns only (known cells moved to the right); equations naming a cell the attacker
        never saw are dropped (they hold nothing it can use)."""
        out = []
        for terms, rhs in self.equations:
            if any(c not in self.known and c not in self.bounds for c in terms):
                continue
            rest = {c: k for c, k in terms.items() if c in self.bounds}
            if rest:
                out.append((rest, rhs - sum(k * self.known[c] for c, k in terms.items() if c in self.known)))
        return out


def count_cells(tables: dict, key: str, year: str, territory: str):
    """(cell, shown value) for every count of a table; a row by département is that département's figure."""
    spec = registry.TABLES[key]
    frame = tables[key]
    labels = {departement_label(d): d for d in ALL_DEPARTEMENTS}
    for record in frame.to_dict("records"):
        row = tuple(str(record[c]) for c in spec.rows)
        if spec.people_rows is not None and row[0] not in spec.people_rows:
            continue
        for column in spec.people:
            if key == "departements":
                yield (year, labels[row[0]], "kpis", (column,), "Valeur"), record[column]
            elif key == "carte":  # a commune is the same cells whatever the territory
                yield (year, "commune", key, row, column), record[column]
            else:
                yield (year, territory, key, row, column), record[column]


def gather(views: dict[tuple[str, str], dict]) -> Knowledge:
    know = Knowledge()
    for (year, territory), tables in views.items():
        for key in registry.TABLES:
            if registry.TABLES[key].people:
                for cell, shown in count_cells(tables, key, year, territory):
                    know.see(cell, shown)
    for (year, territory), tables in views.items():
        _comparison(know, tables["comparaison"], year, territory)
        _rates(know, tables["canaux"], year, territory)
        _sums(know, tables, year, territory)
        _shares(know, tables["satisfaction"], year, territory)
    _hierarchy(know)
    return know


def kpi(year: str, territory: str, row: str) -> tuple:
    return (year, territory, "kpis", (row,), "Valeur")


def _comparison(know: Knowledge, frame, year: str, territory: str) -> None:
    """Year over year: the previous column is last year's figure; a change links the two years."""
    previous = bilan.previous_school_year(year)
    for record in frame.to_dict("records"):
        if record["Indicateur"] not in bilan.PEOPLE_KPIS:
            continue
        before, now = kpi(previous, territory, record["Indicateur"]), kpi(year, territory, record["Indicateur"])
        if before not in know.known and before not in know.bounds:
            know.see(before, record[previous])
        evolution = record["Évolution"]
        if isinstance(evolution, float) and not math.isnan(evolution):
            know.equal({now: 1.0, before: -(1 + evolution)})


def _rates(know: Knowledge, frame, year: str, territory: str) -> None:
    """A conversion rate times its cohort gives the converted count, and back."""
    for record in frame.to_dict("records"):
        rate = record["Taux de conversion"]
        if isinstance(rate, float) and not math.isnan(rate):
            row = (str(record["Canal de recrutement"]),)
            cohort = (year, territory, "canaux", row, bilan.VOLONTAIRES)
            done = (year, territory, "canaux", row, "Volontaires ayant réalisé une rencontre")
            know.equal({done: 1.0, cohort: -rate})


def _sums(know: Knowledge, tables: dict, year: str, territory: str) -> None:
    """The rows of a breakdown add up to the key figure they break down."""
    for key, spec in registry.TABLES.items():
        for column, figure in spec.totals.items():
            rows = [tuple(str(r[c]) for c in spec.rows) for r in tables[key].to_dict("records")]
            terms = {(year, territory, key, row, column): 1.0 for row in rows}
            terms[kpi(year, territory, figure)] = -1.0
            know.equal(terms)


def _shares(know: Knowledge, frame, year: str, territory: str) -> None:
    """A visible share of a visible count gives the group's total: the masked answers add up to the rest."""
    for (question, side), group in frame.groupby(["Question", "Côté"], sort=False):
        totals = [r["Réponses"] / r["Part"] for r in group.to_dict("records")
                  if not isinstance(r["Part"], str) and r["Part"] and not isinstance(r["Réponses"], str)]
        if totals:
            terms = {(year, territory, "satisfaction", (question, side, str(r["Note"])), "Réponses"): 1.0
                     for r in group.to_dict("records")}
            know.equal(terms, round(totals[0]))


def _hierarchy(know: Knowledge) -> None:
    """Region = its académies, an académie = its départements, for every cell of every table."""
    places = defaultdict(dict)
    for cell in list(know.known) + list(know.bounds):
        year, territory, *rest = cell
        if territory in TERRITORIES:
            places[(year, *rest)][territory] = cell
    for where, cells in places.items():
        year, *rest = where
        for parent, children in CHILDREN.items():
            # a row missing from a territory's table is a count of 0 there: it drops out of the sum
            terms = {(year, parent, *rest): 1.0, **{(year, child, *rest): -1.0 for child in children}}
            know.equal({t: k for t, k in terms.items() if t in cells.values()})


def components(know: Knowledge) -> list[tuple[list[tuple], list[tuple[dict, float]]]]:
    """Unknowns linked by equations, each group with its equations (solved apart: same result, less work)."""
    parent = {c: c for c in know.unknowns()}

    def root(c):
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    equations = know.reduced()
    for terms, _ in equations:
        first, *rest = terms
        for other in rest:
            parent[root(other)] = root(first)
    groups: dict[tuple, tuple[list, list]] = {}
    for cell in parent:
        groups.setdefault(root(cell), ([], []))[0].append(cell)
    for terms, rhs in equations:
        groups[root(next(iter(terms)))][1].append((terms, rhs))
    return list(groups.values())


def eliminate(cells: list[tuple], equations: list[tuple[dict, float]]) -> dict[tuple, float]:
    """Exact values by Gauss-Jordan elimination (every difference of subsets and every total at once)."""
    index = {c: i for i, c in enumerate(cells)}
    matrix = np.zeros((len(equations), len(cells) + 1))
    for r, (terms, rhs) in enumerate(equations):
        for c, k in terms.items():
            matrix[r, index[c]] = k
        matrix[r, -1] = rhs
    row = 0
    for col in range(len(cells)):
        if row == len(matrix):
            break
        pivot = row + int(np.argmax(np.abs(matrix[row:, col])))
        if abs(matrix[pivot, col]) < 1e-9:
            continue
        matrix[[row, pivot]] = matrix[[pivot, row]]
        matrix[row] /= matrix[row, col]
        others = np.abs(matrix[:, col]) > 1e-12
        others[row] = False
        matrix[others] -= np.outer(matrix[others, col], matrix[row])
        row += 1
    solved = {}
    for line in matrix[:row]:
        nonzero = np.flatnonzero(np.abs(line[:-1]) > 1e-9)
        if len(nonzero) == 1:
            solved[cells[nonzero[0]]] = line[-1]
    return solved


def pin_by_bounds(know: Knowledge, cells: list[tuple], equations: list[tuple[dict, float]],
                  only: set[tuple]) -> dict[tuple, int]:
    """Cells that the bounds (1 to 4 for « < 5 », at least 0 otherwise) and integrality leave one value to."""
    if not equations:
        return {}
    index = {c: i for i, c in enumerate(cells)}
    a_eq = np.zeros((len(equations), len(cells)))
    b_eq = np.array([rhs for _, rhs in equations])
    for r, (terms, _) in enumerate(equations):
        for c, k in terms.items():
            a_eq[r, index[c]] = k
    bounds = [(lo, None if hi == math.inf else hi) for lo, hi in (know.bounds[c] for c in cells)]
    pinned = {}
    for cell in sorted(only & set(cells), key=str):
        aim = np.zeros(len(cells))
        aim[index[cell]] = 1
        low = linprog(aim, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-aim, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if low.status == 0 and high.status == 0 and math.ceil(low.fun - 1e-6) == math.floor(-high.fun + 1e-6):
            pinned[cell] = math.ceil(low.fun - 1e-6)
    return pinned


def true_value(data: bilan.BilanData, truth: dict, cell: tuple) -> float:
    year, territory, key, row, column = cell
    if territory == "commune":
        territory = REGION
    if (year, territory) not in truth:  # a year seen only as the comparison's previous column
        filt = small_cells.territory_filter(year, territory)
        truth[(year, territory)] = {"kpis": bilan.kpis_with_pending(data, filt)}
    frame = truth[(year, territory)][key]
    spec = registry.TABLES[key]
    for record in frame.to_dict("records"):
        if tuple(str(record[c]) for c in spec.rows) == row:
            return float(record[column])
    raise KeyError(cell)


def recovered(know: Knowledge, data: bilan.BilanData, linear_only: bool = False) -> dict[tuple, float]:
    """Small masked counts the attacker pins to their true value."""
    truth = true_tables(data)
    small = know.unknowns()  # « < 5 » and « n.d. » alike: a count of 1 to 4 pinned is recovered, whatever it read
    found = {}
    for cells, equations in components(know):
        solved = eliminate(cells, equations)
        found |= {c: v for c, v in solved.items() if c in small and 0 < round(v) == true_value(data, truth, c) < 5}
        if not linear_only:  # a pinned zero is no small count: only the cells worth the attack are tried
            targets = {c for c in small - set(found) if c in cells and 0 < true_value(data, truth, c) < 5}
            for cell, value in pin_by_bounds(know, cells, equations, targets).items():
                if value == true_value(data, truth, cell) > 0:
                    found[cell] = value
    return found


# ---- tests ---------------------------------------------------------------------------------------------


def test_the_comite_never_receives_a_count_under_5_from_the_service(dataset):
    name, data, views = dataset
    for (year, territory), tables in views.items():
        for key, spec in registry.TABLES.items():
            if spec.people:
                for cell, value in count_cells(tables, key, year, territory):
                    assert isinstance(value, str) or value >= 5, (name, cell, value)
        comparison = tables["comparaison"]
        for column in comparison.columns[1:3]:  # last year's and this year's key figures
            for indicator, value in zip(comparison["Indicateur"], comparison[column], strict=True):
                if indicator in bilan.PEOPLE_KPIS:
                    assert isinstance(value, str) or value >= 5, (name, year, territory, indicator, value)
    tiles = home_tiles(data, COMITE_USER, YEARS[0]).tiles
    assert all(t.number is None or t.number >= 5 or t.label == bilan.SATISFACTION for t in tiles)


def test_lists_of_departements_and_date_ranges_are_refused(dataset):
    """Every filter the old page let the comité pick to isolate a few people: the service refuses it."""
    _, data, _ = dataset
    allowed = {frozenset(deps) for deps in small_cells.TERRITORIES.values()}
    subsets = [s for n in range(1, 9) for s in itertools.combinations(sorted(ALL_DEPARTEMENTS), n)]
    for subset in subsets:
        filt = bilan.BilanFilter(YEARS[0], departements=subset)
        if frozenset(subset) in allowed:
            continue
        with pytest.raises(small_cells.ComiteFilterError):
            view.bilan_view(data, COMITE_USER, filt)
    start = date(2025, 9, 1)
    for days in (0, 1, 30, 90):  # adjacent ranges a day apart, and a month, a term
        for periode in ((start, start + timedelta(days=days)), (start + timedelta(days=days + 1), date(2026, 8, 31))):
            with pytest.raises(small_cells.ComiteFilterError):
                view.bilan_view(data, COMITE_USER, bilan.BilanFilter(YEARS[0], periode=periode))
    with pytest.raises(small_cells.ComiteFilterError):
        view.bilan_view(data, COMITE_USER, bilan.BilanFilter(YEARS[0], periode=bilan.SEMAINE_EE))


def test_no_masked_small_count_is_recovered_by_exact_differencing(dataset):
    """Every difference of subsets of territories, totals minus visible cells, year over year, rates and
    shares: nothing the comité receives solves a masked small count."""
    name, data, views = dataset
    know = gather(views)
    small = [c for c, b in know.bounds.items() if b == SMALL_BOUNDS]
    assert len(small) > 50, name  # the data really has small cells to protect
    found = recovered(know, data, linear_only=True)
    print(f"{name}: {len(small)} small cells masked, {len(know.bounds) - len(small)} secondary, "
          f"{len(know.equations)} equations, {len(found)} recovered exactly")
    assert found == {}


def test_no_masked_small_count_is_pinned_by_bounds_and_integrality(dataset):
    """The bounds « < 5 » gives (0 to 4), « n.d. » (0 or more) and whole numbers, over all the sums at once."""
    name, data, views = dataset
    know = gather(views)
    found = recovered(know, data)
    print(f"{name}: {len(found)} small counts pinned by bounds and integrality")
    assert found == {}


def test_the_attacker_recovers_counts_when_only_primary_suppression_is_used(dataset, monkeypatch):
    """Positive control: without secondary suppression the same attacker finds small counts."""
    name, _, _ = dataset
    fresh_masks(monkeypatch)  # not the masks kept for the same data or counts
    monkeypatch.setattr(small_cells, "suppress", lambda values, found, threshold=5: (
        {c for c, v in values.items() if v < threshold}, set()))
    data = bilan.prepare(DATASETS[name]())
    found = recovered(gather(received(data)), data, linear_only=True)
    print(f"{name}, primary suppression only: {len(found)} small counts recovered")
    assert found


def test_exports_hold_the_comite_figures_whoever_asks(dataset):
    """The xlsx (and the PDF, built from the same view) carry exactly the comité's masked figures, even when a
    coordinator exports; a coordinator's list of départements cannot be exported."""
    _, data, views = dataset
    coordinator = User("coord@exemple.fr", COORD_ACADEMIE, departements=frozenset(ACADEMIES["Dijon"]))
    filt = small_cells.territory_filter(YEARS[0], "Dijon")
    exported = view.export_view(data, coordinator, filt)
    for key in registry.TABLES:
        assert exported.tables[key].astype(str).equals(views[(YEARS[0], "Dijon")][key].astype(str)), key
    book = openpyxl.load_workbook(io.BytesIO(report.build_xlsx(exported)))
    for sheet in book.worksheets[1:]:
        spec = next(s for s in registry.TABLES.values() if s.title == sheet.title)
        header = [c.value for c in sheet[1]]
        for row in sheet.iter_rows(min_row=2, values_only=True):
            record = dict(zip(header, row, strict=True))
            if spec.people_rows is None or record[header[0]] in spec.people_rows:
                for column in spec.people:
                    assert isinstance(record[column], str) or record[column] >= 5
    with pytest.raises(small_cells.ComiteFilterError):
        view.export_view(data, coordinator, bilan.BilanFilter(YEARS[0], departements=("21", "58")))


def test_a_rate_or_mean_on_a_masked_count_is_never_shown_even_when_missing(dataset):
    """A missing conversion rate says its masked base is zero: next to a masked base it reads « n.d. » too."""
    name, _, views = dataset
    for (year, territory), tables in views.items():
        for key, spec in registry.TABLES.items():
            for record in tables[key].to_dict("records"):
                for column, bases in spec.dependent.items():
                    if any(isinstance(record[b], str) for b in bases):
                        assert record[column] == bilan.NOT_DISCLOSED, (name, year, territory, key, record)


def fresh_masks(monkeypatch) -> None:
    """Nothing kept from the tests before: every year's masks are decided by the `suppress` of this test."""
    monkeypatch.setattr(small_cells, "_decided", memo.Kept(small_cells.DECIDED_KEPT))
    monkeypatch.setattr(small_cells, "_years", memo.Kept(small_cells.DECIDED_KEPT))


def test_the_masks_are_decided_again_only_when_a_years_counts_change(monkeypatch):
    """The first comité view after a change of the sheet: a change that leaves a year's counts as they were (a
    place, another year) reuses that year's masks; a change of a count decides them again, as from scratch."""
    decisions = []
    real = small_cells.suppress
    fresh_masks(monkeypatch)
    monkeypatch.setattr(small_cells, "suppress", lambda values, found, threshold=5: (
        decisions.append(len(values)), real(values, found, threshold))[1])
    records = demo_records(today=TODAY)
    first = small_cells.year_masks(bilan.prepare(snapshot_of(records, demo_parameters(TODAY))), YEARS[0])
    assert len(decisions) == 1

    meetings = records["Rencontres"]
    held = next(m for m in meetings if m["annee_scolaire"] == YEARS[0] and m["statut"] == "réalisée")
    placed = {**records, "Rencontres": [{**m, "lieu": "Salle du conseil"} if m is held else m for m in meetings]}
    again = small_cells.year_masks(bilan.prepare(snapshot_of(placed, demo_parameters(TODAY))), YEARS[0])
    assert len(decisions) == 1 and again is first  # a column the bilan does not read: the same year, tables too

    noted = {**records, "Rencontres": [{**m, "conclusions_entreprise": "Une rencontre utile."}
                                       if m is held else m for m in meetings]}
    data = bilan.prepare(snapshot_of(noted, demo_parameters(TODAY)))
    assert small_cells.content_digest(data) != small_cells.content_digest(bilan.prepare(snapshot_of(
        placed, demo_parameters(TODAY))))
    again = small_cells.year_masks(data, YEARS[0])
    assert len(decisions) == 1 and again is not first  # new data, tables computed again, the same counts
    assert (again.primary, again.secondary) == (first.primary, first.secondary)

    cancelled = {**records, "Rencontres": [{**m, "statut": "annulée"} if m is held else m for m in meetings]}
    data = bilan.prepare(snapshot_of(cancelled, demo_parameters(TODAY)))
    changed = small_cells.year_masks(data, YEARS[0])
    assert len(decisions) == 2
    values = small_cells.cells(small_cells._tables(data, YEARS[0]))
    assert (changed.primary, changed.secondary) == tuple(map(frozenset, real(values, small_cells.lines(values))))
