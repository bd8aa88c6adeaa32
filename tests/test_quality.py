"""Data-quality report over hand-made snapshots (grids of text, as a person may leave the sheet)."""

from datetime import datetime

from ecole_entreprise.domain.communes import all_communes
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.census.quality import (
    MASKED,
    Anomaly,
    anomalies_frame,
    check_snapshot,
    exported_records,
)
from ecole_entreprise.store.base import Snapshot, rows_from_grid

SCHEMA = default_schema()

GOOD_ENT = {
    "id": "ENT-AAAA2222", "raison_sociale": "Boulangerie Dupont", "siret": "73282932000074", "code_postal": "21000",
    "commune_insee": "21231", "commune": "Dijon", "departement": "21", "contact_nom": "Dupont",
    "contact_prenom": "Jeanne", "contact_email": "jeanne@boulangerie-dupont.fr", "statut": "validé",
    "created_at": "2026-01-05 10:00:00", "updated_at": "2026-01-05 10:00:00",
}
GOOD_PER = {
    "id": "PER-AAAA2222", "nom": "Martin", "prenom": "Léa", "fonction": "professeur", "discipline": "Histoire",
    "academie": "Besançon",
    "code_postal": "25000", "commune_insee": "25056", "commune": "Besançon", "departement": "25",
    "email": "lea.martin@ac-besancon.fr", "canal": "CLEE", "statut": "validé",
}
GOOD_REN = {
    "id": "REN-AAAA2222", "entreprise_id": "ENT-AAAA2222", "personnel_id": "PER-AAAA2222",
    "annee_scolaire": "2025-2026", "statut": "proposée",
}


def grid(tab_name, records, drop=(), add=()):
    """A sheet grid: schema headers minus `drop`, plus extra `add` headers; records keyed by field name."""
    tab = SCHEMA.tab(tab_name)
    fields = [f for f in tab.fields if f.header not in drop]
    headers = [f.header for f in fields] + list(add)
    return [headers] + [[r.get(f.name, "") for f in fields] + ["" for _ in add] for r in records]


def snapshot(**grids) -> Snapshot:
    """Every tab of the schema, empty unless a grid is given (keyword = tab name without spaces)."""
    tabs = {}
    for tab in SCHEMA.tabs.values():
        cells = grids.get(tab.name.replace(" ", "_"), [tab.headers])
        if cells is not None:
            tabs[tab.name] = rows_from_grid(tab, cells)
    return Snapshot(tabs=tabs, read_at=datetime(2026, 3, 1, 9, 0))


def by(anomalies, **where):
    return [a for a in anomalies if all(getattr(a, k) == v for k, v in where.items())]


def test_clean_data_has_no_anomaly():
    snap = snapshot(Entreprises=grid("Entreprises", [GOOD_ENT]), Personnels=grid("Personnels", [GOOD_PER]),
                    Rencontres=grid("Rencontres", [GOOD_REN]))
    assert check_snapshot(snap, SCHEMA) == []


def test_cell_errors_point_at_row_and_header():
    bad = {**GOOD_ENT, "id": "ENT-BBBB3333", "siret": "73282932000075", "contact_email": "",
           "raison_sociale": "Garage", "capacite_annuelle": "beaucoup"}
    snap = snapshot(Entreprises=grid("Entreprises", [GOOD_ENT, bad]))
    anomalies = check_snapshot(snap, SCHEMA)
    siret = by(anomalies, column="SIRET")
    assert len(siret) == 1
    assert (siret[0].tab, siret[0].row_number, siret[0].row_id, siret[0].value, siret[0].severity) == \
        ("Entreprises", 3, "ENT-BBBB3333", "73282932000075", "erreur")
    assert "obligatoire" in by(anomalies, column="Email du contact")[0].reason
    assert by(anomalies, column="Rencontres par année scolaire")[0].value == "beaucoup"
    assert all(a.row_number == 3 for a in anomalies if a.severity == "erreur")


def test_missing_references():
    orphan = {**GOOD_REN, "id": "REN-BBBB3333", "personnel_id": "PER-ZZZZ9999"}
    snap = snapshot(Entreprises=grid("Entreprises", [GOOD_ENT]), Personnels=grid("Personnels", [GOOD_PER]),
                    Rencontres=grid("Rencontres", [GOOD_REN, orphan]))
    [anomaly] = check_snapshot(snap, SCHEMA)
    assert (anomaly.tab, anomaly.row_number, anomaly.column, anomaly.value, anomaly.severity) == \
        ("Rencontres", 3, "ID personnel", "PER-ZZZZ9999", "erreur")


def test_gdpr_request_pointing_at_a_missing_person():
    requests = [
        {"id": "DRG-AAAA2222", "personne_tab": "Personnels", "personne_id": "PER-ZZZZ9999", "type": "accès",
         "recue_le": "2026-02-01", "statut": "reçue"},
        {"id": "DRG-BBBB3333", "personne_tab": "Personnels", "personne_id": "PER-YYYY8888", "type": "effacement",
         "recue_le": "2026-02-01", "statut": "traitée"},  # erased: the person is gone, as expected
    ]
    snap = snapshot(Demandes_RGPD=grid("Demandes RGPD", requests))
    [anomaly] = check_snapshot(snap, SCHEMA)
    assert (anomaly.row_id, anomaly.column, anomaly.severity) == ("DRG-AAAA2222", "ID personne", "avertissement")


def test_structural_issues_reported_once():
    twin = {**GOOD_ENT, "raison_sociale": "Autre", "siret": "", "contact_email": "autre@exemple.fr"}
    no_id = {**GOOD_ENT, "id": "", "siret": "", "contact_email": "x@exemple.fr", "raison_sociale": "Sans ID"}
    snap = snapshot(Entreprises=grid("Entreprises", [GOOD_ENT, twin, no_id]))
    anomalies = check_snapshot(snap, SCHEMA)
    duplicate_id = by(anomalies, column="ID", row_number=3)
    assert len(duplicate_id) == 1 and "en double" in duplicate_id[0].reason
    assert duplicate_id[0].severity == "erreur" and duplicate_id[0].row_id == "ENT-AAAA2222"
    assert len(by(anomalies, column="ID", row_number=4)) == 1  # the row without ID
    assert len(anomalies) == 2


def test_missing_columns():
    dropped = ("Email du contact", "Notes")  # one required, one optional
    snap = snapshot(Entreprises=grid("Entreprises", [GOOD_ENT, {**GOOD_ENT, "id": "ENT-BBBB3333",
                                                                 "raison_sociale": "Garage Moreau", "siret": ""}],
                                     drop=dropped, add=("Remarques du comité",)))
    anomalies = check_snapshot(snap, SCHEMA)
    email = by(anomalies, column="Email du contact")
    assert len(email) == 1 and email[0].row_number is None and email[0].severity == "erreur"
    notes = by(anomalies, column="Notes")
    assert len(notes) == 1 and notes[0].severity == "avertissement"
    assert len(anomalies) == 2  # no per-row "obligatoire" for the missing column; the extra column is fine


def test_missing_tab():
    snap = snapshot(Journal=None)
    [anomaly] = check_snapshot(snap, SCHEMA)
    assert anomaly.tab == "Journal" and anomaly.severity == "erreur" and "absent" in anomaly.reason


def test_duplicate_records_reported_on_the_lower_row():
    copy = {**GOOD_ENT, "id": "ENT-BBBB3333", "raison_sociale": "SARL Boulangerie Dupont",
            "contact_email": "jeanne.dupont@exemple.fr"}
    snap = snapshot(Entreprises=grid("Entreprises", [GOOD_ENT, copy]))
    [anomaly] = check_snapshot(snap, SCHEMA)
    assert (anomaly.row_number, anomaly.row_id, anomaly.severity) == (3, "ENT-BBBB3333", "avertissement")
    assert "ENT-AAAA2222 (ligne 2)" in anomaly.reason and "même SIRET" in anomaly.reason
    assert "nom presque identique" in anomaly.reason


def test_formula_looking_cells_are_warnings_with_the_exact_value():
    text = '=IMPORTXML("http://exemple.invalid"; "//a")'
    snap = snapshot(Entreprises=grid("Entreprises", [{**GOOD_ENT, "notes": text}]))
    [anomaly] = check_snapshot(snap, SCHEMA)
    assert (anomaly.column, anomaly.value, anomaly.severity) == ("Notes", text, "avertissement")


def test_journal_types_only():
    rows = [
        {"id": "JRN-AAAA2222", "horodatage": "2026-02-01 10:00:00", "acteur": "admin@exemple.fr",
         "action": "export", "hash_precedent": "", "hash": "pas-un-vrai-hash"},
        {"id": "JRN-BBBB3333", "horodatage": "hier", "acteur": "admin@exemple.fr", "action": "export",
         "hash_precedent": "n'importe quoi", "hash": "abc"},
    ]
    snap = snapshot(Journal=grid("Journal", rows))
    [anomaly] = check_snapshot(snap, SCHEMA)
    assert (anomaly.row_number, anomaly.column, anomaly.value) == (3, "Horodatage", "hier")


def test_anomalies_frame():
    anomalies = [
        Anomaly("Entreprises", 3, "ENT-BBBB3333", "SIRET", "123", "SIRET invalide.", "erreur"),
        Anomaly("Journal", None, "", "", "", "Onglet « Journal » absent.", "erreur"),
    ]
    frame = anomalies_frame(anomalies)
    assert list(frame.columns) == ["Onglet", "Ligne", "ID", "Colonne", "Valeur", "Problème", "Gravité"]
    assert frame.loc[0, "Ligne"] == 3 and frame["Ligne"].isna().tolist() == [False, True]
    assert frame.loc[1, "Problème"] == "Onglet « Journal » absent."
    empty = anomalies_frame([])
    assert empty.empty and list(empty.columns) == list(frame.columns)


def test_same_name_in_different_communes_is_no_duplicate():
    places = all_communes()[:300]
    companies = [{**GOOD_ENT, "id": f"ENT-{i:08d}", "siret": "", "contact_email": f"contact{i}@exemple.fr",
                  "code_postal": c.codes_postaux[0], "commune_insee": c.insee, "commune": c.nom,
                  "departement": c.departement} for i, c in enumerate(places)]
    snap = snapshot(Entreprises=grid("Entreprises", companies))
    assert check_snapshot(snap, SCHEMA) == []


def test_exported_records_name_whose_values_are_in_clear():
    frame = anomalies_frame([
        Anomaly("Personnels", 2, "PER-A", "Email professionnel", "x.exemple.fr", "Email invalide.", "erreur"),
        Anomaly("Personnels", 3, "PER-B", "Téléphone", MASKED, "Téléphone invalide.", "erreur"),
        Anomaly("Entreprises", 4, "ENT-C", "", "", "Doublon probable.", "avertissement"),
        Anomaly("Entreprises", 5, "", "SIRET", "123", "Ligne sans ID.", "erreur"),
    ])
    assert exported_records(frame) == [("Personnels", "PER-A")]


def test_report_is_kept_per_tab_until_that_tab_changes(monkeypatch):
    from ecole_entreprise.services.census import quality

    checked = []
    real = quality.check_tab
    monkeypatch.setattr(quality, "check_tab", lambda tab, data, snap, remember=False:
                        checked.append(tab.name) or real(tab, data, snap, remember))
    quality.forget()
    snap = snapshot(Entreprises=grid("Entreprises", [{**GOOD_ENT, "siret": "123"}]))
    first = check_snapshot(snap, SCHEMA)
    every_tab = len(checked)
    assert every_tab == len(SCHEMA.tabs)
    assert check_snapshot(snap, SCHEMA) == first and len(checked) == every_tab
    again = snapshot(Entreprises=grid("Entreprises", [{**GOOD_ENT, "siret": "123"}]))  # a new read, same content
    assert check_snapshot(again, SCHEMA) == first and len(checked) == every_tab
    other = {**GOOD_ENT, "id": "ENT-CCCC4444", "siret": "", "raison_sociale": "Autre", "contact_email": "a@b.fr"}
    snap.tabs["Entreprises"].rows.extend(snapshot(Entreprises=grid("Entreprises", [other])).rows("Entreprises"))
    check_snapshot(snap, SCHEMA)
    # rows added in place: that tab is checked again, and the tabs whose references point into it
    assert checked[every_tab:] == ["Entreprises", "Rencontres", "Partenariats", "Evenements", "Demandes RGPD"]


def test_a_changed_tab_validates_only_its_changed_rows_again(monkeypatch):
    from ecole_entreprise.services.census import quality

    quality.forget()
    rows = [{**GOOD_ENT, "id": f"ENT-AAAA{i:04d}", "siret": "", "raison_sociale": f"Entreprise {i}",
             "contact_email": f"c{i}@exemple.fr"} for i in range(5)]
    before = check_snapshot(snapshot(Entreprises=grid("Entreprises", rows)), SCHEMA)
    validated = []
    real = quality.validate_record
    monkeypatch.setattr(quality, "validate_record", lambda tab, values, snapshot=None:
                        validated.append(values["id"]) or real(tab, values, snapshot=snapshot))
    rows[2] = {**rows[2], "siret": "123"}
    after = check_snapshot(snapshot(Entreprises=grid("Entreprises", rows)), SCHEMA)
    assert validated == ["ENT-AAAA0002"]
    assert [a for a in after if a.row_id == "ENT-AAAA0002" and a.column == "SIRET"]
    assert [a for a in before if a.row_id != "ENT-AAAA0002"] == [a for a in after if a.row_id != "ENT-AAAA0002"]


def test_a_malformed_school_year_in_parametres_is_reported():
    from ecole_entreprise.services.kernel.parameters import current_school_year

    rows = [{"id": "PRM-1", "cle": "annee_scolaire", "valeur": "2025/2026"}]
    snap = snapshot(Parametres=grid("Parametres", rows))
    [anomaly] = [a for a in check_snapshot(snap, SCHEMA) if a.tab == "Parametres"]
    assert (anomaly.row_id, anomaly.severity, anomaly.value) == ("PRM-1", "erreur", "2025/2026")
    assert "deux années qui se suivent" in anomaly.reason
    assert current_school_year(snap, datetime(2026, 11, 28).date()) == "2026-2027"  # pages keep working
