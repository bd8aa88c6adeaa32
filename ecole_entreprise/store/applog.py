"""The log of the app's writes to the local workbook, kept beside it in « <workbook>.app-writes.sqlite ».

Why: a person who saves a copy of the workbook opened before some of the app's writes erases them, and the file
alone cannot tell. Every app write is logged here (what was written, against which version of the row) and the
file carries the number of the last one it contains (xlsx_marker). When a read finds a file whose number is
older than the log's last write, the later writes whose effect is missing from the file are recorded as erased,
once, for the admin to re-apply (through the normal conflict rules) or dismiss.

Order matters across processes: a writer logs a write after the file holding it is in place, and a reader asks
the log for its last write before reading the file; so a file older than what the log says is always a
person's doing, never a write in progress.

Written values are kept `KEEP_DAYS` days (long enough for a stale copy to come back), then pruned, since they
may be personal data.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from ..domain.schema import UPDATED_FIELD
from ..domain.values import format_datetime, now_paris

KEEP_DAYS = 31
_PRUNE_EVERY_S = 3600.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS writes (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, op TEXT NOT NULL, tab TEXT NOT NULL, row_id TEXT NOT NULL,
    payload TEXT NOT NULL, base TEXT NOT NULL, result TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS writes_row ON writes (tab, row_id, seq);
CREATE TABLE IF NOT EXISTS erasures (
    seq INTEGER PRIMARY KEY, saved_at TEXT NOT NULL, detected_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settled (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, outcome TEXT NOT NULL, actor TEXT NOT NULL);
"""


@dataclass(frozen=True)
class AppWrite:
    seq: int
    at: str
    op: str  # "append", "update" or "delete"
    tab: str
    row_id: str
    values: dict[str, str]  # append: the whole record; update: the fields written; delete: nothing
    base: str  # fingerprint of the row the write was made against ("" for an append)
    result: str  # fingerprint of the row right after it ("" for a delete)


@dataclass(frozen=True)
class Erasure:
    write: AppWrite
    saved_at: str  # when the file that erased it was saved (its modification time, Paris)
    detected_at: str
    # the row versions an update may be re-applied on: the one it was made against, then the ones before the
    # earlier app writes to the row that it redoes entirely (those the copy erased too, so they are not listed)
    bases: tuple[str, ...] = ()


# row(tab, row_id) -> the row's values as the file holds them now, or None when the row is not there
RowLookup = Callable[[str, str], "dict[str, str] | None"]


class AppWriteLog:
    def __init__(self, workbook: Path):
        self.path = workbook.with_name(workbook.name + ".app-writes.sqlite")
        self.workbook = workbook
        self._id: str | None = None
        self._ready = False
        self._pruned_at = 0.0

    # ---- storage ----------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _db(self):
        fresh = not self.path.exists()
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous=OFF")  # a safety net beside the fsynced workbook: no fsync of its own
            if fresh:
                with contextlib.suppress(OSError):  # as readable as the workbook, no more
                    os.chmod(self.path, stat.S_IMODE(os.stat(self.workbook).st_mode))
            if not self._ready:  # another process may have created the file a moment ago, not yet its tables
                db.executescript(_SCHEMA)
                self._ready = True
            yield db
        finally:
            db.close()

    def log_id(self) -> str:
        if self._id is None:
            with self._db() as db:
                db.execute("INSERT OR IGNORE INTO meta VALUES ('log_id', ?)", (secrets.token_hex(6),))
                self._id = db.execute("SELECT value FROM meta WHERE key = 'log_id'").fetchone()[0]
        return self._id

    def last_seq(self) -> int:
        if not self.path.exists():
            return 0
        with self._db() as db:
            return db.execute("SELECT COALESCE(MAX(seq), 0) FROM writes").fetchone()[0]

    def marker(self, seq: int) -> str:
        return f"{self.log_id()}:{seq}"

    def seq_of(self, marker: str | None) -> int | None:
        """The last app write a file's marker says it holds; None when it has none or another log's."""
        log_id, _, number = (marker or "").partition(":")
        return int(number) if log_id == self.log_id() and number.isdigit() else None

    def append(self, first_seq: int, writes: list[tuple[str, str, str, dict[str, str], str, str]]) -> None:
        """Log writes (op, tab, row_id, values, base, result) numbered from `first_seq`; called under the
        workbook lock, after the file holding them is in place."""
        at = format_datetime(now_paris())
        rows = [(first_seq + i, at, op, tab, row_id, json.dumps(values, ensure_ascii=False), base, result)
                for i, (op, tab, row_id, values, base, result) in enumerate(writes)]
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR REPLACE INTO writes VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            db.execute("COMMIT")
        self._prune()

    def _prune(self) -> None:
        if time.monotonic() - self._pruned_at < _PRUNE_EVERY_S:
            return
        self._pruned_at = time.monotonic()
        cutoff = format_datetime(now_paris() - timedelta(days=KEEP_DAYS))
        with self._db() as db:
            last = db.execute("SELECT COALESCE(MAX(seq), 0) FROM writes").fetchone()[0]
            db.execute("DELETE FROM writes WHERE at < ? AND seq < ?", (cutoff, last))  # the last one numbers
            db.execute("DELETE FROM erasures WHERE seq NOT IN (SELECT seq FROM writes)")
            db.execute("DELETE FROM settled WHERE seq NOT IN (SELECT seq FROM writes)")

    def _writes(self, db, where: str, args: tuple) -> list[AppWrite]:
        query = f"SELECT seq, at, op, tab, row_id, payload, base, result FROM writes WHERE {where} ORDER BY seq"
        return [AppWrite(seq, at, op, tab, row_id, json.loads(payload), base, result)
                for seq, at, op, tab, row_id, payload, base, result in db.execute(query, args)]

    # ---- erasures -----------------------------------------------------------------------------------------------

    def detect(self, file_seq: int | None, last: int, row: RowLookup, saved_at: str) -> list[AppWrite]:
        """Record as erased the writes after `file_seq` (all of them when the file has no marker of this log)
        up to `last` whose effect the file lacks; returns those newly recorded."""
        if not self.path.exists() or (file_seq is not None and file_seq >= last):
            return []
        with self._db() as db:
            candidates = self._writes(db, "seq > ? AND seq <= ?", (file_seq or 0, last))
            erased = [w for w in candidates if _missing(w, _later(candidates, w), row)]
            if not erased:
                return []
            known = {seq for (seq,) in db.execute("SELECT seq FROM erasures WHERE seq > ?", (file_seq or 0,))}
            fresh = [w for w in erased if w.seq not in known]
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR IGNORE INTO erasures VALUES (?, ?, ?)",
                           [(w.seq, saved_at, format_datetime(now_paris())) for w in fresh])
            db.execute("COMMIT")
        return fresh

    def unsettled(self, row: RowLookup) -> list[Erasure]:
        """Erased writes not yet re-applied or dismissed whose effect is still missing from the file."""
        if not self.path.exists():
            return []
        with self._db() as db:
            pending = db.execute("SELECT e.seq, e.saved_at, e.detected_at FROM erasures e "
                                 "WHERE e.seq NOT IN (SELECT seq FROM settled) ORDER BY e.seq").fetchall()
            out = []
            for seq, saved_at, detected_at in pending:
                [write] = self._writes(db, "seq = ?", (seq,))
                same_row = self._writes(db, "tab = ? AND row_id = ?", (write.tab, write.row_id))
                if _missing(write, [w for w in same_row if w.seq > seq], row):
                    out.append(Erasure(write, saved_at, detected_at, _bases(write, same_row)))
            return out

    def settle(self, seq: int, outcome: str, actor: str) -> None:
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO settled VALUES (?, ?, ?, ?)",
                       (seq, format_datetime(now_paris()), outcome, actor))


def _bases(write: AppWrite, same_row: list[AppWrite]) -> tuple[str, ...]:
    """`write.base`, then the base of the update that produced it, and so on, back through the row's earlier
    updates whose every field a later update redid (a copy that erased them all is then the older version)."""
    if write.op != "update":
        return (write.base,)
    bases, base = [write.base], write.base
    earlier = [w for w in same_row if w.seq < write.seq]
    while True:
        parent = next((w for w in reversed(earlier) if w.op == "update" and w.result == base), None)
        if parent is None or not set(parent.values) - {UPDATED_FIELD} <= _redone_after(parent, same_row):
            return tuple(bases)
        base = parent.base
        bases.append(base)


def _redone_after(write: AppWrite, same_row: list[AppWrite]) -> set[str]:
    return {name for w in same_row if w.seq > write.seq for name in w.values}


def _later(writes: list[AppWrite], write: AppWrite) -> list[AppWrite]:
    return [w for w in writes if w.seq > write.seq and (w.tab, w.row_id) == (write.tab, write.row_id)]


def _missing(write: AppWrite, later: list[AppWrite], row: RowLookup) -> bool:
    """Does the file lack what `write` did, leaving aside what later app writes to the same row redid?"""
    if any(w.op == "delete" for w in later) and write.op != "delete":
        return False  # the row was meant to go
    current = row(write.tab, write.row_id)
    if write.op == "delete":
        return current is not None and not any(w.op == "append" for w in later)
    if write.op == "append":
        return current is None
    redone = {name for w in later for name in w.values}
    fields = [name for name in write.values if name != UPDATED_FIELD and name not in redone]
    if not fields:
        return False
    return current is None or any(current.get(name, "") != write.values[name] for name in fields)
