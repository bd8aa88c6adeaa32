"""Validate several self-registrations « à valider » at once, each exactly as a single validation is.

Every record goes through records.validate_pending (permission, scope, checks, duplicates, its fingerprint,
one journal entry « validation fiche »). A record that one of them refuses is left as it was and comes back
with the reason, in French; the others are validated. Two more rules than a single validation, because nobody
looks at each record here: the participation consent must be recorded, and a probable duplicate is never
confirmed (it is left for the record's own page).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ecole_entreprise import errors

from ...store.base import Row, Snapshot
from ..kernel import access
from . import records

NO_CONSENT = ("consentement à participer non recueilli : enregistrez-le depuis la fiche (encadré « Consentements ») "
              "avant de la valider.")
NOT_PENDING = "n'est plus « {pending} » (statut actuel : « {status} »)."
GONE = "fiche introuvable (supprimée, ou hors de votre périmètre)."


@dataclass(frozen=True)
class Outcome:
    """What happened to one record of a bulk validation."""

    row_id: str
    label: str
    validated: bool
    reason: str = ""  # French, when refused


def _label(tab: str, values: dict[str, str]) -> str:
    if tab == "Entreprises":
        name = values.get("raison_sociale", "")
    else:
        name = " ".join(filter(None, (values.get("prenom", ""), values.get("nom", ""), values.get("fonction", ""))))
    place = values.get("commune", "")
    return f"{values.get('id', '')} — {name or 'sans nom'}" + (f" ({place})" if place else "")


def pending_choices(user, tab: str, snapshot: Snapshot) -> dict[str, str]:
    """The records « à valider » this user may validate: ID → label with the names they may see."""
    if not access.allowed(user, records.EDIT_PERMISSIONS[tab]):
        return {}
    return {row["id"]: _label(tab, row) for row in access.visible_rows(user, tab, snapshot)
            if row.get("statut") == records.PENDING and row.get("id")}


def _refusal(tab: str, row: Row, result: records.SaveResult) -> str:
    if result.conflict is not None:
        return str(result.conflict)
    if result.errors:
        return " ; ".join(records.labelled_errors(tab, result.errors).values())
    if result.duplicates:
        twins = ", ".join(f"{d.row_id} ({d.reason})" for d in result.duplicates)
        return f"doublon probable de {twins} : ouvrez la fiche pour confirmer qu'il n'en est pas un, ou archivez-la."
    return ""


def validate_one(store, snapshot: Snapshot, user, tab: str, row_id: str) -> Outcome:
    """One record of the batch: validated, or refused with its reason (nothing written then)."""
    row = snapshot.get(tab, row_id)
    if row is None:
        return Outcome(row_id, row_id, False, GONE)
    try:
        label = _label(tab, access.mask_record(user, tab, row, snapshot))
        if row["statut"] != records.PENDING:
            return Outcome(row_id, label, False, NOT_PENDING.format(pending=records.PENDING, status=row["statut"]))
        if not row["consentement_participation"].strip():
            return Outcome(row_id, label, False, NO_CONSENT)
        result = records.validate_pending(store, snapshot, user, tab, row_id, row.fingerprint)
    except errors.UserError as error:  # access refused, sheet unreachable…: this record only
        return Outcome(row_id, row_id, False, str(error))
    if result.ok:
        return Outcome(row_id, label, True)
    return Outcome(row_id, label, False, _refusal(tab, row, result))


def validate_many(store, snapshot: Snapshot, user, tab: str, row_ids: Iterable[str],
                  on_progress: Callable[[float, str], None] | None = None) -> list[Outcome]:
    """Validate each record in turn against the version the person saw (`snapshot`); per-record outcomes."""
    access.require(user, records.EDIT_PERMISSIONS[tab])
    wanted = list(dict.fromkeys(row_ids))
    outcomes = []
    for done, row_id in enumerate(wanted, start=1):
        outcomes.append(validate_one(store, snapshot, user, tab, row_id))
        if on_progress is not None:
            on_progress(done / len(wanted), f"{done} fiche(s) traitée(s) sur {len(wanted)}")
    return outcomes


def summary(outcomes: list[Outcome]) -> str:
    """One French sentence for the page's confirmation."""
    validated = sum(1 for o in outcomes if o.validated)
    refused = len(outcomes) - validated
    return f"{validated} fiche(s) validée(s)" + (f", {refused} refusée(s) (motifs ci-dessous)." if refused else ".")
