"""People and app processes sharing one local workbook, for real: OS processes, real files, real saves.

Used by tests/test_shared_sheet_local.py (a few seconds) and benchmarks/shared_sheet_local.py (a minute).

- App processes append companies and update the notes of their own rows, as coordinators would.
- A person works in sessions, as in a spreadsheet program that takes no lock (a copy edited elsewhere, a program
  without lock files): open = copy the file's bytes; then one to three edits (a row typed in, a remark in a
  column the person added), each followed by a save of the whole copy, either fresh (right after opening) or
  stale (after waiting while the app writes). Saves alternate between Excel's way (temp file renamed over the
  workbook) and an in-place rewrite (as some programs do).
- Ground truth is kept on both sides and compared with the final file: an acknowledged app write missing from
  it must be among the erased writes the store reports; a person's edit must never be missing.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import random
import time
from pathlib import Path

import openpyxl

from ecole_entreprise.domain.roles import ADMIN, User
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.kernel import journal, workbook_recovery
from ecole_entreprise.store.base import Conflict, StoreError
from ecole_entreprise.store.office_locks import WorkbookOpen
from ecole_entreprise.store.workbook import WorkbookStore
from ecole_entreprise.store.xlsx_io import BadPackage, Package
from ecole_entreprise.store.xlsx_marker import read_marker
from tests.support.workbook_env import WorkbookHuman, cell_text, set_text

TAB = "Entreprises"
REMARK = "Remarque"  # the person's own column
ADMIN_USER = User("admin@exemple.fr", ADMIN)


def prepare(path: Path) -> None:
    WorkbookStore(default_schema(), path).init()
    WorkbookHuman(path, default_schema()).add_column(TAB, REMARK, [])


# ---- an app process -----------------------------------------------------------------------------------------------


def app_writer(path: str, label: str, seconds: float, seed: int, barrier, out: str) -> None:
    store, rng = WorkbookStore(default_schema(), path), random.Random(seed)
    acknowledged, mine, counts = [], [], {"refused": 0, "conflicts": 0, "failed": 0}
    barrier.wait()
    end, i = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        i += 1
        try:
            if mine and rng.random() < 0.4:
                row = store.read().get(TAB, rng.choice(mine))
                if row is None:  # erased by a stale copy (the store reports it)
                    continue
                value = f"{label} note {i}"
                store.update(TAB, row.id, {"notes": value}, row.fingerprint)
                acknowledged.append(["update", row.id, value])
            else:
                [row] = store.append(TAB, [{"raison_sociale": f"{label} {i}"}])
                mine.append(row.id)
                acknowledged.append(["append", row.id, row["raison_sociale"]])
        except Conflict:
            counts["conflicts"] += 1
        except WorkbookOpen:
            counts["refused"] += 1
        except StoreError as error:
            counts["failed"] += 1
            counts.setdefault("errors", []).append(str(error)[:200])
        time.sleep(rng.uniform(0, 0.02))
    Path(out).write_text(json.dumps({"acknowledged": acknowledged, "redone": store.writes_redone, **counts}))


# ---- the person ---------------------------------------------------------------------------------------------------


def _marker_seq(data: bytes) -> int:
    package = Package()
    package.load(data)
    return int((read_marker(package.members) or "x:0").partition(":")[2] or 0)


def _open(path: Path) -> bytes:
    for _ in range(50):
        data = path.read_bytes()
        try:
            _marker_seq(data)
            return data
        except BadPackage:  # the person's own in-place save cannot be half-done here; an app write never is
            time.sleep(0.01)
    raise RuntimeError("workbook unreadable")


def _save(path: Path, book, in_place: bool) -> None:
    if in_place:
        book.save(path)
        return
    tmp = path.with_name(f"~tmp{os.getpid()}.xlsx")  # how Excel saves: a new file renamed over the old one
    book.save(tmp)
    os.replace(tmp, path)


def _edit(book, rng: random.Random, n: int, edits: dict) -> None:
    sheet = book[TAB]
    headers = [cell_text(c.value) for c in sheet[1]]
    id_col = headers.index("ID") + 1
    rows = [r for r in range(2, sheet.max_row + 1) if cell_text(sheet.cell(r, id_col).value)]
    if rows and rng.random() < 0.5:
        row = rng.choice(rows)
        value = f"remarque {n}"
        set_text(sheet.cell(row, headers.index(REMARK) + 1), value)
        edits["remarks"][cell_text(sheet.cell(row, id_col).value)] = value
    else:
        row_id, name = f"ENT-PERS{n:04d}", f"personne {n}"
        line = max(rows, default=1) + 1
        set_text(sheet.cell(line, id_col), row_id)
        set_text(sheet.cell(line, headers.index("Raison sociale") + 1), name)
        edits["rows"][row_id] = name


def _wait_for_app_write(path: Path, opened: bytes, rng: random.Random) -> None:
    """A stale copy: keep it open until the app has written since (at most 2 s), then a little longer."""
    seen, deadline = _marker_seq(opened), time.monotonic() + 2.0
    while _marker_seq(_open(path)) <= seen and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(rng.uniform(0, 0.3))


def person(path: str, seconds: float, seed: int, barrier, out: str) -> None:
    path, rng = Path(path), random.Random(seed)
    edits, counts, n = {"rows": {}, "remarks": {}}, {"saves": 0, "stale_saves": 0}, 0
    barrier.wait()
    end, session = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        opened, session = _open(path), session + 1
        book = openpyxl.load_workbook(io.BytesIO(opened))
        for _ in range(rng.randint(1, 3)):
            if session % 2:  # sessions alternate: a copy kept open while the app writes, then a fresh one
                _wait_for_app_write(path, opened, rng)
            n += 1
            _edit(book, rng, n, edits)
            counts["stale_saves"] += _marker_seq(_open(path)) > _marker_seq(opened)  # app wrote since opening
            _save(path, book, in_place=rng.random() < 0.3)
            counts["saves"] += 1
    Path(out).write_text(json.dumps({"edits": edits, **counts}))


# ---- a run and its verdict ------------------------------------------------------------------------------------------


def _spawn(targets: list[tuple]) -> None:
    # fork where there is one: real processes without each importing the app again (seconds on a busy machine)
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    barrier = context.Barrier(len(targets))
    workers = [context.Process(target=target, args=(*args, barrier, out)) for target, args, out in targets]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=600)
    assert all(worker.exitcode == 0 for worker in workers), [worker.exitcode for worker in workers]


def missing_app_writes(snapshot, acknowledged: list) -> list[tuple[str, str, str]]:
    """Acknowledged writes the file lacks: appends whose row is gone, the last note written to a row when the row
    holds another one."""
    rows = {row.id: row for row in snapshot.rows(TAB)}
    last_note = {row_id: value for op, row_id, value in acknowledged if op == "update"}
    missing = [("append", row_id, value) for op, row_id, value in acknowledged if op == "append" and row_id not in rows]
    missing += [("update", row_id, value) for row_id, value in last_note.items()
                if row_id in rows and rows[row_id]["notes"] != value]
    return missing


def missing_person_edits(snapshot, edits: dict) -> list[str]:
    rows = {row.id: row for row in snapshot.rows(TAB)}
    lost = [row_id for row_id, name in edits["rows"].items()
            if row_id not in rows or rows[row_id]["raison_sociale"] != name]
    lost += [f"{row_id} {value}" for row_id, value in edits["remarks"].items()
             if row_id in rows and rows[row_id].extra.get(REMARK) != value]
    return lost


def run(folder: Path, seconds: float, writers: int = 4, seed: int = 0) -> dict:
    """`writers` app processes and one person for `seconds`; then the verdict, a re-apply, and the verdict again."""
    path = Path(folder) / "classeur.xlsx"
    prepare(path)
    outs = [Path(folder) / f"writer{n}.json" for n in range(writers)] + [Path(folder) / "person.json"]
    _spawn([(app_writer, (str(path), f"p{n}", seconds, seed * 100 + n), str(outs[n])) for n in range(writers)]
           + [(person, (str(path), seconds, seed), str(outs[-1]))])
    results = [json.loads(out.read_text()) for out in outs]
    acknowledged = [write for result in results[:-1] for write in result["acknowledged"]]
    store = WorkbookStore(default_schema(), path)
    snapshot = store.read()
    missing = missing_app_writes(snapshot, acknowledged)
    reported = {(e.write.op, e.write.row_id, e.write.values["notes" if e.write.op == "update" else "raison_sociale"])
                for e in store.erased_writes()}
    figures = {
        "local_app_writes": len(acknowledged),
        "local_app_writes_refused_open": sum(r["refused"] for r in results[:-1]),
        "local_app_writes_failed": sum(r["failed"] for r in results[:-1]),  # e.g. a row the person's copy lacked
        "local_app_conflicts": sum(r["conflicts"] for r in results[:-1]),
        "local_writes_redone_after_a_save": sum(r["redone"] for r in results[:-1]),
        "local_person_saves": results[-1]["saves"],
        "local_person_edits": sum(len(kind) for kind in results[-1]["edits"].values()),
        "local_person_saves_stale": results[-1]["stale_saves"],
        "local_app_writes_erased": len(missing),
        "local_erased_reported": len(reported),
        "local_lost_undetected": len([m for m in missing if m not in reported]),
        "local_person_edits_erased": len(missing_person_edits(snapshot, results[-1]["edits"])),
    }
    outcome = workbook_recovery.reapply(store, ADMIN_USER)
    after = store.read()
    figures.update({
        "local_reapplied": len(outcome.applied),
        "local_reapply_conflicts": len(outcome.conflicts),
        "local_missing_after_reapply": len(missing_app_writes(after, acknowledged)),
        "local_person_edits_erased_after_reapply": len(missing_person_edits(after, results[-1]["edits"])),
        "journal_chain_ok": journal.verify_chain(after.rows(journal.TAB)).ok,
    })
    return figures
