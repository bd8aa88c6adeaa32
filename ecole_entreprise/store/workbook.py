"""The local workbook adapter, the embedded default backend: the Store port on one .xlsx file.

- Created on first use with every tab of the schema (bold frozen headers, dropdowns on choice columns, Listes and
  Parametres filled in); `init` later adds missing tabs and columns at the end and never removes anything.
- Reads keep a parsed model of the file in memory and reuse it while the file's bytes are unchanged
  (see xlsx_io.Package); a file a person saved with Excel or LibreOffice is simply parsed again.
- Every write takes an exclusive lock ("<file>.lock" for other processes, a thread lock within this one),
  re-reads the file, finds columns by header and rows by ID at that moment, then replaces the file atomically
  (temp file in the same folder, fsync, os.replace): a crash never leaves a truncated workbook.

What a person may lose when the app writes (cell values, extra columns and rows are never lost):
- cells the app writes become plain text cells (their style index is kept, a formula there is replaced);
- rows moved up by a deletion keep their cells but their formulas become their last computed value;
- `init` on an existing workbook rewrites it with openpyxl, which drops what openpyxl does not support
  (charts, images, some validation extensions) and the cached results of formulas, recomputed on next opening.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from filelock import FileLock, Timeout

from ..domain.schema import ID_FIELD, UPDATED_FIELD, Schema, TabSchema
from ..domain.values import now_paris
from .base import (
    Busy,
    Conflict,
    DuplicateId,
    InitReport,
    PermissionDenied,
    ReadOnlyTab,
    ReadVersions,
    Row,
    RowNotFound,
    SchemaMismatch,
    Snapshot,
    SpreadsheetNotFound,
    StoreError,
    TabData,
    TabIssue,
    Unreachable,
    rows_from_grid,
    stamp_changes,
    stamp_new,
)
from .workbook_init import create_workbook, init_workbook
from .xlsx_io import BadPackage, Package, Sheet, write_atomic

_THREAD_LOCKS: dict[str, threading.RLock] = {}
_REGISTRY = threading.Lock()


def _thread_lock(path: Path, name: str = "") -> threading.RLock:
    """One lock per file (and name) for the whole process: two stores on the same file must not interleave."""
    with _REGISTRY:
        return _THREAD_LOCKS.setdefault(f"{path}#{name}", threading.RLock())


class WorkbookStore:
    def __init__(self, schema: Schema, path: str | os.PathLike, lock_timeout_s: float = 30.0):
        self.schema = schema
        self.path = Path(path).expanduser().absolute()
        self.lock_timeout_s = lock_timeout_s
        self._lock = _thread_lock(self.path)
        self._file_lock = FileLock(f"{self.path}.lock", timeout=lock_timeout_s)
        self._package = Package()
        self._data: dict[str, tuple[Sheet, TabData]] = {}  # per tab: the parsed sheet it was built from
        self._versions = ReadVersions()  # values read, for the conflict view

    def describe(self) -> dict[str, str]:
        return {"kind": "local", "title": self.path.name, "location": str(self.path), "url": ""}

    # ---- reading ------------------------------------------------------------------------------------------

    def read(self, tabs=None) -> Snapshot:
        """Every tab, or only those named in `tabs` (the others are not parsed)."""
        wanted = [self.schema.tab(name) for name in tabs] if tabs else list(self.schema.tabs.values())
        with self._errors():
            self._ensure_file()
            with self._lock:
                self._refresh()
                tabs = {tab.name: self._tab_data(tab) for tab in wanted}
        return Snapshot(tabs=tabs, read_at=now_paris(), requests=0)

    def tail(self, tab: str, n: int = 1) -> list[Row]:
        """The last `n` rows with an ID, parsed from this tab alone (the other sheets stay unparsed)."""
        schema_tab = self.schema.tab(tab)
        with self._errors():
            self._ensure_file()
            with self._lock:
                self._refresh()
                sheet = self._package.sheet(schema_tab.name)
                if sheet is None:
                    raise SchemaMismatch(schema_tab.name)
                return self._last_rows(schema_tab, sheet, n)

    def _last_rows(self, tab: TabSchema, sheet: Sheet, n: int) -> list[Row]:
        headers = self._headers(sheet)
        if "ID" not in headers:
            raise SchemaMismatch(tab.name, "ID")
        id_col, found = headers["ID"], []
        for index in range(len(sheet.texts) - 1, 0, -1):
            if len(found) >= n:
                break
            cells = sheet.texts[index]
            if id_col < len(cells) and cells[id_col].strip():
                found.append(self._row_at(tab, sheet, index + 1))
        return found[::-1]

    @contextmanager
    def exclusive(self, name: str, ttl_s: float = 30.0):
        """Held across processes by "<file>.<name>.lock" (the OS drops it if the holder dies, so `ttl_s` is
        only how long to wait for it)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = _thread_lock(self.path, name)
        if not lock.acquire(timeout=ttl_s):
            raise Busy(name, ttl_s)
        try:
            file_lock = FileLock(f"{self.path}.{name}.lock", timeout=ttl_s)
            try:
                file_lock.acquire()
            except Timeout:
                raise Busy(name, ttl_s) from None
            try:
                yield
            finally:
                file_lock.release()
        finally:
            lock.release()

    def _tab_data(self, tab: TabSchema) -> TabData:
        sheet = self._package.sheet(tab.name)
        if sheet is None:
            issue = TabIssue(tab.name, f"Onglet « {tab.name} » absent du classeur : lancez l'initialisation.")
            return TabData(tab.name, [], [], [issue])
        cached = self._data.get(tab.name)
        if cached is None or cached[0] is not sheet:
            cached = (sheet, rows_from_grid(tab, sheet.texts))
            self._data[tab.name] = cached
            self._versions.remember(tab.name, cached[1].rows)
        return cached[1]

    def _refresh(self) -> None:
        """Bring the model up to the file's current bytes (cheap when they did not change)."""
        for attempt in range(3):
            try:
                self._package.load(self.path.read_bytes())
                return
            except BadPackage:
                if attempt == 2:
                    raise
                time.sleep(0.2)  # a spreadsheet program may be saving it right now

    # ---- writing ------------------------------------------------------------------------------------------

    def append(self, tab: str, records: list[dict[str, str]]) -> list[Row]:
        """Rows for every record, in order; a record whose ID is already in the tab returns the row found there."""
        schema_tab = self.schema.tab(tab)
        stamped = [stamp_new(schema_tab, record) for record in records]
        for record in stamped:
            record[ID_FIELD] = record[ID_FIELD].strip()
        if not stamped:
            return []
        return self._mutate(schema_tab, lambda sheet: self._append(schema_tab, sheet, stamped))

    def update(self, tab: str, row_id: str, changes: dict[str, str], expected_fingerprint: str) -> Row:
        schema_tab = self.schema.tab(tab)
        if schema_tab.append_only:
            raise ReadOnlyTab(schema_tab.name)
        return self._mutate(schema_tab,
                            lambda sheet: self._update(schema_tab, sheet, row_id, changes, expected_fingerprint))

    def delete(self, tab: str, row_ids: list[str]) -> int:
        schema_tab = self.schema.tab(tab)
        targets = {row_id.strip() for row_id in row_ids if row_id and row_id.strip()}
        if not targets:
            return 0
        return self._mutate(schema_tab, lambda sheet: self._delete(schema_tab, sheet, targets))

    def _mutate(self, tab: TabSchema, action):
        """Run `action(sheet) -> (result, after)` on fresh file state; `after` None means nothing to write.

        Actions raise StoreErrors before touching the sheet; any other failure leaves the model unknown,
        so it is dropped and the next operation parses the file again.
        """
        with self._errors(), self._exclusive():
            self._ensure_file()
            self._refresh()
            sheet = self._package.sheet(tab.name)
            if sheet is None:
                raise SchemaMismatch(tab.name)
            try:
                result, after = action(sheet)
                if after is None:
                    return result
                self._package.store(tab.name)
                write_atomic(self.path, self._package.to_bytes())
            except StoreError:
                raise
            except BaseException:
                self._forget()
                raise
            after()
            return result

    def _append(self, tab: TabSchema, sheet: Sheet, records: list[dict[str, str]]):
        columns = self._columns(tab, sheet, {f.name for f in tab.fields if any(r.get(f.name) for r in records)})
        id_col = columns[ID_FIELD]
        where: dict[str, int] = {}
        for index in range(len(sheet.texts) - 1, 0, -1):  # backwards so the first occurrence wins
            cells = sheet.texts[index]
            if id_col < len(cells) and cells[id_col].strip():
                where[cells[id_col].strip()] = index + 1
        width = len(sheet.texts[0])
        number = max(sheet.last_filled(), 1)
        results, added = [], []
        for record in records:
            fresh = record[ID_FIELD] not in where
            if fresh:
                number += 1
                cells = [""] * width
                for name, col in columns.items():
                    cells[col] = record[name]
                sheet.put_row(number, cells)
                where[record[ID_FIELD]] = number
            row = self._row_at(tab, sheet, where[record[ID_FIELD]])
            results.append(row)
            if fresh:
                added.append(row)
        if not added:
            return results, None
        return results, lambda: self._patch(tab, sheet, added=added)

    def _update(self, tab: TabSchema, sheet: Sheet, row_id: str, changes: dict[str, str], expected: str):
        columns = self._columns(tab, sheet, set(changes) | {UPDATED_FIELD})
        numbers = self._numbers_of(sheet, columns[ID_FIELD], {row_id.strip()})
        if not numbers:
            raise RowNotFound(tab.name, row_id)
        if len(numbers) > 1:
            raise DuplicateId(tab.name, row_id, numbers)
        current = self._row_at(tab, sheet, numbers[0])
        if current.fingerprint != expected:
            raise Conflict(tab.name, row_id, self._versions.recall(tab.name, row_id, expected), current,
                           dict(changes))
        clean = stamp_changes(tab, changes)
        sheet.set_cells(numbers[0], {columns[name]: value for name, value in clean.items()})
        row = self._row_at(tab, sheet, numbers[0])
        return row, lambda: self._patch(tab, sheet, updated=row)

    def _delete(self, tab: TabSchema, sheet: Sheet, targets: set[str]):
        headers = self._headers(sheet)
        if "ID" not in headers:
            raise SchemaMismatch(tab.name, "ID")
        numbers = self._numbers_of(sheet, headers["ID"], targets)
        if not numbers:
            return 0, None
        sheet.delete_rows(numbers)
        return len(numbers), lambda: self._data.pop(tab.name, None)

    # ---- rows and columns as the sheet is now -------------------------------------------------------------

    @staticmethod
    def _headers(sheet: Sheet) -> dict[str, int]:
        """Header → column, the last one winning on duplicates, exactly as rows_from_grid reads them."""
        cells = sheet.texts[0] if sheet.texts else []
        return {h.strip(): i for i, h in enumerate(cells) if h.strip()}

    def _columns(self, tab: TabSchema, sheet: Sheet, written: set[str]) -> dict[str, int]:
        """Field -> column of the fields present. Same rule as the Google store: a missing column is an error
        only for the ID or a field this write gives a value to (a person may delete an optional column)."""
        headers = self._headers(sheet)
        for f in tab.fields:
            if f.header not in headers and (f.name == ID_FIELD or f.name in written):
                raise SchemaMismatch(tab.name, f.header)
        return {f.name: headers[f.header] for f in tab.fields if f.header in headers}

    @staticmethod
    def _numbers_of(sheet: Sheet, id_col: int, ids: set[str]) -> list[int]:
        texts = sheet.texts
        return [i + 1 for i in range(1, len(texts)) if id_col < len(texts[i]) and texts[i][id_col].strip() in ids]

    @staticmethod
    def _row_at(tab: TabSchema, sheet: Sheet, number: int) -> Row:
        data = rows_from_grid(tab, [sheet.texts[0], sheet.texts[number - 1]])
        return replace((data.rows or data.rows_without_id)[0], row_number=number)

    def _patch(self, tab: TabSchema, sheet: Sheet, updated: Row | None = None, added: list[Row] = ()) -> None:
        """Keep the cached TabData in step with a write instead of rebuilding it from 5,000 rows."""
        self._versions.remember(tab.name, [*added, *([updated] if updated is not None else [])])
        cached = self._data.get(tab.name)
        if cached is None or cached[0] is not sheet:
            return
        rows = cached[1].rows
        if updated is not None:
            rows = [updated if r.row_number == updated.row_number else r for r in rows]
        self._data[tab.name] = (sheet, replace(cached[1], rows=[*rows, *added]))

    def _forget(self) -> None:
        self._package.reset()
        self._data.clear()

    # ---- locks, files and errors --------------------------------------------------------------------------

    @contextmanager
    def _exclusive(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            try:
                self._file_lock.acquire()
            except Timeout:
                raise Unreachable(f"Le classeur « {self.path.name} » est verrouillé par une autre session depuis "
                                  f"plus de {self.lock_timeout_s:g} s. Réessayez dans un instant.") from None
            try:
                yield
            finally:
                self._file_lock.release()

    @contextmanager
    def _errors(self):
        """Turn file-system failures into French messages."""
        try:
            yield
        except StoreError:
            raise
        except BadPackage:
            raise StoreError(f"Le classeur « {self.path} » est illisible (fichier .xlsx endommagé, ou en cours "
                             "d'enregistrement par un autre programme). Réessayez dans un instant ; sinon "
                             "restaurez une sauvegarde.") from None
        except PermissionError:
            raise PermissionDenied(f"Accès refusé au classeur « {self.path} » : vérifiez les droits du dossier ou "
                                   "fermez le fichier s'il est ouvert dans un autre programme.") from None
        except FileNotFoundError:
            raise SpreadsheetNotFound(f"Le classeur « {self.path} » a disparu pendant l'opération. "
                                      "Réessayez.") from None
        except OSError as error:
            raise Unreachable(f"Le classeur « {self.path} » n'a pas pu être lu ou écrit "
                              f"({error.strerror or error}).") from None

    def _ensure_file(self) -> None:
        if self.path.exists():
            return
        with self._exclusive():
            if not self.path.exists():
                self._create()

    # ---- structure: creation and init (store/workbook_init.py) ------------------------------------------

    def init(self) -> InitReport:
        return init_workbook(self)

    def _create(self) -> InitReport:
        return create_workbook(self)
