"""The disclosure rule held against an insider: the five cases that used to pass, and their neighbours.

Who records an acceptance (each side's own coordinator, or an admin journaled as such), what a consent must be
(a real date not in the future, a published notice version), and a fresh read before every disclosure.
"""

from __future__ import annotations

import pytest

from ecole_entreprise.domain.roles import ADMIN, COORD_ACADEMIE, COORD_CPME, User, parse_scope
from ecole_entreprise.services.kernel import journal
from ecole_entreprise.services.kernel.access import AccessDenied
from ecole_entreprise.services.meetings import introduction
from ecole_entreprise.services.meetings import lifecycle as meetings
from ecole_entreprise.services.meetings.introduction import IntroductionRefused
from ecole_entreprise.services.privacy.consent import give_consent, withdraw_consent
from ecole_entreprise.services.privacy.contacts import reveal_contacts
from ecole_entreprise.store.base import StoreError
from ecole_entreprise.store.cache import CachedStore
from tests.support.memory_store import MemoryStore, seed_programme

ADMIN_USER = User("admin@region.fr", ADMIN)
ACAD_BESANCON = User("coord@ac-besancon.fr", COORD_ACADEMIE, departements=parse_scope("Besançon"))
ACAD_DIJON = User("coord@ac-dijon.fr", COORD_ACADEMIE, departements=parse_scope("Dijon"))
CPME_DIJON = User("coord@cpme-21.fr", COORD_CPME, departements=parse_scope("21"))
CPME_DOUBS = User("coord@cpme-25.fr", COORD_CPME, departements=parse_scope("25, 39"))
PURPOSE = "organiser la rencontre"
CONSENT_HEADERS = {"partage": "Consentement partage coordonnées", "version": "Version notice consentement"}


@pytest.fixture
def store():
    return seed_programme(MemoryStore())


def journal_actions(store) -> list[str]:
    return [r["action"] for r in store.read().rows(journal.TAB)]


def refused_reveal(store, user, meeting_id) -> list[str]:
    """The French reasons of a refused reveal, after checking it left no journal entry."""
    before = journal_actions(store)
    with pytest.raises(AccessDenied) as caught:
        reveal_contacts(store, user, meeting_id, PURPOSE)
    assert journal_actions(store) == before
    return caught.value.reasons


# ---- 1. acceptance: each side by its own coordinator ------------------------------------------------------


def test_academie_coordinator_cannot_record_the_company_acceptance_then_reveal(store):
    """REN-M2 (ENT-E21 × PER-P25) is only proposed: the académie coordinator may accept for the staff member,
    never for the company, so the company's contacts stay hidden."""
    before = store.read().get("Rencontres", "REN-M2")
    meetings.accept(store, store.read(), ACAD_BESANCON, "REN-M2", "personnel")
    with pytest.raises(AccessDenied, match="coordinateur CPME"):
        meetings.accept(store, store.read(), ACAD_BESANCON, "REN-M2", "entreprise")
    row = store.read().get("Rencontres", "REN-M2")
    assert row["acceptation_personnel"] and row["acceptation_entreprise"] == before["acceptation_entreprise"] == ""
    assert "La rencontre n'a pas encore été acceptée par les deux parties." in \
        refused_reveal(store, ACAD_BESANCON, "REN-M2")
    # The company's own coordinator accepts: now the rule holds.
    meetings.accept(store, store.read(), CPME_DIJON, "REN-M2", "entreprise")
    assert reveal_contacts(store, ACAD_BESANCON, "REN-M2", PURPOSE)["id"] == "ENT-E21"


def test_cpme_coordinator_cannot_record_the_staff_acceptance(store):
    with pytest.raises(AccessDenied, match="coordinateur académique"):
        meetings.accept(store, store.read(), CPME_DIJON, "REN-M2", "personnel")
    assert store.read().get("Rencontres", "REN-M2")["acceptation_personnel"] == ""
    assert journal_actions(store) == []


def test_admin_may_record_either_acceptance_and_the_journal_says_so(store):
    meetings.accept(store, store.read(), ADMIN_USER, "REN-M2", "entreprise")
    meetings.accept(store, store.read(), ADMIN_USER, "REN-M2", "personnel")
    entries = [(r["acteur"], r["details"]) for r in store.read().rows(journal.TAB)]
    assert entries == [
        (ADMIN_USER.email, "acceptation côté entreprise enregistrée par l'administrateur"),
        (ADMIN_USER.email, "proposée → acceptée ; acceptation côté personnel enregistrée par l'administrateur")]


# ---- 2-4. what a consent must be -------------------------------------------------------------------------


def test_notice_version_na_blocks_disclosure(store):
    assert reveal_contacts(store, CPME_DOUBS, "REN-M1", PURPOSE)["id"] == "PER-P21"
    store.set_cell("Personnels", "PER-P21", CONSENT_HEADERS["version"], "n/a")
    reasons = refused_reveal(store, CPME_DOUBS, "REN-M1")
    assert any("« n/a »" in r and "pas été publiée" in r for r in reasons)
    with pytest.raises(StoreError, match="Version de notice inconnue « n/a »"):
        give_consent(store, store.read(), ACAD_DIJON, "Personnels", "PER-P21", "partage", "coordinateur",
                     notice_version="n/a")


def test_consent_date_oui_blocks_disclosure(store):
    store.set_cell("Personnels", "PER-P21", CONSENT_HEADERS["partage"], "oui")
    reasons = refused_reveal(store, CPME_DOUBS, "REN-M1")
    assert "Le consentement de le personnel à partager ses coordonnées n'est pas une date (« oui ») : " \
           "enregistrez-le depuis la fiche." in reasons


def test_consent_date_in_2099_blocks_disclosure(store):
    store.set_cell("Entreprises", "ENT-E25", CONSENT_HEADERS["partage"], "2099-01-01 10:00:00")
    reasons = refused_reveal(store, ACAD_DIJON, "REN-M1")
    assert any("dans le futur (2099-01-01 10:00:00)" in r for r in reasons)


def test_an_older_published_version_counts_and_an_unpublished_one_does_not(store):
    store.append("Parametres", [{"cle": "version_notice", "valeur": "2026-09"},
                                {"cle": "versions_notice_publiees", "valeur": "2024-09, 2025-09"}])
    assert reveal_contacts(store, CPME_DOUBS, "REN-M1", PURPOSE)["id"] == "PER-P21"  # cites 2025-09
    store.set_cell("Personnels", "PER-P21", CONSENT_HEADERS["version"], "2026-03")
    assert any("« 2026-03 »" in r for r in refused_reveal(store, CPME_DOUBS, "REN-M1"))
    row = give_consent(store, store.read(), ACAD_DIJON, "Personnels", "PER-P21", "partage", "coordinateur")
    assert row["consentement_version"] == "2026-09"  # the version in force is always published
    assert reveal_contacts(store, CPME_DOUBS, "REN-M1", PURPOSE)["id"] == "PER-P21"


# ---- 5. a fresh read before every disclosure --------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cached(store):
    """The app's read cache (60 s) over the sheet, and the sheet itself (a person edits it directly)."""
    clock = Clock()
    return CachedStore(store, ttl_s=60, clock=clock), store, clock


def test_prepare_after_a_withdrawal_is_refused(cached):
    app, sheet, clock = cached
    snapshot = app.read()  # what a page holds, up to a minute old
    sheet.set_cell("Personnels", "PER-P21", CONSENT_HEADERS["partage"], "")  # withdrawn in the sheet
    clock.now = 30.0
    assert app.read().get("Personnels", "PER-P21")["consentement_partage"]  # the cache has not seen it
    with pytest.raises(IntroductionRefused) as caught:
        introduction.prepare(snapshot, ADMIN_USER, "REN-M1", store=app, signature="C. Roy")
    assert "Le personnel n'a pas consenti au partage de ses coordonnées." in caught.value.reasons
    with pytest.raises(IntroductionRefused):
        introduction.mark_sent(app, snapshot, ADMIN_USER, "REN-M1")
    assert journal_actions(sheet) == []  # no email built, nothing journaled as disclosed


def test_prepare_after_a_withdrawal_through_another_server_is_refused(cached):
    app, sheet, _ = cached
    snapshot = app.read()
    other_server = CachedStore(sheet, ttl_s=60)
    withdraw_consent(other_server, other_server.read(), CPME_DOUBS, "Entreprises", "ENT-E25", "participation")
    with pytest.raises(IntroductionRefused, match="L'entreprise n'a pas donné son consentement à participer"):
        introduction.prepare(snapshot, ADMIN_USER, "REN-M1", store=app, signature="C. Roy")
    assert journal_actions(sheet) == ["retrait consentement"]


def test_reveal_after_a_withdrawal_is_refused_although_the_cache_is_young(cached):
    app, sheet, clock = cached
    app.read()
    sheet.set_cell("Personnels", "PER-P21", CONSENT_HEADERS["partage"], "")
    clock.now = 1.0
    with pytest.raises(AccessDenied, match="pas consenti au partage"):
        reveal_contacts(app, CPME_DOUBS, "REN-M1", PURPOSE)


def test_prepare_while_the_rule_holds_is_journaled(cached):
    app, sheet, _ = cached
    mail = introduction.prepare(app.read(), ADMIN_USER, "REN-M1", store=app, signature="C. Roy")
    assert "canari.per-p21@ac-exemple.fr" in mail.to
    assert journal_actions(sheet) == ["préparation mise en relation"]
