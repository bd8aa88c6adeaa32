"""The demo dataset: size, spread, validity, coherence, dates relative to today, and loading rules (on the real
local workbook)."""

from collections import Counter
from datetime import date, datetime

import pytest

from ecole_entreprise.domain.roles import ROLES, academie_of
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.domain.validation import find_duplicates, validate_record
from ecole_entreprise.domain.values import school_year_of
from ecole_entreprise.services.census.demo import DemoRefused, demo_parameters, demo_records, load_demo
from ecole_entreprise.services.census.quality import check_snapshot
from ecole_entreprise.store.workbook import WorkbookStore

DEPARTEMENTS = {"21", "25", "39", "58", "70", "71", "89", "90"}
MEETING_STATES = set(default_schema().lists["statuts_rencontre"])
TODAY = date(2026, 11, 28)
CURRENT, PREVIOUS = "2026-2027", "2025-2026"
# A usual day, and days at the edges of a school year (its first days, spring, its last days).
DAYS = (TODAY, date(2027, 3, 10), date(2026, 9, 3), date(2027, 8, 30))


@pytest.fixture(scope="module")
def records():
    return demo_records(2025, TODAY)


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
    assert {m["annee_scolaire"] for m in meetings} == {PREVIOUS, CURRENT}
    assert {m["statut"] for m in meetings if m["annee_scolaire"] == CURRENT} == MEETING_STATES
    assert records["Partenariats"] and records["Evenements"] and records["Demandes RGPD"]


def test_same_seed_same_data_other_seed_other_data(records):
    assert demo_records(2025, TODAY) == records
    assert demo_records(7, TODAY)["Entreprises"] != records["Entreprises"]


def test_every_row_passes_validation_in_canonical_form(records, store):
    load_demo(store, today=TODAY)
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


@pytest.mark.parametrize("today", DAYS)
def test_meetings_are_coherent(today):
    records = demo_records(2025, today)
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
    counts = load_demo(store, on_progress=lambda fraction, message: seen.append((fraction, message)), today=TODAY)
    assert counts == {**{tab: len(rows) for tab, rows in records.items()}, "Parametres": 4}
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
    counts = load_demo(store, force=True, today=TODAY)
    assert counts["Entreprises"] == len(records["Entreprises"])
    assert len(store.read().rows("Entreprises")) == len(records["Entreprises"]) + 1  # loaded on top


def test_forcing_twice_writes_nothing_new(store):
    load_demo(store)
    before = {tab: len(store.read().rows(tab)) for tab in ("Entreprises", "Personnels", "Utilisateurs")}
    counts = load_demo(store, force=True)
    assert set(counts.values()) == {0}
    assert {tab: len(store.read().rows(tab)) for tab in before} == before


# ---- dates relative to today ------------------------------------------------------------------------------


def _stamps(records):
    """Every date or datetime cell that says when something was done (never a planned day)."""
    done = ("created_at", "acceptation_entreprise", "acceptation_personnel", "introduction_envoyee",
            "consentement_participation", "consentement_partage", "recue_le", "traitee_le")
    return [(tab, name, row[name]) for tab, rows in records.items() for row in rows for name in done
            if row.get(name)]


@pytest.mark.parametrize("today", DAYS)
def test_current_and_previous_school_years_follow_today(today):
    records = demo_records(2025, today)
    current = school_year_of(today)
    previous = school_year_of(date(int(current[:4]) - 1, 10, 1))
    meetings = records["Rencontres"]
    assert {m["annee_scolaire"] for m in meetings} == {previous, current}
    assert {m["statut"] for m in meetings if m["annee_scolaire"] == current} == MEETING_STATES
    for m in meetings:
        if m.get("date"):
            assert school_year_of(_day(m["date"])) == m["annee_scolaire"]
        if m["statut"] == "planifiée":
            assert _day(m["date"]) > today
        if m["statut"] in ("réalisée", "bilan saisi"):
            assert _day(m["date"]) <= today
    future = [(tab, name, text) for tab, name, text in _stamps(records) if _day(text) >= today]
    assert future == []


def test_a_usual_day_has_planned_meetings_soon_and_held_ones_recently():
    records = demo_records(2025, TODAY)
    current = [m for m in records["Rencontres"] if m["annee_scolaire"] == CURRENT]
    planned = [_day(m["date"]) for m in current if m["statut"] == "planifiée"]
    held = [_day(m["date"]) for m in current if m["statut"] in ("réalisée", "bilan saisi")]
    assert planned and all(0 < (day - TODAY).days <= 60 for day in planned)
    assert held and all(0 < (TODAY - day).days <= 61 for day in held)
    proposed = [datetime.fromisoformat(m["created_at"]) for m in current if m["statut"] == "proposée"]
    assert all((TODAY - p.date()).days <= 21 for p in proposed)
    pending = [r for r in records["Personnels"] if r["statut"] == "à valider"]
    assert all(0 < (TODAY - _day(r["created_at"])).days <= 45 for r in pending)


def test_default_day_is_the_machine_day():
    records = demo_records()
    years = {m["annee_scolaire"] for m in records["Rencontres"]}
    assert school_year_of(date.today()) in years


def _parameters(store):
    rows = store.read().rows("Parametres")
    keys = Counter(r["cle"] for r in rows)
    assert all(n == 1 for n in keys.values()), keys  # updated in place, never appended twice
    return {r["cle"]: r["valeur"] for r in rows}, len(rows)


def test_loading_sets_the_year_and_the_week_in_parametres(store):
    _, rows_before = _parameters(store)
    load_demo(store, today=TODAY)
    values, rows_after = _parameters(store)
    assert rows_after == rows_before
    assert values["annee_scolaire"] == CURRENT == demo_parameters(TODAY)["annee_scolaire"]
    first, last = date.fromisoformat(values["semaine_ee_debut"]), date.fromisoformat(values["semaine_ee_fin"])
    assert school_year_of(first) == CURRENT and (last - first).days == 4
    assert first.weekday() == 0 and (first.month, last.month) in ((11, 11), (12, 12), (1, 1))
    assert values["version_notice"] == default_schema().tab("Parametres").defaults["version_notice"]["valeur"]


def test_a_parameter_someone_changed_is_kept_and_a_deleted_one_comes_back(store):
    rows = {r["cle"]: r for r in store.read().rows("Parametres")}
    store.update("Parametres", rows["semaine_ee_debut"].id, {"valeur": "2027-02-01"},
                 rows["semaine_ee_debut"].fingerprint)
    store.delete("Parametres", [rows["semaine_ee_fin"].id])
    counts = load_demo(store, today=TODAY)
    values, _ = _parameters(store)
    assert values["semaine_ee_debut"] == "2027-02-01"
    assert values["semaine_ee_fin"] == demo_parameters(TODAY)["semaine_ee_fin"]
    assert values["annee_scolaire"] == CURRENT
    assert counts["Parametres"] == 3
