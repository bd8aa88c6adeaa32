"""The statuses of meetings, records, GDPR requests and partnerships, each with what it means.

Every service asks these meanings (« is a meeting in this status held? does it allow disclosure? ») instead of
listing statuses again, so adding a status is one entry here and one word in sheets_schema/lists.yaml.
Enum values are the cell texts (sheets_schema/lists.yaml); a StrEnum member compares equal to its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MeetingStatus(StrEnum):
    """The « statut » of a Rencontres row, in lifecycle order (lists.yaml « statuts_rencontre »)."""

    PROPOSED = "proposée"
    ACCEPTED = "acceptée"
    PLANNED = "planifiée"
    DONE = "réalisée"
    REVIEWED = "bilan saisi"
    REFUSED = "refusée"
    CANCELLED = "annulée"

    @property
    def means(self) -> MeetingMeaning:
        return MEETING_MEANINGS[self]


@dataclass(frozen=True)
class MeetingMeaning:
    next: tuple[MeetingStatus, ...]  # the statuses it may move to (itself: planned again, second side's bilan)
    open: bool = True  # the pair's meeting of the year (not refused nor cancelled): no second proposal
    ahead: bool = False  # still to happen: expectations editable, the volunteer already has a meeting in progress
    accepted: bool = False  # both sides said yes: contacts may be disclosed; « accepted » stage of the funnel
    dated: bool = False  # has a fixed date: on the calendar
    held: bool = False  # took place: counts as « réalisée », may lead to a partnership
    concluded: bool = False  # a bilan was entered
    milestone: bool = False  # a step of the main path shown as « proposée → acceptée → … »
    needs_reason: bool = False  # entering it needs a motif, through the « close » step
    verb: str = ""  # for a status entered with a motif: the French verb, then the outcome's label
    outcome: str = ""


M = MeetingStatus
MEETING_MEANINGS: dict[MeetingStatus, MeetingMeaning] = {
    M.PROPOSED: MeetingMeaning((M.ACCEPTED, M.REFUSED, M.CANCELLED), ahead=True, milestone=True),
    M.ACCEPTED: MeetingMeaning((M.PLANNED, M.CANCELLED), ahead=True, accepted=True, milestone=True),
    M.PLANNED: MeetingMeaning((M.PLANNED, M.DONE, M.CANCELLED), ahead=True, accepted=True, dated=True,
                              milestone=True),
    M.DONE: MeetingMeaning((M.REVIEWED,), accepted=True, dated=True, held=True, milestone=True),
    M.REVIEWED: MeetingMeaning((M.REVIEWED,), accepted=True, dated=True, held=True, concluded=True, milestone=True),
    M.REFUSED: MeetingMeaning((), open=False, needs_reason=True, verb="refuser", outcome="Refus d'une des parties"),
    M.CANCELLED: MeetingMeaning((), open=False, needs_reason=True, verb="annuler", outcome="Annulation"),
}
del M


def meeting_statuses(meaning: str) -> tuple[MeetingStatus, ...]:
    """The statuses with this meaning, in lifecycle order: meeting_statuses("held") → (réalisée, bilan saisi)."""
    return tuple(s for s in MeetingStatus if getattr(s.means, meaning))


def meeting_status(text: str) -> MeetingStatus | None:
    """The status written in a cell; an empty cell is the schema default (proposée), a typo None."""
    text = (text or "").strip()
    if not text:
        return MeetingStatus.PROPOSED
    try:
        return MeetingStatus(text)
    except ValueError:
        return None


class RecordStatus(StrEnum):
    """The « statut » of an Entreprises or Personnels row (lists.yaml « statuts_fiche »)."""

    PENDING = "à valider"  # a self-registration not yet checked by a coordinator
    VALIDATED = "validé"
    ARCHIVED = "archivé"
    TO_CONFIRM = "à confirmer"  # a self-registration whose address has not answered the confirmation link yet

    @property
    def active(self) -> bool:
        """May be paired and have contacts disclosed (a pending or archived record may not)."""
        return self is RecordStatus.VALIDATED


INACTIVE_RECORD = frozenset(s for s in RecordStatus if not s.active)


class RequestStatus(StrEnum):
    """The « statut » of a Demandes RGPD row (lists.yaml « statuts_demande »)."""

    RECEIVED = "reçue"
    IN_PROGRESS = "en cours"
    DONE = "traitée"
    REJECTED = "rejetée"

    @property
    def open(self) -> bool:
        """Still to answer: it has a deadline (article 12) and shows on the home page when it nears."""
        return self in (RequestStatus.RECEIVED, RequestStatus.IN_PROGRESS)


class PartnershipStatus(StrEnum):
    """The « statut » of a Partenariats row (lists.yaml « statuts_partenariat »), listed active first."""

    PLANNED = "envisagé"
    ACTIVE = "actif"
    ENDED = "terminé"

    @property
    def rank(self) -> int:
        return {PartnershipStatus.ACTIVE: 0, PartnershipStatus.PLANNED: 1, PartnershipStatus.ENDED: 2}[self]
