"""Recording and withdrawing consents on an Entreprises or Personnels row.

A consent is dated now and names a published notice version (disclosure.published_versions); the
disclosure rule reads the consent dates, so clearing one (withdrawal) stops any further disclosure at once.
Both operations update with the fingerprint read by the caller (a Conflict propagates) and are journaled.
"""

from __future__ import annotations

from ...domain.roles import User
from ...domain.schema import default_schema
from ...domain.values import format_datetime, now_paris
from ...store.base import Row, RowNotFound, Snapshot, StoreError
from ..kernel import access, journal
from ..kernel.parameters import parameters
from .disclosure import published_versions

PURPOSE_FIELDS = {"participation": "consentement_participation", "partage": "consentement_partage"}
CONSENT_FIELDS = (*PURPOSE_FIELDS.values(), "consentement_version", "consentement_source")
EDIT_PERMISSION = {"Entreprises": access.EDIT_ENTREPRISES, "Personnels": access.EDIT_PERSONNELS}
FINALITE = "gestion des consentements"


def _person(snapshot: Snapshot, user: User, tab: str, person_id: str, purpose: str) -> Row:
    """The row whose consent changes, after the permission, scope and argument checks."""
    if tab not in EDIT_PERMISSION:
        raise StoreError(f"Les consentements ne concernent que les onglets Entreprises et Personnels, pas « {tab} ».")
    if purpose not in PURPOSE_FIELDS:
        raise StoreError(f"Finalité de consentement inconnue « {purpose} » (attendu : participation ou partage).")
    if not (access.allowed(user, EDIT_PERMISSION[tab]) or access.allowed(user, access.MANAGE_RGPD)):
        access.require(user, EDIT_PERMISSION[tab])
    row = snapshot.get(tab, person_id)
    if row is None:
        raise RowNotFound(tab, person_id)
    access.require_scope(user, tab, row, snapshot)
    return row


def give_consent(store, snapshot: Snapshot, user: User, tab: str, person_id: str, purpose: str, source: str,
                 notice_version: str = "") -> Row:
    """Date the consent now, with the privacy-notice version shown and where it was collected."""
    row = _person(snapshot, user, tab, person_id, purpose)
    sources = default_schema().lists["sources_consentement"]
    if source not in sources:
        raise StoreError(f"Source de consentement inconnue « {source} » (attendu : {', '.join(sources)}).")
    version = notice_version.strip() or parameters(snapshot)["version_notice"]
    published = published_versions(snapshot)
    if version not in published:
        raise StoreError(f"Version de notice inconnue « {version} » : seules les versions publiées comptent "
                         f"({', '.join(sorted(published))} ; onglet Parametres, version_notice et "
                         "versions_notice_publiees).")
    changes = {PURPOSE_FIELDS[purpose]: format_datetime(now_paris()), "consentement_version": version,
               "consentement_source": source}
    updated = store.update(tab, person_id, changes, row.fingerprint)
    journal.record(store, user, "consentement", tab, person_id, [PURPOSE_FIELDS[purpose]], FINALITE,
                   f"finalité {purpose} ; source {source} ; notice {version}")
    return updated


def withdraw_consent(store, snapshot: Snapshot, user: User, tab: str, person_id: str, purpose: str) -> Row:
    """One click: the date is cleared (version and source stay as the trace of what had been given)."""
    row = _person(snapshot, user, tab, person_id, purpose)
    updated = store.update(tab, person_id, {PURPOSE_FIELDS[purpose]: ""}, row.fingerprint)
    journal.record(store, user, "retrait consentement", tab, person_id, [PURPOSE_FIELDS[purpose]], FINALITE,
                   f"finalité {purpose} ; consentement donné le {row[PURPOSE_FIELDS[purpose]] or 'inconnu'}")
    return updated


def journal_recorded(store, user, tab: str, rows) -> None:
    """Journal the consents that arrived with new records (coordinator form, import), one entry per purpose and
    notice version, naming every record: the same trace as give_consent leaves."""
    groups: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    for row in rows:
        for purpose, name in PURPOSE_FIELDS.items():
            if row[name].strip():
                key = (purpose, row["consentement_source"].strip(), row["consentement_version"].strip())
                groups.setdefault(key, []).append((tab, row.id))
    for (purpose, source, version), targets in groups.items():
        journal.record_many(store, user, "consentement", targets, [PURPOSE_FIELDS[purpose]], FINALITE,
                            f"finalité {purpose} ; source {source or 'non précisée'} ; "
                            f"notice {version or 'non précisée'}")
