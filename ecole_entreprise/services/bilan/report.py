"""The steering-committee report: a PDF (fpdf2, charts rendered offline to PNG by vl-convert) and an xlsx of
the aggregate tables, both drawn from a `BilanView` (services/bilan/view.py) that is already masked: aggregates
only, no names, no contact details, no free text; the tables, their order and titles come from the registry.

Font: DejaVu Sans from the folder named by ECOLE_ENTREPRISE_FONT_DIR, else from Debian's fonts-dejavu-core (the
Docker image and CI install it; `apt-get install fonts-dejavu-core` on a Debian/Ubuntu machine); without it, the
PDF falls back to the core Helvetica font with text reduced to latin-1 (French accents are kept).
"""

from __future__ import annotations

import io
import os
from datetime import datetime
from pathlib import Path

import pandas as pd
import vl_convert
from fpdf import FPDF
from fpdf.fonts import FontFace

from ...domain.values import now_paris
from ...store.base import Snapshot
from ...store.cells import column_letter
from ..kernel.exports import neutralise
from ..kernel.formatting import fmt_datetime, format_frame
from . import charts
from . import compute as bilan
from .compute import BilanFilter
from .registry import TABLES, chart_for, charted
from .view import SMALL_CELLS_NOTE, BilanView, report_view

PROGRAMME = "Les chefs d'entreprise invitent l'Éducation nationale"
APP_TITLE = "Rencontres École–Entreprise BFC"
PAGE_WIDTH_MM = 180  # A4 (210 mm) less 15 mm margins
_DEBIAN_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
_LATIN1 = str.maketrans({"\u202f": " ", "\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2019": "'",
                         "\u2026": "...", "\u0153": "oe", "\u0152": "OE", "\u20ac": "EUR"})


# ---- shared ------------------------------------------------------------------------------------------------


def chart_png(chart, scale: float = 2.0) -> bytes:
    """Render an Altair chart to PNG offline (no external data or fonts fetched)."""
    return vl_convert.vegalite_to_png(chart.to_dict(), scale=scale, allowed_base_urls=[],
                                      format_locale=charts.FR_LOCALE["number"],
                                      time_format_locale=charts.FR_LOCALE["time"])


def font_files() -> tuple[Path, Path] | None:
    """(regular, bold) DejaVu Sans TTF files, or None when neither the configured folder nor Debian's has them."""
    folders = [Path(os.environ["ECOLE_ENTREPRISE_FONT_DIR"])] if os.environ.get("ECOLE_ENTREPRISE_FONT_DIR") else []
    folders.append(_DEBIAN_DEJAVU)
    for folder in folders:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            return regular, bold
    return None


# ---- PDF ---------------------------------------------------------------------------------------------------


class _Report(FPDF):
    def __init__(self, fonts: tuple[Path, Path] | None):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.unicode = fonts is not None
        if fonts:
            self.add_font("DejaVu", "", str(fonts[0]))
            self.add_font("DejaVu", "B", str(fonts[1]))
        self.family = "DejaVu" if fonts else "helvetica"
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=15)
        self.alias_nb_pages()

    def clean(self, text: str) -> str:
        """Core fonts only know latin-1: reduce typographic characters, replace the rest."""
        text = str(text)
        if self.unicode:
            return text
        return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")

    def footer(self):
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.set_text_color(110)
        self.cell(0, 6, self.clean(f"{APP_TITLE} — bilan — page {self.page_no()}/{{nb}}"), align="C")
        self.set_text_color(0)

    def write_text(self, text: str, size: float = 10, bold: bool = False, height: float = 5.5):
        self.set_font(self.family, "B" if bold else "", size)
        self.multi_cell(0, height, self.clean(text), align="L", new_x="LMARGIN", new_y="NEXT")

    def heading(self, text: str, keep_with_mm: float = 40):
        """A section title, moved to a new page when what follows it (`keep_with_mm`) would not fit."""
        if self.get_y() + 12 + keep_with_mm > self.h - self.b_margin:
            self.add_page()
        self.ln(3)
        self.write_text(text, size=13, bold=True, height=7)
        self.ln(1)

    def chart_section(self, title: str, payload: bytes):
        width, height = _image_size(payload, self.h - 45)
        self.heading(title, keep_with_mm=height)
        self.image(io.BytesIO(payload), x=self.l_margin, w=width, h=height)
        self.ln(2)

    def frame(self, df: pd.DataFrame):
        if df.empty:
            self.write_text("Aucune donnée.", size=9)
            return
        shown = format_frame(df, bilan.PERCENT_COLUMNS, bilan.SIGNED_COLUMNS)
        self.set_font(self.family, "", 8)
        widths = _column_widths(shown)
        with self.table(col_widths=widths, text_align=["LEFT"] + ["RIGHT"] * (len(widths) - 1),
                        line_height=4.6, first_row_as_headings=True,
                        headings_style=_headings_style()) as table:
            table.row([self.clean(c) for c in shown.columns])
            for record in shown.itertuples(index=False):
                table.row([self.clean(v) for v in record])
        self.ln(2)


def _image_size(payload: bytes, max_height: float) -> tuple[float, float]:
    """Width and height (mm) of a scale-2 PNG at about 85 dpi, within the page width and `max_height`."""
    width_px, height_px = int.from_bytes(payload[16:20], "big"), int.from_bytes(payload[20:24], "big")
    width = min(PAGE_WIDTH_MM, width_px / 2 * 0.3)
    height = width * height_px / width_px
    if height > max_height:
        width, height = max_height * width_px / height_px, max_height
    return width, height


def _headings_style() -> FontFace:
    return FontFace(emphasis="BOLD", fill_color=(232, 236, 241))


def _column_widths(shown: pd.DataFrame) -> tuple[float, ...]:
    """The first (label) column wider; the others share the rest by their longest text."""
    lengths = [max([min(len(str(c)), 14)] + [len(v) for v in shown[c]]) for c in shown.columns]
    lengths[0] = max(lengths[0], 18)
    return tuple(max(10, n) for n in lengths)


def _title_page(pdf: _Report, view: BilanView, generated: datetime):
    pdf.add_page()
    pdf.ln(40)
    pdf.write_text(APP_TITLE, size=12)
    pdf.ln(2)
    pdf.write_text(PROGRAMME, size=20, bold=True, height=10)
    pdf.ln(6)
    pdf.write_text(f"Bilan de l'année scolaire {view.filt.annee_scolaire}", size=16, bold=True, height=8)
    pdf.write_text(view.label, size=11)
    pdf.ln(10)
    pdf.write_text(f"Document généré le {fmt_datetime(generated)} pour le comité de pilotage.", size=10)
    pdf.write_text("Données agrégées uniquement : aucune donnée nominative ni coordonnée.", size=10)
    if view.masked:
        pdf.write_text(SMALL_CELLS_NOTE, size=9)


def build_pdf(view: BilanView, comments: str, generated: datetime | None = None) -> bytes:
    """The bilan PDF: title page, key figures, every chart of the registry with its table, then the comments."""
    pdf = _Report(font_files())
    _title_page(pdf, view, generated or now_paris())
    pdf.add_page()
    pdf.heading(TABLES["kpis"].title)
    pdf.frame(view.kpis)
    for key in charted():
        chart = chart_for(key, view.tables[key])
        pdf.chart_section(TABLES[key].chart_title, chart_png(chart))
        if note := charts.mask_note(chart):
            pdf.write_text(note, size=8)
        if TABLES[key].pdf_table:
            pdf.frame(view.tables[key])
    pdf.heading("Commentaires", keep_with_mm=15)
    pdf.write_text(comments.strip() or "Aucun commentaire.", size=10)
    return bytes(pdf.output())


# ---- xlsx --------------------------------------------------------------------------------------------------


def _sheet_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Numbers stay numbers (people compute with them); text is protected against formula injection."""
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    for column in ("Semaine", "Mois"):
        if column in out:
            out[column] = pd.to_datetime(out[column]).dt.date
    return out


def build_xlsx(view: BilanView, generated: datetime | None = None) -> bytes:
    """One sheet per table of the registry (French headers), after an "À propos" sheet saying what it covers."""
    about = pd.DataFrame({"Bilan": [PROGRAMME, f"Année scolaire {view.filt.annee_scolaire}", view.label,
                                    f"Généré le {fmt_datetime(generated or now_paris())}",
                                    SMALL_CELLS_NOTE if view.masked else "Petits effectifs non masqués."]})
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:  # the engine is pandas' business, not ours
        about.to_excel(writer, sheet_name="À propos", index=False)
        _widen(writer.sheets["À propos"], about)
        for key, spec in TABLES.items():
            frame = _sheet_frame(view.kpis if key == "kpis" else view.tables[key])
            frame.to_excel(writer, sheet_name=spec.title, index=False)
            _style(writer.sheets[spec.title], frame)
    return buffer.getvalue()


def _widen(sheet, frame: pd.DataFrame) -> None:
    for index, column in enumerate(frame.columns):
        longest = max([len(str(column))] + [len(str(v)) for v in frame[column]])
        sheet.column_dimensions[column_letter(index)].width = min(80, longest + 2)


def _style(sheet, frame: pd.DataFrame) -> None:
    _widen(sheet, frame)
    sheet.freeze_panes = "A2"
    for index, column in enumerate(frame.columns):
        number_format = ("0.0 %" if column in bilan.PERCENT_COLUMNS + bilan.SIGNED_COLUMNS
                         else "dd/mm/yyyy" if column in ("Semaine", "Mois", "Date") else None)
        if number_format:
            for row in range(2, len(frame) + 2):
                sheet[f"{column_letter(index)}{row}"].number_format = number_format


# ---- command line ------------------------------------------------------------------------------------------


def report_cli(store_snapshot: Snapshot, annee: str, out_path: Path, xlsx_path: Path | None = None,
               comments: str = "") -> list[Path]:
    """`python -m ecole_entreprise report --year … --out … [--xlsx …]`: the whole region, small cells masked."""
    view = report_view(bilan.prepare(store_snapshot), BilanFilter(annee))
    written = [Path(out_path)]
    Path(out_path).write_bytes(build_pdf(view, comments))
    if xlsx_path is not None:
        Path(xlsx_path).write_bytes(build_xlsx(view))
        written.append(Path(xlsx_path))
    return written
