"""GDPR pages through Streamlit's AppTest: rights requests, one person's data, retention, the journal, the privacy
notice and the processing register.

Each test has its own workbook in tmp_path, filled with the demo through the app's own cached store.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ecole_entreprise.config import load_settings
from ecole_entreprise.domain.roles import User
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.domain.values import format_date, now_paris, parse_date
from ecole_entreprise.services.census.demo import load_demo
from ecole_entreprise.services.kernel import journal
from ecole_entreprise.services.privacy.rights import add_months
from ecole_entreprise.store import shared_store
from tests.support.workbook_env import WorkbookHuman

ROOT = Path(__file__).resolve().parents[1]
ADMIN = "admin@exemple.fr"
TODAY = date.today()


@pytest.fixture
def workbook(monkeypatch, tmp_path) -> Path:
    path = tmp_path / "classeur.xlsx"
    monkeypatch.setenv("ECOLE_ENTREPRISE_WORKBOOK", str(path))
    store().init()
    load_demo(store())
    return path


def store():
    return shared_store(load_settings())


def fresh():
    return store().read(fresh=True)


def open_page(monkeypatch, page: str, email: str = ADMIN) -> AppTest:
    monkeypatch.setenv("ECOLE_ENTREPRISE_DEV_USER", email)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest, kind: str) -> str:
    return "\n".join(str(e.value) for e in getattr(at, kind))


def journal_actions(target_id: str) -> list[str]:
    return [r["action"] for r in fresh().rows("Journal") if r["cible_id"] == target_id]


def pick(at: AppTest, key: str, tab: str, row_id: str) -> AppTest:
    """Search a person by ID, then choose them."""
    at.text_input(key=f"{key}_q").set_value(row_id)
    rerun(at)
    at.selectbox(key=f"{key}_pick").set_value(f"{tab}|{row_id}")
    return rerun(at)


def a_company(**wanted):
    return next(r for r in fresh().rows("Entreprises") if all(r[k] == v for k, v in wanted.items()))


def consented_company():
    return next(r for r in fresh().rows("Entreprises")
                if r["consentement_partage"] and r["consentement_participation"] and r["statut"] == "validé")


def add_request(received: date, kind: str = "accès", **extra):
    person = a_company()
    [row] = store().append("Demandes RGPD", [{
        "personne_tab": "Entreprises", "personne_id": person.id, "type": kind, "recue_le": format_date(received),
        "echeance": format_date(add_months(received, 1)), "statut": "reçue", **extra}])
    return row


# ---- rights requests --------------------------------------------------------------------------------------


def test_requests_list_highlights_overdue_and_due_soon(workbook, monkeypatch):
    late = add_request(TODAY - timedelta(days=45))
    soon = add_request(TODAY - timedelta(days=27))
    done = add_request(TODAY - timedelta(days=45), statut="traitée")
    at = open_page(monkeypatch, "pages/rgpd.py")
    table = at.dataframe[0].value.set_index("ID")
    assert table.loc[late.id, "Alerte"].startswith("⚠ en retard")
    assert table.loc[soon.id, "Alerte"].startswith("échéance proche")
    assert table.loc[done.id, "Alerte"] == ""  # a closed request is never late
    assert table.loc[late.id, "Échéance"] == add_months(TODAY - timedelta(days=45), 1).strftime("%d/%m/%Y")
    demo = [i for i in table.index if i not in (late.id, soon.id, done.id)]
    assert demo and all(table.loc[i, "Alerte"] == "" for i in demo)  # the demo's requests are not due yet
    assert "1 demande(s) en retard" in texts(at, "error")
    assert "1 demande(s) à traiter dans les sept jours" in texts(at, "warning")


def test_create_request_for_a_person_found_by_search(workbook, monkeypatch):
    person = a_company()
    at = open_page(monkeypatch, "pages/rgpd.py")
    assert at.button(key="new_request_go").disabled  # nobody chosen yet
    pick(at, "new_request", "Entreprises", person.id)
    at.selectbox(key="new_request_kind").set_value("effacement")
    at.text_area(key="new_request_notes").set_value("Courrier du 3")
    at.button(key="new_request_go").click()
    rerun(at)
    [row] = [r for r in fresh().rows("Demandes RGPD") if r["personne_id"] == person.id]
    assert (row["personne_tab"], row["type"], row["statut"], row["notes"]) == (
        "Entreprises", "effacement", "reçue", "Courrier du 3")
    assert parse_date(row["echeance"]) == add_months(TODAY, 1)
    assert f"Demande {row.id} enregistrée" in texts(at, "success")
    assert journal_actions(row.id) == ["demande RGPD"]


def test_search_finds_staff_by_name_without_accents(workbook, monkeypatch):
    staff = next(r for r in fresh().rows("Personnels") if any(c in r["nom"] for c in "éèëç"))
    at = open_page(monkeypatch, "pages/rgpd.py")
    plain = staff["nom"].translate(str.maketrans("éèëç", "eeec")).upper()
    at.text_input(key="person_q").set_value(plain)
    rerun(at)
    assert any(o.endswith(f"({staff.id})") for o in at.selectbox(key="person_pick").options)


def test_extension_refused_after_the_first_month_then_granted(workbook, monkeypatch):
    received = TODAY - timedelta(days=40)
    request = add_request(received)
    at = open_page(monkeypatch, "pages/rgpd.py")
    at.selectbox(key="follow_request").set_value(request.id)
    at.date_input(key="follow_informed").set_value(TODAY)
    at.button(key="follow_extend").click()
    rerun(at)
    assert "Prolongation impossible" in texts(at, "error")
    assert fresh().get("Demandes RGPD", request.id)["echeance"] == request["echeance"]  # nothing written

    at.date_input(key="follow_informed").set_value(received + timedelta(days=10))
    at.button(key="follow_extend").click()
    rerun(at)
    row = fresh().get("Demandes RGPD", request.id)
    assert parse_date(row["echeance"]) == add_months(received, 3)
    assert parse_date(row["prolongation_informee_le"]) == received + timedelta(days=10)
    assert "prolongation demande RGPD" in journal_actions(request.id)


def test_close_request(workbook, monkeypatch):
    request = add_request(TODAY - timedelta(days=3))
    at = open_page(monkeypatch, "pages/rgpd.py")
    at.selectbox(key="follow_request").set_value(request.id)
    at.selectbox(key="follow_status").set_value("rejetée")
    at.button(key="follow_close").click()
    rerun(at)
    row = fresh().get("Demandes RGPD", request.id)
    assert (row["statut"], row["traitee_le"]) == ("rejetée", format_date(TODAY))
    assert journal_actions(request.id) == ["clôture demande RGPD"]
    assert request.id not in at.selectbox(key="follow_request").options[0]
    assert f"Demande {request.id} close (rejetée)." in texts(at, "success")


def test_a_received_request_is_marked_in_progress_and_stays_due(workbook, monkeypatch):
    request = add_request(TODAY - timedelta(days=26))
    at = open_page(monkeypatch, "pages/rgpd.py")
    at.selectbox(key="follow_request").set_value(request.id)
    rerun(at).button(key="follow_start").click()
    rerun(at)
    row = fresh().get("Demandes RGPD", request.id)
    assert (row["statut"], row["echeance"]) == ("en cours", request["echeance"])
    assert journal_actions(request.id) == ["prise en charge demande RGPD"]
    assert "Demande " + request.id + " en cours." in texts(at, "success")
    at.selectbox(key="follow_request").set_value(request.id)
    assert not [b for b in rerun(at).button if b.key == "follow_start"]  # already in progress


# ---- one person -------------------------------------------------------------------------------------------


def test_rectification_opens_the_person_s_form(workbook, monkeypatch):
    person = consented_company()
    at = open_page(monkeypatch, "pages/rgpd.py")
    pick(at, "person", "Entreprises", person.id)
    [link] = [p for p in at.get("page_link") if "rectification" in p.proto.label]
    assert (link.proto.page, link.proto.query_string) == ("entreprises", f"id={person.id}")


def test_access_export_offers_a_zip_and_is_journaled(workbook, monkeypatch):
    person = consented_company()
    at = open_page(monkeypatch, "pages/rgpd.py")
    pick(at, "person", "Entreprises", person.id)
    assert not at.get("download_button")
    assert journal_actions(person.id) == []
    at.button(key=f"export_{person.id}").click()
    rerun(at)
    [download] = at.get("download_button")
    assert download.proto.label == "Télécharger l'export (zip)"
    assert journal_actions(person.id) == ["export droit d'accès"]
    exported_id, data = at.session_state["_rgpd_export"]
    assert exported_id == person.id
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        content = json.loads(archive.read("donnees.json"))
    assert content["personne"][0]["Email du contact"] == person["contact_email"]


def test_anonymisation_requires_confirmation_then_keeps_ids_and_categories(workbook, monkeypatch):
    person = consented_company()
    at = open_page(monkeypatch, "pages/rgpd.py")
    pick(at, "person", "Entreprises", person.id)
    assert at.button(key=f"anon_{person.id}").disabled  # nothing can happen before the confirmation
    assert fresh().get("Entreprises", person.id)["contact_email"] == person["contact_email"]

    at.checkbox(key=f"anon_ok_{person.id}").check()
    rerun(at)
    assert not at.button(key=f"anon_{person.id}").disabled
    at.button(key=f"anon_{person.id}").click()
    rerun(at)
    row = fresh().get("Entreprises", person.id)
    assert row["contact_nom"] == f"Anonyme-{person.id}"
    assert row["contact_email"] == row["contact_telephone"] == row["attendus"] == row["consentement_partage"] == ""
    for kept in ("raison_sociale", "departement", "commune_insee", "formats", "thematiques", "statut"):
        assert row[kept] == person[kept], kept
    assert f"Fiche {person.id} anonymisée" in texts(at, "success")
    assert journal_actions(person.id) == ["anonymisation"]
    assert "déjà anonymisée" in texts(at, "info")


def test_consent_withdrawal_is_one_click_and_journaled(workbook, monkeypatch):
    person = consented_company()
    at = open_page(monkeypatch, "pages/rgpd.py")
    pick(at, "person", "Entreprises", person.id)
    shown = texts(at, "markdown")
    assert f"notice {person['consentement_version']}" in shown
    at.button(key=f"withdraw_partage_{person.id}").click()
    rerun(at)
    row = fresh().get("Entreprises", person.id)
    assert row["consentement_partage"] == ""
    assert row["consentement_participation"] == person["consentement_participation"]
    assert journal_actions(person.id) == ["retrait consentement"]
    assert "retiré" in texts(at, "success")


def test_consent_collected_on_paper_is_recorded_with_version_and_source(workbook, monkeypatch):
    person = consented_company()
    at = open_page(monkeypatch, "pages/rgpd.py")
    pick(at, "person", "Entreprises", person.id)
    at.button(key=f"withdraw_partage_{person.id}").click()
    rerun(at)
    assert at.selectbox(key=f"give_purpose_{person.id}").value == "partage"
    at.text_input(key=f"give_version_{person.id}").set_value("2025-09")  # an earlier published notice
    at.selectbox(key=f"give_source_{person.id}").set_value("coordinateur")
    at.button(key=f"give_{person.id}").click()
    rerun(at)
    row = fresh().get("Entreprises", person.id)
    assert row["consentement_partage"].startswith(now_paris().date().isoformat())
    assert (row["consentement_version"], row["consentement_source"]) == ("2025-09", "coordinateur")
    assert journal_actions(person.id) == ["retrait consentement", "consentement"]


# ---- retention --------------------------------------------------------------------------------------------


def make_inactive(workbook: Path, tab: str, row_id: str) -> None:
    """A person untouched since 2020 (as if edited in the sheet), with no meeting."""
    human = WorkbookHuman(workbook, default_schema())
    number = fresh().get(tab, row_id).row_number
    human.set_cell(tab, number, "Créé le", "2020-01-06 10:00:00")
    human.set_cell(tab, number, "Modifié le", "2020-01-06 10:00:00")
    store().invalidate()


def test_inactive_people_anonymised_only_after_confirmation_with_progress(workbook, monkeypatch):
    met = {r["entreprise_id"] for r in fresh().rows("Rencontres")}
    idle = [r for r in fresh().rows("Entreprises") if r.id not in met][:2]
    assert len(idle) == 2
    for row in idle:
        make_inactive(workbook, "Entreprises", row.id)
    at = open_page(monkeypatch, "pages/rgpd.py")
    listed = at.dataframe[1].value
    assert sorted(listed["Personne"].str.extract(r"\((ENT-\w+)\)$")[0]) == sorted(r.id for r in idle)
    assert at.button(key="retention_go").disabled
    assert all(not fresh().get("Entreprises", r.id)["contact_nom"].startswith("Anonyme-") for r in idle)

    at.checkbox(key="retention_ok").check()
    rerun(at)
    at.button(key="retention_go").click()
    rerun(at)
    [bar] = at.get("progress")
    assert (bar.value, bar.proto.text) == (100, "2 / 2 fiche(s) anonymisée(s).")
    assert "2 fiche(s) anonymisée(s)" in texts(at, "success")
    assert "Aucune fiche inactive à anonymiser." in texts(at, "success")
    for row in idle:
        assert fresh().get("Entreprises", row.id)["contact_nom"] == f"Anonyme-{row.id}"
        assert journal_actions(row.id) == ["anonymisation"]


def test_journal_purge_needs_a_dry_run_first(workbook, monkeypatch):
    old = [journal.record(store(), "ancien@exemple.fr", "export droit d'accès", "Entreprises", f"ENT-OLD{i}",
                          when=datetime(2020, 1, 6 + i, 10)) for i in range(3)]
    recent = journal.record(store(), ADMIN, "consentement", "Entreprises", "ENT-RECENT")
    at = open_page(monkeypatch, "pages/rgpd.py")
    assert not [b for b in at.button if b.key == "purge_go"]  # no purge before the simulation
    at.button(key="purge_preview").click()
    rerun(at)
    assert "Simulation : 3 entrée(s) seraient supprimées" in texts(at, "info")
    preview = at.dataframe[-1].value
    assert list(preview["ID"]) == [row.id for row in old]
    assert len(fresh().rows("Journal")) == 4  # the simulation deleted nothing

    at.checkbox(key="purge_ok").check()
    rerun(at)
    at.button(key="purge_go").click()
    rerun(at)
    rows = fresh().rows("Journal")
    assert [r.id for r in rows][:1] == [recent.id]
    assert rows[-1]["action"] == "purge journal"
    assert journal.verify_chain(rows).ok
    assert "3 entrée(s) supprimée(s) du journal." in texts(at, "success")


# ---- refusals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["coord.dijon@exemple.fr", "coord.cpme21@exemple.fr", "comite@exemple.fr"])
def test_gdpr_pages_are_not_in_the_navigation_of_other_roles(workbook, monkeypatch, email):
    monkeypatch.setenv("ECOLE_ENTREPRISE_DEV_USER", email)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    for page in ("pages/rgpd.py", "pages/journal.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


@pytest.mark.parametrize("page,role", [("pages/rgpd.py", "coordinateur CPME"),
                                       ("pages/journal.py", "comité de pilotage"),
                                       ("pages/registre.py", "coordinateur académie")])
def test_page_refuses_a_role_without_the_permission(workbook, page, role):
    """Opened directly (a stale link, a role changed meanwhile): the page itself refuses and shows nothing else."""
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    at.session_state["_user"] = User(email="quelquun@exemple.fr", role=role)
    at.run()
    assert [e.value for e in at.error] == ["Votre rôle ne donne pas accès à cette page. Adressez-vous au service "
                                           "école-entreprise."]
    assert not at.dataframe and not at.title and not at.get("download_button")


# ---- journal ----------------------------------------------------------------------------------------------


def test_journal_filters_and_intact_chain(workbook, monkeypatch):
    journal.record(store(), ADMIN, "consentement", "Entreprises", "ENT-AAA")
    journal.record(store(), "coord.dijon@exemple.fr", "divulgation coordonnées", "Personnels", "PER-BBB")
    journal.record(store(), ADMIN, "export droit d'accès", "Personnels", "PER-CCC")
    at = open_page(monkeypatch, "pages/journal.py")
    assert "chaîne de hachage intègre (3 entrée(s) vérifiée(s))" in texts(at, "success")
    assert len(at.dataframe[0].value) == 3
    at.multiselect(key="journal_actor").set_value([ADMIN])
    rerun(at)
    assert sorted(at.dataframe[0].value["ID cible"]) == ["ENT-AAA", "PER-CCC"]
    at.multiselect(key="journal_action").set_value(["export droit d'accès"])
    rerun(at)
    assert list(at.dataframe[0].value["ID cible"]) == ["PER-CCC"]
    at.multiselect(key="journal_action").set_value([])
    at.text_input(key="journal_target").set_value("ent-")
    rerun(at)
    assert list(at.dataframe[0].value["ID cible"]) == ["ENT-AAA"]


def test_journal_period_filter(workbook, monkeypatch):
    journal.record(store(), ADMIN, "consentement", "Entreprises", "ENT-OLD", when=datetime(2025, 3, 1, 9))
    journal.record(store(), ADMIN, "consentement", "Entreprises", "ENT-NEW")
    at = open_page(monkeypatch, "pages/journal.py")
    at.date_input(key="journal_period").set_value((date(2025, 2, 1), date(2025, 3, 31)))
    rerun(at)
    assert list(at.dataframe[0].value["ID cible"]) == ["ENT-OLD"]


def test_journal_names_the_first_broken_entry(workbook, monkeypatch):
    rows = [journal.record(store(), ADMIN, "consentement", "Entreprises", f"ENT-{i}") for i in range(3)]
    WorkbookHuman(workbook, default_schema()).set_cell("Journal", rows[1].row_number, "Détails", "retouché")
    store().invalidate()
    at = open_page(monkeypatch, "pages/journal.py")
    message = texts(at, "error")
    assert f"ligne {rows[1].row_number} (entrée {rows[1].id})" in message
    assert "1 entrée(s) intègre(s) avant la rupture" in message


# ---- privacy notice and register --------------------------------------------------------------------------


def test_privacy_notice_is_public_and_shows_its_version(workbook, monkeypatch):
    version = next(r for r in fresh().rows("Parametres") if r["cle"] == "version_notice")
    store().update("Parametres", version.id, {"valeur": "2026-11"}, version.fingerprint)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)  # nobody signed in
    at.run()
    assert [t.value for t in at.title] == ["Rencontres École–Entreprise BFC"]  # the login page
    at.switch_page("pages/confidentialite.py")
    rerun(at)
    assert "version 2026-11" in texts(at, "caption")
    assert "Réclamation" in texts(at, "markdown")


def test_register_for_the_comite_with_markdown_download(workbook, monkeypatch):
    at = open_page(monkeypatch, "pages/registre.py", "comite@exemple.fr")
    [download] = at.get("download_button")
    assert download.proto.label == "Télécharger (Markdown)"
    assert "Registre des activités de traitement (article 30 du RGPD)" in texts(at, "markdown")
    assert "| Durées de conservation | Anonymisation après 24 mois" in texts(at, "markdown")


# ---- accounts ---------------------------------------------------------------------------------------------


def test_accounts_are_added_and_deactivated_with_their_outcome_shown(workbook, monkeypatch):
    at = open_page(monkeypatch, "pages/utilisateurs.py")
    assert at.selectbox[0].options == list(default_schema().lists["roles"])  # the roles the admin may assign
    at.text_input[0].set_value("pas-une-adresse")
    at.button[0].click()  # the form's « Ajouter »
    rerun(at)
    assert "n'est pas une adresse électronique" in texts(at, "error")
    at.text_input[0].set_value("Nouvelle@Exemple.fr")
    at.selectbox[0].set_value("comité de pilotage")
    at.button[0].click()
    rerun(at)
    assert "Nouvelle@Exemple.fr ajouté." in texts(at, "success").replace("\u2060", "")  # plain(): no mail link
    [row] = [r for r in fresh().rows("Utilisateurs") if r["email"] == "nouvelle@exemple.fr"]
    assert (row["role"], row["actif"]) == ("comité de pilotage", "oui")

    at.selectbox[1].set_value(row.id)
    rerun(at)
    [switch] = [b for b in at.button if b.label == "Désactiver"]
    switch.click()
    rerun(at)
    assert fresh().get("Utilisateurs", row.id)["actif"] == "non"
    assert "Compte désactivé." in texts(at, "success")
    assert [b.label for b in at.button if b.label in ("Désactiver", "Réactiver")] == ["Réactiver"]
