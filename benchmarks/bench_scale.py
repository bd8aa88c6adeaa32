"""Benchmark of cost against history: the same measures at 1× and 4× (or more) the bench_bilan instance.

The instance at scale s is bench_bilan's (2,000·s companies, 5,000·s staff, 6,000·s meetings over two school years)
with what history adds: pairing attributes and consents on every person (so the global plan has work to do) and a
Journal of three entries per meeting and one per person. Measured at each scale:
- snapshot_bytes: the JSON a Sheets `values:batchGet` would return for the tabs a page view reads (compact
  JSON, cells as strings): the core tabs, every tab but the history tabs (navigation.page_tabs: the Journal is
  read by the Journal, quality and GDPR pages only); snapshot_bytes_all: the same for every tab, Journal included;
- home_admin_first_s: the admin's home page (KPI tiles and the to-do list, which checks every row of every tab) on
  its first view after a new read of the sheet (every cache_ttl_s; the read itself is not timed), the sheet
  unchanged: tiles, to-do list and quality report are kept until their tabs change (services/kernel/memo.py);
  home_admin_first_cpu_s: the same view's CPU seconds (this process only: other processes do not count);
  home_admin_after_change_s: the first view after a read in which one meeting changed (tiles and to-do list
  computed again, the quality report only for that meeting's row); home_admin_s: later views;
- bilan_s, bilan_cpu_s: the Bilan page as the comité de pilotage in a new session (target ≤ 1.5 s at 1×),
  wall-clock and CPU; bilan_after_change_s (and _cpu_s): its first view after a meeting's place changed (the
  counts are the same: the small-cell masks kept for them serve again, services/bilan/small_cells.py);
  bilan_after_count_change_s (and _cpu_s): after a meeting's status changed, which changes this year's counts and
  decides this year's masks again (linear programs; last year's are kept);
- check_s, check_peak_mb: `python -m ecole_entreprise check` in a new process on a workbook holding the data
  (peak resident memory of that process);
- pairing_plan_s, pairing_plan_cpu_s: pairing.global_plan end to end (encoding, candidates, solve, explanations;
  median of --repeat runs), wall-clock and CPU, and its pairs.
Ratios: home_admin_first_growth and pairing_growth (largest scale / 1×; targets ≤ 2 and ≤ 6), and the same from
CPU seconds (…_cpu_growth), which the load of a shared machine does not distort.
Human-readable lines first, then, as the LAST line, one JSON object.

Run: python benchmarks/bench_scale.py [--scales 1 4] [--seed 11] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_bilan  # noqa: E402

from ecole_entreprise.domain.schema import default_schema  # noqa: E402
from ecole_entreprise.services.kernel import navigation  # noqa: E402
from ecole_entreprise.services.kernel.journal import entry_hash  # noqa: E402
from ecole_entreprise.store.base import Row, Snapshot, TabData, fingerprint  # noqa: E402

BASE = {"entreprises": 2000, "personnels": 5000, "rencontres": 6000}
JOURNAL_PER_MEETING = 3
TARGETS = {"home_admin_first_growth": 2.0, "pairing_growth": 6.0}


def _pick(rng, choices, low: int, high: int) -> str:
    count = int(rng.integers(low, high + 1))
    return "; ".join(rng.choice(choices, size=min(count, len(choices)), replace=False))


def _with(data: TabData, tab_name: str, extra) -> TabData:
    tab = default_schema().tab(tab_name)
    rows = []
    for row in data.rows:
        values = {**row.values, **extra(row)}
        rows.append(Row(row.id, values, {}, row.row_number, fingerprint(tab, values)))
    return TabData(tab_name, data.headers, rows)


def make_scale_snapshot(scale: int, seed: int) -> Snapshot:
    base = bench_bilan.make_snapshot(BASE["entreprises"] * scale, BASE["personnels"] * scale,
                                     BASE["rencontres"] * scale, seed)
    rng = np.random.default_rng(seed + 1)
    lists = default_schema().lists

    def person(row) -> dict[str, str]:
        return {"consentement_participation": "2025-09-15 10:00:00",
                "thematiques": _pick(rng, lists["thematiques"], 1, 3),
                "formats": _pick(rng, lists["formats_entreprise"], 1, 3),
                "disponibilites": _pick(rng, lists["periodes"], 1, 4)}

    tabs = dict(base.tabs)
    tabs["Entreprises"] = _with(base.tabs["Entreprises"], "Entreprises",
                                lambda row: {**person(row), "capacite_annuelle": str(int(rng.integers(1, 4)))})
    tabs["Personnels"] = _with(base.tabs["Personnels"], "Personnels", person)
    tabs["Journal"] = _journal(base, rng)
    return Snapshot(tabs=tabs, read_at=base.read_at)


def _journal(base: Snapshot, rng) -> TabData:
    records = []
    targets = [("Rencontres", r.id) for r in base.rows("Rencontres") for _ in range(JOURNAL_PER_MEETING)]
    targets += [(tab, r.id) for tab in ("Entreprises", "Personnels") for r in base.rows(tab)]
    previous = ""
    for i, (tab, row_id) in enumerate(targets):  # an intact chain, as the app writes it (check verifies it all)
        record = {"id": f"JRN-{i:07d}", "horodatage": f"2025-{int(rng.integers(1, 13)):02d}-15 10:00:00",
                  "acteur": "coordinateur@ac-dijon.fr", "action": "modification", "cible_tab": tab,
                  "cible_id": row_id, "champs": "statut", "finalite": "suivi du programme", "hash_precedent": previous}
        record["hash"] = previous = entry_hash(previous, record)
        records.append(record)
    return bench_bilan._rows("Journal", records)


def batch_get_bytes(snapshot: Snapshot, tabs) -> int:
    ranges = [{"range": f"'{name}'!A1:ZZ", "majorDimension": "ROWS",
               "values": [snapshot.tabs[name].headers] + [[row.values.get(f.name, "") for f in
                                                           default_schema().tab(name).fields]
                                                          for row in snapshot.rows(name)]}
              for name in tabs if name in snapshot.tabs]
    return len(json.dumps({"spreadsheetId": "x", "valueRanges": ranges}, ensure_ascii=False).encode("utf-8"))


def write_workbook(path: Path, snapshot: Snapshot) -> None:
    from ecole_entreprise.store.workbook import WorkbookStore

    bench_bilan.write_workbook(path, snapshot)
    WorkbookStore(default_schema(), path).append("Journal", [dict(r.values) for r in snapshot.rows("Journal")])


def home_first_view(workbook: Path, repeat: int) -> dict[str, float]:
    """The admin's home page: first view after a new read of an unchanged sheet, first view after a read in which
    one meeting changed, later views (medians)."""
    from ecole_entreprise.config import load_settings
    from ecole_entreprise.store import shared_store

    os.environ.update(ECOLE_ENTREPRISE_WORKBOOK=str(workbook), ECOLE_ENTREPRISE_CACHE_TTL="3600",
                      ECOLE_ENTREPRISE_DEV_USER=bench_bilan.ADMIN)
    store = shared_store(load_settings())

    def reread():
        """As after cache_ttl_s: the sheet is read again. Google builds new tab objects on every read, so their
        content digests (services/kernel/memo.py) are computed again too; the workbook store would reuse them."""
        store.invalidate()
        for data in store.read().tabs.values():
            data.__dict__.pop("_memo_signature", None)

    def change(i: int):
        def before():
            meeting = store.read().rows("Rencontres")[i]
            store.update("Rencontres", meeting.id, {"lieu": f"Salle {i}"}, meeting.fingerprint)
            store.read()
        return before

    bench_bilan.render_page("pages/home.py", True)  # warm-up: the workbook read, every tab checked once
    firsts = [cpu_timed("pages/home.py", reread) for _ in range(repeat)]
    changed = statistics.median(bench_bilan.render_page("pages/home.py", True, before=change(i))
                                for i in range(repeat))
    later = statistics.median(bench_bilan.render_page("pages/home.py", True) for _ in range(repeat))
    return {"home_admin_first_s": statistics.median(w for w, _ in firsts),
            "home_admin_first_cpu_s": statistics.median(c for _, c in firsts),
            "home_admin_after_change_s": changed, "home_admin_s": later}


def cpu_timed(path: str, before) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one page run: this process's CPU time does not count the other processes of a
    shared machine, which wall-clock figures do (a 50 ms view waits for its turn on a busy core)."""
    mark = {}

    def hook():
        before()
        mark["cpu"] = time.process_time()

    wall = bench_bilan.render_page(path, True, before=hook)
    return wall, time.process_time() - mark["cpu"]


def bilan_view(workbook: Path, repeat: int) -> dict[str, float]:
    """The comité's Bilan in a new session, once the data it comes from is prepared and masked (the masks are
    kept, for every session, until one of its tabs changes), and the first view after such a change."""
    from ecole_entreprise.config import load_settings
    from ecole_entreprise.store import shared_store

    os.environ.update(ECOLE_ENTREPRISE_WORKBOOK=str(workbook), ECOLE_ENTREPRISE_DEV_USER=bench_bilan.COMITE)
    store = shared_store(load_settings())

    def change(values=None):
        meeting = store.read().rows("Rencontres")[0]
        store.update("Rencontres", meeting.id, values or {"lieu": "Salle du conseil"}, meeting.fingerprint)
        store.read()

    def count_change():
        meeting = store.read().rows("Rencontres")[0]
        change({"statut": "annulée" if meeting["statut"] != "annulée" else "refusée"})

    bench_bilan.render_page("pages/bilan.py", True)
    views = [cpu_timed("pages/bilan.py", lambda: None) for _ in range(repeat)]
    after_change, after_change_cpu = cpu_timed("pages/bilan.py", change)
    after_count, after_count_cpu = cpu_timed("pages/bilan.py", count_change)
    return {"bilan_s": statistics.median(w for w, _ in views), "bilan_cpu_s": statistics.median(c for _, c in views),
            "bilan_after_change_s": after_change, "bilan_after_change_cpu_s": after_change_cpu,
            "bilan_after_count_change_s": after_count, "bilan_after_count_change_cpu_s": after_count_cpu}


CHECK = """
import runpy, sys
sys.argv = ["ecole_entreprise", "check"]
try:
    runpy.run_module("ecole_entreprise", run_name="__main__")
except SystemExit:
    pass
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(int(peak.split()[1]) / 1024, file=sys.stderr)
"""


def check_run(workbook: Path) -> tuple[float, float]:
    """Seconds and peak resident MB of `check` in its own process. The peak is the process's own high-water mark
    (VmHWM, reset by exec): getrusage would also count the pages this big benchmark process shares when forking."""
    env = {**os.environ, "ECOLE_ENTREPRISE_WORKBOOK": str(workbook)}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    return seconds, float(done.stderr.strip().splitlines()[-1])


def pairing_run(snapshot: Snapshot, repeat: int) -> tuple[float, float, int]:
    """Median of `repeat` plans: on a shared machine one run is as noisy as the other processes are busy."""
    from ecole_entreprise.services.pairing.plan import global_plan

    seconds, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        plan = global_plan(snapshot)
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(seconds), statistics.median(cpu), len(plan.pairs)


def measure_scale(scale: int, seed: int, repeat: int, folder: Path, only_check: bool = False) -> dict[str, float]:
    snapshot = make_scale_snapshot(scale, seed)
    read_tabs = [name for name in navigation.core_tabs() if name in snapshot.tabs]  # what the home page reads
    out = {"snapshot_bytes": batch_get_bytes(snapshot, read_tabs),
           "snapshot_bytes_all": batch_get_bytes(snapshot, list(snapshot.tabs))}
    out["pairing_plan_s"], out["pairing_plan_cpu_s"], out["pairing_pairs"] = pairing_run(snapshot, repeat)
    workbook = folder / f"scale-{scale}.xlsx"
    write_workbook(workbook, snapshot)
    del snapshot
    out["check_s"], out["check_peak_mb"] = check_run(workbook)
    if only_check:
        return out
    out.update(home_first_view(workbook, repeat))
    out.update(bilan_view(workbook, repeat))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only-check", action="store_true", help="sizes and `check` only (the 16× run)")
    args = parser.parse_args()
    bench_bilan.PAGE_TIMEOUT_S = 900  # the first view of a 4× instance on a busy 2-core machine
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for scale in args.scales:
            start = time.perf_counter()
            measured = measure_scale(scale, args.seed, args.repeat, Path(folder), args.only_check)
            load = os.getloadavg()[0]  # other processes' work shows in every wall-clock figure
            print(f"{scale}× ({time.perf_counter() - start:.0f} s de banc, charge {load:.1f}) : "
                  + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in measured.items()))
            results.update({f"{key}_{scale}x": round(value, 4) for key, value in measured.items()})
    if args.only_check:
        print(json.dumps(results))
        return
    low, high = min(args.scales), max(args.scales)
    results["home_admin_first_growth"] = round(results[f"home_admin_first_s_{high}x"]
                                               / results[f"home_admin_first_s_{low}x"], 2)
    results["pairing_growth"] = round(results[f"pairing_plan_s_{high}x"] / results[f"pairing_plan_s_{low}x"], 2)
    results["pairing_cpu_growth"] = round(results[f"pairing_plan_cpu_s_{high}x"]
                                          / results[f"pairing_plan_cpu_s_{low}x"], 2)
    results["home_admin_first_cpu_growth"] = round(results[f"home_admin_first_cpu_s_{high}x"]
                                                   / results[f"home_admin_first_cpu_s_{low}x"], 2)
    for name, target in TARGETS.items():
        print(f"{name} : {results[name]} (objectif ≤ {target} : {'ok' if results[name] <= target else 'DÉPASSÉ'})")
    print(f"Mémoire de ce processus : {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} Mo")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
