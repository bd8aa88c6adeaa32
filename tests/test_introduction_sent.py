"""The introduction email is stamped with when and by whom it was sent; a second sending (SMTP or noted after a
mailto) needs an explicit confirmation, in the service and on the Rencontres page."""

from __future__ import annotations

import pytest

from ecole_entreprise.config import SmtpSettings
from ecole_entreprise.domain.roles import ADMIN, User
from ecole_entreprise.mail import SmtpMailer
from ecole_entreprise.services.meetings import introduction
from ecole_entreprise.services.meetings.introduction import AlreadySent
from tests.test_introduction import planned, prepare, smtp_server, store  # noqa: F401  (fixtures)
from tests.test_meetings import USER
from tests.test_page_rencontres import (  # noqa: F401  (smtp_inbox is a fixture)
    disclosable,
    meeting,
    not_yet_sent,
    ok,
    open_meeting,
    smtp_inbox,
    snapshot,
    user_of,
)

OTHER = User(email="autre.coord@ac-dijon.fr", role=ADMIN, nom="Autre")


def send(sheet, meeting_id, settings, user=USER, snap=None, **options):
    mail = prepare(sheet, meeting_id)
    return introduction.send_introduction(sheet, snap or sheet.read(), user, mail, SmtpMailer(settings, timeout=5),
                                          **options)


def test_sent_once_then_again_only_with_confirmation(store, planned, smtp_server):  # noqa: F811
    inbox, port = smtp_server
    settings = SmtpSettings(host="127.0.0.1", port=port, starttls=False, sender="ecole-entreprise@ac-dijon.fr")
    stale = store.read()  # what a second coordinator's page still shows
    send(store, planned.id, settings)
    row = store.read().get("Rencontres", planned.id)
    assert row["introduction_envoyee"] and row["introduction_envoyee_par"] == USER.email
    with pytest.raises(AlreadySent) as refused:
        send(store, planned.id, settings, user=OTHER, snap=stale)
    assert "déjà été envoyée le" in str(refused.value) and f"par {USER.email}" in str(refused.value)
    assert len(inbox.envelopes) == 1  # nothing went out
    send(store, planned.id, settings, user=OTHER, resend=True)
    assert len(inbox.envelopes) == 2
    assert store.read().get("Rencontres", planned.id)["introduction_envoyee_par"] == OTHER.email


def test_noting_a_mailto_sending_twice_needs_the_same_confirmation(store, planned):  # noqa: F811
    introduction.mark_sent(store, store.read(), USER, planned.id, channel="messagerie")
    with pytest.raises(AlreadySent):
        introduction.mark_sent(store, store.read(), OTHER, planned.id, channel="messagerie")
    introduction.mark_sent(store, store.read(), OTHER, planned.id, channel="messagerie", resend=True)
    assert store.read().get("Rencontres", planned.id)["introduction_envoyee_par"] == OTHER.email


def test_the_page_says_when_and_by_whom_and_asks_before_a_second_sending(app_workbook, monkeypatch, smtp_inbox):  # noqa: F811
    row = disclosable(snapshot(), user_of("admin@exemple.fr"))
    not_yet_sent(row)
    at = open_meeting(monkeypatch, row.id)
    at.button(key=f"reveal_{row.id}").click().run()
    at.checkbox(key=f"send_ok_{row.id}").check().run()
    at.button(key=f"send_{row.id}").click().run()
    ok(at)
    assert len(smtp_inbox.envelopes) == 1 and meeting(row.id)["introduction_envoyee_par"] == "admin@exemple.fr"
    at = open_meeting(monkeypatch, row.id)
    assert any("par admin@exemple.fr" in c.value.replace("\u2060", "") for c in at.caption)  # plain(): no autolink
    at.button(key=f"reveal_{row.id}").click().run()
    at.checkbox(key=f"send_ok_{row.id}").check().run()
    again = at.button(key=f"send_{row.id}")
    assert again.label == "Envoyer à nouveau" and again.disabled  # the reading box alone is not enough
    at.checkbox(key=f"resend_ok_{row.id}").check().run()
    at.button(key=f"send_{row.id}").click().run()
    ok(at)
    assert len(smtp_inbox.envelopes) == 2
