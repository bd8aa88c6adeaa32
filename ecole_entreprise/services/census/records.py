"""Census of companies and staff (and the other editable tabs): create, edit, archive, validate, list.

Every write is authorized (permission, then scope), validated (nothing is written on any error), checked for
duplicates (returned so the page can link to the existing record) and journaled with field names only.
Store errors such as Conflict are returned in the result, never swallowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ecole_entreprise import errors

from ...domain import communes
from ...domain.schema import CREATED_FIELD, ID_FIELD, UPDATED_FIELD, TabSchema, default_schema
from ...domain.statuses import RecordStatus
from ...domain.validation import find_duplicates, fold, validate_record
from ...domain.values import format_datetime, now_paris, parse_multi
from ...store.base import Conflict, Row, RowNotFound, Snapshot, StoreError, new_id
from ..kernel import access, journal
from ..kernel.parameters import parameters
from ..privacy import consent

ARCHIVED, PENDING, VALIDATED = (str(s) for s in (RecordStatus.ARCHIVED, RecordStatus.PENDING, RecordStatus.VALIDATED))
FINALITE = "recensement des participants au programme"

# The permission that guards writes to each tab census handles.
EDIT_PERMISSIONS = {
    "Entreprises": access.EDIT_ENTREPRISES,
    "Personnels": access.EDIT_PERSONNELS,
    "Rencontres": access.EDIT_RENCONTRES,
    "Partenariats": access.EDIT_PARTENARIATS,
    "Evenements": access.EDIT_EVENEMENTS,
    "Utilisateurs": access.MANAGE_USERS,
    "Demandes RGPD": access.MANAGE_GDPR,
}


@dataclass
class SaveResult:
    """Outcome of a write: `row` is set only when something was saved (or already was, on a double submit)."""

    row: Row | None = None
    errors: dict[str, str] = field(default_factory=dict)  # field -> French message ("" key: whole record)
    warnings: dict[str, str] = field(default_factory=dict)
    duplicates: list = field(default_factory=list)  # validation.Duplicate(row_id, reason)
    conflict: Conflict | None = None  # the row changed since it was read: show both versions

    @property
    def ok(self) -> bool:
        return self.row is not None


class NotSaved(errors.Invalid):
    """A save refused field by field (or for probable duplicates); the result keeps its warnings and duplicates."""


NOT_SAVED = "La fiche n'a pas été enregistrée : corrigez les champs signalés en rouge."
NOT_SAVED_DUPLICATES = "La fiche n'a pas été enregistrée : vérifiez les fiches similaires ci-dessus."
NOT_VALIDATED = "L'inscription n'a pas été validée : corrigez les champs signalés en rouge dans la fiche ci-dessous."
NOT_VALIDATED_DUPLICATES = "L'inscription n'a pas été validée : vérifiez les fiches similaires ci-dessus."


def labelled_errors(tab: str, found: dict[str, str]) -> dict[str, str]:
    """Messages listed away from their fields (a validation box, a summary): each names its column."""
    schema = default_schema().tab(tab)
    return {k: f"{schema.field(k).header} : {v}" if k in schema.field_names else v for k, v in found.items()}


def done_or_raise(result: SaveResult, tab: str = "") -> SaveResult:
    """The result of a write that went through, else its error for Feedback: the Conflict (both versions), or
    NotSaved with the messages by field (each naming its column when `tab` is given)."""
    if result.conflict is not None:
        raise result.conflict
    if result.errors:
        raise NotSaved(errors=labelled_errors(tab, result.errors) if tab else result.errors)
    return result


def saved_or_raise(tab: str, result: SaveResult, message: str = NOT_SAVED,
                   duplicates: str = NOT_SAVED_DUPLICATES) -> SaveResult:
    """For a form: the saved result, else the Conflict, or NotSaved with each message under the visible field it
    concerns (see form_errors) and the whole-form `message` under ""."""
    if result.ok or result.conflict is not None:
        return done_or_raise(result)
    if result.errors:
        raise NotSaved(message, {**form_errors(tab, result.errors), "": result.errors.get("") or message})
    raise NotSaved(duplicates if result.duplicates else message)


def authorize(user, tab: str, snapshot: Snapshot, *records) -> None:
    """The one place census and imports check access: the tab's permission, then each record's scope.

    Raises access.AccessDenied (French message); a coordinator cannot create or move a record out of scope.
    """
    if tab not in EDIT_PERMISSIONS:
        raise StoreError(f"L'onglet « {tab} » ne se modifie pas depuis les fiches.")
    access.require(user, EDIT_PERMISSIONS[tab])
    for record in records:
        access.require_scope(user, tab, record, snapshot)


def with_defaults(tab: str, values: dict[str, str]) -> dict[str, str]:
    """Schema defaults for empty fields (statut "validé", source "saisie"…), before validation checks them."""
    filled = {k: ("" if v is None else str(v)) for k, v in values.items()}
    for f in default_schema().tab(tab).fields:
        if f.default and not filled.get(f.name, "").strip():
            filled[f.name] = f.default
    return filled


def check(tab: str, values: dict[str, str], snapshot: Snapshot):
    """validation.validate_record for a tab name (references checked against the snapshot)."""
    return validate_record(default_schema().tab(tab), values, snapshot=snapshot)


def duplicates_of(tab: str, values: dict[str, str], snapshot: Snapshot, exclude_id: str | None = None) -> list:
    return find_duplicates(default_schema().tab(tab), values, snapshot, exclude_id)


def coordinator_consents(snapshot: Snapshot, participation: bool, partage: bool) -> dict[str, str]:
    """Consents a coordinator collected (on paper, by phone…): dated now, with the notice version in force."""
    if not (participation or partage):
        return {}
    stamp = format_datetime(now_paris())
    return {"consentement_participation": stamp if participation else "",
            "consentement_partage": stamp if partage else "",
            "consentement_version": parameters(snapshot)["version_notice"], "consentement_source": "coordinateur"}


def _journal(store, user, action: str, tab: str, row_id: str, fields) -> None:
    journal.record(store, user, action, tab, row_id, sorted(fields), FINALITE)


# ---- create -----------------------------------------------------------------------------------------------


def create(store, snapshot: Snapshot, user, tab: str, values: dict[str, str], *, client_id: str | None = None,
           confirm_duplicates: bool = False) -> SaveResult:
    """Validate then append one record.

    `client_id` is the ID the page made when it rendered the form: a second submit of the same form finds the
    row already there (or the store's idempotent append returns it), so it never creates two rows.
    Duplicates block unless `confirm_duplicates` (the person saw them and chose to create anyway).
    """
    authorize(user, tab, snapshot)
    if client_id and (already := snapshot.get(tab, client_id)):
        return SaveResult(row=already)
    checked = check(tab, with_defaults(tab, values), snapshot)
    if checked.errors:
        return SaveResult(errors=dict(checked.errors), warnings=dict(checked.warnings))
    authorize(user, tab, snapshot, checked.clean)
    duplicates = duplicates_of(tab, checked.clean, snapshot, exclude_id=client_id)
    if duplicates and not confirm_duplicates:
        return SaveResult(warnings=dict(checked.warnings), duplicates=duplicates)
    record_id = client_id or new_id(default_schema().tab(tab).id_prefix)
    [row] = store.append(tab, [{**checked.clean, ID_FIELD: record_id}])
    _journal(store, user, "création fiche", tab, row.id, [k for k, v in checked.clean.items() if v])
    if tab in consent.EDIT_PERMISSION:
        consent.journal_recorded(store, user, tab, [row])
    return SaveResult(row=row, warnings=dict(checked.warnings), duplicates=duplicates)


# ---- edit, archive, validate ------------------------------------------------------------------------------


def _changed(current: Row, clean: dict[str, str]) -> dict[str, str]:
    fixed = (ID_FIELD, CREATED_FIELD, UPDATED_FIELD)
    return {k: v for k, v in clean.items() if k not in fixed and current.values.get(k, "") != v}


def _write(store, user, tab: str, current: Row, changes: dict[str, str], expected_fingerprint: str,
           result: SaveResult, action: str) -> SaveResult:
    """Update with the caller's fingerprint; a Conflict or a vanished row lands in the result."""
    if not changes:
        result.row = current
        return result
    try:
        result.row = store.update(tab, current.id, changes, expected_fingerprint)
    except Conflict as conflict:
        # The store only compared fingerprints: give the page the version this user read and what they sent.
        conflict.expected = conflict.expected if conflict.expected is not None else dict(current.values)
        conflict.attempted = conflict.attempted or dict(changes)
        result.conflict = conflict
        result.errors[""] = str(conflict)
        return result
    except RowNotFound as gone:
        result.errors[""] = str(gone)
        return result
    _journal(store, user, action, tab, current.id, changes)
    return result


def _current(snapshot: Snapshot, user, tab: str, row_id: str) -> Row | None:
    authorize(user, tab, snapshot)
    row = snapshot.get(tab, row_id)
    if row is not None:
        authorize(user, tab, snapshot, row)
    return row


def _gone(tab: str, row_id: str) -> SaveResult:
    return SaveResult(errors={"": str(RowNotFound(tab, row_id))})


def edit(store, snapshot: Snapshot, user, tab: str, row_id: str, values: dict[str, str],
         expected_fingerprint: str, *, confirm_duplicates: bool = False) -> SaveResult:
    """Validate the edited record as a whole, then update only the fields that changed."""
    current = _current(snapshot, user, tab, row_id)
    if current is None:
        return _gone(tab, row_id)
    touched = [k for k in consent.CONSENT_FIELDS if k in values and values[k] != current.values.get(k, "")]
    if touched and tab in consent.EDIT_PERMISSION:
        # Dated, versioned and journaled per purpose by services/consent.py only: never a plain field edit.
        return SaveResult(errors=dict.fromkeys(touched, "Les consentements s'enregistrent ou se retirent depuis "
                                                         "l'encadré « Consentements » de la fiche."))
    merged = {k: v for k, v in {**current.values, **values}.items() if k != ID_FIELD}
    checked = check(tab, merged, snapshot)
    _tolerate_untouched(checked, values, current)
    if checked.errors:
        return SaveResult(errors=dict(checked.errors), warnings=dict(checked.warnings))
    authorize(user, tab, snapshot, checked.clean)  # not moved out of the user's départements
    duplicates = duplicates_of(tab, checked.clean, snapshot, exclude_id=row_id)
    result = SaveResult(warnings=dict(checked.warnings), duplicates=duplicates)
    if duplicates and not confirm_duplicates:
        return result
    return _write(store, user, tab, current, _changed(current, checked.clean), expected_fingerprint, result,
                  "modification fiche")


def _tolerate_untouched(checked, values: dict[str, str], current: Row) -> None:
    """A bad value typed into the sheet in a column this edit neither sends nor changes (a form shows no
    status or consent column) must not block the edit: only changed cells are written, so it stays as it was,
    reported as a warning here and by the quality check."""
    for name in [k for k in checked.errors if k and k not in values]:
        message = checked.errors.pop(name)
        checked.warnings[name] = f"Valeur de la feuille à corriger (non modifiée ici) : {message}"
        checked.clean.pop(name, None)


def archive(store, snapshot: Snapshot, user, tab: str, row_id: str, expected_fingerprint: str) -> SaveResult:
    """Archive instead of deleting: the record leaves lists and suggestions but history stays intact."""
    current = _current(snapshot, user, tab, row_id)
    if current is None:
        return _gone(tab, row_id)
    if "statut" not in default_schema().tab(tab).field_names or ARCHIVED not in default_schema().tab(tab).field(
            "statut").choices:
        return SaveResult(errors={"statut": f"Les fiches de l'onglet « {tab} » ne s'archivent pas."})
    changes = {"statut": ARCHIVED} if current["statut"] != ARCHIVED else {}
    return _write(store, user, tab, current, changes, expected_fingerprint, SaveResult(), "archivage fiche")


def validate_pending(store, snapshot: Snapshot, user, tab: str, row_id: str, expected_fingerprint: str, *,
                     confirm_duplicates: bool = False) -> SaveResult:
    """Accept a self-registration ("à valider" → "validé") once it is valid and not a duplicate.

    Duplicates block unless confirmed: the coordinator may prefer to archive the new record and keep the old one.
    """
    current = _current(snapshot, user, tab, row_id)
    if current is None:
        return _gone(tab, row_id)
    if current["statut"] != PENDING:
        return SaveResult(errors={"statut": f"La fiche {row_id} n'est pas « {PENDING} » "
                                            f"(statut actuel : « {current['statut']} »)."})
    checked = check(tab, {**current.values, "statut": VALIDATED}, snapshot)
    if checked.errors:
        return SaveResult(errors=dict(checked.errors), warnings=dict(checked.warnings))
    duplicates = duplicates_of(tab, checked.clean, snapshot, exclude_id=row_id)
    result = SaveResult(warnings=dict(checked.warnings), duplicates=duplicates)
    if duplicates and not confirm_duplicates:
        return result
    return _write(store, user, tab, current, {"statut": VALIDATED}, expected_fingerprint, result,
                  "validation fiche")


# ---- the place of a form: postal code, then a commune that carries it --------------------------------------

# The form shows a postal code input and a commune list; these fields are derived from the commune chosen.
COMMUNE_FIELD = "commune_insee"  # the commune list's field: messages of the derived fields go under it
DERIVED_PLACE_FIELDS = ("commune", "departement", "academie")
PICK_COMMUNE = "Commune introuvable : choisissez-la dans la liste (après le code postal)."


@dataclass(frozen=True)
class CommuneChoices:
    """The communes a form offers for a postal code (INSEE code → label), and what to tell the person."""

    options: dict[str, str]
    warning: str = ""


def commune_choices(postcode: str) -> CommuneChoices:
    """The communes carrying this postal code; for an unknown (CEDEX) code, every commune of its département."""
    code = (postcode or "").replace(" ", "").strip()
    if len(code) != 5:
        return CommuneChoices({})
    found = communes.communes_for_postcode(code)
    warning = ""
    if not found and code.isdigit():
        found = sorted((c for c in communes.all_communes() if c.departement == code[:2]), key=lambda c: c.nom)
        warning = (f"Aucune commune n'a le code postal {code} : s'il s'agit d'un code CEDEX, choisissez la commune "
                   "de l'adresse ci-dessous." if found else
                   f"Aucune commune de Bourgogne-Franche-Comté n'a le code postal {code}.")
    return CommuneChoices({c.insee: f"{c.nom} ({c.insee})" for c in found}, warning)


def place_values(postcode: str, insee: str) -> tuple[dict[str, str], list[str]]:
    """The cells a chosen commune fills (name, département), and the notes on its postal code (CEDEX…)."""
    commune = communes.commune_by_insee(insee)
    if commune is None:
        return {COMMUNE_FIELD: ""}, []
    code = (postcode or "").replace(" ", "").strip()
    return ({COMMUNE_FIELD: commune.insee, "commune": commune.nom, "departement": commune.departement},
            communes.postcode_warnings(code, commune.insee))


def scope_problem(user, tab: str, values: dict[str, str], snapshot: Snapshot) -> str:
    """Said as soon as the commune is chosen, before any submit: a coordinator cannot place a record outside
    their départements (the same rule authorize applies at save time)."""
    if user is None or tab not in EDIT_PERMISSIONS or not values.get("departement"):
        return ""
    if access.row_in_scope(user, tab, values, snapshot):
        return ""
    scope = ", ".join(sorted(user.departements))
    return (f"Cette commune ({values.get('commune', '')}, département {values['departement']}) est hors de votre "
            f"périmètre (départements {scope}) : la fiche ne pourra pas être enregistrée.")


def form_errors(tab: str, found: dict[str, str]) -> dict[str, str]:
    """Each message under the field the person sees: the commune list stands for its hidden INSEE code and for
    the cells derived from it (département, académie), said in the person's words, not the column's."""
    schema = default_schema().tab(tab)
    shown: dict[str, str] = {}
    for name, message in found.items():
        if name == COMMUNE_FIELD:
            text = "" if "code_postal" in found else PICK_COMMUNE
        elif name in DERIVED_PLACE_FIELDS and name in schema.field_names:
            text = "" if COMMUNE_FIELD in found else f"{schema.field(name).header} : {message}"
        else:
            shown[name] = message
            continue
        if text:
            shown[COMMUNE_FIELD] = " ".join(filter(None, (shown.get(COMMUNE_FIELD, ""), text)))
    return shown


# ---- list pages -------------------------------------------------------------------------------------------


def _matches_filter(tab: TabSchema, row: dict, name: str, wanted) -> bool:
    wanted = [wanted] if isinstance(wanted, str) else list(wanted or [])
    if not wanted:
        return True
    cell = row.get(name, "")
    if name in tab.field_names and tab.field(name).type == "multichoice":
        return bool(set(parse_multi(cell)) & set(wanted))
    return cell in wanted


def filter_rows(rows: list[dict], tab: str, query: str = "", filters: dict | None = None) -> list[dict]:
    """The rows matching the search (accent/case-insensitive, every word must appear) and every filter."""
    schema_tab = default_schema().tab(tab)
    words = fold(query).split()
    return [r for r in rows
            if all(w in fold(" ".join(str(v) for v in r.values())) for w in words)
            and all(_matches_filter(schema_tab, r, k, v) for k, v in (filters or {}).items())]


def list_fields(rows: list[dict], tab: str) -> list:
    """The schema fields present in these masked rows, in the sheet's order (a field masked in every row has none)."""
    schema_tab = default_schema().tab(tab)
    present = {k for r in rows for k in r}
    return [f for f in schema_tab.fields if f.name in present] if rows else list(schema_tab.fields)


def list_frame(rows: list[dict], tab: str, query: str = "", filters: dict | None = None, page: int = 1,
               page_size: int = 25) -> tuple[pd.DataFrame, int]:
    """Search (accent/case-insensitive, every word must appear), filter (field → value or values) and paginate.

    `rows` are already masked by access.visible_rows: a field absent from every row gets no column.
    Returns the requested page with French headers, and the total number of matching rows.
    """
    kept = filter_rows(rows, tab, query, filters)
    return page_frame(rows, kept, tab, page, page_size), len(kept)


def page_frame(rows: list[dict], kept: list[dict], tab: str, page: int = 1, page_size: int = 25) -> pd.DataFrame:
    """Page `page` of the rows `filter_rows` kept, with French headers; the columns are those of all `rows`."""
    fields = list_fields(rows, tab)
    size = max(1, int(page_size))
    start = (max(1, int(page)) - 1) * size
    page_rows = [[r.get(f.name, "") for f in fields] for r in kept[start:start + size]]
    return pd.DataFrame(page_rows, columns=[f.header for f in fields])
