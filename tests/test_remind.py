"""Reminders: due after the delays of the Parametres tab, sent by real SMTP on loopback with the step's link,
journaled, and never twice for the same step and side (CLI `remind` and the service behind the button)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from ecole_entreprise import cli
from ecole_entreprise.config import LinkSettings, SmtpSettings, load_settings
from ecole_entreprise.mail import MemoryMailer, SmtpMailer
from ecole_entreprise.services.kernel.access import SYSTEM_USER
from ecole_entreprise.services.links import registry, reminders
from tests.test_introduction import free_port
from tests.test_links import link_in, smtp_server  # noqa: F401  (a fixture)
from tests.test_meetings import CONSENT, USER, SheetStore, add_company, add_meeting, add_staff

LINKS = LinkSettings(secret="une clé de test assez longue", public_url="http://rencontres.test", days=10)
TODAY = dt.date(2026, 1, 20)
NOW = dt.datetime(2026, 1, 20, 9, 30)


@pytest.fixture
def store():
    return SheetStore()


@pytest.fixture
def sink(smtp_server):  # noqa: F811 - the fixture imported above
    return smtp_server  # the loopback SMTP sink of tests/test_links.py: (inbox, its SMTP mailer)


def proposed(store, created: str, **values):
    meeting = add_meeting(store, add_company(store), add_staff(store), **values)
    store.human_edit("Rencontres", meeting.id, created_at=created)
    return meeting


def dated(store, day: str, statut="planifiée"):
    return add_meeting(store, add_company(store), add_staff(store), statut=statut, acceptation_entreprise=CONSENT,
                       acceptation_personnel=CONSENT, date=day, heure="10:00", lieu="Dijon", format="salon",
                       visite="aucune")


def due(store, today=TODAY):
    return {(d.meeting_id, d.purpose, d.side) for d in reminders.due_reminders(store.read(), today)}


def test_each_step_is_due_after_its_delay(store):
    waiting = proposed(store, "2026-01-10 09:00:00", acceptation_entreprise=CONSENT)  # 10 days, default 7
    fresh = proposed(store, "2026-01-18 09:00:00")  # 2 days: not yet
    soon, later = dated(store, "2026-01-25"), dated(store, "2026-02-20")  # in 5 days (default 7) / in a month
    past, just_past = dated(store, "2026-01-15"), dated(store, "2026-01-19")  # 5 days ago (default 3) / yesterday
    found = due(store)
    assert (waiting.id, registry.MEETING_ANSWER, "personnel") in found
    assert (waiting.id, registry.MEETING_ANSWER, "entreprise") not in found  # that side answered
    assert {(soon.id, registry.EXPECTATIONS, side) for side in ("entreprise", "personnel")} <= found
    assert {(past.id, registry.CONCLUSIONS, side) for side in ("entreprise", "personnel")} <= found
    assert not {m.id for m in (fresh, later, just_past)} & {m for m, _, _ in found}


def test_the_delays_are_parametres_settings(store):
    meeting = proposed(store, "2026-01-18 09:00:00")
    assert not due(store)
    store.append("Parametres", [{"cle": "relance_acceptation_jours", "valeur": "1"}])
    assert {m for m, _, _ in due(store)} == {meeting.id}


def test_a_reminder_is_sent_once_with_a_working_link_and_never_twice(store, sink):
    inbox, mailer = sink
    meeting = proposed(store, "2026-01-05 09:00:00", acceptation_personnel=CONSENT)
    report = reminders.send_due(store, store.read(), USER, LINKS, mailer, now=NOW)
    assert len(report.sent) == 1 and not report.failed
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["lea.martin@alpha.fr"]
    assert "Rappel" in envelope.content.decode("utf-8", "replace")
    link = registry.check(store.read(), LINKS, link_in(envelope), now=NOW)
    assert (link.purpose, link.record_id, link.party) == (registry.MEETING_ANSWER, meeting.id, "entreprise")
    again = reminders.send_due(store, store.read(), USER, LINKS, mailer, now=NOW + dt.timedelta(days=3))
    assert again.sent == [] and len(inbox.envelopes) == 1
    actions = [r["action"] for r in store.read().rows("Journal")]
    assert actions.count("relance envoyée") == 1 and actions.count("relances") == 1


def test_a_reminder_resends_the_link_already_sent_for_that_step(store, sink):
    inbox, mailer = sink
    meeting = proposed(store, "2026-01-05 09:00:00", acceptation_personnel=CONSENT)
    row, token = registry.issue(store, LINKS, USER, registry.MEETING_ANSWER, meeting.id, "entreprise",
                                now=dt.datetime(2026, 1, 15, 9))
    reminders.send_due(store, store.read(), USER, LINKS, mailer, now=NOW)
    assert link_in(inbox.envelopes[0]) == token
    assert store.read().get("Liens", row.id)["relance_le"]
    assert [r["objet"] for r in store.read().rows("Liens")] == [registry.MEETING_ANSWER, registry.WITHDRAWAL]


def test_a_failed_sending_is_reported_and_tried_again_next_time(store, sink):
    inbox, mailer = sink
    proposed(store, "2026-01-05 09:00:00", acceptation_personnel=CONSENT)
    dead = SmtpMailer(dataclasses.replace(mailer.settings, port=free_port()), timeout=5)
    report = reminders.send_due(store, store.read(), USER, LINKS, dead, now=NOW)
    assert report.sent == [] and len(report.failed) == 1 and "injoignable" in report.failed[0]
    assert len(reminders.send_due(store, store.read(), USER, LINKS, mailer, now=NOW).sent) == 1


def test_without_smtp_or_secret_nothing_is_attempted(store):
    proposed(store, "2026-01-05 09:00:00")
    with pytest.raises(registry.LinksNotConfigured):
        reminders.send_due(store, store.read(), USER, LinkSettings(), MemoryMailer(), now=NOW)
    with pytest.raises(reminders.SendFailed, match="Aucun serveur d'envoi"):
        reminders.send_due(store, store.read(), USER, LINKS, MemoryMailer(available=False), now=NOW)
    with pytest.raises(reminders.SendFailed, match="Aucun serveur d'envoi"):
        reminders.send_due(store, store.read(), USER, LINKS, SmtpSettings(), now=NOW)  # bare settings, unconverted


def test_cli_remind_sends_then_finds_nothing_left(store, sink, monkeypatch, capsys):
    inbox, mailer = sink
    proposed(store, "2020-01-05 09:00:00")
    monkeypatch.setattr(cli, "load_settings",
                        lambda: dataclasses.replace(load_settings(), links=LINKS, smtp=mailer.settings))
    monkeypatch.setattr(cli, "build_store", lambda settings: store)
    assert cli.main(["remind", "--dry-run"]) == 0
    assert "2 relance(s) due(s)" in capsys.readouterr().out and not inbox.envelopes
    assert cli.main(["remind"]) == 0
    assert "2 relance(s) envoyée(s)." in capsys.readouterr().out and len(inbox.envelopes) == 2
    assert cli.main(["remind"]) == 0
    assert "0 relance(s) envoyée(s)." in capsys.readouterr().out and len(inbox.envelopes) == 2
    actors = {r["acteur"] for r in store.read().rows("Journal") if r["action"] == "relance envoyée"}
    assert actors == {SYSTEM_USER.email}


def test_the_rencontres_button_sends_the_due_reminders_once(app_workbook, monkeypatch, sink):
    """The page's button does what `remind` does; after it, nothing is due and the button is gone."""
    from tests.support.apptest import ADMIN, app_store, open_page

    inbox, mailer = sink
    import pages._shared as shared

    monkeypatch.setattr(shared, "load_settings",
                        lambda: dataclasses.replace(load_settings(), links=LINKS, smtp=mailer.settings))
    store = app_store()
    snapshot = store.read(fresh=True)
    company, staff = snapshot.rows("Entreprises")[0], snapshot.rows("Personnels")[0]
    store.append("Rencontres", [{"entreprise_id": company.id, "personnel_id": staff.id, "annee_scolaire": "2025-2026",
                                 "statut": "proposée", "created_at": "2020-01-06 09:00:00"}])
    due = len(reminders.due_reminders(store.read(fresh=True)))
    at = open_page(monkeypatch, ADMIN, "pages/rencontres.py")
    [button] = [b for b in at.button if b.key == "send_reminders"]
    assert button.label == f"Envoyer les relances dues ({due})"
    button.click().run()
    assert not at.exception
    sent = len(inbox.envelopes)
    assert sent >= 2 and any(f"{sent} relance(s) envoyée(s)" in s.value for s in at.success)
    assert {company["contact_email"], staff["email"]} <= {e.rcpt_tos[0] for e in inbox.envelopes}
    left = len(reminders.due_reminders(store.read(fresh=True)))
    assert left == due - sent  # a sent reminder is never due again; only those that failed stay due
    assert bool([b for b in at.button if b.key == "send_reminders"]) == bool(left)
    at.run()
    assert len(inbox.envelopes) == sent
