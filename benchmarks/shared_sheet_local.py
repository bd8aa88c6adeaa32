"""Shared local workbook, measured: app processes and a person saving fresh and stale copies; two processes
appending to the journal.

Run: python benchmarks/shared_sheet_local.py [seconds]   (default 60; last line: one JSON object)
benchmarks/bench_shared_sheet.py merges `run_local()` and `run_journal()` into its own figures.

Targets: local_lost_undetected 0 (an app write the file lacks is always reported), local_person_edits_erased 0
(a person's save is never written over), journal_false_deletions 0.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support import shared_journal, shared_workbook  # noqa: E402


def run_local(seconds: float = 60.0) -> dict:
    """4 app processes and a person for `seconds`: what was written, erased, reported, re-applied."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        figures = shared_workbook.run(Path(folder), seconds, writers=4, seed=2026)
        figures["local_seconds"] = round(time.perf_counter() - started, 1)
    return figures


def run_journal(count: int = 100) -> dict:
    """2 processes appending `count` entries each under the lease; then 2 without it (a fork each round)."""
    with tempfile.TemporaryDirectory() as leased, tempfile.TemporaryDirectory() as unleased:
        ok = shared_journal.run(Path(leased), count, with_lease=True)
        forked = shared_journal.run(Path(unleased), 10, with_lease=False)
    return {
        "journal_entries_written": ok["entries"],
        "journal_breaks_found": ok["breaks"],
        "journal_false_deletions": ok["deletions_reported"] + forked["deletions_reported"],
        "journal_unleased_entries": forked["entries"],
        "journal_unleased_forks_reported_as_concurrent": forked["concurrent_reported"],
    }


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    figures = {**run_local(seconds), **run_journal()}
    for key, value in figures.items():
        print(f"{key:50} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
