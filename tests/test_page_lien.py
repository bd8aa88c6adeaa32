"""The personal-link page through AppTest (?t=…), signed out: each purpose's form works once; a wrong, expired or
reused link gets a French message and shows nothing of the record."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ecole_entreprise.config import load_settings
from ecole_entreprise.domain.values import now_paris
from ecole_entreprise.services.kernel.access import SYSTEM_USER
from ecole_entreprise.services.links import actions, registry
from tests.support.apptest import app_store

ROOT = Path(__file__).resolve().parents[1]
SECRET = "clé de test des liens personnels"
PAST = (now_paris().date() - dt.timedelta(days=3)).isoformat()
FUTURE = (now_paris().date() + dt.timedelta(days=5)).isoformat()
STATES = {  # a meeting at the step each purpose is for
    registry.MEETING_ANSWER: {"statut": "proposée"},
    registry.EXPECTATIONS: {"statut": "planifiée", "date": FUTURE, "heure": "12:30", "lieu": "Dijon",
                            "format": "déjeuner", "visite": "aucune"},
    registry.CONCLUSIONS: {"statut": "planifiée", "date": PAST, "heure": "12:30", "lieu": "Dijon",
                           "format": "déjeuner", "visite": "aucune"},
}


@pytest.fixture(autouse=True)
def workbook(app_workbook, monkeypatch):
    monkeypatch.setenv("ECOLE_ENTREPRISE_LINK_SECRET", SECRET)
    monkeypatch.setenv("ECOLE_ENTREPRISE_PUBLIC_URL", "http://rencontres.test")
    return app_workbook


def a_target(purpose: str) -> tuple[str, str, str]:
    """(record id, party, what a valid link shows) for a new record at that step; for one's own record, the page
    title (the valid page shows no data at all: see test_a_registration_link_shows_no_data)."""
    store = app_store()
    snapshot = store.read(fresh=True)
    company, staff = snapshot.rows("Entreprises")[0], snapshot.rows("Personnels")[0]
    if purpose in (registry.CONFIRMATION, registry.WITHDRAWAL):
        titles = {registry.CONFIRMATION: "Confirmez votre inscription",
                  registry.WITHDRAWAL: "Ne plus participer au programme"}
        return company.id, registry.SELF, titles[purpose]
    if purpose == registry.EVENT_ANSWER:
        [row] = store.append("Evenements", [{"titre": "Portes ouvertes de l'atelier", "organisateur": "entreprise",
                                              "entreprise_id": company.id, "date": FUTURE, "lieu": "Atelier"}])
        return row.id, staff.id, "Portes ouvertes de l'atelier"
    extra = {"acceptation_entreprise": "2025-10-01 09:00:00", "acceptation_personnel": "2025-10-01 09:00:00"} \
        if purpose != registry.MEETING_ANSWER else {}
    [row] = store.append("Rencontres", [{"entreprise_id": company.id, "personnel_id": staff.id,
                                          "annee_scolaire": "2025-2026", **STATES[purpose], **extra}])
    return row.id, "personnel", company["raison_sociale"]


def issue(purpose: str, now=None) -> tuple[str, str]:
    record_id, party, shown = a_target(purpose)
    # A confirmation link is bound to the address it was sent to (see test_a_confirmation_sent_to_an_old_address…).
    address = app_store().read(fresh=True).get("Entreprises", record_id)["contact_email"] \
        if purpose == registry.CONFIRMATION else ""
    _row, token = registry.issue(app_store(), load_settings().links, SYSTEM_USER, purpose, record_id, party, now=now,
                                 tab="Entreprises", address=address)
    return token, shown


def open_link(token: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()  # nobody signed in
    at.switch_page("pages/lien.py")
    at.query_params["t"] = token
    at.run()
    assert not at.exception, at.exception
    return at


def page_text(at: AppTest) -> str:
    parts = [*at.title, *at.subheader, *at.markdown, *at.caption, *at.error, *at.success, *at.warning]
    return " ".join(str(p.value) for p in parts)


def assert_refused(at: AppTest, message: str, hidden: str) -> None:
    assert [e.value for e in at.error] and message in at.error[0].value
    assert hidden not in page_text(at).replace("\\", "")
    assert not at.text_area and not at.radio and not at.button  # no form at all


def use(token: str) -> None:
    """Answer through the service, as the person did in another browser."""
    store = app_store()
    link = registry.check(store.read(fresh=True), load_settings().links, token)
    answers = {
        registry.MEETING_ANSWER: lambda s: actions.answer_meeting(store, s, link, accept=True),
        registry.EXPECTATIONS: lambda s: actions.write_expectations(store, s, link, "Découvrir le métier"),
        registry.CONCLUSIONS: lambda s: actions.write_conclusions(store, s, link, conclusions="Très utile",
                                                                  satisfaction=4, comprehension=4, recommande=True,
                                                                  suites=["aucune"]),
        registry.EVENT_ANSWER: lambda s: actions.answer_event(store, s, link, True),
        registry.CONFIRMATION: lambda s: actions.confirm_registration(store, s, link),
        registry.WITHDRAWAL: lambda s: actions.withdraw(store, s, link),
    }
    answers[link.purpose](store.read(fresh=True))


PURPOSES = [registry.MEETING_ANSWER, registry.EXPECTATIONS, registry.CONCLUSIONS, registry.EVENT_ANSWER,
            registry.CONFIRMATION, registry.WITHDRAWAL]


@pytest.mark.parametrize("purpose", PURPOSES)
def test_wrong_link(purpose):
    token, shown = issue(purpose)
    head, _, signature = token.partition(".")
    for wrong in (token[:-2], head + "." + signature[::-1], "n-importe-quoi"):
        assert_refused(open_link(wrong), "Ce lien n'est pas valide", shown)


@pytest.mark.parametrize("purpose", PURPOSES)
def test_expired_link(purpose):
    token, shown = issue(purpose, now=now_paris() - dt.timedelta(days=31))
    assert_refused(open_link(token), "Ce lien a expiré", shown)


@pytest.mark.parametrize("purpose", PURPOSES)
def test_reused_link(purpose):
    token, shown = issue(purpose)
    assert shown in page_text(open_link(token)).replace("\\", "")  # valid: the page names what it is about
    use(token)
    assert_refused(open_link(token), "Ce lien a déjà servi", shown)


def test_accepting_through_the_page_then_the_link_is_spent():
    token, shown = issue(registry.MEETING_ANSWER)
    at = open_link(token)
    at.text_area[0].set_value("Le jeudi après-midi")
    at.button[0].click().run()  # « J'accepte la rencontre »
    assert "acceptation est enregistrée" in at.success[0].value
    link = next(r for r in app_store().read(fresh=True).rows("Liens") if r["reponse"] == "acceptée")
    meeting = app_store().read(fresh=True).get("Rencontres", link["cible_id"])
    assert meeting["acceptation_personnel"] and meeting["dates_proposees_personnel"] == "Le jeudi après-midi"
    assert_refused(open_link(token), "déjà servi", shown)


def test_declining_without_a_reason_shows_the_error_and_keeps_the_link():
    token, _shown = issue(registry.MEETING_ANSWER)
    at = open_link(token)
    at.button[1].click().run()  # « Je décline la rencontre », no reason
    assert any("obligatoire" in e.value for e in at.error)
    assert at.text_area  # the form is still there
    at.text_area[1].set_value("Pas de disponibilité avant juin")
    at.button[1].click().run()
    assert "n'aura pas lieu" in at.success[0].value


def test_conclusions_through_the_page_mark_the_meeting_held_then_reviewed():
    token, _shown = issue(registry.CONCLUSIONS)
    at = open_link(token)
    at.text_area[0].set_value("Nous prévoyons une visite avec une classe.")
    at.radio[0].set_value(5)
    at.radio[1].set_value(4)
    at.radio[2].set_value("Oui")
    at.multiselect[0].set_value(["invitation"])
    at.button[0].click().run()
    assert "conclusions" in at.success[0].value
    link = next(r for r in app_store().read(fresh=True).rows("Liens") if r["reponse"] == "conclusions écrites")
    meeting = app_store().read(fresh=True).get("Rencontres", link["cible_id"])
    assert meeting["statut"] == "bilan saisi" and meeting["satisfaction_personnel"] == "5"


def test_event_answer_through_the_page_is_counted():
    token, _shown = issue(registry.EVENT_ANSWER)
    at = open_link(token)
    at.button[0].click().run()  # « Je viens »
    assert "votre venue" in at.success[0].value
    link = next(r for r in app_store().read(fresh=True).rows("Liens") if r["objet"] == registry.EVENT_ANSWER)
    assert actions.attendance(app_store().read(fresh=True), link["cible_id"])["vient"] == 1


def test_a_registration_link_shows_no_data_and_confirms():
    token, _title = issue(registry.CONFIRMATION)
    company = app_store().read(fresh=True).rows("Entreprises")[0]
    at = open_link(token)
    text = page_text(at).replace("\\", "")
    for value in (company["raison_sociale"], company["contact_nom"], company["contact_email"]):
        assert value not in text
    at.button[0].click().run()  # « Je confirme mon inscription »
    assert "inscription est confirmée" in at.success[0].value
    assert actions.confirmed(app_store().read(fresh=True), "Entreprises", company.id)


def test_a_confirmation_sent_to_an_old_address_is_refused_and_shows_nothing():
    token, title = issue(registry.CONFIRMATION)
    company = app_store().read(fresh=True).rows("Entreprises")[0]
    app_store().update("Entreprises", company.id, {"contact_email": "nouvelle.adresse@exemple.fr"}, company.fingerprint)
    assert_refused(open_link(token), "Ce lien n'est pas valide", title)


def test_the_double_opt_in_link_confirms_a_registration_waiting_for_it_once():
    """Moved from the inscription page's former « ?confirmer= » link: the record waits « à confirmer », the link
    of its email (opened on this page) moves it to « à valider »; an altered link or a second click does nothing."""
    from ecole_entreprise.mail import MemoryMailer
    from ecole_entreprise.services.census import registration

    settings, outbox = load_settings(), MemoryMailer()
    store = app_store()
    values = {"civilite": "Mme", "nom": "Démo-Lien", "prenom": "Inès", "fonction": "professeur",
              "code_postal": "25000", "commune_insee": "25056", "email": "demo.ines.lien@ac-besancon.fr",
              "canal": "salon REE"}
    result = registration.submit(store, store.read(fresh=True), "Personnels", values, {"participation": True}, "",
                                 "client", now_paris() - dt.timedelta(minutes=5), limiter=registration.RateLimiter(),
                                 settings=settings.registration,
                                 opt_in=registration.OptIn(settings.registration, outbox, settings.links))
    assert store.read(fresh=True).get("Personnels", result.row_id)["statut"] == "à confirmer"
    [mail] = outbox.outbox
    confirm, _withdraw = re.findall(r"http://rencontres\.test/lien\?t=(\S+)", mail.body)
    assert_refused(open_link(confirm[:-3] + "xyz"), "Ce lien n'est pas valide", "Démo-Lien")
    at = open_link(confirm)
    for name in ("nom", "prenom", "email"):
        assert values[name] not in page_text(at).replace("\\", "")  # a forwarded link shows nobody's data
    at.button[0].click().run()  # « Je confirme mon inscription »
    assert "inscription est confirmée" in at.success[0].value
    assert store.read(fresh=True).get("Personnels", result.row_id)["statut"] == "à valider"
    assert_refused(open_link(confirm), "Ce lien a déjà servi", "Démo-Lien")


def test_withdrawing_needs_the_box_ticked_then_clears_the_consents():
    token, _title = issue(registry.WITHDRAWAL)
    company = app_store().read(fresh=True).rows("Entreprises")[0]
    at = open_link(token)
    assert at.button[0].disabled
    at.checkbox[0].check().run()
    at.button[0].click().run()
    assert "retrait est enregistré" in at.success[0].value
    assert app_store().read(fresh=True).get("Entreprises", company.id)["consentement_participation"] == ""


@pytest.fixture
def smtp_sink(monkeypatch):
    """A loopback SMTP server, configured as the app's [smtp] section (as tests/test_page_rencontres.py)."""
    from dataclasses import replace

    from aiosmtpd.controller import Controller

    import pages._shared as shared
    from ecole_entreprise.config import SmtpSettings
    from tests.test_introduction import Inbox, free_port

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    smtp = SmtpSettings(host="127.0.0.1", port=controller.port, starttls=False, sender="ecole-entreprise@exemple.fr")
    monkeypatch.setattr(shared, "load_settings", lambda: replace(load_settings(), smtp=smtp))
    yield inbox
    controller.stop()


def test_a_self_registration_sends_its_confirmation_link_and_the_link_confirms(smtp_sink):
    import email
    import email.policy
    import re

    from tests.test_page_inscription import COMPANY, fill_company, open_public, send

    at = open_public("pages/inscription_entreprise.py")
    fill_company(at)
    at.checkbox(key=f"{COMPANY}_participation").check()
    send(at)
    assert any("ouvrez le lien qu'il contient" in s.value for s in at.success)
    [envelope] = smtp_sink.envelopes
    assert envelope.rcpt_tos == ["demo.helene@exemple-inscrite.fr"]
    body = email.message_from_bytes(envelope.content, policy=email.policy.default).get_body().get_content()
    confirm, withdraw = re.findall(r"http://rencontres\.test/lien\?t=(\S+)", body)
    page = open_link(confirm)
    page.button[0].click().run()
    assert "inscription est confirmée" in page.success[0].value
    [row] = [r for r in app_store().read(fresh=True).rows("Entreprises") if r["contact_email"] ==
             "demo.helene@exemple-inscrite.fr"]
    assert actions.confirmed(app_store().read(fresh=True), "Entreprises", row.id)
    assert "Ne plus participer au programme" in page_text(open_link(withdraw))


def test_a_signed_in_coordinator_opening_a_link_gets_the_same_page(monkeypatch):
    """The link page is outside the menu but reachable signed in too (a coordinator testing a link)."""
    from tests.support.apptest import ADMIN, open_page

    token, shown = issue(registry.MEETING_ANSWER)
    at = open_page(monkeypatch, ADMIN, "pages/lien.py", query={"t": token})
    assert not at.exception, at.exception
    assert shown in page_text(at).replace("\\", "") and at.button
