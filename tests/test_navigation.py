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
        checks = f'page_user("{key}")' in source or f'page_context("{key}")' in source
        assert checks != page.public, page.path  # a public page needs no sign-in
    for page in navigation.PUBLIC_PAGES.values():
        source = (ROOT / page.path).read_text(encoding="utf-8")
        assert "page_user(" not in source and "page_context(" not in source


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


# ---- the menu and the addresses the shell registers (pages/_shell.py) -------------------------------------------


def run_shell(monkeypatch, email: str = ""):
    """The entry point signed in as `email` (signed out without one), and what it gave st.navigation."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    calls = []
    real = st.navigation

    def navigation(pages, **options):
        calls.append(([p for section in pages.values() for p in section], options))
        return real(pages, **options)

    monkeypatch.setattr(st, "navigation", navigation)
    if email:
        monkeypatch.setenv("ECOLE_ENTREPRISE_DEV_USER", email)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    [(pages, options)] = calls
    return at, pages, options


def menu(at) -> list[str]:
    return [link.proto.label for link in at.sidebar.get("page_link")]


def test_signed_in_the_menu_is_the_registry_s_and_every_address_is_known(app_workbook, monkeypatch):
    from tests.support.apptest import COMITE

    at, pages, options = run_shell(monkeypatch, COMITE)
    user = at.session_state["_user"]
    assert menu(at) == [navigation.PAGES[k].title for k in navigation.pages_for(user)]  # every page, none folded
    assert [c.value for c in at.sidebar.caption][:len(navigation.sections_for(user))] == list(
        navigation.sections_for(user))
    assert options == {"position": "hidden"}  # Streamlit's own menu is off (.streamlit/config.toml)
    addresses = {p.url_path or navigation.HOME for p in pages}
    assert set(navigation.PAGES) <= addresses and set(navigation.LINK_PAGES) <= addresses
    assert "appariement" in addresses and "appariement" not in navigation.pages_for(user)  # says it is refused


def test_signed_out_every_address_is_the_sign_in_page_but_the_public_ones(app_workbook, monkeypatch):
    at, pages, _ = run_shell(monkeypatch)
    assert menu(at) == ["Connexion", "Inscription entreprise", "Inscription personnel", "Confidentialité"]
    by_address = {p.url_path or "connexion": p for p in pages}
    assert set(navigation.PAGES) <= set(by_address)
    for key in navigation.PAGES:
        if key not in navigation.PUBLIC_PAGES:
            assert by_address[key].title == "Connexion", key


def test_streamlit_s_own_menu_is_off():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showSidebarNavigation"] is False
