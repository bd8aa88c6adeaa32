"""Public self-registration pages through Streamlit's AppTest: no login, notice, consents, honeypot, rate limit."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ecole_entreprise.config import load_settings
from ecole_entreprise.services.census import registration
from ecole_entreprise.store import shared_store

ROOT = Path(__file__).resolve().parents[1]
COMPANY = "signup_Entreprises"
STAFF = "signup_Personnels"


@pytest.fixture
def workbook(app_workbook):
    """This test's own copy of the demo workbook (tests/conftest.py)."""
    return app_workbook


@pytest.fixture(autouse=True)
def limiter(monkeypatch):
    """A fresh rate limiter per test (the real one lives as long as the server process)."""
    fresh = registration.RateLimiter()
    monkeypatch.setattr(registration, "_limiter", fresh)
    return fresh



def rows(tab):
    return shared_store(load_settings()).read(fresh=True).rows(tab)


def open_public(page) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()  # nobody signed in: the login page, with the public pages in the menu
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def fill_company(at, **extra) -> None:
    values = {"raison_sociale": "Imprimerie Démo Inscrite", "code_postal": "39000", "contact_nom": "Inscrite",
              "contact_prenom": "Hélène", "contact_email": "demo.helene@exemple-inscrite.fr", **extra}
    for name, value in values.items():
        at.text_input(key=f"{COMPANY}_{name}").set_value(value)
    at.run()


def send(at) -> AppTest:
    at.button(key=f"{COMPANY}_send").click().run()
    assert not at.exception, at.exception
    return at


def messages(at) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "error", "success", "warning") for e in getattr(at, kind))


def test_the_form_shows_the_versioned_notice_and_unticked_consents(workbook):
    at = open_public("pages/inscription_entreprise.py")
    assert "Inscription entreprise" in [t.value for t in at.title]
    assert "notice d'information, version 2025-09" in messages(at)
    assert at.checkbox(key=f"{COMPANY}_participation").value is False
    assert at.checkbox(key=f"{COMPANY}_partage").value is False
    assert not any(t.key and t.key.endswith("_notes") for t in at.text_area)  # coordinators' notes stay internal
    css = " ".join(h.proto.body for h in at.get("html"))
    assert f".st-key-{COMPANY}_website" in css and "display: none" in css


def test_a_registration_lands_pending_with_its_consents(workbook):
    before = {r.id for r in rows("Entreprises")}
    at = open_public("pages/inscription_entreprise.py")
    fill_company(at)
    assert at.selectbox(key=f"{COMPANY}_commune_39000").value == "39300"  # Lons-le-Saunier
    at.checkbox(key=f"{COMPANY}_participation").check()
    send(at)
    [row] = [r for r in rows("Entreprises") if r.id not in before]
    assert row["statut"] == "à valider" and row["source"] == "auto-inscription"
    assert row["consentement_participation"] and not row["consentement_partage"]
    assert row["consentement_version"] == "2025-09" and row["consentement_source"] == "auto-inscription"
    assert row["departement"] == "39" and row["commune"] == "Lons-le-Saunier"
    assert any("Merci" in s.value for s in at.success)
    assert not any(b.key == f"{COMPANY}_send" for b in at.button)  # the form is replaced by the thanks


def test_without_the_participation_consent_nothing_is_written(workbook):
    before = len(rows("Entreprises"))
    at = open_public("pages/inscription_entreprise.py")
    fill_company(at)
    at.checkbox(key=f"{COMPANY}_partage").check()
    send(at)
    assert "Cochez la case de consentement" in messages(at)
    assert len(rows("Entreprises")) == before
    at.checkbox(key=f"{COMPANY}_participation").check()
    send(at)
    assert len(rows("Entreprises")) == before + 1


def test_the_honeypot_answers_thanks_and_writes_nothing(workbook):
    before = len(rows("Entreprises"))
    at = open_public("pages/inscription_entreprise.py")
    fill_company(at, website="http://spam.example")
    at.checkbox(key=f"{COMPANY}_participation").check()
    send(at)
    assert any("Merci" in s.value for s in at.success)
    assert len(rows("Entreprises")) == before


def test_field_errors_are_french_and_next_to_their_field(workbook):
    before = len(rows("Entreprises"))
    at = open_public("pages/inscription_entreprise.py")
    fill_company(at, contact_email="pas-un-email", siret="123")
    at.checkbox(key=f"{COMPANY}_participation").check()
    send(at)
    assert "Certaines informations sont à corriger" in messages(at)
    siret_column = next(c for c in at.columns if any(w.label == "SIRET" for w in c.text_input))
    assert any("SIRET" in m.value or "14 chiffres" in m.value for m in siret_column.markdown)
    email_column = next(c for c in at.columns if any(w.label == "Email du contact *" for w in c.text_input))
    assert any(":red[" in m.value for m in email_column.markdown)
    assert len(rows("Entreprises")) == before


def test_the_rate_limit_refuses_a_flood_from_one_session(workbook, monkeypatch):
    monkeypatch.setenv("ECOLE_ENTREPRISE_REGISTRATIONS_PER_ADDRESS_HOUR", "1")  # the setting, as configured
    at = open_public("pages/inscription_personnel.py")
    at.selectbox(key=f"{STAFF}_fonction").set_value("professeur")
    at.selectbox(key=f"{STAFF}_canal").set_value("salon REE")
    for name, value in {"nom": "Démo-Flot", "prenom": "Léo", "code_postal": "25000",
                        "email": "demo.leo.flot@ac-besancon.fr"}.items():
        at.text_input(key=f"{STAFF}_{name}").set_value(value)
    at.checkbox(key=f"{STAFF}_participation").check().run()
    before = len(rows("Personnels"))
    at.button(key=f"{STAFF}_send").click().run()
    assert len(rows("Personnels")) == before + 1
    at.button(key=f"{STAFF}_again").click().run()
    at.selectbox(key=f"{STAFF}_fonction").set_value("CPE")
    at.selectbox(key=f"{STAFF}_canal").set_value("CLEE")
    for name, value in {"nom": "Démo-Second", "prenom": "Lou", "code_postal": "25000",
                        "email": "demo.lou.second@ac-besancon.fr"}.items():
        at.text_input(key=f"{STAFF}_{name}").set_value(value)
    at.checkbox(key=f"{STAFF}_participation").check().run()
    at.button(key=f"{STAFF}_send").click().run()
    assert "Trop d'inscriptions" in messages(at), messages(at)
    assert len(rows("Personnels")) == before + 1


def test_the_coordinator_is_told_when_an_address_was_never_confirmed(workbook, monkeypatch):
    from tests.support.apptest import BESANCON, open_page

    pending = next(r for r in rows("Personnels") if r["statut"] == "à valider" and r["departement"] == "25")
    at = open_page(monkeypatch, BESANCON, "pages/personnels.py", query={"id": pending.id})
    assert not at.exception
    assert any("non confirmée" in c.value for c in at.caption), [c.value for c in at.caption]
