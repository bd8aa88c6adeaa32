"""The rule deciding when a meeting's counterpart contact details may be disclosed (GDPR).

Contact details of the other side become visible only when: the person gave the consent to share professional
contact details with the matched counterpart, both sides gave the participation consent, and the meeting was
accepted by both sides. A consent counts only with a real date, not in the future, and the version of a notice
that was published (Parametres: version_notice and versions_notice_publiees): a cell typed « oui », « 2099 » or
« n/a » in the sheet proves nothing. Who may *view* them (role, scope) is decided in services/access.py.
Callers that disclose read the rule on a fresh read of the sheet (`fresh_rule_snapshot`), never a cached one.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from ...domain.statuses import INACTIVE_RECORD, meeting_statuses
from ...domain.values import now_paris, parse_datetime
from ...store.base import Row, Snapshot
from ..kernel import journal
from ..kernel.parameters import parameters

DISCLOSABLE_MEETING_STATES = frozenset(meeting_statuses("accepted"))
PUBLISHED_KEY = "versions_notice_publiees"
CONSENT_LABELS = {"consentement_participation": "participer", "consentement_partage": "partager ses coordonnées"}
MISSING = {"consentement_participation": "{Who} n'a pas donné son consentement à participer.",
           "consentement_partage": "{Who} n'a pas consenti au partage de ses coordonnées."}


def published_versions(snapshot: Snapshot | None) -> frozenset[str]:
    """Every notice version that was published: the one in force and the list kept in Parametres."""
    params = parameters(snapshot)
    listed = params.get(PUBLISHED_KEY, "").replace(";", ",").split(",")
    return frozenset(v.strip() for v in [*listed, params.get("version_notice", "")] if v.strip())


def fresh_rule_snapshot(store) -> Snapshot:
    """What the sheet holds now (past the read cache): a consent withdrawn a second ago must count."""
    return journal.fresh_snapshot(store)


def _consent_problem(row: Row, name: str, now: datetime) -> str:
    """Why this consent cell is not a proof of consent ("" when it is one)."""
    text = row[name].strip()
    try:
        given = parse_datetime(text)
    except ValueError:
        return f"n'est pas une date (« {text} »)"
    if given > now:
        return f"est dans le futur ({text})"
    return ""


def _consent_reasons(row: Row, who: str, versions: Collection[str], now: datetime) -> list[str]:
    reasons = []
    for name, purpose in CONSENT_LABELS.items():
        if not row[name].strip():
            reasons.append(MISSING[name].format(Who=who[0].upper() + who[1:]))
        elif problem := _consent_problem(row, name, now):
            reasons.append(f"Le consentement de {who} à {purpose} {problem} : enregistrez-le depuis la fiche.")
    version = row["consentement_version"].strip()
    if any(row[name].strip() for name in CONSENT_LABELS):
        if not version:
            # A consent is only provable with the notice it was given on (a date typed in the sheet is not).
            reasons.append(f"Le consentement de {who} n'indique pas la version de la notice d'information : "
                           "enregistrez-le depuis la fiche (date, version, source).")
        elif version not in versions:
            reasons.append(f"Le consentement de {who} cite une version de notice qui n'a pas été publiée "
                           f"(« {version} » ; publiées : {', '.join(sorted(versions)) or 'aucune'}).")
    return reasons


def disclosure_blockers(meeting: Row, entreprise: Row, personnel: Row, versions: Collection[str] | None = None,
                        now: datetime | None = None) -> list[str]:
    """French reasons why contact details may not be shared yet; empty list means allowed.

    `versions`: the published notice versions (published_versions of the snapshot the rows come from); None
    means the documented defaults only."""
    versions = published_versions(None) if versions is None else versions
    now = now or now_paris()
    reasons = _consent_reasons(entreprise, "l'entreprise", versions, now)
    reasons += _consent_reasons(personnel, "le personnel", versions, now)
    if not (meeting["acceptation_entreprise"] and meeting["acceptation_personnel"]):
        reasons.append("La rencontre n'a pas encore été acceptée par les deux parties.")
    if meeting["statut"] not in DISCLOSABLE_MEETING_STATES:
        reasons.append(f"La rencontre est au statut « {meeting['statut']} ».")
    for row in (entreprise, personnel):
        if row["statut"] in INACTIVE_RECORD:
            reasons.append(f"La fiche {row.id} est au statut « {row['statut']} ».")
    return reasons


def snapshot_blockers(snapshot: Snapshot, meeting: Row, entreprise: Row, personnel: Row) -> list[str]:
    """The rule with the notice versions published in this snapshot's Parametres."""
    return disclosure_blockers(meeting, entreprise, personnel, published_versions(snapshot))


