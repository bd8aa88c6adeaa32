"""The steering-committee PDF and xlsx, read back with pypdf and openpyxl (fixture of tests/test_bilan.py)."""

from __future__ import annotations

import io
import re
from datetime import datetime

import altair as alt
import openpyxl
import pytest
from pypdf import PdfReader

from ecole_entreprise.services.bilan import charts, registry, report, view
from ecole_entreprise.services.bilan import compute as bilan
from ecole_entreprise.services.bilan.compute import BilanFilter
from tests.test_bilan import YEAR, fixture_snapshot, tab

COMMENT = "Très bonne dynamique en Côte-d'Or ; l'œuvre continue – à suivre en 2026-2027."
GENERATED = datetime(2026, 3, 14, 9, 5)


def pdf_text(payload: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(payload)).pages)
    return re.sub(r"[ \u202f\u00a0]+", " ", text)


def shown(snapshot, filt: BilanFilter, small_cells: bool = True) -> view.BilanView:
    return view.report_view(bilan.prepare(snapshot), filt, small_cells_rule=small_cells)


def build_pdf(snapshot, filt, comments, small_cells=True, generated=None) -> bytes:
    return report.build_pdf(shown(snapshot, filt, small_cells), comments, generated=generated)


def build_xlsx(snapshot, filt, small_cells=True) -> bytes:
    return report.build_xlsx(shown(snapshot, filt, small_cells))


@pytest.fixture(scope="module")
def protected_pdf() -> bytes:
    return build_pdf(fixture_snapshot(), BilanFilter(YEAR), COMMENT, small_cells=True, generated=GENERATED)


def test_pdf_title_page_kpis_and_comment(protected_pdf):
    assert protected_pdf.startswith(b"%PDF")
    text = pdf_text(protected_pdf)
    assert "Les chefs d'entreprise invitent l'Éducation nationale" in text.replace("\n", " ")
    assert "Bilan de l'année scolaire 2025-2026" in text
    assert "Document généré le 14 mars 2026 à 09:05" in text
    assert "Indicateurs clés" in text
    assert "Rencontres proposées 6" in text and "Rencontres réalisées < 5" in text
    assert "Commentaires" in text and COMMENT in text


def test_pdf_applies_small_cell_rule_and_holds_no_personal_data(protected_pdf):
    text = pdf_text(protected_pdf)
    assert "Entreprises recensées < 5" in text
    assert "Volontaires recensés 5" in text  # 5 is not small
    assert "Satisfaction moyenne (sur 5) n.d." in text
    for personal in ("Société ENT-A", "NomPER-1", "@example.org", "@ac.fr", "orientation", "Pas disponible"):
        assert personal not in text


def test_pdf_has_every_chart_as_an_image_and_the_tables(protected_pdf):
    reader = PdfReader(io.BytesIO(protected_pdf))
    assert sum(len(page.images) for page in reader.pages) == len(registry.charted())
    text = pdf_text(protected_pdf)
    for key in registry.charted():
        assert registry.TABLES[key].chart_title in text
    assert "Côte-d'Or (21) Dijon < 5 < 5 < 5" in text  # the table under the département chart
    assert "salon REE < 5 < 5 n.d. < 5" in text  # the channel table, with its rate not disclosed


def test_pdf_without_small_cell_rule_shows_exact_counts():
    text = pdf_text(build_pdf(fixture_snapshot(), BilanFilter(YEAR), "", small_cells=False))
    assert "Entreprises recensées 3" in text
    assert "Satisfaction moyenne (sur 5) 4,0" in text
    assert "< 5" not in text
    assert "Aucun commentaire." in text


def test_pdf_falls_back_to_a_core_font(monkeypatch):
    monkeypatch.setattr(report, "font_files", lambda: None)
    filt = BilanFilter(YEAR, academie="Dijon")
    text = pdf_text(build_pdf(fixture_snapshot(), filt, "L'œuvre – suite", small_cells=True))
    assert "Académie de Dijon" in text
    assert "L'oeuvre - suite" in text  # reduced to latin-1, accents kept


def test_unicode_font_is_found():
    regular, bold = report.font_files()
    assert regular.name == "DejaVuSans.ttf" and bold.name == "DejaVuSans-Bold.ttf"


def test_chart_png_is_rendered_offline():
    png = report.chart_png(charts.funnel_chart(bilan.funnel(fixture_snapshot(), BilanFilter(YEAR))))
    assert png.startswith(b"\x89PNG")
    remote = alt.Chart(alt.UrlData("http://127.0.0.1:9/donnees.csv")).mark_bar().encode(x="a:Q")
    with pytest.raises(ValueError, match="not allowed"):
        report.chart_png(remote)


def read_xlsx(payload: bytes):
    return openpyxl.load_workbook(io.BytesIO(payload))


def rows(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_xlsx_one_sheet_per_table_with_small_cells_masked():
    book = read_xlsx(build_xlsx(fixture_snapshot(), BilanFilter(YEAR)))
    assert book.sheetnames == ["À propos", "Indicateurs clés", "Entonnoir", "Par département", "Par commune",
                               "Par fonction", "Par canal de recrutement", "Par format", "Satisfaction",
                               "Chronologie", "Comparaison"]
    kpis = rows(book["Indicateurs clés"])
    assert kpis[0] == ["Indicateur", "Valeur"]
    assert kpis[1:] == [[bilan.ENTREPRISES, "< 5"], [bilan.VOLONTAIRES, 5], [bilan.PROPOSEES, 6],
                        [bilan.REALISEES, "< 5"], [bilan.PARTENARIATS, "< 5"], [bilan.SATISFACTION, "n.d."]]
    funnel = rows(book["Entonnoir"])
    assert funnel[0] == ["Étape", "Personnels", "Entreprises"]
    assert funnel[1] == ["Listés", 6, "< 5"]
    canal = book["Par canal de recrutement"]
    assert [c.value for c in canal[1]][:4] == ["Canal de recrutement", bilan.VOLONTAIRES,
                                                "Volontaires ayant réalisé une rencontre", "Taux de conversion"]
    timeline = rows(book["Chronologie"])
    # per month, not cumulative (a difference of two weeks would give a small count back)
    assert timeline[0] == ["Mois", bilan.PROPOSEES, bilan.REALISEES] and len(timeline) == 13
    assert timeline[1][0] == datetime(2025, 9, 1) and timeline[2][1:] == ["< 5", "< 5"]
    assert view.SMALL_CELLS_NOTE in [row[0] for row in rows(book["À propos"])]


def test_xlsx_without_small_cells_keeps_numbers_and_percent_format():
    book = read_xlsx(build_xlsx(fixture_snapshot(), BilanFilter(YEAR), small_cells=False))
    canal = book["Par canal de recrutement"]
    salon = next(row for row in canal.iter_rows(min_row=2) if row[0].value == "salon REE")
    assert salon[1].value == 3 and salon[3].value == pytest.approx(1 / 3)
    assert "%" in salon[3].number_format
    assert rows(book["Indicateurs clés"])[1] == [bilan.ENTREPRISES, 3]


def test_xlsx_neutralises_formula_typed_in_the_sheet():
    snapshot = fixture_snapshot()
    record = {"id": "PER-9", "nom": "X", "departement": "21", "fonction": "=HYPERLINK(\"http://x\")",
              "canal": "autre", "created_at": "2025-10-01 10:00:00", "statut": "validé"}
    snapshot.tabs["Personnels"].rows.append(tab("Personnels", [record]).rows[0])
    book = read_xlsx(build_xlsx(snapshot, BilanFilter(YEAR), small_cells=False))
    labels = [row[0] for row in rows(book["Par fonction"])]
    assert "'=HYPERLINK(\"http://x\")" in labels
    assert book["Par fonction"].cell(row=labels.index("'=HYPERLINK(\"http://x\")") + 1, column=1).data_type == "s"


def test_report_cli_writes_pdf_and_xlsx(tmp_path):
    out, sheet = tmp_path / "bilan.pdf", tmp_path / "bilan.xlsx"
    written = report.report_cli(fixture_snapshot(), YEAR, out, sheet)
    assert written == [out, sheet]
    assert "Bilan de l'année scolaire 2025-2026" in pdf_text(out.read_bytes())
    assert read_xlsx(sheet.read_bytes())["Indicateurs clés"]["B2"].value == "< 5"


def test_font_folder_from_environment(monkeypatch, tmp_path):
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setenv("ECOLE_ENTREPRISE_FONT_DIR", str(tmp_path))
    assert report.font_files() == (tmp_path / "DejaVuSans.ttf", tmp_path / "DejaVuSans-Bold.ttf")
