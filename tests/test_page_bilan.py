"""Bilan page through Streamlit's AppTest, on a private copy of the demo workbook (tests/conftest.py).

Expected figures come from the bilan service on the same data, or are counted by hand from the raw rows;
never from constants.
"""

import logging
from datetime import date
from io import BytesIO

import pyarrow as pa
import pytest
from pypdf import PdfReader

from ecole_entreprise.domain.roles import ALL_DEPARTEMENTS
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.domain.values import school_year_of
from ecole_entreprise.services.bilan import charts
from ecole_entreprise.services.bilan import compute as bilan
from ecole_entreprise.services.bilan import small_cells as small_cell_rule
from ecole_entreprise.services.census.demo import CONCLUSIONS
from ecole_entreprise.services.kernel.formatting import format_frame
from ecole_entreprise.store.workbook import WorkbookStore
from tests.support.apptest import ADMIN, COMITE, app_store, open_page
from tests.support.sent import everything_sent

PAGE = "pages/bilan.py"


def bilan_page(monkeypatch, email: str):
    at = open_page(monkeypatch, email, PAGE)
    assert not at.exception, [e.value for e in at.exception]
    return at


def rerun(at):
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def snapshot():
    return app_store().read(fresh=True)


def tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected_tiles(filt: bilan.BilanFilter, small_cells: bool = False) -> dict[str, str]:
    """The key figures as the service computes them: raw, or the comité's masked ones."""
    if small_cells:
        table = small_cell_rule.comite_tables(bilan.prepare(snapshot()), filt)["kpis"]
        table = table[table["Indicateur"] != bilan.EN_COURS]
    else:
        table = bilan.kpis(snapshot(), filt)
    shown = format_frame(table)
    return dict(zip(shown["Indicateur"], shown["Valeur"], strict=True))


def table_with(at, column: str):
    [frame] = [d.value for d in at.dataframe if column in d.value.columns]
    return frame


def chart_data(at, column: str):
    """The data sent with the chart whose dataset has `column` (the melted table it draws)."""
    found = []
    for chart in at.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            frame = pa.ipc.open_stream(dataset.data.data).read_pandas()
            if column in frame.columns:
                found.append(frame)
    [frame] = found
    return frame


def current_year() -> str:
    written = [r["valeur"] for r in snapshot().rows("Parametres") if r["cle"] == "annee_scolaire"]
    return next(v for v in written if v)


def volunteers_by_hand(fonction: str, year: str) -> int:
    """Staff rows of that function created during `year` in the region, counted from the raw cells."""
    return sum(1 for r in snapshot().rows("Personnels")
               if r["fonction"] == fonction and r["departement"] in ALL_DEPARTEMENTS
               and school_year_of(date.fromisoformat(r["created_at"][:10])) == year)


def small_fonction() -> tuple[str, int]:
    """A staff function with 1 to 4 volunteers this year: the rarest one, topped up with new volunteers if absent."""
    year = current_year()
    counts = {f: volunteers_by_hand(f, year) for f in default_schema().lists["fonctions"]}
    fonction = min(counts, key=counts.get)
    missing = max(0, 2 - counts[fonction])
    app_store().append("Personnels", [
        {"nom": f"Petit-Effectif {i}", "prenom": "Test", "fonction": fonction, "code_postal": "21000",
         "commune_insee": "21231", "commune": "Dijon", "departement": "21", "academie": "Dijon", "canal": "CLEE",
         "statut": "validé"} for i in range(missing)])
    count = volunteers_by_hand(fonction, year)
    assert 1 <= count <= 4, (fonction, count)
    return fonction, count


@pytest.fixture
def asked_free_text(monkeypatch):
    """Every `include_free_text` the page passes to bilan.conclusions."""
    calls = []
    original = bilan.conclusions

    def spy(source, filt, include_free_text):
        calls.append(include_free_text)
        return original(source, filt, include_free_text)

    monkeypatch.setattr(bilan, "conclusions", spy)
    return calls


# ---- rendering by role ---------------------------------------------------------------------------------------


def test_admin_sees_the_year_figures_every_chart_and_the_conclusions(app_workbook, monkeypatch, asked_free_text):
    at = bilan_page(monkeypatch, ADMIN)
    year = current_year()
    assert at.selectbox(key="bilan_year").value == year
    assert tiles(at) == expected_tiles(bilan.BilanFilter(year))
    assert len(at.get("vega_lite_chart")) == 9
    assert "Conclusions des rencontres" in [s.value for s in at.subheader]
    assert asked_free_text and all(asked_free_text)
    sent = everything_sent(at)
    assert any(text in sent for text in CONCLUSIONS)


def test_conclusions_are_searchable(app_workbook, monkeypatch):
    at = bilan_page(monkeypatch, ADMIN)
    every = bilan.conclusions(snapshot(), bilan.BilanFilter(current_year()), include_free_text=True)
    word = next(w for text in every["Conclusions"] for w in text.rstrip(".").split()[-1:]
                if 0 < every["Conclusions"].str.contains(w, case=False, regex=False).sum() < len(every))
    expected = every[every["Conclusions"].str.contains(word, case=False, regex=False)]
    at.text_input(key="bilan_search").set_value(word)
    rerun(at)
    found = table_with(at, "Conclusions")
    assert sorted(found["Rencontre"]) == sorted(expected["Rencontre"])
    at.text_input(key="bilan_search").set_value("introuvable-xyz")
    rerun(at)
    assert not [d for d in at.dataframe if "Conclusions" in d.value.columns]
    assert "Aucune conclusion ne correspond." in [c.value for c in at.caption]


def test_comite_sees_small_counts_masked_and_never_the_conclusions(app_workbook, monkeypatch, asked_free_text):
    fonction, count = small_fonction()
    at = bilan_page(monkeypatch, COMITE)
    table = table_with(at, "Fonction").set_index("Fonction")
    assert table.at[fonction, bilan.VOLONTAIRES] == bilan.SMALL
    drawn = chart_data(at, "Fonction")
    bar = drawn[(drawn["Fonction"] == fonction) & (drawn["Indicateur"] == bilan.VOLONTAIRES)]
    assert bar["Nombre"].isna().all()  # not drawn, rather than drawn at its true height
    assert tiles(at) == expected_tiles(bilan.BilanFilter(current_year()), small_cells=True)
    assert "Conclusions des rencontres" not in [s.value for s in at.subheader]
    assert asked_free_text and not any(asked_free_text)
    sent = everything_sent(at)
    assert not any(text in sent for text in CONCLUSIONS)


def test_admin_sees_the_same_small_count_unmasked(app_workbook, monkeypatch):
    """Positive control for the test above: the hand count is really there, and shown to the admin."""
    fonction, count = small_fonction()
    at = bilan_page(monkeypatch, ADMIN)
    table = table_with(at, "Fonction").set_index("Fonction")
    assert table.at[fonction, bilan.VOLONTAIRES] == str(count)


@pytest.fixture
def arrow_fallbacks():
    """What Streamlit logs when a table or a chart's data does not serialise to Arrow as given (its logger does
    not propagate, so a handler is attached to it)."""
    found: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            found.append(record.getMessage() + (f" {record.exc_info[1]}" if record.exc_info else ""))

    logger = logging.getLogger("streamlit.dataframe_util")
    handler, level = Collect(level=logging.DEBUG), logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield found
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.mark.parametrize("email", [COMITE, ADMIN])
def test_tables_and_charts_serialise_to_arrow_without_fallback(app_workbook, monkeypatch, arrow_fallbacks, email):
    """Columns mixing numbers and « < 5 » made Streamlit log a failed Arrow conversion and retype them."""
    at = bilan_page(monkeypatch, email)
    assert len(at.get("vega_lite_chart")) == 9 and at.dataframe
    assert not [m for m in arrow_fallbacks if "Arrow" in m], arrow_fallbacks


def test_the_comite_sees_masked_values_marked_on_the_charts_and_counted_under_them(app_workbook, monkeypatch):
    """« Efficacité des canaux » was empty for the comité: every masked rate is now a mark in the data the page
    received, and the note under the chart counts them."""
    at = bilan_page(monkeypatch, COMITE)
    drawn = chart_data(at, "Canal de recrutement")
    table = table_with(at, "Canal de recrutement")
    masked = [v for v in table["Taux de conversion"] if v in (bilan.SMALL, bilan.NOT_DISCLOSED)]
    assert masked  # the demo's channels are small: their rates are not disclosed
    assert sorted(drawn[charts.MASK][drawn[charts.MASK] != ""]) == sorted(masked)
    assert drawn.loc[drawn[charts.MASK] != "", "Taux de conversion"].isna().all()
    notes = [c.value for c in at.caption if "masquée" in c.value and "sur ce graphique" in c.value]
    assert f"{len(masked)} valeurs masquées sur ce graphique" in " ".join(notes)
    assert len(notes) == len(at.get("vega_lite_chart"))  # the demo's region has small counts on every chart


# ---- filters -------------------------------------------------------------------------------------------------


def test_changing_the_school_year_changes_the_figures(app_workbook, monkeypatch):
    at = bilan_page(monkeypatch, COMITE)
    year = current_year()
    previous = bilan.previous_school_year(year)
    assert previous in at.selectbox(key="bilan_year").options
    before = tiles(at)
    at.selectbox(key="bilan_year").set_value(previous)
    rerun(at)
    after = tiles(at)
    assert after == expected_tiles(bilan.BilanFilter(previous), small_cells=True)
    assert after != before
    assert any(previous in c.value for c in at.caption)


def test_academie_and_semaine_ecole_entreprise_filter_the_figures(app_workbook, monkeypatch):
    at = bilan_page(monkeypatch, ADMIN)
    year = current_year()
    at.selectbox(key="bilan_academie").set_value("Dijon")
    at.selectbox(key="bilan_period").set_value(bilan.SEMAINE_EE)
    rerun(at)
    filt = bilan.BilanFilter(year, academie="Dijon", periode=bilan.SEMAINE_EE)
    assert tiles(at) == expected_tiles(filt)
    assert tiles(at) != expected_tiles(bilan.BilanFilter(year))
    assert any(bilan.filter_label(filt, snapshot()) in c.value for c in at.caption)


def test_departements_offered_are_those_of_the_chosen_academie(app_workbook, monkeypatch):
    at = bilan_page(monkeypatch, ADMIN)
    at.selectbox(key="bilan_academie").set_value("Besançon")
    rerun(at)
    [chooser] = at.multiselect
    assert sorted(chooser.options) == sorted(["Doubs (25)", "Jura (39)", "Haute-Saône (70)",
                                              "Territoire de Belfort (90)"])
    chooser.select("25")
    rerun(at)
    assert tiles(at) == expected_tiles(bilan.BilanFilter(current_year(), academie="Besançon", departements=("25",)))


def test_the_comite_picks_a_fixed_territory_and_a_whole_school_year(app_workbook, monkeypatch):
    """No list of départements and no dates for the comité: a difference of two selections would isolate a few
    people (tests/test_small_cells.py tries it)."""
    at = bilan_page(monkeypatch, COMITE)
    assert not at.multiselect
    assert at.selectbox(key="bilan_period").options == ["Toute l'année"]
    at.selectbox(key="bilan_academie").set_value("Dijon")
    rerun(at)
    chooser = at.selectbox(key="bilan_dep_Dijon")
    assert chooser.options == ["Tous", "Côte-d'Or (21)", "Nièvre (58)", "Saône-et-Loire (71)", "Yonne (89)"]
    chooser.set_value("21")
    rerun(at)
    assert tiles(at) == expected_tiles(bilan.BilanFilter(current_year(), departements=("21",)), small_cells=True)
    assert any("Côte-d'Or (21)" in c.value for c in at.caption)


def test_chosen_dates_restrict_the_period(app_workbook, monkeypatch):
    at = bilan_page(monkeypatch, ADMIN)
    year = current_year()
    at.selectbox(key="bilan_period").set_value("Dates choisies")
    rerun(at)
    start = date(int(year[:4]), 9, 1)
    end = date(int(year[:4]), 10, 15)
    at.date_input(key=f"bilan_dates_{year}").set_value((start, end))
    rerun(at)
    filt = bilan.BilanFilter(year, periode=(start, end))
    assert tiles(at) == expected_tiles(filt)
    assert tiles(at) != expected_tiles(bilan.BilanFilter(year))


# ---- empty states --------------------------------------------------------------------------------------------


def test_a_year_without_meetings_says_what_to_do(app_workbook, monkeypatch):
    store = app_store()
    [row] = [r for r in store.read(fresh=True).rows("Parametres") if r["cle"] == "annee_scolaire" and r["valeur"]]
    start = int(row["valeur"][:4]) + 1
    later = f"{start}-{start + 1}"  # the year after the demo's: no meeting yet
    store.update("Parametres", row.id, {"valeur": later}, row.fingerprint)
    at = bilan_page(monkeypatch, ADMIN)
    assert at.selectbox(key="bilan_year").value == later
    [info] = [i.value for i in at.info]
    assert "Aucune rencontre" in info and "Appariement" in info


def test_a_missing_semaine_ecole_entreprise_is_explained(app_workbook, monkeypatch):
    store = app_store()
    [row] = [r for r in store.read(fresh=True).rows("Parametres") if r["cle"] == "semaine_ee_debut"]
    store.update("Parametres", row.id, {"valeur": ""}, row.fingerprint)
    at = bilan_page(monkeypatch, ADMIN)
    at.selectbox(key="bilan_period").set_value(bilan.SEMAINE_EE)
    rerun(at)
    [error] = [e.value for e in at.error]
    assert "semaine école-entreprise" in error and "Parametres" in error
    assert not at.get("vega_lite_chart")


def test_an_empty_workbook_explains_where_the_figures_come_from(tmp_path, monkeypatch):
    path = tmp_path / "vide.xlsx"
    store = WorkbookStore(default_schema(), path)
    store.init()
    store.append("Utilisateurs", [{"email": ADMIN, "nom": "Admin", "role": "admin", "actif": "oui"}])
    monkeypatch.setenv("ECOLE_ENTREPRISE_WORKBOOK", str(path))
    at = bilan_page(monkeypatch, ADMIN)
    [info] = [i.value for i in at.info]
    assert "Aucune donnée" in info
    assert not at.get("vega_lite_chart")


# ---- exports -------------------------------------------------------------------------------------------------


def test_preparing_the_pdf_yields_a_download_with_the_comments(app_workbook, monkeypatch):
    at = bilan_page(monkeypatch, COMITE)
    year = current_year()
    assert [b.label for b in at.get("download_button")] == ["Télécharger les tableaux (xlsx)"]
    at.text_area(key="bilan_comments").set_value("Très bonne dynamique en Côte-d'Or.")
    at.button(key="bilan_prepare_pdf").click()
    rerun(at)
    [pdf_button] = [b for b in at.get("download_button") if b.label == "Télécharger le PDF"]
    assert pdf_button.proto.url.endswith(".pdf"), pdf_button.proto.url
    payload = at.session_state["bilan_pdf"][1]
    assert payload.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(payload)).pages)
    assert year in text and "Très bonne dynamique" in text

    at.text_area(key="bilan_comments").set_value("Autre commentaire.")
    rerun(at)
    assert "Télécharger le PDF" not in [b.label for b in at.get("download_button")]
    assert any("préparez à nouveau le PDF" in c.value for c in at.caption)
