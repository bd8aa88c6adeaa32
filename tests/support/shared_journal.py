"""Two processes appending to one Journal for real (OS processes, one local workbook).

Used by tests/test_journal.py and benchmarks/shared_sheet_local.py. `with_lease=False` plays a process that
predates the lease (an old version still running): it reads the last hash and appends without `exclusive`, and the
two processes are lined up so that they follow the same entry, which forks the chain for real.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.kernel import journal
from ecole_entreprise.store.base import new_id
from ecole_entreprise.store.workbook import WorkbookStore


def _without_lease(store, label: str, i: int, barrier) -> None:
    """journal.record as it was before the lease: last hash, then append, nothing held in between."""
    entry = {"id": new_id("JRN"), "horodatage": "2026-12-01 10:00:00", "acteur": label, "action": f"{label} {i}"}
    last = store.tail(journal.TAB, 1)
    barrier.wait()  # both have read the same last entry
    previous = last[-1]["hash"] if last else ""
    entry = {**entry, "hash_precedent": previous}
    entry["hash"] = journal.entry_hash(previous, entry)
    store.append(journal.TAB, [entry])
    barrier.wait()  # both appended before the next round


def writer(path: str, label: str, count: int, with_lease: bool, barrier) -> None:
    store = WorkbookStore(default_schema(), path)
    barrier.wait()
    for i in range(count):
        if with_lease:
            journal.record(store, label, f"{label} {i}", "Entreprises", f"ENT-{label}{i}")
        else:
            _without_lease(store, label, i, barrier)


def run(folder: Path, count: int = 15, with_lease: bool = True) -> dict:
    """Two processes append `count` entries each; the chain as verify_chain sees it afterwards."""
    path = Path(folder) / "journal.xlsx"
    WorkbookStore(default_schema(), path).init()
    # fork where there is one: real processes without importing the app again
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    barrier = context.Barrier(2)
    workers = [context.Process(target=writer, args=(str(path), label, count, with_lease, barrier))
               for label in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert all(worker.exitcode == 0 for worker in workers), [worker.exitcode for worker in workers]
    rows = WorkbookStore(default_schema(), path).read().rows(journal.TAB)
    report = journal.verify_chain(rows)
    return {"rows": rows, "report": report,
            "entries": len(rows),
            "breaks": len(report.breaks),
            "deletions_reported": sum(b.kind == journal.DELETED for b in report.breaks),
            "concurrent_reported": sum(b.kind == journal.CONCURRENT for b in report.breaks)}

