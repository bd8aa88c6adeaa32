"""Reminders (CLI `remind`, button on the Rencontres page): one per meeting, step and side, never twice.

Due: a proposed meeting a side has not answered N days after the proposal; a dated meeting a side has written no
expectations for, N days before it; a past meeting a side has written no conclusions for, N days after it. Each
delay is a Parametres setting. A reminder resends the step's link still valid (or a new one) and stamps
« Relancé le » on its Liens row: that stamp, on any link of the step, is what « never twice » reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ...config import LinkSettings, SmtpSettings
from ...domain.values import format_datetime, now_paris, parse_datetime
from ...mail import NO_SERVER, Mailer, mailer_for
from ...store.base import Row, Snapshot, StoreError
from ..kernel import journal, parameters
from ..meetings import lifecycle as meetings
from ..meetings.introduction import SendFailed
from . import mail, registry
from .registry import CONCLUSIONS, EXPECTATIONS, MEETING_ANSWER

DELAYS = {MEETING_ANSWER: "relance_acceptation_jours", EXPECTATIONS: "relance_attendus_jours",
          CONCLUSIONS: "relance_conclusions_jours"}


@dataclass(frozen=True)
class Due:
    meeting_id: str
    purpose: str
    side: str


@dataclass
class Report:
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{len(self.sent)} relance(s) envoyée(s)"
        return text + (f", {len(self.failed)} en échec" if self.failed else "") + "."


def _proposed_on(row: Row) -> dt.date | None:
    try:
        return parse_datetime(row["created_at"]).date()
    except ValueError:
        return None


def _step(row: Row, today: dt.date, delays: dict[str, int]) -> str:
    """The step whose reminder is due today for this meeting, or ""."""
    status, day = meetings.status_of(row), meetings.meeting_day(row)
    proposed = _proposed_on(row)
    if status == meetings.PROPOSED and proposed and today >= proposed + dt.timedelta(days=delays[MEETING_ANSWER]):
        return MEETING_ANSWER
    if status in (meetings.ACCEPTED, meetings.PLANNED) and day is not None \
            and day - dt.timedelta(days=delays[EXPECTATIONS]) <= today <= day:
        return EXPECTATIONS
    if status in (meetings.PLANNED, meetings.DONE, meetings.REVIEWED) and day is not None \
            and today >= day + dt.timedelta(days=delays[CONCLUSIONS]):
        return CONCLUSIONS
    return ""


def already_reminded(snapshot: Snapshot, due: Due) -> bool:
    return any(r["relance_le"].strip() for r in registry.links_for(snapshot, due.purpose, due.meeting_id, due.side))


def due_reminders(snapshot: Snapshot, today: dt.date | None = None) -> list[Due]:
    delays = {purpose: parameters.int_parameter(snapshot, key) for purpose, key in DELAYS.items()}
    today = today or now_paris().date()
    found = []
    for row in snapshot.rows(meetings.TAB):
        purpose = _step(row, today, delays)
        if not purpose:
            continue
        for side in mail.sides_missing(row, purpose):
            due = Due(row.id, purpose, side)
            if not already_reminded(snapshot, due):
                found.append(due)
    return found


def send_due(store, snapshot: Snapshot, user, links: LinkSettings, mailer: Mailer | SmtpSettings,
             now: dt.datetime | None = None) -> Report:
    """Send every due reminder through `mailer`; one that fails is reported and tried again next time."""
    meetings.require_permission(user)
    if not links.configured:
        raise registry.LinksNotConfigured(registry.NOT_CONFIGURED)
    mailer = mailer_for(mailer)
    if not mailer.available:
        raise SendFailed(NO_SERVER)
    report, now = Report(), now or now_paris()
    for due in due_reminders(snapshot, now.date()):
        row = snapshot.get(meetings.TAB, due.meeting_id)
        if not user.rights.unrestricted and not _in_scope(user, row, snapshot):
            continue
        try:
            report.sent.append(remind_one(store, snapshot, user, links, mailer, row, due, now))
        except StoreError as error:  # SendFailed, LinkRefused (no address), Conflict
            report.failed.append(f"{due.meeting_id} ({due.purpose}, {due.side}) : {error}")
    if report.sent or report.failed:
        journal.record(store, user, "relances", meetings.TAB, "", [], registry.FINALITE, report.summary())
    return report


def _in_scope(user, row: Row, snapshot: Snapshot) -> bool:
    try:
        meetings.require_scope(user, meetings.TAB, row, snapshot)
        return True
    except StoreError:
        return False


def remind_one(store, snapshot: Snapshot, user, links: LinkSettings, mailer: Mailer, row: Row, due: Due,
            now: dt.datetime) -> str:
    recipient = mail.meeting_recipient(snapshot, row, due.side)
    link_row = registry.reusable(snapshot, due.purpose, due.meeting_id, due.side, now)
    if link_row is None:
        link_row, _token = registry.issue(store, links, user, due.purpose, due.meeting_id, due.side, now)
    confirmation = mail.deliver(store, snapshot, user, links, mailer, link_row, recipient, reminder=True)
    current = journal.fresh_snapshot(store).get(registry.TAB, link_row.id) or link_row
    store.update(registry.TAB, link_row.id, {"relance_le": format_datetime(now)}, current.fingerprint)
    return confirmation
