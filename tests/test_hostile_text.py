"""Text typed in forms: control characters other than tab and line breaks are refused next to their field, and a
lone surrogate (which a browser can send) is refused the same way without crashing anything on its path."""

from datetime import datetime

import pytest

from ecole_entreprise.domain.roles import ADMIN, User
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.domain.validation import character_problem, validate_record
from ecole_entreprise.services.census import records as census
from ecole_entreprise.services.census import registration
from ecole_entreprise.services.kernel.field_checks import run_checks, text_check
from ecole_entreprise.store.base import fingerprint
from ecole_entreprise.store.workbook import WorkbookStore

ADMIN_USER = User(email="admin@exemple.fr", role=ADMIN)
COMPANY = {"raison_sociale": "Menuiserie Démo Lambert", "code_postal": "21000", "commune_insee": "21231",
           "contact_nom": "Lambert", "contact_prenom": "Léa", "contact_email": "lea.lambert@exemple-entreprise.fr"}


@pytest.fixture
def store(tmp_path):
    store = WorkbookStore(default_schema(), tmp_path / "texte.xlsx")
    store.init()
    return store


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ud800", "\udfff"])
def test_forbidden_characters_are_named(char):
    message = character_problem(f"Abc{char}def")
    assert f"U+{ord(char):04X}" in message and "position 4" in message


def test_tab_and_line_breaks_are_text():
    assert character_problem("ligne 1\nligne 2\tcolonne\r\nfin") == ""
    result = validate_record(default_schema().tab("Entreprises"), {**COMPANY, "notes": "a\tb\nc"})
    assert "notes" not in result.errors and result.clean["notes"] == "a\tb\nc"


@pytest.mark.parametrize("field,text", [("raison_sociale", "Menuiserie\x1b[31m Lambert"),
                                        ("contact_nom", "Lam\ud83dbert"), ("contact_email", "lea\x00@exemple.fr")])
def test_census_form_refuses_next_to_the_field_and_writes_nothing(store, field, text):
    result = census.create(store, store.read(), ADMIN_USER, "Entreprises", {**COMPANY, field: text})
    assert not result.ok and "position" in result.errors[field]
    assert store.read().rows("Entreprises") == []


def test_meeting_texts_refuse_control_characters():
    values, errors = run_checks({"motif": text_check("Rencontres", "motif", "Empêché\x08")})
    assert values == {} and "U+0008" in errors["motif"]


def test_public_registration_with_a_lone_surrogate_is_refused_in_french(store):
    values = {"civilite": "Mme", "nom": "Fontaine\udc80", "prenom": "Claire", "fonction": "professeur",
              "code_postal": "25000", "commune_insee": "25056", "email": "claire.fontaine@ac-besancon.fr",
              "canal": "salon REE"}
    result = registration.submit(store, store.read(), "Personnels", values, {"participation": True}, "",
                                 "client", datetime(2026, 2, 3, 14, 0), limiter=registration.RateLimiter())
    assert not result.accepted and "U+DC80" in result.errors["nom"]
    assert store.read().rows("Personnels") == []


def test_fingerprint_of_a_cell_holding_a_lone_surrogate():
    tab = default_schema().tab("Entreprises")
    assert fingerprint(tab, {"raison_sociale": "A\ud800"}) != fingerprint(tab, {"raison_sociale": "A"})
