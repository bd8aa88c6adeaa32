"""Every page, for every role that has it: renders without error, and never sends a contact value the role may
not see (distinctive "canary" values planted in the data)."""

import pytest

from ecole_entreprise.domain.roles import ADMIN as ADMIN_ROLE
from ecole_entreprise.domain.roles import COMITE as COMITE_ROLE
from ecole_entreprise.domain.roles import COORD_ACADEMIE, COORD_CPME, User
from ecole_entreprise.services import access
from ecole_entreprise.services.users import find_user
from pages._shell import PAGES
from tests.support.apptest import ADMIN, COMITE, CPME, DIJON, app_store, open_page

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


def everything_sent(at) -> str:
    """All the session would receive: every element's protobuf, dataframes' Arrow bytes included."""
    parts = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
            for field in ("arrow_data", "data"):
                data = getattr(getattr(proto, field, None), "data", None)
                if isinstance(data, bytes):
                    parts.append(data.decode("utf-8", "replace"))
        for child in getattr(node, "children", {}).values() if isinstance(getattr(node, "children", None), dict) \
                else []:
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


ROLE_OF = {ADMIN: ADMIN_ROLE, DIJON: COORD_ACADEMIE, CPME: COORD_CPME, COMITE: COMITE_ROLE}


def cases():
    """(email, page key, file) for every page in each role's navigation."""
    for email, role in ROLE_OF.items():
        for key in access.pages_for(User(email=email, role=role)):
            yield email, key, PAGES[key][0]


@pytest.mark.parametrize("email,key,path", list(cases()))
def test_page_renders_and_leaks_no_forbidden_contact(app_workbook, monkeypatch, email, key, path):
    plant_canaries()
    user = find_user(app_store().read(), email)
    assert user.role == ROLE_OF[email]
    at = open_page(monkeypatch, email, path)
    assert not at.exception, [e.value for e in at.exception]
    sent = everything_sent(at)
    may_see_ent = user.role in ("admin", "coordinateur CPME")
    may_see_per = user.role in ("admin", "coordinateur académie")
    for value in [*CANARY_ENT.values(), *BAD_ENT.values()]:
        if not may_see_ent:
            assert value not in sent, f"{user.role} received {value} on {key}"
    for value in [*CANARY_PER.values(), *BAD_PER.values()]:
        if not may_see_per:
            assert value not in sent, f"{user.role} received {value} on {key}"


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
