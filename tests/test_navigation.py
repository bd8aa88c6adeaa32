"""The one page registry (services/kernel/navigation.py) drives the menu and every page's access check."""

from pathlib import Path

from ecole_entreprise.domain.roles import ADMIN, COMITE, COORD_ACADEMIE, ROLE_RECORDS, User
from ecole_entreprise.services.kernel import access, navigation

ROOT = Path(__file__).resolve().parents[1]


def test_every_page_file_exists_and_every_page_file_is_registered():
    registered = {page.path for page in (*navigation.PAGES.values(), *navigation.PUBLIC_PAGES.values())}
    assert all((ROOT / path).is_file() for path in registered)
    screens = {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("_")}
    assert screens == registered


def test_each_page_file_checks_its_access_with_its_own_registry_key():
    for key, page in navigation.PAGES.items():
        source = (ROOT / page.path).read_text(encoding="utf-8")
        assert (f'page_user("{key}")' in source) != page.public, page.path  # a public page needs no sign-in
    for page in navigation.PUBLIC_PAGES.values():
        assert "page_user(" not in (ROOT / page.path).read_text(encoding="utf-8")


def test_a_role_opens_exactly_the_pages_whose_permission_it_holds():
    for name, role in ROLE_RECORDS.items():
        user = User(f"{name}@exemple.fr", name)
        assert access.pages_for(user) == [k for k, p in navigation.PAGES.items() if p.permission in role.permissions]
    assert navigation.may_open(User("c@region.fr", COMITE), "bilan")
    assert not navigation.may_open(User("c@region.fr", COMITE), "personnels")
    assert not navigation.may_open(User("a@region.fr", ADMIN), "inexistante")


def test_signed_out_the_menu_holds_only_the_public_pages():
    sections = navigation.sections_for(None)
    assert list(sections) == ["Inscription"]
    assert [key for key, _ in sections["Inscription"]] == ["inscription_entreprise", "inscription_personnel",
                                                             "confidentialite"]
    assert navigation.may_open(None, "confidentialite") and not navigation.may_open(None, "accueil")


def test_sections_keep_the_menu_order():
    sections = navigation.sections_for(User("c@ac-dijon.fr", COORD_ACADEMIE, departements=frozenset({"21"})))
    assert list(sections) == ["Pilotage", "Recensement", "Rencontres", "RGPD"]
    assert [key for key, _ in sections["Pilotage"]] == ["accueil", "bilan"]
