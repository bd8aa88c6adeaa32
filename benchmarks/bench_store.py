"""Store figures: API requests per page view / update / append (Google adapter over the fake Sheets API, counted),
and local-workbook update latency with 5,000 rows per tab.

Run: python benchmarks/bench_store.py   (last line: one JSON object)
Targets: cold view 1 request, warm view 0, update ≤ 2, append ≤ 2, local update p50 ≤ 0.3 s.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ecole_entreprise.domain.schema import default_schema  # noqa: E402
from ecole_entreprise.store.cache import CachedStore  # noqa: E402
from ecole_entreprise.store.workbook import WorkbookStore  # noqa: E402

ROWS_PER_TAB = 5_000
UPDATES = 40
BIG_TABS = ("Entreprises", "Personnels", "Rencontres", "Partenariats", "Evenements", "Journal")


def filler(tab, i: int) -> dict[str, str]:
    """A plausible row: every text field filled so rows have their real width."""
    record = {}
    for field in tab.fields:
        if field.name in ("id", "created_at", "updated_at"):
            continue
        if field.type in ("choice", "multichoice"):
            record[field.name] = field.choices[i % len(field.choices)]
        elif field.type == "int":
            record[field.name] = str(1 + i % 3)
        elif field.type in ("date", "datetime"):
            record[field.name] = "2026-01-15"
        else:
            record[field.name] = f"{field.name} {i}"
    return record


def google_request_counts(schema) -> dict[str, int]:
    from tests.support.google_env import make_env

    with tempfile.TemporaryDirectory() as folder:
        env = make_env(Path(folder), schema)
        env.store.init()
        tab = schema.tab("Entreprises")
        env.store.append("Entreprises", [filler(tab, i) for i in range(200)])
        clock = [0.0]
        app_store = CachedStore(env.make_second_store(), ttl_s=60, clock=lambda: clock[0])  # a fresh process

        def page_view():  # what every page does: where the data lives (title), then the snapshot
            before = env.request_count()
            app_store.describe()
            snapshot = app_store.read()
            return snapshot, env.request_count() - before

        _, first = page_view()  # the server's first view also fetches the spreadsheet's title, once
        clock[0] += 61  # the cache has expired: a cold view of a running server
        snapshot, cold = page_view()
        _, warm = page_view()
        row = snapshot.rows("Entreprises")[17]
        before = env.request_count()
        app_store.update("Entreprises", row.id, {"notes": "bench"}, row.fingerprint)
        update = env.request_count() - before
        before = env.request_count()
        app_store.append("Entreprises", [filler(tab, 999)])
        append = env.request_count() - before
    return {"cold_view_requests": cold, "warm_view_requests": warm, "update_requests": update,
            "append_requests": append, "first_view_requests": first}


def local_update_p50(schema) -> float:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.xlsx"
        store = WorkbookStore(schema, path)
        store.init()
        start = time.perf_counter()
        for name in BIG_TABS:
            tab = schema.tab(name)
            store.append(name, [filler(tab, i) for i in range(ROWS_PER_TAB)])
        print(f"workbook filled: {ROWS_PER_TAB} rows × {len(BIG_TABS)} tabs, {path.stat().st_size / 1e6:.1f} MB "
              f"in {time.perf_counter() - start:.1f} s")
        snapshot = store.read()
        latencies = []
        for i in range(UPDATES):
            name = ("Entreprises", "Personnels", "Rencontres")[i % 3]
            row = snapshot.rows(name)[(i * 97) % ROWS_PER_TAB]
            current = store.read().get(name, row.id)
            t0 = time.perf_counter()
            field = "notes" if name != "Rencontres" else "lieu"
            store.update(name, row.id, {field: f"mise à jour {i}"}, current.fingerprint)
            latencies.append(time.perf_counter() - t0)
        p90 = statistics.quantiles(latencies, n=10)[-1]
        print(f"local update latency over {UPDATES} updates: p50 {statistics.median(latencies) * 1000:.0f} ms, "
              f"p90 {p90 * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
        return statistics.median(latencies)


def main() -> None:
    schema = default_schema()
    figures = google_request_counts(schema)
    for key, value in figures.items():
        print(f"{key}: {value}")
    figures["local_update_p50_s"] = round(local_update_p50(schema), 4)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
