"""Data-subject rights: deadlines, access export, anonymisation; and the privacy documents."""

import io
import json
import zipfile
from datetime import date

import pandas as pd
import pytest

from ecole_entreprise.domain.roles import ADMIN, COORD_ACADEMIE, User, parse_scope
from ecole_entreprise.services.kernel import journal
from ecole_entreprise.services.kernel.access import AccessDenied
from ecole_entreprise.services.privacy import rights
from ecole_entreprise.services.privacy.contacts import journal_export, reveal_contacts
from ecole_entreprise.services.privacy.documents import parameters, privacy_notice, processing_register
from ecole_entreprise.services.privacy.rights import RightsError, add_months
from tests.support.memory_store import MemoryStore, seed_programme

ADMIN_USER = User("dpo@region.fr", ADMIN)
ACAD_DIJON = User("coord@ac-dijon.fr", COORD_ACADEMIE, departements=parse_scope("Dijon"))


@pytest.fixture
def store():
    return seed_programme(MemoryStore())


def actions(store):
    return [r["action"] for r in store.read().rows(journal.TAB)]


def test_add_months_clamps_to_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2025, 12, 15), 3) == date(2026, 3, 15)
    assert add_months(date(2026, 3, 31), -24) == date(2024, 3, 31)


def test_open_request_sets_one_month_deadline(store):
    row = rights.open_request(store, store.read(), ADMIN_USER, "Personnels", "PER-P21", "accès", date(2026, 1, 31))
    assert (row["recue_le"], row["echeance"], row["statut"]) == ("2026-01-31", "2026-02-28", "reçue")
    assert actions(store) == ["demande RGPD"]
    with pytest.raises(AccessDenied):
        rights.open_request(store, store.read(), ACAD_DIJON, "Personnels", "PER-P21", "accès", date(2026, 1, 31))
    with pytest.raises(RightsError, match="Type de demande inconnu"):
        rights.open_request(store, store.read(), ADMIN_USER, "Personnels", "PER-P21", "oubli", date(2026, 1, 31))


def test_extension_only_if_told_within_the_first_month(store):
    row = rights.open_request(store, store.read(), ADMIN_USER, "Entreprises", "ENT-E21", "effacement",
                              date(2026, 3, 10))
    with pytest.raises(RightsError) as late:
        rights.extend(store, store.read(), ADMIN_USER, row.id, date(2026, 4, 11))
    assert "10/04/2026" in str(late.value) and "Prolongation impossible" in str(late.value)
    extended = rights.extend(store, store.read(), ADMIN_USER, row.id, date(2026, 4, 10))
    assert (extended["echeance"], extended["prolongation_informee_le"]) == ("2026-06-10", "2026-04-10")
    assert actions(store) == ["demande RGPD", "prolongation demande RGPD"]


def test_start_request_only_from_received(store):
    row = rights.open_request(store, store.read(), ADMIN_USER, "Personnels", "PER-P21", "accès", date(2026, 1, 5))
    with pytest.raises(AccessDenied):
        rights.start_request(store, store.read(), ACAD_DIJON, row.id)
    started = rights.start_request(store, store.read(), ADMIN_USER, row.id)
    assert (started["statut"], started["echeance"]) == ("en cours", "2026-02-05")
    assert [r.id for r in rights.due_soon(store.read(), today=date(2026, 2, 1))] == [row.id]  # still open
    with pytest.raises(RightsError, match="seule une demande « reçue »"):
        rights.start_request(store, store.read(), ADMIN_USER, row.id)
    assert actions(store) == ["demande RGPD", "prise en charge demande RGPD"]


def test_due_soon_lists_open_requests_by_deadline(store):
    snapshot = store.read()
    made = {received: rights.open_request(store, snapshot, ADMIN_USER, "Personnels", "PER-P21", "accès", received)
            for received in (date(2026, 1, 5), date(2026, 1, 20), date(2026, 2, 20), date(2026, 1, 1))}
    rights.close_request(store, store.read(), ADMIN_USER, made[date(2026, 1, 1)].id, "traitée", date(2026, 1, 15))
    due = rights.due_soon(store.read(), today=date(2026, 2, 15), days=7)
    # 5 Jan → due 5 Feb (overdue), 20 Jan → 20 Feb (in 5 days); 20 Feb → 20 Mar (later); 1 Jan closed.
    assert [r.id for r in due] == [made[date(2026, 1, 5)].id, made[date(2026, 1, 20)].id]


def test_access_export_contains_everything_about_the_person(store):
    store.grids["Personnels"][0].append("Suivi manuel")
    for line in store.grids["Personnels"][1:]:
        line.append("appelé le 3 mars")
    reveal_contacts(store, ADMIN_USER, "REN-M3", "vérification", side="personnel")
    journal_export(store, ADMIN_USER, "anomalies (CSV)", ["Valeur"], targets=[("Personnels", "PER-P25")])
    journal_export(store, ADMIN_USER, "liste (CSV)", ["nom"], targets=[("Personnels", "PER-P21"),
                                                                       ("Personnels", "PER-P25")])
    payload = rights.access_export(store.read(), "Personnels", "PER-P21", store=store, user=ADMIN_USER)
    archive = zipfile.ZipFile(io.BytesIO(payload))
    assert {"LISEZMOI.txt", "donnees.json", "personne.csv", "rencontres.csv", "journal.csv"} <= set(archive.namelist())
    data = json.loads(archive.read("donnees.json"))
    [person] = data["personne"]
    assert person["Email professionnel"] == "canari.per-p21@ac-exemple.fr"
    assert person["Suivi manuel"] == "appelé le 3 mars"
    assert sorted(m["ID"] for m in data["rencontres"]) == ["REN-M1", "REN-M3"]
    assert [p["ID"] for p in data["partenariats"]] == ["PAR-A1"]  # born from REN-M3
    # Exports that named this person are found; the one about someone else is not.
    assert [j["Action"] for j in data["journal"]] == ["divulgation coordonnées", "export données personnelles"]
    assert "conclusions entreprise" not in archive.read("donnees.json").decode()  # third party's words left out
    csv = pd.read_csv(io.BytesIO(archive.read("rencontres.csv")), sep=";", encoding="utf-8-sig", dtype=str)
    assert sorted(csv["ID"]) == ["REN-M1", "REN-M3"]
    assert actions(store)[-1] == "export droit d'accès"
    with pytest.raises(AccessDenied):
        rights.access_export(store.read(), "Personnels", "PER-P21", store=store, user=ACAD_DIJON)


def bilan_counts(snapshot):
    staff = pd.DataFrame([r.values for r in snapshot.rows("Personnels")])
    companies = pd.DataFrame([r.values for r in snapshot.rows("Entreprises")])
    meetings = pd.DataFrame([r.values for r in snapshot.rows("Rencontres")])
    return {
        "personnels par département": staff.groupby("departement").size().to_dict(),
        "personnels par fonction": staff.groupby("fonction").size().to_dict(),
        "personnels par canal": staff.groupby("canal").size().to_dict(),
        "entreprises par département": companies.groupby("departement").size().to_dict(),
        "rencontres par statut": meetings.groupby("statut").size().to_dict(),
        "rencontres par année": meetings.groupby("annee_scolaire").size().to_dict(),
        "identifiants": sorted(staff["id"]) + sorted(companies["id"]) + sorted(meetings["id"]),
    }


def test_anonymisation_keeps_every_count(store):
    store.grids["Personnels"][0].append("Suivi manuel")
    for line in store.grids["Personnels"][1:]:
        line.append("canari colonne")
    motif = store.read().get("Rencontres", "REN-M1")
    store.update("Rencontres", "REN-M1", {"motif": "Mme Nom-per-p21 mutée"}, motif.fingerprint)
    before = bilan_counts(store.read())
    result = rights.anonymise(store, store.read(), ADMIN_USER, "Personnels", "PER-P21")
    after = store.read()
    assert bilan_counts(after) == before
    person = after.get("Personnels", "PER-P21")
    assert person["nom"] == "Anonyme-PER-P21" and person["fonction"] == "professeur"
    assert "canari" not in repr(person.values) and person["consentement_partage"] == ""
    assert sorted(result.meetings) == ["REN-M1", "REN-M3"]
    for meeting_id in result.meetings:  # their side's words cleared, the company's kept
        meeting = after.get("Rencontres", meeting_id)
        assert meeting["conclusions_personnel"] == "" and meeting["attendus_personnel"] == ""
        assert meeting["motif"] == ""  # shared text: it may name the person
        assert meeting["conclusions_entreprise"] == f"canari conclusions entreprise {meeting_id.lower()}"
    assert result.extra_columns == ["Suivi manuel"] and "Suivi manuel" in result.warning_fr()
    assert rights.is_anonymised("Personnels", person)
    [entry] = after.rows(journal.TAB)
    assert (entry["action"], entry["cible_id"], entry["finalite"]) == ("anonymisation", "PER-P21", rights.ERASURE)
    with pytest.raises(AccessDenied):
        reveal_contacts(store, ADMIN_USER, "REN-M1", "vérification", side="personnel")


def test_anonymisation_requires_the_rgpd_permission(store):
    with pytest.raises(AccessDenied):
        rights.anonymise(store, store.read(), ACAD_DIJON, "Personnels", "PER-P21")
    assert store.read().get("Personnels", "PER-P21")["nom"] == "Nom-per-p21"


def test_privacy_documents_follow_the_parametres_tab(store):
    store.append("Parametres", [{"cle": "dpo_contact", "valeur": "dpo-test@exemple.fr"},
                                {"cle": "retention_mois", "valeur": "18"}])
    params = parameters(store.read())
    notice = privacy_notice(params)
    assert "dpo-test@exemple.fr" in notice and "après 18 mois" in notice
    assert "Mission d'intérêt public" in notice and "Consentement" in notice and "CNIL" in notice
    assert f"Version {params['version_notice']}" in notice and params["responsable_traitement"] in notice
    register = processing_register(params)
    assert "article 30" in register and "18 mois d'inactivité" in register and "dpo-test@exemple.fr" in register
    assert parameters(None)["retention_mois"] == "24"


def test_access_export_includes_the_journal_of_the_person_s_own_requests(store):
    """Entries about a request target the request's ID, not the person's: they are theirs all the same."""
    own = rights.open_request(store, store.read(), ADMIN_USER, "Personnels", "PER-P21", "accès", date(2026, 3, 2))
    rights.start_request(store, store.read(), ADMIN_USER, own.id)
    rights.extend(store, store.read(), ADMIN_USER, own.id, date(2026, 3, 20))
    rights.close_request(store, store.read(), ADMIN_USER, own.id, "traitée", date(2026, 4, 10))
    other = rights.open_request(store, store.read(), ADMIN_USER, "Personnels", "PER-P25", "accès", date(2026, 3, 2))
    rights.close_request(store, store.read(), ADMIN_USER, other.id, "traitée", date(2026, 3, 9))
    data = rights.person_data(store.read(), "Personnels", "PER-P21")
    assert [(j["Action"], j["ID cible"]) for j in data["journal"]] == [
        ("demande RGPD", own.id), ("prise en charge demande RGPD", own.id), ("prolongation demande RGPD", own.id),
        ("clôture demande RGPD", own.id)]
    assert [r["ID"] for r in data["demandes_rgpd"]] == [own.id]
    payload = rights.access_export(store.read(), "Personnels", "PER-P21", store=store, user=ADMIN_USER)
    exported = json.loads(zipfile.ZipFile(io.BytesIO(payload)).read("donnees.json"))["journal"]
    assert other.id not in json.dumps(exported) and len(exported) == 4


def test_access_export_includes_entries_about_their_meetings_partnerships_and_redactions(store):
    rights.anonymise(store, store.read(), ADMIN_USER, "Entreprises", "ENT-E21")  # its details name REN-M3
    journal.record(store, ADMIN_USER, "partenariat", "Partenariats", "PAR-A1", ["statut"], "suivi", "terminé")
    data = rights.person_data(store.read(), "Personnels", "PER-P21")  # PAR-A1 was born from their REN-M3
    actions = [j["Action"] for j in data["journal"]]
    assert actions == ["anonymisation", "partenariat"]
