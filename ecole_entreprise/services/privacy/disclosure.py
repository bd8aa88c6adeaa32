"""The rule deciding when a meeting's counterpart contact details may be disclosed (GDPR).

Contact details of the other side become visible only when: the person gave the consent to share professional
contact details with the matched counterpart, both sides gave the participation consent, and the meeting was
accepted by both sides. Who may *view* them (role, scope) is decided in services/access.py.
"""

from __future__ import annotations

from ...domain.statuses import INACTIVE_RECORD, meeting_statuses
from ...store.base import Row

DISCLOSABLE_MEETING_STATES = frozenset(meeting_statuses("accepted"))


def disclosure_blockers(meeting: Row, entreprise: Row, personnel: Row) -> list[str]:
    """French reasons why contact details may not be shared yet; empty list means allowed."""
    reasons = []
    if not entreprise["consentement_participation"]:
        reasons.append("L'entreprise n'a pas donné son consentement à participer.")
    if not personnel["consentement_participation"]:
        reasons.append("Le personnel n'a pas donné son consentement à participer.")
    if not entreprise["consentement_partage"]:
        reasons.append("L'entreprise n'a pas consenti au partage de ses coordonnées.")
    if not personnel["consentement_partage"]:
        reasons.append("Le personnel n'a pas consenti au partage de ses coordonnées.")
    for row, who in ((entreprise, "de l'entreprise"), (personnel, "du personnel")):
        if row["consentement_partage"] and not row["consentement_version"].strip():
            # A consent is only provable with the notice it was given on (a date typed in the sheet is not).
            reasons.append(f"Le consentement au partage {who} n'indique pas la version de la notice "
                           "d'information : enregistrez-le depuis la fiche (date, version, source).")
    if not (meeting["acceptation_entreprise"] and meeting["acceptation_personnel"]):
        reasons.append("La rencontre n'a pas encore été acceptée par les deux parties.")
    if meeting["statut"] not in DISCLOSABLE_MEETING_STATES:
        reasons.append(f"La rencontre est au statut « {meeting['statut']} ».")
    for row in (entreprise, personnel):
        if row["statut"] in INACTIVE_RECORD:
            reasons.append(f"La fiche {row.id} est au statut « {row['statut']} ».")
    return reasons


def disclosure_allowed(meeting: Row, entreprise: Row, personnel: Row) -> bool:
    return not disclosure_blockers(meeting, entreprise, personnel)
