"""The same action on several meetings at once (Rencontres page): relaunch the pending acceptances, or send the
introduction email. Each meeting goes through exactly what its single action does (same checks, same journal
entries); one that cannot be done is skipped or refused with its French reason and never stops the others.

`preview_*` says what the action would do, without writing or sending anything (the page's « Envoyer à N
rencontres ? » step); `relaunch` and `introduce` do it, calling `progress(done, total)` after each meeting.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from ecole_entreprise import errors

from ...config import LinkSettings, SmtpSettings
from ...mail import Mailer, mailer_for
from ...store.base import Snapshot
from ..kernel import access, forms
from ..links import mail, registry, reminders
from ..privacy import contacts
from . import introduction
from . import lifecycle as meetings

log = logging.getLogger(__name__)
TO_SEND, SENT, SKIPPED, REFUSED, FAILED = "à envoyer", "envoyée", "ignorée", "refusée", "en échec"
OUT_OF_REACH = "Rencontre introuvable ou hors de votre périmètre : rien n'est envoyé."
OF_SIDE = {"entreprise": "de l'entreprise", "personnel": "du personnel"}
TO_SIDE = {"entreprise": "à l'entreprise", "personnel": "au personnel"}
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Outcome:
    meeting_id: str
    kind: str  # TO_SEND (preview only), SENT, SKIPPED, REFUSED or FAILED
    reason: str  # French: what was done, or why not


def summary(outcomes: Iterable[Outcome]) -> str:
    """« 2 envoyée(s), 1 ignorée(s), 1 refusée(s), 0 en échec. »"""
    kinds = [o.kind for o in outcomes]
    counts = [f"{kinds.count(SENT)} envoyée(s)", f"{kinds.count(SKIPPED)} ignorée(s)"]
    if kinds.count(REFUSED):
        counts.append(f"{kinds.count(REFUSED)} refusée(s)")
    return ", ".join(counts) + f", {kinds.count(FAILED)} en échec."


def _sides(words: dict[str, str], sides: Iterable[str]) -> str:
    """« de l'entreprise et du personnel », « au personnel »."""
    return " et ".join(words[s] for s in sides)


def _reachable(snapshot: Snapshot, user, meeting_id: str):
    """The meeting when it exists and is in the user's scope, else None (the same answer for both: an ID out of
    scope says nothing of the meeting)."""
    row = snapshot.get(meetings.TAB, meeting_id)
    return row if row is not None and access.row_in_scope(user, meetings.TAB, row, snapshot) else None


def _run_each(meeting_ids: list[str], one: Callable[[str], Outcome], progress: Progress | None) -> list[Outcome]:
    outcomes, unique = [], list(dict.fromkeys(meeting_ids))
    for meeting_id in unique:
        try:
            outcomes.append(one(meeting_id))
        except Exception:  # noqa: BLE001 - one meeting's bug must not hide what was done for the others
            log.exception("bulk action failed for %s", meeting_id)
            outcomes.append(Outcome(meeting_id, FAILED, "Erreur inattendue (le détail est dans le journal du "
                                                        "serveur) : vérifiez cette rencontre avant de recommencer."))
        if progress is not None:
            progress(len(outcomes), len(unique))
    return outcomes


# ---- relaunching the pending acceptances -------------------------------------------------------------------


def _relaunch_check(snapshot: Snapshot, user, meeting_id: str) -> tuple[Outcome | None, list[str]]:
    """(an outcome that ends here, or None) and the sides to remind."""
    row = _reachable(snapshot, user, meeting_id)
    if row is None:
        return Outcome(meeting_id, REFUSED, OUT_OF_REACH), []
    status = meetings.status_of(row)
    sides = mail.sides_missing(row, registry.MEETING_ANSWER) if status == meetings.PROPOSED else []
    if not sides:
        return Outcome(meeting_id, SKIPPED, f"Aucune acceptation en attente (statut « {status} »)."), []
    for side in sides:
        try:
            mail.meeting_recipient(snapshot, row, side)
        except registry.LinkRefused as refused:
            return Outcome(meeting_id, SKIPPED, str(refused)), []
    return None, sides


def _last_reminder(snapshot: Snapshot, meeting_id: str, sides: list[str]) -> str:
    """« (déjà relancée le 05/01/2026) »: the person sees a relaunch would not be the first."""
    stamps = [r["relance_le"].strip() for side in sides
              for r in registry.links_for(snapshot, registry.MEETING_ANSWER, meeting_id, side) if r["relance_le"]]
    days = sorted(d for d in (forms.datetime_of(t) for t in stamps) if d)
    return f" Déjà relancée le {days[-1]:%d/%m/%Y}." if days else ""


def preview_relaunch(snapshot: Snapshot, user, meeting_ids: list[str]) -> list[Outcome]:
    meetings.require_permission(user)
    found = []
    for meeting_id in dict.fromkeys(meeting_ids):
        ended, sides = _relaunch_check(snapshot, user, meeting_id)
        found.append(ended or Outcome(meeting_id, TO_SEND, f"Relance {_sides(OF_SIDE, sides)}."
                                      + _last_reminder(snapshot, meeting_id, sides)))
    return found


def relaunch(store, snapshot: Snapshot, user, links: LinkSettings, smtp: Mailer | SmtpSettings,
             meeting_ids: list[str], *, progress: Progress | None = None, now: dt.datetime | None = None,
             **send_options) -> list[Outcome]:
    """Remind each side that has not answered its meeting proposal, as the « Envoyer les relances dues » button
    does for one reminder: the answer link still valid (or a new one), « Rappel » in the subject, « Relancé le »
    stamped, each email journaled. A relaunch chosen by a coordinator goes out even before the reminder delay."""
    meetings.require_permission(user)
    if not links.configured:
        raise registry.LinksNotConfigured(registry.NOT_CONFIGURED)
    smtp = mailer_for(smtp)
    if not smtp.available:
        raise introduction.SendFailed("Aucun serveur d'envoi (SMTP) n'est configuré : section [smtp] de "
                                      "secrets.toml.")
    now = now or forms.now()

    def one(meeting_id: str) -> Outcome:
        ended, sides = _relaunch_check(snapshot, user, meeting_id)
        if ended is not None:
            return ended
        row, sent, failed = snapshot.get(meetings.TAB, meeting_id), [], []
        for side in sides:
            due = reminders.Due(meeting_id, registry.MEETING_ANSWER, side)
            try:
                reminders.remind_one(store, snapshot, user, links, smtp, row, due, now, **send_options)
                sent.append(side)
            except errors.UserError as error:  # SendFailed, LinkRefused, Conflict: said, tried again next time
                failed.append(f"{side.capitalize()} : {error}")
        if failed:
            done = f" (relance envoyée {_sides(TO_SIDE, sent)})" if sent else ""
            return Outcome(meeting_id, FAILED, " ; ".join(failed) + done)
        return Outcome(meeting_id, SENT, f"Relance envoyée {_sides(TO_SIDE, sent)}.")

    return _run_each(meeting_ids, one, progress)


# ---- sending the introduction email ------------------------------------------------------------------------


def _introduce_check(snapshot: Snapshot, user, meeting_id: str, resend: Collection[str]) -> Outcome | None:
    row = _reachable(snapshot, user, meeting_id)
    if row is None:
        return Outcome(meeting_id, REFUSED, OUT_OF_REACH)
    # The single action's rule (Rencontres page): the disclosure rule, and a coordinator's own side in scope.
    side = "" if user.side else "entreprise"
    reasons = list(dict.fromkeys(introduction.blockers(snapshot, meeting_id)
                                 + contacts.reveal_blockers(snapshot, user, meeting_id, side)))
    if reasons:
        return Outcome(meeting_id, SKIPPED, "Mise en relation impossible : " + " ".join(reasons))
    when, who = introduction.sent_stamp(row)
    if when and meeting_id not in resend:
        return Outcome(meeting_id, SKIPPED, str(introduction.AlreadySent(when, who)))
    return None


def preview_introductions(snapshot: Snapshot, user, meeting_ids: list[str],
                          resend: Collection[str] = ()) -> list[Outcome]:
    """What `introduce` would do; a meeting already introduced is sent again only when its ID is in `resend`."""
    meetings.require_permission(user, access.REVEAL_CONTACTS)
    found = []
    for meeting_id in dict.fromkeys(meeting_ids):
        ended = _introduce_check(snapshot, user, meeting_id, resend)
        again = ended is None and introduction.sent_stamp(snapshot.get(meetings.TAB, meeting_id))[0]
        found.append(ended or Outcome(meeting_id, TO_SEND, "Nouvel envoi (confirmé)." if again else "Premier envoi."))
    return found


def already_introduced(snapshot: Snapshot, user, meeting_ids: list[str]) -> list[str]:
    """The meetings among these (in scope) whose introduction went out already: each needs a confirmation."""
    return [i for i in dict.fromkeys(meeting_ids) if (row := _reachable(snapshot, user, i)) is not None
            and introduction.sent_stamp(row)[0]]


def introduce(store, snapshot: Snapshot, user, smtp: Mailer | SmtpSettings, meeting_ids: list[str], *, signature: str,
              resend: Collection[str] = (), progress: Progress | None = None) -> list[Outcome]:
    """Send the introduction email (default template) to each meeting, as its « Envoyer » button does: the rule
    checked on one fresh read per meeting, the preparation and the sending journaled, the meeting stamped. A
    meeting already introduced is skipped unless its ID is in `resend` (the person confirmed it, meeting by meeting)."""
    meetings.require_permission(user)
    meetings.require_permission(user, access.REVEAL_CONTACTS)
    smtp = mailer_for(smtp)
    if not smtp.available:
        raise introduction.SendFailed("Aucun serveur d'envoi (SMTP) n'est configuré : envoyez les mises en "
                                      "relation une par une depuis chaque rencontre (lien de messagerie).")

    def one(meeting_id: str) -> Outcome:
        ended = _introduce_check(snapshot, user, meeting_id, resend)
        if ended is not None:
            return ended
        again = meeting_id in resend
        try:
            confirmation = introduction.prepare_and_send(store, snapshot, user, meeting_id, smtp,
                                                         signature=signature, resend=again)
        except (introduction.AlreadySent, introduction.IntroductionRefused) as error:  # changed meanwhile
            return Outcome(meeting_id, SKIPPED, str(error))
        except (errors.Refused, errors.NotFound) as error:
            return Outcome(meeting_id, REFUSED, str(error))
        except errors.UserError as error:  # SendFailed, Conflict, Unavailable
            return Outcome(meeting_id, FAILED, str(error))
        return Outcome(meeting_id, SENT, confirmation)

    return _run_each(meeting_ids, one, progress)
