"""sheets_schema/ is consistent and complete."""

from ecole_entreprise.domain.schema import FIELD_TYPES, SENSITIVITIES, load_schema

REQUIRED_TABS = {"Entreprises", "Personnels", "Rencontres", "Partenariats", "Evenements", "Journal", "Utilisateurs",
                 "Demandes RGPD", "Parametres", "Listes"}


def test_every_required_tab_has_id_and_timestamps(schema):
    assert REQUIRED_TABS <= set(schema.tab_names)
    for tab in schema.tabs.values():
        assert tab.field_names[0] == "id" and tab.headers[0] == "ID"
        assert {"created_at", "updated_at"} <= set(tab.field_names)
        assert len(set(tab.headers)) == len(tab.headers)


def test_types_sensitivities_choices_and_references_are_known(schema):
    for tab in schema.tabs.values():
        for field in tab.fields:
            assert field.type in FIELD_TYPES and field.sensitivity in SENSITIVITIES
            if field.type in ("choice", "multichoice"):
                assert field.choices, f"{tab.name}.{field.name}"
            if field.type == "ref":
                assert field.ref in schema.tabs
            if field.default and field.type == "choice":
                assert field.default in field.choices


def test_contact_fields_are_tagged_for_privacy(schema):
    assert set(schema.tab("Entreprises").fields_with("contact")) == {"contact_email", "contact_telephone"}
    assert set(schema.tab("Personnels").fields_with("contact")) == {"email", "telephone"}
    assert "nom" in schema.tab("Personnels").fields_with("identity")


def test_academie_lists_match_the_programme(schema):
    assert schema.lists["departements"] == ("21", "25", "39", "58", "70", "71", "89", "90")
    assert "semaine école-entreprise" in schema.lists["canaux"]


def test_loader_rejects_an_unknown_type(tmp_path):
    (tmp_path / "lists.yaml").write_text("x: [a]\n", encoding="utf-8")
    (tmp_path / "t.yaml").write_text("tab: T\norder: 1\nid_prefix: T\nfields:\n  - {name: a, header: A, type: nope}\n",
                                     encoding="utf-8")
    try:
        load_schema(tmp_path)
    except ValueError as error:
        assert "unknown type" in str(error)
    else:
        raise AssertionError("an unknown type must be refused")
