"""Census service on the real local workbook: create / edit / archive / validate, duplicates, conflicts, lists."""

import pytest

from ecole_entreprise.domain.roles import ADMIN, COMITE, COORD_CPME, User, parse_scope
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.census import records as census
from ecole_entreprise.services.kernel.access import AccessDenied
from ecole_entreprise.store.workbook import WorkbookStore

ADMIN_USER = User(email="admin@exemple.fr", role=ADMIN)
TAB = "Entreprises"


def company(**extra):
    base = {"raison_sociale": "Menuiserie Démo Lambert", "siret": "732 829 320 00074", "code_postal": "21000",
            "commune_insee": "21231", "contact_nom": "Lambert", "contact_prenom": "Léa",
            "contact_email": "Lea.Lambert@Exemple-Entreprise.fr", "contact_telephone": "03 80 44 84 00"}
    base.update(extra)
    return base


@pytest.fixture
def store(tmp_path):
    store = WorkbookStore(default_schema(), tmp_path / "census.xlsx")
    store.init()
    return store


def rows(store, tab=TAB):
    return store.read().rows(tab)


def test_create_writes_canonical_values_and_defaults(store):
    result = census.create(store, store.read(), ADMIN_USER, TAB, company())
    assert result.ok and result.errors == {}
    [row] = rows(store)
    assert row.id == result.row.id and row.id.startswith("ENT-")
    assert row["siret"] == "73282932000074"
    assert row["contact_telephone"] == "+33380448400"
    assert row["contact_email"] == "Lea.Lambert@exemple-entreprise.fr"
    assert row["departement"] == "21" and row["commune"] == "Dijon"  # derived from the INSEE code
    assert row["statut"] == "validé" and row["source"] == "saisie" and row["capacite_annuelle"] == "1"


def test_validation_errors_are_french_and_nothing_is_written(store):
    result = census.create(store, store.read(), ADMIN_USER, TAB,
                           company(siret="73282932000075", contact_email="", code_postal="25000"))
    assert not result.ok and result.row is None
    assert "SIRET" in result.errors["siret"] and "clé de contrôle" in result.errors["siret"]
    assert "obligatoire" in result.errors["contact_email"]
    assert "25000" in result.errors["code_postal"] and "Dijon" in result.errors["code_postal"]
    assert rows(store) == []


def test_duplicates_are_returned_before_create_and_can_be_confirmed(store):
    first = census.create(store, store.read(), ADMIN_USER, TAB, company()).row
    again = company(raison_sociale="Autre nom SARL", contact_email="autre@exemple-entreprise.fr")
    result = census.create(store, store.read(), ADMIN_USER, TAB, again)
    assert not result.ok and result.errors == {}
    assert [d.row_id for d in result.duplicates] == [first.id]
    assert "SIRET" in result.duplicates[0].reason
    assert len(rows(store)) == 1
    confirmed = census.create(store, store.read(), ADMIN_USER, TAB, again, confirm_duplicates=True)
    assert confirmed.ok and len(rows(store)) == 2


def test_double_submit_with_the_form_id_creates_one_row(store):
    stale = store.read()
    first = census.create(store, stale, ADMIN_USER, TAB, company(), client_id="ENT-FORM0001")
    # The same form sent again, with the snapshot the page had before the first write, then a fresh one.
    second = census.create(store, stale, ADMIN_USER, TAB, company(), client_id="ENT-FORM0001")
    third = census.create(store, store.read(), ADMIN_USER, TAB, company(), client_id="ENT-FORM0001")
    assert first.row.id == second.row.id == third.row.id == "ENT-FORM0001"
    assert second.duplicates == [] and third.duplicates == []
    assert [r.id for r in rows(store)] == ["ENT-FORM0001"]


def test_edit_updates_only_after_validation(store):
    row = census.create(store, store.read(), ADMIN_USER, TAB, company()).row
    bad = census.edit(store, store.read(), ADMIN_USER, TAB, row.id, {"contact_telephone": "380448400"},
                      row.fingerprint)
    assert not bad.ok and "0 initial" in bad.errors["contact_telephone"]
    assert rows(store)[0]["contact_telephone"] == "+33380448400"
    good = census.edit(store, store.read(), ADMIN_USER, TAB, row.id, {"contact_fonction": "Gérante"},
                       row.fingerprint)
    assert good.ok and good.conflict is None
    assert rows(store)[0]["contact_fonction"] == "Gérante"


def test_a_bad_value_typed_in_a_column_the_form_hides_does_not_block_an_edit(store):
    row = census.create(store, store.read(), ADMIN_USER, TAB, company()).row
    typed = store.update(TAB, row.id, {"informer_avant": "bientôt"}, row.fingerprint)  # as a person in the sheet
    result = census.edit(store, store.read(), ADMIN_USER, TAB, row.id, {"contact_fonction": "Gérante"},
                         typed.fingerprint)
    assert result.ok and "non modifiée ici" in result.warnings["informer_avant"]
    saved = rows(store)[0]
    assert (saved["contact_fonction"], saved["informer_avant"]) == ("Gérante", "bientôt")  # left as typed
    sent = census.edit(store, store.read(), ADMIN_USER, TAB, row.id, {"informer_avant": "toujours pas"},
                       saved.fingerprint)
    assert not sent.ok and "informer_avant" in sent.errors  # a value the caller sends is checked as always


def test_edit_conflict_is_surfaced_not_swallowed(store):
    row = census.create(store, store.read(), ADMIN_USER, TAB, company()).row
    opened = store.read()  # coordinator A opens the form
    store.update(TAB, row.id, {"notes": "modifié par B"}, row.fingerprint)  # coordinator B saves first
    result = census.edit(store, opened, ADMIN_USER, TAB, row.id, {"contact_fonction": "Gérante"},
                         opened.get(TAB, row.id).fingerprint)
    assert not result.ok and result.conflict is not None
    assert "modifiée par quelqu'un d'autre" in result.errors[""]
    assert "notes" in result.conflict.changed_fields()
    current = rows(store)[0]
    assert current["notes"] == "modifié par B" and current["contact_fonction"] == ""


def test_edit_of_a_vanished_row_says_so(store):
    row = census.create(store, store.read(), ADMIN_USER, TAB, company()).row
    opened = store.read()
    store.delete(TAB, [row.id])
    result = census.edit(store, opened, ADMIN_USER, TAB, row.id, {"contact_fonction": "Gérante"}, row.fingerprint)
    assert not result.ok and "n'existe plus" in result.errors[""]


def test_archive_keeps_the_row(store):
    row = census.create(store, store.read(), ADMIN_USER, TAB, company()).row
    result = census.archive(store, store.read(), ADMIN_USER, TAB, row.id, row.fingerprint)
    assert result.ok and result.row["statut"] == "archivé"
    assert [r["statut"] for r in rows(store)] == ["archivé"]


def test_validate_pending_registration(store):
    pending = census.create(store, store.read(), ADMIN_USER, TAB, company(statut="à valider")).row
    assert pending["statut"] == "à valider"
    result = census.validate_pending(store, store.read(), ADMIN_USER, TAB, pending.id, pending.fingerprint)
    assert result.ok and rows(store)[0]["statut"] == "validé"
    again = census.validate_pending(store, store.read(), ADMIN_USER, TAB, pending.id, result.row.fingerprint)
    assert not again.ok and "n'est pas « à valider »" in again.errors["statut"]


def test_validate_pending_shows_duplicates_first(store):
    existing = census.create(store, store.read(), ADMIN_USER, TAB, company()).row
    twin = census.create(store, store.read(), ADMIN_USER, TAB,
                         company(statut="à valider", siret="", raison_sociale="Menuiserie Demo Lambert"),
                         confirm_duplicates=True).row
    blocked = census.validate_pending(store, store.read(), ADMIN_USER, TAB, twin.id, twin.fingerprint)
    assert not blocked.ok and [d.row_id for d in blocked.duplicates] == [existing.id]
    assert store.read().get(TAB, twin.id)["statut"] == "à valider"
    done = census.validate_pending(store, store.read(), ADMIN_USER, TAB, twin.id, twin.fingerprint,
                                   confirm_duplicates=True)
    assert done.ok and done.row["statut"] == "validé"


CPME_21 = User(email="coord.cpme21@exemple.fr", role=COORD_CPME, departements=parse_scope("21, 58, 71, 89"))


def test_coordinator_writes_only_their_side_within_scope(store):
    assert census.create(store, store.read(), CPME_21, TAB, company()).ok
    with pytest.raises(AccessDenied, match="hors de votre périmètre"):
        census.create(store, store.read(), CPME_21, TAB,
                      company(raison_sociale="Garage Démo Doubs", siret="", contact_email="g@exemple.fr",
                              code_postal="25000", commune_insee="25056"))
    with pytest.raises(AccessDenied, match="ne permet pas"):
        census.create(store, store.read(), CPME_21, "Personnels", {"nom": "Martin"})
    comite = User(email="comite@exemple.fr", role=COMITE)
    with pytest.raises(AccessDenied):
        census.create(store, store.read(), comite, TAB, company(siret="", contact_email="c@exemple.fr"))
    assert len(rows(store)) == 1


def test_edit_cannot_move_a_record_out_of_scope(store):
    row = census.create(store, store.read(), CPME_21, TAB, company()).row
    with pytest.raises(AccessDenied):
        census.edit(store, store.read(), CPME_21, TAB, row.id, {"code_postal": "25000", "commune_insee": "25056",
                                                                "departement": "25", "commune": ""},
                    row.fingerprint)
    assert rows(store)[0]["departement"] == "21"


def test_writes_are_journaled_with_field_names_only(store):
    row = census.create(store, store.read(), ADMIN_USER, TAB, company()).row
    census.archive(store, store.read(), ADMIN_USER, TAB, row.id, row.fingerprint)
    entries = store.read().rows("Journal")
    assert [e["action"] for e in entries] == ["création fiche", "archivage fiche"]
    assert all(e["cible_id"] == row.id and e["acteur"] == "admin@exemple.fr" for e in entries)
    assert "contact_email" in entries[0]["champs"] and entries[1]["champs"] == "statut"
    assert not any("Lambert" in " ".join(e.values.values()) for e in entries)


def test_consents_given_at_creation_are_journaled_and_never_edited_as_plain_fields(store):
    given = {"consentement_participation": "2026-02-01 10:00:00", "consentement_partage": "2026-02-01 10:00:00",
             "consentement_version": "2025-09", "consentement_source": "coordinateur"}
    row = census.create(store, store.read(), ADMIN_USER, TAB, company(**given)).row
    consents = [e for e in store.read().rows("Journal") if e["action"] == "consentement"]
    assert sorted(e["champs"] for e in consents) == ["consentement_partage", "consentement_participation"]
    assert all(e["cible_id"] == row.id and "notice 2025-09" in e["details"] for e in consents)
    backdated = census.edit(store, store.read(), ADMIN_USER, TAB, row.id,
                            {"consentement_partage": "2020-01-01 00:00:00"}, row.fingerprint)
    assert not backdated.ok and "encadré « Consentements »" in backdated.errors["consentement_partage"]
    assert rows(store)[0]["consentement_partage"] == "2026-02-01 10:00:00"


LIST_ROWS = [
    {"id": "ENT-A", "raison_sociale": "École de conduite Démo", "departement": "21", "thematiques": "orientation"},
    {"id": "ENT-B", "raison_sociale": "Garage Démo Martin", "departement": "25",
     "thematiques": "management; orientation"},
    {"id": "ENT-C", "raison_sociale": "Atelier Démo Morel", "departement": "21", "thematiques": "management"},
]


def test_list_frame_search_is_accent_and_case_insensitive():
    frame, total = census.list_frame(LIST_ROWS, TAB, query="ECOLE demo")
    assert total == 1 and list(frame["Raison sociale"]) == ["École de conduite Démo"]
    assert list(frame.columns) == ["ID", "Raison sociale", "Département", "Thématiques"]


def test_list_frame_filters_single_and_multichoice():
    _, total = census.list_frame(LIST_ROWS, TAB, filters={"departement": "21"})
    assert total == 2
    frame, total = census.list_frame(LIST_ROWS, TAB, filters={"thematiques": ["management"], "departement": ["25"]})
    assert total == 1 and list(frame["ID"]) == ["ENT-B"]


def test_list_frame_paginates_and_reports_total():
    many = [{"id": f"ENT-{i:03d}", "raison_sociale": f"Entreprise {i}"} for i in range(60)]
    frame, total = census.list_frame(many, TAB, page=3, page_size=25)
    assert total == 60 and list(frame["ID"]) == [f"ENT-{i:03d}" for i in range(50, 60)]
    empty, total = census.list_frame([], TAB)
    assert total == 0 and list(empty.columns) == default_schema().tab(TAB).headers


# ---- the form's place and its messages (issue 17) --------------------------------------------------------


def test_form_errors_put_hidden_place_fields_under_the_commune_list_in_the_persons_words():
    checked = census.check(TAB, census.with_defaults(TAB, company(commune_insee="")), None)
    assert "commune_insee" in checked.errors and "Code INSEE" in checked.errors["commune_insee"]
    shown = census.form_errors(TAB, checked.errors)
    assert shown["commune_insee"] == census.PICK_COMMUNE and "departement" not in shown
    assert "Code INSEE" not in " ".join(shown.values())
    # A wrong postal code is said under it, once: no second message under the commune.
    bad = census.form_errors(TAB, {"code_postal": "Code postal invalide.", "commune_insee": "obligatoire"})
    assert bad == {"code_postal": "Code postal invalide."}
    derived = census.form_errors("Personnels", {"academie": "Académie inconnue."})
    assert derived == {"commune_insee": "Académie : Académie inconnue."}


def test_commune_choices_and_place_values_come_from_the_service():
    assert census.commune_choices("21000").options == {"21231": "Dijon (21231)"}
    cedex = census.commune_choices("21044")
    assert "21231" in cedex.options and "CEDEX" in cedex.warning
    assert census.commune_choices("2100").options == {}
    place, notes = census.place_values("21044", "21231")
    assert place == {"commune_insee": "21231", "commune": "Dijon", "departement": "21"} and "CEDEX" in notes[0]


def test_the_scope_is_checked_as_soon_as_the_place_is_known(store):
    coordinator = User(email="c@exemple.fr", role=COORD_CPME, departements=parse_scope("21, 58"))
    snapshot = store.read()
    assert census.scope_problem(coordinator, TAB, {"departement": "21", "commune": "Dijon"}, snapshot) == ""
    problem = census.scope_problem(coordinator, TAB, {"departement": "25", "commune": "Besançon"}, snapshot)
    assert "hors de votre périmètre" in problem and "21, 58" in problem and "Besançon" in problem
    assert census.scope_problem(ADMIN_USER, TAB, {"departement": "25"}, snapshot) == ""


def test_saved_or_raise_gives_feedback_the_error_of_the_family(store):
    from ecole_entreprise import errors

    bad = census.create(store, store.read(), ADMIN_USER, TAB, company(siret="732 829 320 00075"))
    with pytest.raises(errors.Invalid) as raised:
        census.saved_or_raise(TAB, bad)
    assert "siret" in raised.value.field_errors() and raised.value.field_errors()[""] == census.NOT_SAVED
    good = census.create(store, store.read(), ADMIN_USER, TAB, company())
    assert census.saved_or_raise(TAB, good) is good
    twin = census.create(store, store.read(), ADMIN_USER, TAB, company())
    with pytest.raises(census.NotSaved, match="fiches similaires"):
        census.saved_or_raise(TAB, twin)
