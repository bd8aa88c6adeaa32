"""Home page through AppTest on a copy of the demo workbook: the year's tiles, the to-do list per role, and each
to-do link opening its page on exactly the rows to act on."""

from datetime import date

import pytest

from ecole_entreprise.services.bilan import compute as bilan
from ecole_entreprise.services.home import todo
from ecole_entreprise.services.home.kpis import home_kpis
from ecole_entreprise.services.kernel.users import find_user
from tests.support.apptest import ADMIN, COMITE, DIJON, app_store, open_page
from tests.support.sent import record_media  # noqa: F401 (autouse fixture)

PAGE = "pages/home.py"


def home(monkeypatch, email):
    at = open_page(monkeypatch, email, PAGE)
    assert not at.exception, [e.value for e in at.exception]
    return at


def expected_tiles(small_cells: bool) -> dict[str, str]:
    snapshot = app_store().read(fresh=True)
    year = todo.current_school_year(snapshot, date.today())
    return {t.label: t.value for t in home_kpis(snapshot, year, small_cells_rule=small_cells).tiles}


def links(at) -> list[tuple[str, str, str]]:
    return [(link.proto.page, link.proto.label, link.proto.query_string) for link in at.main.get("page_link")]


def test_coordinator_sees_the_year_tiles_and_a_link_per_to_do(app_workbook, monkeypatch):
    at = home(monkeypatch, ADMIN)
    shown = {m.label: m.value for m in at.metric}
    assert shown == expected_tiles(small_cells=False)
    assert bilan.SATISFACTION in shown and "," in shown[bilan.SATISFACTION]  # French decimal comma
    snapshot = app_store().read(fresh=True)
    items = todo.todo_items(snapshot, find_user(snapshot, ADMIN), date.today())
    assert items  # the demo holds pending acceptances, late meetings, self-registrations…
    assert links(at) == [(i.page_key, i.action, f"a_faire={i.filter_key}" if i.filter_key else "") for i in items]
    assert [s.value for s in at.subheader][-1] == "À faire"


def test_steering_committee_gets_masked_tiles_and_no_to_do(app_workbook, monkeypatch):
    at = home(monkeypatch, COMITE)
    assert {m.label: m.value for m in at.metric} == expected_tiles(small_cells=True)
    assert links(at) == [] and "À faire" not in [s.value for s in at.subheader]
    assert any("listes nominatives ne sont pas accessibles" in c.value for c in at.caption)


def test_empty_workbook_says_what_to_do(monkeypatch, tmp_path):
    from tests.test_page_appariement import small_workbook

    small_workbook(monkeypatch, tmp_path)
    at = home(monkeypatch, ADMIN)
    assert at.metric.len == 0
    assert "Saisissez-les dans les pages Entreprises et Personnels" in at.info[0].value


@pytest.mark.parametrize("email, page, tab, key, label", [
    (ADMIN, "pages/rencontres.py", "Rencontres", "sans_bilan", "rencontres passées sans bilan"),
    (DIJON, "pages/personnels.py", "Personnels", "consentement", "fiches validées sans consentement à participer"),
])
def test_a_to_do_link_opens_exactly_its_rows_then_the_whole_list(app_workbook, monkeypatch, email, page, tab, key,
                                                                  label):
    snapshot = app_store().read(fresh=True)
    wanted = todo.filtered_ids(snapshot, find_user(snapshot, email), tab, key, date.today())
    assert wanted
    at = open_page(monkeypatch, email, page, query={todo.FILTER_PARAM: key})
    assert not at.exception
    [table] = [d.value for d in at.dataframe]
    assert set(table["ID"]) == wanted
    assert f"À faire : {label} ({len(wanted)})." in [i.value for i in at.info]
    at.button(key=f"todo_clear_{tab}").click().run()
    [table] = [d.value for d in at.dataframe]
    assert len(table) > len(wanted)
