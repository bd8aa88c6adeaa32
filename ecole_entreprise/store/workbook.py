"""The local workbook adapter, the embedded default backend: the Store port on one .xlsx file.

- Created on first use with every tab of the schema (bold frozen headers, dropdowns on choice columns, Listes and
  Parametres filled in); `init` later adds missing tabs and columns at the end and never removes anything.
- Reads keep a parsed model of the file in memory and reuse it while the file's bytes are unchanged
  (see xlsx_io.Package); a file a person saved with Excel or LibreOffice is simply parsed again.
- Every write takes an exclusive lock ("<file>.lock" for other processes, a thread lock within this one),
  re-reads the file, finds columns by header and rows by ID at that moment, then replaces the file atomically
  (temp file in the same folder, fsync, swap) and only if it is still the file read: a person's save in between
  makes the write start again on their version (xlsx_io.replace_if_unchanged). A crash never leaves a truncated
  workbook.
- People save without our lock, so: a workbook open in Excel or LibreOffice (their lock files) is not written
  (office_locks); each write is logged beside the workbook and numbered in it, so a copy saved over later writes
  is noticed on the next read and its erased writes listed for an admin (applog, xlsx_marker).

What a person may lose when the app writes (cell values, extra columns and rows are never lost):
- cells the app writes become plain text cells (their style index is kept, a formula there is replaced);
- rows moved up by a deletion keep their cells but their formulas become their last computed value;
- `init` on an existing workbook rewrites it with openpyxl, which drops what openpyxl does not support
  (charts, images, some validation extensions) and the cached results of formulas, recomputed on next opening.
"""

from __future__ import annotations

import codecs
import os
import re
import threading
import time
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout

from ..domain.schema import ID_FIELD, UPDATED_FIELD, Schema, TabSchema
from ..domain.values import PARIS, format_datetime, now_paris
from .applog import AppWriteLog, Erasure
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
from .office_locks import WorkbookOpen, holder
from .workbook_init import create_workbook, init_workbook, write_corrections
from .xlsx_io import (
    BadPackage,
    FileState,
    Member,
    Package,
    Sheet,
    _split_rows,
    patterns,
    read_state,
    replace_if_unchanged,
    root_prefix,
    row_texts,
    unchanged,
)
from .xlsx_marker import read_marker, write_marker

# A write whose file a person saves meanwhile is redone on the new file; past this many tries it gives up.
WRITE_ATTEMPTS = 8
# read_pieces: sheet rows per piece, and decompressed bytes read at a time.
PIECE_ROWS = 5000
_STREAM_BYTES = 1 << 20

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
        self._state: FileState | None = None  # the file the model was loaded from
        self._data: dict[str, tuple[Sheet, TabData]] = {}  # per tab: the parsed sheet it was built from
        self._versions = ReadVersions()  # values read, for the conflict view
        self._log = AppWriteLog(self.path)
        self.writes_redone = 0  # writes redone because someone saved the file between re-read and replace

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

    def read_pieces(self, tab: str, rows: int = PIECE_ROWS):
        """One tab in pieces of at most `rows` sheet rows, each a TabData (row numbers as in the sheet, an ID is a
        duplicate across pieces too, missing columns come with the first piece); no piece when the tab is absent.

        For `check` on a workbook of many years: the sheet is decompressed and parsed as it is read, from the file
        itself, so neither the file, nor the sheet's XML, nor the whole tab is in memory at once."""
        schema_tab = self.schema.tab(tab)
        with self._errors(), _as_bad_package():
            self._ensure_file()
            with zipfile.ZipFile(self.path) as archive:
                package = _small_parts(archive)
                title = package.title(schema_tab.name)
                if title is None:
                    return
                seen: dict[str, int] = {}
                grid, first, headers = [], 2, None
                with archive.open(package.sheet_parts[title]) as stream:
                    for number, texts in _streamed_rows(stream, package.ctx):
                        if headers is None:
                            headers = texts if number == 1 else []
                            if number == 1:
                                continue
                        while first + len(grid) < number:  # rows absent from the file read as blank
                            grid.append([])
                        grid.append(texts)
                        if len(grid) >= rows:
                            yield rows_from_grid(schema_tab, [headers, *grid], first, seen)
                            first, grid = first + len(grid), []
                yield rows_from_grid(schema_tab, [headers or [], *grid], first, seen)

    def read_streamed(self, tab: str) -> TabData | None:
        """One tab whole, built from read_pieces: what `check` reads of a tab it needs whole, with no copy of the
        file or of the sheet's XML held meanwhile; None when the tab is absent."""
        whole = None
        for piece in self.read_pieces(tab):
            if whole is None:
                whole = piece
            else:
                whole.rows += piece.rows
                whole.issues += piece.issues
                whole.rows_without_id += piece.rows_without_id
        return whole

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
        """Bring the model up to the file as it is now (nothing is read when its stat says it did not change).

        A file someone else changed is checked against the app-write log: the log's last write is asked
        before the file is read (see applog), then app writes the file lacks are recorded as erased.
        """
        if self._state is not None and unchanged(self.path, self._state):
            return
        last = self._log.last_seq()
        for attempt in range(3):
            try:
                state = read_state(self.path)
                self._package.load(state.data)
                break
            except BadPackage:
                self._state = None
                if attempt == 2:
                    raise
                time.sleep(0.2)  # a spreadsheet program may be saving it right now
        self._state = state
        self._detect_erasures(last, state)

    def _detect_erasures(self, last: int, state: FileState) -> None:
        file_seq = self._log.seq_of(read_marker(self._package.members))
        if last == 0 or (file_seq is not None and file_seq >= last):
            return
        saved_at = format_datetime(datetime.fromtimestamp(state.mtime_ns / 1e9, PARIS).replace(tzinfo=None))
        self._log.detect(file_seq, last, self._row_values, saved_at)

    def _row_values(self, tab: str, row_id: str) -> dict[str, str] | None:
        """A row as the loaded file holds it (for comparing it with what the app wrote)."""
        if tab not in self.schema.tabs:
            return None
        row = self._tab_data(self.schema.tab(tab)).find(row_id)
        return row.values if row is not None else None

    # ---- app writes a stale copy erased ---------------------------------------------------------------------

    def erased_writes(self) -> list[Erasure]:
        """App writes that a copy saved over the workbook erased, not yet re-applied or dismissed, and still
        missing from the file now."""
        with self._errors():
            self._ensure_file()
            with self._lock:
                self._refresh()
                return self._log.unsettled(self._row_values)

    def settle_erased(self, seq: int, outcome: str, actor: str) -> None:
        """Record what became of an erased write (re-applied, conflict, dismissed…): it is no longer listed."""
        with self._errors():
            self._log.settle(seq, outcome, actor)

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
        """Run `action(sheet) -> (result, after, logged)` on the file as it is; `after` None: nothing to write.

        The file is replaced only if it is still the one read; if a person saved it meanwhile, the action is
        redone on their version (never written over it). Actions raise StoreErrors before touching the sheet;
        any other failure leaves the model unknown, so it is dropped and parsed again.
        """
        with self._errors(), self._exclusive():
            self._ensure_file()
            for _ in range(WRITE_ATTEMPTS):
                self._refuse_if_open()
                self._refresh()
                sheet = self._package.sheet(tab.name)
                if sheet is None:
                    raise SchemaMismatch(tab.name)
                try:
                    result, after, logged = action(sheet)
                    if after is None:
                        return result
                    first = self._log.last_seq() + 1
                    write_marker(self._package.members, self._log.marker(first + len(logged) - 1))
                    self._package.store(tab.name)
                    written = replace_if_unchanged(self.path, self._package.to_bytes(), self._state)
                except StoreError:
                    raise
                except BaseException:
                    self._forget()
                    raise
                if written is None:  # saved by someone else since it was read: start again from their file
                    self.writes_redone += 1
                    self._forget()
                    time.sleep(0.05)
                    continue
                self._state = written
                self._log.append(first, logged)
                after()
                return result
            raise Unreachable(f"Le classeur « {self.path.name} » est enregistré sans cesse par un autre programme "
                              "pendant que l'application essaie d'y écrire. Rien n'a été enregistré : réessayez "
                              "dans un instant.")

    def _refuse_if_open(self) -> None:
        found = holder(self.path)
        if found is not None:
            raise WorkbookOpen(self.path, found)

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
            return results, None, []
        logged = [("append", tab.name, row.id, dict(row.values), "", row.fingerprint) for row in added]
        return results, lambda: self._patch(tab, sheet, added=added), logged

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
        logged = [("update", tab.name, row.id, clean, expected, row.fingerprint)]
        return row, lambda: self._patch(tab, sheet, updated=row), logged

    def _delete(self, tab: TabSchema, sheet: Sheet, targets: set[str]):
        headers = self._headers(sheet)
        if "ID" not in headers:
            raise SchemaMismatch(tab.name, "ID")
        numbers = self._numbers_of(sheet, headers["ID"], targets)
        if not numbers:
            return 0, None, []
        gone = [self._row_at(tab, sheet, number) for number in numbers]
        sheet.delete_rows(numbers)
        logged = [("delete", tab.name, row.id, {}, row.fingerprint, "") for row in gone]
        return len(numbers), lambda: self._data.pop(tab.name, None), logged

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
        self._state = None
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
                if self.path.exists():  # init, too, must not write a workbook a person has open
                    self._refuse_if_open()
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

    def sheet_locale(self) -> str | None:
        return None  # a workbook has no locale: Excel and LibreOffice use the computer's

    def write_corrections(self, entries) -> int:
        """Rewrite the « À corriger » tab (store/corrections.py)."""
        self._ensure_file()
        return write_corrections(self, entries)


# ---- streamed reading (read_pieces) ------------------------------------------------------------------------------


@contextmanager
def _as_bad_package():
    try:
        yield
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise BadPackage(f"{type(error).__name__}: {error}") from None


def _small_parts(archive: zipfile.ZipFile) -> Package:
    """A Package of every part but the worksheets (which stay in the file): sheet titles and what cells need to be
    read (shared strings, date styles)."""
    package = Package()
    for info in archive.infolist():
        sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
        data = b"" if sheet else archive.read(info)
        package.members[info.filename] = Member(info.filename, info.CRC, info.file_size, zipfile.ZIP_STORED, data)
    try:
        package._parse_workbook()
    except (KeyError, ValueError, UnicodeDecodeError, AttributeError) as error:
        raise BadPackage(f"{type(error).__name__}: {error}") from None
    return package


def _streamed_rows(stream, ctx):
    """(row number, cell texts) of each <row> of a worksheet, decompressed and parsed a piece at a time."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    buffer, prefix, number = "", None, 0
    while True:
        chunk = stream.read(_STREAM_BYTES)
        buffer += decoder.decode(chunk, final=not chunk)
        if prefix is None:  # up to the <sheetData> start tag: the head, which holds no row
            start = buffer.find("sheetData")
            opened = buffer.find(">", start) + 1 if start >= 0 else 0
            if not opened:
                if chunk:
                    continue
                raise BadPackage("<sheetData> not found")
            prefix, pats = root_prefix(buffer, "worksheet"), patterns(root_prefix(buffer, "worksheet"))
            if buffer[opened - 2:opened] == "/>":  # <sheetData/>: no row at all
                return
            buffer = buffer[opened:]
        end = buffer.find(f"</{prefix}sheetData>")
        if end < 0 and not chunk:
            raise BadPackage("</sheetData> not found")
        closing = buffer.rfind(f"</{prefix}row>")
        cut = end if end >= 0 else closing + len(f"</{prefix}row>") if closing >= 0 else 0
        for _, start_tag, inner in _split_rows(buffer[:cut], prefix):  # whole rows only
            found = _ROW_NUMBER.search(start_tag)
            number = int(found.group(1)) if found else number + 1
            yield number, row_texts(inner, pats, ctx)
        if end >= 0:
            return
        buffer = buffer[cut:]


_ROW_NUMBER = re.compile(r'\sr="(\d+)"')
