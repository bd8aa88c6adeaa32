"""Introduction email putting both sides of an accepted meeting in touch, with an .ics once a date is set.

It discloses contact details, so it is prepared only when the disclosure rule holds, and every sending is
journaled. Without SMTP the coordinator gets a mailto: link and the plain text to copy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from string import Template
from urllib.parse import quote

from ecole_entreprise import errors

from ...config import SmtpSettings
from ...domain.validators import display_phone
from ...domain.values import format_datetime, now_paris, parse_time
from ...mail import Attachment, Delivery, Mail, Mailer, MailError, mailer_for
from ...store.base import Conflict, Row, RowNotFound, Snapshot, StoreError
from ..kernel import access, journal
from ..privacy.disclosure import fresh_rule_snapshot, snapshot_blockers
from . import lifecycle as meetings
from .calendar import french_date, french_time

CONTACT_FIELDS = ("Entreprises.contact_email", "Entreprises.contact_telephone", "Personnels.email",
                  "Personnels.telephone")
FINALITE = "mise en relation des participants d'une rencontre école-entreprise"
TO_BE_AGREED = "à convenir entre vous"
MISSING = "non renseigné"
MISSING_ROLE = "fonction non renseignée"  # « Claire Martin (fonction non renseignée) », not « (non renseigné) »

DEFAULT_SUBJECT = "Rencontre école-entreprise : $entreprise et $etablissement"
DEFAULT_BODY = """\
Bonjour $contact_prenom $contact_nom, bonjour $personnel_prenom $personnel_nom,

Dans le cadre du programme « Les chefs d'entreprise invitent l'Éducation nationale », nous avons le plaisir \
de vous mettre en relation.

• $contact_prenom $contact_nom ($contact_fonction), $entreprise
  Courriel : $contact_email – Téléphone : $contact_telephone
• $personnel_prenom $personnel_nom ($personnel_fonction), $etablissement
  Courriel : $personnel_email – Téléphone : $personnel_telephone

Rencontre : $rendez_vous.

Vous pouvez désormais échanger directement pour préparer ce moment. N'hésitez pas à revenir vers nous \
pour toute question.

Bien cordialement,
$signature
"""

# Placeholders the template may use, with their meaning (shown on the page next to the template editor).
PLACEHOLDERS = {
    "entreprise": "raison sociale de l'entreprise",
    "contact_civilite": "civilité du contact entreprise", "contact_prenom": "prénom du contact entreprise",
    "contact_nom": "nom du contact entreprise", "contact_fonction": "fonction du contact entreprise",
    "contact_email": "courriel du contact entreprise", "contact_telephone": "téléphone du contact entreprise",
    "personnel_civilite": "civilité du personnel", "personnel_prenom": "prénom du personnel",
    "personnel_nom": "nom du personnel", "personnel_fonction": "fonction du personnel",
    "personnel_email": "courriel du personnel", "personnel_telephone": "téléphone du personnel",
    "etablissement": "établissement du personnel",
    "date": "date de la rencontre (ou « à convenir »)", "heure": "heure de la rencontre",
    "lieu": "lieu de la rencontre", "format": "format : déjeuner, salon ou visite",
    "visite": "visite de l'entreprise : aucune, avant ou après",
    "rendez_vous": "format, date, heure et lieu en une phrase",
    "signature": "signature du coordinateur",
}


class IntroductionRefused(StoreError, errors.Refused):
    """The introduction may not be made (yet); `reasons` are the French blockers."""

    def __init__(self, reasons: list[str]):
        self.reasons = list(reasons)
        super().__init__("Mise en relation impossible : " + " ".join(self.reasons))


class TemplateError(StoreError, errors.Invalid):
    pass


class SendFailed(StoreError, errors.Unavailable):
    pass


class AlreadySent(StoreError, errors.Refused):
    """The introduction went out already: a second one needs an explicit confirmation (`resend=True`)."""

    def __init__(self, when: str, who: str):
        self.when, self.who = when, who
        by = f" par {who}" if who else ""
        super().__init__(f"La mise en relation a déjà été envoyée le {_french_stamp(when)}{by}. Confirmez pour "
                         "l'envoyer une nouvelle fois.")


def _french_stamp(text: str) -> str:
    try:
        moment = dt.datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return text
    return f"{moment:%d/%m/%Y à %H:%M}"


def sent_stamp(row: Row) -> tuple[str, str]:
    """(when, who) of the last introduction sent for this meeting; ("", "") before the first."""
    return row["introduction_envoyee"].strip(), row["introduction_envoyee_par"].strip()


def _refuse_second_send(current: Snapshot, meeting_id: str, resend: bool) -> None:
    """On a fresh read (`current`): another coordinator may have sent it a minute ago."""
    when, who = sent_stamp(meetings.meeting(current, meeting_id))
    if when and not resend:
        raise AlreadySent(when, who)


@dataclass(frozen=True)
class IntroductionEmail:
    to: list[str]
    cc: list[str]
    subject: str
    body: str
    ics: bytes | None
    meeting_id: str = ""


# ---- preparing --------------------------------------------------------------------------------------------


def _parties(snapshot: Snapshot, meeting_id: str) -> tuple[Row, Row, Row]:
    row = meetings.meeting(snapshot, meeting_id)
    company = snapshot.get("Entreprises", row["entreprise_id"])
    staff = snapshot.get("Personnels", row["personnel_id"])
    if company is None:
        raise RowNotFound("Entreprises", row["entreprise_id"])
    if staff is None:
        raise RowNotFound("Personnels", row["personnel_id"])
    return row, company, staff


def _require_disclosure_rights(snapshot: Snapshot, user, meeting_id: str) -> None:
    """Managing meetings is not enough: the email shows both sides' contact details."""
    meetings.require_permission(user)
    meetings.require_permission(user, access.REVEAL_CONTACTS)
    meetings.require_scope(user, meetings.TAB, meetings.meeting(snapshot, meeting_id), snapshot)


def _fresh_and_allowed(store, snapshot: Snapshot, user, meeting_id: str) -> Snapshot:
    """The sheet as it is now, once the rule and the user's rights hold on it: the caller's snapshot may be a
    cached one (up to a minute old), and a consent withdrawn meanwhile must stop the disclosure."""
    _require_disclosure_rights(snapshot, user, meeting_id)  # refuses early, without a read
    current = fresh_rule_snapshot(store)
    _require_disclosure_rights(current, user, meeting_id)
    reasons = blockers(current, meeting_id)
    if reasons:
        raise IntroductionRefused(reasons)
    return current


def blockers(snapshot: Snapshot, meeting_id: str) -> list[str]:
    """Every French reason the introduction cannot be made now; empty when it can."""
    row, company, staff = _parties(snapshot, meeting_id)
    reasons = snapshot_blockers(snapshot, row, company, staff)
    if not company["contact_email"].strip():
        reasons.append("L'entreprise n'a pas d'adresse électronique de contact.")
    if not staff["email"].strip():
        reasons.append("Le personnel n'a pas d'adresse électronique.")
    return reasons


def _appointment(row: Row) -> dict[str, str]:
    day = meetings.meeting_day(row)
    values = {
        "date": french_date(day, weekday=True) if day else TO_BE_AGREED,
        "heure": french_time(row["heure"]) if row["heure"].strip() else TO_BE_AGREED,
        "lieu": row["lieu"].strip() or TO_BE_AGREED,
        "format": row["format"].strip() or TO_BE_AGREED,
        "visite": row["visite"].strip() or "aucune",
    }
    if day is None:
        sentence = f"{row['format'] or 'format'}, date et lieu {TO_BE_AGREED}"
    else:
        sentence = f"{values['format']}, le {values['date']} à {values['heure']}, {values['lieu']}"
    if values["visite"] in ("avant", "après"):
        sentence += f" (visite de l'entreprise {values['visite']} la rencontre)"
    return {**values, "rendez_vous": sentence}


def template_values(snapshot: Snapshot, meeting_id: str, signature: str) -> dict[str, str]:
    row, company, staff = _parties(snapshot, meeting_id)
    return {
        "entreprise": company["raison_sociale"],
        "contact_civilite": company["contact_civilite"], "contact_prenom": company["contact_prenom"],
        "contact_nom": company["contact_nom"], "contact_fonction": company["contact_fonction"] or MISSING_ROLE,
        "contact_email": company["contact_email"].strip(),
        "contact_telephone": display_phone(company["contact_telephone"]) or MISSING,
        "personnel_civilite": staff["civilite"], "personnel_prenom": staff["prenom"], "personnel_nom": staff["nom"],
        "personnel_fonction": staff["fonction"] or MISSING_ROLE, "personnel_email": staff["email"].strip(),
        "personnel_telephone": display_phone(staff["telephone"]) or MISSING,
        "etablissement": staff["etablissement"] or staff["uai"] or MISSING,
        **_appointment(row),
        "signature": signature.strip(),
    }


def render(template: str, values: dict[str, str]) -> str:
    """Fill a $placeholder template; unknown or malformed placeholders are French errors, not silent gaps."""
    try:
        return Template(template).substitute(values)
    except KeyError as error:
        known = ", ".join(f"${name}" for name in PLACEHOLDERS)
        raise TemplateError(f"Le modèle utilise « ${error.args[0]} », qui n'existe pas. Possibles : {known}.") from None
    except ValueError:
        raise TemplateError("Le modèle contient un « $ » isolé : écrivez « $$ » pour obtenir le signe $.") from None


def prepare(snapshot: Snapshot, user, meeting_id: str, *, store, signature: str, cc: list[str] | tuple = (),
            subject_template: str = DEFAULT_SUBJECT, body_template: str = DEFAULT_BODY,
            now: dt.datetime | None = None) -> IntroductionEmail:
    """The email to both parties, or IntroductionRefused with every reason when disclosure is not allowed.

    The message shows both sides' contact details: preparing it is a disclosure, journaled before it is returned
    (a page keeps the result rather than preparing it again on every rerun). The rule is checked on a fresh read."""
    return _prepared(_fresh_and_allowed(store, snapshot, user, meeting_id), user, meeting_id, store=store,
                     signature=signature, cc=cc, subject_template=subject_template, body_template=body_template,
                     now=now)


def _prepared(snapshot: Snapshot, user, meeting_id: str, *, store, signature: str, cc, subject_template: str,
              body_template: str, now: dt.datetime | None) -> IntroductionEmail:
    """The email from a snapshot on which the rule was just checked; the preparation journaled."""
    values = template_values(snapshot, meeting_id, signature)
    subject = " ".join(render(subject_template, values).split())  # one header line, whatever the sheet holds
    body = render(body_template, values)
    row = meetings.meeting(snapshot, meeting_id)
    ics = meeting_ics(row, summary=subject, location=row["lieu"], description=_ics_description(values), now=now)
    meetings.record_journal(store, user, "préparation mise en relation", meetings.TAB, meeting_id, CONTACT_FIELDS,
                            FINALITE, "coordonnées des deux parties affichées dans le message à envoyer")
    return IntroductionEmail(to=[values["contact_email"], values["personnel_email"]],
                             cc=[c for c in cc if c], subject=subject, body=body, ics=ics, meeting_id=meeting_id)


def _ics_description(values: dict[str, str]) -> str:
    return (f"Rencontre « Les chefs d'entreprise invitent l'Éducation nationale »\n"
            f"{values['contact_prenom']} {values['contact_nom']} ({values['entreprise']}) et "
            f"{values['personnel_prenom']} {values['personnel_nom']} ({values['etablissement']})\n"
            f"Format : {values['format']} – visite de l'entreprise : {values['visite']}")


# ---- .ics (RFC 5545) --------------------------------------------------------------------------------------

DURATION = dt.timedelta(hours=2)
VISIT_DURATION = dt.timedelta(hours=1)
PRODID = "-//Region academique Bourgogne-Franche-Comte//Rencontres ecole-entreprise//FR"
# Europe/Paris with the EU rules in force since 1996: last Sunday of March / October.
VTIMEZONE = [
    "BEGIN:VTIMEZONE", "TZID:Europe/Paris",
    "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST", "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT",
    "BEGIN:STANDARD", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET", "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD",
    "END:VTIMEZONE",
]


def ics_escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11)."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def ics_fold(line: str) -> str:
    """Fold a content line at 75 octets (§3.1), never inside a UTF-8 character."""
    parts, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > (75 if not parts else 74):  # continuation lines start with one space
            parts.append(current)
            current, size = "", 0
        current, size = current + char, size + width
    parts.append(current)
    return "\r\n ".join(parts)


def _times(row: Row, day: dt.date) -> tuple[str, str]:
    if not row["heure"].strip():
        return f"DTSTART;VALUE=DATE:{day:%Y%m%d}", f"DTEND;VALUE=DATE:{day + dt.timedelta(days=1):%Y%m%d}"
    start = dt.datetime.combine(day, parse_time(row["heure"]))
    end = start + DURATION + (VISIT_DURATION if row["visite"] in ("avant", "après") else dt.timedelta())
    return (f"DTSTART;TZID=Europe/Paris:{start:%Y%m%dT%H%M%S}", f"DTEND;TZID=Europe/Paris:{end:%Y%m%dT%H%M%S}")


def meeting_ics(row: Row, *, summary: str, location: str, description: str,
                now: dt.datetime | None = None) -> bytes | None:
    """A one-event calendar for the meeting, None until a date is set. The UID is stable per meeting,
    so sending again updates the event in the recipients' calendars instead of adding a second one."""
    day = meetings.meeting_day(row)
    if day is None:
        return None
    try:
        start, end = _times(row, day)
    except ValueError:
        return None  # an hour typed in the sheet that cannot be read: no event rather than a wrong one
    stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             *VTIMEZONE, "BEGIN:VEVENT", f"UID:{row.id}@rencontres-ecole-entreprise.bfc",
             f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}", start, end, f"SUMMARY:{ics_escape(summary)}",
             f"LOCATION:{ics_escape(location)}", f"DESCRIPTION:{ics_escape(description)}", "END:VEVENT",
             "END:VCALENDAR"]
    return ("\r\n".join(ics_fold(line) for line in lines) + "\r\n").encode("utf-8")


# ---- delivering -------------------------------------------------------------------------------------------


def as_mail(email: IntroductionEmail) -> Mail:
    """The message handed to the mailer, the .ics attached when the meeting has a date."""
    calendar = (Attachment("rencontre.ics", email.ics, "text", "calendar",
                           (("method", "PUBLISH"), ("charset", "utf-8"))),) if email.ics else ()
    return Mail(to=tuple(email.to), cc=tuple(email.cc), subject=email.subject, body=email.body,
                attachments=calendar)


NO_SERVER = "Aucun serveur d'envoi (SMTP) n'est configuré : utilisez le lien de messagerie ou copiez le texte."


def send_mail(mailer: Mailer | SmtpSettings, mail: Mail, no_server: str) -> Delivery:
    """Through the mailer the caller was given; SendFailed (French) when nothing went out, `no_server` when no
    server is configured."""
    mailer = mailer_for(mailer)
    if not mailer.available:
        raise SendFailed(no_server)
    try:
        return mailer.send(mail)
    except MailError as error:
        raise SendFailed(str(error)) from None


def send(email: IntroductionEmail, mailer: Mailer | SmtpSettings) -> str:
    """Send through the mailer (the configured SMTP server in production); French confirmation."""
    delivery = send_mail(mailer, as_mail(email), NO_SERVER)
    confirmation = f"Courriel de mise en relation envoyé à {', '.join(delivery.sent)}."
    if delivery.refused:
        confirmation += f" Adresses refusées par le serveur : {', '.join(delivery.refused)}."
    return confirmation


def mailto_link(email: IntroductionEmail) -> str:
    """A mailto: URL (RFC 6068) opening the coordinator's mail client; the .ics must be attached by hand."""
    query = [f"subject={quote(email.subject)}", f"body={quote(email.body.replace(chr(10), chr(13) + chr(10)))}"]
    if email.cc:
        query.insert(0, "cc=" + ",".join(quote(a, safe="@") for a in email.cc))
    return "mailto:" + ",".join(quote(a, safe="@") for a in email.to) + "?" + "&".join(query)


def plain_text(email: IntroductionEmail) -> str:
    """The whole email as text to copy into any mail client."""
    head = [f"À : {', '.join(email.to)}"] + ([f"Cc : {', '.join(email.cc)}"] if email.cc else [])
    return "\n".join(head + [f"Objet : {email.subject}", "", email.body])


def mark_sent(store, snapshot: Snapshot, user, meeting_id: str, channel: str = "courriel", *,
              resend: bool = False) -> Row:
    """Journal the disclosure and stamp when and by whom it was sent (also after a mailto/copy sending), once the
    rule holds on a fresh read; noting a second sending needs `resend=True`."""
    current = _fresh_and_allowed(store, snapshot, user, meeting_id)
    _refuse_second_send(current, meeting_id, resend)
    return _stamp_sent(store, current, user, meeting_id, channel)


def _stamp_sent(store, snapshot: Snapshot, user, meeting_id: str, channel: str) -> Row:
    row = meetings.meeting(snapshot, meeting_id)
    meetings.record_journal(store, user, "mise en relation", meetings.TAB, meeting_id, CONTACT_FIELDS, FINALITE,
                            f"Coordonnées des deux parties transmises ({channel}).")
    changes = {"introduction_envoyee": format_datetime(now_paris()),
               "introduction_envoyee_par": journal.actor_name(user)}
    try:
        return store.update(meetings.TAB, meeting_id, changes, row.fingerprint)
    except Conflict as conflict:
        # The email is already out: record that fact on the current row (only these cells change).
        return store.update(meetings.TAB, meeting_id, changes, conflict.current.fingerprint)


def send_introduction(store, snapshot: Snapshot, user, email: IntroductionEmail, mailer: Mailer | SmtpSettings,
                      *, resend: bool = False) -> str:
    """Re-check the rule on a fresh read, send through the mailer, then journal and stamp the meeting; returns the
    confirmation. A meeting already introduced is sent again only with `resend=True` (AlreadySent otherwise,
    nothing sent). `mailer` may also be bare [smtp] settings (mail.mailer_for makes the SMTP adapter of them)."""
    current = _fresh_and_allowed(store, snapshot, user, email.meeting_id)
    _refuse_second_send(current, email.meeting_id, resend)
    return _send_checked(store, current, user, email, mailer)


def prepare_and_send(store, snapshot: Snapshot, user, meeting_id: str, mailer: Mailer | SmtpSettings, *,
                     signature: str, resend: bool = False) -> str:
    """Prepare and send at once (several meetings in a row, the default template): one fresh read serves both, as
    nobody reviews the message in between. A second sending is refused before anything is prepared."""
    current = _fresh_and_allowed(store, snapshot, user, meeting_id)
    _refuse_second_send(current, meeting_id, resend)
    email = _prepared(current, user, meeting_id, store=store, signature=signature, cc=(),
                      subject_template=DEFAULT_SUBJECT, body_template=DEFAULT_BODY, now=None)
    return _send_checked(store, current, user, email, mailer)


def _send_checked(store, current: Snapshot, user, email: IntroductionEmail, mailer) -> str:
    """Send, then stamp the meeting, once the rule and the second-sending check held on `current`."""
    confirmation = send(email, mailer)
    _stamp_sent(store, current, user, email.meeting_id, channel="SMTP")
    return confirmation
