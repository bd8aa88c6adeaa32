"""Issue 13, point 5: the account is re-read at the start of every action, not only when a page reruns.

A person removed from (or changed in) Utilisateurs keeps a page open; their next action is refused before anything
is written — in a button's callback (which runs before the page script) as well as in a service called directly.
"""

import pytest

from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.kernel import access, journal, users
from ecole_entreprise.store.workbook import WorkbookStore
from tests.support.apptest import DIJON, app_store, open_page
from tests.support.memory_store import MemoryStore


@pytest.fixture
def store():
    store = MemoryStore()
    store.init()
    for email, role in (("a@region.fr", "admin"), ("b@region.fr", "admin"), ("c@region.fr", "comité de pilotage")):
        users.add_user(store, email, role)
    return store


def row_of(store, email):
    return next(r for r in store.read().rows(users.TAB) if r["email"] == email)


def session_of(store, email):
    return users.session_user(store, users.find_user(store.read(), email))


def test_an_unchanged_account_acts(store):
    admin = session_of(store, "a@region.fr")
    users.set_active(store, store.read(), admin, row_of(store, "c@region.fr").id, False)
    assert row_of(store, "c@region.fr")["actif"] == "non"


def test_a_removed_account_is_refused_before_anything_is_written(store):
    admin = session_of(store, "a@region.fr")  # the page was opened while the account existed
    store.delete(users.TAB, [row_of(store, "a@region.fr").id])  # another admin removes it in the sheet
    before = store.read()
    with pytest.raises(users.AccountRefused, match="n'est plus actif dans l'onglet « Utilisateurs »"):
        users.set_active(store, before, admin, row_of(store, "c@region.fr").id, False)
    after = store.read()
    assert row_of(store, "c@region.fr")["actif"] == "oui"
    assert after.rows(journal.TAB) == before.rows(journal.TAB)


def test_a_deactivated_account_is_refused(store):
    admin = session_of(store, "a@region.fr")
    row = row_of(store, "a@region.fr")
    store.update(users.TAB, row.id, {"actif": "non"}, row.fingerprint)
    with pytest.raises(users.AccountRefused):
        users.set_active(store, store.read(), admin, row_of(store, "c@region.fr").id, False)


def test_a_changed_role_is_refused_until_the_page_is_reloaded(store):
    admin = session_of(store, "a@region.fr")
    row = row_of(store, "a@region.fr")
    store.update(users.TAB, row.id, {"role": "comité de pilotage"}, row.fingerprint)
    with pytest.raises(users.AccountRefused, match="votre compte a changé .*comité de pilotage"):
        users.set_active(store, store.read(), admin, row_of(store, "c@region.fr").id, False)
    assert row_of(store, "c@region.fr")["actif"] == "oui"


def test_reading_a_list_does_not_re_read_the_account(store):
    admin = session_of(store, "a@region.fr")
    store.delete(users.TAB, [row_of(store, "a@region.fr").id])
    assert access.visible_rows(admin, "Entreprises", store.read()) == []  # a read: only the role is checked


def test_a_removed_coordinator_cannot_reveal_contacts_from_an_open_page(app_workbook, monkeypatch):
    """The issue's case: the page is open, the account is removed in the sheet, the reveal button's callback
    runs with the session's user — refused, no disclosure entry written."""
    from tests.test_page_rencontres import disclosable, ok, user_of

    snap = app_store().read(fresh=True)
    row = disclosable(snap, user_of(DIJON))
    at = open_page(monkeypatch, DIJON, "pages/rencontres.py", query={"id": row.id})
    ok(at)
    sheet = WorkbookStore(default_schema(), app_workbook)  # behind the app's read cache, as a person in the sheet
    account = next(r for r in sheet.read().rows(users.TAB) if r["email"] == DIJON)
    sheet.update(users.TAB, account.id, {"actif": "non"}, account.fingerprint)
    before = len(sheet.read().rows(journal.TAB))
    at.button(key=f"reveal_{row.id}").click().run()
    assert len(WorkbookStore(default_schema(), app_workbook).read().rows(journal.TAB)) == before
    shown = " ".join(str(e.value) for e in at.error)
    assert "n'est plus actif" in shown or "n'est pas autorisé" in shown
