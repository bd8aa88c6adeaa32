"""Erasure that erases: after anonymising a person, no cell of any sheet of the workbook still holds their name,
first name, email or phone (any case, any accent, any phone format), read back with openpyxl."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import openpyxl
import pytest

from ecole_entreprise.domain.roles import ADMIN, User
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.census.demo import load_demo
from ecole_entreprise.services.kernel import journal
from ecole_entreprise.services.privacy import redaction, retention, rights
from ecole_entreprise.store.base import Row
from ecole_entreprise.store.workbook import WorkbookStore
from tests.support.memory_store import MemoryStore, seed_programme

TODAY = date(2026, 11, 28)
DPO = User("dpo@region.fr", ADMIN)
# Unique values given to the erased people, so that any match in the workbook is theirs.
COMPANY = {"contact_prenom": "Théodorine", "contact_nom": "Vasseur-Quillac",
           "contact_email": "t.vasseur-quillac@menuiserie-exemple.fr", "contact_telephone": "03 84 27 61 95"}
STAFF = {"prenom": "Anaïs", "nom": "Bérengier", "email": "anais.berengier@ac-exemple.fr",
         "telephone": "+33 6 47 19 83 52"}


def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


def residues(path, person: dict[str, str]) -> list[str]:
    """Every cell of every sheet (hidden ones too) holding one of the person's values: names and email compared
    without case and accents, the phone by its digits whatever the separators and the +33 / 0 prefix."""
    texts = [fold(v) for k, v in person.items() if "telephone" not in k]
    phone = re.sub(r"\D", "", next(v for k, v in person.items() if "telephone" in k))
    national = phone[2:] if phone.startswith("33") else phone[1:]
    found = []
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                value = fold(str(cell.value))
                if any(t in value for t in texts) or national in re.sub(r"\D", "", value):
                    found.append(f"{sheet.title}!{cell.coordinate}: {cell.value}")
    return found


def plant(store, tab: str, row_id: str, **changes) -> None:
    row = store.read().get(tab, row_id)
    store.update(tab, row_id, changes, row.fingerprint)


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    """The demo programme in a local workbook, then the two people's values written wherever people type them."""
    path = tmp_path_factory.mktemp("erasure") / "programme.xlsx"
    store = WorkbookStore(default_schema(), path)
    store.init()
    load_demo(store, today=TODAY)
    snapshot = store.read()
    meeting = next(m for m in snapshot.rows("Rencontres") if m["conclusions_entreprise"] and m["conclusions_personnel"])
    company_id, staff_id = meeting["entreprise_id"], meeting["personnel_id"]
    plant(store, "Entreprises", company_id, **COMPANY)
    plant(store, "Personnels", staff_id, **STAFF)
    # The other party, and third parties, write about them in every free text of the workbook.
    plant(store, "Rencontres", meeting.id,
          conclusions_personnel="Échange très riche avec THEODORINE VASSEUR QUILLAC, rappeler au 03.84.27.61.95.",
          attendus_personnel="Rencontrer Mme Vasseur-Quillac (t.vasseur-quillac@menuiserie-exemple.fr)",
          conclusions_entreprise="Mme Berengier (06 47 19 83 52) viendra avec sa classe ; anais, très motivée.",
          attendus_entreprise="Joindre Anaïs Bérengier : ANAIS.BERENGIER@AC-EXEMPLE.FR ou +33 (0)6 47 19 83 52.",
          lieu="Atelier de Théodorine Vasseur-Quillac, bâtiment B")
    other_meeting = next(m for m in snapshot.rows("Rencontres") if m.id != meeting.id)
    plant(store, "Rencontres", other_meeting.id, motif="Remplacée par Théodorine Vasseur-Quillac, injoignable.")
    other_company = next(r for r in snapshot.rows("Entreprises") if r.id != company_id)
    plant(store, "Entreprises", other_company.id, notes="Recommandée par Théodorine (0384276195).")
    other_staff = next(r for r in snapshot.rows("Personnels") if r.id != staff_id)
    plant(store, "Personnels", other_staff.id, attendus="Venir avec Mme Bérengier, 0033 6 47 19 83 52.")
    [partnership] = store.append("Partenariats", [{
        "uai": "0211234A", "entreprise_id": company_id, "rencontre_id": meeting.id, "types": "visites",
        "statut": "actif", "description": "Suivi par Théodorine Vasseur-Quillac et Anaïs Bérengier."}])
    store.append("Evenements", [{
        "titre": "Visite avec Anaïs Bérengier", "organisateur": "entreprise", "entreprise_id": company_id,
        "partenariat_id": partnership.id, "date": "2026-10-12", "lieu": "Chez Vasseur-Quillac Théodorine",
        "invites": "t.vasseur-quillac@menuiserie-exemple.fr, anais.berengier@ac-exemple.fr",
        "participants": "Théodorine VASSEUR-QUILLAC ; Anais Berengier ; 10 élèves",
        "description": "Tél. 03 84 27 61 95 / 06-47-19-83-52"}])
    for tab, person in (("Entreprises", company_id), ("Personnels", staff_id)):
        request = rights.open_request(store, store.read(), DPO, tab, person, "effacement", TODAY,
                                      notes="Demande reçue de Théodorine Vasseur-Quillac et de Mme Bérengier "
                                            "(anais.berengier@ac-exemple.fr, 06 47 19 83 52).")
    return store, path, company_id, staff_id, request.id


def test_anonymising_a_person_leaves_zero_residues_in_the_whole_workbook(workbook):
    store, path, company_id, staff_id, _ = workbook
    assert len(residues(path, COMPANY)) >= 10 and len(residues(path, STAFF)) >= 10  # the seed did plant them
    result = rights.anonymise(store, store.read(), DPO, "Entreprises", company_id)
    assert residues(path, COMPANY) == []
    assert result.to_check == []
    assert sorted(r.split()[0] for r in result.redacted) == ["Demandes", "Demandes", "Entreprises", "Evenements",
                                                              "Partenariats", "Rencontres", "Rencontres"]
    rights.anonymise(store, store.read(), DPO, "Personnels", staff_id)
    assert residues(path, STAFF) == []
    # What the others wrote is kept around the redaction; the bilan's categories are untouched.
    snapshot = store.read()
    event = next(e for e in snapshot.rows("Evenements") if e["titre"].startswith("Visite avec"))
    assert event["participants"] == f"{redaction.REDACTED} ; {redaction.REDACTED} ; 10 élèves"
    assert snapshot.get("Personnels", staff_id)["fonction"]
    assert journal.verify_chain(snapshot.rows(journal.TAB)).ok


def test_retention_redacts_the_same_way(tmp_path):
    store = seed_programme(MemoryStore())
    plant(store, "Rencontres", "REN-M2", conclusions_entreprise="Voir avec M. NOM-PER-P25, 07.00.00.00.25")
    plant(store, "Partenariats", "PAR-A1", description="Contact : canari.per-p25@ac-exemple.fr")
    for tab, row_id in (("Personnels", "PER-P25"), ("Rencontres", "REN-M2")):  # PER-P25 alone is inactive
        for header in ("Créé le", "Modifié le"):
            store.set_cell(tab, row_id, header, "2020-01-06 10:00:00")
    done, notes = retention.anonymise_inactive(store, store.read(), DPO, date(2026, 11, 28), confirm=True)
    assert [p.id for p in done] == ["PER-P25"] and notes == []
    snapshot = store.read()
    assert snapshot.get("Rencontres", "REN-M2")["conclusions_entreprise"] == \
        f"Voir avec M. {redaction.REDACTED}, {redaction.REDACTED}"
    assert snapshot.get("Partenariats", "PAR-A1")["description"] == f"Contact : {redaction.REDACTED}"


def test_a_purge_does_not_skip_someone_whose_notes_named_an_earlier_erased_person():
    """Erasing PER-P25 redacts PER-P58's notes: that write is the purge's own, not a reason to leave PER-P58."""
    store = seed_programme(MemoryStore())
    plant(store, "Personnels", "PER-P58", notes="Binôme de M. Nom-per-p25")
    for tab, row_id in (("Personnels", "PER-P25"), ("Personnels", "PER-P58"), ("Rencontres", "REN-M2"),
                        ("Rencontres", "REN-M4")):
        for header in ("Créé le", "Modifié le"):
            store.set_cell(tab, row_id, header, "2020-01-06 10:00:00")
    done, notes = retention.anonymise_inactive(store, store.read(), DPO, date(2026, 11, 28), confirm=True)
    assert [p.id for p in done] == ["PER-P25", "PER-P58"] and notes == []


def test_values_outside_free_text_are_reported_not_rewritten():
    store = seed_programme(MemoryStore())
    plant(store, "Partenariats", "PAR-A1", etablissement="Lycée Paul Nom-per-p21")
    plant(store, "Entreprises", "ENT-E25", raison_sociale="Menuiserie Nom-ent-e25")
    result = rights.anonymise(store, store.read(), DPO, "Personnels", "PER-P21")
    assert store.read().get("Partenariats", "PAR-A1")["etablissement"] == "Lycée Paul Nom-per-p21"
    assert result.to_check == ["Partenariats PAR-A1 « Établissement »"]
    assert "PAR-A1" in result.warning_fr()
    company = rights.anonymise(store, store.read(), DPO, "Entreprises", "ENT-E25")
    assert store.read().get("Entreprises", "ENT-E25")["raison_sociale"] == "Menuiserie Nom-ent-e25"
    assert company.to_check == ["Entreprises ENT-E25 « Raison sociale »"]


def test_a_place_named_like_the_person_keeps_its_name_unless_it_is_surely_them():
    """« Logistique Guérin » is a company, not Nathalie Guérin: a lone name in a place is reported, not rewritten;
    her full name, email or phone there is hers and is redacted. Free text loses even the lone name."""
    store = seed_programme(MemoryStore())
    plant(store, "Rencontres", "REN-M1", lieu="Logistique Nom-per-p21, Beaune")
    plant(store, "Rencontres", "REN-M2", lieu="Bureau de Paul Nom-per-p21", motif="Remplacé par Nom-per-p21")
    plant(store, "Entreprises", "ENT-E21", raison_sociale="Nom-per-p21 et fils")
    result = rights.anonymise(store, store.read(), DPO, "Personnels", "PER-P21")
    snapshot = store.read()
    assert snapshot.get("Rencontres", "REN-M1")["lieu"] == "Logistique Nom-per-p21, Beaune"
    assert snapshot.get("Rencontres", "REN-M2")["lieu"] == f"Bureau de {redaction.REDACTED}"
    assert snapshot.get("Rencontres", "REN-M2")["motif"] == f"Remplacé par {redaction.REDACTED}"
    assert snapshot.get("Entreprises", "ENT-E21")["raison_sociale"] == "Nom-per-p21 et fils"  # another company
    assert result.to_check == ["Rencontres REN-M1 « Lieu »"]


@pytest.mark.parametrize("text", ["06 47 19 83 52", "06.47.19.83.52", "0647198352", "+33 6 47 19 83 52",
                                  "+33 (0)6 47 19 83 52", "0033647198352", "06-47-19-83-52", "+33647198352"])
def test_a_phone_is_found_in_any_common_format(text):
    needles = redaction.needles_for("Personnels", _row(telephone="06 47 19 83 52"))
    assert needles.redact(f"appeler le {text} demain") == f"appeler le {redaction.REDACTED} demain"


def test_names_match_whole_words_without_case_or_accents():
    needles = redaction.needles_for("Personnels", _row(nom="Bérengier", prenom="Anaïs"))
    assert needles.redact("ANAIS berengier, Anaïsa et Bérengiers ; Mme BERENGIER") == \
        f"{redaction.REDACTED}, Anaïsa et Bérengiers ; Mme {redaction.REDACTED}"
    assert needles.redact("Anaïs a vu Mme Bérengier", weak=False) == "Anaïs a vu Mme Bérengier"
    assert needles.redact("Chez Bérengier Anaïs", weak=False) == f"Chez {redaction.REDACTED}"
    assert needles.redact("le 064719835200 n'est pas un téléphone de la personne") == \
        "le 064719835200 n'est pas un téléphone de la personne"


def _row(**values) -> Row:
    return Row("PER-X", {name: values.get(name, "") for name in default_schema().tab("Personnels").field_names},
               {}, 2, "")
