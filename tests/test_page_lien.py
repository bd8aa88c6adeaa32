"""The personal-link page through AppTest (?t=…), signed out: each purpose's form works once; a wrong, expired or
reused link gets a French message and shows nothing of the record."""

from __future__ import annotations

import datetime as dt
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
    """(record id, party, the counterpart's organisation a valid link shows) for a new record at that step."""
    store = app_store()
    snapshot = store.read(fresh=True)
    company, staff = snapshot.rows("Entreprises")[0], snapshot.rows("Personnels")[0]
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
    _row, token = registry.issue(app_store(), load_settings().links, SYSTEM_USER, purpose, record_id, party, now=now)
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
    }
    answers[link.purpose](store.read(fresh=True))


PURPOSES = [registry.MEETING_ANSWER, registry.EXPECTATIONS, registry.CONCLUSIONS, registry.EVENT_ANSWER]


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
