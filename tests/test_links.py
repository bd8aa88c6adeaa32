"""Personal links: HMAC tokens, the Liens tab (expiry, single use, revocation), each purpose's action through the
meeting lifecycle, the journal, and link emails delivered by real SMTP on loopback."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import re

import pytest

from ecole_entreprise.config import LinkSettings, SmtpSettings
from ecole_entreprise.domain.values import now_paris
from ecole_entreprise.mail import SmtpMailer
from ecole_entreprise.services.links import actions, mail, registry, tokens
from ecole_entreprise.services.links.registry import LinkRefused
from ecole_entreprise.services.meetings.lifecycle import MeetingInvalid
from tests.test_introduction import Inbox, free_port  # noqa: F401  (the loopback SMTP sink)
from tests.test_meetings import CONSENT, USER, SheetStore, add_company, add_meeting, add_staff

LINKS = LinkSettings(secret="une clé de test assez longue", public_url="http://rencontres.test", days=10)


@pytest.fixture
def store():
    return SheetStore()


@pytest.fixture
def meeting(store):
    return add_meeting(store, add_company(store), add_staff(store))


def issue(store, purpose, record_id, party, now=None):
    return registry.issue(store, LINKS, USER, purpose, record_id, party, now=now)


def opened(store, token, now=None):
    return registry.check(store.read(), LINKS, token, now=now)


def journal_actions(store, record_id):
    return [r["action"] for r in store.read().rows("Journal") if r["cible_id"] == record_id]


# ---- tokens ------------------------------------------------------------------------------------------------


def test_a_token_round_trips_and_any_change_or_other_key_is_refused():
    payload = tokens.Payload("attendus", "REN-1", "entreprise", 2_000_000_000, "LIE-ABC")
    token = tokens.sign("clé A", payload)
    assert tokens.verify("clé A", token) == payload
    signature = token.split(".")[1]
    with pytest.raises(tokens.BadToken):
        tokens.verify("clé B", token)
    forged = tokens.sign("clé A", dataclasses.replace(payload, party="personnel")).split(".")[0]
    with pytest.raises(tokens.BadToken):
        tokens.verify("clé A", f"{forged}.{signature}")  # another payload under this signature
    for broken in ("", "abc", token + "x", "é." + signature, "." + signature):
        with pytest.raises(tokens.BadToken):
            tokens.verify("clé A", broken)


# ---- the Liens tab -----------------------------------------------------------------------------------------


def test_an_issued_link_opens_once_then_is_refused_as_used(store, meeting):
    row, token = issue(store, registry.MEETING_ANSWER, meeting.id, "entreprise")
    assert row["statut"] == "actif" and row["cible_tab"] == "Rencontres"
    link = opened(store, token)
    assert (link.purpose, link.record_id, link.party) == (registry.MEETING_ANSWER, meeting.id, "entreprise")
    actions.answer_meeting(store, store.read(), link, accept=True)
    with pytest.raises(LinkRefused, match="déjà servi"):
        opened(store, token)
    assert store.read().get("Liens", row.id)["statut"] == "utilisé"
    assert store.read().get("Liens", row.id)["reponse"] == "acceptée"


def test_expired_wrong_and_revoked_links_are_refused_with_french_messages(store, meeting):
    start = now_paris()
    row, token = issue(store, registry.EXPECTATIONS, meeting.id, "personnel", now=start)
    assert opened(store, token, now=start + dt.timedelta(days=9))
    with pytest.raises(LinkRefused, match="expiré"):
        opened(store, token, now=start + dt.timedelta(days=10, seconds=1))
    with pytest.raises(LinkRefused, match="pas valide"):
        registry.check(store.read(), LinkSettings(secret="une autre clé de seize car."), token)
    with pytest.raises(LinkRefused, match="pas valide"):
        opened(store, token[:-3] + "AAA")
    registry.revoke(store, store.read(), USER, row.id)
    with pytest.raises(LinkRefused, match="révoqué"):
        opened(store, token)
    assert "lien révoqué" in journal_actions(store, meeting.id)


def test_a_coordinator_shortening_or_deleting_the_row_closes_the_link(store, meeting):
    row, token = issue(store, registry.EXPECTATIONS, meeting.id, "personnel")
    store.human_edit("Liens", row.id, expire_le="2020-01-01 00:00:00")
    with pytest.raises(LinkRefused, match="expiré"):
        opened(store, token)
    store.delete("Liens", [row.id])
    with pytest.raises(LinkRefused, match="pas valide"):
        opened(store, token)


def test_without_a_secret_no_link_is_issued_nor_accepted(store, meeting):
    with pytest.raises(registry.LinksNotConfigured):
        registry.issue(store, LinkSettings(secret="court"), USER, registry.EXPECTATIONS, meeting.id, "personnel")
    _row, token = issue(store, registry.EXPECTATIONS, meeting.id, "personnel")
    with pytest.raises(registry.LinksNotConfigured):
        registry.check(store.read(), LinkSettings(), token)


def test_the_token_is_the_same_each_time_for_a_row(store, meeting):
    row, token = issue(store, registry.CONCLUSIONS, meeting.id, "entreprise")
    assert registry.token_for(LINKS, store.read().get("Liens", row.id)) == token


# ---- actions through the lifecycle -------------------------------------------------------------------------


def test_both_parties_accept_through_their_links_and_the_meeting_becomes_accepted(store, meeting):
    _r1, company_token = issue(store, registry.MEETING_ANSWER, meeting.id, "entreprise")
    _r2, staff_token = issue(store, registry.MEETING_ANSWER, meeting.id, "personnel")
    actions.answer_meeting(store, store.read(), opened(store, company_token), accept=True,
                           dates="mardi 3 ou jeudi 5 février")
    after_one = store.read().get("Rencontres", meeting.id)
    assert after_one["statut"] == "proposée" and after_one["acceptation_entreprise"]
    assert after_one["dates_proposees_entreprise"] == "mardi 3 ou jeudi 5 février"
    actions.answer_meeting(store, store.read(), opened(store, staff_token), accept=True)
    assert store.read().get("Rencontres", meeting.id)["statut"] == "acceptée"
    done = journal_actions(store, meeting.id)
    assert done.count("lien utilisé") == 2 and "transition rencontre" in done and "dates proposées" in done
    actors = {r["acteur"] for r in store.read().rows("Journal") if r["action"] == "transition rencontre"}
    assert actors == {f"lien {_r2.id} (personnel)"}


def test_declining_needs_a_reason_and_refuses_the_meeting(store, meeting):
    _row, token = issue(store, registry.MEETING_ANSWER, meeting.id, "personnel")
    with pytest.raises(MeetingInvalid, match="obligatoire"):
        actions.answer_meeting(store, store.read(), opened(store, token), accept=False, reason="  ")
    assert opened(store, token)  # nothing written: the link still works
    actions.answer_meeting(store, store.read(), opened(store, token), accept=False, reason="Pas disponible ce mois")
    saved = store.read().get("Rencontres", meeting.id)
    assert saved["statut"] == "refusée" and saved["motif"] == "Refus côté personnel : Pas disponible ce mois"


def test_a_link_does_only_its_own_purpose(store, meeting):
    _row, token = issue(store, registry.EXPECTATIONS, meeting.id, "entreprise")
    with pytest.raises(LinkRefused):
        actions.answer_meeting(store, store.read(), opened(store, token), accept=True)
    assert store.read().get("Rencontres", meeting.id)["acceptation_entreprise"] == ""


def test_expectations_then_conclusions_by_each_side(store):
    meeting = add_meeting(store, add_company(store), add_staff(store), statut="planifiée",
                          acceptation_entreprise=CONSENT, acceptation_personnel=CONSENT, date="2026-01-19",
                          heure="12:30", lieu="Dijon", format="déjeuner", visite="aucune")
    _r, token = issue(store, registry.EXPECTATIONS, meeting.id, "entreprise")
    actions.write_expectations(store, store.read(), opened(store, token), "Comprendre le lycée professionnel")
    assert store.read().get("Rencontres", meeting.id)["attendus_entreprise"] == "Comprendre le lycée professionnel"
    for side in ("personnel", "entreprise"):
        _r, token = issue(store, registry.CONCLUSIONS, meeting.id, side)
        actions.write_conclusions(store, store.read(), opened(store, token), conclusions=f"Bilan {side}",
                                  satisfaction=5, comprehension=4, recommande=True, suites=["invitation"],
                                  today=dt.date(2026, 1, 20))
    saved = store.read().get("Rencontres", meeting.id)
    assert saved["statut"] == "bilan saisi"
    assert (saved["conclusions_personnel"], saved["conclusions_entreprise"]) == ("Bilan personnel", "Bilan entreprise")
    assert saved["satisfaction_entreprise"] == "5" and saved["suite_envisagee"] == "invitation"


def test_the_view_shows_the_counterparts_organisation_never_a_name_or_contact(store, meeting):
    _r, token = issue(store, registry.MEETING_ANSWER, meeting.id, "personnel")
    shown = " ".join(actions.view(store.read(), opened(store, token)).lines)
    assert "Menuiserie Alpha" in shown
    for secret in ("Léa", "Martin", "lea.martin@alpha.fr", "0380000000", "Paul", "Durand"):
        assert secret not in shown


def test_event_answers_are_counted(store):
    company = add_company(store)
    staff = [add_staff(store, nom=f"P{i}", email=f"p{i}@ac-dijon.fr") for i in range(3)]
    [event] = store.append("Evenements", [{"titre": "Portes ouvertes", "organisateur": "entreprise",
                                           "entreprise_id": company.id, "date": "2026-03-12", "lieu": "Atelier"}])
    answers = [True, False]
    for person, comes in zip(staff, answers, strict=False):
        _r, token = issue(store, registry.EVENT_ANSWER, event.id, person.id)
        actions.answer_event(store, store.read(), opened(store, token), comes)
    issue(store, registry.EVENT_ANSWER, event.id, staff[2].id)
    assert actions.attendance(store.read(), event.id) == {"vient": 1, "ne vient pas": 1, "sans réponse": 1}


# ---- sending by SMTP ---------------------------------------------------------------------------------------


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, SmtpMailer(SmtpSettings(host="127.0.0.1", port=controller.port, starttls=False,
                                         sender="ecole-entreprise@ac-dijon.fr"))
    controller.stop()


def link_in(envelope) -> str:
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    return re.search(r"http://rencontres\.test/lien\?t=(\S+)", message.get_body().get_content()).group(1)


def test_each_side_gets_its_own_link_by_mail_and_the_link_works(store, meeting, smtp_server):
    inbox, mailer = smtp_server
    sent = mail.send_meeting_links(store, store.read(), USER, LINKS, mailer, meeting.id, registry.MEETING_ANSWER)
    assert len(sent) == 2 and len(inbox.envelopes) == 2
    assert sorted(e.rcpt_tos[0] for e in inbox.envelopes) == ["lea.martin@alpha.fr", "paul.durand@ac-dijon.fr"]
    parties = {opened(store, link_in(e)).party for e in inbox.envelopes}
    assert parties == {"entreprise", "personnel"}
    company_mail = next(e for e in inbox.envelopes if e.rcpt_tos == ["lea.martin@alpha.fr"]).content.decode()
    assert "paul.durand" not in company_mail  # the other side's address is never in a link email
    assert journal_actions(store, meeting.id).count("lien envoyé") == 2
    mail.send_meeting_links(store, store.read(), USER, LINKS, mailer, meeting.id, registry.MEETING_ANSWER)
    assert link_in(inbox.envelopes[2]) == link_in(inbox.envelopes[0])  # sent again: the same link
    assert [r["objet"] for r in store.read().rows("Liens")].count(registry.MEETING_ANSWER) == 2


def test_an_event_invites_the_partners_met_and_each_gets_a_working_link(store, smtp_server):
    inbox, mailer = smtp_server
    company, staff, other = add_company(store), add_staff(store), add_staff(store, nom="Loin", email="l@ac.fr")
    add_meeting(store, company, staff)
    [event] = store.append("Evenements", [{"titre": "Journée portes ouvertes", "organisateur": "entreprise",
                                           "entreprise_id": company.id, "date": "2026-03-12"}])
    assert [party for party, _ in mail.invitable(store.read(), event.id)] == [staff.id]
    mail.send_event_link(store, store.read(), USER, LINKS, mailer, event.id, staff.id)
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["paul.durand@ac-dijon.fr"] and other.id not in envelope.content.decode()
    link = opened(store, link_in(envelope))
    actions.answer_event(store, store.read(), link, comes=True)
    assert actions.attendance(store.read(), event.id) == {"vient": 1, "ne vient pas": 0, "sans réponse": 0}
    assert "lien envoyé" in journal_actions(store, event.id) and "lien utilisé" in journal_actions(store, event.id)


# ---- self-registration: double opt-in, withdrawal in every email ------------------------------------------


def urls_in(envelope) -> list[str]:
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    return re.findall(r"http://rencontres\.test/lien\?t=(\S+)", message.get_body().get_content())


def test_a_self_registration_is_confirmed_by_its_link_and_withdrawn_by_the_other(store, smtp_server):
    inbox, mailer = smtp_server
    company = add_company(store, consentement_participation=CONSENT, consentement_partage=CONSENT,
                          statut="à valider")
    mail.send_registration_links(store, store.read(), LINKS, mailer, "Entreprises", company.id)
    [envelope] = inbox.envelopes
    confirm_token, withdraw_token = urls_in(envelope)
    confirm = opened(store, confirm_token)
    assert confirm.purpose == registry.CONFIRMATION and confirm.row["cible_tab"] == "Entreprises"
    shown = " ".join(actions.view(store.read(), confirm).lines)
    assert "Menuiserie Alpha" not in shown and "Léa" not in shown  # a forwarded link shows nobody's data
    assert not actions.confirmed(store.read(), "Entreprises", company.id)
    actions.confirm_registration(store, store.read(), confirm)
    assert actions.confirmed(store.read(), "Entreprises", company.id)
    actions.withdraw(store, store.read(), opened(store, withdraw_token))
    saved = store.read().get("Entreprises", company.id)
    assert saved["consentement_participation"] == "" and saved["consentement_partage"] == ""
    assert journal_actions(store, company.id).count("retrait consentement") == 2


def test_every_email_to_a_participant_carries_a_withdrawal_link(store, meeting, smtp_server):
    inbox, mailer = smtp_server
    mail.send_meeting_links(store, store.read(), USER, LINKS, mailer, meeting.id, registry.MEETING_ANSWER)
    for envelope in inbox.envelopes:
        answer, withdraw = (opened(store, token) for token in urls_in(envelope))
        assert answer.purpose == registry.MEETING_ANSWER and withdraw.purpose == registry.WITHDRAWAL
        assert withdraw.row["cible_tab"] == {"entreprise": "Entreprises", "personnel": "Personnels"}[answer.party]
