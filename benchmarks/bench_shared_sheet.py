"""People and the app on the same sheets, measured (issue 11).

- Google adapter over the fake Sheets API: every human edit (sort, insert a row, delete another row, move a column,
  add a column, type in the same row, type in another row) before every request of an update, an anonymisation,
  an append, a delete and a chained journal append, over as many seeds as it takes to reach `--trials` trials
  (tests/support/shared_sheet.py, the randomized test's harness: each trial's verdict compares the spreadsheet
  afterwards, as records keyed by ID, with what the person and the app did; never the adapter's own claims).
- Local workbook: 4 app processes and a person saving fresh and stale copies for `--seconds`
  (benchmarks/shared_sheet_local.py), ground truth on both sides compared with the final file.
- Journal: 2 processes appending under the lease (local workbook, real processes) and 2 app servers on one Google
  spreadsheet (two stores in two threads); a fork made on purpose (no lease) must be reported as concurrent writes.
- Cost on the fake: requests of one record's creation with its journal entry, bytes downloaded by an update at
  5,000 rows per tab, and the most requests (reads or writes) in any minute of a 2,000-row import while the fake
  enforces Google's per-minute quotas.

Run: python benchmarks/bench_shared_sheet.py [--seconds 60] [--trials 2000]   (last line: one JSON object)
Targets: google_misdirected 0, google_silent_losses 0, local_lost_undetected 0, local_person_edits_erased 0,
journal_false_deletions 0, requests_per_create <= 3, update_bytes_down <= 50,000, import_2000_max_requests_per_minute
<= 60.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_import import company_csv  # noqa: E402
from benchmarks.bench_store import BIG_TABS, filler  # noqa: E402
from benchmarks.shared_sheet_local import run_journal, run_local  # noqa: E402
from ecole_entreprise.domain.roles import ADMIN, User  # noqa: E402
from ecole_entreprise.domain.schema import default_schema  # noqa: E402
from ecole_entreprise.services.census import records  # noqa: E402
from ecole_entreprise.services.census.imports import preview, read_table, run_import, suggest_mapping  # noqa: E402
from ecole_entreprise.services.kernel import journal  # noqa: E402
from ecole_entreprise.store.base import StoreError  # noqa: E402
from tests.support import shared_sheet  # noqa: E402
from tests.support.fake_sheets import FakeSheets  # noqa: E402
from tests.support.google_env import FakeClock, make_store  # noqa: E402

ADMIN_USER = User("admin@exemple.fr", ADMIN)
ROWS_PER_TAB = 5_000


def log(text: str) -> None:
    print(text, flush=True)


# ---- Google: a person's edit between any two requests ------------------------------------------------------------


def run_google(min_trials: int) -> dict:
    """Whole seeds (every operation × gap × edit) until at least `min_trials` trials where the edit happened."""
    outcomes, seed, started = [], 0, time.perf_counter()
    while sum(o.happened for o in outcomes) < min_trials:
        seed += 1
        outcomes += [shared_sheet.trial(*case) for case in shared_sheet.plan(range(seed, seed + 1))]
    wrong = [o for o in outcomes if o.happened and (o.misdirected or o.silent_loss)]
    for o in wrong[:10]:
        log(f"  FAUTE {o.operation} / {o.edit} avant la requête {o.gap} : {o.result} ; {o.details[:3]}")
    log(f"google: {len(outcomes)} cases over {seed} seeds in {time.perf_counter() - started:.0f} s "
        f"({sum(not o.happened for o in outcomes)} where the operation ended before the edit's turn)")
    return shared_sheet.summary(outcomes)


# ---- Journal: two app servers on one Google spreadsheet ------------------------------------------------------


class WallClock:
    """Real time for the leases and retries of two stores running at once (threads), as two servers would."""

    def __call__(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def run_google_journal(count: int = 30) -> dict:
    schema, clock = default_schema(), WallClock()
    fake = FakeSheets(clock=clock)
    key = fake.create_spreadsheet("Journal à deux serveurs")
    stores = [make_store(schema, fake, key, clock) for _ in range(2)]
    stores[0].init()
    refused = []

    def server(store, label):
        for i in range(count):
            try:
                journal.record(store, f"{label}@exemple.fr", f"{label} {i}")
            except StoreError as error:  # busy past the lease's wait: shown to the user, nothing written
                refused.append(str(error))

    threads = [threading.Thread(target=server, args=(s, label)) for s, label in zip(stores, "ab", strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = stores[0].read().rows(journal.TAB)
    report = journal.verify_chain(rows)
    return {"entries": len(rows), "refused": len(refused), "breaks": len(report.breaks),
            "deletions": sum(b.kind == journal.DELETED for b in report.breaks)}


# ---- Cost -------------------------------------------------------------------------------------------------------


def google_world():
    schema, clock = default_schema(), FakeClock()
    fake = FakeSheets(clock=clock)
    key = fake.create_spreadsheet("Mesures")
    store = make_store(schema, fake, key, clock)
    store.init()
    return schema, clock, fake, store


def company(name: str) -> dict[str, str]:
    return {"raison_sociale": name, "code_postal": "21000", "commune": "Dijon", "commune_insee": "21231",
            "departement": "21", "contact_nom": "Martin", "contact_prenom": "Léa", "contact_email": "lea@exemple.fr"}


def requests_per_create(creates: int = 5) -> dict:
    """A server after its first page view (title, snapshot): the most requests one creation with its journal
    entry sent, counted by the fake."""
    schema, _, fake, store = google_world()
    app = make_store(schema, fake, store.key, FakeClock())  # a fresh process
    app.describe()
    snapshot = app.read()
    counts = []
    for i in range(creates):
        before = fake.total
        result = records.create(app, snapshot, ADMIN_USER, "Entreprises", company(f"Société {i}"))
        assert result.row is not None, result.errors
        counts.append(fake.total - before)
    before = fake.total  # a record arriving with its two consents: one more journal entry per consent
    consents = {"consentement_participation": "2026-01-01", "consentement_partage": "2026-01-01",
                "consentement_source": "coordinateur", "consentement_version": "v1"}
    assert records.create(app, snapshot, ADMIN_USER, "Entreprises", {**company("Avec"), **consents}).row is not None
    log(f"create: requests per creation {counts}; with two consents journaled: {fake.total - before}")
    return {"requests_per_create": max(counts)}


def update_bytes_down() -> dict:
    """Bytes the fake sent back for one update once every big tab holds 5,000 rows."""
    schema, _, fake, store = google_world()
    started = time.perf_counter()
    for name in BIG_TABS:
        tab = schema.tab(name)
        for start in range(0, ROWS_PER_TAB, 1000):
            store.append(name, [filler(tab, i) for i in range(start, start + 1000)])
    before = fake.bytes_down
    snapshot = store.read()
    whole = fake.bytes_down - before
    sizes = []
    for n, name in enumerate(("Entreprises", "Personnels", "Rencontres")):
        row = snapshot.rows(name)[(n + 1) * 1234]
        before = fake.bytes_down
        store.update(name, row.id, {"notes" if name != "Rencontres" else "lieu": f"mise à jour {n}"}, row.fingerprint)
        sizes.append(fake.bytes_down - before)
    log(f"update: {ROWS_PER_TAB} rows × {len(BIG_TABS)} tabs filled in {time.perf_counter() - started:.0f} s; "
        f"a full read downloads {whole:,} bytes, an update {sizes}")
    return {"update_bytes_down": max(sizes)}


def import_2000() -> dict:
    """A 2,000-row import with the fake enforcing 60 reads and 60 writes per minute (429 past them)."""
    _, _, fake, store = google_world()
    fake.reset_counts()
    fake.enforce_quotas(reads=60, writes=60)
    frame = read_table(company_csv(2000), "liste.csv")
    report = preview(frame, suggest_mapping(list(frame.columns), "Entreprises"), "Entreprises", store.read())
    outcome = run_import(store, report, ADMIN_USER, "liste.csv", third_party=False)
    peak = fake.max_per_window(60.0)
    refused = fake.total - len(fake.served)
    log(f"import: {outcome.imported} rows imported, {fake.total} requests ({refused} answered 429), "
        f"most in one minute: {peak['read']} reads, {peak['write']} writes")
    return {"import_2000_max_requests_per_minute": max(peak["read"], peak["write"])}


# ---- the run ----------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the local workbook run")
    parser.add_argument("--trials", type=int, default=2000, help="least number of Google trials")
    args = parser.parse_args()

    figures = run_google(args.trials)
    log(f"google: {figures}")
    local = run_local(args.seconds)
    log(f"local: {local}")
    leased = run_journal()
    shared = run_google_journal()
    log(f"journal: local {leased}; google two servers {shared}")
    figures.update({
        "local_lost_undetected": local["local_lost_undetected"],
        "local_person_edits_erased": local["local_person_edits_erased"],
        "journal_false_deletions": leased["journal_false_deletions"] + shared["deletions"],
    })
    figures.update(requests_per_create())
    figures.update(update_bytes_down())
    figures.update(import_2000())
    for key, value in figures.items():
        log(f"{key:40} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
