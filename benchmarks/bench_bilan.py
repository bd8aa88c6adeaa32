"""Benchmark of the bilan: aggregates + charts, home-page KPIs and the steering-committee PDF, at scale.

A seeded synthetic snapshot is built in memory (no store): 2,000 companies, 5,000 staff and 6,000 meetings over
two school years (2024-2025 and 2025-2026, so the year comparison has data), in every status, with bilan
answers on held meetings, some partnerships, and people placed in real communes of the region (map). The same
measures run on an empty snapshot. Targets: bilan ≤ 1.5 s, home ≤ 1 s, PDF ≤ 10 s.

Measured (median of --repeat runs, except the PDF: one cold run, as the `report` command does):
- bilan_s, home_s: server-side render of pages/bilan.py and pages/home.py as the comité de pilotage (AppTest, a
  new session each time: only the run of the page itself is timed, not the entry point's first run nor the AppTest
  set-up), on a local workbook holding the data, read cache warm as in a live app;
- bilan_admin_s, home_admin_s: the same pages as an admin (the home page then builds the to-do list, which
  checks every row of every tab, once per snapshot read: home_admin_first_s is that first view; the Bilan lists
  the conclusions);
- bilan_empty_s, home_empty_s (and _admin_): the same pages on an empty workbook (only the users' rows);
- bilan_service_s: prepare + every table of the registry (services/bilan/registry.py), every chart serialized;
  home_service_s: home_kpis on the raw snapshot (the services under the pages, for comparison);
- pdf_s: report.build_pdf (tables, charts rendered to PNG by vl-convert, layout), cold; pdf_warm_s: a second run.
Human-readable lines first, then, as the LAST line, one JSON object.

Run: python benchmarks/bench_bilan.py [--entreprises 2000] [--personnels 5000] [--rencontres 6000] [--seed 11]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ecole_entreprise.domain.schema import default_schema  # noqa: E402
from ecole_entreprise.services.bilan import compute as bilan  # noqa: E402
from ecole_entreprise.services.bilan import report, view  # noqa: E402
from ecole_entreprise.services.home.kpis import home_kpis  # noqa: E402
from ecole_entreprise.store.base import Row, Snapshot, TabData, fingerprint  # noqa: E402

YEAR, PREVIOUS = "2025-2026", "2024-2025"
TARGETS = {"bilan_s": 1.5, "home_s": 1.0, "bilan_admin_s": 1.5, "home_admin_s": 1.0, "pdf_s": 10.0}
TABS = ("Entreprises", "Personnels", "Rencontres", "Partenariats", "Evenements", "Parametres")
STATUS_WEIGHTS = {"proposée": 0.15, "acceptée": 0.1, "planifiée": 0.15, "réalisée": 0.2, "bilan saisi": 0.25,
                  "refusée": 0.1, "annulée": 0.05}


def _rows(tab_name: str, records: list[dict[str, str]]) -> TabData:
    tab = default_schema().tab(tab_name)
    rows = []
    for number, record in enumerate(records, start=2):
        values = {name: record.get(name, "") for name in tab.field_names}
        rows.append(Row(values["id"], values, {}, number, fingerprint(tab, values)))
    return TabData(tab_name, tab.headers, rows)


def _communes(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    """(INSEE, département) of real communes when the table is there, else made-up codes."""
    try:
        from ecole_entreprise.domain.communes import all_communes

        known = [(c.insee, c.departement) for c in all_communes()]
    except (ImportError, OSError):
        deps = sorted(bilan.ALL_DEPARTEMENTS)
        known = [(f"{d}{i:03d}", d) for d in deps for i in range(1, 200)]
    return [known[int(i)] for i in rng.integers(len(known), size=n)]


def _stamp(day: date, rng: np.random.Generator) -> str:
    return f"{day.isoformat()} {int(rng.integers(8, 19)):02d}:{int(rng.integers(60)):02d}:00"


def _day_in(year: str, rng: np.random.Generator) -> date:
    return date(int(year[:4]), 9, 1) + timedelta(days=int(rng.integers(0, 300)))


def make_snapshot(n_entreprises: int, n_personnels: int, n_rencontres: int, seed: int) -> Snapshot:
    rng = np.random.default_rng(seed)
    lists = default_schema().lists

    def person(kind: str, i: int, insee_dep: tuple[str, str]) -> dict[str, str]:
        year = YEAR if rng.random() < 0.6 else PREVIOUS
        return {"id": f"{kind}-{i:05d}", "commune_insee": insee_dep[0], "departement": insee_dep[1],
                "created_at": _stamp(_day_in(year, rng), rng),
                "statut": "à valider" if rng.random() < 0.05 else "validé"}

    entreprises = [{**person("ENT", i, c), "raison_sociale": f"Entreprise {i}"}
                   for i, c in enumerate(_communes(rng, n_entreprises))]
    personnels = [{**person("PER", i, c), "fonction": str(rng.choice(lists["fonctions"])),
                   "canal": str(rng.choice(lists["canaux"])), "uai": f"0{c[1]}{int(rng.integers(300)):04d}X"}
                  for i, c in enumerate(_communes(rng, n_personnels))]
    statuses = rng.choice(list(STATUS_WEIGHTS), p=list(STATUS_WEIGHTS.values()), size=n_rencontres)
    rencontres = []
    for i, statut in enumerate(statuses):
        year = YEAR if rng.random() < 0.6 else PREVIOUS
        created = _day_in(year, rng)
        record = {"id": f"REN-{i:05d}", "entreprise_id": f"ENT-{int(rng.integers(n_entreprises)):05d}",
                  "personnel_id": f"PER-{int(rng.integers(n_personnels)):05d}", "annee_scolaire": year,
                  "statut": str(statut), "created_at": _stamp(created, rng),
                  "format": str(rng.choice(lists["formats_rencontre"]))}
        if statut in ("planifiée", "réalisée", "bilan saisi", "annulée"):
            record["date"] = (created + timedelta(days=int(rng.integers(7, 60)))).isoformat()
        if statut == "bilan saisi":
            for side in ("entreprise", "personnel"):
                record[f"satisfaction_{side}"] = str(int(rng.integers(2, 6)))
                record[f"comprehension_{side}"] = str(int(rng.integers(1, 6)))
                record[f"conclusions_{side}"] = "Échange utile."
        rencontres.append(record)
    partenariats = [{"id": f"PAR-{i:05d}", "entreprise_id": r["entreprise_id"], "rencontre_id": r["id"],
                     "annee_scolaire": r["annee_scolaire"], "date_debut": r.get("date", ""), "types": "visites",
                     "statut": "actif", "uai": "0210001A"}
                    for i, r in enumerate(r for r in rencontres if r["statut"] == "bilan saisi" and rng.random() < 0.3)]
    parametres = [{"id": "PRM-1", "cle": "annee_scolaire", "valeur": YEAR}]
    tabs = {"Entreprises": _rows("Entreprises", entreprises), "Personnels": _rows("Personnels", personnels),
            "Rencontres": _rows("Rencontres", rencontres), "Partenariats": _rows("Partenariats", partenariats),
            "Evenements": _rows("Evenements", []), "Parametres": _rows("Parametres", parametres)}
    return Snapshot(tabs=tabs, read_at=datetime(2026, 3, 1, 12, 0))


def empty_snapshot() -> Snapshot:
    return Snapshot(tabs={name: _rows(name, []) for name in TABS}, read_at=datetime(2026, 3, 1, 12, 0))


def bilan_with_charts(snapshot: Snapshot) -> int:
    """What the Bilan page computes: every table, the map points and every chart spec."""
    filt = bilan.BilanFilter(YEAR)
    data = bilan.prepare(snapshot)
    specs = [section.chart.to_dict() for section in view.report_view(data, filt, small_cells_rule=False).sections()]
    return len(specs)


def _report_view(snapshot: Snapshot):
    return view.report_view(bilan.prepare(snapshot), bilan.BilanFilter(YEAR))


def service_measures(full: Snapshot) -> dict[str, tuple]:
    """Name -> (function, args): the services under the pages, timed in this order."""
    return {
        "bilan_service_s": (bilan_with_charts, (full,)),
        "home_service_s": (home_kpis, (full, YEAR)),
        "pdf_warm_s": (lambda s: report.build_pdf(_report_view(s), ""), (full,)),
    }


COMITE = "comite.bench@exemple.fr"
ADMIN = "admin.bench@exemple.fr"
# key prefix -> (page, who opens it): the comité's view (the issue's figures), and the admin's, whose home page
# also builds the to-do list (a quality check of every row) and whose Bilan lists the conclusions.
PAGE_VIEWS = {"bilan": ("pages/bilan.py", COMITE), "home": ("pages/home.py", COMITE),
              "bilan_admin": ("pages/bilan.py", ADMIN), "home_admin": ("pages/home.py", ADMIN)}


def write_workbook(path: Path, snapshot: Snapshot):
    """A local workbook holding the snapshot's tabs and the comité's user row."""
    from ecole_entreprise.store.workbook import WorkbookStore

    store = WorkbookStore(default_schema(), path)
    store.init()
    for tab in TABS:
        if tab != "Parametres" and snapshot.rows(tab):
            store.append(tab, [dict(row.values) for row in snapshot.rows(tab)])
    _set_parameters(store, snapshot)
    store.append("Utilisateurs", [{"email": COMITE, "nom": "Comité", "role": "comité de pilotage"},
                                  {"email": ADMIN, "nom": "Admin", "role": "admin"}])


def page_times(workbook: Path, repeat: int, expect_data: bool) -> dict[str, float]:
    """Median render time of each page view on `workbook` (a new session each time)."""
    # A cache TTL longer than the benchmark: the workbook is read once (warm-up), then only pages are timed.
    os.environ.update(ECOLE_ENTREPRISE_WORKBOOK=str(workbook), ECOLE_ENTREPRISE_CACHE_TTL="3600")
    times = {}
    for name, (path, email) in PAGE_VIEWS.items():
        os.environ["ECOLE_ENTREPRISE_DEV_USER"] = email
        render_page(path, expect_data)  # warm-up: workbook read into the shared cache
        if name == "home_admin":  # the first admin view after a read also runs the quality check, kept after
            times["home_admin_first"] = render_page(path, expect_data, before=forget_quality_report)
        times[name] = statistics.median(render_page(path, expect_data) for _ in range(repeat))
    return times


def forget_quality_report() -> None:
    """As after a new read of the sheet: the next to-do list checks every row again."""
    from ecole_entreprise.services.census import quality

    quality.forget()


def _set_parameters(store, snapshot: Snapshot) -> None:
    """Write the snapshot's settings into the rows init created: a second « annee_scolaire » row appended
    below an empty one would be ignored by the pages, which would then show today's school year."""
    wanted = {row["cle"]: row["valeur"] for row in snapshot.rows("Parametres")}
    for row in store.read().rows("Parametres"):
        if row["cle"] in wanted:
            store.update("Parametres", row.id, {"valeur": wanted.pop(row["cle"])}, row.fingerprint)
    if wanted:
        store.append("Parametres", [{"cle": key, "valeur": value} for key, value in wanted.items()])


PAGE_TIMEOUT_S = 120  # bench_scale raises it for its larger instances


def render_page(path: str, expect_data: bool, before=None) -> float:
    """Seconds of the page's own run in a new session (the entry point's first run, which shows the default
    page, is not counted); `before` runs just before the timed run."""
    from streamlit.testing.v1 import AppTest

    os.environ.setdefault("ECOLE_ENTREPRISE_DEMO", "1")  # AppTest: no server address, a declared demo
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=PAGE_TIMEOUT_S)
    app.run()
    app.switch_page(path)
    if before:
        before()
    seconds = _timed(app.run)
    if app.exception:
        raise RuntimeError(f"{path} : {[e.value for e in app.exception]}")
    empty = [i.value for i in app.info if i.value.startswith("Aucune")]
    if expect_data and empty:  # an empty state renders fast and would make the figure meaningless
        raise RuntimeError(f"{path} n'affiche pas les données du banc d'essai : {empty}")
    return seconds


def _timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def measure(function, *args, repeat: int) -> float:
    return statistics.median(_timed(function, *args) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entreprises", type=int, default=2000)
    parser.add_argument("--personnels", type=int, default=5000)
    parser.add_argument("--rencontres", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    full = make_snapshot(args.entreprises, args.personnels, args.rencontres, args.seed)
    print(f"Instance : {len(full.rows('Entreprises'))} entreprises, {len(full.rows('Personnels'))} personnels, "
          f"{len(full.rows('Rencontres'))} rencontres, {len(full.rows('Partenariats'))} partenariats")

    pdf = {}
    results = {"pdf_s": _timed(lambda: pdf.update(bytes=report.build_pdf(_report_view(full), "")))}
    for name, (function, call_args) in service_measures(full).items():
        results[name] = measure(function, *call_args, repeat=1 if name.startswith("pdf") else args.repeat)
    with tempfile.TemporaryDirectory() as folder:
        for label, snapshot in (("", full), ("_empty", empty_snapshot())):
            workbook = Path(folder) / f"bench-bilan{label}.xlsx"
            write_workbook(workbook, snapshot)
            for page, seconds in page_times(workbook, args.repeat, expect_data=not label).items():
                results[f"{page}{label}_s"] = seconds
    for name, seconds in results.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else f" (objectif ≤ {target:.1f} s : {'ok' if seconds <= target else 'DÉPASSÉ'})"
        print(f"{name} : {seconds * 1000:.0f} ms{verdict}")
    print(f"PDF : {len(pdf['bytes']) / 1024:.0f} Kio")
    results = {name: round(seconds, 4) for name, seconds in results.items()}
    results["pdf_kib"] = round(len(pdf["bytes"]) / 1024)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
