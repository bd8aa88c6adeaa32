"""What each link lets its holder do, through the meeting lifecycle (never page logic): answer a proposed
meeting, write expectations, write conclusions and the questionnaire, answer an event invitation.

`view` returns the minimum the page shows for the link's purpose: the counterpart's organisation, never a
person's name or contact details (those are disclosed later by the introduction email, under its own rule).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ...domain.schema import default_schema
from ...domain.statuses import RecordStatus
from ...domain.values import now_paris
from ...store.base import Snapshot, StoreError
from ..kernel import journal
from ..kernel.field_checks import run_checks, text_check
from ..meetings import lifecycle as meetings
from ..meetings.calendar import french_date, french_time
from ..privacy import consent
from . import registry
from .registry import (
    CONCLUSIONS,
    CONFIRMATION,
    EVENT_ANSWER,
    EXPECTATIONS,
    MEETING_ANSWER,
    WITHDRAWAL,
    Link,
    LinkRefused,
)

COMES, DOES_NOT_COME = "vient", "ne vient pas"
# What a link page catches: every refusal of these services carries a French message.
Refused = StoreError


def follow_ups() -> tuple[str, ...]:
    """The choices of « Suite envisagée », for the questionnaire."""
    return default_schema().tab("Rencontres").field("suite_envisagee").choices

ACCEPTED_ANSWER, DECLINED_ANSWER = "acceptée", "refusée"


@dataclass(frozen=True)
class View:
    title: str
    lines: tuple[str, ...]  # what the person is answering about, in French


def _counterpart(snapshot: Snapshot, row, side: str) -> str:
    if side == "entreprise":
        staff = snapshot.get("Personnels", row["personnel_id"])
        if staff is None:
            return "un personnel de l'Éducation nationale"
        who = staff["fonction"].strip() or "personnel de l'Éducation nationale"
        where = staff["etablissement"].strip() or "un établissement"
        town = f" ({staff['commune'].strip()})" if staff["commune"].strip() else ""
        return f"{who}, {where}{town}"
    company = snapshot.get("Entreprises", row["entreprise_id"])
    if company is None:
        return "une entreprise"
    town = f" ({company['commune'].strip()})" if company["commune"].strip() else ""
    return f"l'entreprise {company['raison_sociale'].strip()}{town}"


def _when(row) -> str:
    day = meetings.meeting_day(row)
    if day is None:
        return "Date : à convenir."
    hour = f" à {french_time(row['heure'])}" if row["heure"].strip() else ""
    place = f", {row['lieu'].strip()}" if row["lieu"].strip() else ""
    return f"Date : {french_date(day, weekday=True)}{hour}{place}."


def _meeting(snapshot: Snapshot, link: Link):
    row = snapshot.get("Rencontres", link.record_id)
    if row is None or link.party not in meetings.SIDES:
        raise LinkRefused(registry.WRONG)
    return row


def view(snapshot: Snapshot, link: Link) -> View:
    if link.purpose == EVENT_ANSWER:
        return _event_view(snapshot, link)
    if link.purpose in (CONFIRMATION, WITHDRAWAL):
        return _person_view(snapshot, link)
    row = _meeting(snapshot, link)
    counterpart = _counterpart(snapshot, row, link.party)
    titles = {MEETING_ANSWER: "Rencontre proposée", EXPECTATIONS: "Vos attendus avant la rencontre",
              CONCLUSIONS: "Vos conclusions après la rencontre"}
    fmt = f"Format : {row['format'].strip()}." if row["format"].strip() else ""
    return View(titles[link.purpose], tuple(x for x in (f"Rencontre avec {counterpart}.", _when(row), fmt) if x))


def _event_view(snapshot: Snapshot, link: Link) -> View:
    event = snapshot.get("Evenements", link.record_id)
    if event is None:
        raise LinkRefused(registry.WRONG)
    day = meetings.meeting_day(event)
    lines = [f"« {event['titre'].strip()} »", f"Date : {french_date(day, weekday=True)}." if day else "",
             f"Lieu : {event['lieu'].strip()}." if event["lieu"].strip() else ""]
    return View("Invitation à un temps fort", tuple(x for x in lines if x))


def _person(snapshot: Snapshot, link: Link):
    row = snapshot.get(link.row["cible_tab"], link.record_id) if link.row["cible_tab"] in registry.PERSON_TABS \
        else None
    if row is None:
        raise LinkRefused(registry.WRONG)  # an erased record: nothing to confirm or withdraw
    return row


def _person_view(snapshot: Snapshot, link: Link) -> View:
    return person_view(link.purpose, link.row["cible_tab"], _person(snapshot, link)["created_at"])


def person_view(purpose: str, tab: str, created_at: str) -> View:
    """Nothing but the kind of record and the day it arrived: a forwarded link shows no one's data."""
    kind = "entreprise" if tab == "Entreprises" else "personnel de l'Éducation nationale"
    day = created_at[:10]
    received = f" reçue le {french_date(dt.date.fromisoformat(day))}" if len(day) == 10 and day[4] == "-" else ""
    if purpose == CONFIRMATION:
        return View("Confirmez votre inscription", (f"Votre inscription ({kind}){received} au programme « Les "
                                                    "chefs d'entreprise invitent l'Éducation nationale ».",))
    return View("Ne plus participer au programme", (
        f"Votre fiche ({kind}) au programme « Les chefs d'entreprise invitent l'Éducation nationale ».",
        "En confirmant, vous retirez votre consentement : vous ne serez plus sollicité et vos coordonnées ne "
        "seront plus communiquées."))


def _require(link: Link, purpose: str) -> None:
    if link.purpose != purpose:
        raise LinkRefused(registry.WRONG)  # single purpose: a link answers only its own question


# ---- meeting answer ---------------------------------------------------------------------------------------


def answer_meeting(store, snapshot: Snapshot, link: Link, *, accept: bool, reason: str = "",
                   dates: str = "") -> str:
    """Accept (the meeting becomes « acceptée » once both sides have) or decline with a reason; proposed dates
    are kept in « Dates proposées ». Returns the French confirmation."""
    _require(link, MEETING_ANSWER)
    row, side, actor = _meeting(snapshot, link), link.party, registry.link_actor(link.row)
    checks = {f"dates_proposees_{side}": text_check("Rencontres", f"dates_proposees_{side}", dates, False)}
    if not accept:
        checks["motif"] = text_check("Rencontres", "motif", reason, True)
    values, errors = run_checks(checks)
    if errors:
        raise meetings.MeetingInvalid(errors)
    if values[f"dates_proposees_{side}"] and values[f"dates_proposees_{side}"] != row[f"dates_proposees_{side}"]:
        store.update("Rencontres", row.id, {f"dates_proposees_{side}": values[f"dates_proposees_{side}"]},
                     row.fingerprint)
        meetings.record_journal(store, actor, "dates proposées", "Rencontres", row.id,
                                [f"dates_proposees_{side}"], registry.FINALITE, f"côté {side}, par lien personnel")
        snapshot = journal.fresh_snapshot(store)
    if accept:
        meetings.accept(store, snapshot, actor, row.id, side)
        registry.mark_used(store, link, ACCEPTED_ANSWER)
        return "Merci : votre acceptation est enregistrée. Le service école-entreprise vous mettra en relation."
    meetings.refuse(store, snapshot, actor, row.id, f"Refus côté {side} : {values['motif']}")
    registry.mark_used(store, link, DECLINED_ANSWER)
    return "Votre réponse est enregistrée : la rencontre n'aura pas lieu. Merci de nous avoir répondu."


# ---- before and after -------------------------------------------------------------------------------------


def write_expectations(store, snapshot: Snapshot, link: Link, text: str) -> str:
    _require(link, EXPECTATIONS)
    row = _meeting(snapshot, link)
    if not str(text or "").strip():
        raise meetings.MeetingInvalid({f"attendus_{link.party}": "Écrivez vos attendus."})
    meetings.set_expectations(store, snapshot, registry.link_actor(link.row), row.id, **{link.party: text})
    registry.mark_used(store, link, "attendus écrits")
    return "Merci : vos attendus sont enregistrés et aideront à préparer la rencontre."


def write_conclusions(store, snapshot: Snapshot, link: Link, *, conclusions: str, satisfaction, comprehension,
                      recommande, suites, today: dt.date | None = None) -> str:
    """Conclusions and questionnaire; a planned meeting whose date has passed is first marked held."""
    _require(link, CONCLUSIONS)
    row, actor = _meeting(snapshot, link), registry.link_actor(link.row)
    if meetings.status_of(row) == meetings.PLANNED:
        meetings.mark_done(store, snapshot, actor, row.id, today=today or now_paris().date())
        snapshot = journal.fresh_snapshot(store)
    meetings.record_outcome(store, snapshot, actor, row.id, link.party, conclusions=conclusions,
                            satisfaction=satisfaction, comprehension=comprehension, recommande=recommande,
                            suites=suites)
    registry.mark_used(store, link, "conclusions écrites")
    return "Merci : vos conclusions et vos réponses au questionnaire sont enregistrées."


# ---- event invitation -------------------------------------------------------------------------------------


def answer_event(store, snapshot: Snapshot, link: Link, comes: bool) -> str:
    _require(link, EVENT_ANSWER)
    if snapshot.get("Evenements", link.record_id) is None:
        raise LinkRefused(registry.WRONG)
    registry.mark_used(store, link, COMES if comes else DOES_NOT_COME)
    return "Merci, nous comptons sur votre venue." if comes else "Merci de nous avoir prévenus."


def attendance(snapshot: Snapshot, event_id: str) -> dict[str, int]:
    """Answers to an event's invitations: how many come, how many do not, how many have not answered."""
    rows = [r for r in snapshot.rows(registry.TAB) if r["objet"] == EVENT_ANSWER and r["cible_id"] == event_id]
    answered = {r["partie"]: r["reponse"] for r in rows if r["reponse"] in (COMES, DOES_NOT_COME)}
    invited = {r["partie"] for r in rows}
    return {COMES: sum(a == COMES for a in answered.values()),
            DOES_NOT_COME: sum(a == DOES_NOT_COME for a in answered.values()),
            "sans réponse": len(invited - set(answered))}


# ---- self-registration: double opt-in and withdrawal ------------------------------------------------------


CONFIRMED = "confirmée"  # the Liens answer of a confirmation link
CONSENT_PURPOSE = "gestion des consentements"


def confirm_registration(store, snapshot: Snapshot, link: Link) -> str:
    """The double opt-in click: a record « à confirmer » becomes « à valider », and the journal keeps the proof of
    consent (« confirmation inscription », which the coordinator's check reads: census/registration.address_line).
    `registry.check` has refused a link sent to an address the record no longer holds."""
    _require(link, CONFIRMATION)
    row, tab = _person(snapshot, link), link.row["cible_tab"]
    if row["statut"] == RecordStatus.TO_CONFIRM:
        store.update(tab, row.id, {"statut": str(RecordStatus.PENDING)}, row.fingerprint)
    registry.mark_used(store, link, CONFIRMED)
    given = [name for name in ("consentement_participation", "consentement_partage") if row[name].strip()]
    journal.record(store, registry.link_actor(link.row), CONFIRMATION, tab, row.id, given, CONSENT_PURPOSE,
                   f"adresse confirmée par le lien signé {link.row.id} ; source {row['source']} ; "
                   f"notice {row['consentement_version']}")
    return "Merci : votre inscription est confirmée. Un coordinateur la vérifiera puis vous contactera."


def withdraw(store, snapshot: Snapshot, link: Link) -> str:
    """The participation consent (and the sharing one) withdrawn through privacy/consent.py, journaled there."""
    _require(link, WITHDRAWAL)
    row, tab, actor = _person(snapshot, link), link.row["cible_tab"], registry.link_actor(link.row)
    for purpose, name in consent.PURPOSE_FIELDS.items():
        if row[name].strip():
            row = consent.withdraw_consent(store, journal.fresh_snapshot(store), actor, tab, row.id, purpose)
    registry.mark_used(store, link, "retrait")
    return ("Votre retrait est enregistré : vous ne serez plus sollicité pour le programme. Pour faire effacer vos "
            "données, écrivez au délégué à la protection des données (page Confidentialité).")


def confirmed(snapshot: Snapshot, tab: str, record_id: str) -> bool:
    """Did the person confirm a self-registration by its link (double opt-in)?"""
    return any(r["objet"] == CONFIRMATION and r["cible_tab"] == tab and r["cible_id"] == record_id
               and r["reponse"] == CONFIRMED for r in snapshot.rows(registry.TAB))
