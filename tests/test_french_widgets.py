"""Streamlit's own English texts never reach the French UI: every multiselect has a French placeholder and no
« Select all », every selectbox without a default says what to choose in French, the menu is expanded (no
« View N more ») — on every page, for the roles that open them, and on the public pages."""

import pytest

from ecole_entreprise.services.kernel import navigation
from ecole_entreprise.services.kernel.users import find_user
from tests.support.apptest import ADMIN, COMITE, CPME, app_store, open_page

ENGLISH = ("Choose an option", "Choose options", "Select all", "Select…", "No results", "Page not found")
ROLES = (ADMIN, CPME, COMITE)


def _widgets(at):
    return [*at.multiselect, *at.selectbox]


def _english_in(at) -> list[str]:
    found = []
    for widget in _widgets(at):
        placeholder = widget.proto.placeholder
        if any(text in placeholder for text in ENGLISH):
            found.append(f"{widget.label}: placeholder {placeholder!r}")
    for widget in at.multiselect:
        if widget.proto.select_all:
            found.append(f"{widget.label}: « Select all » offered")
    texts = [e.value for kind in (at.markdown, at.caption, at.error, at.warning, at.info) for e in kind]
    found += [t for t in texts if any(text in str(t) for text in ENGLISH)]
    return found


@pytest.mark.parametrize("email", ROLES)
def test_no_english_streamlit_text_on_any_page(app_workbook, monkeypatch, email):
    seen, user = 0, find_user(app_store().read(), email)
    for key in navigation.pages_for(user):  # the pages this role's menu offers
        at = open_page(monkeypatch, email, navigation.PAGES[key].path)
        assert not at.exception, (key, [e.value for e in at.exception])
        assert not _english_in(at), (email, key, _english_in(at))
        seen += len(_widgets(at))
    assert seen > 0  # the pages do have choice widgets to check


def test_public_pages_speak_french(app_workbook, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.support.apptest import ROOT

    for page in navigation.REGISTRATION_PAGES.values():
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
        at.run()
        at.switch_page(page.path)
        at.run()
        assert not at.exception and not _english_in(at), (page.path, _english_in(at))

