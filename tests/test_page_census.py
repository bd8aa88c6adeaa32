"""Entreprises / Personnels pages through Streamlit's AppTest, on a real demo workbook.

Each test gets its own workbook path (the store is cached process-wide per path) and its own identity.
"""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ecole_entreprise.config import load_settings
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.store import shared_store
from ecole_entreprise.store.workbook import WorkbookStore

ROOT = Path(__file__).resolve().parents[1]
CPME = "coord.cpme21@exemple.fr"  # edits companies of 21, 58, 71, 89
DIJON = "coord.dijon@exemple.fr"  # edits staff of the académie de Dijon, reads companies
NEW = "form_Entreprises_new"
GOOD_SIRET = "732 829 320 00074"
BAD_SIRET = "732 829 320 00075"  # one digit off: fails the check digit


@pytest.fixture
def workbook(app_workbook):
    """This test's own copy of the demo workbook (tests/conftest.py)."""
    return app_workbook



def store():
    return shared_store(load_settings())


def rows(tab="Entreprises"):
    return store().read(fresh=True).rows(tab)


def open_page(monkeypatch, email, page="pages/entreprises.py", record_id="") -> AppTest:
    monkeypatch.setenv("ECOLE_ENTREPRISE_DEV_USER", email)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    at.switch_page(page)
    if record_id:
        at.query_params["id"] = record_id
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at, kind) -> list[str]:
    return [str(e.value) for e in getattr(at, kind)]


def fill(at, prefix, **values) -> None:
    for name, value in values.items():
        at.text_input(key=f"{prefix}_{name}").set_value(value)
    at.run()


def company(at, siret=GOOD_SIRET, name="Chaudronnerie Démo Nouvelle", email="demo.contact@exemple-nouvelle.fr"):
    """Type a new company in the form (the commune select appears once the postal code is in)."""
    fill(at, NEW, raison_sociale=name, siret=siret, code_postal="21000", contact_nom="Nouvelle",
         contact_prenom="Agathe", contact_email=email)
    assert at.selectbox(key=f"{NEW}_commune_21000").value == "21231"  # Dijon, the only commune of 21000


def save(at, label="Créer la fiche") -> AppTest:
    next(b for b in at.button if b.label == label).click()
    at.run()
    assert not at.exception, at.exception
    return at


def column_with(at, label):
    """The form column holding the input labelled `label` (its message is shown right under it)."""
    return next(c for c in at.columns if any(w.label == label for w in c.text_input))


# ---- list ------------------------------------------------------------------------------------------------


def test_list_shows_the_coordinators_rows_paginated_searchable_filterable(workbook, monkeypatch):
    at = open_page(monkeypatch, CPME)
    in_scope = [r for r in rows() if r["departement"] in ("21", "58", "71", "89")]
    assert "Entreprises" in texts(at, "title")
    assert any(f"{len(in_scope)} fiche(s) sur {len(in_scope)}" in c for c in texts(at, "caption"))
    table = at.dataframe[0].value
    assert len(table) == min(25, len(in_scope)) and "Raison sociale" in table.columns
    assert set(table["ID"]) <= {r.id for r in in_scope}

    first_page = set(table["ID"])
    at.number_input(key="p_Entreprises").set_value(2).run()
    second_page = set(at.dataframe[0].value["ID"])
    assert len(second_page) == len(in_scope) - 25 and not first_page & second_page

    at.number_input(key="p_Entreprises").set_value(1).run()
    target = in_scope[7]
    at.text_input(key="q_Entreprises").set_value(target["raison_sociale"].upper()).run()
    assert target.id in set(at.dataframe[0].value["ID"])

    at.text_input(key="q_Entreprises").set_value("").run()
    at.multiselect(key="f_Entreprises_departement").set_value(["58"]).run()
    assert set(at.dataframe[0].value["Département"]) == {"58"}
    assert len(at.dataframe[0].value) == sum(1 for r in in_scope if r["departement"] == "58")

    at.multiselect(key="f_Entreprises_departement").set_value([]).run()
    pending = {r.id for r in in_scope if r["statut"] == "à valider"}
    assert any(f"{len(pending)} inscription(s) « à valider »" in i for i in texts(at, "info"))
    at.button(key="show_pending_Entreprises").click().run()
    assert pending and set(at.dataframe[0].value["ID"]) == pending


def test_counterpart_coordinator_reads_companies_without_contact_details(workbook, monkeypatch):
    at = open_page(monkeypatch, DIJON)
    table = at.dataframe[0].value
    assert "Raison sociale" in table.columns and "Email du contact" not in table.columns
    target = rows()[0]
    at = open_page(monkeypatch, DIJON, record_id=target.id)
    assert not any(b.label.startswith("Enregistrer") for b in at.button)
    shown = " ".join(str(cell) for t in at.table for cell in t.value.to_numpy().ravel())
    assert target["raison_sociale"] in shown and target["contact_email"] not in shown


# ---- create ----------------------------------------------------------------------------------------------


def test_a_bad_siret_shows_the_french_message_under_the_field_and_writes_nothing(workbook, monkeypatch):
    before = len(rows())
    at = open_page(monkeypatch, CPME)
    company(at, siret=BAD_SIRET)
    save(at)
    siret_column = column_with(at, "SIRET")
    assert any("clé de contrôle" in m.value for m in siret_column.markdown), [m.value for m in siret_column.markdown]
    assert any("n'a pas été enregistrée" in e for e in texts(at, "error"))
    assert len(rows()) == before


def test_a_valid_create_writes_exactly_one_row_and_opens_it(workbook, monkeypatch):
    before = {r.id for r in rows()}
    at = open_page(monkeypatch, CPME)
    company(at)
    at.checkbox(key=f"{NEW}_consent_participation").check()
    save(at)
    created = [r for r in rows() if r.id not in before]
    assert len(created) == 1
    row = created[0]
    assert row["siret"] == "73282932000074" and row["commune"] == "Dijon" and row["departement"] == "21"
    assert row["statut"] == "validé" and row["source"] == "saisie"
    assert row["consentement_participation"] and not row["consentement_partage"]
    assert row["consentement_source"] == "coordinateur" and row["consentement_version"] == "2025-09"
    assert at.query_params["id"] == [row.id] or at.query_params["id"] == row.id
    assert any(row.id in s for s in texts(at, "success"))


def test_back_to_the_list_lands_on_the_list_tab_whatever_tab_the_session_kept(workbook, monkeypatch):
    """A person who clicks « Retour à la liste » before the record's run has ended keeps the tab chosen before
    (« Nouvelle fiche », where the record was created): the list must show all the same."""
    record = rows()[0]
    at = open_page(monkeypatch, CPME, record_id=record.id)
    at.session_state["view_Entreprises"] = "Nouvelle fiche"
    at.button(key="back_to_list").click().run()
    assert not at.exception, at.exception
    assert "id" not in at.query_params
    assert at.session_state["view_Entreprises"] == "Liste"
    assert [t.label for t in at.tabs] == ["Liste", "Nouvelle fiche"]


def test_a_duplicate_is_flagged_with_a_link_and_needs_confirmation(workbook, monkeypatch):
    existing = next(r for r in rows() if r["departement"] == "21" and r["siret"])
    before = len(rows())
    at = open_page(monkeypatch, CPME)
    company(at, siret=existing["siret"])
    save(at)
    assert any("probablement identique" in w for w in texts(at, "warning"))
    assert any(f"(?id={existing.id})" in m and "SIRET" in m for m in texts(at, "markdown"))
    assert len(rows()) == before
    at.checkbox(key=f"{NEW}_confirm").check()
    save(at)
    assert len(rows()) == before + 1


def test_a_cedex_postal_code_offers_the_communes_of_its_departement_and_warns(workbook, monkeypatch):
    at = open_page(monkeypatch, CPME)
    fill(at, NEW, code_postal="21044")
    assert any("CEDEX" in w for w in texts(at, "warning"))
    select = at.selectbox(key=f"{NEW}_commune_21044")
    assert "21231" in select.options or "Dijon (21231)" in select.options
    select.set_value("21231").run()
    assert any("CEDEX" in m and "21000" in m for m in texts(at, "markdown"))


def test_a_company_outside_the_coordinators_departements_is_refused(workbook, monkeypatch):
    before = len(rows())
    at = open_page(monkeypatch, CPME)
    fill(at, NEW, raison_sociale="Horlogerie Démo Doubs", code_postal="25000", contact_nom="Doubs",
         contact_prenom="Léa", contact_email="demo.doubs@exemple-doubs.fr")
    save(at)
    assert any("hors de votre périmètre" in e for e in texts(at, "error"))
    assert len(rows()) == before


# ---- edit, conflict, archive, validate -------------------------------------------------------------------


def _in_scope(status="validé"):
    return next(r for r in rows() if r["departement"] == "21" and r["statut"] == status)


def test_edit_saves_only_valid_changes(workbook, monkeypatch):
    target = _in_scope()
    at = open_page(monkeypatch, CPME, record_id=target.id)
    prefix = f"form_Entreprises_{target.id}"
    fill(at, prefix, siret=BAD_SIRET)
    save(at, "Enregistrer les modifications")
    assert any("clé de contrôle" in m.value for m in column_with(at, "SIRET").markdown)
    assert store().read(fresh=True).get("Entreprises", target.id)["siret"] == target["siret"]

    fill(at, prefix, siret=GOOD_SIRET, contact_fonction="Directrice des opérations")
    save(at, "Enregistrer les modifications")
    saved = store().read(fresh=True).get("Entreprises", target.id)
    assert saved["siret"] == "73282932000074" and saved["contact_fonction"] == "Directrice des opérations"
    assert any("enregistrée" in s for s in texts(at, "success"))


def test_a_bad_value_in_a_hidden_column_is_named_and_does_not_block_the_save(workbook, monkeypatch):
    target = _in_scope()
    typed = WorkbookStore(default_schema(), workbook)  # a person types a bad date straight into the sheet
    typed.update("Entreprises", target.id, {"informer_avant": "bientôt"},
                 typed.read().get("Entreprises", target.id).fingerprint)
    at = open_page(monkeypatch, CPME, record_id=target.id)
    fill(at, f"form_Entreprises_{target.id}", contact_fonction="Gérante")
    save(at, "Enregistrer les modifications")
    saved = store().read(fresh=True).get("Entreprises", target.id)
    assert (saved["contact_fonction"], saved["informer_avant"]) == ("Gérante", "bientôt")
    [flash] = [s for s in texts(at, "success") if "enregistrée" in s]
    assert "À corriger dans la feuille : « À informer avant le »" in flash


def test_a_change_made_meanwhile_in_the_sheet_is_a_conflict_showing_both_versions(workbook, monkeypatch):
    target = _in_scope()
    at = open_page(monkeypatch, CPME, record_id=target.id)
    fill(at, f"form_Entreprises_{target.id}", contact_fonction="Fonction saisie dans l'app")
    other = WorkbookStore(default_schema(), workbook)  # someone else, straight into the workbook
    other.update("Entreprises", target.id, {"contact_fonction": "Fonction saisie dans la feuille"},
                 other.read().get("Entreprises", target.id).fingerprint)
    save(at, "Enregistrer les modifications")
    assert any("modifiée par quelqu'un d'autre" in e for e in texts(at, "error"))
    both = " ".join(str(cell) for t in at.table for cell in t.value.to_numpy().ravel())
    assert "Fonction saisie dans la feuille" in both and "Fonction saisie dans l'app" in both
    assert store().read(fresh=True).get("Entreprises", target.id)["contact_fonction"] == \
        "Fonction saisie dans la feuille"


def test_archive_needs_confirmation_and_keeps_the_row(workbook, monkeypatch):
    target = _in_scope()
    at = open_page(monkeypatch, CPME, record_id=target.id)
    button = at.button(key=f"archive_{target.id}")
    assert button.disabled
    at.checkbox(key=f"archive_ok_{target.id}").check().run()
    at.button(key=f"archive_{target.id}").click().run()
    row = store().read(fresh=True).get("Entreprises", target.id)
    assert row is not None and row["statut"] == "archivé"
    assert any("archivée" in i for i in texts(at, "info"))


def test_a_coordinator_validates_a_self_registration(workbook, monkeypatch):
    target = _in_scope("à valider")
    at = open_page(monkeypatch, CPME, record_id=target.id)
    at.button(key=f"validate_{target.id}_go").click().run()
    assert not at.exception, at.exception
    assert store().read(fresh=True).get("Entreprises", target.id)["statut"] == "validé"
    assert any("validée" in s for s in texts(at, "success"))


def test_a_registration_that_cannot_be_validated_shows_each_message_under_its_field(workbook, monkeypatch):
    target = _in_scope("à valider")
    store().update("Entreprises", target.id, {"siret": BAD_SIRET.replace(" ", "")}, target.fingerprint)
    at = open_page(monkeypatch, CPME, record_id=target.id)
    at.button(key=f"validate_{target.id}_go").click().run()
    assert not at.exception, at.exception
    assert any("clé de contrôle" in m.value for m in column_with(at, "SIRET").markdown)
    assert any("n'a pas été validée" in e for e in texts(at, "error"))
    assert not any("clé de contrôle" in e for e in texts(at, "error"))  # said once, where the field is
    assert store().read(fresh=True).get("Entreprises", target.id)["statut"] == "à valider"
    fill(at, f"form_Entreprises_{target.id}", siret=GOOD_SIRET)
    save(at, "Enregistrer les modifications")
    at.button(key=f"validate_{target.id}_go").click().run()
    assert store().read(fresh=True).get("Entreprises", target.id)["statut"] == "validé"


def test_staff_page_creates_a_staff_member_for_the_academie_coordinator(workbook, monkeypatch):
    before = {r.id for r in rows("Personnels")}
    at = open_page(monkeypatch, DIJON, page="pages/personnels.py")
    prefix = "form_Personnels_new"
    at.selectbox(key=f"{prefix}_fonction").set_value("CPE")
    at.selectbox(key=f"{prefix}_canal").set_value("CLEE")
    fill(at, prefix, nom="Nouvelle", prenom="Agathe", code_postal="21000", email="demo.agathe.nouvelle@ac-dijon.fr")
    save(at)
    created = [r for r in rows("Personnels") if r.id not in before]
    assert len(created) == 1 and created[0]["academie"] == "Dijon" and created[0]["commune_insee"] == "21231"


def test_a_consent_collected_later_is_recorded_then_withdrawn(workbook, monkeypatch):
    target = next(r for r in rows() if r["departement"] == "21" and r["statut"] == "validé"
                  and not r["consentement_partage"])
    at = open_page(monkeypatch, CPME, record_id=target.id)
    at.button(key=f"consent_partage_{target.id}").click().run()
    row = store().read(fresh=True).get("Entreprises", target.id)
    assert row["consentement_partage"] and row["consentement_source"] == "coordinateur"
    assert any("Consentement enregistré" in s for s in texts(at, "success"))
    at.button(key=f"consent_partage_{target.id}").click().run()
    assert store().read(fresh=True).get("Entreprises", target.id)["consentement_partage"] == ""


# ---- errors next to the field the person sees (issue 17) ------------------------------------------------


def place_box(at):
    """The bordered box holding the postal code and the commune list, with their messages."""
    boxes = [c for c in at.get("container") if any(w.label == "Code postal *" for w in c.text_input)]
    return min(boxes, key=lambda c: len(c.text_input))  # the innermost


def test_a_commune_left_unchosen_is_said_under_the_commune_list_in_the_persons_words(workbook, monkeypatch):
    before = len(rows())
    at = open_page(monkeypatch, CPME)
    fill(at, NEW, raison_sociale="Chaudronnerie Démo Sans Commune", siret=GOOD_SIRET, code_postal="21110",
         contact_nom="Commune", contact_prenom="Agathe", contact_email="demo.commune@exemple-commune.fr")
    assert at.selectbox(key=f"{NEW}_commune_21110").value is None  # 25 communes: none chosen for the person
    save(at)
    said = [m.value for m in place_box(at).markdown]
    assert any("Commune introuvable : choisissez-la dans la liste" in m for m in said), said
    everything = " ".join(texts(at, "markdown") + texts(at, "error"))
    assert "Code INSEE" not in everything and "Département" not in " ".join(said)
    assert any("n'a pas été enregistrée" in e for e in texts(at, "error"))
    assert len(rows()) == before


def test_an_out_of_scope_commune_is_said_under_it_as_soon_as_it_is_chosen(workbook, monkeypatch):
    at = open_page(monkeypatch, CPME)
    fill(at, NEW, code_postal="25000")  # Besançon, Doubs: not one of the CPME 21 coordinator's départements
    assert at.selectbox(key=f"{NEW}_commune_25000").value == "25056"
    said = [m.value for m in place_box(at).markdown]
    assert any("hors de votre périmètre" in m and "21, 58, 71, 89" in m for m in said), said
    assert not texts(at, "error")  # nothing submitted yet: only the message under the commune
    fill(at, NEW, code_postal="21000")
    assert not any("hors de votre périmètre" in m.value for m in place_box(at).markdown)


def test_a_message_of_a_field_the_form_does_not_show_is_listed_above_the_button(workbook, monkeypatch):
    target = _in_scope()
    typed = WorkbookStore(default_schema(), workbook)
    at = open_page(monkeypatch, CPME, record_id=target.id)
    prefix = f"form_Entreprises_{target.id}"
    # The consents are never edited as plain fields: a (forged) edit of one is refused by the service.
    at.session_state[f"{prefix}_contact_fonction"] = "Gérante"
    from pages import _census

    original = _census.census.edit

    def forged(store_, snapshot, user, tab, row_id, values, fingerprint, **kwargs):
        return original(store_, snapshot, user, tab, row_id, {**values, "consentement_partage": "01/01/2020"},
                        fingerprint, **kwargs)

    monkeypatch.setattr(_census.census, "edit", forged)
    save(at, "Enregistrer les modifications")
    assert any("encadré « Consentements »" in e for e in texts(at, "error"))
    assert typed.read().get("Entreprises", target.id)["contact_fonction"] == target["contact_fonction"]


# ---- several records « à valider » at once (issue 17, point 4) -------------------------------------------


def test_a_coordinator_validates_several_registrations_after_confirming(workbook, monkeypatch):
    pending = [r for r in rows("Personnels") if r["statut"] == "à valider"
               and r["departement"] in ("21", "58", "71", "89")]
    assert len(pending) >= 3 and any(not r["consentement_participation"] for r in pending)
    at = open_page(monkeypatch, DIJON, page="pages/personnels.py")
    at.toggle(key="bulk_Personnels_on").set_value(True).run()
    choose = at.multiselect(key="bulk_Personnels")
    labels = list(choose.options)
    assert any(pending[0]["nom"] in label for label in labels), labels  # names, not bare IDs
    choose.set_value([r.id for r in pending]).run()
    at.button(key="bulk_Personnels_ask").click().run()
    assert any(f"Valider {len(pending)} fiche(s) ?" in w for w in texts(at, "warning"))
    assert all(r["statut"] == "à valider" for r in rows("Personnels") if r.id in {p.id for p in pending})
    at.button(key="bulk_Personnels_go").click().run()
    assert not at.exception, at.exception
    after = {r.id: r for r in rows("Personnels")}
    consented = [r for r in pending if r["consentement_participation"]]
    assert all(after[r.id]["statut"] == "validé" for r in consented)
    assert all(after[r.id]["statut"] == "à valider" for r in pending if r not in consented)
    assert any(f"{len(consented)} fiche(s) validée(s), {len(pending) - len(consented)} refusée(s)" in s
               for s in texts(at, "success"))
    refused = " ".join(str(cell) for t in at.table for cell in t.value.to_numpy().ravel())
    assert "consentement à participer non recueilli" in refused
    journal = [e for e in store().read(fresh=True).rows("Journal") if e["action"] == "validation fiche"]
    assert sorted(e["cible_id"] for e in journal) == sorted(r.id for r in consented)


def test_cancelling_the_bulk_validation_validates_nothing(workbook, monkeypatch):
    pending = [r for r in rows() if r["statut"] == "à valider" and r["departement"] in ("21", "58", "71", "89")]
    at = open_page(monkeypatch, CPME)
    at.toggle(key="bulk_Entreprises_on").set_value(True).run()
    at.multiselect(key="bulk_Entreprises").set_value([r.id for r in pending]).run()
    at.button(key="bulk_Entreprises_ask").click().run()
    at.button(key="bulk_Entreprises_cancel").click().run()
    assert not any("fiche(s) ?" in w for w in texts(at, "warning"))
    assert all(r["statut"] == "à valider" for r in rows() if r.id in {p.id for p in pending})


def test_the_counterpart_coordinator_is_offered_no_bulk_validation(workbook, monkeypatch):
    at = open_page(monkeypatch, DIJON)  # reads companies, edits none
    assert not [t for t in at.toggle if t.key == "bulk_Entreprises_on"]


# ---- export of the list (issue 17, point 4) ----------------------------------------------------------------


def exports_journaled():
    return [e for e in store().read(fresh=True).rows("Journal") if e["action"] == "export données personnelles"]


def test_the_list_export_is_journaled_once_before_it_is_offered(workbook, monkeypatch):
    canary = "canari.page@exemple-canari.fr"
    target = next(r for r in rows() if r["departement"] == "58")
    store().update("Entreprises", target.id, {"contact_email": canary}, target.fingerprint)
    at = open_page(monkeypatch, DIJON)
    at.multiselect(key="f_Entreprises_departement").set_value(["58"]).run()
    assert not at.download_button  # nothing sent before the journal has it
    at.button(key="export_Entreprises_prepare").click().run()
    assert not at.exception and not texts(at, "error"), texts(at, "error")
    [entry] = exports_journaled()
    shown = {r.id for r in rows() if r["departement"] == "58"}
    assert journal_targets(entry) == shown and entry["acteur"] == DIJON
    assert "contact_email" not in entry["champs"]  # this coordinator's file has no contact details
    [button] = at.download_button
    assert button.label.startswith("Télécharger la liste affichée")
    offered = at.session_state["export_Entreprises_file"][1].data  # the bytes the button hands over
    assert canary.encode() not in offered and "Email du contact" not in offered.decode("utf-8-sig")
    assert target["raison_sociale"] in offered.decode("utf-8-sig")
    at.run()
    assert len(exports_journaled()) == 1


def journal_targets(entry):
    from ecole_entreprise.services.kernel import journal

    return journal.targets_of(entry)


def test_the_public_form_says_an_unchosen_commune_under_the_commune_list(workbook, monkeypatch):
    monkeypatch.delenv("ECOLE_ENTREPRISE_DEV_USER", raising=False)  # nobody signed in
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/inscription_entreprise.py")
    at.run()
    before = len(rows())
    fill(at, "signup_Entreprises", raison_sociale="Imprimerie Démo Sans Commune", code_postal="21110",
         contact_nom="Commune", contact_prenom="Hélène", contact_email="demo.helene@exemple-commune.fr")
    at.checkbox(key="signup_Entreprises_participation").check()
    at.button(key="signup_Entreprises_send").click().run()
    assert not at.exception, at.exception
    said = [m.value for m in place_box(at).markdown]
    assert any("Commune introuvable : choisissez-la dans la liste" in m for m in said), said
    assert "Code INSEE" not in " ".join(texts(at, "markdown") + texts(at, "error"))
    assert len(rows()) == before
