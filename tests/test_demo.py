"""The demo dataset: size, spread, validity, coherence, and loading rules (on the real local workbook)."""

from collections import Counter
from datetime import date

import pytest

from ecole_entreprise.domain.roles import ROLES, academie_of
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.domain.validation import find_duplicates, validate_record
from ecole_entreprise.domain.values import school_year_of
from ecole_entreprise.services.demo import DemoRefused, demo_records, load_demo
from ecole_entreprise.services.quality import check_snapshot
from ecole_entreprise.store.workbook import WorkbookStore

DEPARTEMENTS = {"21", "25", "39", "58", "70", "71", "89", "90"}
MEETING_STATES = set(default_schema().lists["statuts_rencontre"])


@pytest.fixture(scope="module")
def records():
    return demo_records()


@pytest.fixture
def store(tmp_path):
    store = WorkbookStore(default_schema(), tmp_path / "demo.xlsx")
    store.init()
    return store


def test_size_and_spread(records):
    assert 55 <= len(records["Entreprises"]) <= 65
    assert 110 <= len(records["Personnels"]) <= 130
    assert {r["departement"] for r in records["Entreprises"]} == DEPARTEMENTS
    assert {r["departement"] for r in records["Personnels"]} == DEPARTEMENTS
    meetings = records["Rencontres"]
    assert {m["statut"] for m in meetings} == MEETING_STATES
    assert {m["annee_scolaire"] for m in meetings} == {"2024-2025", "2025-2026"}
    assert {m["statut"] for m in meetings if m["annee_scolaire"] == "2025-2026"} == MEETING_STATES
    assert records["Partenariats"] and records["Evenements"] and records["Demandes RGPD"]


def test_same_seed_same_data_other_seed_other_data(records):
    assert demo_records(2025) == records
    assert demo_records(7)["Entreprises"] != records["Entreprises"]


def test_every_row_passes_validation_in_canonical_form(records, store):
    load_demo(store)
    snapshot = store.read()
    for tab, rows in records.items():
        schema_tab = default_schema().tab(tab)
        for row in rows:
            result = validate_record(schema_tab, row, snapshot=snapshot)
            assert result.errors == {}, (tab, row["id"], result.errors)
            assert result.warnings == {}, (tab, row["id"], result.warnings)
            changed = {k: (v, result.clean[k]) for k, v in row.items() if result.clean[k] != v}
            assert changed == {}, (tab, row["id"], changed)


def test_no_probable_duplicates_and_data_quality_report_is_clean(store):
    load_demo(store)
    snapshot = store.read()
    for tab in ("Entreprises", "Personnels"):
        schema_tab = default_schema().tab(tab)
        for row in snapshot.rows(tab):
            assert find_duplicates(schema_tab, row.values, snapshot, exclude_id=row.id) == []
    assert check_snapshot(snapshot, default_schema()) == []


def test_clearly_fictional_contacts(records):
    for company in records["Entreprises"]:
        assert "Démo" in company["raison_sociale"]
        assert company["contact_email"].endswith("@exemple-entreprise.fr")
        assert company["contact_telephone"] in ("",) or company["contact_telephone"].startswith("+33199")
    for person in records["Personnels"]:
        assert person["email"].startswith("demo.")
        domain = {"Dijon": "@ac-dijon.fr", "Besançon": "@ac-besancon.fr"}[person["academie"]]
        assert person["email"].endswith(domain)
        assert person["uai"] == "" or person["uai"][3:5] == "99"  # the fictional 99xx block
    assert all("Démo" in p["etablissement"] for p in records["Personnels"] if p["etablissement"])


def test_consents_mostly_given_some_missing(records):
    people = records["Entreprises"] + records["Personnels"]
    without_participation = [p for p in people if not p.get("consentement_participation")]
    without_sharing = [p for p in people if not p.get("consentement_partage")]
    assert 0 < len(without_participation) < 0.15 * len(people)
    assert len(without_participation) < len(without_sharing) < 0.35 * len(people)
    for person in people:
        if person.get("consentement_participation"):
            assert person["consentement_version"] and person["consentement_source"]


def test_statuses_include_pending_and_archived(records):
    for tab in ("Entreprises", "Personnels"):
        statuses = Counter(r["statut"] for r in records[tab])
        assert statuses["à valider"] >= 2 and statuses["archivé"] >= 1
        assert statuses["validé"] > 0.8 * len(records[tab])
        for row in records[tab]:
            if row["statut"] == "à valider":
                assert row["source"] == "auto-inscription"


def _day(text):
    return date.fromisoformat(text[:10])


def test_meetings_are_coherent(records):
    companies = {c["id"]: c for c in records["Entreprises"]}
    staff = {s["id"]: s for s in records["Personnels"]}
    per_year_company = Counter()
    for m in records["Rencontres"]:
        company, person = companies[m["entreprise_id"]], staff[m["personnel_id"]]
        for side in (company, person):
            assert side["consentement_participation"] and side["statut"] != "à valider"
            assert side["created_at"] < m["created_at"]
        assert academie_of(company["departement"]) == person["academie"]
        both = bool(m.get("acceptation_entreprise") and m.get("acceptation_personnel"))
        status = m["statut"]
        if status in ("proposée", "refusée"):
            assert not both and not m.get("date")
        else:
            assert both
            assert _day(m["created_at"]) <= _day(m["acceptation_entreprise"])
        if status in ("planifiée", "réalisée", "bilan saisi"):
            assert m["date"] and m["heure"] and m["lieu"] and m["format"]
            assert school_year_of(_day(m["date"])) == m["annee_scolaire"]
            assert _day(m["acceptation_personnel"]) < _day(m["date"])
        else:
            assert not m.get("date")
        if status == "bilan saisi":
            assert m.get("conclusions_entreprise") or m.get("conclusions_personnel")
            assert m["suite_envisagee"]
        else:
            assert not (m.get("conclusions_entreprise") or m.get("satisfaction_personnel"))
        if status in ("refusée", "annulée"):
            assert m["motif"]
        if m.get("introduction_envoyee"):
            assert company["consentement_partage"] and person["consentement_partage"] and both
        if status not in ("refusée", "annulée"):
            per_year_company[(m["entreprise_id"], m["annee_scolaire"])] += 1
    for (company_id, _), n in per_year_company.items():
        assert n <= int(companies[company_id]["capacite_annuelle"])


def test_partnerships_come_from_reviewed_meetings(records):
    meetings = {m["id"]: m for m in records["Rencontres"]}
    for p in records["Partenariats"]:
        meeting = meetings[p["rencontre_id"]]
        assert meeting["statut"] == "bilan saisi" and "partenariat" in meeting["suite_envisagee"]
        assert p["entreprise_id"] == meeting["entreprise_id"] and p["annee_scolaire"] == meeting["annee_scolaire"]
        assert _day(p["date_debut"]) > _day(meeting["date"])


def test_one_user_per_role_with_the_documented_accounts(records):
    users = {u["email"]: u for u in records["Utilisateurs"]}
    assert set(users) == {"admin@exemple.fr", "coord.dijon@exemple.fr", "coord.besancon@exemple.fr",
                          "coord.cpme21@exemple.fr", "comite@exemple.fr"}
    assert {u["role"] for u in users.values()} == set(ROLES)
    assert users["coord.dijon@exemple.fr"]["perimetre"] == "Dijon"
    assert users["coord.cpme21@exemple.fr"]["perimetre"] == "21, 58, 71, 89"


def test_load_reports_counts_and_progress(store, records):
    seen = []
    counts = load_demo(store, on_progress=lambda fraction, message: seen.append((fraction, message)))
    assert counts == {tab: len(rows) for tab, rows in records.items()}
    snapshot = store.read()
    assert len(snapshot.rows("Entreprises")) == len(records["Entreprises"])
    assert len(snapshot.rows("Rencontres")) == len(records["Rencontres"])
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(isinstance(m, str) and m for _, m in seen)


def test_refuses_a_non_empty_store_unless_forced(store, records):
    store.append("Entreprises", [{"raison_sociale": "Vraie entreprise", "code_postal": "21000",
                                  "commune_insee": "21231", "departement": "21", "contact_nom": "Martin",
                                  "contact_prenom": "Léa", "contact_email": "lea@exemple.fr"}])
    with pytest.raises(DemoRefused) as refused:
        load_demo(store)
    assert "déjà des données" in str(refused.value) and "Entreprises" in str(refused.value)
    assert len(store.read().rows("Personnels")) == 0  # nothing written
    counts = load_demo(store, force=True)
    assert counts["Entreprises"] == len(records["Entreprises"])
    assert len(store.read().rows("Entreprises")) == len(records["Entreprises"]) + 1  # loaded on top


def test_forcing_twice_writes_nothing_new(store):
    load_demo(store)
    before = {tab: len(store.read().rows(tab)) for tab in ("Entreprises", "Personnels", "Utilisateurs")}
    counts = load_demo(store, force=True)
    assert set(counts.values()) == {0}
    assert {tab: len(store.read().rows(tab)) for tab in before} == before
