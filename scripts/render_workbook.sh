#!/usr/bin/env sh
# Picture of the local workbook as a person sees it: `init`, `demo`, a few mistakes typed by hand, `check --sheet`,
# then LibreOffice (Debian `libreoffice-calc`, and `poppler-utils` for pdftoppm) renders Entreprises, Personnels,
# Rencontres and « À corriger » to PNG: `sh scripts/render_workbook.sh [out-dir]` (default /tmp/classeur-rendu).
# For people only: no test needs it, and the PNGs are not committed.
set -eu
cd "$(dirname "$0")/.."
out=${1:-/tmp/classeur-rendu}
py=${PYTHON:-.venv/bin/python}
mkdir -p "$out"
export ECOLE_ENTREPRISE_WORKBOOK="$out/classeur.xlsx"
rm -f "$ECOLE_ENTREPRISE_WORKBOOK" "$out"/rendu*.png
"$py" -m ecole_entreprise init >/dev/null 2>"$out/log.txt"
"$py" -m ecole_entreprise demo >/dev/null 2>>"$out/log.txt"
"$py" - "$ECOLE_ENTREPRISE_WORKBOOK" <<'EOF'
import sys

import openpyxl

# What a person types into the text-formatted cells (the row number, the header, the text).
TYPED = {
    "Entreprises": [(2, "SIRET", "73282932000075"), (3, "Code postal", "2100"),
                    (4, "Email du contact", "lea.martin.exemple.fr"), (5, "Téléphone du contact", "612345678"),
                    (6, "Nom du contact", ""), (7, "Code NAF", "62-01Z"), (8, "Adhérent CPME", "peut-être"),
                    (9, "Téléphone du contact", "0612345678"), (9, "Code postal", "01000"),
                    (9, "SIRET", "73282932000074")],
    "Personnels": [(2, "UAI établissement", "0210015D"), (3, "Code postal", "01000"),
                   (3, "Téléphone", "+33380448400"), (4, "À informer avant le", "31/02/2026"),
                   (5, "Email professionnel", ""), (6, "À informer avant le", "04/03/2026")],
    "Rencontres": [(2, "ID entreprise", "ENT-INCONNU9"), (3, "Année scolaire", "2025/2026"),
                   (4, "Date", "14/03/2026")],
}
path = sys.argv[1]
book = openpyxl.load_workbook(path)
for tab, typed in TYPED.items():
    ws = book[tab]
    headers = [c.value for c in ws[1]]
    for row, header, text in typed:
        ws.cell(row, headers.index(header) + 1).value = text or None
book.save(path)
EOF
"$py" -m ecole_entreprise check --sheet >/dev/null 2>>"$out/log.txt" || true  # exit code 1: there are anomalies
"$py" - "$ECOLE_ENTREPRISE_WORKBOOK" "$out/rendu.xlsx" <<'EOF'
import sys

import openpyxl

# A copy set up for printing only: the three tabs, gridlines and headings, the first rows, landscape pages.
AREAS = {"Entreprises": "A1:H14,I1:P14,Q1:X14,Y1:AF14", "Personnels": "A1:H8,I1:P8,Q1:X8,Y1:AD8",
         "Rencontres": "A1:J6", "À corriger": "A1:I17"}
book = openpyxl.load_workbook(sys.argv[1])
for ws in book.worksheets:
    if ws.title not in AREAS:
        ws.sheet_state = "hidden"
        continue
    ws.print_area = AREAS[ws.title]
    ws.print_options.gridLines = ws.print_options.headings = True
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
book.active = book.worksheets.index(book["Entreprises"])
book.save(sys.argv[2])
EOF
soffice --headless --convert-to pdf --outdir "$out" "$out/rendu.xlsx" >/dev/null 2>&1
pdftoppm -png -r 220 "$out/rendu.pdf" "$out/rendu"
"$py" - "$out"/rendu*.png <<'EOF'
import sys

from PIL import Image, ImageChops

for name in sys.argv[1:]:  # the page's white margins cut away (Pillow comes with Streamlit)
    page = Image.open(name).convert("RGB")
    box = ImageChops.difference(page, Image.new("RGB", page.size, "white")).getbbox()
    if box:
        page.crop((max(box[0] - 10, 0), max(box[1] - 10, 0), box[2] + 10, box[3] + 10)).save(name)
    print(name)
EOF
