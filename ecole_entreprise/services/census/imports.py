"""Import companies or staff from a CSV or .xlsx file: read, map columns, preview line by line, import.

Only valid, non-duplicate lines are imported. Each line of the preview gets its final ID up front, so running
the same report twice writes nothing new (the store's append is idempotent on IDs).
"""

from __future__ import annotations

import calendar
import csv
import difflib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from ecole_entreprise import errors

from ...config import InputLimits
from ...domain import communes
from ...domain.schema import CREATED_FIELD, ID_FIELD, UPDATED_FIELD, default_schema
from ...domain.validation import DuplicateIndex, fold
from ...domain.values import format_date
from ...store.base import Snapshot, StoreError, new_id
from ...store.xlsx_upload import Bounds, UploadRefused, sheet_rows
from ..kernel import access, journal
from ..kernel.exports import csv_bytes
from ..privacy import consent
from .records import authorize, check, with_defaults

IMPORTABLE_TABS = ("Entreprises", "Personnels")
LINE_INDEX = "Ligne"
VALID, ERROR, DUPLICATE = "valide", "erreur", "doublon"
BATCH_SIZE = 50
FINALITE = "recensement des participants au programme"

# Set by the import itself, never taken from the file.
_SYSTEM_FIELDS = {ID_FIELD, CREATED_FIELD, UPDATED_FIELD, "statut", "source", "consentement_source",
                  "informer_avant"}

# Usual column titles in the lists people send us (compared without accents, case or punctuation).
SYNONYMS = {
    "raison_sociale": ["raison sociale", "entreprise", "societe", "nom entreprise", "nom de l entreprise",
                       "denomination", "structure"],
    "siret": ["siret", "n siret", "numero siret"],
    "naf": ["naf", "code naf", "ape", "code ape", "naf ape"],
    "contact_email": ["mail", "email", "e mail", "courriel", "adresse mail", "adresse email", "mel"],
    "email": ["mail", "email", "e mail", "courriel", "adresse mail", "adresse email", "mel", "email academique"],
    "contact_telephone": ["tel", "telephone", "portable", "mobile", "numero de telephone"],
    "telephone": ["tel", "telephone", "portable", "mobile", "numero de telephone"],
    "contact_nom": ["nom", "nom du contact", "nom contact", "nom dirigeant"],
    "contact_prenom": ["prenom", "prenom du contact", "prenom contact"],
    "contact_civilite": ["civilite", "titre"],
    "contact_fonction": ["fonction", "poste", "qualite"],
    "nom": ["nom", "nom de famille", "nom d usage"],
    "prenom": ["prenom"],
    "civilite": ["civilite", "titre"],
    "fonction": ["fonction", "poste", "corps"],
    "discipline": ["discipline", "matiere", "specialite"],
    "uai": ["uai", "rne", "code uai", "code rne"],
    "etablissement": ["etablissement", "lycee", "college", "nom etablissement"],
    "code_postal": ["cp", "code postal", "codepostal"],
    "commune": ["ville", "commune", "localite"],
    "commune_insee": ["insee", "code insee", "code commune"],
    "departement": ["departement", "dept", "dep", "dpt"],
    "membre_cpme": ["adherent", "adherent cpme", "membre cpme"],
    "taille": ["taille", "effectif", "tranche effectif"],
}


class ImportFileError(errors.Invalid, ValueError):
    """The file cannot be read as a table; the message is French."""


class ImportInterrupted(StoreError, errors.Unavailable):
    """The sheet failed midway through an import; the message says a retry writes no line twice."""

    def __init__(self, cause: BaseException):
        super().__init__(f"{cause} Les lignes déjà écrites ne le seront pas une seconde fois si vous relancez "
                         "l'import.")


def bounds(limits: InputLimits | None = None) -> Bounds:
    """The upload limits of the settings (InputLimits' defaults when none are given)."""
    limits = limits or InputLimits()
    return Bounds(int(limits.import_max_mb * 1024 * 1024), limits.import_max_rows, limits.import_max_columns,
                  limits.import_max_cell_chars)


# ---- reading ----------------------------------------------------------------------------------------------

# UTF-8 multibyte sequences: finding one in a file that is not valid UTF-8 means mixed encodings, not cp1252.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252; a damaged or mixed file names the line at fault."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if _UTF8_SEQUENCE.search(data):
            raise ImportFileError(f"Ligne {_line_of(data, error.start)} : octets invalides en UTF-8 (encodage mélangé "
                                  "ou fichier endommagé). Enregistrez le fichier en « CSV UTF-8 » puis "
                                  "réessayez.") from None
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise ImportFileError(f"Ligne {_line_of(data, error.start)} : encodage non reconnu (attendu UTF-8 ou "
                              "Windows-1252). Enregistrez le fichier en « CSV UTF-8 » puis réessayez.") from None


def _delimiter(text: str) -> str:
    head = text[:65_536]
    sample = "\n".join(head.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
    except csv.Error:
        header = head.splitlines()[0] if head else ""
        return ";" if header.count(";") >= header.count(",") else ","


def _frame(header: list, body) -> pd.DataFrame:
    """Text cells under unique column names; the index is the line number in the file (blank lines dropped).
    `body` yields (line number, cells)."""
    columns: list[str] = []
    for i, h in enumerate(header):
        name = str(h or "").strip() or f"Colonne {i + 1}"
        columns.append(name if name not in columns else f"{name} ({i + 1})")
    width = len(columns)
    numbers, rows = [], []
    for number, cells in body:
        row = [("" if c is None else str(c)).strip() for c in (list(cells) + [""] * width)[:width]]
        if any(row):
            numbers.append(number)
            rows.append(row)
    return pd.DataFrame(rows, columns=columns, dtype=object, index=pd.Index(numbers, name=LINE_INDEX))


def _csv_rows(text: str, limits: Bounds):
    """(line number, cells) of each record, checked one by one; the line named is where the record starts."""
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text), strict=True)
    filled, line = 0, 1
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportFileError(_csv_problem(line, str(error), limits)) from None
        if len(cells) > limits.max_columns:
            raise ImportFileError(f"Ligne {line} : {len(cells)} colonnes ; l'import en accepte au plus "
                                  f"{limits.max_columns}.")
        for col, cell in enumerate(cells, 1):
            if len(cell) > limits.max_cell_chars:
                raise ImportFileError(f"Ligne {line}, colonne {col} : cellule de {len(cell)} caractères ; "
                                      f"l'import en accepte au plus {limits.max_cell_chars} par cellule.")
        if any(c.strip() for c in cells):
            filled += 1
            if filled > limits.max_rows + 1:
                raise ImportFileError(f"Le fichier compte plus de {limits.max_rows} lignes de données : "
                                      "découpez-le en plusieurs fichiers.")
        yield line, [c.replace("\r\n", "\n") for c in cells]


def _csv_problem(line: int, error: str, limits: Bounds) -> str:
    """The csv module's English error as a French message naming the line."""
    if "field larger than field limit" in error:
        return (f"Ligne {line} : une cellule dépasse {limits.max_cell_chars} caractères, la limite de l'import.")
    if "end of data" in error or "EOF" in error:
        return f"Ligne {line} : guillemet ouvert jamais refermé ; vérifiez les guillemets de cette ligne."
    return (f"Ligne {line} : guillemets mal placés (un guillemet dans une cellule s'écrit \"\") ; vérifiez cette "
            "ligne.")


def _read_csv(data: bytes, limits: Bounds) -> pd.DataFrame:
    text = _decode(data)
    nul = text.find("\x00")
    if nul >= 0:
        raise ImportFileError(f"Ligne {text.count(chr(10), 0, nul) + 1} : caractère nul (octet 0) ; ce fichier "
                              "n'est pas un CSV texte. Enregistrez-le à nouveau en CSV puis réessayez.")
    rows = _csv_rows(text, limits)
    first = next(rows, None)
    if first is None:
        raise ImportFileError("Le fichier est vide.")
    return _frame(first[1], rows)


def _read_xlsx(data: bytes, limits: Bounds) -> pd.DataFrame:
    rows = sheet_rows(data, limits)
    try:
        first = next(rows, None)
        if first is None:
            raise ImportFileError("Le classeur est vide.")
        return _frame(first[1], rows)
    except UploadRefused as refused:
        raise ImportFileError(str(refused)) from None


def read_table(file_bytes: bytes, filename: str, limits: InputLimits | None = None) -> pd.DataFrame:
    """CSV (separator ; or , — UTF-8 or Windows-1252) or .xlsx (first sheet) → DataFrame of text, no blank rows.

    Within `limits` (the settings' upload limits): a file past one is refused before it is parsed or while it
    streams, with a French message that gives the limit (and the line). Raises ImportFileError.
    """
    limits_ = bounds(limits)
    if len(file_bytes) > limits_.max_bytes:
        raise ImportFileError(f"Fichier trop volumineux ({len(file_bytes) // 1024} Kio) : l'import accepte "
                              f"{limits_.max_bytes // 1024} Kio au plus. Découpez-le en plusieurs fichiers.")
    suffix = Path(filename or "").suffix.lower()
    if suffix in (".csv", ".txt"):
        return _read_csv(file_bytes, limits_)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(file_bytes, limits_)
    raise ImportFileError(f"Format de fichier non pris en charge : « {suffix or filename} ». "
                          "Enregistrez la liste en CSV ou en classeur Excel (.xlsx).")


# ---- mapping ----------------------------------------------------------------------------------------------


def _label(text: str) -> str:
    """Column title without accents, case or punctuation: "N° SIRET" → "n siret"."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(str(text or ""))).split())


def mappable_fields(tab: str) -> list[str]:
    return [f.name for f in default_schema().tab(tab).fields if f.name not in _SYSTEM_FIELDS]


def _names_by_label(tab: str) -> dict[str, str]:
    """Folded label → field name: headers first, then field names, then synonyms (first one wins)."""
    schema_tab = default_schema().tab(tab)
    fields = mappable_fields(tab)
    labels: dict[str, str] = {}
    for name in fields:
        labels.setdefault(_label(schema_tab.field(name).header), name)
    for name in fields:
        labels.setdefault(_label(name), name)
    for name in fields:
        for synonym in SYNONYMS.get(name, []):
            labels.setdefault(_label(synonym), name)
    return labels


def suggest_mapping(columns, tab: str) -> dict[str, str]:
    """Source column → field name, by exact label (accents, case, punctuation ignored), then close spelling.

    Each field is used once; columns left out are ignored at import.
    """
    labels = _names_by_label(tab)
    mapping: dict[str, str] = {}
    for column in columns:
        name = labels.get(_label(column))
        if name and name not in mapping.values():
            mapping[column] = name
    for column in columns:
        if column in mapping:
            continue
        free = [label for label, name in labels.items() if name not in mapping.values()]
        close = difflib.get_close_matches(_label(column), free, n=1, cutoff=0.8)
        if close:
            mapping[column] = labels[close[0]]
    return mapping


# ---- preview ----------------------------------------------------------------------------------------------


@dataclass
class ImportLine:
    line: int  # line number in the file (1 = headers)
    status: str  # valide / erreur / doublon
    source: dict[str, str]  # the row as read, by source column
    clean: dict[str, str] = field(default_factory=dict)  # normalised values, with the ID it will get
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)
    duplicate_of: list[str] = field(default_factory=list)  # French reasons

    @property
    def reason(self) -> str:
        return " ; ".join(list(self.errors.values()) + self.duplicate_of)


@dataclass
class ImportReport:
    tab: str
    mapping: dict[str, str]
    lines: list[ImportLine]
    missing_required: list[str] = field(default_factory=list)  # headers of required fields no column maps to
    snapshot: Snapshot | None = field(default=None, repr=False)  # what the lines were checked against

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line.status == status)

    @property
    def valid_lines(self) -> list[ImportLine]:
        return [line for line in self.lines if line.status == VALID]

    def frame(self) -> pd.DataFrame:
        """One row per source line, for the preview table."""
        return pd.DataFrame([{"Ligne": line.line, "Statut": line.status, "Motif": line.reason, **line.source}
                             for line in self.lines])

    def anomalies(self) -> pd.DataFrame:
        frame = self.frame()
        return frame[frame["Statut"] != VALID].reset_index(drop=True) if not frame.empty else frame


# A required field is provided when its column is mapped or when it is derived from one that is:
# the département comes from the INSEE code, which the import finds from the postal code and the town name.
_DERIVED_FROM = {"departement": "commune_insee", "commune_insee": "code_postal"}


def _provided(name: str, mapped: set[str]) -> bool:
    return name in mapped or (name in _DERIVED_FROM and _provided(_DERIVED_FROM[name], mapped))


def _place(text: str) -> str:
    words = fold(text).replace("-", " ").replace("'", " ").split()
    return " ".join({"st": "saint", "ste": "sainte"}.get(w, w) for w in words)


def _with_insee(values: dict[str, str]) -> dict[str, str]:
    """Lists give a postal code and a town, rarely the INSEE code: find it when the pair is unambiguous."""
    if values.get("commune_insee", "").strip() or not values.get("code_postal", "").strip():
        return values
    options = communes.communes_for_postcode(values["code_postal"].replace(" ", ""))
    named = [c for c in options if _place(c.nom) == _place(values.get("commune", ""))]
    found = named if len(named) == 1 else options if len(options) == 1 else []
    return {**values, "commune_insee": found[0].insee} if found else values


def _postcode_hint(values: dict[str, str]) -> dict[str, str]:
    """Say so when no commune of the region has the postal code (the INSEE error alone would puzzle)."""
    code = values.get("code_postal", "").replace(" ", "")
    if values.get("commune_insee", "").strip() or not code or communes.communes_for_postcode(code):
        return {}
    return {"code_postal": f"Aucune commune de Bourgogne-Franche-Comté n'a le code postal « {code} »."}


def _scope_problem(user, tab: str, values: dict[str, str], snapshot: Snapshot) -> str:
    try:
        authorize(user, tab, snapshot, values)
    except access.AccessDenied as denied:
        return str(denied)
    return ""


# Fields a whole list often shares without a column for it: a salon REE or CLEE list is one channel.
FILE_WIDE_FIELDS = {"Personnels": ("canal", "fonction"), "Entreprises": ()}


def _check_line(tab: str, number: int, source: dict, mapping: dict, snapshot: Snapshot,
                index: DuplicateIndex, planned: dict[str, int], user, constants: dict[str, str]) -> ImportLine:
    fields = mappable_fields(tab)
    from_file = {name: source.get(column, "") for column, name in mapping.items() if name in fields}
    # A value in the file wins; the value chosen for the whole file fills the lines that leave it empty.
    values = _with_insee({**constants, **{k: v for k, v in from_file.items() if v.strip() or k not in constants}})
    checked = check(tab, with_defaults(tab, {**values, "source": "import"}), snapshot)
    line = ImportLine(number, VALID, source, warnings=dict(checked.warnings))
    if checked.errors:
        line.status, line.errors = ERROR, {**_postcode_hint(values), **checked.errors}
        return line
    line.clean = {**checked.clean, ID_FIELD: new_id(default_schema().tab(tab).id_prefix)}
    problem = _scope_problem(user, tab, line.clean, snapshot) if user is not None else ""
    if problem:
        line.status, line.errors = ERROR, {"departement": problem}
        return line
    duplicates = index.find(line.clean, exclude_id=line.clean[ID_FIELD])
    if duplicates:
        line.status = DUPLICATE
        line.duplicate_of = [f"{d.reason} (ligne {planned[d.row_id]} du fichier)" if d.row_id in planned
                             else f"{d.reason} (fiche existante {d.row_id})" for d in duplicates]
    return line


def preview(df: pd.DataFrame, mapping: dict[str, str], tab: str, snapshot: Snapshot, user=None,
            constants: dict[str, str] | None = None) -> ImportReport:
    """Check every source line: valid, error (French messages per field) or duplicate (of a record or a line).

    With `user`, a line outside the user's départements is an error too (run_import checks it again anyway).
    `constants`: a value for every line of the file (FILE_WIDE_FIELDS), e.g. the recruitment channel of a list.
    """
    if tab not in IMPORTABLE_TABS:
        raise ImportFileError(f"L'import n'est possible que vers : {', '.join(IMPORTABLE_TABS)}.")
    constants = {k: v for k, v in (constants or {}).items() if k in FILE_WIDE_FIELDS[tab] and v.strip()}
    schema_tab = default_schema().tab(tab)
    mapped = set(mapping.values()) | set(constants)
    missing = [f.header for f in schema_tab.fields if f.required and f.name not in _SYSTEM_FIELDS
               and not _provided(f.name, mapped)]
    report = ImportReport(tab, dict(mapping), [], missing, snapshot)
    index = DuplicateIndex(schema_tab, snapshot.rows(tab))
    planned: dict[str, int] = {}  # ID given to an accepted line -> its line number
    numbers = list(df.index) if df.index.name == LINE_INDEX else [p + 2 for p in range(len(df))]
    for number, record in zip(numbers, df.fillna("").astype(str).to_dict("records"), strict=True):
        line = _check_line(tab, int(number), record, mapping, snapshot, index, planned, user, constants)
        if line.status == VALID:
            planned[line.clean[ID_FIELD]] = line.line
            index.add(line.clean[ID_FIELD], line.clean)  # the same person twice in one file is a duplicate
        report.lines.append(line)
    return report


# ---- import -----------------------------------------------------------------------------------------------


@dataclass
class ImportOutcome:
    imported: int
    errors: int
    duplicates: int
    anomalies: pd.DataFrame  # the lines not imported, with their reason (see `anomalies_csv`)


def plus_one_month(day: date) -> date:
    """Same day next month, or that month's last day (31 January → 28/29 February)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _import_record(line: ImportLine, source_label: str, third_party: bool, today: date) -> dict[str, str]:
    record = dict(line.clean)
    if record.get("consentement_participation") or record.get("consentement_partage"):
        record["consentement_source"] = "import"
    if third_party:
        # People taken from someone else's list must be told within a month (GDPR art. 14).
        record["informer_avant"] = format_date(plus_one_month(today))
    if source_label:
        note = f"Importé de « {source_label} » le {format_date(today)}."
        record["notes"] = f"{record['notes']}\n{note}" if record.get("notes") else note
    return record


def anomalies_csv(frame: pd.DataFrame) -> bytes:
    """Downloadable CSV of the lines not imported; formula-looking cells are neutralised."""
    return csv_bytes(frame)


def _append_batches(store, tab: str, records: list[dict], on_progress) -> list:
    """Each line already has its ID (the store's append is idempotent on IDs): a retry after a failure midway
    writes only what is missing."""
    written = []
    for start in range(0, len(records), BATCH_SIZE):
        try:
            written += store.append(tab, records[start:start + BATCH_SIZE])
        except StoreError as error:
            raise ImportInterrupted(error) from error
        if on_progress:
            done = min(start + BATCH_SIZE, len(records))
            on_progress(done / len(records), f"{done} fiche(s) sur {len(records)} importée(s)")
    return written


def run_import(store, report: ImportReport, user, source_label: str, third_party: bool,
               on_progress: Callable[[float, str], None] | None = None, today: date | None = None) -> ImportOutcome:
    """Append the valid lines (source "import") in batches; returns counts and the anomalies.

    Needs the import permission and the tab's edit permission; a valid line outside the user's départements
    becomes an error and is not imported. The import is journaled (counts and field names, no values).
    """
    access.require(user, access.IMPORT_DATA)
    snapshot = report.snapshot or store.read()
    authorize(user, report.tab, snapshot)
    for line in report.valid_lines:
        problem = _scope_problem(user, report.tab, line.clean, snapshot)
        if problem:
            line.status, line.errors = ERROR, {"departement": problem}
    today = today or date.today()
    records = [_import_record(line, source_label, third_party, today) for line in report.valid_lines]
    written = _append_batches(store, report.tab, records, on_progress)
    if on_progress and not records:
        on_progress(1.0, "Aucune ligne valide à importer")
    if records:
        journal.record_many(store, user, "import", [(report.tab, row.id) for row in written],
                            sorted(set(report.mapping.values())), FINALITE,
                            f"{len(records)} fiche(s) importée(s) depuis « {source_label} » ; "
                            f"liste tierce : {'oui' if third_party else 'non'} ; "
                            f"{report.count(ERROR)} erreur(s), {report.count(DUPLICATE)} doublon(s) écartés")
        if report.tab in consent.EDIT_PERMISSION:
            consent.journal_recorded(store, user, report.tab, written)
    return ImportOutcome(len(records), report.count(ERROR), report.count(DUPLICATE), report.anomalies())


# ---- command line -----------------------------------------------------------------------------------------


def _text_report(report: ImportReport) -> list[str]:
    lines = [f"Onglet : {report.tab}", "Correspondance des colonnes :"]
    lines += [f"  {column} → {default_schema().tab(report.tab).field(name).header}"
              for column, name in report.mapping.items()]
    lines.append(f"Lignes : {len(report.lines)} — valides : {report.count(VALID)}, "
                 f"erreurs : {report.count(ERROR)}, doublons : {report.count(DUPLICATE)}")
    lines += [f"  ligne {line.line} ({line.status}) : {line.reason}" for line in report.lines if line.status != VALID]
    return lines


def import_cli(store, tab: str, path, dry_run: bool, third_party: bool = False,
               constants: dict[str, str] | None = None, limits: InputLimits | None = None) -> tuple[int, str]:
    """`python -m ecole_entreprise import TAB FILE [--dry-run]`.

    Exit code 0: every line valid (and imported unless dry run); 1: some lines rejected (the valid ones are
    imported); 2: nothing could be done (unknown tab, unreadable or oversized file, required column missing).
    """
    if tab not in IMPORTABLE_TABS:
        return 2, f"Onglet « {tab} » : l'import n'est possible que vers {', '.join(IMPORTABLE_TABS)}."
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > bounds(limits).max_bytes:  # refused before reading it into memory
            return 2, (f"Fichier trop volumineux ({size // 1024} Kio) : l'import accepte "
                       f"{bounds(limits).max_bytes // 1024} Kio au plus. Découpez-le en plusieurs fichiers.")
        frame = read_table(path.read_bytes(), path.name, limits)
    except OSError as exc:
        return 2, f"Fichier illisible : {path} ({exc.strerror or exc})."
    except ImportFileError as exc:
        return 2, str(exc)
    constants = {k: v for k, v in (constants or {}).items() if v}
    unknown = [k for k in constants if k not in FILE_WIDE_FIELDS[tab]]
    if unknown:
        return 2, f"Option --{unknown[0]} : valable seulement pour l'onglet Personnels."
    report = preview(frame, suggest_mapping(list(frame.columns), tab), tab, store.read(), constants=constants)
    text = _text_report(report)
    if report.missing_required:
        text.append("Colonnes obligatoires introuvables : " + ", ".join(report.missing_required)
                    + ". Renommez les en-têtes du fichier puis relancez.")
        return 2, "\n".join(text)
    if dry_run:
        text.append("Essai à blanc : rien n'a été écrit.")
    else:
        outcome = run_import(store, report, access.SYSTEM_USER, path.name, third_party)
        text.append(f"{outcome.imported} fiche(s) importée(s).")
    return (1 if report.count(VALID) < len(report.lines) else 0), "\n".join(text)
