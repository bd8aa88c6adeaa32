"""Sending personal links by email, through the mailer the caller hands over (ecole_entreprise/mail).

Each party gets its own message with its own link: a message names the counterpart's organisation only. Every
message to a participant also carries a link to withdraw from the programme.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ...config import LinkSettings, SmtpSettings
from ...domain.values import format_datetime, now_paris, parse_datetime
from ...mail import Mail, Mailer, mailer_for
from ...store.base import Row, Snapshot
from ..kernel import access, journal
from ..meetings import introduction
from ..meetings import lifecycle as meetings
from ..meetings.calendar import french_date
from . import actions, registry
from .registry import CONCLUSIONS, CONFIRMATION, EVENT_ANSWER, EXPECTATIONS, MEETING_ANSWER, WITHDRAWAL
from .tokens import Payload

ASKS = {
    MEETING_ANSWER: ("Une rencontre vous est proposée", "Dites-nous si vous acceptez cette rencontre (ou pourquoi "
                                                        "vous la déclinez) et proposez des dates si vous le "
                                                        "souhaitez"),
    EXPECTATIONS: ("Préparez votre rencontre", "Écrivez ce que vous attendez de la rencontre (vos points de "
                                               "vigilance) : cela aidera votre interlocuteur à la préparer"),
    CONCLUSIONS: ("Vos conclusions sur la rencontre", "Écrivez vos conclusions et répondez au court questionnaire "
                                                      "sur la rencontre"),
    EVENT_ANSWER: ("Invitation à un temps fort", "Dites-nous si vous venez"),
    CONFIRMATION: ("Confirmez votre inscription", "Confirmez que c'est bien vous qui vous êtes inscrit"),
}
WITHDRAW_LINE = "Pour ne plus participer au programme (retrait de votre consentement) :"
REMINDER = "Rappel : "
REGISTRATION_ACTOR = "auto-inscription"  # the journal's actor for the mail a public form triggers
IGNORE = "Si vous n'êtes pas à l'origine de cette inscription, ignorez ce message : sans confirmation, elle sera " \
         "supprimée."
NO_SERVER = "Aucun serveur d'envoi (SMTP) n'est configuré : les liens ne peuvent pas être envoyés."


@dataclass(frozen=True)
class Recipient:
    address: str
    greeting: str
    contact_field: str  # for the journal: which field the address came from
    tab: str = ""  # the person's own record, for the withdrawal link every email carries
    record_id: str = ""


def meeting_recipient(snapshot: Snapshot, meeting: Row, side: str) -> Recipient:
    if side == "entreprise":
        company = snapshot.get("Entreprises", meeting["entreprise_id"])
        if company is None or not company["contact_email"].strip():
            raise registry.LinkRefused("L'entreprise n'a pas d'adresse électronique de contact.")
        return _company(company)
    staff = snapshot.get("Personnels", meeting["personnel_id"])
    if staff is None or not staff["email"].strip():
        raise registry.LinkRefused("Le personnel n'a pas d'adresse électronique.")
    return _staff(staff)


def _company(row: Row) -> Recipient:
    return person_recipient("Entreprises", row.id, row)


def _staff(row: Row) -> Recipient:
    return person_recipient("Personnels", row.id, row)


def person_recipient(tab: str, record_id: str, values) -> Recipient:
    """A company's contact or a staff member, from their record (a Row, or the values of one not written yet)."""
    first, last = ("contact_prenom", "contact_nom") if tab == "Entreprises" else ("prenom", "nom")
    field = registry.ADDRESS_FIELDS[tab]
    return Recipient(values[field].strip(), f"{values[first]} {values[last]}".strip(), f"{tab}.{field}", tab,
                     record_id)


def party_recipient(snapshot: Snapshot, party: str) -> Recipient:
    """An event's invited partner, named by its record ID (ENT-… or PER-…)."""
    company, staff = snapshot.get("Entreprises", party), snapshot.get("Personnels", party)
    if company is not None and company["contact_email"].strip():
        return _company(company)
    if staff is not None and staff["email"].strip():
        return _staff(staff)
    raise registry.LinkRefused(f"Aucune adresse électronique pour {party}.")


def compose(shown: actions.View, link_row: Row, url: str, recipient: Recipient, reminder: bool = False,
            withdraw_url: str = "", note: str = "") -> Mail:
    """The message of one link: what it is about (`shown`, as the link page shows it), the link, its expiry."""
    title, ask = ASKS[link_row["objet"]]
    expiry = parse_datetime(link_row["expire_le"])
    until = french_date(expiry.date(), weekday=False)
    if link_row["objet"] == CONFIRMATION:
        until += f" à {expiry:%H:%M}"  # valid for hours, not weeks
    body = "\n".join([
        f"Bonjour {recipient.greeting or 'Madame, Monsieur'},", "",
        (REMINDER if reminder else "") + "dans le cadre du programme « Les chefs d'entreprise invitent "
        "l'Éducation nationale » :", "", *(f"  {line}" for line in shown.lines), "",
        f"{ask} en ouvrant votre lien personnel (sans compte ni mot de passe) :", url, "",
        f"Ce lien vous est personnel, sert une seule fois et expire le {until}. Ne le transférez pas.",
        *([note] if note else []),
        *(["", WITHDRAW_LINE, withdraw_url] if withdraw_url else []),
        "", "Le service école-entreprise de la région académique Bourgogne-Franche-Comté et la CPME",
    ])
    return Mail(to=(recipient.address,), subject=(REMINDER if reminder else "") + title, body=body)


def _as_link(row: Row) -> registry.Link:
    """The view needs the row's purpose, record and party only (no token is checked when sending)."""
    return registry.Link(row, Payload(row["objet"], row["cible_id"], row["partie"], 0, row.id))


def deliver(store, snapshot: Snapshot | None, user, links: LinkSettings, mailer: Mailer | SmtpSettings,
            link_row: Row, recipient: Recipient, *, reminder: bool = False, shown: actions.View | None = None,
            note: str = "") -> str:
    """Send one link; the sending (and the address field used) is journaled. SendFailed propagates. `shown`: what
    the link is about, when the record is not in `snapshot` (a registration being written); `note`: a line after
    the link's expiry."""
    url = registry.url_for(links, registry.token_for(links, link_row, recipient.address))
    withdraw = _withdrawal_url(store, user, links, recipient)
    message = compose(shown or actions.view(snapshot, _as_link(link_row)), link_row, url, recipient, reminder,
                      withdraw, note)
    introduction.send_mail(mailer, message, NO_SERVER)
    journal.record(store, user, "relance envoyée" if reminder else "lien envoyé", link_row["cible_tab"],
                   link_row["cible_id"], [recipient.contact_field], registry.FINALITE,
                   f"lien {link_row.id} « {link_row['objet']} » pour {link_row['partie']}")
    return f"Lien « {link_row['objet']} » envoyé à {recipient.address}."


def _withdrawal_url(store, user, links: LinkSettings, recipient: Recipient) -> str:
    """Every email to a participant carries a link to withdraw from the programme (a new one each time)."""
    if not recipient.record_id:
        return ""
    _row, token = registry.issue(store, links, user, WITHDRAWAL, recipient.record_id, registry.SELF,
                                tab=recipient.tab)
    return registry.url_for(links, token)


def send_registration_links(store, snapshot: Snapshot | None, links: LinkSettings, mailer: Mailer | SmtpSettings,
                            tab: str, record_id: str, *, values=None, valid_for: dt.timedelta | None = None,
                            now: dt.datetime | None = None) -> str:
    """After a self-registration: the confirmation link (double opt-in, bound to the address given) and the
    withdrawal link, by email. `values`: the record not written yet (census/registration.submit writes it once the
    email is out), else it is read from `snapshot`. SendFailed / LinkRefused when nothing went out."""
    row = values if values is not None else snapshot.get(tab, record_id)
    if row is None:
        raise registry.LinkRefused(registry.WRONG)
    recipient = person_recipient(tab, record_id, row)
    if not recipient.address:
        raise registry.LinkRefused("Aucune adresse électronique pour confirmer l'inscription.")
    link_row, _token = registry.issue(store, links, REGISTRATION_ACTOR, CONFIRMATION, record_id, registry.SELF,
                                      now, tab=tab, valid_for=valid_for, address=recipient.address)
    created = row["created_at"] if values is None else format_datetime(now or now_paris())
    # Only a record written « à confirmer » (values given) is deleted when nobody confirms it.
    return deliver(store, snapshot, REGISTRATION_ACTOR, links, mailer, link_row, recipient,
                   shown=actions.person_view(CONFIRMATION, tab, created), note=IGNORE if values is not None else "")


# ---- what a coordinator sends ------------------------------------------------------------------------------

STEP_FIELDS = {MEETING_ANSWER: "acceptation_", EXPECTATIONS: "attendus_", CONCLUSIONS: "conclusions_"}


def sides_missing(meeting: Row, purpose: str) -> list[str]:
    """The sides that have not done this step yet."""
    return [side for side in meetings.SIDES if not meeting[STEP_FIELDS[purpose] + side].strip()]


def purpose_now(meeting: Row, today: dt.date | None = None) -> str:
    """The step the meeting's parties are at: answer, expectations (before its date), conclusions (after)."""
    status, day = meetings.status_of(meeting), meetings.meeting_day(meeting)
    today = today or now_paris().date()
    if status == meetings.PROPOSED:
        return MEETING_ANSWER
    if status in (meetings.ACCEPTED, meetings.PLANNED) and (day is None or day >= today):
        return EXPECTATIONS
    if status in (meetings.PLANNED, meetings.DONE, meetings.REVIEWED) and day is not None and day < today:
        return CONCLUSIONS
    return ""


def send_meeting_links(store, snapshot: Snapshot, user, links: LinkSettings, mailer: Mailer | SmtpSettings,
                       meeting_id: str, purpose: str) -> list[str]:
    """Send a link for `purpose` to each side that has not done it (the one already sent while it is valid, else a
    new one); French confirmations."""
    meetings.require_permission(user)
    row = meetings.meeting(snapshot, meeting_id)
    meetings.require_scope(user, meetings.TAB, row, snapshot)
    if not mailer_for(mailer).available:
        raise introduction.SendFailed(NO_SERVER)
    recipients = {side: meeting_recipient(snapshot, row, side) for side in sides_missing(row, purpose)}
    done = []
    for side, recipient in recipients.items():
        # Sending again resends the link still valid: one usable link per step and side.
        link_row = registry.reusable(snapshot, purpose, meeting_id, side) \
            or registry.issue(store, links, user, purpose, meeting_id, side)[0]
        done.append(deliver(store, snapshot, user, links, mailer, link_row, recipient))
    return done


def send_event_link(store, snapshot: Snapshot, user, links: LinkSettings, mailer: Mailer | SmtpSettings,
                    event_id: str, party: str) -> str:
    """Invite one partner (an Entreprises or Personnels ID) to an event, with a vient / ne vient pas link."""
    meetings.require_permission(user, access.EDIT_EVENEMENTS)
    event = snapshot.get("Evenements", event_id)
    if event is None:
        raise registry.LinkRefused(f"Événement {event_id} introuvable.")
    meetings.require_scope(user, "Evenements", event, snapshot)
    recipient = party_recipient(snapshot, party)
    link_row, _token = registry.issue(store, links, user, EVENT_ANSWER, event_id, party)
    return deliver(store, snapshot, user, links, mailer, link_row, recipient)


def invitable(snapshot: Snapshot, event_id: str) -> list[tuple[str, str]]:
    """(record ID, label) of the partners an event can invite: the other side of its partnership, and the people
    of the other side who met the organiser in a meeting. An organising company invites staff; a school, companies."""
    event = snapshot.get("Evenements", event_id)
    if event is None:
        return []
    partnership = snapshot.get("Partenariats", event["partenariat_id"]) if event["partenariat_id"] else None
    met = snapshot.rows(meetings.TAB)
    if event["organisateur"] == "entreprise":
        company_id = event["entreprise_id"] or (partnership["entreprise_id"] if partnership else "")
        school = (partnership["uai"] if partnership else "").strip().upper()
        ids = {m["personnel_id"] for m in met if m["entreprise_id"] == company_id}
        staff = [s for s in snapshot.rows("Personnels") if s.id in ids or (school and s["uai"].upper() == school)]
        return [(s.id, f"{s['prenom']} {s['nom']} ({s['etablissement'] or s['uai']})") for s in staff]
    school = (event["uai"] or (partnership["uai"] if partnership else "")).strip().upper()
    staff_ids = {s.id for s in snapshot.rows("Personnels") if school and s["uai"].upper() == school}
    ids = {m["entreprise_id"] for m in met if m["personnel_id"] in staff_ids}
    if partnership:
        ids.add(partnership["entreprise_id"])
    return [(c.id, c["raison_sociale"]) for c in snapshot.rows("Entreprises") if c.id in ids]
