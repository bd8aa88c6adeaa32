"""Record validation against the schema, and duplicate detection."""

from datetime import datetime

import pytest

from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.domain.validation import find_duplicates, validate_record
from ecole_entreprise.store.base import Snapshot, rows_from_grid

SCHEMA = default_schema()
ENT = SCHEMA.tab("Entreprises")
PER = SCHEMA.tab("Personnels")
REN = SCHEMA.tab("Rencontres")


def entreprise(**changes):
    record = {
        "raison_sociale": "Boulangerie Dupont", "siret": "732 829 320 00074", "code_postal": "21000",
        "commune_insee": "21231", "departement": "21", "contact_nom": "Dupont", "contact_prenom": "Jeanne",
        "contact_email": "jeanne.dupont@boulangerie-dupont.fr", "statut": "validé",
    }
    return {**record, **changes}


def personnel(**changes):
    record = {
        "nom": "Martin", "prenom": "Léa", "fonction": "professeur", "discipline": "Mathématiques",
        "code_postal": "25000", "commune_insee": "25056", "departement": "25", "email": "lea.martin@ac-besancon.fr",
        "canal": "CLEE", "statut": "validé",
    }
    return {**record, **changes}


def snapshot_of(tables: dict) -> Snapshot:
    """tables: tab name -> list of records (field name -> text), laid out as a sheet grid."""
    tabs = {}
    for name, records in tables.items():
        tab = SCHEMA.tab(name)
        grid = [tab.headers] + [[r.get(f.name, "") for f in tab.fields] for r in records]
        tabs[name] = rows_from_grid(tab, grid)
    return Snapshot(tabs=tabs, read_at=datetime(2026, 3, 1, 9, 0))


def test_valid_record_gets_canonical_text():
    result = validate_record(ENT, entreprise(
        naf="6201z", contact_telephone="03 80 44 84 00", contact_email="Jeanne.Dupont@Boulangerie-Dupont.FR",
        taille="tpe (0-9)", membre_cpme="Oui", formats="Salon;DEJEUNER", capacite_annuelle=" 3 ",
        informer_avant="19/01/2026", consentement_participation="2026-01-05 10:30:00", statut="valide",
    ))
    assert result.ok, result.errors
    clean = result.clean
    assert clean["siret"] == "73282932000074" and clean["naf"] == "62.01Z"
    assert clean["contact_telephone"] == "+33380448400"
    assert clean["contact_email"] == "Jeanne.Dupont@boulangerie-dupont.fr"
    assert clean["taille"] == "TPE (0-9)" and clean["statut"] == "validé"
    assert clean["membre_cpme"] == "oui" and clean["capacite_annuelle"] == "3"
    assert clean["formats"] == "déjeuner; salon"  # the list's order
    assert clean["informer_avant"] == "2026-01-19"
    assert clean["consentement_participation"] == "2026-01-05 10:30:00"
    assert clean["commune"] == "Dijon"  # filled from the commune
    assert set(clean) == set(ENT.field_names)


def test_required_fields_and_unknown_keys():
    result = validate_record(ENT, {"raison_sociale": "  ", "nonsense": "x"})
    assert "nonsense" not in result.clean
    for name in ("raison_sociale", "code_postal", "commune_insee", "contact_email", "statut"):
        assert ENT.field(name).header in result.errors[name]
    assert "siret" not in result.errors  # optional and empty
    assert not result.ok


def test_type_errors_are_french_and_keep_the_typed_text():
    result = validate_record(ENT, entreprise(
        siret="73282932000075", naf="62-01Z", contact_telephone="380448400", contact_email="jeanne.dupont",
        membre_cpme="peut-être", capacite_annuelle="25", formats="salon; brunch", taille="énorme",
        informer_avant="31/02/2026",
    ))
    assert set(result.errors) == {"siret", "naf", "contact_telephone", "contact_email", "membre_cpme",
                                  "capacite_annuelle", "formats", "taille", "informer_avant"}
    assert "clé de contrôle" in result.errors["siret"]
    assert "0380448400" in result.errors["contact_telephone"]
    assert "au plus 20" in result.errors["capacite_annuelle"]
    assert "brunch" in result.errors["formats"]
    assert "TPE (0-9)" in result.errors["taille"]
    assert result.clean["siret"] == "73282932000075"


def test_text_limits_and_patterns():
    result = validate_record(ENT, entreprise(raison_sociale="x" * 201))
    assert "201" in result.errors["raison_sociale"]
    rencontre = {"entreprise_id": "ENT-1", "personnel_id": "PER-1", "annee_scolaire": "2025/2026",
                 "statut": "proposée", "heure": "9h30", "satisfaction_personnel": "0"}
    result = validate_record(REN, rencontre)
    assert "annee_scolaire" in result.errors and "satisfaction_personnel" in result.errors
    assert result.clean["heure"] == "09:30"
    result = validate_record(REN, {**rencontre, "annee_scolaire": "2025-2026", "satisfaction_personnel": "5"})
    assert result.ok, result.errors


def test_formula_looking_text_is_kept_with_a_warning():
    for text in ('=HYPERLINK("http://exemple.invalid")', "+33 ceci n'est pas un numéro", "-5 %", "@tous"):
        result = validate_record(ENT, entreprise(notes=text, raison_sociale=text))
        assert result.ok
        assert result.clean["notes"] == text and result.clean["raison_sociale"] == text
        assert "formule" in result.warnings["notes"]
    result = validate_record(ENT, entreprise(contact_telephone="+33 3 80 44 84 00", notes="Très motivée"))
    assert result.warnings == {}


def test_references_checked_against_the_snapshot():
    snap = snapshot_of({"Entreprises": [entreprise(id="ENT-AAAA2222")], "Personnels": []})
    rencontre = {"entreprise_id": "ENT-AAAA2222", "personnel_id": "PER-ZZZZ9999", "annee_scolaire": "2025-2026",
                 "statut": "proposée"}
    result = validate_record(REN, rencontre, snapshot=snap)
    assert list(result.errors) == ["personnel_id"]
    assert "PER-ZZZZ9999" in result.errors["personnel_id"] and "Personnels" in result.errors["personnel_id"]
    assert validate_record(REN, rencontre).ok  # without a snapshot, references are not checked


def test_commune_and_postcode_consistency():
    beaune_with_dijon_code = validate_record(ENT, entreprise(commune_insee="21054"))
    assert "21200" in beaune_with_dijon_code.errors["code_postal"]
    assert validate_record(PER, personnel(code_postal="01590", commune_insee="39102", departement="39")).ok
    wrong_dep = validate_record(PER, personnel(code_postal="21340", commune_insee="71085", departement="21"))
    assert "71" in wrong_dep.errors["departement"]
    filled = validate_record(PER, personnel(code_postal="21340", commune_insee="71085", departement="", commune=""))
    assert filled.ok and filled.clean["departement"] == "71" and filled.clean["commune"] == "Change"
    assert "déduit" in filled.warnings["departement"] and "commune" not in filled.warnings
    cedex = validate_record(ENT, entreprise(code_postal="21079"))
    assert cedex.ok and "CEDEX" in cedex.warnings["code_postal"]
    other_name = validate_record(ENT, entreprise(commune="Beaune"))
    assert other_name.ok and "Dijon" in other_name.warnings["commune"]
    assert validate_record(ENT, entreprise(commune="DIJON")).warnings == {}
    outside = validate_record(ENT, entreprise(commune_insee="75056"))
    assert "Bourgogne-Franche-Comté" in outside.errors["commune_insee"]


def test_missing_insee_suggests_the_communes_of_the_postcode():
    result = validate_record(ENT, entreprise(code_postal="21340", commune_insee=""))
    message = result.errors["commune_insee"]
    assert "Nolay : 21461" in message and "Change : 71085" in message


def test_personnel_academie_and_email():
    result = validate_record(PER, personnel(academie=""))
    assert result.ok and result.clean["academie"] == "Besançon" and result.warnings == {}
    corrected = validate_record(PER, personnel(academie="Dijon"))
    assert corrected.clean["academie"] == "Besançon" and "« Dijon »" in corrected.warnings["academie"]
    private = validate_record(PER, personnel(email="lea.martin@gmail.com"))
    assert private.ok and "académique" in private.warnings["email"]
    school_box = validate_record(PER, personnel(email="ce.0250007X@ac-besancon.fr", uai="0210015C"))
    assert "autre établissement" in school_box.warnings["email"]
    assert validate_record(PER, personnel(email="ce.0250007X@ac-besancon.fr", uai="0250007x")).warnings == {}


def test_a_teacher_without_discipline_gets_a_warning_beside_the_field():
    result = validate_record(PER, personnel(discipline=""))
    assert result.ok and "Discipline non renseignée" in result.warnings["discipline"]
    assert "discipline" not in validate_record(PER, personnel(fonction="CPE", discipline="")).warnings


def test_choice_matching_is_accent_and_case_tolerant():
    result = validate_record(PER, personnel(fonction="CHEF D’ETABLISSEMENT", thematiques="Orientation ; management"))
    assert result.clean["fonction"] == "chef d'établissement"
    assert result.clean["thematiques"] == "management; orientation"


# ---- duplicates ----------------------------------------------------------------------------------------------


@pytest.fixture
def snap():
    return snapshot_of({
        "Entreprises": [
            entreprise(id="ENT-AAAA2222", raison_sociale="SARL Boulangerie Dupont"),
            entreprise(id="ENT-BBBB3333", raison_sociale="Garage Moreau", siret="", code_postal="25000",
                       commune_insee="25056", departement="25", contact_email="contact@garage-moreau.fr"),
        ],
        "Personnels": [personnel(id="PER-AAAA2222")],
    })


def test_same_siret_whatever_the_formatting(snap):
    dups = find_duplicates(ENT, entreprise(raison_sociale="Autre nom", siret="73282932000074",
                                           contact_email="autre@exemple.fr", commune_insee="25056"), snap)
    assert [(d.row_id, d.reason) for d in dups] == [("ENT-AAAA2222", "même SIRET (73282932000074)")]


def test_same_email_case_insensitive(snap):
    dups = find_duplicates(ENT, {"raison_sociale": "X", "contact_email": "CONTACT@Garage-Moreau.fr"}, snap)
    assert [d.row_id for d in dups] == ["ENT-BBBB3333"] and "même email" in dups[0].reason
    person = find_duplicates(PER, {"nom": "Autre", "prenom": "Personne", "email": "Lea.Martin@ac-besancon.fr"}, snap)
    assert [d.row_id for d in person] == ["PER-AAAA2222"]


def test_near_identical_name_in_the_same_commune(snap):
    record = {"raison_sociale": "Boulangerie DUPONT (S.A.S.)", "commune_insee": "21231"}
    dups = find_duplicates(ENT, record, snap)
    assert [d.row_id for d in dups] == ["ENT-AAAA2222"] and "nom presque identique" in dups[0].reason
    assert find_duplicates(ENT, {**record, "raison_sociale": "Boulangeri Dupond"}, snap)  # typos, ratio ≥ 0.9
    assert find_duplicates(ENT, {**record, "commune_insee": "25056"}, snap) == []  # another commune
    assert find_duplicates(ENT, {**record, "raison_sociale": "Boucherie Durand"}, snap) == []


def test_several_reasons_and_exclude_self(snap):
    itself = snap.get("Entreprises", "ENT-AAAA2222").values
    assert find_duplicates(ENT, itself, snap, exclude_id="ENT-AAAA2222") == []
    dups = find_duplicates(ENT, itself, snap)
    assert len(dups) == 1 and dups[0].reason.count(";") == 2  # SIRET, email and name
