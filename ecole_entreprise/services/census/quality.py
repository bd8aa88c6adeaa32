"""Data-quality report: every anomaly of every tab of a snapshot, as the sheet shows it (tab, row, column).

Called by the CLI `check` command and the data-quality page. Structural problems come from the snapshot's
TabIssues (missing columns, rows without ID, duplicate IDs); each row is then validated with `validate_record`
(types, required fields, references, commune ↔ postal code, formula-looking text) and compared with the rows
above it for probable duplicate records. The Journal is checked for types only: its hash chain has its own check.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

import pandas as pd

from ...domain.schema import ID_FIELD, Schema, TabSchema
from ...domain.validation import DuplicateIndex, validate_record
from ...domain.values import is_school_year
from ...store.base import Row, Snapshot, TabData
from ..kernel import memo

ERROR = "erreur"
WARNING = "avertissement"
FRAME_COLUMNS = ["Onglet", "Ligne", "ID", "Colonne", "Valeur", "Problème", "Gravité"]


@dataclass(frozen=True)
class Anomaly:
    tab: str
    row_number: int | None  # as seen in the sheet (row 1 = headers); None for a tab-level problem
    row_id: str
    column: str  # header text, "" for a whole-row or whole-tab problem
    value: str
    reason: str  # French
    severity: str  # "erreur" | "avertissement"


def _dependencies(tab: TabSchema) -> tuple[str, ...]:
    """Tabs whose IDs this tab's report looks up (references; a GDPR request's person)."""
    refs = [f.ref for f in tab.fields if f.type == "ref" and f.ref]
    if tab.name == "Demandes RGPD":
        refs += ["Entreprises", "Personnels"]
    return tuple(dict.fromkeys(refs))


# Per tab: (schema, key, anomalies) of the last report, kept until the tab or a tab it refers to changes; and per
# tab, each row's own findings by (fingerprint, which references resolve), so a changed tab re-validates only the
# rows that changed. The home page and the quality page rerun on every click and after every re-read of the sheet.
_reports: dict[str, tuple] = {}
_row_findings: dict[str, dict] = {}
_memo_lock = threading.Lock()


def forget() -> None:
    """Drop every kept report (benchmarks measure a first check with it)."""
    with _memo_lock:
        _reports.clear()
        _row_findings.clear()


def check_snapshot(snapshot: Snapshot, schema: Schema, tabs=None) -> list[Anomaly]:
    """Every anomaly of every tab (see module docstring), in tab order; of the tabs named in `tabs` only, for a
    page whose snapshot holds only those (a tab it did not read is not an absent tab)."""
    out: list[Anomaly] = []
    for tab in schema.tabs.values():
        if tab.generated or (tabs is not None and tab.name not in tabs):  # « À corriger » is this report
            continue
        out += _tab_report(tab, snapshot, schema)
    return out


def _tab_report(tab: TabSchema, snapshot: Snapshot, schema: Schema) -> list[Anomaly]:
    data = snapshot.tabs.get(tab.name)
    if data is None:
        return [_absent(tab)]
    key = (memo.signature(data), memo.signatures(snapshot, _dependencies(tab)))
    with _memo_lock:
        last = _reports.get(tab.name)
    if last is not None and last[0] is schema and last[1] == key:
        return last[2]
    anomalies = check_tab(tab, data, snapshot, remember=True)
    with _memo_lock:
        _reports[tab.name] = (schema, key, anomalies)
    return anomalies


def iter_check(read_tab, schema: Schema, read_pieces=None):
    """The same report, one tab at a time, for the `check` command: `read_tab(name)` returns a TabData or None;
    only the IDs of tabs already read are kept (schema order puts every referenced tab first). `read_pieces(name)`,
    when given, reads an append-only tab (the Journal, which only grows) as TabData pieces, checked one at a time:
    such a tab has no probable-duplicate rule, the one check that needs every row at once."""
    seen = _SeenIds()
    for tab in schema.tabs.values():
        if tab.generated:
            continue
        pieces = read_pieces(tab.name) if read_pieces is not None and tab.append_only else None
        if pieces is None:
            data = read_tab(tab.name)
            pieces = [data] if data is not None else []
        found = False
        for data in pieces:
            missing = [name for name in _dependencies(tab) if name not in seen.tabs]
            for name in missing:  # a schema whose references point forward: read those tabs for their IDs
                seen.add(name, read_tab(name))
            yield from check_tab(tab, data, seen)
            seen.add(tab.name, data)
            found = True
        if not found:
            yield _absent(tab)


class _SeenIds:
    """What a report needs of other tabs: their names and IDs (`tabs` and `get` as on a Snapshot)."""

    def __init__(self):
        self.tabs: dict[str, set[str]] = {}

    def add(self, name: str, data: TabData | None) -> None:
        """A tab's IDs (a piece's add to those of the pieces before it)."""
        ids = self.tabs.setdefault(name, set())
        if data is not None:
            ids.update(row.id for row in data.rows)

    def get(self, tab: str, row_id: str):
        return True if row_id in self.tabs.get(tab, ()) else None


def _absent(tab: TabSchema) -> Anomaly:
    return Anomaly(tab.name, None, "", "", "", f"Onglet « {tab.name} » absent.", ERROR)


def check_tab(tab: TabSchema, data: TabData, snapshot, remember: bool = False) -> list[Anomaly]:
    """Every anomaly of one tab; `snapshot` answers reference look-ups (a Snapshot, or the IDs seen so far).
    `remember` keeps each row's findings for the next report of this tab (the app; not the one-off `check`)."""
    anomalies = _structure(tab, data)
    anomalies += _rows(tab, data, snapshot, remember)
    anomalies += _duplicates(tab, data)
    if tab.name == "Demandes RGPD":
        anomalies += _request_targets(data, snapshot)
    if tab.name == "Parametres":
        anomalies += _school_year(data)
    return anomalies


def _structure(tab: TabSchema, data: TabData) -> list[Anomaly]:
    """The reader's TabIssues, plus duplicate IDs it may not have reported (snapshots built elsewhere)."""
    required = {f.header for f in tab.fields if f.required or f.name == ID_FIELD}
    out = []
    for issue in data.issues:
        missing_optional = issue.row_number is None and issue.column and issue.column not in required
        out.append(Anomaly(tab.name, issue.row_number, _id_at(data, issue.row_number), issue.column, "",
                           issue.message, WARNING if missing_optional else ERROR))
    reported = {i.row_number for i in data.issues if i.column == "ID" and i.row_number}
    first: dict[str, int] = {}
    for row in data.rows:
        if row.id in first and row.row_number not in reported:
            out.append(Anomaly(tab.name, row.row_number, row.id, "ID", row.id,
                               f"Identifiant {row.id} en double (déjà ligne {first[row.id]}).", ERROR))
        first.setdefault(row.id, row.row_number)
    return out


def _id_at(data: TabData, row_number: int | None) -> str:
    return next((r.id for r in data.rows if r.row_number == row_number), "") if row_number else ""


def _rows(tab: TabSchema, data: TabData, snapshot, remember: bool) -> list[Anomaly]:
    absent = {f.name for f in tab.fields if f.header not in data.headers}  # already reported once per tab
    refs = [f for f in tab.fields if f.type == "ref"]
    with _memo_lock:
        schema_tab, known = _row_findings.get(tab.name, (None, {}))
    known = known if schema_tab is tab and remember else {}
    kept: dict = {}
    out = []
    for row in sorted(data.rows + data.rows_without_id, key=lambda r: r.row_number):
        resolved = tuple(snapshot.get(f.ref, row.values.get(f.name, "").strip()) is not None for f in refs)
        key = (row.fingerprint, resolved)
        findings = known.get(key)
        if findings is None:
            result = validate_record(tab, row.values, snapshot=snapshot)
            findings = tuple((severity, name, message)
                             for severity, messages in ((ERROR, result.errors), (WARNING, result.warnings))
                             for name, message in messages.items())
        if remember:
            kept[key] = findings
        out += [_cell(tab, row, name, message, severity) for severity, name, message in findings
                if name not in absent]
    if remember:
        with _memo_lock:
            _row_findings[tab.name] = (tab, kept)  # only this version's rows: the memo never outgrows the tab
    return out


def _cell(tab: TabSchema, row: Row, name: str, reason: str, severity: str) -> Anomaly:
    return Anomaly(tab.name, row.row_number, row.id, tab.field(name).header, row.values.get(name, ""), reason,
                   severity)


def _duplicates(tab: TabSchema, data: TabData) -> list[Anomaly]:
    """Each probable duplicate is reported once, on the lower row, pointing at the row above."""
    out = []
    numbers = {r.id: r.row_number for r in data.rows}
    index = DuplicateIndex(tab, [])
    ids = Counter(r.id for r in data.rows)
    for row in data.rows:
        if ids[row.id] == 1:  # rows sharing an ID are already an error of their own
            for dup in index.find(row.values, exclude_id=row.id):
                out.append(Anomaly(tab.name, row.row_number, row.id, "", "",
                                   f"Doublon probable de {dup.row_id} (ligne {numbers[dup.row_id]}) : {dup.reason}.",
                                   WARNING))
        index.add(row.id, row.values)
    return out


def _school_year(data: TabData) -> list[Anomaly]:
    """The pages fall back to the current school year when this one cannot be read: say so."""
    return [Anomaly(data.name, row.row_number, row.id, "Valeur", row["valeur"],
                    f"Année scolaire « {row['valeur'].strip()} » illisible : écrivez deux années qui se suivent, "
                    "par exemple 2025-2026 (en attendant, l'application prend l'année scolaire en cours).", ERROR)
            for row in data.rows
            if row["cle"].strip() == "annee_scolaire" and row["valeur"].strip()
            and not is_school_year(row["valeur"])]


def _request_targets(data: TabData, snapshot: Snapshot) -> list[Anomaly]:
    """A GDPR request points at a person in Entreprises or Personnels; after an erasure the person is gone."""
    out = []
    for row in data.rows:
        target_tab, target_id = row["personne_tab"].strip(), row["personne_id"].strip()
        if row["type"].strip() == "effacement" or target_tab not in snapshot.tabs or not target_id:
            continue
        if snapshot.get(target_tab, target_id) is None:
            out.append(Anomaly(data.name, row.row_number, row.id, "ID personne", target_id,
                               f"La personne {target_id} n'existe pas dans l'onglet « {target_tab} ».", WARNING))
    return out


def anomaly_line(a: Anomaly) -> str:
    """One anomaly on one line, for the `check` command."""
    where = ", ".join(part for part in (a.tab, f"ligne {a.row_number}" if a.row_number else "", a.row_id,
                                        a.column + (f" « {a.value} »" if a.value else "")) if part)
    return f"[{a.severity}] {where} : {a.reason}"


def anomalies_frame(anomalies: list[Anomaly]) -> pd.DataFrame:
    """One line per anomaly, French column names, ready for st.dataframe or a CSV export."""
    records = [[a.tab, a.row_number, a.row_id, a.column, a.value, a.reason, a.severity] for a in anomalies]
    frame = pd.DataFrame(records, columns=FRAME_COLUMNS)
    frame["Ligne"] = frame["Ligne"].astype("Int64")
    return frame


SHEET_LOCALE = "fr_FR"


def locale_warning(store) -> str:
    """French warning when the spreadsheet's locale is not fr_FR ("" when it is, or for a workbook)."""
    locale = store.sheet_locale()
    if not locale or locale == SHEET_LOCALE:
        return ""
    return (f"Le classeur Google est réglé sur les paramètres régionaux « {locale} », pas « {SHEET_LOCALE} » : "
            "une date tapée dans une case qui n'est pas au format texte peut y être lue mois/jour. Lancez "
            "`python -m ecole_entreprise init` (ou Fichier > Paramètres > Paramètres régionaux : France).")


MASKED = "(masqué)"


def masked_reason(anomaly: Anomaly) -> str:
    return (f"Valeur à corriger dans la colonne « {anomaly.column} » (donnée personnelle : seul le côté qui suit "
            "cette fiche la voit).")


def exported_records(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """Whose data an anomalies CSV holds: the (tab, ID) of rows whose value is written out in clear."""
    clear = frame[(frame["Valeur"] != "") & (frame["Valeur"] != MASKED) & (frame["ID"] != "")]
    return list(zip(clear["Onglet"], clear["ID"], strict=True))


def visible_anomalies(user, anomalies: list[Anomaly], snapshot: Snapshot, schema: Schema) -> list[Anomaly]:
    """The anomalies this user may be shown: tabs they may read, rows in their scope, and the value of a
    personal field only when they may see that field (a bad email is still someone's email)."""
    from dataclasses import replace

    from ..kernel import access

    shown = []
    for anomaly in anomalies:
        needed = access.TAB_PERMISSIONS.get(anomaly.tab)
        if needed and not access.allowed(user, needed):
            continue
        row = snapshot.get(anomaly.tab, anomaly.row_id) if anomaly.row_id else None
        if row is not None and not access.row_in_scope(user, anomaly.tab, row, snapshot):
            continue
        field = schema.tab(anomaly.tab).by_header().get(anomaly.column) if anomaly.tab in schema.tabs else None
        if field is not None and field.is_personal and anomaly.value:
            allowed = access.may_see_field(user, anomaly.tab, field, row, snapshot) if row is not None \
                else user.rights.unrestricted
            if not allowed:
                # Validators quote the value, sometimes reworked (stripped, "0" added): drop the whole message.
                anomaly = replace(anomaly, value=MASKED, reason=masked_reason(anomaly))
        shown.append(anomaly)
    return shown
