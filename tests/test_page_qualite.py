"""Data-quality page: anomalies are shown to each coordinator for their own side, and an invalid contact value is
never sent to a role that may not see it (distinctive "canary" values planted in the data)."""

import pytest

from ecole_entreprise.domain.roles import ADMIN as ADMIN_ROLE
from ecole_entreprise.domain.roles import COMITE as COMITE_ROLE
from ecole_entreprise.domain.roles import COORD_ACADEMIE, COORD_CPME, User
from ecole_entreprise.services.kernel import access
from ecole_entreprise.services.kernel.users import find_user
from tests.support.apptest import ADMIN, BESANCON, COMITE, CPME, DIJON, app_store, open_page
from tests.support.sent import RecordingStorage, everything_sent, record_media  # noqa: F401 (autouse fixture)

CANARY_ENT = {"contact_email": "canari-ent-contact@exemple.fr", "contact_telephone": "+33399000001",
              "attendus": "canari-ent-attendus"}
CANARY_PER = {"email": "canari.per@ac-dijon.fr", "telephone": "+33399000002", "attendus": "canari-per-attendus"}
# Invalid values are shown on the data-quality page: they are still someone's contact details.
BAD_ENT = {"contact_email": "canari-ent-invalide.exemple.fr", "contact_telephone": "canari-tel-ent"}
BAD_PER = {"email": "canari-per-invalide.ac-dijon.fr", "telephone": "canari-tel-per"}


def plant_canaries():
    """A company in Côte-d'Or (CPME 21 scope) and a staff member in Dijon, with a proposed meeting (no disclosure)."""
    store = app_store()
    [company] = store.append("Entreprises", [{
        "raison_sociale": "Canari Industries", "code_postal": "21000", "commune_insee": "21231", "commune": "Dijon",
        "departement": "21", "contact_nom": "Canari", "contact_prenom": "Cécile", **CANARY_ENT, "statut": "validé",
        "consentement_participation": "2026-10-01 10:00:00", "formats": "déjeuner", "thematiques": "management"}])
    [staff] = store.append("Personnels", [{
        "nom": "Canari", "prenom": "Paul", "fonction": "professeur", "code_postal": "21000", "commune_insee": "21231",
        "commune": "Dijon", "departement": "21", "academie": "Dijon", "canal": "CLEE", **CANARY_PER,
        "statut": "validé", "consentement_participation": "2026-10-01 10:00:00", "formats": "déjeuner"}])
    store.append("Rencontres", [{"entreprise_id": company.id, "personnel_id": staff.id,
                                 "annee_scolaire": "2026-2027", "statut": "proposée"}])
    store.append("Entreprises", [{"raison_sociale": "Canari Mal Saisi", "code_postal": "21000",
                                  "commune_insee": "21231", "departement": "21", "contact_nom": "Saisi",
                                  "contact_prenom": "Mal", **BAD_ENT}])
    store.append("Personnels", [{"nom": "Saisi", "prenom": "Mal", "fonction": "CPE", "code_postal": "21000",
                                 "commune_insee": "21231", "departement": "21", "canal": "CLEE", **BAD_PER}])
    return company, staff


ROLE_OF = {ADMIN: ADMIN_ROLE, DIJON: COORD_ACADEMIE, CPME: COORD_CPME, COMITE: COMITE_ROLE}


def quality_users():
    """Every demo user whose navigation holds the data-quality page."""
    return [email for email, role in ROLE_OF.items() if "qualite" in access.pages_for(User(email=email, role=role))]


@pytest.mark.parametrize("email", quality_users())
def test_quality_page_sends_no_invalid_value_of_the_other_side(app_workbook, monkeypatch, email):
    """An invalid e-mail or phone typed into the sheet is still someone's contact: only their side may see it.
    (Every other page × role is covered by test_privacy_pages.py.)"""
    plant_canaries()
    user = find_user(app_store().read(), email)
    at = open_page(monkeypatch, email, "pages/qualite.py")
    assert not at.exception, [e.value for e in at.exception]
    sent = everything_sent(at)
    if user.role not in ("admin", "coordinateur CPME"):
        assert [v for v in [*CANARY_ENT.values(), *BAD_ENT.values()] if v in sent] == []
    if user.role not in ("admin", "coordinateur académie"):
        assert [v for v in [*CANARY_PER.values(), *BAD_PER.values()] if v in sent] == []


@pytest.mark.parametrize("email,tab,canary", [(CPME, "Entreprises", CANARY_ENT["contact_email"]),
                                              (DIJON, "Personnels", CANARY_PER["email"]),
                                              (ADMIN, "Personnels", CANARY_PER["telephone"])])
def test_positive_control_own_side_receives_its_contacts(app_workbook, monkeypatch, email, tab, canary):
    """The canary search can fail: the coordinator of the person's own side does receive the value."""
    company, staff = plant_canaries()
    record = company if tab == "Entreprises" else staff
    at = open_page(monkeypatch, email, f"pages/{tab.lower()}.py", query={"id": record.id})
    assert not at.exception
    assert canary in everything_sent(at)


@pytest.mark.parametrize("email,canary", [(CPME, BAD_ENT["contact_email"]), (DIJON, BAD_PER["email"]),
                                          (ADMIN, BAD_PER["telephone"])])
def test_positive_control_quality_page_shows_own_side_bad_values(app_workbook, monkeypatch, email, canary):
    plant_canaries()
    at = open_page(monkeypatch, email, "pages/qualite.py")
    assert canary in everything_sent(at)


@pytest.mark.parametrize("email,tab", [(DIJON, "Entreprises"), (CPME, "Personnels")])
def test_counterpart_record_view_holds_no_contact(app_workbook, monkeypatch, email, tab):
    """Opening the other side's record by its URL sends no contact field either (no meeting accepted)."""
    company, staff = plant_canaries()
    record, canaries = (company, CANARY_ENT) if tab == "Entreprises" else (staff, CANARY_PER)
    at = open_page(monkeypatch, email, f"pages/{tab.lower()}.py", query={"id": record.id})
    sent = everything_sent(at)
    assert "Canari" in sent  # the record itself was rendered
    for value in canaries.values():
        assert value not in sent


def test_duplicate_warning_names_no_email(app_workbook, monkeypatch):
    """Two companies sharing a contact e-mail: the academy coordinator sees the duplicate warning, not the address."""
    company, _ = plant_canaries()
    app_store().append("Entreprises", [{
        "raison_sociale": "Autre Canari", "code_postal": "21000", "commune_insee": "21231", "commune": "Dijon",
        "departement": "21", "contact_nom": "Canari", "contact_prenom": "Cécile", "statut": "validé",
        "contact_email": CANARY_ENT["contact_email"]}])
    at = open_page(monkeypatch, DIJON, "pages/qualite.py")
    sent = everything_sent(at)
    assert f"Doublon probable de {company.id}" in sent and "même email" in sent
    assert CANARY_ENT["contact_email"] not in sent


def test_each_anomaly_links_to_the_form_that_fixes_it(app_workbook, monkeypatch):
    company, _ = plant_canaries()
    meeting = next(r for r in app_store().read(fresh=True).rows("Rencontres") if r["entreprise_id"] == company.id)
    app_store().update("Rencontres", meeting.id, {"date": "31/02/2027"}, meeting.fingerprint)
    at = open_page(monkeypatch, ADMIN, "pages/qualite.py")
    [frame] = [d.value for d in at.dataframe]
    links = dict(zip(frame["ID"], frame["Corriger"], strict=True))
    assert links[meeting.id] == f"/rencontres?id={meeting.id}"
    bad_company = next(i for i, tab in zip(frame["ID"], frame["Onglet"], strict=True) if tab == "Entreprises")
    assert links[bad_company] == f"/entreprises?id={bad_company}"
    # tabs without a form of their own (Parametres, Listes…) have no link rather than a wrong one
    assert all(link == "" for link, tab in zip(frame["Corriger"], frame["Onglet"], strict=True)
               if tab not in ("Entreprises", "Personnels", "Rencontres"))


def test_reworked_values_in_messages_are_masked_too(app_workbook, monkeypatch):
    """Validators quote a value stripped or completed ("saisissez 0…"): the whole message goes for other roles."""
    app_store().append("Personnels", [{
        "nom": "Reprise", "prenom": "Zoé", "fonction": "CPE", "code_postal": "25000", "commune_insee": "25056",
        "departement": "25", "canal": "CLEE", "email": "  zoe canari@ac-besancon.fr  ", "telephone": "698765432"}])
    at = open_page(monkeypatch, CPME, "pages/qualite.py")
    sent = everything_sent(at)
    assert "(masqué)" in sent and "Valeur à corriger dans la colonne" in sent
    for fragment in ("zoe canari", "698765432", "0698765432"):
        assert fragment not in sent
    # the staff member's own side still reads the exact message
    assert "0698765432" in everything_sent(open_page(monkeypatch, BESANCON, "pages/qualite.py"))


def test_the_anomalies_csv_is_journaled_before_it_is_sent(app_workbook, monkeypatch):
    plant_canaries()
    at = open_page(monkeypatch, CPME, "pages/qualite.py")
    in_a_file = BAD_ENT["contact_email"].encode()
    assert not at.download_button and not any(in_a_file in data for data in RecordingStorage.files)
    at.button(key="_quality_export_prepare").click().run()
    [download] = at.download_button
    assert download.label == "Télécharger les anomalies (CSV)"
    [entry] = [r for r in app_store().read(fresh=True).rows("Journal") if r["action"] == "export données personnelles"]
    bad_company = next(r.id for r in app_store().read(fresh=True).rows("Entreprises")
                       if r["contact_email"] == BAD_ENT["contact_email"])
    assert bad_company in entry["cible_id"].split(", ") and entry["acteur"] == CPME
    assert any(in_a_file in data for data in RecordingStorage.files)  # now, and only now, the file is offered
