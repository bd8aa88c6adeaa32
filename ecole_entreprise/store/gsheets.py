"""The Google Sheets adapter: the Store port over the Sheets API v4, through gspread's HTTP client.

Requests per operation (common case, hints fresh from the last read): read 1 (values:batchGet over every tab);
append 1 (batchUpdate appendCells, whose answer shows where the rows landed); update 2 (the header and a few
rows around the one remembered, then one checked write); delete 2 (the ID column, one checked write); a chained
Journal entry 2 (lease taken with the tail in its answer, then the append that also gives the lease back).
Cells are written RAW (stringValue) and read FORMATTED, so "01000", "+33…" or "=SUM(…)" stay text.

How a write is checked and repaired whatever a person does between two requests is in gsheets_writes.py, the
lease in gsheets_lease.py, what is remembered between requests in gsheets_index.py. Every request goes through
a bounded retry (RetryPolicy) on 408/429/5xx, timeouts and connection errors; a write whose answer was lost is
checked before being sent again; what still fails becomes a French StoreError (gsheets_errors.py).
gspread's BackOffHTTPClient is not used: it never gives up.
"""

from __future__ import annotations

import logging
import re
import threading
from contextlib import contextmanager

import google.auth.exceptions
import gspread
import requests
from google.auth.transport.requests import AuthorizedSession
from gspread.exceptions import APIError

from .. import logs
from ..domain.schema import ID_FIELD, UPDATED_FIELD, Schema, TabSchema
from ..domain.values import now_paris
from .base import (
    Busy,
    Conflict,
    DuplicateId,
    InitReport,
    MaybeApplied,
    PermissionDenied,
    ReadOnlyTab,
    ReadVersions,
    Row,
    RowNotFound,
    SchemaMismatch,
    Snapshot,
    StoreError,
    TabData,
    TabIssue,
    Unreachable,
    fingerprint,
    rows_from_grid,
    stamp_changes,
    stamp_new,
)
from .cells import a1_title, column_letter
from .gsheets_errors import TRANSIENT_STATUS, translate
from .gsheets_index import TabMemory, answer_grids, header_range, parse_rows, positions, rows_range, texts
from .gsheets_init import init_spreadsheet, write_corrections
from .gsheets_lease import Leases
from .gsheets_writes import SCRATCH_TITLE, WRITE_FIELDS, Capture, RowWriter, Uncertain, row_of, text_cell
from .retry import RetryPolicy

log = logging.getLogger(__name__)
SCOPES = ("https://www.googleapis.com/auth/spreadsheets", "https://www.googleapis.com/auth/drive.readonly")
SHEETS_URL = "https://sheets.googleapis.com/v4/spreadsheets"
READ_PARAMS = {"valueRenderOption": "FORMATTED_VALUE", "majorDimension": "ROWS"}
GRID_FIELDS = "sheets(properties(sheetId,title),data(startRow,rowData(values(formattedValue,userEnteredValue,note))))"
MISSING_TAB = "Onglet absent du classeur : lancez `python -m ecole_entreprise init` pour le créer."
MAX_TRIES = 4  # a write re-aimed this many times without landing right gives up (nothing left changed)
TAIL_MARGIN = 3  # rows read above the remembered end of a tab, for the tail and the answer of an append
WINDOW = 2  # rows read on each side of the remembered line of a row to update

DEFAULT_RETRY = RetryPolicy()
_locks: dict[str, threading.RLock] = {}
_locks_guard = threading.Lock()


def spreadsheet_lock(key: str) -> threading.RLock:
    """One lock per spreadsheet for the whole process: every session of this server shares it."""
    with _locks_guard:
        return _locks.setdefault(key, threading.RLock())


class _MissingTab(Exception):
    """Internal: Google could not parse a range because its tab does not exist."""


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, APIError):
        return error.code in TRANSIENT_STATUS or error.code >= 500
    return isinstance(error, (requests.exceptions.Timeout, requests.exceptions.ConnectionError,
                              google.auth.exceptions.TransportError))


def _text_grid(values) -> list[list[str]]:
    return [["" if v is None else str(v) for v in row] for row in (values or [])]


def _positions(headers: list[str]) -> dict[str, int]:
    return positions(headers)


class GoogleSheetsStore:
    """Store port on one Google spreadsheet; safe to share between the threads of one server."""

    def __init__(self, schema: Schema, spreadsheet_key: str, *, credentials=None, session=None,
                 retry: RetryPolicy = DEFAULT_RETRY, service_account_email: str = "", timeout_s: float = 20,
                 lease_clock=None):
        if session is None:
            if credentials is None:
                raise StoreError("Aucun compte de service Google configuré : renseignez [connections.gsheets] "
                                 "dans .streamlit/secrets.toml ou ECOLE_ENTREPRISE_CREDENTIALS.")
            session = AuthorizedSession(credentials)
        logs.watch(session)  # one log line per HTTP exchange with Google, with its duration
        self.schema = schema
        self.key = spreadsheet_key
        self.retry = retry
        self.service_account_email = service_account_email
        self._http = gspread.Client(auth=None, session=session).http_client
        self._http.set_timeout(timeout_s)
        self._lock = spreadsheet_lock(spreadsheet_key)
        self._meta: dict | None = None  # {"title": str, "sheets": {title: sheet properties}}
        self._count_lock = threading.Lock()
        self._local = threading.local()
        self.requests_sent = 0
        self._versions = ReadVersions()  # values read, for the conflict view
        self.memory = TabMemory()  # where rows and tab ends were: hints, always checked
        self.writer = RowWriter(self)
        # Leases expire on the wall clock every process shares (time.time), injectable for tests.
        import time

        self.leases = Leases(self, lease_clock or time.time)

    @property
    def repairs(self) -> int:
        """Writes seen misdirected or stale in their own answer and undone (for benchmarks and tests)."""
        return self.writer.repairs

    @classmethod
    def from_settings(cls, schema: Schema, settings) -> GoogleSheetsStore:
        from google.oauth2 import service_account

        try:
            if settings.service_account_info:
                credentials = service_account.Credentials.from_service_account_info(
                    settings.service_account_info, scopes=SCOPES)
            elif settings.credentials_file:
                credentials = service_account.Credentials.from_service_account_file(
                    settings.credentials_file, scopes=SCOPES)
            else:
                credentials = None
        except (ValueError, KeyError, OSError) as error:
            raise PermissionDenied(f"Identifiants du compte de service illisibles ou incomplets ({error}) : "
                                   "vérifiez la clé JSON dans la configuration.") from error
        email = settings.service_account_email or getattr(credentials, "service_account_email", "")
        return cls(schema, settings.spreadsheet, credentials=credentials, retry=RetryPolicy.from_settings(settings),
                   service_account_email=email, timeout_s=settings.request_timeout_s)

    # ---- the port ------------------------------------------------------------------------------------------

    def describe(self) -> dict[str, str]:
        with self._translated():
            title = self._metadata()["title"]
        return {"kind": "google", "title": title, "location": self.key,
                "url": f"https://docs.google.com/spreadsheets/d/{self.key}/edit"}

    def read(self, tabs=None) -> Snapshot:
        """Every tab in one values:batchGet, or only those named in `tabs` (the cache refreshes that way only
        the tabs a write changed)."""
        names = list(tabs) if tabs else self.schema.tab_names
        self._local.count = 0
        with self._translated():
            try:
                grids, missing = self._batch_get(names), []
            except _MissingTab:  # someone deleted or renamed a tab: find which, read the others
                present = self._metadata(refresh=True)["sheets"]
                missing = [n for n in names if n not in present]
                kept = [n for n in names if n in present]
                grids = self._batch_get(kept) if kept else {}
        tabs = {}
        for name in names:
            if name in missing:
                tabs[name] = TabData(name, [], [], [TabIssue(name, MISSING_TAB)])
                self.memory.forget(name)
                continue
            tabs[name] = rows_from_grid(self.schema.tab(name), grids[name])
            self._versions.remember(name, tabs[name].rows)
            self.memory.learn_full(name, tabs[name], grids[name])
        return Snapshot(tabs=tabs, read_at=now_paris(), requests=self._local.count)

    def tail(self, tab: str, n: int = 1) -> list[Row]:
        schema = self.schema.tab(tab)
        if n <= 0:
            return []
        for held in reversed(self.leases.held()):  # the lease's own answer brought the tab's last rows
            if tab in held.prefetch:
                header, lines, first = held.prefetch[tab]
                rows = parse_rows(schema, header, _lines_list(lines, first), first).rows
                if len(rows) >= n or first == 2:
                    self._versions.remember(tab, rows)
                    return rows[-n:]
        with self._translated():
            return self._tail(schema, n)

    @contextmanager
    def exclusive(self, name: str, ttl_s: float = 30.0):
        """A lease in the spreadsheet's developer metadata, seen by every process (gsheets_lease.py). It is
        given back by the section's first write (in the same atomic request) or when the section ends."""
        with self._translated():
            held = self.leases.acquire(name, ttl_s)
        stack = self.leases.held()
        stack.append(held)
        failed = False
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            stack.remove(held)
            try:
                with self._translated():
                    self.leases.release(held)
            except StoreError:
                if not failed:
                    raise
                log.warning("lease %s not given back; it expires by itself after %s s", name, ttl_s)

    def update(self, tab: str, row_id: str, changes: dict[str, str], expected_fingerprint: str) -> Row:
        schema = self.schema.tab(tab)
        if schema.append_only:
            raise ReadOnlyTab(tab)
        clean = stamp_changes(schema, changes)
        # The process-wide lock keeps the sessions of this server from interleaving their checks; the checks
        # themselves (every write verified from its own answer) hold against people and other processes.
        with self._translated(), self._lock:
            return self._update(schema, row_id, clean, expected_fingerprint)

    def _update(self, schema: TabSchema, row_id: str, clean: dict[str, str], expected: str) -> Row:
        tab, tries, lost = schema.name, 0, 0
        while tries < MAX_TRIES:
            current, header = self._locate(schema, row_id)
            if current.fingerprint != expected:
                raise Conflict(tab, row_id, self._versions.recall(tab, row_id, expected), current, clean)
            writes = {k: v for k, v in clean.items() if v != current.values.get(k, "") or k == UPDATED_FIELD}
            columns = self._columns(schema, header, list(writes))
            cells = {col: text_cell(writes[name]) for name, col in columns.items()}
            line, width = current.row_number, self._width(tab, header)
            try:
                cap = self._write(tab, {line: cells}, width=width)
            except Uncertain as error:
                done = self._after_lost_update(schema, row_id, clean, expected)
                if done is not None:
                    return done
                lost += 1
                if not self._wait_after_loss(lost):
                    raise error.cause from None  # checked: not applied, so the plain error says it all
                continue
            tries += 1
            verdict = self.writer.verdict(schema, cap, line, row_id, expected, columns)
            if verdict == "ok":
                row = row_of(schema, cap.header, cap.after.get(line, []), line)
                if row is None or row.id != row_id:  # cannot happen inside one atomic request
                    raise StoreError(f"Réponse de Google incohérente pour la fiche {row_id} : vérifiez-la.")
                self._versions.remember(tab, [row])
                self.memory.learn_rows(tab, cap.header, [row])
                return row
            self.writer.undo(tab, schema, cap, line, cells, width)
            if verdict == "changed":
                seen = row_of(schema, cap.header, cap.before[line], line)
                self._versions.remember(tab, [seen])
                raise Conflict(tab, row_id, self._versions.recall(tab, row_id, expected), seen, clean)
            self.memory.forget(tab)  # the row or a column moved: look for it afresh
        raise StoreError(f"La feuille « {tab} » a changé sans cesse pendant l'enregistrement de la fiche {row_id} : "
                         "rien n'a été modifié. Réessayez dans un instant.")

    def _wait_after_loss(self, lost: int) -> bool:
        """Back off before sending again a write found not applied; False once the budget is spent."""
        if lost >= self.retry.max_attempts:
            return False
        delay = self.retry.backoff(lost)
        deadline = self._deadline()
        if deadline is not None and self.retry.clock() + delay > deadline:
            return False
        self.retry.sleep(delay)
        return True

    def _after_lost_update(self, schema: TabSchema, row_id: str, clean: dict[str, str], expected: str) -> Row | None:
        """The answer of a write was lost and its backup could not tell: look at the row itself."""
        try:
            current, _ = self._locate(schema, row_id)
        except (StoreError, _MissingTab, APIError, requests.exceptions.RequestException) as error:
            raise MaybeApplied(f"La modification de la fiche {row_id}") from error
        if current.fingerprint == expected:
            return None  # not applied: send it again
        if all(current.values.get(k) == v for k, v in clean.items() if k != UPDATED_FIELD):
            return current  # applied, on its row
        raise MaybeApplied(f"La modification de la fiche {row_id}")

    def append(self, tab: str, records: list[dict[str, str]]) -> list[Row]:
        schema = self.schema.tab(tab)
        stamped = _unique_by_id([stamp_new(schema, x) for x in records])
        if not stamped:
            return []
        with self._translated(), self._lock:
            index = self._index(tab)
            pending = [r for r in stamped if r[ID_FIELD] not in index.lines]
            written = self._append(schema, pending) if pending else {}
            rows = [written.get(r[ID_FIELD]) or self._known(schema, r[ID_FIELD]) for r in stamped]
        self._versions.remember(tab, rows)
        return rows

    def delete(self, tab: str, row_ids: list[str]) -> int:
        schema = self.schema.tab(tab)
        wanted = {i.strip() for i in row_ids if i and i.strip()}
        if not wanted:
            return 0
        with self._translated(), self._lock:
            index = self._index(tab, refresh=True)  # the whole ID column: duplicates seen, lines current
            found = {i: index.lines[i] for i in wanted if i in index.lines}
            for row_id, lines in found.items():
                if len(lines) > 1:
                    raise DuplicateId(tab, row_id, lines)
            remaining = {i: lines[0] for i, lines in found.items()}
            for _ in range(MAX_TRIES):
                if not remaining:
                    return len(found)
                remaining = self._delete_lines(schema, remaining, index)
                index = self.memory.get(tab)
        raise StoreError(f"La feuille « {tab} » a changé sans cesse pendant la suppression : relancez-la "
                         "(les lignes déjà supprimées le restent, aucune autre n'a été touchée).")

    def init(self) -> InitReport:
        return init_spreadsheet(self)

    def sheet_locale(self) -> str | None:
        """From the metadata this process already holds (fetched once): no request per page view."""
        with self._translated():
            return self._metadata().get("locale", "")

    def write_corrections(self, entries) -> int:
        """Rewrite the « À corriger » tab (store/corrections.py)."""
        return write_corrections(self, entries)

    # ---- reading and locating -----------------------------------------------------------------------------

    def _batch_get(self, names: list[str]) -> dict[str, list[list[str]]]:
        ranges = [a1_title(n) for n in names]
        answer = self._call(lambda: self._http.values_batch_get(self.key, ranges, params=dict(READ_PARAMS)))
        return {n: _text_grid(vr.get("values")) for n, vr in zip(names, answer.get("valueRanges", []), strict=False)}

    def _read_tab(self, name: str, retry: bool = True) -> list[list[str]]:
        def get():
            return self._http.values_get(self.key, a1_title(name), params=dict(READ_PARAMS))

        try:
            answer = self._call(get) if retry else self._send(get)
        except _MissingTab:
            raise SchemaMismatch(name) from None
        return _text_grid(answer.get("values"))

    def _values(self, ranges: list[str], major: str = "ROWS") -> list[list[list[str]]]:
        params = {**READ_PARAMS, "majorDimension": major}
        try:
            answer = self._call(lambda: self._http.values_batch_get(self.key, ranges, params=params))
        except _MissingTab:
            raise SchemaMismatch(ranges[0].split("!")[0].strip("'").replace("''", "'")) from None
        return [_text_grid(vr.get("values")) for vr in answer.get("valueRanges", [])]

    def _window(self, tab: str, first: int, last: int | None, width: int) -> tuple[list[str], list[list[str]]]:
        """The header and rows first..last (None: to the bottom), in one request; wide enough for the header."""
        while True:
            header_grid, lines = self._values([header_range(tab), rows_range(tab, first, last, width)])
            header = [h.strip() for h in (header_grid[0] if header_grid else [])]
            if len(header) <= width:
                return header, lines
            width = len(header)

    def _width(self, tab: str, header: list[str]) -> int:
        index = self.memory.get(tab)
        return max(len(header), len(self.schema.tab(tab).headers), index.width if index else 0)

    def _tail(self, schema: TabSchema, n: int) -> list[Row]:
        tab, index = schema.name, self.memory.get(schema.name)
        width = self._width(tab, [])
        first = max(2, index.end - n - TAIL_MARGIN + 1) if index and index.end else 2
        while True:
            header, lines = self._window(tab, first, None, width)
            rows = parse_rows(schema, header, lines, first).rows
            if len(rows) >= n or first == 2:
                break
            first = max(2, first - max(50, 4 * n))  # the tab shrank since last seen: look further up
        if "ID" not in positions(header):
            raise SchemaMismatch(tab, "ID")
        self.memory.learn_rows(tab, header, rows, reaches_end=True)
        self._versions.remember(tab, rows)
        return rows[-n:]

    def _index(self, tab: str, refresh: bool = False):
        """What is known of the tab's IDs and end; the header and the whole ID column are read when unknown."""
        index = self.memory.get(tab)
        if index is not None and index.complete and not refresh:
            return index
        schema = self.schema.tab(tab)
        guess = positions(index.headers).get("ID") if index and index.headers else None
        col = guess if guess is not None else schema.headers.index("ID")
        for _ in range(2):
            letter = column_letter(col)
            header_grid, ids = self._values([header_range(tab), f"{a1_title(tab)}!{letter}2:{letter}"],
                                            major="COLUMNS")
            header = [row[0].strip() if row else "" for row in header_grid]
            where = positions(header)
            if "ID" not in where:
                raise SchemaMismatch(tab, "ID")
            if where["ID"] == col:
                return self.memory.learn_ids(tab, header, ids[0] if ids else [])
            col = where["ID"]  # the ID column moved: read that one
        raise SchemaMismatch(tab, "ID")

    def find_line(self, tab: str, row_id: str) -> int | None:
        return self._index(tab, refresh=True).line_of(row_id)

    def _locate(self, schema: TabSchema, row_id: str) -> tuple[Row, list[str]]:
        """The row with this ID as it is now, and the header: a few rows around where it was last seen, else
        the whole ID column (which also shows an ID a person typed twice)."""
        tab, index = schema.name, self.memory.get(schema.name)
        if index and len(index.lines.get(row_id, [])) > 1:
            raise DuplicateId(tab, row_id, index.lines[row_id])
        hint = index.line_of(row_id) if index else None
        for attempt in range(3):
            if hint is not None:
                first = max(2, hint - (WINDOW if attempt == 0 else 0))
                header, lines = self._window(tab, first, hint + (WINDOW if attempt == 0 else 0),
                                             self._width(tab, []))
                data = parse_rows(schema, header, lines, first)
                matches = [r for r in data.rows if r.id == row_id]
                if len(matches) == 1:
                    self._check_header(schema, header)
                    self._versions.remember(tab, matches)
                    self.memory.learn_rows(tab, header, matches)
                    return matches[0], header
            found = self._index(tab, refresh=True).lines.get(row_id, [])
            if not found:
                raise RowNotFound(tab, row_id)
            if len(found) > 1:
                raise DuplicateId(tab, row_id, found)
            hint = found[0]
        raise RowNotFound(tab, row_id)

    @staticmethod
    def _check_header(schema: TabSchema, header: list[str]) -> None:
        if "ID" not in positions(header):
            raise SchemaMismatch(schema.name, "ID")

    def _known(self, schema: TabSchema, row_id: str) -> Row:
        """A row the tab already had: as last handed out, else read."""
        values = self._versions.latest(schema.name, row_id)
        index = self.memory.get(schema.name)
        line = index.line_of(row_id) if index else None
        if values is not None and line is not None:
            return Row(row_id, values, {}, line, fingerprint(schema, values))
        return self._locate(schema, row_id)[0]

    @staticmethod
    def _columns(schema: TabSchema, headers: list[str], names: list[str]) -> dict[str, int]:
        position = _positions(headers)
        columns = {}
        for name in names:
            header = schema.field(name).header
            if header not in position:
                raise SchemaMismatch(schema.name, header)
            columns[name] = position[header]
        return columns

    @staticmethod
    def _append_positions(schema: TabSchema, headers: list[str], records: list[dict[str, str]]) -> dict[str, int]:
        """Header -> column; a missing column is an error only if some record has a value for it."""
        position = _positions(headers)
        if "ID" not in position:
            raise SchemaMismatch(schema.name, "ID")
        for f in schema.fields:
            if f.header not in position and any(r.get(f.name) for r in records):
                raise SchemaMismatch(schema.name, f.header)
        return position

    # ---- writing -------------------------------------------------------------------------------------------

    def _write(self, tab: str, writes: dict[int, dict[int, dict]], deletes: tuple[int, ...] = (),
               width: int = 0) -> Capture:
        """A captured write (gsheets_writes.py), carrying the release of any lease this thread holds."""
        guard, pending = self.leases.guard()
        try:
            cap = self.writer.captured(tab, writes, deletes, width, guard)
        except APIError as error:
            self._lease_lost(error, pending)
            raise
        self._released(pending, tab)
        return cap

    def _released(self, pending, tab: str) -> None:
        for held in pending:
            held.released = True
            held.prefetch.pop(tab, None)

    def _lease_lost(self, error: APIError, pending) -> None:
        """A write carrying a lease's release was refused: if the lease is no longer ours, that is why."""
        if error.code == 400:
            for held in pending:
                if not self.leases.still_mine(held):
                    held.released = True
                    raise Busy(held.name, held.ttl_s) from error

    def _append(self, schema: TabSchema, pending: list[dict[str, str]]) -> dict[str, Row]:
        """appendCells after the last row with data; the answer shows the rows where they landed, under the
        header as it was at that instant. Misplaced cells (a column moved meanwhile) are rewritten."""
        tab = schema.name
        sheet_id = self.sheet_id(tab)
        lost = 0
        while True:
            index = self._index(tab)
            pending = [r for r in pending if r[ID_FIELD] not in index.lines]
            if not pending:
                return {}
            header = index.headers
            where = self._append_positions(schema, header, pending)
            width = self._width(tab, header)
            rows = [{"values": [text_cell(v) for v in _ordered(schema, where, width, r)]} for r in pending]
            first = max(2, index.end - TAIL_MARGIN + 1)
            request = {"appendCells": {"sheetId": sheet_id, "rows": rows, "fields": "userEnteredValue"}}
            guard, held = self.leases.guard()
            tidy = self.writer.tidy_requests()
            try:
                answer = self.batch(guard + [request] + tidy,
                                    [header_range(tab), rows_range(tab, first, None, width)])
            except APIError as error:
                self._lease_lost(error, held)
                if tidy and error.code == 400:  # refused whole: was it the backup tab, deleted by a person?
                    self.refresh_tabs()
                    if not self.has_tab(SCRATCH_TITLE):
                        self.writer.backup_kept = False
                        continue
                raise
            except Uncertain as error:
                try:  # did it land? the IDs say; what did not is sent again, never twice
                    index = self._index(tab, refresh=True)
                except (StoreError, APIError, requests.exceptions.RequestException) as unknown:
                    raise MaybeApplied(f"L'ajout de {len(pending)} ligne(s) dans « {tab} »") from unknown
                if all(r[ID_FIELD] in index.lines for r in pending):
                    self._released(held, tab)
                    return {}
                lost += 1
                if not self._wait_after_loss(lost):
                    if any(r[ID_FIELD] in index.lines for r in pending):
                        raise MaybeApplied(f"L'ajout de {len(pending)} ligne(s) dans « {tab} »") from None
                    raise error.cause from None
                continue
            self._released(held, tab)
            self.writer.backup_kept = self.writer.backup_kept and not tidy
            return self._landed(schema, answer, pending, where, first, width)

    def _landed(self, schema: TabSchema, answer: dict, pending, where: dict[str, int], first: int,
                width: int) -> dict[str, Row]:
        """Where the appended rows are: appendCells put them, together, after the last row with data, so they
        are the last rows of the answer's window (found by their cells, whatever the header says now)."""
        tab = schema.name
        grids = answer_grids(answer)
        header = [h.strip() for h in texts(grids.get((tab, 1), {}).get(1, []))]
        lines = {line: texts(cells) for line, cells in grids.get((tab, first), {}).items()}
        sent = [_ordered(schema, where, width, r) for r in pending]
        found = _bottom_lines(lines, sent)
        if found is None:  # the tab shrank below the remembered end: look from the top
            _, rows = self._window(tab, 2, None, width)
            found = _bottom_lines({2 + i: r for i, r in enumerate(rows)}, sent)
            if found is None:
                raise MaybeApplied(f"L'ajout de {len(pending)} ligne(s) dans « {tab} »")
        now = positions(header)
        moved = [h for h, col in where.items() if h in {f.header for f in schema.fields} and now.get(h) != col]
        by_id = {}
        for record, line, cells in zip(pending, found, sent, strict=True):
            if moved:  # a column moved between what was known of the header and the append
                by_id[record[ID_FIELD]] = self._realign(schema, record, line, where, cells)
            else:
                row = parse_rows(schema, header, [lines.get(line) or cells], line).rows
                by_id[record[ID_FIELD]] = row[0] if row else self._locate(schema, record[ID_FIELD])[0]
        self.memory.learn_rows(tab, header, list(by_id.values()), reaches_end=True)
        return by_id

    def _realign(self, schema: TabSchema, record: dict[str, str], line: int, used: dict[str, int],
                 sent: list[str]) -> Row:
        """Rewrite an appended row whose cells went under other headers: every value to its column, the
        misplaced cells emptied; checked like any write (the row must still hold what was sent)."""
        self.writer.repairs += 1
        tab = schema.name
        for _ in range(MAX_TRIES):
            header, _ = self._window(tab, line, line, self._width(tab, []))
            now = positions(header)
            cells: dict[int, dict] = {col: {} for col in used.values()}
            for f in schema.fields:
                if f.header in now:
                    cells[now[f.header]] = text_cell(record.get(f.name, ""))
            cap = self._write(tab, {line: cells}, width=self._width(tab, header))
            before = texts(cap.before.get(line, []))
            ours = all((before[c] if c < len(before) else "") == v for c, v in enumerate(sent) if v)
            if ours and positions(cap.header) == now:
                return row_of(schema, cap.header, cap.after[line], line)
            self.writer.undo(tab, schema, cap, line, cells, self._width(tab, cap.header))
            line = self.find_line(tab, record[ID_FIELD]) or line
        raise StoreError(f"La ligne {record[ID_FIELD]} de « {tab} » a été ajoutée mais la feuille change "
                         "sans cesse : vérifiez ses colonnes.")

    def _delete_lines(self, schema: TabSchema, remaining: dict[str, int], index) -> dict[str, int]:
        """One checked batch deleting these rows; rows that were not the ones meant are put back. Returns what
        is still to delete."""
        tab = schema.name
        lines = sorted(remaining.values())
        width = self._width(tab, index.headers if index else [])
        try:
            cap = self._write(tab, {}, tuple(lines), width)
        except Uncertain:
            fresh = self._index(tab, refresh=True)
            return {i: fresh.lines[i][0] for i in remaining if i in fresh.lines}
        meant = {line: row_id for row_id, line in remaining.items()}
        wrong = [line for line in lines if (row_of(schema, cap.header, cap.before.get(line, []), line) or
                                            _NOBODY).id != meant[line]]
        if wrong:
            self.writer.restore_rows(tab, cap, wrong, lines, width)
        fresh = self._index(tab, refresh=True) if wrong else None
        if fresh is None:
            self.memory.forget(tab)  # lines below shifted: learn them again at the next read
            return {}
        return {i: fresh.lines[i][0] for i in remaining if i in fresh.lines}

    # ---- requests the write helpers use ----------------------------------------------------------------------

    def batch(self, requests_: list[dict], ranges: list[str], retry: bool = False) -> dict:
        """One spreadsheets.batchUpdate; with `ranges`, the answer carries those ranges as they are right after
        it. A lost answer raises Uncertain (unless `retry`, for requests that are safe to send twice)."""
        body: dict = {"requests": requests_}
        params = None
        if ranges:
            body.update(includeSpreadsheetInResponse=True, responseRanges=ranges, responseIncludeGridData=True)
            params = {"fields": WRITE_FIELDS}
        url = f"{SHEETS_URL}/{self.key}:batchUpdate"

        def post():
            return self._http.request("post", url, params=params, json=body).json()

        if retry:
            return self._call(post)
        return self._send_once(post)

    def _send_once(self, call):
        """A write sent again only when Google certainly refused it (429: quota, nothing applied)."""

        def attempt():
            try:
                return self._send(call)
            except Exception as error:
                if _is_transient(error) and not (isinstance(error, APIError) and error.code == 429):
                    raise Uncertain(error) from error
                raise

        return self.retry.run(attempt, lambda e: isinstance(e, APIError) and e.code == 429, self._deadline())

    def fetch_grid(self, ranges: list[str]) -> dict:
        """spreadsheets.get of some ranges with their cells' values and formulas, shaped like a write's answer."""
        url = f"{SHEETS_URL}/{self.key}"
        params = {"ranges": ranges, "fields": GRID_FIELDS}
        try:
            answer = self._call(lambda: self._http.request("get", url, params=params).json())
        except Exception as error:
            raise Uncertain(error) from error
        return {"updatedSpreadsheet": answer}

    def lease_value(self, metadata_id: int) -> str | None:
        url = f"{SHEETS_URL}/{self.key}/developerMetadata/{metadata_id}"
        try:
            answer = self._call(lambda: self._http.request("get", url).json())
        except APIError as error:
            if error.code == 404:
                return None
            raise
        return answer.get("metadataValue", "")

    def refresh_tabs(self) -> None:
        self._metadata(refresh=True)

    def known_tab(self, title: str, sheet_id: int) -> None:
        """A tab this store has just added: remembered as there (the metadata is read once per process)."""
        if self._meta is not None:
            self._meta["sheets"].setdefault(title, {"sheetId": sheet_id, "title": title})

    def has_tab(self, title: str) -> bool:
        return title in self._metadata()["sheets"]

    def sheet_id(self, tab: str) -> int:
        return self._sheet_id(tab)

    # ---- metadata ------------------------------------------------------------------------------------------

    def _metadata(self, refresh: bool = False) -> dict:
        if self._meta is None or refresh:
            answer = self._call(lambda: self._http.fetch_sheet_metadata(
                self.key, params={"includeGridData": "false",
                                  "fields": "properties(title,locale),sheets.properties"}))
            sheets = {s["properties"]["title"]: s["properties"] for s in answer.get("sheets", [])}
            self._meta = {"title": answer.get("properties", {}).get("title", ""), "sheets": sheets,
                          "locale": answer.get("properties", {}).get("locale", "")}
        return self._meta

    def spreadsheet_settings(self) -> dict[str, str]:
        """The spreadsheet's locale and time zone, as set in File > Settings (checked by the doctor)."""
        with self._translated():
            answer = self._call(lambda: self._http.fetch_sheet_metadata(
                self.key, params={"includeGridData": "false", "fields": "properties.locale,properties.timeZone"}))
        props = answer.get("properties", {})
        return {"locale": props.get("locale", ""), "time_zone": props.get("timeZone", "")}

    def _sheet_id(self, tab: str) -> int:
        sheets = self._metadata()["sheets"]
        if tab not in sheets:
            sheets = self._metadata(refresh=True)["sheets"]
        if tab not in sheets:
            raise SchemaMismatch(tab)
        return sheets[tab].get("sheetId", 0)

    # ---- requests, retries and errors ----------------------------------------------------------------------

    def _send(self, call):
        """One HTTP request, counted; a range naming a missing tab becomes _MissingTab."""
        with self._count_lock:
            self.requests_sent += 1
        self._local.count = getattr(self._local, "count", 0) + 1
        try:
            return call()
        except APIError as error:
            if error.code == 400 and "Unable to parse range" in str(error.error.get("message", "")):
                raise _MissingTab(error.error.get("message", "")) from error
            raise

    def _call(self, call):
        return self.retry.run(lambda: self._send(call), _is_transient, self._deadline())

    def _retrying(self, attempt):
        """Run `attempt` (which sends its own requests) again after a transient failure, within the budget."""
        return self.retry.run(attempt, _is_transient, self._deadline())

    def _deadline(self) -> float | None:
        return getattr(self._local, "deadline", None)

    @contextmanager
    def _translated(self):
        """One store operation: its requests share one retry time budget (the outermost operation's), and
        whatever escaped the retries becomes a French StoreError."""
        outermost = self._deadline() is None
        if outermost:
            self._local.deadline = self.retry.deadline()
        try:
            yield
        except StoreError:
            raise
        except Uncertain as lost:
            raise MaybeApplied("L'écriture dans la feuille Google") from lost.cause
        except APIError as error:
            raise self._api_error(error) from error
        except _MissingTab as error:  # a tab vanished between two requests of one operation
            match = re.search(r"'((?:[^']|'')*)'", str(error))
            raise SchemaMismatch(match.group(1).replace("''", "'") if match else str(error)) from error
        except google.auth.exceptions.RefreshError as error:
            raise PermissionDenied("Google refuse les identifiants du compte de service (clé révoquée ou "
                                   "invalide) : vérifiez la clé JSON dans la configuration.") from error
        except (requests.exceptions.RequestException, google.auth.exceptions.TransportError) as error:
            raise Unreachable("Google Sheets est injoignable (réseau coupé ou délai dépassé), malgré plusieurs "
                              "essais : vérifiez la connexion puis réessayez dans quelques instants.") from error
        finally:
            if outermost:
                self._local.deadline = None

    def _api_error(self, error: APIError) -> StoreError:
        return translate(error, self.key, self.service_account_email)


_NOBODY = Row("", {}, {}, 0, "")


def _unique_by_id(records: list[dict[str, str]]) -> list[dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    for record in records:
        seen.setdefault(record[ID_FIELD], record)
    return list(seen.values())


def _ordered(schema: TabSchema, position: dict[str, int], width: int, record: dict[str, str]) -> list[str]:
    cells = [""] * width  # cells of columns a person added stay empty in the new row
    for f in schema.fields:
        if f.header in position:
            cells[position[f.header]] = record.get(f.name, "")
    return cells


def _bottom_lines(lines: dict[int, list[str]], sent: list[list[str]]) -> list[int] | None:
    """The lines of the last non-blank rows if they hold exactly the cells sent (trailing blanks aside)."""
    filled = [line for line in sorted(lines) if any(c.strip() for c in lines[line])]
    if len(filled) < len(sent):
        return None
    bottom = filled[-len(sent):]
    same = all(_trimmed(lines[line]) == _trimmed(cells) for line, cells in zip(bottom, sent, strict=True))
    return bottom if same else None


def _trimmed(cells: list[str]) -> list[str]:
    out = list(cells)
    while out and out[-1] == "":
        out.pop()
    return out


def _lines_list(lines: dict[int, list[str]], first: int) -> list[list[str]]:
    """{line: cells} -> the list of rows from `first` down to the last line given."""
    last = max(lines, default=first - 1)
    return [lines.get(line, []) for line in range(first, last + 1)]
