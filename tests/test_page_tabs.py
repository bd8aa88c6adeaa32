"""A page reads only the tabs the page registry declares for it: the Journal, which grows with the programme's
history, is read by the pages that show it, not by every view (issue 16, point 5)."""

from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.census.quality import check_snapshot
from ecole_entreprise.services.kernel import journal as journal_service
from ecole_entreprise.services.kernel import navigation
from ecole_entreprise.store.base import Snapshot
from ecole_entreprise.store.workbook import WorkbookStore
from tests.support.apptest import ADMIN, app_store, open_page
from tests.support.sent import record_media  # noqa: F401 (autouse fixture)


def spy_reads(monkeypatch) -> list:
    """The tabs of every read the shared cache sends to the workbook."""
    store, asked = app_store(), []
    real = store.inner.read

    def read(tabs=None):
        asked.append(tuple(tabs) if tabs else "tout")
        return real(tabs=tabs)

    monkeypatch.setattr(store.inner, "read", read)
    return asked


def test_every_declared_tab_exists_and_history_stays_with_the_pages_that_show_it():
    names = set(default_schema().tab_names)
    for key in [*navigation.PAGES, *navigation.PUBLIC_PAGES]:
        tabs = navigation.page_tabs(key)
        assert tabs is None or set(tabs) <= names, key
        if tabs is not None and "Journal" in tabs:
            assert key == "journal"
    assert "Journal" not in navigation.core_tabs() and "Rencontres" in navigation.core_tabs()


def test_home_view_reads_no_journal_and_the_journal_page_reads_it_alone(app_workbook, monkeypatch):
    journal_tab = WorkbookStore(default_schema(), app_workbook)
    journal_service.record(journal_tab, ADMIN, "export", "Entreprises", finalite="suivi du programme")
    asked = spy_reads(monkeypatch)
    home = open_page(monkeypatch, ADMIN, "pages/home.py")
    assert not home.exception, [e.value for e in home.exception]
    assert asked == [navigation.core_tabs()]  # one read, every page's first view included
    assert not any("Anomalies" in m.value for m in home.markdown)  # the unread Journal is not "absent"

    journal = open_page(monkeypatch, ADMIN, "pages/journal.py")
    assert not journal.exception, [e.value for e in journal.exception]
    assert asked[1:] == [("Journal",)]
    entries = len(journal_tab.read(tabs=["Journal"]).rows("Journal"))
    assert entries and any(f"sur {entries} " in c.value for c in journal.caption)


def test_quality_of_a_page_snapshot_skips_the_tabs_it_did_not_read(app_workbook):
    full = app_store().read(fresh=True)
    core = navigation.core_tabs()
    partial = Snapshot(tabs={n: d for n, d in full.tabs.items() if n in core}, read_at=full.read_at)
    absent = [a for a in check_snapshot(partial, default_schema()) if a.tab == "Journal"]
    assert absent and "absent" in absent[0].reason  # without `tabs`, a missing tab is an anomaly
    assert check_snapshot(partial, default_schema(), tabs=core) == [
        a for a in check_snapshot(full, default_schema()) if a.tab in core]
