"""The app shell: login page on an empty store, identities, refusal of unknown users, pages per role."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ecole_entreprise.config import load_settings
from ecole_entreprise.services.census.demo import load_demo
from ecole_entreprise.services.kernel import access
from ecole_entreprise.store import shared_store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def workbook(tmp_path, monkeypatch):
    path = tmp_path / "classeur.xlsx"
    monkeypatch.setenv("ECOLE_ENTREPRISE_WORKBOOK", str(path))
    return path


def demo_store():
    store = shared_store(load_settings())
    store.init()
    load_demo(store)
    return store


def app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    return at


def texts(at) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "info", "warning", "error", "success", "caption", "title",
                                                 "subheader") for e in getattr(at, kind))


def test_empty_store_shows_local_login_with_demo_offer(workbook):
    at = app()
    assert not at.exception
    assert "Mode local — identité de démonstration" in texts(at)
    assert any(b.label == "Charger les données de démonstration" for b in at.button)
    assert workbook.exists()


def test_local_identity_chooser_lists_one_user_per_role(workbook):
    demo_store()
    at = app()
    labels = at.selectbox(key="local_user_choice").options
    for role in ("admin", "coordinateur académie", "coordinateur CPME", "comité de pilotage"):
        assert any(role in label for label in labels)


def test_unknown_dev_user_is_refused_with_whom_to_ask(workbook, monkeypatch):
    demo_store()
    monkeypatch.setenv("ECOLE_ENTREPRISE_DEV_USER", "inconnu@exemple.fr")
    at = app()
    assert any("n'est pas autorisé" in e.value and "Utilisateurs" in e.value for e in at.error)


def test_google_backend_without_auth_refuses_local_login(workbook, monkeypatch):
    monkeypatch.setenv("ECOLE_ENTREPRISE_SPREADSHEET", "cle-inexistante")
    monkeypatch.setenv("ECOLE_ENTREPRISE_DEV_USER", "admin@exemple.fr")
    import pages._shell as shell

    monkeypatch.setattr(shell, "get_snapshot", lambda: None)
    at = app()
    assert any("[auth]" in e.value for e in at.error)


@pytest.mark.parametrize("email", ["admin@exemple.fr", "coord.dijon@exemple.fr", "coord.cpme21@exemple.fr",
                                   "comite@exemple.fr"])
def test_navigation_follows_the_role(workbook, monkeypatch, email):
    store = demo_store()
    monkeypatch.setenv("ECOLE_ENTREPRISE_DEV_USER", email)
    at = app()
    assert not at.exception, at.exception
    from ecole_entreprise.services.kernel.users import find_user

    user = find_user(store.read(), email)
    expected = access.pages_for(user)
    assert "accueil" in expected
    assert ("utilisateurs" in expected) == (user.role == "admin")
    assert ("personnels" in expected) == (user.role != "comité de pilotage")


def test_built_in_table_downloads_are_off():
    """st.dataframe's own CSV download would hand over personal data unjournaled: only the app's buttons export."""
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["disableDataExport"] is True
    assert config["client"]["showErrorDetails"] == "none"


@pytest.mark.parametrize("verified, expected", [(False, "n'a pas vérifié cette adresse"),
                                                (True, "n'est pas autorisé")])
def test_sign_in_refuses_an_address_the_provider_did_not_verify(workbook, monkeypatch, verified, expected):
    import dataclasses

    import pages._shell as shell

    snapshot = demo_store().read()
    settings = dataclasses.replace(load_settings(), backend="google", auth_configured=True)  # st.login in use
    monkeypatch.setattr(shell, "get_settings", lambda: settings)
    monkeypatch.setattr(shell, "get_snapshot", lambda: snapshot)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.user = {"is_logged_in": True, "email": "inconnu@exemple.fr", "email_verified": verified}
    at.run()
    errors = [e.value for e in at.error]
    assert any(expected in e for e in errors), errors
